// Issue 4's policy against the real kernel (root only): offloads through ethtool netlink, GSO
// limits, an MTU the VF refuses, multicast memberships, operational state, a synthetic NIC that
// is reset, and non-transparent mode. Every result is read back with ethtool, ip and tc.

import Foundation
import XCTest

final class PolicyIntegrationTests: IntegrationTestCase {
    private func hnFeatures(_ tb: Testbed) throws -> [String: Bool] { try tb.features(tb.guest, Testbed.hn) }

    func testSyntheticNICLosesTheVFsMissingOffloadsAndRegainsThem() throws {
        let tb = try makeTestbed()
        try tb.exec(tb.guest, ["ethtool", "-K", Testbed.vf, "tso", "off", "tx-checksum-sctp", "off"])
        XCTAssertEqual(try hnFeatures(tb)["tx-tcp-segmentation"], true, "precondition: hn0 has TSO")
        let a = try startAgent(tb, settle: 0.2)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        let paired = try hnFeatures(tb)
        XCTAssertEqual(paired["tx-tcp-segmentation"], false, "hn0 lost TSO with vf0")
        XCTAssertEqual(paired["tx-tcp6-segmentation"], false)
        XCTAssertEqual(paired["tx-checksum-sctp"], false)
        XCTAssertEqual(paired["tx-checksum-ip-generic"], true, "what both have stays")
        try a.waitForLog("offloads synthetic=hn0", timeout: 2)

        // Someone turns TSO on again: re-intersected, and said so.
        let mark = a.logMark()
        try tb.exec(tb.guest, ["ethtool", "-K", Testbed.hn, "tso", "on"])
        try a.waitForLog("re-intersected", timeout: 5, since: mark)
        try tb.waitUntil(timeout: 5, "TSO off again on hn0") { try self.hnFeatures(tb)["tx-tcp-segmentation"] == false }

        // VF removed: hn0 regains them at once.
        try tb.deleteVF()
        try tb.waitUntil(timeout: 5, "hn0 regains TSO after vf0 is gone") {
            let f = try self.hnFeatures(tb)
            return f["tx-tcp-segmentation"] == true && f["tx-checksum-sctp"] == true
        }
        // VF back, still without TSO: lost again; then the agent exits: regained.
        try tb.addVF()
        try tb.exec(tb.guest, ["ethtool", "-K", Testbed.vf, "tso", "off"])
        try tb.waitUntil(timeout: steerTimeout, "steering with the new vf0") { try tb.steeringInstalled() }
        try tb.waitUntil(timeout: 5, "hn0 loses TSO again") { try self.hnFeatures(tb)["tx-tcp-segmentation"] == false }
        XCTAssertEqual(a.stop(), 0)
        let after = try hnFeatures(tb)
        XCTAssertEqual(after["tx-tcp-segmentation"], true, "restored on exit")
        XCTAssertEqual(after["tx-checksum-sctp"], true, "exactly what was saved: sctp was only lost with the first vf0")
    }

    /// (iproute2 6.1 does not print gso_ipv4_max_size; the agent's log shows it.)
    func testSmallerVFGSOLimitLowersTheSyntheticNICsAndIsRestored() throws {
        let tb = try makeTestbed()
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.vf, "gso_max_size", "32768", "gso_max_segs", "100"])
        let before = try tb.linkNumber(tb.guest, Testbed.hn, "gso_max_size")
        XCTAssertEqual(before, 65536)
        let a = try startAgent(tb, settle: 0.2)
        try tb.waitUntil(timeout: steerTimeout, "hn0 gso limits lowered") {
            try tb.linkNumber(tb.guest, Testbed.hn, "gso_max_size") == 32768
                && tb.linkNumber(tb.guest, Testbed.hn, "gso_max_segs") == 100
        }
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(try tb.linkNumber(tb.guest, Testbed.hn, "gso_max_size"), 65536, "restored on exit")
        XCTAssertEqual(try tb.linkNumber(tb.guest, Testbed.hn, "gso_max_segs"), 65535)
    }

    /// veth takes any MTU, so this VF is a macvlan: its MTU cannot exceed its lower device's.
    func testAnMTUTheVFRefusesKeepsTrafficOnTheSyntheticPathWithAnError() throws {
        let tb = try makeTestbed(withVF: false)
        try tb.run(["ip", "-n", tb.guest, "link", "add", "lw0", "type", "veth", "peer", "name", "p-lw0", "netns", tb.host])
        try tb.run(["ip", "-n", tb.host, "link", "set", "p-lw0", "master", Testbed.bridge, "up"])
        try tb.run(["ip", "-n", tb.guest, "link", "set", "lw0", "up"])
        try tb.run(["ip", "-n", tb.guest, "link", "add", "vfm0", "link", "lw0", "address", Testbed.hnMAC,
                    "type", "macvlan", "mode", "private"])
        try tb.run(["ip", "-n", tb.guest, "link", "set", "vfm0", "up"])
        let a = try startAgent(tb, settle: 0.2, extraArguments: ["--vf", "vfm0", "--allow-vf-kind", "macvlan"])
        try tb.waitUntil(timeout: steerTimeout, "steering through the macvlan VF") {
            try tb.agentRedirect(tb.guest, Testbed.hn, .egress)?.target == "vfm0"
        }

        let mark = a.logMark()
        try tb.exec(tb.host, ["ip", "link", "set", Testbed.hnPort, "mtu", "9000"])
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "mtu", "9000"])
        try tb.waitUntil(timeout: 5, "hn0 egress redirect removed") { try tb.hnEgressRedirectGone() }
        let error = try a.waitForLog("refused MTU 9000", timeout: 5, since: mark)
        XCTAssertTrue(error.contains("error"), "logged as an error: \(error)")
        XCTAssertTrue(error.contains("vfm0"), "names the VF: \(error)")
        XCTAssertTrue(error.contains("Invalid argument") || error.contains("EINVAL"), "says why: \(error)")
        XCTAssertTrue(try tb.linkDetails(tb.guest, "vfm0").contains("mtu 1500"), "the VF kept its MTU")
        let ping = try tb.ping(count: 20, interval: 0.01)
        XCTAssertEqual(ping.received, 20, "the synthetic path carries traffic: \(ping)")

        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "mtu", "1500"])
        try tb.waitUntil(timeout: 35, "steering again once the MTUs agree (after the retry back-off)") {
            try tb.agentRedirect(tb.guest, Testbed.hn, .egress)?.target == "vfm0"
        }
    }

    func testMulticastMembershipsTurnVFAllmultiOnAndOff() throws {
        let (tb, a) = try startSteered(settle: 0.2)
        func vfAllmulti() throws -> Bool { try tb.linkDetails(tb.guest, Testbed.vf).contains("ALLMULTI") }
        XCTAssertFalse(try vfAllmulti(), "the default groups are no membership")

        try tb.exec(tb.guest, ["ip", "addr", "add", "239.1.2.3/32", "dev", Testbed.hn, "autojoin"])
        try tb.waitUntil(timeout: 5, "vf0 allmulti after an IP multicast join") { try vfAllmulti() }
        try a.waitForLog("has memberships 01:00:5e:01:02:03", timeout: 2)
        try tb.exec(tb.guest, ["ip", "addr", "del", "239.1.2.3/32", "dev", Testbed.hn])
        try tb.waitUntil(timeout: 5, "vf0 allmulti off after the last membership left") { try !vfAllmulti() }

        // A link-layer group sends no netlink event: the periodic check (5 s) finds it.
        try tb.exec(tb.guest, ["ip", "maddr", "add", "01:00:5e:05:06:07", "dev", Testbed.hn])
        try tb.waitUntil(timeout: 12, "vf0 allmulti after `ip maddr add`") { try vfAllmulti() }
        try tb.exec(tb.guest, ["ip", "maddr", "del", "01:00:5e:05:06:07", "dev", Testbed.hn])
        try tb.waitUntil(timeout: 12, "vf0 allmulti off after `ip maddr del`") { try !vfAllmulti() }
    }

    func testVFCarrierLossMakesTheSyntheticNICDormantUntilFallbackThenUp() throws {
        let (tb, a) = try startSteered(settle: 0.2)
        try tb.waitUntil(timeout: 5, "hn0 in dormant link mode while paired") {
            try tb.linkDetails(tb.guest, Testbed.hn).contains("mode DORMANT")
        }
        let monitor = try tb.spawn(tb.guest, ["ip", "-o", "monitor", "link", "dev", Testbed.hn])
        defer { _ = monitor.terminate() }
        // `ip monitor` prints nothing until it has subscribed: a harmless change it must report first.
        try tb.waitUntil(timeout: 5, "ip monitor running") {
            try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "alias", "hn0-\(UInt32.random(in: 0...UInt32.max))"])
            return monitor.stdout.text.contains(Testbed.hn)
        }
        let mark = a.logMark()
        try tb.setVFCarrier(false)
        try tb.waitUntil(timeout: 5, "fallback") { try tb.hnEgressRedirectGone() }
        try a.waitForLog("fallback", timeout: 2, since: mark)
        try tb.waitUntil(timeout: 5, "hn0 DORMANT, then UP, seen by ip monitor") {
            let text = monitor.stdout.text
            guard let dormant = text.range(of: "state DORMANT") else { return false }
            return text[dormant.upperBound...].contains("state UP")
        }
        XCTAssertEqual(try tb.operState(tb.guest, Testbed.hn), "up", "fallback complete: up on the synthetic path")

        try tb.setVFCarrier(true)
        try tb.waitUntil(timeout: steerTimeout, "steering again with carrier") { try tb.steeringInstalled() }
        XCTAssertEqual(try tb.operState(tb.guest, Testbed.hn), "up")
        XCTAssertEqual(a.stop(), 0)
        XCTAssertTrue(try tb.linkDetails(tb.guest, Testbed.hn).contains("mode DEFAULT"), "link mode restored on exit")
    }

    func testSyntheticNICResetOrRecreatedGetsTheWholeStateAgain() throws {
        let tb = try makeTestbed()
        try tb.exec(tb.guest, ["ethtool", "-K", Testbed.vf, "tso", "off"])
        let a = try startAgent(tb, settle: 0.2)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }

        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "down"])
        try tb.waitUntil(timeout: 5, "fallback while hn0 is down") { try tb.hnEgressRedirectGone() }
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "up"])
        try tb.waitUntil(timeout: steerTimeout, "steering after hn0 down/up") { try tb.steeringInstalled() }
        XCTAssertEqual(try tb.operState(tb.guest, Testbed.hn), "up", "not left dormant after its carrier returned")

        let mark = a.logMark()
        try tb.recreateSynthetic()
        try a.waitForLog("discovered synthetic NIC hn0", timeout: 5, since: mark)
        try tb.waitUntil(timeout: steerTimeout, "steering with the new hn0") { try tb.steeringInstalled() }
        XCTAssertEqual(try hnFeatures(tb)["tx-tcp-segmentation"], false, "offloads intersected on the new hn0")
        XCTAssertTrue(try tb.linkDetails(tb.guest, Testbed.hn).contains("mode DORMANT"))
        let ping = try tb.ping(count: 20, interval: 0.01)
        XCTAssertEqual(ping.received, 20, "\(ping)")
    }

    func testNonTransparentModeNeverInstallsFiltersButKeepsTheNICsConsistent() throws {
        let tb = try makeTestbed()
        try tb.exec(tb.guest, ["ethtool", "-K", Testbed.vf, "tso", "off"])
        let a = try startAgent(tb, settle: 0.2, extraArguments: ["--mode", "non-transparent"])
        try tb.waitUntil(timeout: steerTimeout, "hn0 loses what vf0 lacks") { try self.hnFeatures(tb)["tx-tcp-segmentation"] == false }
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "promisc", "on"])
        try tb.waitUntil(timeout: 5, "vf0 promiscuous") { try tb.linkDetails(tb.guest, Testbed.vf).contains("PROMISC") }
        for dev in [Testbed.hn, Testbed.vf] {
            XCTAssertFalse(try tb.hasClsact(tb.guest, dev), "no clsact on \(dev)")
        }
        XCTAssertFalse(try tb.linkDetails(tb.guest, Testbed.hn).contains("mode DORMANT"), "hn0's link state stays its own")
        XCTAssertTrue(a.logLines(containing: "apply: add").isEmpty, "no tc change was ever made: \(a.logLines(containing: "apply: add"))")
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(try hnFeatures(tb)["tx-tcp-segmentation"], true, "restored on exit")
        XCTAssertFalse(try tb.linkDetails(tb.guest, Testbed.vf).contains("PROMISC"))
    }
}
