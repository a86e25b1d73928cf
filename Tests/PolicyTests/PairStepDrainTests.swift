@testable import Policy
import XCTest

/// `hnagent drain` in the pure step: what a drained pair plans, how its drain follows the VF,
/// and when drain-until vf-return ends it. One row per situation.
final class PairStepDrainTests: XCTestCase {
    let hn = Fixture.hn(2)
    let vf = Fixture.vf(3)
    let t0 = Fixture.at(100)
    let active = PairPhase.active(vf: 3, seenUsable: true)
    let steering: [InterfaceIndex: RelayObservation] = [
        2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 3)),
        3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2)),
    ]

    func config(_ until: DrainUntil = .undrain) -> AgentConfig {
        var config = AgentConfig(settle: .seconds(2))
        config.drainUntil = until
        return config
    }

    func links(_ list: LinkSnapshot...) -> [InterfaceIndex: LinkSnapshot] {
        Dictionary(uniqueKeysWithValues: list.map { ($0.index, $0) })
    }

    func progress(_ phase: PairPhase, steering: Bool = false, drain: Drain? = nil) -> PairProgress {
        var progress = PairProgress(synthetic: 2)
        progress.phase = phase
        progress.steering = steering
        progress.drain = drain
        return progress
    }

    func testDrainAndUndrainMarkThePairOnce() {
        let rows: [(name: String, before: PairProgress, vfLeft: Bool, reason: FallbackReason?)] = [
            ("steering: TX leaves for the operator's reason", progress(active, steering: true), false, .drained),
            ("settling: not steering, no fallback reason", progress(.settling(vf: 3, until: t0)), false, nil),
            ("no VF yet: its first VF counts as a return", progress(.waitingForVF), true, nil),
        ]
        for row in rows {
            var drained = row.before
            XCTAssertTrue(PairStep.drain(&drained), row.name)
            XCTAssertEqual(drained.drain, Drain(vfLeft: row.vfLeft), row.name)
            XCTAssertEqual(drained.lastReason, row.reason, row.name)
            var again = drained
            XCTAssertFalse(PairStep.drain(&again), "draining a drained pair changes nothing: \(row.name)")
            XCTAssertEqual(again, drained, row.name)
            XCTAssertTrue(PairStep.undrain(&again), row.name)
            XCTAssertNil(again.drain, row.name)
            XCTAssertNil(again.lastReason, "the operator's reason goes with the drain: \(row.name)")
            XCTAssertFalse(PairStep.undrain(&again), "not drained: nothing to undo")
        }
    }

    /// A drained pair plans exactly what a fallback from a usable VF would: hn's egress redirect
    /// goes first, the VF stays configured with its RX relay (so undrain needs no settle), and the
    /// urgent step deletes the redirect before anything is observed.
    func testADrainedPairPlansTheEgressDeleteAndKeepsItsVF() {
        let drained = progress(active, steering: true, drain: Drain(vfLeft: false))
        var attached = vf
        attached.addrGenMode = AddrGenMode.none // as the attach left it
        let all = links(hn, attached)
        var originals = SavedOriginals()
        var held: Set<InterfaceIndex> = [2, 3]
        let plans = PairStep.plan([drained], links: all, relay: steering, offloads: [:], mode: .transparent,
                                  multicast: [], originals: &originals, held: &held)
        XCTAssertEqual(plans, [PairPlan(synthetic: 2, actions: [.deleteRedirect(device: 2, hook: .egress)])])
        XCTAssertEqual(PairStep.urgentFallback(drained, links: all, mode: .transparent, egressAlreadyRemoved: false),
                       [.deleteRedirect(device: 2, hook: .egress)])
        let intent = PairStep.intent(of: drained, links: all, mode: .transparent)
        XCTAssertEqual(intent?.vfIngressRedirect, true)
        XCTAssertEqual(intent?.syntheticEgressRedirect, false)

        var undrained = drained
        PairStep.undrain(&undrained)
        let rxOnly: [InterfaceIndex: RelayObservation] = [2: RelayObservation(hasClsact: true), 3: steering[3]!]
        let back = PairStep.plan([undrained], links: all, relay: rxOnly, offloads: [:], mode: .transparent,
                                 multicast: [], originals: &originals, held: &held)
        XCTAssertEqual(back, [PairPlan(synthetic: 2, actions: [.addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3)])],
                       "undrained: the redirect at once, nothing else")
    }

    /// A drained pair whose VF goes away has nothing left to delete on the urgent path; an
    /// undrained one still does.
    func testTheUrgentPathSkipsADrainedPair() {
        var notSteering = progress(active, steering: false, drain: Drain(vfLeft: false))
        XCTAssertEqual(PairStep.urgentEgressDeletes(event: 3, link: nil, pairs: [notSteering]), [])
        notSteering.drain = nil
        notSteering.steering = true
        XCTAssertEqual(PairStep.urgentEgressDeletes(event: 3, link: nil, pairs: [notSteering]), [2])
    }

    func testTheDrainFollowsTheVF() {
        let settleEnd = t0.advanced(by: .seconds(2))
        let rows: [(name: String, until: DrainUntil, before: PairProgress, links: [InterfaceIndex: LinkSnapshot],
                    removed: Set<InterfaceIndex>, drain: Drain?, ended: Bool, phase: PairPhase)] = [
            ("the VF stays: drained, VF kept", .vfReturn, progress(active, drain: Drain(vfLeft: false)),
             links(hn, vf), [], Drain(vfLeft: false), false, active),
            ("the VF leaves: still drained, noted", .vfReturn, progress(active, drain: Drain(vfLeft: false)),
             links(hn), [3], Drain(vfLeft: true), false, .waitingForVF),
            ("a VF back after it left, vf-return: the drain ends, the VF settles", .vfReturn,
             progress(.waitingForVF, drain: Drain(vfLeft: true)), links(hn, vf), [], nil, true, .settling(vf: 3, until: settleEnd)),
            ("a VF back after it left, undrain: still drained, the VF settles", .undrain,
             progress(.waitingForVF, drain: Drain(vfLeft: true)), links(hn, vf), [], Drain(vfLeft: true), false,
             .settling(vf: 3, until: settleEnd)),
            ("removed and back in one batch (ifindex reuse) is a return", .vfReturn,
             progress(active, drain: Drain(vfLeft: false)), links(hn, vf), [3], nil, true, .settling(vf: 3, until: settleEnd)),
            ("the VF goes down and up: it never left", .vfReturn,
             progress(.suspended(vf: 3, reason: .vfAdminDown), drain: Drain(vfLeft: false)), links(hn, vf), [],
             Drain(vfLeft: false), false, .settling(vf: 3, until: settleEnd)),
        ]
        for row in rows {
            let step = PairStep.advance([2: row.before], links: row.links, removed: row.removed, config: config(row.until), now: t0)
            XCTAssertEqual(step.pairs[2]?.drain, row.drain, row.name)
            XCTAssertEqual(step.pairs[2]?.phase, row.phase, row.name)
            XCTAssertEqual(step.events.contains(.drainEnded(synthetic: 2, vf: 3)), row.ended, "\(row.name): \(step.events)")
        }
    }

    /// A drain a previous agent recorded: the pair starts drained when it is discovered.
    func testAPairStartsDrainedFromASavedDrain() {
        let step = PairStep.advance([:], links: links(hn, vf), removed: [], config: config(), now: t0,
                                    drains: [2: Drain(vfLeft: false), 7: Drain(vfLeft: true)])
        XCTAssertEqual(step.pairs[2]?.drain, Drain(vfLeft: false))
        let existing = PairStep.advance([2: progress(active)], links: links(hn, vf), removed: [], config: config(), now: t0,
                                        drains: [2: Drain(vfLeft: false)])
        XCTAssertNil(existing.pairs[2]?.drain, "only a pair that starts takes a saved drain")
    }

    func testStateDrainedOnceTXIsOff() {
        XCTAssertEqual(PairState(phase: active, steering: false, heldBack: false, mode: .transparent, drained: true), .drained)
        XCTAssertEqual(PairState(phase: .waitingForVF, steering: false, heldBack: true, mode: .transparent, drained: true), .drained)
        XCTAssertEqual(PairState(phase: active, steering: true, heldBack: false, mode: .transparent, drained: true), .steering,
                       "the kernel's word: still steering until the delete is read back")
    }
}
