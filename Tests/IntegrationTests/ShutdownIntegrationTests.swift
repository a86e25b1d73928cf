// Shutdown restores everything it can (issue 11 item 9), against the real kernel (root only).

import Foundation
import XCTest

final class ShutdownIntegrationTests: IntegrationTestCase {
    /// A real restore the kernel refuses: the VF is a macvlan (allowed as a VF kind for test
    /// beds) whose MTU the agent lowered to hn0's 1200; its lower device then goes to MTU 1300,
    /// so the original 1500 cannot come back (a macvlan's MTU cannot exceed its lower device's),
    /// and below 1280 the VF has no IPv6 device, so its address generation mode cannot come
    /// back either. Everything else is still restored, each failure is logged, exit 71.
    func testAFailedRestoreIsLoggedTheRestIsRestoredAndTheExitCodeIs71() throws {
        let tb = try makeTestbed(withVF: false)
        let g = tb.guest
        try tb.exec(g, ["ip", "link", "add", "low0", "type", "veth", "peer", "name", "low0p"])
        try tb.exec(g, ["ip", "link", "set", "low0p", "up"])
        try tb.exec(g, ["ip", "link", "set", "low0", "up"])
        try tb.exec(g, ["ip", "link", "add", "link", "low0", "name", "vfm", "address", Testbed.hnMAC,
                        "type", "macvlan", "mode", "bridge"])
        try tb.exec(g, ["ip", "link", "set", "vfm", "up"])
        try tb.exec(g, ["ip", "link", "set", Testbed.hn, "mtu", "1200"])
        let a = try startAgent(tb, settle: 0.2, pairing: ["--synthetic", Testbed.hn, "--vf", "vfm", "--allow-vf-kind", "macvlan"])
        try tb.waitUntil(timeout: steerTimeout, "steering through vfm at hn0's MTU") {
            try !tb.agentFilters(g, Testbed.hn, .egress).isEmpty && !tb.agentFilters(g, "vfm", .ingress).isEmpty
                && tb.linkDetails(g, "vfm").contains("mtu 1200")
        }
        try tb.exec(g, ["ip", "link", "set", "low0", "mtu", "1300"])

        XCTAssertEqual(a.stop(), 71, "stopped, but a restore failed")
        XCTAssertEqual(a.logLines(containing: "restore failed: set mtu 1500 on vfm").count, 1, a.log)
        XCTAssertEqual(a.logLines(containing: "restore failed: set addrgenmode eui64 on vfm").count, 1, a.log)
        XCTAssertTrue(a.log.contains("stopped, but 2 restore(s) failed"), a.log)
        // Everything else given back, including what comes after the failures.
        XCTAssertTrue(try tb.agentFilters(g, Testbed.hn, .egress).isEmpty, "TX on the synthetic path")
        XCTAssertFalse(try tb.hasClsact(g, "vfm"), "vfm's clsact removed after its failed restores")
        XCTAssertFalse(try tb.hasClsact(g, Testbed.hn))
        XCTAssertTrue(try String(contentsOfFile: tb.stateFile, encoding: .utf8).contains("mtu 1500"),
                      "what was not given back stays in the state file for the next start")
    }
}
