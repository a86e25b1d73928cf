import Glibc
import POSIX
import Policy

/// The optional metrics endpoint: a non-blocking TCP listener.
final class TCPListener {
    let fileDescriptor: Int32
    /// As bound: port 0 in the request becomes the port the kernel chose.
    private(set) var address: ListenAddress

    init(address: ListenAddress) throws {
        self.address = address
        let family: Int32
        switch address.host {
        case .ipv4: family = AF_INET
        case .ipv6: family = AF_INET6
        }
        let fd = try openSocket(family, family == AF_INET ? "AF_INET" : "AF_INET6")
        do {
            var on: Int32 = 1
            // A restarted agent rebinds at once instead of waiting out TIME_WAIT.
            _ = try systemCall("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            }
            let socketAddress = SocketAddress(address)
            _ = try systemCall("bind(\(address))") { socketAddress.bind(fd) }
            _ = try systemCall("listen(\(address))") { listen(fd, 16) }
            self.address.port = try Self.boundPort(fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
        fileDescriptor = fd
    }

    func close() { Glibc.close(fileDescriptor) }

    private static func boundPort(_ fd: Int32) throws -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                try systemCall("getsockname") { getsockname(fd, address, &length) }
            }
        }
        // sin_port and sin6_port sit at the same offset, in network byte order.
        return withUnsafeBytes(of: &storage) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
    }
}
