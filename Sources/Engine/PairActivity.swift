import Policy

/// One thing that happened to a pair, as the operator sees it: the reconciler reports these to
/// a `PairEventSink` (the event timeline, the status board) at the moment they happen. Log lines
/// say the same in prose; this is the structured form.
public struct PairActivity: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// A synthetic NIC was found (start, or created later).
        case discovered
        /// A VF candidate with the synthetic NIC's MAC appeared and was paired.
        case vfSeen = "vf-seen"
        case settleStarted = "settle-started"
        /// The VF left before it had settled.
        case settleCancelled = "settle-cancelled"
        /// The VF settled; the agent attaches it.
        case settled
        /// The synthetic NIC's egress redirect is in place: TX leaves through the VF.
        case steeringOn = "steering-on"
        /// The egress redirect is gone: TX is back on the synthetic path.
        case fallback
        /// The held VF went down or lost carrier.
        case vfUnusable = "vf-unusable"
        /// The VF left its pair (removed, moved, renamed, enslaved, replaced).
        case released
        /// A change failed; the pair stays on the synthetic path until a retry.
        case heldBack = "held-back"
        /// A policy change on a NIC (MTU, flags, offloads, GSO limits, link mode, operstate).
        case policy
        /// The agent gave everything back on exit.
        case restored
        /// The synthetic NIC is gone or no longer synthetic.
        case dissolved
        /// Something put IP addresses on a paired VF.
        case vfAddresses = "vf-addresses"
        /// A relay left by a previous agent was taken over at start (no settle, nothing re-added).
        case adopted
        /// The VF detached too often: the pair is held on the synthetic path (flap damping).
        case flapping
        /// Gratuitous ARPs / unsolicited neighbour advertisements were sent after a switch.
        case peersNotified = "peers-notified"
        /// The operator drained the pair (`hnagent drain`): TX held on the synthetic NIC.
        case drained
        /// The drain ended (`hnagent undrain`, or the VF's return with drain-until vf-return).
        case undrained
    }

    public var kind: Kind
    /// When it happened, on the agent's monotonic clock.
    public var at: MonotonicInstant
    /// The pair's synthetic NIC and VF, with the names they had then (a departed VF keeps its name).
    public var synthetic: NamedInterface?
    public var vf: NamedInterface?
    public var reason: String?
    /// Steering on and fallback: from the reconcile that saw the event to the relay read back changed.
    public var switchDuration: Duration?
    public var detail: String?

    public init(kind: Kind, at: MonotonicInstant, synthetic: NamedInterface? = nil, vf: NamedInterface? = nil,
                reason: String? = nil, switchDuration: Duration? = nil, detail: String? = nil) {
        self.kind = kind
        self.at = at
        self.synthetic = synthetic
        self.vf = vf
        self.reason = reason
        self.switchDuration = switchDuration
        self.detail = detail
    }
}

/// Receives pair activity from the reconciler, synchronously on the event-loop thread. Must not
/// call back into the reconciler.
public protocol PairEventSink: AnyObject {
    func record(_ activity: PairActivity)
}
