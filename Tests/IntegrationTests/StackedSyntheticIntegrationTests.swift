// Issue 11 item 6: a stacked device (macvlan on the synthetic NIC, same MAC) whose name
// matches --synthetic is not taken as a synthetic NIC.

import Foundation
import XCTest

final class StackedSyntheticIntegrationTests: IntegrationTestCase {
    /// A macvlan on hn0 with hn0's MAC, named to match --synthetic: not a synthetic NIC, said
    /// once; hn0 and vf0 still steer.
    func testMacvlanMatchingTheSyntheticPatternIsIgnored() throws {
        let tb = try makeTestbed()
        try tb.exec(tb.guest, ["ip", "link", "add", "hnmv", "link", Testbed.hn, "address", Testbed.hnMAC,
                               "type", "macvlan", "mode", "bridge"])
        let index = try tb.ifindex(tb.guest, "hnmv")
        let a = try startAgent(tb, pairing: ["--synthetic", "hn*", "--vf", Testbed.vf])
        try tb.waitUntil(timeout: steerTimeout, "hn0/vf0 steering") { try tb.steeringInstalled() }
        // More reconciles (VF down and up) must not repeat the line.
        let mark = a.logMark()
        try tb.vfDown()
        try a.waitForLog("fallback synthetic=hn0", timeout: steerTimeout, since: mark)
        try tb.vfUp()
        try tb.waitUntil(timeout: steerTimeout, "steering again") { try tb.steeringInstalled() }
        let expected = "ignored hnmv(\(index)) as synthetic NIC: stacked or virtual device (kind macvlan)"
        XCTAssertEqual(a.logLines(containing: expected).count, 1, a.log)
        XCTAssertEqual(a.logLines(containing: "discovered synthetic NIC hnmv").count, 0)
        XCTAssertEqual(a.logLines(containing: "discovered synthetic NIC").count, 1, "hn0 only")
        XCTAssertEqual(try tb.agentFilters(tb.guest, "hnmv", .egress).count, 0)
        XCTAssertEqual(a.stop(), 0)
    }
}

final class EnslavedSyntheticIntegrationTests: IntegrationTestCase {
    /// A NIC that matches --synthetic but is enslaved (as virtio-net STANDBY's net_failover
    /// enslaves the virtio NIC; a bridge port here) is no synthetic NIC: its same-MAC partner is
    /// never steered, nothing is added to either, the log says why once; hn0 and vf0 still steer.
    func testEnslavedNICMatchingTheSyntheticPatternIsLeftToItsMaster() throws {
        let tb = try makeTestbed()
        let mac = "02:00:5e:10:00:77"
        try tb.exec(tb.guest, ["ip", "link", "add", "hnb0", "address", mac, "type", "veth",
                               "peer", "name", "vfb0", "address", mac])
        try tb.exec(tb.guest, ["ip", "link", "add", "brs0", "type", "bridge"])
        try tb.exec(tb.guest, ["ip", "link", "set", "hnb0", "master", "brs0"])
        for name in ["brs0", "hnb0", "vfb0"] { try tb.exec(tb.guest, ["ip", "link", "set", name, "up"]) }
        let (hnb, bridge) = (try tb.ifindex(tb.guest, "hnb0"), try tb.ifindex(tb.guest, "brs0"))
        let a = try startAgent(tb, pairing: ["--synthetic", "hn*", "--vf", "vf*"])
        try tb.waitUntil(timeout: steerTimeout, "hn0/vf0 steering") { try tb.steeringInstalled() }
        let expected = "ignored hnb0(\(hnb)) as synthetic NIC: already enslaved to ifindex \(bridge) (left to its master)"
        try a.waitForLog(expected, timeout: steerTimeout)
        XCTAssertEqual(a.logLines(containing: "discovered synthetic NIC hnb0").count, 0, a.log)
        XCTAssertEqual(try tb.agentFilters(tb.guest, "hnb0", .egress).count, 0)
        XCTAssertEqual(try tb.agentFilters(tb.guest, "vfb0", .ingress).count, 0)
        XCTAssertEqual(a.stop(), 0)
    }

    /// Enslaving a steered synthetic NIC (a bridge here; net_failover or a bond alike) hands it
    /// to its master: the pair is dissolved and the relay removed from both NICs.
    func testEnslavingASteeredSyntheticNICDissolvesThePair() throws {
        let tb = try makeTestbed()
        let a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "hn0/vf0 steering") { try tb.steeringInstalled() }
        try tb.exec(tb.guest, ["ip", "link", "add", "brs0", "type", "bridge"])
        defer { _ = try? tb.exec(tb.guest, ["ip", "link", "del", "brs0"]) }
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "master", "brs0"])
        try a.waitForLog("no longer synthetic; pair dissolved", timeout: steerTimeout)
        try tb.waitUntil(timeout: steerTimeout, "relay removed from hn0 and vf0") {
            try tb.agentFilters(tb.guest, Testbed.hn, .egress).isEmpty && tb.agentFilters(tb.guest, Testbed.vf, .ingress).isEmpty
        }
        XCTAssertEqual(a.stop(), 0)
    }
}
