// Issue 11 item 3 (root only): one agent per network namespace. A second one, even with its own
// control socket and state file, stops before touching any NIC, names the first one's PID and
// exits 75; the lock dies with its holder, also after SIGKILL.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class SingleInstanceTests: IntegrationTestCase {
    func testASecondAgentInTheSameNamespaceExits75NamingTheFirstAndChangesNothing() throws {
        let dir = try scratchDirectory("hnagent-instance")
        let (tb, first) = try startSteered()
        let egress = try XCTUnwrap(try tb.agentActionIdentity(tb.guest, Testbed.hn, .egress))
        let ingress = try XCTUnwrap(try tb.agentActionIdentity(tb.guest, Testbed.vf, .ingress))

        let otherState = dir.appendingPathComponent("second.state").path
        let otherSocket = dir.appendingPathComponent("second.sock").path
        let second = Shell.execute(["ip", "netns", "exec", tb.guest, try AgentProcess.binaryURL().path, "run",
                                    "--synthetic", Testbed.hn, "--vf", Testbed.vf, "--settle", "0", "--log-level", "debug",
                                    "--control-socket", otherSocket, "--state-file", otherState], timeout: 20)
        XCTAssertFalse(second.timedOut, "the second agent ran beside the first")
        XCTAssertEqual(second.status, 75, second.stderr)
        XCTAssertTrue(second.stderr.contains("critical"), second.stderr)
        XCTAssertTrue(second.stderr.contains("already runs in this network namespace (pid \(first.pid))"), second.stderr)
        XCTAssertFalse(second.stderr.contains("discovered"), "it stopped before looking at the NICs")
        XCTAssertFalse(FileManager.default.fileExists(atPath: otherState), "no state written")
        XCTAssertFalse(FileManager.default.fileExists(atPath: otherSocket), "no control socket")
        XCTAssertEqual(try tb.agentActionIdentity(tb.guest, Testbed.hn, .egress)?.index, egress.index, "hn0 egress filter untouched")
        XCTAssertEqual(try tb.agentActionIdentity(tb.guest, Testbed.vf, .ingress)?.index, ingress.index, "vf0 ingress filter untouched")
        XCTAssertTrue(first.isRunning)

        // SIGKILL: the kernel frees the name with the process; a new agent starts and steers.
        first.crash()
        let third = try AgentProcess(testbed: tb, settle: 0.2)
        agent = third
        try third.waitForLog("ready: mode=", timeout: startTimeout)
        try tb.waitUntil(timeout: steerTimeout, "the new agent steers") { try tb.steeringInstalled() }
        XCTAssertEqual(third.stop(), 0)
    }
}
