/// Whether this agent holds the single-instance lock, or a process that cannot be an agent
/// took its name first (then a second agent in this network namespace would go unnoticed).
extension LockHolder {
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
}
