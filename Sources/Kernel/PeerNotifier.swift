import CNetlink
import Glibc
import NetlinkCodecs
import POSIX
import Policy

/// Sends the peer notifications for one synthetic NIC. Tests use a recording fake.
public protocol PeerNotifier: AnyObject {
    /// One round: a gratuitous ARP per IPv4 address, an unsolicited neighbour advertisement per
    /// IPv6 address. Returns how many of each left.
    func announce(_ addresses: [InterfaceAddress], on device: LinkSnapshot) throws -> (arps: Int, advertisements: Int)
}

/// Real sockets. Packets are sent on the synthetic NIC itself: while steering, its clsact
/// egress redirect carries them out of the VF; after a fallback they leave on the synthetic
/// path. Either way they take the path the next packets will take, which is what the switch
/// must learn.
public final class SocketPeerNotifier: PeerNotifier {
    private let packetSocket: Int32
    private let icmpSocket: Int32

    /// Needs CAP_NET_RAW; throws otherwise, and the agent then runs without notifications.
    public init() throws {
        packetSocket = try systemCall("socket(AF_PACKET, SOCK_DGRAM)") {
            socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            icmpSocket = try systemCall("socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)") {
                socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
            }
        } catch {
            close(packetSocket)
            throw error
        }
        // Neighbour discovery packets must carry hop limit 255 (RFC 4861 7.1.2).
        var hops: Int32 = 255
        _ = setsockopt(icmpSocket, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, socklen_t(MemoryLayout<Int32>.size))
        do {
            try Self.receiveNothing(icmpSocket)
        } catch {
            close(packetSocket)
            close(icmpSocket)
            throw error
        }
    }

    /// The ICMPv6 socket only sends and is never read: without a filter the kernel would queue a
    /// copy of every ICMPv6 packet of the namespace on it until its receive buffer is full.
    private static func receiveNothing(_ fd: Int32) throws {
        // struct icmp6_filter from netinet/icmp6.h (not in Swift's Glibc module): 256 bits, one
        // per ICMPv6 type; all set blocks every type (glibc's ICMP6_FILTER_SETBLOCKALL).
        let icmp6Filter: Int32 = 1 // ICMP6_FILTER
        var blockAll = [UInt32](repeating: .max, count: 8)
        _ = try systemCall("setsockopt(ICMP6_FILTER, block all)") {
            setsockopt(fd, Int32(IPPROTO_ICMPV6), icmp6Filter, &blockAll, socklen_t(blockAll.count * 4))
        }
        // What arrived between socket() and the filter.
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) >= 0 {}
    }

    deinit {
        close(packetSocket)
        close(icmpSocket)
    }

    public func announce(_ addresses: [InterfaceAddress], on device: LinkSnapshot) throws -> (arps: Int, advertisements: Int) {
        guard let mac = device.mac else { return (0, 0) }
        var arps = 0, advertisements = 0
        var firstError: Error?
        for address in addresses where !address.unusable {
            do {
                switch address.family {
                case .ipv4:
                    try sendARP(PeerNotificationFrames.gratuitousARP(mac: mac, ipv4: address.bytes), device: device.index)
                    arps += 1
                case .ipv6:
                    try sendNA(PeerNotificationFrames.neighbourAdvertisement(mac: mac, target: address.bytes),
                               device: device.index)
                    advertisements += 1
                }
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if arps + advertisements == 0, let firstError { throw firstError }
        return (arps, advertisements)
    }

    private func sendARP(_ payload: [UInt8], device: InterfaceIndex) throws {
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = UInt16(0x0806).bigEndian // ETH_P_ARP
        address.sll_ifindex = device.rawValue
        address.sll_halen = 6
        withUnsafeMutableBytes(of: &address.sll_addr) { raw in
            for i in 0..<6 { raw[i] = 0xFF }
        }
        _ = try payload.withUnsafeBytes { raw in
            try withUnsafePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    try systemCall("sendto(AF_PACKET ARP)") {
                        sendto(packetSocket, raw.baseAddress, raw.count, 0, sa, socklen_t(MemoryLayout<sockaddr_ll>.size))
                    }
                }
            }
        }
    }

    private func sendNA(_ payload: [UInt8], device: InterfaceIndex) throws {
        var ifindex = UInt32(bitPattern: device.rawValue)
        _ = try systemCall("setsockopt(IPV6_MULTICAST_IF)") {
            setsockopt(icmpSocket, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &ifindex, socklen_t(MemoryLayout<UInt32>.size))
        }
        var destination = sockaddr_in6()
        destination.sin6_family = sa_family_t(AF_INET6)
        destination.sin6_scope_id = ifindex
        withUnsafeMutableBytes(of: &destination.sin6_addr) { raw in
            raw[0] = 0xFF; raw[1] = 0x02; raw[15] = 0x01 // ff02::1, all nodes
        }
        _ = try payload.withUnsafeBytes { raw in
            try withUnsafePointer(to: &destination) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    try systemCall("sendto(ICMPv6 neighbour advertisement)") {
                        sendto(icmpSocket, raw.baseAddress, raw.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            }
        }
    }
}
