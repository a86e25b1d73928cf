// MTU and promiscuous-mode pass-through from hn0 to vf0, read back from the kernel (root only).

import Foundation
import XCTest

final class PassThroughIntegrationTests: IntegrationTestCase {
    private func linkLine(_ tb: Testbed, _ dev: String) throws -> String {
        try tb.exec(tb.guest, ["ip", "-d", "link", "show", dev])
    }

    func testVFFollowsMTUAndPromiscuousModeAndIsRestoredOnExit() throws {
        let tb = try Testbed(withVF: true)
        testbed = tb
        let a = try AgentProcess(testbed: tb, settle: 0.2)
        agent = a
        try tb.waitUntil(timeout: 10, "steering installed") { try tb.steeringInstalled() }

        try tb.exec(tb.host, ["ip", "link", "set", Testbed.vfPort, "mtu", "9000"])
        try tb.exec(tb.host, ["ip", "link", "set", Testbed.hnPort, "mtu", "9000"])
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "mtu", "9000"])
        try tb.waitUntil(timeout: 5, "vf0 follows hn0's MTU 9000") { try self.linkLine(tb, Testbed.vf).contains("mtu 9000") }
        try tb.waitUntil(timeout: 5, "steering with the new MTU") { try tb.steeringInstalled() }

        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "promisc", "on"])
        try tb.waitUntil(timeout: 5, "vf0 promiscuous") { try self.linkLine(tb, Testbed.vf).contains("PROMISC") }
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "promisc", "off"])
        try tb.waitUntil(timeout: 5, "vf0 not promiscuous") { try !self.linkLine(tb, Testbed.vf).contains("PROMISC") }
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "promisc", "on"])
        try tb.waitUntil(timeout: 5, "vf0 promiscuous again") { try self.linkLine(tb, Testbed.vf).contains("PROMISC") }

        XCTAssertEqual(a.stop(), 0)
        let after = try linkLine(tb, Testbed.vf)
        XCTAssertTrue(after.contains("mtu 1500"), "original MTU restored on exit: \(after)")
        XCTAssertFalse(after.contains("PROMISC"), "original promiscuous state restored on exit: \(after)")
    }
}
