import Policy

/// Whether this agent holds the single-instance lock, or a process that cannot be an agent
/// took its name first (then a second agent in this network namespace would go unnoticed).
extension InstanceLock {
    public enum Hold: Equatable, Sendable, CustomStringConvertible {
        case held
        /// pid and uid from SO_PEERCRED; nil when the socket does not listen or accept, so none can be asked.
        case squatted(pid: Int32?, uid: UInt32?, reason: LockHolder.SquatterReason)

        /// As `status` shows it (agent.instance_lock).
        public var description: String {
            switch self {
            case .held: return "held"
            case .squatted(let pid?, let uid?, _): return "squatted by pid \(pid) uid \(uid)"
            case .squatted(_, _, .acceptsNothing): return "squatted by a socket that accepts no connections"
            case .squatted: return "squatted by a socket that does not listen"
            }
        }
    }

    /// For the log when squatted: who, why it is no agent, what that costs, what to do.
    public var squatWarning: String? {
        guard case .squatted(_, _, let reason) = hold else { return nil }
        return "the single-instance lock @\(name) is \(hold) (\(reason)), so it is no other hnagent; the namespace "
            + "lock is unavailable, so a second hnagent in this network namespace would not be detected. Steering goes on. "
            + "Find and stop the process that holds the name (ss -xap src @\(name) shows it), then restart hnagent to take the lock"
    }
}
