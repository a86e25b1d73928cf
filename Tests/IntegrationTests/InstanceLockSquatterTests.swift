// Issue 11 item 3, hardened (root only): the single-instance lock is an abstract Unix socket
// name, which any local user can bind. A holder that could not be an agent (no CAP_NET_ADMIN,
// or another user namespace) is a squatter: the agent names it, starts anyway and steers.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class InstanceLockSquatterTests: IntegrationTestCase {
    private var squatter: BackgroundProcess?

    override func tearDown() {
        // By its PID, before the testbed goes (which would kill it too).
        if let squatter, squatter.isRunning { kill(squatter.pid, SIGKILL) }
        squatter = nil
        super.tearDown()
    }

    func testAnUnprivilegedSquatterOnTheLockNameDoesNotStopTheAgent() throws {
        let tb = try makeTestbed(withVF: true)
        let holder = try squat(tb, ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"])

        let a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "steering filters on vf0 ingress and hn0 egress") { try tb.steeringInstalled() }
        let line = try a.waitForLog("squatted", timeout: 1)
        XCTAssertTrue(line.contains("error"), line)
        XCTAssertTrue(line.contains("pid \(holder.pid) uid 65534"), line)
        XCTAssertTrue(line.contains("CAP_NET_ADMIN"), "says why it is not an agent: \(line)")
        XCTAssertTrue(line.contains("would not be detected"), line)
        XCTAssertTrue(line.contains("kill \(holder.pid)"), "says what to do: \(line)")
        XCTAssertTrue(holder.isRunning)

        let status = try a.statusJSON()
        let agentStatus = try XCTUnwrap(status["agent"] as? [String: Any])
        XCTAssertEqual(agentStatus["instance_lock"] as? String, "squatted by pid \(holder.pid) uid 65534")
        let text = try a.control(["status"])
        XCTAssertTrue(text.stdout.contains("INSTANCE LOCK: squatted by pid \(holder.pid) uid 65534"), text.stdout)
        XCTAssertEqual(a.stop(), 0)
    }

    /// `unshare -r` gives an unprivileged user every capability, but only in a user namespace of
    /// its own, where CAP_NET_ADMIN does not reach this network namespace.
    func testASquatterWithCapabilitiesInItsOwnUserNamespaceDoesNotStopTheAgent() throws {
        let tb = try makeTestbed(withVF: true)
        let holder = try squat(tb, ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "unshare", "--user", "--map-root-user"])

        let a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "steering filters on vf0 ingress and hn0 egress") { try tb.steeringInstalled() }
        let line = try a.waitForLog("squatted", timeout: 1)
        XCTAssertTrue(line.contains("pid \(holder.pid) uid 65534"), line)
        XCTAssertTrue(line.contains("another user namespace"), line)
        XCTAssertEqual(a.stop(), 0)
    }

    /// A process in the guest namespace that listens on "\0hnagent" (started through `prefix`,
    /// which execs, so its PID is the one SO_PEERCRED reports); returns once it listens.
    private func squat(_ tb: Testbed, _ prefix: [String]) throws -> BackgroundProcess {
        let script = "import socket,time; s=socket.socket(socket.AF_UNIX); s.bind('\\0hnagent'); s.listen(); "
            + "print('listening', flush=True); time.sleep(1e9)"
        let holder = try tb.spawn(tb.guest, prefix + ["/usr/bin/python3", "-c", script])
        squatter = holder
        try tb.waitUntil(timeout: 10, "the squatter listens on @hnagent") {
            if !holder.isRunning { throw TestbedError("the squatter exited: \(holder.stderr.text)") }
            return holder.stdout.text.contains("listening")
        }
        return holder
    }
}
