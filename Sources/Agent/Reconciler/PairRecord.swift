import Policy

/// What the agent keeps about one synthetic NIC between reconcile passes.
struct PairRecord {
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
    /// Traffic the relay moved through filters that no longer exist.
    var retired = RelayTotals()
    /// The counters of the filters present at the last observation.
    var live = RelayTotals()
    /// The part of `retired` estimated from the VF's own link counters when its filter went with
    /// it (see `PairRecord+Counters.swift`).
    var recovered = RelayTotals()
    /// How relay counters continue when a filter vanishes with its VF (PairRecord+Counters.swift).
    var ledger = RelayLedger()
    /// When the event that led to the current switch was first seen (for switch durations).
    var switchStartedAt: MonotonicInstant?
    /// "vf0(5)" of the VF last steered through, for the fallback line after it is gone.
    var steeredVF = "-"

    /// Non-transparent mode: the stack uses the VF directly, so its own counters are the pair's
    /// VF traffic. Banked per VF session (settled .. released), plus the running session.
    var vfTrafficBanked = LinkCounters()
    var vfSessionStart: LinkCounters?
    var vfSessionLatest: LinkCounters?

    var vfTraffic: LinkCounters {
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

    var totals: RelayTotals { retired + live }
}

/// Per-pair relay statistics: VF RX redirected into the synthetic NIC, synthetic TX sent out of the VF.
public struct RelayTotals: Hashable, Sendable, CustomStringConvertible {
    public var received = RelayCounters()
    public var sent = RelayCounters()

    public static func + (lhs: Self, rhs: Self) -> Self {
        RelayTotals(received: lhs.received + rhs.received, sent: lhs.sent + rhs.sent)
    }

    public var description: String {
        "rx_packets=\(received.packets) rx_bytes=\(received.bytes) tx_packets=\(sent.packets) tx_bytes=\(sent.bytes)"
    }
}

extension LinkCounters: CustomStringConvertible {
    public var description: String {
        "rx_packets=\(rxPackets) rx_bytes=\(rxBytes) tx_packets=\(txPackets) tx_bytes=\(txBytes)"
    }

    static func + (a: Self, b: Self) -> Self {
        LinkCounters(rxPackets: a.rxPackets &+ b.rxPackets, txPackets: a.txPackets &+ b.txPackets,
                     rxBytes: a.rxBytes &+ b.rxBytes, txBytes: a.txBytes &+ b.txBytes)
    }

    /// What was counted since `start`; a counter that went backwards (device reset) counts from zero.
    func since(_ start: Self) -> Self {
        func delta(_ now: UInt64, _ then: UInt64) -> UInt64 { now >= then ? now - then : now }
        return LinkCounters(rxPackets: delta(rxPackets, start.rxPackets), txPackets: delta(txPackets, start.txPackets),
                            rxBytes: delta(rxBytes, start.rxBytes), txBytes: delta(txBytes, start.txBytes))
    }
}
