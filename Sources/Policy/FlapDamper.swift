/// Flap damping: a VF that detaches `threshold` times within `window` keeps its pair on the
/// synthetic path for `hold` (like BGP route-flap damping, or bonding's updelay, but counted).
/// A host that keeps pulling the VF then costs one switch per hold period, not one per flap.
public struct FlapDamper: Hashable, Sendable {
    public var threshold: Int
    public var window: Duration
    public var hold: Duration
    /// Detaches inside the window; never more than `threshold`.
    public private(set) var detaches: [MonotonicInstant] = []
    public private(set) var heldUntil: MonotonicInstant?

    public static let defaultThreshold = 5
    public static let defaultWindow: Duration = .seconds(60)
    public static let defaultHold: Duration = .seconds(30)

    /// `threshold` 0 turns damping off.
    public init(threshold: Int = FlapDamper.defaultThreshold, window: Duration = FlapDamper.defaultWindow,
                hold: Duration = FlapDamper.defaultHold) {
        self.threshold = threshold
        self.window = window
        self.hold = hold
    }

    /// Counts one detach; true when it starts a hold.
    public mutating func noteDetach(at now: MonotonicInstant) -> Bool {
        guard threshold > 0 else { return false }
        detaches.removeAll { now.duration(since: $0) > window }
        detaches.append(now)
        guard detaches.count >= threshold else { return false }
        detaches.removeAll()
        heldUntil = now.advanced(by: hold)
        return true
    }

    /// The end of the hold, while one is running.
    public func holdUntil(now: MonotonicInstant) -> MonotonicInstant? {
        guard let heldUntil, heldUntil > now else { return nil }
        return heldUntil
    }
}
