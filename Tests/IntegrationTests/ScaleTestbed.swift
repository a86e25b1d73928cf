// Many synthetic/VF pairs in one GUEST namespace, for the scale tests (issue 5: 64 pairs).
//
//   GUEST                                         HOST
//   hnN  02:00:5e:40:00:NN  198.19.N.1/24  <-veth->  phN  (up)
//   vfN  02:00:5e:40:00:NN                 <-veth->  pvN  (up)
//   for N in 1...count; pairs listed in `macvlanVFs` get a macvlan vfN on a veth lwN instead,
//   whose MTU cannot exceed lwN's: a pair the agent can be made to fail.
//
// Built with one `ip -batch` per namespace. Namespaces are named like Testbed's
// ("hnit-<pid>-<n>-<hex>-{guest,host}"), so the same stale-namespace cleanup finds them;
// destroy() deletes both namespaces, which removes every link in them.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class ScaleTestbed {
    let count: Int
    let guest: String
    let host: String
    let macvlanVFs: Set<Int>
    private var namespaces: [String] = []
    private var destroyed = false
    private static var counter = 1000       // apart from Testbed's numbers
    private static let counterLock = NSLock()

    static func hn(_ n: Int) -> String { "hn\(n)" }
    static func vf(_ n: Int) -> String { "vf\(n)" }
    static func mac(_ n: Int) -> String { String(format: "02:00:5e:40:%02x:%02x", n >> 8, n & 0xff) }
    static func address(_ n: Int) -> String { "198.19.\(n).1/24" }

    init(pairs count: Int, macvlanVFs: Set<Int> = []) throws {
        precondition((1...250).contains(count), "addresses are 198.19.N.1/24")
        self.count = count
        self.macvlanVFs = macvlanVFs
        let n: Int = {
            ScaleTestbed.counterLock.lock(); defer { ScaleTestbed.counterLock.unlock() }
            ScaleTestbed.counter += 1
            return ScaleTestbed.counter
        }()
        let id = String(format: "hnit-%d-%d-%04x", Int(getpid()), n, Int.random(in: 0..<0x10000))
        guest = id + "-guest"
        host = id + "-host"
        do {
            try build()
        } catch {
            destroy()
            throw error
        }
    }

    deinit { destroy() }

    private func build() throws {
        for ns in [host, guest] {
            try Shell.run(["ip", "netns", "add", ns])
            namespaces.append(ns)
            try Shell.run(["ip", "-n", ns, "link", "set", "lo", "up"])
            // No IPv6 chatter from 2 x count devices (the agent's addrgenmode is still set).
            _ = Shell.execute(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                               "net.ipv6.conf.default.disable_ipv6=1"])
        }
        var guestLines: [String] = []
        var hostLines: [String] = []
        for n in 1...count {
            let (hn, vf, mac) = (Self.hn(n), Self.vf(n), Self.mac(n))
            guestLines.append("link add \(hn) address \(mac) type veth peer name ph\(n) netns \(host)")
            if macvlanVFs.contains(n) {
                guestLines.append("link add lw\(n) type veth peer name pl\(n) netns \(host)")
                guestLines.append("link set lw\(n) up")
                guestLines.append("link add \(vf) link lw\(n) address \(mac) type macvlan mode private")
                hostLines.append("link set pl\(n) up")
            } else {
                guestLines.append("link add \(vf) address \(mac) type veth peer name pv\(n) netns \(host)")
                hostLines.append("link set pv\(n) up")
            }
            guestLines.append("addr add \(Self.address(n)) dev \(hn)")
            guestLines.append("link set \(hn) up")
            guestLines.append("link set \(vf) up")
            hostLines.append("link set ph\(n) up")
        }
        try batch(guest, guestLines)
        try batch(host, hostLines)
    }

    /// Runs `lines` through `ip -n NS -batch` from a temporary file.
    func batch(_ ns: String, _ lines: [String]) throws {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("hnit-scale-\(getpid())-\(UUID().uuidString.prefix(8)).batch")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try Shell.run(["ip", "-n", ns, "-batch", file.path], timeout: 120)
    }

    /// Removes both namespaces (and with them every link). Safe to call twice.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        for ns in namespaces.reversed() {
            // Anything still running in our own uniquely named namespace was started by us.
            for pid in Shell.execute(["ip", "netns", "pids", ns]).stdout.split(whereSeparator: \.isWhitespace)
                .compactMap({ Int32($0) }) where pid != getpid() {
                kill(pid, SIGKILL)
            }
            _ = Shell.execute(["ip", "netns", "del", ns])
        }
        namespaces.removeAll()
    }
}
