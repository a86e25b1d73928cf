@testable import POSIX
@testable import Engine
@testable import OperatorInterface
import Foundation
import Policy
import XCTest

/// The event timeline, the status board and the metrics text, from recorded pair activity.
final class OperatorModelTests: XCTestCase {
    private let wall = WallTime(seconds: 1_795_000_000, nanoseconds: 123_000_000)

    private func activity(_ kind: PairActivity.Kind, at seconds: UInt64, switchMs: Int64? = nil, reason: String? = nil) -> PairActivity {
        PairActivity(kind: kind, at: MonotonicInstant(nanoseconds: seconds * 1_000_000_000), synthetic: NamedInterface(2, name: "hn0"),
                     vf: NamedInterface(3, name: "vf0"), reason: reason,
                     switchDuration: switchMs.map { .microseconds($0 * 1000 + 250) })
    }

    func testWallTimeFormatting() {
        XCTAssertEqual(wall.iso8601, "2026-11-18T11:06:40.123Z")
        XCTAssertEqual(wall.minus(.milliseconds(1124)).iso8601, "2026-11-18T11:06:38.999Z")
        XCTAssertEqual(WallTime(seconds: 0, nanoseconds: 0).iso8601, "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(WallTime(seconds: -1, nanoseconds: 5_000_000).iso8601, "1969-12-31T23:59:59.005Z")
        XCTAssertEqual(WallTime(seconds: 253_402_300_799, nanoseconds: 999_999_999).iso8601, "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(WallTime(seconds: 253_402_300_800, nanoseconds: 0).iso8601, "10000-01-01T00:00:00.000Z")
    }

    func testTimelineIsABoundedRingInOrder() {
        let timeline = EventTimeline(capacity: 3, wallClock: { self.wall })
        var streamed: [UInt64] = []
        timeline.onAppend = { streamed.append($0.seq) }
        for second in 1...5 { timeline.append(activity(.policy, at: UInt64(second))) }
        XCTAssertEqual(timeline.entries.map(\.seq), [3, 4, 5], "oldest dropped, order kept")
        XCTAssertEqual(streamed, [1, 2, 3, 4, 5])
        timeline.append(activity(.fallback, at: 6, switchMs: 2, reason: "VF removed"))
        let last = timeline.entries.last!
        XCTAssertEqual(last, TimelineEntry(seq: 6, time: wall.iso8601, kind: "fallback", synthetic: "hn0", syntheticIfindex: 2,
                                           vf: "vf0", vfIfindex: 3, reason: "VF removed", switchMs: 2.25))
    }

    func testAnInterfaceWithoutAKnownNameIsNamedByItsIndex() {
        let timeline = EventTimeline(capacity: 2, wallClock: { self.wall })
        timeline.append(PairActivity(kind: .fallback, at: MonotonicInstant(nanoseconds: 1), synthetic: NamedInterface(2, name: "hn0"),
                                     vf: NamedInterface(9, name: nil)))
        let entry = timeline.entries[0]
        XCTAssertEqual(entry.synthetic, "hn0")
        XCTAssertEqual(entry.syntheticIfindex, 2)
        XCTAssertEqual(entry.vf, "ifindex(9)")
        XCTAssertEqual(entry.vfIfindex, 9)
        XCTAssertEqual("\(NamedInterface(5, name: "vf0"))", "vf0(5)")
        XCTAssertEqual("\(NamedInterface(9, name: nil))", "ifindex(9)")
    }

    private func pair(_ phase: PairPhase, steering: Bool = false, retryAt: MonotonicInstant? = nil) -> PairSnapshot {
        var hn = LinkSnapshot(index: 2, name: "hn0", mac: MACAddress("00:15:5d:aa:bb:cc"))
        hn.counters = TrafficCounters(rxPackets: 10, txPackets: 20, rxBytes: 1000, txBytes: 2000)
        return PairSnapshot(synthetic: NamedInterface(2, name: "hn0"), syntheticLink: hn,
                            vf: phase.vf.map { NamedInterface($0, name: "vf0") }, vfLink: nil, phase: phase, steering: steering,
                            retryAt: retryAt, lastReason: nil,
                            relay: TrafficCounters(received: RelayCounters(packets: 5, bytes: 500), sent: RelayCounters(packets: 6, bytes: 600)),
                            recovered: TrafficCounters(), vfTraffic: nil, memberships: [])
    }

    private func snapshot(_ pairs: [PairSnapshot]) -> ReconcilerSnapshot {
        ReconcilerSnapshot(pairs: pairs, links: [:], originals: SavedOriginals(), reconciles: 7)
    }

    func testStateNames() {
        let t = MonotonicInstant(nanoseconds: 1)
        XCTAssertEqual(StatusBoard.state(of: pair(.waitingForVF), mode: .transparent), .waitingForVF)
        XCTAssertEqual(StatusBoard.state(of: pair(.settling(vf: 3, until: t)), mode: .transparent), .settling)
        XCTAssertEqual(StatusBoard.state(of: pair(.active(vf: 3, seenUsable: true), steering: true), mode: .transparent), .steering)
        XCTAssertEqual(StatusBoard.state(of: pair(.active(vf: 3, seenUsable: true)), mode: .transparent), .fallback)
        XCTAssertEqual(StatusBoard.state(of: pair(.suspended(vf: 3, reason: .vfNoCarrier)), mode: .transparent), .fallback)
        XCTAssertEqual(StatusBoard.state(of: pair(.active(vf: 3, seenUsable: true), retryAt: t), mode: .transparent), .heldBack)
        XCTAssertEqual(StatusBoard.state(of: pair(.active(vf: 3, seenUsable: true)), mode: .nonTransparent), .active)
    }

    func testBoardKeepsSinceAndSwitchesAndTotals() throws {
        let board = StatusBoard(mode: .transparent, timeline: EventTimeline(wallClock: { self.wall }), wallClock: { self.wall })
        let t0 = MonotonicInstant(nanoseconds: 100_000_000_000)
        board.observe(snapshot([pair(.settling(vf: 3, until: t0.advanced(by: .seconds(2))))]), now: t0)
        board.record(activity(.steeringOn, at: 102, switchMs: 1))
        board.observe(snapshot([pair(.active(vf: 3, seenUsable: true), steering: true)]), now: t0.advanced(by: .seconds(2)))
        var facts = AgentFacts(pid: 42, mode: .transparent, settle: .seconds(2), started: t0, startedWall: wall)
        facts.netlinkErrors = 1
        let report = board.report(snapshot([pair(.active(vf: 3, seenUsable: true), steering: true)]), facts: facts,
                                  vfAddresses: [3: ["198.18.0.9/24"]], now: t0.advanced(by: .seconds(5)),
                                  wallNow: wall)
        let status = try XCTUnwrap(report.pairs.first)
        XCTAssertEqual(status.state, .steering)
        XCTAssertEqual(status.sinceSecondsAgo, 3)
        XCTAssertEqual(status.since, wall.minus(.seconds(3)).iso8601)
        XCTAssertEqual(status.switchesToVf, 1)
        XCTAssertEqual(status.switchesToSynthetic, 0)
        XCTAssertEqual(status.lastSwitch?.direction, .toVF)
        XCTAssertEqual(status.lastSwitch?.switchMs, 1.25)
        XCTAssertEqual(status.traffic.viaVf, TrafficCounters(rxPackets: 5, txPackets: 6, rxBytes: 500, txBytes: 600))
        XCTAssertEqual(status.traffic.synthetic, TrafficCounters(rxPackets: 10, txPackets: 20, rxBytes: 1000, txBytes: 2000))
        XCTAssertEqual(status.traffic.total, TrafficCounters(rxPackets: 15, txPackets: 26, rxBytes: 1500, txBytes: 2600))
        XCTAssertEqual(status.vfAddresses, ["198.18.0.9/24"])
        XCTAssertEqual(report.agent.reconciles, 7)
        XCTAssertEqual(report.agent.netlinkErrors, 1)
        XCTAssertEqual(report.agent.uptimeSeconds, 5)

        // On the wire: snake_case keys that decode back to the same report.
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(report)
        let text = String(decoding: data, as: UTF8.self)
        for key in ["\"via_vf\"", "\"since_seconds_ago\"", "\"switches_to_vf\"", "\"recovered_at_vf_removal\"", "\"netlink_errors\""] {
            XCTAssertTrue(text.contains(key), key)
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        XCTAssertEqual(try decoder.decode(StatusReport.self, from: data), report)
    }

    func testMetricsText() {
        let board = StatusBoard(mode: .transparent, wallClock: { self.wall })
        let t0 = MonotonicInstant(nanoseconds: 1_000_000_000)
        board.record(activity(.fallback, at: 1, switchMs: 0, reason: "VF removed"))
        let facts = AgentFacts(pid: 1, mode: .transparent, settle: .seconds(2), started: t0, startedWall: wall)
        let text = MetricsExposition.render(board.report(snapshot([pair(.waitingForVF)]), facts: facts, now: t0))
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "hnagent_pair_state{state=\"waiting-for-vf\",synthetic=\"hn0\"} 1",
            "hnagent_pair_state{state=\"steering\",synthetic=\"hn0\"} 0",
            "hnagent_switches_total{direction=\"to_synthetic\",synthetic=\"hn0\"} 1",
            "hnagent_switches_total{direction=\"to_vf\",synthetic=\"hn0\"} 0",
            "hnagent_last_switch_duration_seconds{synthetic=\"hn0\"} 0.00025",
            "hnagent_relay_packets_total{direction=\"rx\",synthetic=\"hn0\"} 5",
            "hnagent_relay_bytes_total{direction=\"tx\",synthetic=\"hn0\"} 600",
            "hnagent_synthetic_packets_total{direction=\"tx\",synthetic=\"hn0\"} 20",
            "hnagent_total_bytes_total{direction=\"rx\",synthetic=\"hn0\"} 1500",
            "hnagent_reconciles_total 7",
            "hnagent_netlink_errors_total 0",
            "hnagent_resyncs_total 0",
            "# TYPE hnagent_relay_packets_total counter",
        ] {
            XCTAssertTrue(lines.contains(expected), "missing: \(expected)\n\(text)")
        }
        // Every sample line is NAME{labels} VALUE or NAME VALUE.
        let sample = try! Regex(#"^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$"#)
        for line in lines where !line.hasPrefix("#") { XCTAssertNotNil(line.wholeMatch(of: sample), line) }
        XCTAssertEqual(MetricsExposition.escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd")
    }
}
