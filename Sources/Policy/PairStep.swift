/// The policy's part of one pair, kept between reconciles: its phase, why it last left the VF
/// path, its retry after a failed change, its flap damping, and whether it steered at the last
/// observation. The engine keeps the rest (counters, notifications, switch timing) next to it.
public struct PairProgress: Hashable, Sendable {
    public let synthetic: InterfaceIndex
    public var phase: PairPhase = .waitingForVF
    /// Why the pair last left (or never reached) the VF path; logged with "fallback".
    public var lastReason: FallbackReason?
    /// After a failed change the pair stays on the synthetic path until then (then retries).
    public var retryAt: MonotonicInstant?
    /// Failed changes in a row (for the retry back-off); zero after a plan applies fully.
    public var failures = 0
    /// The synthetic NIC's MTU its VF refused last: once hn has another MTU, that is a new
    /// request and is tried at once, not after the back-off.
    public var refusedMTU: UInt32?
    public var damper: FlapDamper
    /// The synthetic NIC's egress redirect to a VF was in place at the last observation
    /// (`PairStep.observeSteering`).
    public var steering = false
    /// The event that said the VF is gone or down already took the egress redirect away
    /// (`PairStep.urgentEgressDeletes`); the reconcile that follows does not delete it again.
    public var egressRemovedUrgently = false
    /// The operator drained the pair (`hnagent drain`): it plans no egress redirect.
    public var drain: Drain?
    public var drained: Bool { drain != nil }

    public init(synthetic: InterfaceIndex, damper: FlapDamper = FlapDamper()) {
        self.synthetic = synthetic
        self.damper = damper
    }
}

/// What the pair step saw happen, in order, for the engine to log, report and act on.
public enum PairStepEvent: Hashable, Sendable {
    /// A synthetic NIC is new (its pair starts now).
    case discovered(LinkSnapshot)
    /// The synthetic NIC left or is no longer synthetic; `vf` was held if `heldVF`.
    case dissolved(synthetic: InterfaceIndex, vf: InterfaceIndex?, heldVF: Bool)
    /// The pair machine's event, its reason told apart with the link table ("VF removed" only
    /// for a VF that is gone). `before`: the phase before it. `flapHoldStarted`: this detach
    /// started a flap-damping hold. `heldBack`: a hold is running as the event happens.
    case phase(synthetic: InterfaceIndex, event: PairEvent, before: PairPhase, flapHoldStarted: Bool, heldBack: Bool)
    /// A drained pair's VF came back after it left, and drain-until is vf-return: the drain
    /// ended; the pair steers again once `vf` settles.
    case drainEnded(synthetic: InterfaceIndex, vf: InterfaceIndex)
}

/// One pure step of the pairs: from what they were, the link table and the time, to what they
/// are, plus what happened. Pairing, the phase machine, the end of a retry wait, flap damping
/// and the fallback reasons are decided here and nowhere else.
public enum PairStep {
    /// `removed`: links removed since the last step. A VF removed and created again at the same
    /// ifindex within one batch of events (ifindex reuse) is a new device: it is released and
    /// settles anew, instead of passing for the old VF set down by an operator.
    /// `drains`: a pair that starts here with its synthetic NIC in it starts drained (a drain a
    /// previous agent recorded).
    public static func advance(_ pairs: [InterfaceIndex: PairProgress], links: [InterfaceIndex: LinkSnapshot],
                               removed: Set<InterfaceIndex>, config: AgentConfig, now: MonotonicInstant,
                               drains: [InterfaceIndex: Drain] = [:]) -> (pairs: [InterfaceIndex: PairProgress], pairing: PairingResult,
                                                          events: [PairStepEvent]) {
        let current = pairs.compactMapValues { $0.phase.vf }
        let result = Pairing.pair(Array(links.values), config: config, current: current)
        var next: [InterfaceIndex: PairProgress] = [:]
        var events: [PairStepEvent] = []

        let present = Set(result.pairs.map(\.synthetic.index))
        for (index, progress) in pairs.sorted(by: { $0.key < $1.key }) where !present.contains(index) {
            events.append(.dissolved(synthetic: index, vf: progress.phase.vf, heldVF: progress.phase.holdsVF))
        }
        for candidate in result.pairs {
            let hn = candidate.synthetic
            var progress = pairs[hn.index] ?? {
                events.append(.discovered(hn))
                var fresh = PairProgress(synthetic: hn.index, damper: damper(config))
                fresh.drain = drains[hn.index]
                return fresh
            }()
            if let retryAt = progress.retryAt, now >= retryAt { progress.retryAt = nil }
            if let refused = progress.refusedMTU, hn.mtu != refused {
                progress.retryAt = nil
                progress.refusedMTU = nil
            }
            func step(vf: LinkSnapshot?, heldUntil: MonotonicInstant?) {
                let (phase, happened) = PairMachine.advance(progress.phase, synthetic: hn, vf: vf, now: now,
                                                            settle: config.settle, heldUntil: heldUntil)
                for event in happened {
                    events.append(note(refined(event, links: links, removed: removed), on: &progress, now: now))
                }
                progress.phase = phase
                if followDrain(&progress, happened: happened, until: config.drainUntil), let back = phase.vf {
                    events.append(.drainEnded(synthetic: hn.index, vf: back))
                }
            }
            if let held = progress.phase.vf, removed.contains(held) {
                // The held VF left; whatever has its ifindex now is another device.
                step(vf: nil, heldUntil: nil)
            }
            step(vf: candidate.vf, heldUntil: progress.damper.holdUntil(now: now))
            next[hn.index] = progress
        }
        return (next, result, events)
    }

    public static func damper(_ config: AgentConfig) -> FlapDamper {
        FlapDamper(threshold: config.flapThreshold, window: config.flapWindow, hold: config.flapHold)
    }

    /// The machine only sees that the VF left the candidates; the link table knows whether it is
    /// gone or merely no longer eligible (enslaved, renamed, MAC changed).
    static func refined(_ event: PairEvent, links: [InterfaceIndex: LinkSnapshot], removed: Set<InterfaceIndex>) -> PairEvent {
        func refined(_ reason: FallbackReason, _ vf: InterfaceIndex) -> FallbackReason {
            reason == .vfRemoved && links[vf] != nil && !removed.contains(vf) ? .vfNoLongerEligible : reason
        }
        switch event {
        case .settleCancelled(let vf, let reason): return .settleCancelled(vf: vf, reason: refined(reason, vf))
        case .released(let vf, let reason): return .released(vf: vf, reason: refined(reason, vf))
        default: return event
        }
    }

    /// What an event does to the pair's own record: the reason it left the VF path, and a
    /// detach counted for flap damping (from fallback it was counted when it went unusable).
    static func note(_ event: PairEvent, on progress: inout PairProgress, now: MonotonicInstant) -> PairStepEvent {
        let before = progress.phase
        var holdStarted = false
        switch event {
        case .suspended(_, let reason):
            holdStarted = progress.damper.noteDetach(at: now)
            progress.lastReason = reason
        case .released(_, let reason):
            if case .active = before { holdStarted = progress.damper.noteDetach(at: now) }
            progress.lastReason = reason
        case .settled:
            progress.lastReason = nil
        case .settleStarted, .settleCancelled:
            break
        }
        return .phase(synthetic: progress.synthetic, event: event, before: before, flapHoldStarted: holdStarted,
                      heldBack: progress.damper.holdUntil(now: now) != nil)
    }
}
