@testable import Policy
import XCTest

/// What a failed change and the agent's stop decide about a pair. One row per situation.
final class PairStepFailureTests: XCTestCase {
    func testStepBackAfterAFailedChangeTable() {
        let hnEgress = Action.deleteRedirect(device: 2, hook: .egress)
        let rows: [(name: String, failed: Action, synthetic: InterfaceIndex?, stepBack: Action?)] = [
            ("adding the VF's ingress redirect failed: TX leaves the VF", .addRedirect(device: 3, hook: .ingress, kind: .toIngress, target: 2), 2, hnEgress),
            ("the VF refused hn's MTU", .setMTU(device: 3, mtu: 9000), 2, hnEgress),
            ("setting the VF up failed", .setAdminState(device: 3, up: true), 2, hnEgress),
            ("adding clsact failed", .addClsact(device: 2), 2, hnEgress),
            ("a restore of the synthetic NIC failed", .setLinkMode(device: 2, mode: .default), 2, hnEgress),
            ("adding the egress redirect itself failed: nothing to undo", .addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3), 2, nil),
            ("a release no pair owns failed: no synthetic NIC to step back", .setMTU(device: 3, mtu: 1500), nil, nil),
        ]
        for row in rows {
            XCTAssertEqual(PairStep.stepBack(after: row.failed, synthetic: row.synthetic), row.stepBack, row.name)
        }
    }

    func testStoppingIsTheReasonWhateverCameBefore() {
        let rows: [(name: String, phase: PairPhase, before: FallbackReason?)] = [
            ("steering", .active(vf: 3, seenUsable: true), nil),
            ("settling", .settling(vf: 3, until: Fixture.at(5)), nil),
            ("already fallen back for the VF", .waitingForVF, .vfRemoved),
            ("fallen back for carrier", .waitingForVF, .vfNoCarrier),
        ]
        for row in rows {
            var progress = PairProgress(synthetic: 2)
            progress.phase = row.phase
            progress.lastReason = row.before
            progress.noteStopping()
            XCTAssertEqual(progress.lastReason, .agentStopping, row.name)
            XCTAssertEqual(progress.phase, row.phase, "the phase is the restore's, not the reason's: \(row.name)")
        }
    }
}
