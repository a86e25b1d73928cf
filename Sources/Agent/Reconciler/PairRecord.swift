import Policy

/// What the agent keeps about one synthetic NIC between reconcile passes.
struct PairRecord {
    let synthetic: InterfaceIndex
    var phase: PairPhase = .waitingForVF
    /// The synthetic NIC's egress redirect to the VF was in place at the last observation.
    var steering = false
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
    /// When the event that led to the current switch was first seen (for switch durations).
    var switchStartedAt: MonotonicInstant?
    /// "vf0(5)" of the VF last steered through, for the fallback line after it is gone.
    var steeredVF = "-"

    init(synthetic: InterfaceIndex) { self.synthetic = synthetic }

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
