@testable import Policy
import XCTest

/// Counter banking without a kernel: what vanished filters counted stays in the totals, and
/// what they relayed after their last reading is recovered from the VF's final link counters.
final class RelayBankTests: XCTestCase {
    static func rx(_ packets: UInt64) -> TrafficCounters {
        TrafficCounters(received: RelayCounters(packets: packets, bytes: packets * 100), sent: RelayCounters())
    }

    /// A bank that has seen 100 packets through vf 3's ingress filter, and learned that the VF
    /// carried 10 besides the relay (its link counters: 110, headers included).
    func steadyBank() -> RelayBank {
        var bank = RelayBank()
        bank.account(live: Self.rx(100), present: (true, false), now: Fixture.at(1)) { _ in VFCounters(counters: nil, final: false) }
        bank.learnOffsets(vf: 3, counters: TrafficCounters(rxPackets: 110, rxBytes: 110 * 114), ingress: true, egress: false)
        return bank
    }

    func testWhatTheRelayMovedSurvivesItsFilter() {
        // `at`: when the filter is seen gone; the last row looks again after the recovery window.
        let rows: [(name: String, removedByAgent: Bool, vf: VFCounters, at: Double, retired: UInt64, recovered: UInt64, pending: Bool)] = [
            ("the VF left with 5 more relayed packets", false,
             VFCounters(counters: TrafficCounters(rxPackets: 115, rxBytes: 115 * 114), final: true), 2, 105, 5, false),
            ("the agent removed the filter after reading it: nothing to recover", true,
             VFCounters(counters: TrafficCounters(rxPackets: 115, rxBytes: 115 * 114), final: true), 2, 100, 0, false),
            ("the VF is still up: wait for its final counters", false,
             VFCounters(counters: TrafficCounters(rxPackets: 115, rxBytes: 115 * 114), final: false), 1.5, 100, 0, true),
            ("never final within the window: given up, nothing guessed", false,
             VFCounters(counters: TrafficCounters(rxPackets: 115, rxBytes: 115 * 114), final: false), 1.5, 100, 0, false),
        ]
        for row in rows {
            var bank = steadyBank()
            bank.ledger.ingressRemovedByAgent = row.removedByAgent
            bank.account(live: TrafficCounters(), present: (false, false), now: Fixture.at(row.at)) { index in
                XCTAssertEqual(index, 3, row.name)
                return row.vf
            }
            if row.name.hasPrefix("never final") {
                bank.account(live: TrafficCounters(), present: (false, false), now: Fixture.at(row.at + 1.1)) { _ in row.vf }
            }
            XCTAssertEqual(bank.retired.received.packets, row.retired, row.name)
            XCTAssertEqual(bank.recovered.received.packets, row.recovered, row.name)
            XCTAssertEqual(bank.totals.received.packets, row.retired, row.name)
            XCTAssertEqual(bank.ledger.pendingRX != nil, row.pending, row.name)
            XCTAssertNil(bank.ledger.rxOffset, "the offset went with its filter: \(row.name)")
        }
    }

    func testCountsThatGoOnAreNotBanked() {
        var bank = steadyBank()
        bank.account(live: Self.rx(150), present: (true, false), now: Fixture.at(2)) { _ in VFCounters(counters: nil, final: false) }
        XCTAssertEqual(bank.retired, TrafficCounters())
        XCTAssertEqual(bank.totals.received.packets, 150)
        XCTAssertEqual(bank.ledger.rxOffset, RelayCounters(packets: 10, bytes: 110 * 114 - 110 * 14 - 100 * 100))
    }
}
