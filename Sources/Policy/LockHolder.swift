/// Who holds the single-instance lock, an abstract Unix socket name that any local user can
/// bind. Only a holder that could be an agent stops this one: it must be in this agent's user
/// namespace with CAP_NET_ADMIN effective. One that clearly cannot is a squatter, and the agent
/// starts anyway; one that cannot be identified still counts as an agent (the safe side).
public enum LockHolder {
    /// What the agent learnt about the holder (SO_PEERCRED, then /proc); nil = not learnt.
    public struct Evidence: Equatable, Sendable {
        public var pid: Int32?
        public var uid: UInt32?
        /// No process has that PID any more (kill(pid, 0): ESRCH), yet the name is held: the
        /// socket lives on in a process it was handed to (after a fresh attempt to take the name,
        /// so an agent that just exited is not mistaken for this).
        public var exited: Bool
        /// Without a pid: the name stayed bound but refused connections (does not listen) for
        /// longer than an agent takes from bind() to listen().
        public var refusesConnections: Bool
        /// Without a pid: the name's connection queue stayed full as long (an agent accepts, and
        /// its queue holds thousands).
        public var queueStaysFull: Bool
        /// /proc/PID/status (its CapEff line).
        public var status: String?
        /// readlink of /proc/PID/ns/user and /proc/self/ns/user ("user:[4026531837]"); the
        /// holder's needs ptrace access, which an agent without CAP_SYS_PTRACE may lack.
        public var userNamespace: String?
        public var ownUserNamespace: String?
        /// /proc/PID/uid_map and /proc/self/uid_map, readable without ptrace access: the same
        /// user namespace read by the same process shows the same map, so different maps prove
        /// different namespaces (equal ones prove nothing).
        public var uidMap: String?
        public var ownUidMap: String?

        public init(pid: Int32? = nil, uid: UInt32? = nil, exited: Bool = false, refusesConnections: Bool = false,
                    queueStaysFull: Bool = false, status: String? = nil,
                    userNamespace: String? = nil, ownUserNamespace: String? = nil,
                    uidMap: String? = nil, ownUidMap: String? = nil) {
            self.pid = pid
            self.uid = uid
            self.exited = exited
            self.refusesConnections = refusesConnections
            self.queueStaysFull = queueStaysFull
            self.status = status
            self.userNamespace = userNamespace
            self.ownUserNamespace = ownUserNamespace
            self.uidMap = uidMap
            self.ownUidMap = ownUidMap
        }
    }

    public enum SquatterReason: Equatable, Sendable, CustomStringConvertible {
        case lacksNetAdmin
        case otherUserNamespace
        case listenerGone
        case notListening
        case acceptsNothing

        public var description: String {
            switch self {
            case .lacksNetAdmin: return "it has no CAP_NET_ADMIN, which every hnagent has"
            case .otherUserNamespace: return "it runs in another user namespace, where its capabilities do not reach this network namespace"
            case .listenerGone: return "that process is gone and handed the socket on, which no hnagent does"
            case .notListening: return "an hnagent listens right after it binds the name"
            case .acceptsNothing: return "an hnagent accepts, and its queue holds thousands"
            }
        }
    }

    public enum Verdict: Equatable, Sendable {
        /// Another agent, or a holder that cannot be told apart from one: this agent stops.
        case possibleAgent
        /// Cannot be an agent: this agent starts without the lock.
        case squatter(SquatterReason)
    }

    public static func verdict(_ evidence: Evidence) -> Verdict {
        guard evidence.pid != nil else {
            if evidence.refusesConnections { return .squatter(.notListening) }
            return evidence.queueStaysFull ? .squatter(.acceptsNothing) : .possibleAgent
        }
        if evidence.exited { return .squatter(.listenerGone) }
        guard let status = evidence.status,
              let capabilities = ProcessCapabilities.effective(statusText: status) else { return .possibleAgent }
        if capabilities & ProcessCapabilities.netAdmin == 0 { return .squatter(.lacksNetAdmin) }
        if let theirs = evidence.userNamespace, let ours = evidence.ownUserNamespace {
            return theirs == ours ? .possibleAgent : .squatter(.otherUserNamespace)
        }
        if let theirs = evidence.uidMap.map(words), let ours = evidence.ownUidMap.map(words), !ours.isEmpty, theirs != ours {
            return .squatter(.otherUserNamespace)
        }
        return .possibleAgent
    }

    /// The whitespace-separated words of a text (uid_map pads its columns).
    private static func words(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
    }
}
