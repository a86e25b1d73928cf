// Restart, crash and shutdown guarantees (issue 5), against the real kernel (root only).

import Foundation
import XCTest

final class RestartIntegrationTests: IntegrationTestCase {
    func testRestartAdoptsTheRelayWithoutRemovingItAndLosesNothing() throws {
        let (tb, first) = try startSteered(settle: 0.2, extraArguments: ["--keep-steering-on-exit"])
        let egressBefore = try XCTUnwrap(try tb.agentActionIdentity(tb.guest, Testbed.hn, .egress))
        let ingressBefore = try XCTUnwrap(try tb.agentActionIdentity(tb.guest, Testbed.vf, .ingress))
        // A ping flood from the peer across the whole restart.
        let flood = try tb.spawn(tb.peer, ["ping", "-n", "-q", "-i", "0.005", "-c", "600", Testbed.guestIP])

        XCTAssertEqual(first.stop(), 0)
        XCTAssertTrue(try tb.steeringInstalled(), "--keep-steering-on-exit leaves the relay")
        let second = try AgentProcess(testbed: tb, settle: 2) // the default settle: no adoption would mean a gap
        agent = second
        try second.waitForLog("adopted relay synthetic=hn0", timeout: startTimeout)
        try second.waitForLog("ready: mode=", timeout: startTimeout)
        XCTAssertTrue(second.logLines(containing: "apply: delete").isEmpty, "nothing removed: \(second.logLines(containing: "apply:"))")
        XCTAssertTrue(second.logLines(containing: "apply: add").isEmpty, "nothing re-added")

        XCTAssertEqual(flood.wait(timeout: 30), 0, "ping flood exit status")
        let summary = Testbed.parsePingSummary(flood.stdout.text)
        XCTAssertEqual(summary?.0, 600, flood.stdout.text)
        XCTAssertEqual(summary?.1, 600, "no packet lost across the restart: \(flood.stdout.text)")
        let egressAfter = try XCTUnwrap(try tb.agentActionIdentity(tb.guest, Testbed.hn, .egress))
        let ingressAfter = try XCTUnwrap(try tb.agentActionIdentity(tb.guest, Testbed.vf, .ingress))
        XCTAssertEqual(egressAfter.index, egressBefore.index, "the same filter, never replaced")
        XCTAssertEqual(ingressAfter.index, ingressBefore.index)
        XCTAssertGreaterThan(egressAfter.packets, egressBefore.packets, "its counters went on")
    }

    func testKillNineThenRestartStillRestoresTheOriginals() throws {
        let (tb, first) = try startSteered(settle: 0.2)
        try tb.exec(tb.host, ["ip", "link", "set", Testbed.hnPort, "mtu", "9000"])
        try tb.exec(tb.host, ["ip", "link", "set", Testbed.vfPort, "mtu", "9000"])
        try tb.exec(tb.guest, ["ip", "link", "set", Testbed.hn, "mtu", "9000"])
        try tb.waitUntil(timeout: 5, "vf0 follows MTU 9000") { try tb.linkDetails(tb.guest, Testbed.vf).contains("mtu 9000") }
        XCTAssertTrue(try String(contentsOfFile: tb.stateFile, encoding: .utf8).contains("mtu 1500"),
                      "the original is on disk before the change")

        XCTAssertEqual(first.crash(), 128 + SIGKILL)
        XCTAssertTrue(try tb.linkDetails(tb.guest, Testbed.vf).contains("mtu 9000"), "nothing restored by a dead agent")
        let second = try startAgent(tb, settle: 0.2)
        try second.waitForLog("originals of 2 device(s) taken over", timeout: 5)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        XCTAssertEqual(second.stop(), 0)
        let vf = try tb.linkDetails(tb.guest, Testbed.vf)
        XCTAssertTrue(vf.contains("mtu 1500"), "the original MTU from before the crash: \(vf)")
        XCTAssertTrue(vf.contains("addrgenmode eui64"), "and the original address generation mode: \(vf)")
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.vf))
        XCTAssertFalse(try String(contentsOfFile: tb.stateFile, encoding: .utf8).contains("device"), "nothing left to restore")
    }

    func testSigtermDuringSettleLeavesEverythingAsItWas() throws {
        let tb = try makeTestbed()
        let a = try startAgent(tb, settle: 30)
        try a.waitForLog("settling synthetic=hn0", timeout: 5)
        XCTAssertEqual(a.stop(), 0)
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.vf))
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.hn))
        XCTAssertTrue(try tb.linkDetails(tb.guest, Testbed.vf).contains("addrgenmode eui64"), "never touched")
    }

    func testAFlappingVFIsHeldOnTheSyntheticPath() throws {
        let (tb, a) = try startSteered(settle: 0.2, extraArguments: ["--flap-threshold", "3", "--flap-hold", "4"])
        for cycle in 1...3 {
            try tb.deleteVF()
            try tb.waitUntil(timeout: 5, "fallback, cycle \(cycle)") { try tb.hnEgressRedirectGone() }
            try tb.addVF()
            if cycle < 3 {
                try tb.waitUntil(timeout: steerTimeout, "steering again, cycle \(cycle)") { try tb.steeringInstalled() }
            }
        }
        try a.waitForLog("flapping: VF vf0", timeout: 5)
        let held = try a.waitForLog("(held back by flap damping)", timeout: 5)
        XCTAssertFalse(try tb.steeringInstalled(), "held on the synthetic path: \(held)")
        let ping = try tb.ping(count: 20, interval: 0.01)
        XCTAssertEqual(ping.received, 20, "the synthetic path carries traffic meanwhile: \(ping)")
        try tb.waitUntil(timeout: 10, "steering again after the hold") { try tb.steeringInstalled() }
    }

    func testPeersLearnTheNewPathRightAfterEachSwitch() throws {
        let tb = try makeTestbed()
        // No IPv6 on hn0 or vf0: the only frames with hn0's MAC are the agent's announcements.
        for dev in [Testbed.hn, Testbed.vf] {
            try tb.exec(tb.guest, ["sysctl", "-qw", "net.ipv6.conf.\(dev).disable_ipv6=1"])
        }
        // Forget whatever vf0 sent before (its own IPv6 DAD): a port losing carrier flushes its entries.
        try tb.exec(tb.host, ["ip", "link", "set", Testbed.vfPort, "down"])
        try tb.exec(tb.host, ["ip", "link", "set", Testbed.vfPort, "up"])
        try tb.waitUntil(timeout: 5, "vf0 up again") { try tb.operState(tb.guest, Testbed.vf) == "up" }
        XCTAssertFalse(tb.fdbPorts().contains(Testbed.vfPort), "precondition: hn0's MAC not learned on the VF port")
        let a = try startAgent(tb, settle: 0.2)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        try tb.waitUntil(timeout: 2, "the bridge learned hn0's MAC on the VF port, without guest traffic") {
            tb.fdbPorts() == [Testbed.vfPort]
        }
        try a.waitForLog("peer notification synthetic=hn0(2) via VF", timeout: 2)
        try tb.vfDown()
        try tb.waitUntil(timeout: 2, "and back on hn0's port right after the fallback") { tb.fdbPorts() == [Testbed.hnPort] }
        try a.waitForLog("via the synthetic path", timeout: 2)
    }

    func testAnUnsolicitedNeighbourAdvertisementReachesThePeerAfterSteeringOn() throws {
        try Testbed.requireRootAndTools(["tcpdump"])
        let tb = try Testbed(withVF: true, ipv6: true)
        testbed = tb
        // ICMPv6 type 136 from hn0's MAC, as the peer's interface sees it.
        let capture = try tb.spawn(tb.peer, ["tcpdump", "-i", Testbed.peerIf, "-n", "-l", "-c", "1", "-e",
                                             "ether src \(Testbed.hnMAC) and icmp6 and ip6[40] == 136"])
        try tb.waitUntil(timeout: 5, "tcpdump listening") { capture.stderr.text.contains("listening on") }
        let a = try startAgent(tb, settle: 0.2)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        let line = try a.waitForLog("1 neighbour advertisement(s)", timeout: 5)
        XCTAssertTrue(line.contains("via VF vf0"), line)
        XCTAssertEqual(capture.wait(timeout: 10), 0, "tcpdump saw one: \(capture.stderr.text)")
        let seen = capture.stdout.text
        XCTAssertTrue(seen.contains("neighbor advertisement"), seen)
        XCTAssertTrue(seen.contains("tgt is fe80::5eff:fe12:1"), "hn0's own link-local address: \(seen)")
    }
}
