import Policy

/// One pair as the reconciler holds it, read-only, for status, metrics and the hygiene check.
public struct PairSnapshot: Sendable {
    public var synthetic: NamedInterface
    public var syntheticLink: LinkSnapshot?
    public var vf: NamedInterface?
    public var vfLink: LinkSnapshot?
    public var phase: PairPhase
    /// The synthetic NIC's egress redirect to a VF was in place at the last observation.
    public var steering: Bool
    /// Held on the synthetic path after a failed change until then.
    public var retryAt: MonotonicInstant?
    public var lastReason: FallbackReason?
    /// Everything the relay moved for this pair since the agent started (filters present and gone).
    public var relay: TrafficCounters
    /// The part of `relay` estimated from the VF's link counters when the VF left with its filter.
    public var recovered: TrafficCounters
    /// Non-transparent mode: the VF's own traffic while paired (the stack uses it directly).
    public var vfTraffic: TrafficCounters?
    /// Multicast groups beyond the defaults that keep the VF in allmulti.
    public var memberships: [MACAddress]
    /// Flap damping holds the pair on the synthetic path until then.
    public var dampedUntil: MonotonicInstant? = nil
    /// Membership changes not applied to the VF's allmulti on their own (coalesced).
    public var multicastChangesCoalesced: UInt64 = 0
    /// The operator drained the pair (`hnagent drain`).
    public var drained = false
    /// Other tools' filters that run before the relay's on hn's egress or the VF's ingress.
    public var shadows: [RelayShadow] = []
}

/// The reconciler's view at one moment: pairs, the links they involve, and what the agent
/// changed (to restore it later).
public struct ReconcilerSnapshot: Sendable {
    public var pairs: [PairSnapshot]
    public var links: [InterfaceIndex: LinkSnapshot]
    public var originals: SavedOriginals
    /// Reconcile passes since start.
    public var reconciles: UInt64
    /// A failed resynchronisation waiting for its retry, and how many failed since start.
    public var resync = ResyncStatus()
    /// How VF losses removed the synthetic NICs' egress redirects: prepared or decoded path.
    public var vfLossDeletes = VFLossDeletes()
}
