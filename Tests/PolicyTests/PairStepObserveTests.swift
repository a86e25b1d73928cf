@testable import Policy
import XCTest

/// Steering judged from the kernel's filters, one row per situation: the pair's progress and
/// what was observed in; whether it steers, and the switch, out.
final class PairStepObserveTests: XCTestCase {
    let hn = Fixture.hn(2)
    let vf = Fixture.vf(3)
    let active = PairPhase.active(vf: 3, seenUsable: true)

    func progress(_ phase: PairPhase, steering: Bool, lastReason: FallbackReason? = nil) -> PairProgress {
        var progress = PairProgress(synthetic: 2)
        progress.phase = phase
        progress.steering = steering
        progress.lastReason = lastReason
        return progress
    }

    func links(_ list: LinkSnapshot...) -> [InterfaceIndex: LinkSnapshot] {
        Dictionary(uniqueKeysWithValues: list.map { ($0.index, $0) })
    }

    let egress = RelayFilter(kind: .toEgress, target: 3, counters: RelayCounters(packets: 5, bytes: 500))
    let ingress = RelayFilter(kind: .toIngress, target: 2, counters: RelayCounters(packets: 7, bytes: 700))

    func testRelayOfThePair() {
        let elsewhere = RelayFilter(kind: .toIngress, target: 9)
        let rows: [(name: String, phase: PairPhase, observed: [InterfaceIndex: RelayObservation], relay: PairRelay)] = [
            ("both halves", active, [2: RelayObservation(hasClsact: true, egress: egress), 3: RelayObservation(hasClsact: true, ingress: ingress)],
             PairRelay(egress: egress, ingress: ingress, vf: 3)),
            ("RX half only, on the held VF", active, [3: RelayObservation(hasClsact: true, ingress: ingress)],
             PairRelay(ingress: ingress, vf: 3)),
            ("an ingress filter to another device is not the pair's", active, [3: RelayObservation(hasClsact: true, ingress: elsewhere)],
             PairRelay()),
            ("an ingress redirect on the synthetic NIC's egress is not steering", active,
             [2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toIngress, target: 3))], PairRelay()),
            ("egress through another VF than the held one: that VF's ingress counts", .waitingForVF,
             [2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 4)),
              4: RelayObservation(hasClsact: true, ingress: ingress)],
             PairRelay(egress: RelayFilter(kind: .toEgress, target: 4), ingress: ingress, vf: 4)),
            ("nothing observed", active, [:], PairRelay()),
        ]
        for row in rows {
            XCTAssertEqual(PairStep.relay(of: progress(row.phase, steering: false), observed: row.observed), row.relay, row.name)
        }
        XCTAssertEqual(PairRelay(egress: egress, ingress: ingress, vf: 3).live,
                       TrafficCounters(rxPackets: 7, txPackets: 5, rxBytes: 700, txBytes: 500))
    }

    func testObserveSteeringTable() {
        var down = vf
        down.flags.remove(.lowerUp)
        let rows: [(name: String, before: PairProgress, relay: PairRelay, links: [InterfaceIndex: LinkSnapshot],
                    change: SteeringSwitch?, steering: Bool)] = [
            ("the egress redirect appeared: steering on", progress(active, steering: false), PairRelay(egress: egress, vf: 3),
             links(hn, vf), .on(vf: 3), true),
            ("still steering: no switch", progress(active, steering: true), PairRelay(egress: egress, vf: 3),
             links(hn, vf), nil, true),
            ("still on the synthetic path: no switch", progress(.waitingForVF, steering: false), PairRelay(),
             links(hn), nil, false),
            ("gone with a reason from the step: that reason", progress(.waitingForVF, steering: true, lastReason: .vfRemoved),
             PairRelay(), links(hn), .off(reason: .vfRemoved), false),
            ("gone with no reason, VF without carrier: judged", progress(active, steering: true), PairRelay(),
             links(hn, down), .off(reason: .vfNoCarrier), false),
            ("gone with no reason, VF not in the table: removed", progress(active, steering: true), PairRelay(),
             links(hn), .off(reason: .vfRemoved), false),
            ("gone with no reason, VF usable: no longer a candidate", progress(active, steering: true), PairRelay(),
             links(hn, vf), .off(reason: .vfNoLongerEligible), false),
            ("synthetic NIC not in the table: left as it was", progress(active, steering: true), PairRelay(),
             links(vf), nil, true),
        ]
        for row in rows {
            var progress = row.before
            XCTAssertEqual(PairStep.observeSteering(&progress, relay: row.relay, links: row.links), row.change, row.name)
            XCTAssertEqual(progress.steering, row.steering, row.name)
        }
    }
}
