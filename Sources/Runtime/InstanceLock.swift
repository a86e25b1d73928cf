import Glibc
import POSIX
import Policy

/// One agent per network namespace: the lock is an abstract Unix socket name ("\0hnagent").
/// The kernel scopes abstract names to the network namespace and frees them when the holder
/// dies, SIGKILL included, so there is no stale lock to clean up. A second agent finds the
/// name taken, connects, and learns the holder's PID with SO_PEERCRED.
/// Abstract names have no permissions, so any local user can take the name first: a holder
/// that cannot be an agent (LockHolder.verdict) is a squatter, and the agent runs without the
/// lock rather than let an unprivileged user stop steering (InstanceLock+Squat.swift).
public final class InstanceLock {
    public static let defaultName = "hnagent"

    public enum Problem: Error, CustomStringConvertible {
        case alreadyRunning(name: String, pid: Int32?)
        case system(SystemCallError)

        public var description: String {
            switch self {
            case .alreadyRunning(_, let pid):
                let holder = pid.map { "pid \($0)" } ?? "pid unknown"
                return "another hnagent already runs in this network namespace (\(holder)); two would fight over the NICs, "
                    + "so this one changed nothing: stop the other one first (systemctl stop hnagent\(pid.map { ", or kill \($0)" } ?? ""))"
            case .system(let error):
                return "cannot take the single-instance lock: \(error)"
            }
        }
    }

    /// How long a holder that looks like no agent is watched before it counts as a squatter:
    /// an agent that just exited frees the name, one that just bound it listens at once.
    struct Patience {
        var looks: Int
        var intervalMicroseconds: UInt32
        /// 1 s in all: far longer than an agent takes from bind() to listen(), even on a loaded machine.
        static let standard = Patience(looks: 11, intervalMicroseconds: 100_000)
    }

    public let name: String
    public internal(set) var hold: Hold
    /// -1 while squatted.
    var fileDescriptor: Int32
    /// Judges a holder (reads /proc; replaced in tests); kept for `retake`.
    let inspect: (PeerCredentials) -> LockHolder.Evidence
    /// While squatted: when `retake` looks again.
    var nextRetake: MonotonicInstant?
    /// An agent holding the name is reported once, not every look.
    var rivalReported = false

    /// Takes the lock, or finds it squatted (`hold`), or throws `.alreadyRunning` with the
    /// holder's PID.
    public convenience init(name: String = InstanceLock.defaultName) throws(Problem) {
        try self.init(name: name, patience: .standard, inspect: LockHolderProbe.evidence(of:))
    }

    /// `inspect` reads /proc about the holder (replaced in tests).
    init(name: String, patience: Patience, inspect: @escaping (PeerCredentials) -> LockHolder.Evidence) throws(Problem) {
        self.name = name
        self.inspect = inspect
        var attempt = try Self.take(name, lastLook: patience.looks <= 1, inspect: inspect)
        var looks = 1
        while case .again = attempt {
            // Before the event loop runs: a short blocking wait costs nothing here.
            usleep(patience.intervalMicroseconds)
            looks += 1
            attempt = try Self.take(name, lastLook: looks >= patience.looks, inspect: inspect)
        }
        switch attempt {
        case .taken(let fd):
            hold = .held
            fileDescriptor = fd
        case .squatted(let holder, let reason):
            hold = .squatted(pid: holder?.pid, uid: holder?.uid, reason: reason)
            fileDescriptor = -1
        case .again:
            preconditionFailure("the loop above ends only with another outcome")
        }
    }

    enum Attempt {
        case taken(Int32)
        case squatted(PeerCredentials?, LockHolder.SquatterReason)
        /// Looks like a squatter, but an agent may be just exiting or just starting: look again.
        case again
    }

    /// Binds and listens on the name, or judges what holds it.
    static func take(_ name: String, lastLook: Bool,
                             inspect: (PeerCredentials) -> LockHolder.Evidence) throws(Problem) -> Attempt {
        var (address, length) = Self.address(name)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system(SystemCallError(call: "socket(AF_UNIX)", errno: errno)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        if bound != 0 {
            let code = errno
            close(fd)
            guard code == EADDRINUSE else { throw .system(SystemCallError(call: "bind(@\(name))", errno: code)) }
            let answer = Self.holder(of: name)
            var evidence = LockHolder.Evidence(refusesConnections: answer == .refused && lastLook,
                                               queueStaysFull: answer == .queueFull && lastLook)
            if case .credentials(let credentials) = answer { evidence = inspect(credentials) }
            switch LockHolder.verdict(evidence) {
            case .squatter(.listenerGone) where !lastLook: return .again
            case .squatter(let reason): return .squatted(answer.credentials, reason)
            case .possibleAgent where (answer == .refused || answer == .queueFull) && !lastLook: return .again
            case .possibleAgent: throw .alreadyRunning(name: name, pid: answer.credentials?.pid)
            }
        }
        // Listening lets a second agent connect and read this one's PID. A queue of thousands
        // (emptied every loop turn) is never full, so a full one is no agent's.
        guard listen(fd, SOMAXCONN) == 0 else {
            let code = errno
            close(fd)
            throw .system(SystemCallError(call: "listen(@\(name))", errno: code))
        }
        return .taken(fd)
    }

    deinit { if fileDescriptor >= 0 { close(fileDescriptor) } }

    /// Closes the connections of agents that asked who holds the lock (they only read
    /// SO_PEERCRED), so the backlog never fills. Cheap: one accept per loop turn.
    public func dismissQueuedPeers() {
        guard fileDescriptor >= 0 else { return }
        while true {
            let peer = accept(fileDescriptor, nil, nil) // non-blocking listener: -1 (EAGAIN) when none wait
            if peer < 0 { return }
            close(peer)
        }
    }

    /// What connecting to the name tells about its holder.
    enum Answer: Equatable {
        /// SO_PEERCRED: the process as it called listen().
        case credentials(PeerCredentials)
        /// Bound but not listening (ECONNREFUSED).
        case refused
        /// Listening, but its connection queue is full (EAGAIN).
        case queueFull
        /// Anything else (no PID in this PID namespace, ...).
        case unknown

        var credentials: PeerCredentials? {
            if case .credentials(let credentials) = self { return credentials }
            return nil
        }
    }

    static func holder(of name: String) -> Answer {
        var (address, length) = address(name)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .unknown }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else {
            switch errno {
            case ECONNREFUSED: return .refused
            case EAGAIN: return .queueFull
            default: return .unknown
            }
        }
        guard let credentials = try? PeerCredentials(socket: fd), credentials.pid > 0 else { return .unknown }
        return .credentials(credentials)
    }

    /// sockaddr_un of the abstract name (cut to what fits: lock names are short constants).
    static func address(_ name: String) -> (sockaddr_un, socklen_t) {
        let fits = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        return unixSocketAddress(Array(name.utf8.prefix(fits)), abstract: true)!
    }
}
