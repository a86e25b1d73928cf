import Glibc

/// One agent per network namespace: the lock is an abstract Unix socket name ("\0hnagent").
/// The kernel scopes abstract names to the network namespace and frees them when the holder
/// dies, SIGKILL included, so there is no stale lock to clean up. A second agent finds the
/// name taken, connects, and learns the holder's PID with SO_PEERCRED.
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

    private let fileDescriptor: Int32

    /// Takes the lock or throws `.alreadyRunning` with the holder's PID.
    public init(name: String = InstanceLock.defaultName) throws(Problem) {
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
            throw .alreadyRunning(name: name, pid: Self.holder(of: name))
        }
        // Listening lets a second agent connect and read this one's PID.
        guard listen(fd, 8) == 0 else {
            let code = errno
            close(fd)
            throw .system(SystemCallError(call: "listen(@\(name))", errno: code))
        }
        fileDescriptor = fd
    }

    deinit { close(fileDescriptor) }

    /// Closes the connections of agents that asked who holds the lock (they only read
    /// SO_PEERCRED), so the backlog never fills. Cheap: one accept per loop turn.
    public func dismissQueuedPeers() {
        while true {
            let peer = accept(fileDescriptor, nil, nil) // non-blocking listener: -1 (EAGAIN) when none wait
            if peer < 0 { return }
            close(peer)
        }
    }

    /// The PID of the process that listens on `name`, or nil if it cannot be learnt.
    static func holder(of name: String) -> Int32? {
        var (address, length) = address(name)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else { return nil }
        guard let credentials = try? PeerCredentials(socket: fd), credentials.pid > 0 else { return nil }
        return credentials.pid
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
