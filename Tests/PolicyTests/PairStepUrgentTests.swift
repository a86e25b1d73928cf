@testable import Policy
import XCTest

/// The urgent path's decision: which pairs lose their egress redirect on one link event, before
/// anything else happens. One row per situation.
final class PairStepUrgentTests: XCTestCase {
    func pair(_ synthetic: InterfaceIndex, vf: InterfaceIndex?, steering: Bool = true,
              removedAlready: Bool = false) -> PairProgress {
        var progress = PairProgress(synthetic: synthetic)
        progress.phase = vf.map { .active(vf: $0, seenUsable: true) } ?? .waitingForVF
        progress.steering = steering
        progress.egressRemovedUrgently = removedAlready
        return progress
    }

    func testUrgentEgressDeletesTable() {
        let down = Fixture.vf(3, flags: [.broadcast, .multicast])
        let noCarrier = Fixture.vf(3, flags: [.up, .broadcast, .multicast])
        let usable = Fixture.vf(3)
        let rows: [(name: String, event: InterfaceIndex, link: LinkSnapshot?, pairs: [PairProgress], deletes: [InterfaceIndex])] = [
            ("the steered VF is removed", 3, nil, [pair(2, vf: 3)], [2]),
            ("the steered VF is set down", 3, down, [pair(2, vf: 3)], [2]),
            ("the steered VF lost carrier", 3, noCarrier, [pair(2, vf: 3)], [2]),
            ("the steered VF is up with carrier: nothing", 3, usable, [pair(2, vf: 3)], []),
            ("another link is removed: nothing", 7, nil, [pair(2, vf: 3)], []),
            ("the pair holds the VF but does not steer: nothing to delete", 3, nil, [pair(2, vf: 3, steering: false)], []),
            ("an earlier event already deleted it: not again", 3, nil, [pair(2, vf: 3, removedAlready: true)], []),
            ("a pair without a VF: nothing", 3, nil, [pair(2, vf: nil)], []),
            ("only the pair steering through that VF", 3, nil, [pair(2, vf: 3), pair(4, vf: 5)], [2]),
            ("the synthetic NIC itself removed: not the urgent path's", 2, nil, [pair(2, vf: 3)], []),
        ]
        for row in rows {
            XCTAssertEqual(PairStep.urgentEgressDeletes(event: row.event, link: row.link, pairs: row.pairs), row.deletes, row.name)
        }
    }

    /// The pairs the fast path prepares a delete for are those the decoded step would pick.
    func testPreparedDeleteTargetsTable() {
        let rows: [(name: String, pairs: [PairProgress], targets: [InterfaceIndex: InterfaceIndex])] = [
            ("a steering pair: its VF", [pair(2, vf: 3)], [3: 2]),
            ("not steering: none", [pair(2, vf: 3, steering: false)], [:]),
            ("already removed by an earlier event: none", [pair(2, vf: 3, removedAlready: true)], [:]),
            ("no VF: none", [pair(2, vf: nil)], [:]),
            ("each steering pair by its own VF", [pair(2, vf: 3), pair(4, vf: 5), pair(6, vf: 7, steering: false)], [3: 2, 5: 4]),
        ]
        for row in rows {
            XCTAssertEqual(PairStep.preparedDeleteTargets(row.pairs), row.targets, row.name)
            // Agreement with the decoded step on the removal of each VF.
            for (vf, hn) in row.targets {
                XCTAssertEqual(PairStep.urgentEgressDeletes(event: vf, link: nil, pairs: row.pairs), [hn], row.name)
            }
        }
    }
}
