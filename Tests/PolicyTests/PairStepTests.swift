@testable import Policy
import XCTest

/// The pure reconcile step, one row per situation: pairs, links and time in; pairs, events and
/// plans out. No kernel, no clock, no log.
final class PairStepTests: XCTestCase {
    let hn = Fixture.hn(2)
    let vf = Fixture.vf(3)
    let t0 = Fixture.at(100)

    func config(flapThreshold: Int = 0) -> AgentConfig {
        var config = AgentConfig(settle: .seconds(2))
        config.flapThreshold = flapThreshold
        config.flapWindow = .seconds(60)
        config.flapHold = .seconds(30)
        return config
    }

    func links(_ list: LinkSnapshot...) -> [InterfaceIndex: LinkSnapshot] {
        Dictionary(uniqueKeysWithValues: list.map { ($0.index, $0) })
    }

    func progress(_ phase: PairPhase, config: AgentConfig? = nil) -> [InterfaceIndex: PairProgress] {
        var progress = PairProgress(synthetic: 2, damper: PairStep.damper(config ?? self.config()))
        progress.phase = phase
        return [2: progress]
    }

    /// The events without the bookkeeping fields, for rows that only care what happened.
    func happened(_ events: [PairStepEvent]) -> [String] {
        events.map {
            switch $0 {
            case .discovered(let link): return "discovered \(link.index)"
            case .dissolved(let index, let vf, let held): return "dissolved \(index) vf \(vf.map { "\($0)" } ?? "-") held \(held)"
            case .phase(_, let event, _, _, _): return "\(event)"
            case .drainEnded(let index, let vf): return "drain ended \(index) vf \(vf)"
            }
        }
    }

    func testAdvanceTable() {
        var gone = vf
        gone.mac = Fixture.otherMAC
        let active = PairPhase.active(vf: 3, seenUsable: true)
        let rows: [(name: String, before: [InterfaceIndex: PairProgress], links: [InterfaceIndex: LinkSnapshot],
                    removed: Set<InterfaceIndex>, phase: PairPhase?, events: [String])] = [
            ("a new synthetic NIC and its VF: discovered, settling", [:], links(hn, vf), [],
             .settling(vf: 3, until: t0.advanced(by: .seconds(2))),
             ["discovered 2", "settleStarted(vf: 3, until: \(t0.advanced(by: .seconds(2))))"]),
            ("the VF is removed", progress(active), links(hn), [3], .waitingForVF,
             ["released(vf: 3, reason: VF removed)"]),
            ("the VF is still there but no longer a candidate: not \"removed\"", progress(active), links(hn, gone), [],
             .waitingForVF, ["released(vf: 3, reason: VF no longer a candidate (MAC, name or master changed))"]),
            ("ifindex reuse: removed and back in one batch is a new device", progress(active), links(hn, vf), [3],
             .settling(vf: 3, until: t0.advanced(by: .seconds(2))),
             ["released(vf: 3, reason: VF removed)", "settleStarted(vf: 3, until: \(t0.advanced(by: .seconds(2))))"]),
            ("the synthetic NIC left: dissolved, its VF was held", progress(active), links(vf), [3], nil,
             ["dissolved 2 vf 3 held true"]),
        ]
        for row in rows {
            let step = PairStep.advance(row.before, links: row.links, removed: row.removed, config: config(), now: t0)
            XCTAssertEqual(step.pairs[2]?.phase, row.phase, row.name)
            XCTAssertEqual(happened(step.events), row.events, row.name)
            if case .released(_, let reason)? = step.events.compactMap({ event -> PairEvent? in
                if case .phase(_, let e, _, _, _) = event { return e }
                return nil
            }).first {
                XCTAssertEqual(step.pairs[2]?.lastReason, reason, "the reason is kept for the fallback line: \(row.name)")
            }
        }
    }

    /// The second detach within the window holds the pair: the release says so, and the next
    /// settle lasts until the hold ends.
    func testFlapDampingHoldsThePair() {
        let config = config(flapThreshold: 2)
        var pairs = progress(.active(vf: 3, seenUsable: true), config: config)
        var holds: [Bool] = []
        for cycle in 0..<2 {
            let at = t0.advanced(by: .seconds(cycle * 10))
            let left = PairStep.advance(pairs, links: links(hn), removed: [3], config: config, now: at)
            for case .phase(_, .released, _, let started, _) in left.events { holds.append(started) }
            pairs = left.pairs
            pairs[2]?.phase = .active(vf: 3, seenUsable: true)
        }
        XCTAssertEqual(holds, [false, true])
        pairs[2]?.phase = .waitingForVF
        let back = PairStep.advance(pairs, links: links(hn, vf), removed: [], config: config, now: t0.advanced(by: .seconds(11)))
        XCTAssertEqual(back.pairs[2]?.phase, .settling(vf: 3, until: t0.advanced(by: .seconds(40))), "settles until the hold ends")
        guard case .phase(_, .settleStarted, _, _, let heldBack)? = back.events.first else { return XCTFail("\(back.events)") }
        XCTAssertTrue(heldBack)
    }

    func testRetryEndsAtItsTimeOrWhenTheRefusedMTUChanges() {
        let rows: [(name: String, retryAt: Double, refusedMTU: UInt32?, hnMTU: UInt32, retrying: Bool)] = [
            ("before the retry time", 101, nil, 1500, true),
            ("at the retry time", 100, nil, 1500, false),
            ("the same MTU refused again waits", 101, 1500, 1500, true),
            ("another MTU on the synthetic NIC is tried at once", 101, 9000, 1500, false),
        ]
        for row in rows {
            var pairs = progress(.active(vf: 3, seenUsable: true))
            pairs[2]?.retryAt = Fixture.at(row.retryAt)
            pairs[2]?.refusedMTU = row.refusedMTU
            var synthetic = hn
            synthetic.mtu = row.hnMTU
            let step = PairStep.advance(pairs, links: links(synthetic, vf), removed: [], config: config(), now: t0)
            XCTAssertEqual(step.pairs[2]?.retryAt != nil, row.retrying, row.name)
        }
    }

    func testBackOffDoublesAndARefusedMTUIsRemembered() {
        var progress = PairProgress(synthetic: 2)
        let waits = (0..<7).map { _ in progress.noteFailure(of: .setFlag(device: 3, flag: .promiscuous, on: true), now: t0) }
        XCTAssertEqual(waits, [1, 2, 4, 8, 16, 30, 30].map { Duration.seconds($0) })
        XCTAssertEqual(progress.retryAt, t0.advanced(by: .seconds(30)))
        XCTAssertFalse(progress.noteSuccess(), "still waiting for the retry")
        _ = progress.noteFailure(of: .setMTU(device: 3, mtu: 9000), now: t0)
        XCTAssertEqual(progress.refusedMTU, 9000)
        progress.retryAt = nil
        XCTAssertTrue(progress.noteSuccess())
        XCTAssertEqual(progress.failures, 0)
        XCTAssertFalse(progress.noteSuccess(), "said once")
    }

    /// While a retry is pending only steps back to the synthetic path are planned; what no
    /// pair holds is released, then forgotten once given back.
    func testPlanHoldsBackAndReleasesThenForgets() {
        var pairs = progress(.active(vf: 3, seenUsable: true))
        pairs[2]?.retryAt = Fixture.at(101)
        let steering: [InterfaceIndex: RelayObservation] = [
            2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 3)),
            3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2)),
        ]
        var stray = Fixture.vf(7, "old0", mac: Fixture.otherMAC)
        stray.mtu = 1500
        var originals = SavedOriginals()
        originals[7, .mtu] = .mtu(1500)
        originals[9, .mtu] = .mtu(1400)
        var held: Set<InterfaceIndex> = [2, 3, 7]
        var all = links(hn, vf, stray)
        all[9] = { var l = Fixture.vf(9, "other0", mac: Fixture.otherMAC); l.mtu = 1500; return l }()
        let plans = PairStep.plan(Array(pairs.values), links: all, relay: steering, offloads: [:], mode: .transparent,
                                  multicast: [], originals: &originals, held: &held)
        XCTAssertEqual(plans, [
            PairPlan(synthetic: 2, actions: [.deleteRedirect(device: 2, hook: .egress), .deleteRedirect(device: 3, hook: .ingress)]),
            PairPlan(synthetic: nil, actions: [.setMTU(device: 9, mtu: 1400)]),
        ])
        XCTAssertFalse(originals.holds(7), "given back already: forgotten")
        XCTAssertFalse(held.contains(7))
        XCTAssertTrue(originals.holds(9), "kept until the restore is seen")
    }

    func testUrgentFallbackSkipsADeleteTheEventDidAlready() {
        var down = vf
        down.flags.remove(.lowerUp)
        let pairs = progress(.active(vf: 3, seenUsable: true))
        let all = links(hn, down)
        XCTAssertEqual(PairStep.urgentFallback(pairs[2]!, links: all, mode: .transparent, egressAlreadyRemoved: false).first,
                       .deleteRedirect(device: 2, hook: .egress))
        XCTAssertFalse(PairStep.urgentFallback(pairs[2]!, links: all, mode: .transparent, egressAlreadyRemoved: true)
            .contains(.deleteRedirect(device: 2, hook: .egress)))
        XCTAssertEqual(PairStep.urgentFallback(pairs[2]!, links: links(hn, vf), mode: .transparent, egressAlreadyRemoved: false), [],
                       "a usable VF keeps its redirect")
    }
}
