/// When a drain ends besides `hnagent undrain` (`[steering] drain-until`).
public enum DrainUntil: String, CaseIterable, Hashable, Sendable {
    /// Only `hnagent undrain` ends it.
    case undrain
    /// Also a VF that comes back after the pair's VF left: the pair then steers again after
    /// the normal settle (a live migration: drained at the source, steering at the target).
    case vfReturn = "vf-return"
}

/// An operator's drain of one pair: TX stays on the synthetic NIC, whatever the VF does, until
/// `hnagent undrain` (or, with drain-until vf-return, a VF that comes back). The pair keeps its
/// VF (configured, RX relay in place), so an undrain steers again without a new settle.
public struct Drain: Hashable, Sendable {
    /// The pair's VF left since the drain, or it had none then: the next VF is a return.
    public var vfLeft: Bool

    public init(vfLeft: Bool) {
        self.vfLeft = vfLeft
    }
}

extension PairStep {
    /// Drains the pair: it plans no egress redirect from now on (a steering pair loses it on the
    /// urgent path, as in a fallback). False if it was drained already.
    @discardableResult
    public static func drain(_ progress: inout PairProgress) -> Bool {
        guard progress.drain == nil else { return false }
        progress.drain = Drain(vfLeft: progress.phase.vf == nil)
        if progress.steering { progress.lastReason = .drained }
        return true
    }

    /// Ends the drain: the pair plans steering again as its phase allows (a settled, usable VF
    /// at once). False if it was not drained.
    @discardableResult
    public static func undrain(_ progress: inout PairProgress) -> Bool {
        guard progress.drain != nil else { return false }
        progress.drain = nil
        if progress.lastReason == .drained { progress.lastReason = nil }
        return true
    }

    /// After the phase step of a drained pair: notes that its VF left (an event released or
    /// cancelled it, or it has none), and with drain-until vf-return ends the drain once a VF is
    /// back. True when the drain ended.
    static func followDrain(_ progress: inout PairProgress, happened: [PairEvent], until: DrainUntil) -> Bool {
        guard var drain = progress.drain else { return false }
        let left = progress.phase.vf == nil || happened.contains { event in
            switch event {
            case .released, .settleCancelled: return true
            case .settleStarted, .settled, .suspended: return false
            }
        }
        if left { drain.vfLeft = true }
        progress.drain = drain
        guard until == .vfReturn, drain.vfLeft, progress.phase.vf != nil else { return false }
        progress.drain = nil
        if progress.lastReason == .drained { progress.lastReason = nil }
        return true
    }
}
