// Issue 5, events: an event socket overrun (ENOBUFS) while the VF is replaced, and a VF that
// flaps faster than the settle time. Root only; every result is read back from the kernel.

import Foundation
import XCTest

final class EventFloodTests: IntegrationTestCase {
    private let fallbackTimeout: TimeInterval = 2

    override func tearDown() {
        agent?.resume()     // a stopped agent cannot handle SIGTERM
        super.tearDown()
    }

    /// Creates `count` veth pairs in GUEST and deletes them all with one group delete, in one
    /// `ip -batch` run: about 14 KB of link events per pair on the agent's socket.
    private func churnVethPairs(_ tb: Testbed, count: Int, first: Int) throws {
        let dir = try scratchDirectories.first ?? scratchDirectory("hnit-flood")
        let file = dir.appendingPathComponent("churn.batch")
        var lines = (first..<(first + count)).map { "link add fl\($0) group 99 type veth peer name fm\($0) group 99" }
        lines.append("link del group 99")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        try tb.run(["ip", "-n", tb.guest, "-batch", file.path], timeout: 120)
    }

    /// Lines the agent logged at error level since `mark`.
    private func errorLines(_ a: AgentProcess, since mark: Int) -> [String] {
        a.logLines(containing: " error ", since: mark)
    }

    func testOverrunWhileTheVFIsReplacedEndsSteeringOnTheNewVF() throws {
        let (tb, a) = try startSteered(settle: 0.5)
        let hn = try tb.ifindex(tb.guest, Testbed.hn)
        let oldVF = try tb.ifindex(tb.guest, Testbed.vf)
        let port = try a.agentProcessID()
        func socket() throws -> NetlinkSocketStats {
            guard let stats = try tb.netlinkEventSocket(port: port, in: tb.guest) else {
                throw TestbedError("no event socket of hnagent (port \(port)) in /proc/net/netlink")
            }
            return stats
        }
        let mark = a.logMark()
        let started = Date()
        try a.pause()

        // More events than one drain reads (1024 datagrams), then the old vf0 goes down and up:
        // its events queue behind them, where a drain after the resync would find them.
        try churnVethPairs(tb, count: 400, first: 0)
        try tb.vfDown()
        try tb.vfUp()
        // Overrun the socket (4 MiB asked for, 8 MiB granted).
        var round = 1
        while try socket().drops == 0 {
            guard round <= 12 else { XCTFail("socket not overrun: \(try socket())"); return }
            try churnVethPairs(tb, count: 200, first: round * 1000)
            round += 1
        }
        // vf0 replaced while events are being dropped: the agent can only learn it from a dump.
        try tb.deleteVF()
        try tb.addVF()
        let newVF = try tb.ifindex(tb.guest, Testbed.vf)
        XCTAssertNotEqual(newVF, oldVF)
        let overrun = try socket()
        print("flood: \(round) churn rounds, \(overrun.queuedBytes) bytes queued, \(overrun.drops) events dropped, "
              + "\(Int(Date().timeIntervalSince(started) * 1000)) ms paused")
        a.resume()

        try a.waitForLog("overran the socket buffer (ENOBUFS); resynchronising", timeout: 10, since: mark)
        try tb.waitUntil(timeout: steerTimeout, "steering on the new vf0") { try tb.steeringInstalled() }
        try a.waitForLog("steering on synthetic=hn0(\(hn)) vf=vf0(\(newVF))", timeout: 2, since: mark)
        XCTAssertEqual(try tb.agentRedirect(tb.guest, Testbed.hn, .egress)?.target, Testbed.vf,
                       "hn0's egress redirect names the new vf0(\(newVF)); the old one is gone")
        XCTAssertEqual(try tb.agentRedirect(tb.guest, Testbed.vf, .ingress)?.target, Testbed.hn)
        XCTAssertEqual(try tb.link(tb.guest, Testbed.vf)?.addrGenMode, "none")
        // Only the relay's two filters are left, on the two devices that exist.
        try tb.waitUntil(timeout: 5, "no flood veth left") { try tb.links(in: tb.guest).count == 3 }
        let filters = try tb.agentFiltersAnywhere(tb.guest)
        XCTAssertEqual(Set(filters.keys), [Testbed.hn, Testbed.vf], "\(filters)")
        XCTAssertEqual(filters[Testbed.hn]?[.egress]?.count, 1)
        XCTAssertEqual(filters[Testbed.hn]?[.ingress]?.count, 0)
        XCTAssertEqual(filters[Testbed.vf]?[.ingress]?.count, 1)
        XCTAssertEqual(filters[Testbed.vf]?[.egress]?.count, 0)

        let ping = try tb.ping(count: 50, interval: 0.01)
        XCTAssertEqual(ping.received, 50, "traffic after the resync: \(ping)")

        // Nothing stale stayed in the agent's table: when the new vf0 leaves, the old one (from an
        // event queued before the overrun) must not come back as a candidate.
        let replaced = a.logMark()
        try tb.deleteVF()
        try tb.waitUntil(timeout: fallbackTimeout, "hn0 egress redirect removed") { try tb.hnEgressRedirectGone() }
        try tb.addVF()
        let thirdVF = try tb.ifindex(tb.guest, Testbed.vf)
        try tb.waitUntil(timeout: steerTimeout, "steering on the third vf0") { try tb.steeringInstalled() }
        try a.waitForLog("steering on synthetic=hn0(\(hn)) vf=vf0(\(thirdVF))", timeout: 2, since: replaced)
        XCTAssertEqual(a.logLines(containing: "(\(oldVF))", since: replaced), [], "the old vf0 is not in the agent's table")
        XCTAssertEqual(errorLines(a, since: mark), [])
        print("flood: steering on the new vf0 \(Int(Date().timeIntervalSince(started) * 1000)) ms after the pause began")
    }

    func testVFFlappingFasterThanTheSettleTimeIsNeverHalfInstalled() throws {
        let settle = 1.0
        let (tb, a) = try startSteered(settle: settle)
        // Every filter change in GUEST, recorded by the kernel's own notifications; sentinel
        // changes on lo, until one is seen, show the monitor is listening.
        let monitor = try tb.spawn(tb.guest, ["stdbuf", "-oL", "tc", "monitor"])  // line-buffered into the pipe
        try tb.waitUntil(timeout: 5, "tc monitor listening") {
            try tb.exec(tb.guest, ["tc", "qdisc", "replace", "dev", "lo", "clsact"])
            try tb.exec(tb.guest, ["tc", "qdisc", "del", "dev", "lo", "clsact"])
            return monitor.stdout.text.contains("dev lo")
        }
        let mark = a.logMark()

        var settleChecked = 0
        for cycle in 1...20 {
            try tb.deleteVF()
            try tb.waitUntil(timeout: fallbackTimeout, "cycle \(cycle): hn0 egress redirect removed") {
                try tb.hnEgressRedirectGone()
            }
            let added = Date()
            try tb.addVF()
            // hn0's egress is read first: the agent adds it last, so if it is there the rest must be.
            let egress = try tb.agentRedirect(tb.guest, Testbed.hn, .egress)
            let ingress = try tb.agentRedirect(tb.guest, Testbed.vf, .ingress)
            guard let vf = try tb.link(tb.guest, Testbed.vf) else { throw TestbedError("vf0 missing") }
            if egress != nil {
                XCTAssertTrue(vf.isAdminUp && vf.hasCarrier, "cycle \(cycle): egress redirect to an unusable VF: \(vf)")
                XCTAssertEqual(ingress?.target, Testbed.hn, "cycle \(cycle): egress without the VF's ingress redirect")
                XCTAssertEqual(vf.addrGenMode, "none", "cycle \(cycle): egress to a VF that was not quieted")
            }
            if Date().timeIntervalSince(added) < settle * 0.8 {
                // Still settling: the agent has not touched the new VF, and TX stays on hn0.
                XCTAssertNil(egress, "cycle \(cycle): steering before the VF settled")
                XCTAssertNil(ingress, "cycle \(cycle): VF ingress redirect before the VF settled")
                XCTAssertEqual(vf.addrGenMode, "eui64", "cycle \(cycle): VF changed before it settled: \(vf)")
                XCTAssertTrue(vf.isAdminUp, "cycle \(cycle): \(vf)")
                settleChecked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(settleChecked, 10, "cycles fast enough to check the settle time")
        print("flap: 20 cycles, \(settleChecked) read back within the settle time")

        // The flapping stops: the last VF settles and is attached, once and completely.
        let last = try tb.ifindex(tb.guest, Testbed.vf)
        try tb.waitUntil(timeout: steerTimeout, "steering on the last vf0") { try tb.steeringInstalled() }
        try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: mark)
        XCTAssertEqual(a.logLines(containing: "steering on", since: mark).count, 1, "only the last VF was steered through")
        XCTAssertEqual(a.logLines(containing: "steering on", since: mark).first?.contains("vf=vf0(\(last))"), true)
        XCTAssertEqual(try tb.link(tb.guest, Testbed.vf)?.addrGenMode, "none")
        XCTAssertEqual(errorLines(a, since: mark), [])

        // The kernel's record: hn0's egress redirect was removed once (first cycle) and added
        // once (last VF); the VF ingress redirect was added only to the last VF.
        monitor.terminate(timeout: 2)
        let events = monitor.stdout.text.split(separator: "\n").map(String.init)
        let hnEgress = events.filter { $0.contains("filter dev \(Testbed.hn) egress") && $0.contains("pref \(Testbed.agentPref)") }
        XCTAssertEqual(hnEgress.filter { $0.hasPrefix("added") }.count, 1, "\(hnEgress)")
        XCTAssertEqual(hnEgress.filter { $0.hasPrefix("deleted") }.count, 1, "\(hnEgress)")
        let vfIngress = events.filter { $0.hasPrefix("added filter dev \(Testbed.vf) ingress") }
        XCTAssertEqual(vfIngress.count, 1, "\(vfIngress)")

        let ping = try tb.ping(count: 50, interval: 0.01)
        XCTAssertEqual(ping.received, 50, "\(ping)")
    }
}
