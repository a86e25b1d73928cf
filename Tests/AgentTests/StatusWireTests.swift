@testable import OperatorInterface
@testable import Runtime
import Foundation
import Policy
import XCTest

/// The bytes of `hnagent status --json` and `hnagent metrics` for reports that fill every field,
/// pinned: a faster writer must not change what operators, scripts and scrapers read.
final class StatusWireTests: XCTestCase {
    func testStatusJSONGolden() throws {
        let expected =
            #"{"agent":{"control_socket":"/run/hnagent/control.sock","instance_lock":"squatted by pid 7 uid 0","me"# +
            #"trics_listen":"127.0.0.1:9101","metrics_listener":{"address":"127.0.0.1:9101","error":"VF removed",""# +
            #"failed_attempts":18446744073709551615,"listening":false,"retry_in_seconds":0.25},"mode":"transparent"# +
            #"","netlink_errors":1,"pid":4242,"reconciles":17,"relay_classifier":"u32","resync_failures":3,"resync"# +
            #"_pending":true,"resyncs":2,"settle_seconds":2,"started_at":"2026-11-18T11:06:40.123Z","uptime_second"# +
            #"s":2.5,"vf_loss_deletes":{"decoded":8,"prepared":7,"prepared_refused":18446744073709551615}},"pairs":[{"changes":[{"changes":[{"current":"9000","original":"1500","setting":"mtu"},{"orig"# +
            #"inal":"VF removed","setting":"VF removed"}],"ifindex":2,"interface":"hn0"}],"last_switch":{"at":"202"# +
            #"6-11-18T11:06:38.999Z","direction":"to-synthetic","reason":"VF removed","seconds_ago":1.124,"switch_"# +
            #"ms":0.25},"multicast_changes_coalesced":6,"multicast_memberships":["33:33:00:00:00:fb","VF removed"]"# +
            #","reason":"VF removed","retry_in_seconds":0.000125,"settle_remaining_seconds":1.5,"shadowed_by":[{"device":"hn0","handle":"801::800","hook":"egress","kind":"u32","priority":100},{"device":"VF removed","handle":"VF removed","hook":"ingress","kind":"VF removed","priority":65535}],"since":"2026-11-1"# +
            #"8T11:06:38.999Z","since_seconds_ago":2.5,"state":"fallback","switches_to_synthetic":4,"switches_to_v"# +
            #"f":5,"synthetic":{"ifindex":2,"mac":"00:15:5d:aa:bb:cc","name":"hn0","present":true},"traffic":{"rec"# +
            #"overed_at_vf_removal":{"rx_bytes":4003,"rx_packets":41,"tx_bytes":4004,"tx_packets":42},"synthetic":"# +
            #"{"rx_bytes":2003,"rx_packets":21,"tx_bytes":2004,"tx_packets":22},"total":{"rx_bytes":3003,"rx_packe"# +
            #"ts":31,"tx_bytes":3004,"tx_packets":32},"vf_direct":{"rx_bytes":5003,"rx_packets":51,"tx_bytes":5004"# +
            #","tx_packets":52},"via_vf":{"rx_bytes":1003,"rx_packets":11,"tx_bytes":1004,"tx_packets":12}},"vf":{"# +
            #""ifindex":3,"mac":"00:15:5d:aa:bb:cc","name":"VF removed","present":false},"vf_addresses":["198.18.0"# +
            #".9/24","VF removed"]},{"changes":[],"multicast_changes_coalesced":0,"multicast_memberships":[],"sinc"# +
            #"e":"2026-11-18T11:06:40.123Z","since_seconds_ago":0,"state":"waiting-for-vf","switches_to_synthetic""# +
            #":0,"switches_to_vf":0,"synthetic":{"ifindex":4,"name":"hn1\"\\\n\u0001é","present":true},"traffic":{"# +
            #""recovered_at_vf_removal":{"rx_bytes":0,"rx_packets":0,"tx_bytes":0,"tx_packets":0},"total":{"rx_byt"# +
            #"es":0,"rx_packets":0,"tx_bytes":0,"tx_packets":0},"via_vf":{"rx_bytes":0,"rx_packets":0,"tx_bytes":0"# +
            #","tx_packets":0}},"vf_addresses":[]}]}"#
        XCTAssertEqual(try XCTUnwrap(OperatorServices.statusJSON(StatusReportFixture.full())), expected)
        let bare =
            #"{"agent":{"mode":"non-transparent","netlink_errors":0,"pid":1,"reconciles":0,"resync_failures":0,"re"# +
            #"sync_pending":false,"resyncs":0,"settle_seconds":0,"started_at":"1970-01-01T00:00:00.000Z","uptime_s"# +
            #"econds":0},"pairs":[]}"#
        XCTAssertEqual(try XCTUnwrap(OperatorServices.statusJSON(StatusReportFixture.bare)), bare)
    }

    /// What JSONEncoder made before the hand-written writer: the oracle for any text and number.
    private static func encoded(_ report: StatusReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    /// Hostile strings (RFC 8259's escapes, every control character, DEL, slashes, non-ASCII,
    /// a NUL inside) in every free-text field: the same bytes as JSONEncoder, and the client's
    /// decoder reads back the same report.
    func testHostileStringsAsJSONEncoderWritesThem() throws {
        let controls = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let hostile = [
            "quote \" backslash \\ slash / both \\\"", controls, "\u{7F} DEL", "é ü 漢字 🦜", "nul\u{0}inside",
            "\\u0041 not an escape", "", "\u{2028}\u{2029} line separators", "}\"],[{", "\r\n\t\u{8}\u{C}",
        ]
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        for text in hostile {
            let report = StatusReportFixture.full(text: text)
            let written = try XCTUnwrap(OperatorServices.statusJSON(report), text)
            XCTAssertEqual(written, try Self.encoded(report), "text: \(text.debugDescription)")
            XCTAssertEqual(try decoder.decode(StatusReport.self, from: Data(written.utf8)), report, text.debugDescription)
        }
        let controlsWritten = try XCTUnwrap(OperatorServices.statusJSON(StatusReportFixture.full(text: controls)))
        XCTAssertTrue(controlsWritten.contains(#"\u0000\u0001"#) && controlsWritten.contains(#"\b\t\n\u000b\f\r\u000e"#)
                      && controlsWritten.contains(#"\u001f"#), "control characters escaped")
        XCTAssertFalse(controlsWritten.utf8.contains { $0 < 0x20 }, "no raw control character left")
    }

    /// Numbers as JSONEncoder writes a Double (its description without ".0"), and no document
    /// at all for a number JSON cannot carry.
    func testNumbersAsJSONEncoderWritesThem() throws {
        let numbers: [Double] = [0, -0.0, 1, -1, 2.5, 0.1, 1.124, 0.000_125, 1e-7, 123_456_789.125, 999_999_999_999_999,
                                 1e15, 1e16, 2e16 + 2, 9_007_199_254_740_993, 1e300, -1e-300, .leastNonzeroMagnitude,
                                 .greatestFiniteMagnitude, 86_400 * 365.25 * 10, 1.0 / 3]
        for number in numbers {
            let report = StatusReportFixture.full(number: number)
            XCTAssertEqual(OperatorServices.statusJSON(report), try Self.encoded(report), "\(number)")
        }
        for number in [Double.nan, .infinity, -.infinity] {
            XCTAssertNil(OperatorServices.statusJSON(StatusReportFixture.full(number: number)), "\(number)")
            XCTAssertThrowsError(try Self.encoded(StatusReportFixture.full(number: number)))
        }
        XCTAssertEqual(OperatorServices.statusJSON(StatusReportFixture.bare), try Self.encoded(StatusReportFixture.bare))
    }

    func testMetricsGolden() {
        let golden = #"""
            # HELP hnagent_pair_state 1 for the state the pair is in, 0 for the others.
            # TYPE hnagent_pair_state gauge
            STATES synthetic="hn0" in fallback
            STATES synthetic="hn1\"\\\n\#u{01}é" in waiting-for-vf
            # HELP hnagent_pair_state_seconds Seconds the pair has been in its current state.
            # TYPE hnagent_pair_state_seconds gauge
            hnagent_pair_state_seconds{synthetic="hn0"} 2.5
            hnagent_pair_state_seconds{synthetic="hn1\"\\\n\#u{01}é"} 0
            # HELP hnagent_switches_total Relay switches since start: to_vf (steering on), to_synthetic (fallback).
            # TYPE hnagent_switches_total counter
            hnagent_switches_total{direction="to_vf",synthetic="hn0"} 5
            hnagent_switches_total{direction="to_synthetic",synthetic="hn0"} 4
            hnagent_switches_total{direction="to_vf",synthetic="hn1\"\\\n\#u{01}é"} 0
            hnagent_switches_total{direction="to_synthetic",synthetic="hn1\"\\\n\#u{01}é"} 0
            # HELP hnagent_last_switch_duration_seconds Last switch: from the reconcile that saw the event to the relay read back changed.
            # TYPE hnagent_last_switch_duration_seconds gauge
            hnagent_last_switch_duration_seconds{synthetic="hn0"} 0.00025
            # HELP hnagent_relay_packets_total Packets through the VF (the relay's filter counters, kept across VF removals); direction rx or tx as seen by the synthetic NIC.
            # TYPE hnagent_relay_packets_total counter
            hnagent_relay_packets_total{direction="rx",synthetic="hn0"} 11
            hnagent_relay_packets_total{direction="tx",synthetic="hn0"} 12
            hnagent_relay_packets_total{direction="rx",synthetic="hn1\"\\\n\#u{01}é"} 0
            hnagent_relay_packets_total{direction="tx",synthetic="hn1\"\\\n\#u{01}é"} 0
            # HELP hnagent_relay_bytes_total Bytes through the VF (the relay's filter counters, kept across VF removals); direction rx or tx as seen by the synthetic NIC.
            # TYPE hnagent_relay_bytes_total counter
            hnagent_relay_bytes_total{direction="rx",synthetic="hn0"} 1003
            hnagent_relay_bytes_total{direction="tx",synthetic="hn0"} 1004
            hnagent_relay_bytes_total{direction="rx",synthetic="hn1\"\\\n\#u{01}é"} 0
            hnagent_relay_bytes_total{direction="tx",synthetic="hn1\"\\\n\#u{01}é"} 0
            # HELP hnagent_synthetic_packets_total Packets through the synthetic path (the synthetic NIC's own link counters); direction rx or tx as seen by the synthetic NIC.
            # TYPE hnagent_synthetic_packets_total counter
            hnagent_synthetic_packets_total{direction="rx",synthetic="hn0"} 21
            hnagent_synthetic_packets_total{direction="tx",synthetic="hn0"} 22
            # HELP hnagent_synthetic_bytes_total Bytes through the synthetic path (the synthetic NIC's own link counters); direction rx or tx as seen by the synthetic NIC.
            # TYPE hnagent_synthetic_bytes_total counter
            hnagent_synthetic_bytes_total{direction="rx",synthetic="hn0"} 2003
            hnagent_synthetic_bytes_total{direction="tx",synthetic="hn0"} 2004
            # HELP hnagent_total_packets_total Packets through either path: what the synthetic NIC's counters would show with the VF behind it; direction rx or tx as seen by the synthetic NIC.
            # TYPE hnagent_total_packets_total counter
            hnagent_total_packets_total{direction="rx",synthetic="hn0"} 31
            hnagent_total_packets_total{direction="tx",synthetic="hn0"} 32
            hnagent_total_packets_total{direction="rx",synthetic="hn1\"\\\n\#u{01}é"} 0
            hnagent_total_packets_total{direction="tx",synthetic="hn1\"\\\n\#u{01}é"} 0
            # HELP hnagent_total_bytes_total Bytes through either path: what the synthetic NIC's counters would show with the VF behind it; direction rx or tx as seen by the synthetic NIC.
            # TYPE hnagent_total_bytes_total counter
            hnagent_total_bytes_total{direction="rx",synthetic="hn0"} 3003
            hnagent_total_bytes_total{direction="tx",synthetic="hn0"} 3004
            hnagent_total_bytes_total{direction="rx",synthetic="hn1\"\\\n\#u{01}é"} 0
            hnagent_total_bytes_total{direction="tx",synthetic="hn1\"\\\n\#u{01}é"} 0
            # HELP hnagent_multicast_changes_coalesced_total Multicast membership changes the VF's allmulti did not follow on their own (at most one change per multicast-settle).
            # TYPE hnagent_multicast_changes_coalesced_total counter
            hnagent_multicast_changes_coalesced_total{synthetic="hn0"} 6
            hnagent_multicast_changes_coalesced_total{synthetic="hn1\"\\\n\#u{01}é"} 0
            # HELP hnagent_relay_shadowed 1 while another tool's tc filter runs before the relay's on the hook (egress: hn TX, ingress: VF RX); if it matches, that direction is not relayed.
            # TYPE hnagent_relay_shadowed gauge
            hnagent_relay_shadowed{hook="egress",synthetic="hn0"} 1
            hnagent_relay_shadowed{hook="ingress",synthetic="hn0"} 1
            hnagent_relay_shadowed{hook="egress",synthetic="hn1\"\\\n\#u{01}é"} 0
            hnagent_relay_shadowed{hook="ingress",synthetic="hn1\"\\\n\#u{01}é"} 0
            # HELP hnagent_reconciles_total Reconcile passes since start.
            # TYPE hnagent_reconciles_total counter
            hnagent_reconciles_total 17
            # HELP hnagent_netlink_errors_total Netlink requests the kernel refused or that failed.
            # TYPE hnagent_netlink_errors_total counter
            hnagent_netlink_errors_total 1
            # HELP hnagent_vf_loss_deletes_total VF losses while steering whose egress redirect was removed by the delete prepared ahead (path prepared) or after decoding the event (path decoded).
            # TYPE hnagent_vf_loss_deletes_total counter
            hnagent_vf_loss_deletes_total{path="prepared"} 7
            hnagent_vf_loss_deletes_total{path="decoded"} 8
            # HELP hnagent_vf_loss_prepared_refused_total Prepared deletes the kernel refused (the filter was replaced since); the decoded path removed the redirect instead.
            # TYPE hnagent_vf_loss_prepared_refused_total counter
            hnagent_vf_loss_prepared_refused_total 18446744073709551615
            # HELP hnagent_resyncs_total Full resynchronisations after a lost or untrusted event.
            # TYPE hnagent_resyncs_total counter
            hnagent_resyncs_total 2
            # HELP hnagent_resync_failures_total Full resynchronisations that failed (each is retried with back-off).
            # TYPE hnagent_resync_failures_total counter
            hnagent_resync_failures_total 3
            # HELP hnagent_resync_pending 1 while a failed resynchronisation waits for its retry (the link table may be stale).
            # TYPE hnagent_resync_pending gauge
            hnagent_resync_pending 1
            # HELP hnagent_instance_lock_squatted 1 while a process that cannot be an agent holds the single-instance lock name (a second agent would not be detected).
            # TYPE hnagent_instance_lock_squatted gauge
            hnagent_instance_lock_squatted 1
            # HELP hnagent_relay_classifier 1 for the tc classifier of the relay filters the agent adds: matchall (deletes need no RTNL) or u32.
            # TYPE hnagent_relay_classifier gauge
            hnagent_relay_classifier{classifier="u32"} 1
            # HELP hnagent_metrics_listening 1 while the HTTP metrics endpoint listens; 0 while its bind is retried.
            # TYPE hnagent_metrics_listening gauge
            hnagent_metrics_listening 0
            # HELP hnagent_metrics_listen_failures_total Failed binds of the HTTP metrics endpoint since start.
            # TYPE hnagent_metrics_listen_failures_total counter
            hnagent_metrics_listen_failures_total 18446744073709551615
            # HELP hnagent_pairs Synthetic NICs the agent manages.
            # TYPE hnagent_pairs gauge
            hnagent_pairs 2
            # HELP hnagent_uptime_seconds Seconds since the agent started.
            # TYPE hnagent_uptime_seconds gauge
            hnagent_uptime_seconds 2.5

            """#
        XCTAssertEqual(MetricsExposition.render(StatusReportFixture.full()), Self.expandingStates(golden))
    }

    /// `STATES synthetic="X" in S` stands for one hnagent_pair_state line per state, in
    /// declaration order, 1 for S: a state added to PairState needs no edit here.
    private static func expandingStates(_ golden: String) -> String {
        golden.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("STATES "), let split = line.range(of: "\" in ") else { return String(line) }
            let labels = line[line.index(line.startIndex, offsetBy: 7)..<split.lowerBound] + "\""
            let current = String(line[split.upperBound...])
            return PairState.allCases.map { "hnagent_pair_state{state=\"\($0.rawValue)\",\(labels)} \($0.rawValue == current ? 1 : 0)" }
                .joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
