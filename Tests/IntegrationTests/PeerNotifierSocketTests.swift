// Issue 11 item 12 (root only): the raw ICMPv6 socket the agent sends unsolicited neighbour
// advertisements from is never read, so it must receive nothing; otherwise every ICMPv6 packet
// that reaches the namespace is queued on it until its receive buffer is full.

import Foundation
import XCTest

final class PeerNotifierSocketTests: IntegrationTestCase {
    func testICMPv6SocketQueuesNothingWhilePeersPingTheSyntheticNIC() throws {
        let tb = try Testbed(withVF: true, ipv6: true)
        testbed = tb
        let a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        let linkLocal = try XCTUnwrap(try tb.exec(tb.guest, ["ip", "-6", "-o", "addr", "show", "dev", Testbed.hn, "scope", "link"])
            .split(separator: " ").first { $0.hasPrefix("fe80:") }.map { String($0.split(separator: "/")[0]) },
            "hn0 has an IPv6 link-local address")

        // Echo requests from PEER reach hn0 (through the VF): each is an ICMPv6 packet in GUEST.
        let ping = try tb.ping(count: 200, interval: 0.002, to: "\(linkLocal)%\(Testbed.peerIf)")
        XCTAssertGreaterThan(ping.received, 150, "\(ping)")

        let sockets = try agentICMPv6Sockets(pid: a.pid)
        XCTAssertEqual(sockets.count, 1, "one raw ICMPv6 socket for neighbour advertisements: \(sockets)")
        for socket in sockets {
            XCTAssertEqual(socket.rxQueue, 0, "bytes waiting on the agent's never-read ICMPv6 socket: \(socket.line)")
            XCTAssertEqual(socket.drops, 0, "packets the full socket dropped: \(socket.line)")
        }
    }

    /// The agent's raw IPv6 sockets of protocol 58 (ICMPv6), from /proc/PID/net/raw6 (the agent's
    /// namespace) matched by inode with the agent's descriptors.
    private func agentICMPv6Sockets(pid: Int32) throws -> [(line: String, rxQueue: Int, drops: Int)] {
        let fdDirectory = "/proc/\(pid)/fd"
        var inodes = Set<String>()
        for entry in try FileManager.default.contentsOfDirectory(atPath: fdDirectory) {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(entry)")) ?? ""
            if target.hasPrefix("socket:[") { inodes.insert(String(target.dropFirst(8).dropLast())) }
        }
        let table = try String(contentsOfFile: "/proc/\(pid)/net/raw6", encoding: .utf8)
        // sl local_address remote_address st tx_queue:rx_queue tr tm->when retrnsmt uid timeout inode ref pointer drops
        return table.split(separator: "\n").dropFirst().compactMap { row in
            let fields = row.split(separator: " ")
            guard fields.count >= 13, inodes.contains(String(fields[9])), fields[1].hasSuffix(":003A") else { return nil }
            let queues = fields[4].split(separator: ":")
            return (String(row), Int(queues.last ?? "", radix: 16) ?? -1, Int(fields[fields.count - 1]) ?? -1)
        }
    }
}
