/// The actions of one pair in order (or, with no synthetic NIC, of devices no pair holds).
public struct PairPlan: Hashable, Sendable {
    public var synthetic: InterfaceIndex?
    public var actions: [Action]

    public init(synthetic: InterfaceIndex?, actions: [Action]) {
        self.synthetic = synthetic
        self.actions = actions
    }
}

extension PairStep {
    /// How long a pair stays on the synthetic path after a failed change (FreeBSD: 1 s), doubled
    /// for each failure in a row.
    public static let retryBackoff = RetryBackoff(initial: .seconds(1), maximum: .seconds(30))

    /// What the pair wants of the kernel now. `honouringRetry`: a pair waiting for its retry
    /// wants no redirect (the urgent fallback judges the relay alone, so it passes false).
    ///
    /// Computed once per pair per pass (`plan`), and once more before the first pass for a
    /// steering pair (`urgentFallback`), never kept between them: each pass's actions and
    /// observation re-read the NICs' links (a VF set up, its MTU set, counters refreshed), and
    /// the next pass must want what those links allow now. An intent kept from the first pass
    /// never adds the egress redirect once that pass brought the VF up (ReconcilerTests'
    /// attach tests fail with it).
    public static func intent(of progress: PairProgress, links: [InterfaceIndex: LinkSnapshot], mode: SteeringMode,
                              multicastMemberships: Bool = false, honouringRetry: Bool = true) -> PairIntent? {
        guard let hn = links[progress.synthetic] else { return nil }
        var intent = PairIntent.compute(phase: progress.phase, synthetic: hn, vf: progress.phase.vf.flatMap { links[$0] },
                                        mode: mode, multicastMemberships: multicastMemberships)
        if progress.drained {
            // The operator holds TX on the synthetic NIC; the VF stays held, its RX relay too.
            intent.syntheticEgressRedirect = false
        }
        if honouringRetry, progress.retryAt != nil {
            // Held on the synthetic path after a failure: only removals until the retry time.
            intent.syntheticEgressRedirect = false
            intent.vfIngressRedirect = false
        }
        return intent
    }

    /// Before anything is observed: a pair that was steering and no longer may loses its egress
    /// redirect now. `egressAlreadyRemoved`: the event itself took it away already; only what
    /// follows the delete is left to do.
    public static func urgentFallback(_ progress: PairProgress, links: [InterfaceIndex: LinkSnapshot], mode: SteeringMode,
                                      egressAlreadyRemoved: Bool) -> [Action] {
        guard let intent = intent(of: progress, links: links, mode: mode, honouringRetry: false) else { return [] }
        var actions = RelayPlanner.urgentFallback(intent, links: links)
        if egressAlreadyRemoved {
            actions.removeAll { $0 == .deleteRedirect(device: progress.synthetic, hook: .egress) }
        }
        return actions
    }

    /// Every pair's plan against what was observed, then the release of whatever the agent still
    /// holds outside any pair. What is fully given back is forgotten (release-then-forget), so a
    /// later change by someone else is not "restored": from `originals`, and from `held` (the
    /// devices with the agent's filters or clsact).
    public static func plan(_ pairs: [PairProgress], links: [InterfaceIndex: LinkSnapshot],
                            relay observed: [InterfaceIndex: RelayObservation], offloads: [InterfaceIndex: OffloadFeatures],
                            mode: SteeringMode, multicast: Set<InterfaceIndex>,
                            originals: inout SavedOriginals, held: inout Set<InterfaceIndex>) -> [PairPlan] {
        var plans: [PairPlan] = []
        var engaged: Set<InterfaceIndex> = []
        for progress in pairs.sorted(by: { $0.synthetic < $1.synthetic }) {
            let hn = progress.synthetic
            guard let intent = intent(of: progress, links: links, mode: mode,
                                      multicastMemberships: multicast.contains(hn)) else { continue }
            engaged.insert(hn)
            // A settling VF is engaged too: after a fallback it settles again, and what the agent
            // changed on it (quiet, admin state) must not be undone in between.
            if let vf = progress.phase.vf { engaged.insert(vf) }
            var actions = RelayPlanner.plan(intent, links: links, relay: observed, originals: originals, offloads: offloads)
            if progress.retryAt != nil {
                // Until the retry time nothing is tried again; only steps back to the synthetic path.
                actions = actions.filter { action in
                    switch action {
                    case .deleteRedirect, .setOperState: return true
                    default: return false
                    }
                }
            }
            if intent.vf == nil, actions.isEmpty, originals.holds(hn), progress.retryAt == nil {
                // No VF and everything given back. Its clsact stays the agent's, to be removed when the pair ends.
                originals.forget(hn, keepingClsact: true)
                if !originals.holds(hn) { held.remove(hn) }
            }
            plans.append(PairPlan(synthetic: hn, actions: actions))
        }
        var releases: [Action] = []
        for device in originals.devices.union(held).subtracting(engaged).sorted() {
            let actions = RelayPlanner.release(device, links: links, relay: observed, originals: originals,
                                               offloads: offloads)
            if actions.isEmpty {
                originals.forget(device)
                held.remove(device)
            }
            releases += actions
        }
        // After the pairs' plans: those remove every synthetic NIC's egress redirect to a VF
        // that left its pair before the VF itself is touched.
        if !releases.isEmpty { plans.append(PairPlan(synthetic: nil, actions: releases)) }
        return plans
    }
}

extension PairProgress {
    /// A change failed: the pair stays on the synthetic path for the back-off, doubled for each
    /// failure in a row. A refused MTU is remembered: another MTU is retried at once. Returns the wait.
    public mutating func noteFailure(of action: Action, now: MonotonicInstant,
                                     backoff: RetryBackoff = PairStep.retryBackoff) -> Duration {
        failures += 1
        let wait = backoff.delay(afterFailures: failures)
        retryAt = now.advanced(by: wait)
        refusedMTU = nil
        if case .setMTU(_, let mtu) = action { refusedMTU = mtu }
        return wait
    }

    /// A plan applied fully. True when that ends a run of failures.
    public mutating func noteSuccess() -> Bool {
        guard failures > 0, retryAt == nil else { return false }
        failures = 0
        return true
    }
}

extension FallbackReason {
    /// Why a held VF cannot carry traffic, judged from the links now (nil VF: it is gone).
    public static func judged(synthetic hn: LinkSnapshot, vf: LinkSnapshot?) -> FallbackReason {
        guard let vf else { return .vfRemoved }
        switch VFUsability.assess(synthetic: hn, vf: vf) {
        case .syntheticDown: return .syntheticDown
        case .vfAdminDown: return .vfAdminDown
        case .vfNoCarrier: return .vfNoCarrier
        case .usable: return .vfNoLongerEligible
        }
    }
}
