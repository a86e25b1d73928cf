// Issue 14 follow-up: which path removed hn's egress redirect when the steered VF went, as
// `hnagent metrics` reports it: the delete prepared while steering (sent from the event's
// headers) or the urgent step after decoding, and the prepared deletes the kernel refused.

import Foundation
import XCTest

final class VFLossPathMetricsTests: IntegrationTestCase {
    /// The counters this test reads from `hnagent metrics`.
    private struct Counts: Equatable, CustomStringConvertible {
        var prepared: UInt64, decoded: UInt64, refused: UInt64, netlinkErrors: UInt64
        var description: String { "prepared=\(prepared) decoded=\(decoded) refused=\(refused) netlink_errors=\(netlinkErrors)" }
    }

    private func counts(_ a: AgentProcess) throws -> Counts {
        let result = try a.control(["metrics"])
        guard result.succeeded else { throw TestbedError("hnagent metrics failed (exit \(result.status)): \(result.stderr)") }
        let lines = result.stdout.split(separator: "\n")
        func value(_ series: String) throws -> UInt64 {
            guard let line = lines.first(where: { $0.hasPrefix(series + " ") }),
                  let number = UInt64(line.dropFirst(series.count + 1)) else {
                throw TestbedError("no \(series) in hnagent metrics:\n\(result.stdout)")
            }
            return number
        }
        return Counts(prepared: try value("hnagent_vf_loss_deletes_total{path=\"prepared\"}"),
                      decoded: try value("hnagent_vf_loss_deletes_total{path=\"decoded\"}"),
                      refused: try value("hnagent_vf_loss_prepared_refused_total"),
                      netlinkErrors: try value("hnagent_netlink_errors_total"))
    }

    /// Steering, read back by the agent itself (its status says so only after the observation
    /// that follows the redirect's add, from which the prepared delete is built).
    private func steeredAndObserved() throws -> (Testbed, AgentProcess) {
        let (tb, a) = try startSteered()
        try tb.waitUntil(timeout: steerTimeout, "status says steering") {
            let pairs = try a.statusJSON()["pairs"] as? [[String: Any]] ?? []
            return pairs.first?["state"] as? String == "steering"
        }
        return (tb, a)
    }

    private func waitForVFLossCounted(_ a: AgentProcess, since before: Counts) throws -> Counts {
        var now = before
        try Testbed.waitUntil(timeout: steerTimeout, "a VF loss counted (before: \(before))") {
            now = try counts(a)
            return now.prepared + now.decoded > before.prepared + before.decoded
        }
        return now
    }

    func testVFDeletedWhileSteeringIsHandledByThePreparedDelete() throws {
        let (tb, a) = try steeredAndObserved()
        let before = try counts(a)
        try tb.deleteVF()
        let after = try waitForVFLossCounted(a, since: before)

        XCTAssertEqual(after.prepared, before.prepared + 1, "the prepared delete removed the redirect: \(before) -> \(after)")
        XCTAssertEqual(after.decoded, before.decoded, "the decoded step had nothing left to do: \(before) -> \(after)")
        XCTAssertEqual(after.refused, before.refused)
        XCTAssertEqual(after.netlinkErrors, before.netlinkErrors)
        let left = try tb.agentFilters(tb.guest, Testbed.hn, .egress)
        XCTAssertTrue(left.isEmpty, "no egress redirect left on hn0: \(left)")
    }

    /// Another tool replaces the agent's egress filter (a new handle, the same redirect and
    /// cookie) while the agent is stopped, so no observation can see it before the VF goes: the
    /// prepared delete names the old handle, the kernel refuses it (ENOENT), and the decoded step
    /// dumps the hook and removes the new one.
    func testReplacedFilterIsRefusedOnThePreparedPathAndRemovedByTheDecodedOne() throws {
        let (tb, a) = try steeredAndObserved()
        if let classifier = try a.statusJSON()["agent"].flatMap({ ($0 as? [String: Any])?["relay_classifier"] as? String }),
           classifier != "u32" {
            throw XCTSkip("the replacement below is a u32 filter; this agent's relay uses \(classifier)")
        }
        let ours = try XCTUnwrap(try tb.agentOwnFilters(Testbed.hn, .egress).first, "the agent's u32 filter on hn0 egress")
        let before = try counts(a)

        try a.pause()
        try tb.exec(tb.guest, ["tc", "filter", "add", "dev", Testbed.hn, "egress", "prio", String(Testbed.agentPref),
                               "protocol", "all", "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect",
                               "dev", Testbed.vf, "cookie", Testbed.agentCookie])
        try tb.exec(tb.guest, ["tc", "filter", "del", "dev", Testbed.hn, "egress", "prio", String(Testbed.agentPref),
                               "handle", ours.handle, "protocol", "all", "u32"])
        let replaced = try tb.agentOwnFilters(Testbed.hn, .egress)
        XCTAssertEqual(replaced.count, 1)
        XCTAssertNotEqual(replaced.first?.handle, ours.handle, "replaced under a new handle")
        try tb.deleteVF()
        a.resume()
        let after = try waitForVFLossCounted(a, since: before)

        XCTAssertEqual(after.prepared, before.prepared, "the prepared delete did not remove it: \(before) -> \(after)")
        XCTAssertEqual(after.refused, before.refused + 1, "the kernel refused the prepared delete: \(before) -> \(after)")
        XCTAssertEqual(after.decoded, before.decoded + 1, "the decoded step removed it: \(before) -> \(after)")
        XCTAssertEqual(after.netlinkErrors, before.netlinkErrors + 1, "the refusal is a failed request: \(before) -> \(after)")
        let left = try tb.agentFilters(tb.guest, Testbed.hn, .egress)
        XCTAssertTrue(left.isEmpty, "no egress redirect left on hn0: \(left)")
    }
}
