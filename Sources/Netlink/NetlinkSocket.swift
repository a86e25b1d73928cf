import CNetlink
import Glibc
import POSIX

/// A NETLINK_ROUTE (or, for ethtool, NETLINK_GENERIC) socket.
///
/// Two are used: a request socket (blocking with a receive timeout, never subscribed, so replies
/// never interleave with events) and an event socket (non-blocking, subscribed to RTNLGRP_LINK
/// and to the groups its reader asks for).
public final class NetlinkSocket: NetlinkTransport {
    public let fileDescriptor: Int32
    private var buffer: [UInt8]

    /// Large enough for one dump datagram; the kernel sizes dump datagrams to at most 32 KiB
    /// unless the reader offers more.
    public static let receiveBufferSize = 65_536

    public enum Role {
        case requests(timeoutSeconds: Int)
        /// `optionalGroups`: rtnetlink groups beyond RTNLGRP_LINK, joined where the kernel has them.
        case linkEvents(socketBufferBytes: Int32, optionalGroups: [UInt32])
    }

    /// Those of the optional groups the kernel let the event socket join. Empty for request sockets.
    public private(set) var joinedGroups: [UInt32] = []

    public init(role: Role, bus: Int32 = NETLINK_ROUTE) throws {
        fileDescriptor = try systemCall("socket(AF_NETLINK, \(bus == NETLINK_GENERIC ? "NETLINK_GENERIC" : "NETLINK_ROUTE"))") {
            socket(AF_NETLINK, Int32(SOCK_RAW.rawValue), bus)
        }
        buffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
        do {
            switch role {
            case .requests(let timeout):
                _ = try systemCall("bind(netlink)") { Self.bind(fileDescriptor, groups: 0) }
                try setNetlinkOption(NETLINK_CAP_ACK, 1, name: "setsockopt(NETLINK_CAP_ACK)")
                try setNetlinkOption(NETLINK_EXT_ACK, 1, name: "setsockopt(NETLINK_EXT_ACK)")
                var tv = timeval(tv_sec: timeout, tv_usec: 0)
                _ = try systemCall("setsockopt(SO_RCVTIMEO)") {
                    setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                }
            case .linkEvents(let bytes, let optionalGroups):
                // Subscribe by bind so membership exists before the first dump is requested.
                _ = try systemCall("bind(netlink, RTMGRP_LINK)") { Self.bind(fileDescriptor, groups: UInt32(RTMGRP_LINK)) }
                // Older kernels lack some groups; the reader then learns of those changes otherwise.
                for group in optionalGroups {
                    var g = group
                    if setsockopt(fileDescriptor, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, socklen_t(MemoryLayout<UInt32>.size)) == 0 {
                        joinedGroups.append(group)
                    }
                }
                var size = bytes
                // SO_RCVBUFFORCE needs CAP_NET_ADMIN, which the agent has; fall back quietly.
                if setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                    _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
                }
                let flags = try systemCall("fcntl(F_GETFL)") { fcntl(fileDescriptor, F_GETFL) }
                _ = try systemCall("fcntl(F_SETFL, O_NONBLOCK)") { fcntl(fileDescriptor, F_SETFL, flags | O_NONBLOCK) }
            }
        } catch {
            close(fileDescriptor)
            throw error
        }
    }

    deinit { close(fileDescriptor) }

    /// The kernel picks the port id (nl_pid 0); `groups` are the legacy RTMGRP_* bits to join.
    private static func bind(_ fd: Int32, groups: UInt32) -> Int32 {
        var address = kernelAddress
        address.nl_groups = groups
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
    }

    /// The kernel's address (port id 0, no groups): where requests go.
    private static var kernelAddress: sockaddr_nl {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        return address
    }

    private func setNetlinkOption(_ option: Int32, _ value: Int32, name: String) throws {
        var v = value
        _ = try systemCall(name) {
            setsockopt(fileDescriptor, SOL_NETLINK, option, &v, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    public func send(_ message: [UInt8]) throws {
        _ = try message.withUnsafeBytes { raw in
            var kernel = Self.kernelAddress
            return try withUnsafePointer(to: &kernel) { address in
                try address.withMemoryRebound(to: sockaddr.self, capacity: 1) { to in
                    try systemCall("sendto(netlink)") {
                        sendto(fileDescriptor, raw.baseAddress, raw.count, 0, to, socklen_t(MemoryLayout<sockaddr_nl>.size))
                    }
                }
            }
        }
    }

    public func receive() throws -> NetlinkDatagram {
        var address = sockaddr_nl()
        var length = socklen_t(MemoryLayout<sockaddr_nl>.size)
        let capacity = buffer.count
        let count = try buffer.withUnsafeMutableBytes { raw in
            try withUnsafeMutablePointer(to: &address) { addr in
                try addr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    try systemCall("recvfrom(netlink)") {
                        recvfrom(fileDescriptor, raw.baseAddress, capacity, Int32(MSG_TRUNC), sa, &length)
                    }
                }
            }
        }
        if count > capacity {
            // MSG_TRUNC reports the real size: the datagram did not fit and was cut.
            throw SystemCallError(call: "recvfrom(netlink): datagram of \(count) bytes truncated", errno: EMSGSIZE)
        }
        return NetlinkDatagram(bytes: Array(buffer[0..<count]), senderPort: address.nl_pid)
    }
}
