import Policy

/// What the agent keeps about one synthetic NIC between reconcile passes.
public struct PairRecord {
    let synthetic: InterfaceIndex
    var phase: PairPhase = .waitingForVF
    /// The synthetic NIC's egress redirect to the VF was in place at the last observation.
    var steering = false
    /// The event that said the VF is gone or down already took the egress redirect away
    /// (`fallBackUrgently`); the reconcile that follows does not delete it again.
    var egressRemovedUrgently = false
    /// Why the pair last left (or never reached) the VF path; logged with "fallback".
    var lastReason: FallbackReason?
    /// After a failed change the pair stays on the synthetic path until then (then retries).
    var retryAt: MonotonicInstant?
    /// Failed changes in a row (for the retry back-off); zero after a plan applies fully.
    var failures = 0
    /// The synthetic NIC's MTU its VF refused last: once hn has another MTU, that is a new
    /// request and is tried at once, not after the back-off.
    var refusedMTU: UInt32?
    /// What the relay moved, banked across filters that come and go (Policy/RelayBank.swift).
    var relay = RelayBank()
    /// When the event that led to the current switch was first seen (for switch durations).
    var switchStartedAt: MonotonicInstant?
    /// The VF last steered through, named as it was then, for the fallback line after it is gone.
    var steeredVF: NamedInterface?

    /// Non-transparent mode: the stack uses the VF directly, so its own counters are the pair's
    /// VF traffic. Banked per VF session (settled .. released), plus the running session.
    var vfTrafficBanked = TrafficCounters()
    var vfSessionStart: TrafficCounters?
    var vfSessionLatest: TrafficCounters?

    var vfTraffic: TrafficCounters {
        guard let start = vfSessionStart, let latest = vfSessionLatest else { return vfTrafficBanked }
        return vfTrafficBanked + latest.since(start)
    }

    mutating func endVFSession() {
        vfTrafficBanked = vfTraffic
        vfSessionStart = nil
        vfSessionLatest = nil
    }

    var damper = FlapDamper()
    /// Peer notification rounds still to send after the last switch, and when the next is due.
    var notificationsLeft = 0
    var notifyAt: MonotonicInstant?
    /// The VF's allmulti follows memberships through this (Reconciler+Multicast.swift); a held
    /// change is looked at again at `multicastDueAt`.
    var multicast = MulticastCoalescer()
    var multicastDueAt: MonotonicInstant?

    init(synthetic: InterfaceIndex, damper: FlapDamper = FlapDamper()) {
        self.synthetic = synthetic
        self.damper = damper
    }

    var totals: TrafficCounters { relay.totals }
}
