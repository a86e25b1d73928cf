/// The pair's own relay filters as the kernel has them now: steering is judged from these,
/// not from the phase.
public struct PairRelay: Hashable, Sendable {
    /// The synthetic NIC's egress redirect out of a VF (whichever): TX leaves through it.
    public var egress: RelayFilter?
    /// The ingress redirect to the synthetic NIC on the VF of `egress` (else on the held VF).
    public var ingress: RelayFilter?
    /// The VF the relay's counters come through (nil: no filter of the pair is in place).
    public var vf: InterfaceIndex?

    public init(egress: RelayFilter? = nil, ingress: RelayFilter? = nil, vf: InterfaceIndex? = nil) {
        self.egress = egress
        self.ingress = ingress
        self.vf = vf
    }

    public var steering: Bool { egress != nil }

    /// What the filters in place counted.
    public var live: TrafficCounters {
        TrafficCounters(received: ingress?.counters ?? RelayCounters(), sent: egress?.counters ?? RelayCounters())
    }
}

/// The pair started or stopped steering since the last observation.
public enum SteeringSwitch: Hashable, Sendable {
    /// TX leaves through `vf` now.
    case on(vf: InterfaceIndex)
    /// TX is back on the synthetic path, for `reason`.
    case off(reason: FallbackReason)
}

extension PairStep {
    /// The pair's filters in what was observed.
    public static func relay(of progress: PairProgress, observed: [InterfaceIndex: RelayObservation]) -> PairRelay {
        let hn = progress.synthetic
        let egress = observed[hn]?.egress.flatMap { $0.kind == .toEgress ? $0 : nil }
        let through = egress?.target ?? progress.phase.vf
        let ingress = through.flatMap { observed[$0]?.ingress }.flatMap { $0.target == hn ? $0 : nil }
        return PairRelay(egress: egress, ingress: ingress, vf: egress?.target ?? (ingress != nil ? progress.phase.vf : nil))
    }

    /// Notes whether the pair steers now; returns the switch when that changed. The reason of a
    /// fallback is the one the pair left the VF path for, else judged from the links now. A pair
    /// whose synthetic NIC is not in the table is left as it was (it dissolves at the next step).
    public static func observeSteering(_ progress: inout PairProgress, relay: PairRelay,
                                       links: [InterfaceIndex: LinkSnapshot]) -> SteeringSwitch? {
        guard relay.steering != progress.steering, let hn = links[progress.synthetic] else { return nil }
        progress.steering = relay.steering
        if let egress = relay.egress { return .on(vf: egress.target) }
        return .off(reason: progress.lastReason ?? FallbackReason.judged(synthetic: hn, vf: progress.phase.vf.flatMap { links[$0] }))
    }
}
