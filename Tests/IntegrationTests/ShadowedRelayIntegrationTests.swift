// Another tool's tc filter that runs before the relay's on hn0 egress: hnagent warns once, shows
// it in status and metrics, and leaves it alone; TX then really stays off the VF. A filter after
// the relay's (a higher priority number) is not reported.

import Foundation
import XCTest

final class ShadowedRelayIntegrationTests: IntegrationTestCase {
    /// `tc filter add dev hn0 egress prio P protocol all u32 match u32 0 0 classid 1:1`: matches
    /// every packet and, having no action, ends classification with "ok" (act_gact, for
    /// `action pass`, and cls_matchall are not in this kernel).
    private func addPassFilter(_ tb: Testbed, prio: Int) throws {
        try tb.exec(tb.guest, ["tc", "filter", "add", "dev", Testbed.hn, "egress", "prio", String(prio), "protocol", "all",
                               "u32", "match", "u32", "0", "0", "classid", "1:1"])
    }

    private func deleteFilters(_ tb: Testbed, prio: Int) throws {
        try tb.exec(tb.guest, ["tc", "filter", "del", "dev", Testbed.hn, "egress", "prio", String(prio)])
    }

    /// hn0's TX packets that left through vf0 while the peer pinged hn0 (the replies are hn0's TX).
    private func txThroughVF(_ tb: Testbed, count: Int = 20) throws -> (vf: UInt64, received: Int) {
        let before = try tb.counters(tb.guest, Testbed.vf)
        let ping = try tb.ping(count: count, interval: 0.01)
        let after = try tb.counters(tb.guest, Testbed.vf)
        return (after.txPackets &- before.txPackets, ping.received)
    }

    private func shadowMetric(_ a: AgentProcess) throws -> String? {
        let metrics = try a.control(["metrics"])
        XCTAssertTrue(metrics.succeeded, metrics.stderr)
        return metrics.stdout.split(separator: "\n").first { $0.hasPrefix("hnagent_relay_shadowed{hook=\"egress\",synthetic=\"hn0\"} ") }
            .map(String.init)
    }

    func testAFilterBeforeTheRelayIsReportedAndRealAndOneAfterItIsNot() throws {
        let (tb, a) = try startSteered()
        let steered = try txThroughVF(tb)
        XCTAssertGreaterThanOrEqual(steered.vf, 20, "steering: hn0's TX leaves through vf0")
        XCTAssertNil(try a.statusJSON()["pairs"].flatMap { ($0 as? [[String: Any]])?.first?["shadowed_by"] })
        XCTAssertEqual(try shadowMetric(a), "hnagent_relay_shadowed{hook=\"egress\",synthetic=\"hn0\"} 0")

        // A filter after the relay's (prio 30000) and one before it (prio 100).
        let mark = a.logMark()
        try addPassFilter(tb, prio: 30000)
        try addPassFilter(tb, prio: 100)
        try a.waitForLog("runs before hnagent's redirect", timeout: steerTimeout, since: mark)
        let warnings = { a.logLines(containing: "runs before hnagent's redirect", since: mark) }
        XCTAssertEqual(warnings().count, 1, a.log(since: mark))
        let handle = try XCTUnwrap(try tb.u32Filters(Testbed.hn, .egress).first { $0.pref == 100 }?.handle)
        let warning = try XCTUnwrap(warnings().first)
        XCTAssertTrue(warning.contains("u32 filter prio 100 handle \(handle) on hn0 egress"), warning)
        XCTAssertTrue(warning.contains("give it a priority above 20040"), warning)
        XCTAssertFalse(a.log(since: mark).contains("prio 30000"), "a filter after the relay's is not reported")

        let pair = try XCTUnwrap((try a.statusJSON()["pairs"] as? [[String: Any]])?.first)
        XCTAssertEqual(pair["state"] as? String, "steering", "the redirect is still in place")
        let shadows = try XCTUnwrap(pair["shadowed_by"] as? [[String: Any]], "\(pair)")
        XCTAssertEqual(shadows.count, 1)
        XCTAssertEqual(shadows.first?["device"] as? String, "hn0")
        XCTAssertEqual(shadows.first?["hook"] as? String, "egress")
        XCTAssertEqual(shadows.first?["priority"] as? Int, 100)
        XCTAssertEqual(shadows.first?["handle"] as? String, handle, "as tc filter show prints it")
        let text = try a.control(["status"])
        XCTAssertTrue(text.stdout.contains("WARNING      u32 filter prio 100 handle \(handle) on hn0 egress runs before"), text.stdout)
        XCTAssertEqual(try shadowMetric(a), "hnagent_relay_shadowed{hook=\"egress\",synthetic=\"hn0\"} 1")

        // Real: hn0's TX no longer reaches vf0 (it takes the synthetic path, so pings still work).
        let shadowed = try txThroughVF(tb)
        XCTAssertEqual(shadowed.vf, 0, "with the prio 100 filter, no TX through vf0")
        XCTAssertEqual(shadowed.received, 20, "TX on the synthetic path")
        XCTAssertEqual(warnings().count, 1, "warned once, not on every reconcile or status reading")
        XCTAssertEqual(try tb.u32Filters(Testbed.hn, .egress).map(\.pref).sorted(), [100, 20040, 30000],
                       "hnagent leaves the other filters alone")

        // Removing it clears the warning, status and metric, and TX is back on the VF; the prio
        // 30000 filter is still there and reported by nothing.
        let cleared = a.logMark()
        try deleteFilters(tb, prio: 100)
        try a.waitForLog("no longer shadows the relay", timeout: steerTimeout, since: cleared)
        XCTAssertNil((try a.statusJSON()["pairs"] as? [[String: Any]])?.first?["shadowed_by"])
        XCTAssertEqual(try shadowMetric(a), "hnagent_relay_shadowed{hook=\"egress\",synthetic=\"hn0\"} 0")
        XCTAssertGreaterThanOrEqual(try txThroughVF(tb).vf, 20, "TX through vf0 again")
        XCTAssertEqual(warnings().count, 1, a.log(since: mark))
        XCTAssertEqual(try tb.u32Filters(Testbed.hn, .egress).map(\.pref).sorted(), [20040, 30000])
    }
}
