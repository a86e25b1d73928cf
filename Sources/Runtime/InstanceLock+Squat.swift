import POSIX
import Policy

extension InstanceLock {
    public typealias Hold = LockHolder.Hold

    /// For the log when squatted: who, why it is no agent, what that costs, what to do.
    public var squatWarning: String? {
        guard case .squatted(_, _, let reason) = hold else { return nil }
        return "the single-instance lock @\(name) is \(hold) (\(reason)), so it is no other hnagent; the namespace "
            + "lock is unavailable, so a second hnagent in this network namespace would not be detected. Steering goes on. "
            + "Find and stop the process that holds the name (ss -xap src @\(name) shows it); hnagent takes the lock "
            + "within \(Self.retakeSeconds) s after it is free"
    }

    /// How often a squatted agent looks whether the name is free again.
    public static let retakeSeconds = 5
    static let retakeInterval = Duration.seconds(retakeSeconds)

    /// What a look at a squatted name found, when it is news.
    public enum Retake: Equatable {
        /// The squatter left and the name is this agent's: a second agent is detected again.
        case taken
        /// An agent (possibly another hnagent) took the free name first.
        case rival(pid: Int32?)
    }

    /// While squatted: when the loop must wake for the next look.
    public var retakeDue: MonotonicInstant? {
        guard case .squatted = hold else { return nil }
        return nextRetake
    }

    /// While squatted: one look (no waiting) whether the name is free, at most every
    /// `retakeInterval`; the loop calls it every turn. nil when nothing changed.
    public func retake(now: MonotonicInstant) -> Retake? {
        guard case .squatted = hold else { return nil }
        if let nextRetake, now < nextRetake { return nil }
        nextRetake = now.advanced(by: Self.retakeInterval)
        do {
            switch try Self.take(name, lastLook: true, inspect: inspect) {
            case .taken(let fd):
                fileDescriptor = fd
                hold = .held
                return .taken
            case .squatted(let holder, let reason):
                hold = .squatted(pid: holder?.pid, uid: holder?.uid, reason: reason)
                return nil
            case .again:
                return nil
            }
        } catch {
            guard case .alreadyRunning(_, let pid) = error, !rivalReported else { return nil }
            rivalReported = true
            return .rival(pid: pid)
        }
    }
}
