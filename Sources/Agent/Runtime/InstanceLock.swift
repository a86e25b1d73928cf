import Glibc
import Policy

/// One agent per network namespace: the lock is an abstract Unix socket name ("\0hnagent").
/// The kernel scopes abstract names to the network namespace and frees them when the holder
/// dies, SIGKILL included, so there is no stale lock to clean up. A second agent finds the
/// name taken, connects, and learns the holder's PID with SO_PEERCRED.
/// Abstract names have no permissions, so any local user can take the name first: a holder
/// that cannot be an agent (LockHolder.verdict) is a squatter, and the agent runs without the
/// lock rather than let an unprivileged user stop steering.
public final class InstanceLock {
    public static let defaultName = "hnagent"

    public enum Hold: Equatable, Sendable, CustomStringConvertible {
        case held
        /// The name belongs to a process that cannot be an agent; this agent runs without the lock.
        case squatted(pid: Int32, uid: UInt32, reason: LockHolder.SquatterReason)

        /// As `status` shows it (agent.instance_lock).
        public var description: String {
            switch self {
            case .held: return "held"
            case .squatted(let pid, let uid, _): return "squatted by pid \(pid) uid \(uid)"
            }
        }
    }

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

    public let name: String
    public let hold: Hold
    /// -1 while squatted.
    private let fileDescriptor: Int32

    /// Takes the lock, or finds it squatted (`hold`), or throws `.alreadyRunning` with the
    /// holder's PID.
    public convenience init(name: String = InstanceLock.defaultName) throws(Problem) {
        try self.init(name: name, inspect: LockHolderProbe.evidence(of:))
    }

    /// `inspect` reads /proc about the holder (replaced in tests).
    init(name: String, inspect: (PeerCredentials) -> LockHolder.Evidence) throws(Problem) {
        self.name = name
        var attempt = try Self.take(name, inspect: inspect)
        // A holder that is gone may be an agent that just exited, freeing the name: try again.
        if case .squatted(_, .listenerGone) = attempt { attempt = try Self.take(name, inspect: inspect) }
        switch attempt {
        case .taken(let fd):
            hold = .held
            fileDescriptor = fd
        case .squatted(let holder, let reason):
            hold = .squatted(pid: holder.pid, uid: holder.uid, reason: reason)
            fileDescriptor = -1
        }
    }

    private enum Attempt {
        case taken(Int32)
        case squatted(PeerCredentials, LockHolder.SquatterReason)
    }

    /// Binds and listens on the name, or judges the process that holds it.
    private static func take(_ name: String, inspect: (PeerCredentials) -> LockHolder.Evidence) throws(Problem) -> Attempt {
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
            let holder = Self.holder(of: name)
            guard let holder, case .squatter(let reason) = LockHolder.verdict(inspect(holder)) else {
                throw .alreadyRunning(name: name, pid: holder?.pid)
            }
            return .squatted(holder, reason)
        }
        // Listening lets a second agent connect and read this one's PID.
        guard listen(fd, 8) == 0 else {
            let code = errno
            close(fd)
            throw .system(SystemCallError(call: "listen(@\(name))", errno: code))
        }
        return .taken(fd)
    }

    deinit { if fileDescriptor >= 0 { close(fileDescriptor) } }

    /// For the log when squatted: who, why it is no agent, what that costs, what to do.
    public var squatWarning: String? {
        guard case .squatted(let pid, let uid, let reason) = hold else { return nil }
        return "the single-instance lock @\(name) is squatted by pid \(pid) uid \(uid), which cannot be an hnagent "
            + "(\(reason)); the namespace lock is unavailable, so a second hnagent in this network namespace would not be "
            + "detected. Steering goes on. Find and stop the process that holds it (ss -xlp src @\(name) shows it), "
            + "then restart hnagent to take the lock"
    }

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

    /// The credentials of the process that listens on `name` (as it called listen()), or nil
    /// if they cannot be learnt.
    static func holder(of name: String) -> PeerCredentials? {
        var (address, length) = address(name)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else { return nil }
        guard let credentials = try? PeerCredentials(socket: fd), credentials.pid > 0 else { return nil }
        return credentials
    }

    /// sockaddr_un of an abstract name: a leading NUL, no terminator, length covering the name only.
    private static func address(_ name: String) -> (sockaddr_un, socklen_t) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = [0] + Array(name.utf8.prefix(MemoryLayout.size(ofValue: address.sun_path) - 1))
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        return (address, socklen_t(offset + bytes.count))
    }
}
