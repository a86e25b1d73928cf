import CNetlink
import Glibc
import Logging
import POSIX

/// sd_notify(3) without libsystemd: under a `Type=notify` unit, one datagram to the socket
/// named by $NOTIFY_SOCKET tells systemd the agent is ready (after the first full reconcile,
/// so `systemctl start` returns once VFs are steered), reloading (SIGHUP), alive (the
/// watchdog, see ServiceWatchdog) or stopping.
public struct ServiceNotifier {
    public enum State: String {
        case ready = "READY=1"
        case stopping = "STOPPING=1"
        case watchdog = "WATCHDOG=1"
        /// systemd 253+ wants the reload's start time with it; older ones ignore it.
        case reloading = "RELOADING=1"
    }

    public enum AddressError: Error, Equatable, CustomStringConvertible {
        case unsupported(String)
        case tooLong(String)

        public var description: String {
            switch self {
            case .unsupported(let address):
                return "NOTIFY_SOCKET=\(address) is not supported: only a path or an abstract @name"
            case .tooLong(let address):
                return "NOTIFY_SOCKET=\(address) is longer than a unix socket address can be"
            }
        }
    }

    /// A filesystem path (`/run/systemd/notify`) or an abstract name (`@...`).
    public let address: String

    public init(address: String) { self.address = address }

    /// nil unless started by systemd with `Type=notify` (or another sd_notify listener).
    public static func fromEnvironment(_ lookup: (String) -> String? = { getenv($0).map { String(cString: $0) } })
        -> ServiceNotifier? {
        guard let address = lookup("NOTIFY_SOCKET"), !address.isEmpty else { return nil }
        return ServiceNotifier(address: address)
    }

    /// Sends `state`. A failure is logged, not thrown: the agent works without systemd
    /// knowing, and systemd reports a readiness timeout itself.
    public func notify(_ state: State, logger: Logger) {
        do {
            if state == .reloading {
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                try send("\(state.rawValue)\nMONOTONIC_USEC=\(Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000)")
            } else {
                try send(state.rawValue)
            }
            logger.debug("told the service manager \(state.rawValue)")
        } catch {
            logger.warning("cannot tell the service manager \(state.rawValue): \(error)")
        }
    }

    /// One datagram with `message` (newline-separated VAR=value assignments).
    public func send(_ message: String) throws {
        var (storage, length) = try socketAddress()
        let fd = try systemCall("socket(AF_UNIX, SOCK_DGRAM)") {
            socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        defer { close(fd) }
        let bytes = Array(message.utf8)
        _ = try withUnsafePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                try systemCall("sendto(NOTIFY_SOCKET)") {
                    sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), address, length)
                }
            }
        }
    }

    /// sockaddr_un for the address; an abstract name starts with NUL and its length excludes
    /// any terminator (the kernel compares all `length` bytes).
    func socketAddress() throws -> (sockaddr_un, socklen_t) {
        let name = Array(address.utf8)
        let abstract = name.first == UInt8(ascii: "@")
        guard abstract || name.first == UInt8(ascii: "/") else { throw AddressError.unsupported(address) }
        guard let built = unixSocketAddress(abstract ? Array(name.dropFirst()) : name, abstract: abstract) else {
            throw AddressError.tooLong(address)
        }
        return built
    }
}
