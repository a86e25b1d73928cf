import Policy

/// What the agent keeps about one synthetic NIC between reconcile passes.
public struct PairRecord {
    /// Phase, reason, retry and flap damping: the policy's, advanced by `PairStep`.
    var progress: PairProgress
    var synthetic: InterfaceIndex { progress.synthetic }
    var phase: PairPhase {
        get { progress.phase }
        set { progress.phase = newValue }
    }
    var lastReason: FallbackReason? {
        get { progress.lastReason }
        set { progress.lastReason = newValue }
    }
    var retryAt: MonotonicInstant? {
        get { progress.retryAt }
        set { progress.retryAt = newValue }
    }
    var damper: FlapDamper {
        get { progress.damper }
        set { progress.damper = newValue }
    }
    var steering: Bool {
        get { progress.steering }
        set { progress.steering = newValue }
    }
    var egressRemovedUrgently: Bool {
        get { progress.egressRemovedUrgently }
        set { progress.egressRemovedUrgently = newValue }
    }
    /// What the relay moved, banked across filters that come and go (Policy/RelayBank.swift).
    var relay = RelayBank()
    /// When the event that led to the current switch was first seen (for switch durations).
    var switchStartedAt: MonotonicInstant?
    /// The VF last steered through, named as it was then, for the fallback line after it is gone.
    var steeredVF: NamedInterface?
    /// Other tools' filters that run before the relay's, as last warned about (Reconciler+Shadow.swift).
    var shadows: [RelayShadow] = []

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

    /// Peer notification rounds still to send after the last switch, and when the next is due.
    var notificationsLeft = 0
    var notifyAt: MonotonicInstant?
    /// The VF's allmulti follows memberships through this (Reconciler+Multicast.swift); a held
    /// change is looked at again at `multicastDueAt`.
    var multicast = MulticastCoalescer()
    var multicastDueAt: MonotonicInstant?

    init(_ progress: PairProgress) {
        self.progress = progress
    }

    var totals: TrafficCounters { relay.totals }
}
