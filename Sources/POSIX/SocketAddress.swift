import Glibc
import Policy

/// sockaddr storage for bind/connect, built once from a path or a `ListenAddress`.
public struct SocketAddress {
    private var storage = sockaddr_storage()
    public let length: socklen_t
    public let family: Int32

    /// A filesystem path (not abstract: abstract names are per network namespace).
    public init(unixPath path: String) throws {
        guard var (address, size) = unixSocketAddress(Array(path.utf8), abstract: false) else {
            throw SystemCallError(call: "unix socket path \(path)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: &address) { raw.copyMemory(from: $0) }
        }
        length = size
        family = AF_UNIX
    }

    public init(_ listen: ListenAddress) {
        switch listen.host {
        case .ipv4(let bytes):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = listen.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: &address) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            family = AF_INET
        case .ipv6(let bytes):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = listen.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: &address) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            family = AF_INET6
        }
    }

    public func bind(_ fd: Int32) -> Int32 {
        var copy = storage
        return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) } }
    }

    public func connect(_ fd: Int32) -> Int32 {
        var copy = storage
        return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) } }
    }
}

/// sockaddr_un and its length for a Unix socket name. A path is NUL-terminated; an abstract
/// name (Linux) is a leading NUL and the name without a terminator, and its length covers the
/// name only: the kernel compares exactly `length` bytes. nil when the name does not fit.
public func unixSocketAddress(_ name: [UInt8], abstract: Bool) -> (sockaddr_un, socklen_t)? {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = abstract ? [0] + name : name + [0]
    guard bytes.count <= MemoryLayout.size(ofValue: address.sun_path) else { return nil }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
    let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
    return (address, socklen_t(offset + bytes.count))
}

/// The credentials of a unix socket's peer (SO_PEERCRED), taken when it connected.
public struct PeerCredentials: Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    public init(socket fd: Int32) throws {
        // struct ucred {pid_t pid; uid_t uid; gid_t gid;}: Glibc's module hides it behind _GNU_SOURCE.
        var credentials: (Int32, UInt32, UInt32) = (0, 0, 0)
        var size = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        _ = try systemCall("getsockopt(SO_PEERCRED)") { getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) }
        self.init(pid: credentials.0, uid: credentials.1, gid: credentials.2)
    }
}

/// A socket descriptor with SOCK_NONBLOCK and SOCK_CLOEXEC.
public func openSocket(_ family: Int32, _ name: String) throws -> Int32 {
    try systemCall("socket(\(name))") {
        socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }
}
