/// Keeps multicast membership churn from flipping a VF's allmulti at the rate it churns: any user
/// may join and leave a group in a loop, and each change of "the synthetic NIC has memberships"
/// would otherwise be an allmulti change on the VF, a log line and a timeline event.
///
/// The first change is applied at once and opens a window of `settle`; changes seen inside the
/// window are held, and when it ends the VF follows the value wanted then (nothing if the changes
/// cancelled out). So allmulti changes at most once per window, and every change seen but not
/// applied on its own is counted as coalesced.
public struct MulticastCoalescer: Equatable, Sendable {
    public struct Outcome: Equatable, Sendable {
        /// What the VF's allmulti follows now.
        public var allmulti: Bool
        /// `allmulti` changed in this update.
        public var changed: Bool
        /// A window ended in this update with changes it absorbed: their number (one log line).
        public var coalescedInWindow: UInt64?
        /// When to update again without a new membership change (a held change or a window to
        /// close); nil: nothing is pending.
        public var deadline: MonotonicInstant?
    }

    /// What the VF's allmulti follows: memberships as of the last applied change.
    public private(set) var applied = false
    /// No change is applied before this.
    public private(set) var windowEnd: MonotonicInstant?
    /// Membership changes seen but not applied on their own, since the pair got its VF.
    public private(set) var coalescedTotal: UInt64 = 0
    private var wanted = false
    /// Membership changes seen since the last applied change.
    private var pending: UInt64 = 0

    public init() {}

    /// `wanted`: the synthetic NIC has memberships beyond the defaults now. `settle` zero applies
    /// every change at once.
    public mutating func update(wanted: Bool, now: MonotonicInstant, settle: Duration) -> Outcome {
        if wanted != self.wanted {
            self.wanted = wanted
            pending += 1
        }
        let windowOpen = windowEnd.map { now < $0 } ?? false
        if wanted != applied, !windowOpen {
            // pending >= 1: the value moved since it was last applied. The last change is applied,
            // the ones before it are absorbed.
            let absorbed = pending - 1
            applied = wanted
            pending = 0
            coalescedTotal += absorbed
            windowEnd = settle > .zero ? now.advanced(by: settle) : nil
            return Outcome(allmulti: applied, changed: true, coalescedInWindow: absorbed > 0 ? absorbed : nil, deadline: nil)
        }
        if pending > 0, !windowOpen {
            // The window ended with the changes cancelling out: nothing to apply.
            let absorbed = pending
            pending = 0
            coalescedTotal += absorbed
            return Outcome(allmulti: applied, changed: false, coalescedInWindow: absorbed, deadline: nil)
        }
        return Outcome(allmulti: applied, changed: false, coalescedInWindow: nil, deadline: pending > 0 ? windowEnd : nil)
    }
}
