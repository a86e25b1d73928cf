// Reading kernel state back in bulk for the reliability tests: every link of a namespace in one
// `ip -d -j link show`, the agent's filters on many devices in one `tc -batch`, and the agent's
// event socket in /proc/net/netlink (queued bytes, overrun drops).

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// One link as `ip -d -j link show` reports it.
struct LinkInfo: CustomStringConvertible {
    let index: Int
    let name: String
    let mac: String
    let flags: [String]
    let operState: String
    let mtu: Int
    /// "eui64", "none", ... (nil when the device has no IPv6 state).
    let addrGenMode: String?

    var isAdminUp: Bool { flags.contains("UP") }
    var hasCarrier: Bool { flags.contains("LOWER_UP") }
    var description: String {
        "\(name)(\(index)) \(mac) \(flags.joined(separator: ",")) \(operState) mtu \(mtu) addrgenmode \(addrGenMode ?? "-")"
    }
}

/// The counters /proc/net/netlink keeps for one socket.
struct NetlinkSocketStats {
    /// Bytes queued for the reader (Rmem).
    let queuedBytes: Int
    /// Messages the kernel dropped because the queue was full (overruns).
    let drops: Int
}

extension Testbed {
    /// Every link in `ns`, by name.
    func links(in ns: String) throws -> [String: LinkInfo] { try Testbed.links(in: ns) }

    static func links(in ns: String) throws -> [String: LinkInfo] {
        let json = try Shell.run(["ip", "-n", ns, "-d", "-j", "link", "show"])
        guard let array = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            throw TestbedError("unexpected ip -j output: \(json.prefix(300))")
        }
        var result: [String: LinkInfo] = [:]
        for entry in array {
            guard let name = entry["ifname"] as? String, let index = entry["ifindex"] as? Int else { continue }
            result[name] = LinkInfo(index: index, name: name, mac: entry["address"] as? String ?? "",
                                    flags: entry["flags"] as? [String] ?? [], operState: entry["operstate"] as? String ?? "",
                                    mtu: entry["mtu"] as? Int ?? 0, addrGenMode: entry["inet6_addr_gen_mode"] as? String)
        }
        return result
    }

    /// One link, or nil if `dev` does not exist in `ns`.
    func link(_ ns: String, _ dev: String) throws -> LinkInfo? {
        try links(in: ns)[dev]
    }

    /// The agent's filters (pref 20040) on both hooks of each device, from one `tc -batch` run:
    /// one JSON array per command, in order. Throws if a device is missing.
    func agentFilters(_ ns: String, devices: [String]) throws -> [String: [Hook: [TCFilter]]] {
        try Testbed.agentFilters(in: ns, devices: devices)
    }

    static func agentFilters(in ns: String, devices: [String]) throws -> [String: [Hook: [TCFilter]]] {
        guard !devices.isEmpty else { return [:] }
        let commands = devices.flatMap { dev in [Hook.ingress, .egress].map { "filter show dev \(dev) \($0.rawValue)" } }
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("hnit-tc-\(getpid())-\(UUID().uuidString.prefix(8)).batch")
        try (commands.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try Shell.run(["tc", "-n", ns, "-j", "-batch", file.path])
        let lines = output.split(separator: "\n").map(String.init)
        guard lines.count == commands.count else {
            throw TestbedError("tc -batch printed \(lines.count) results for \(commands.count) commands: \(output.prefix(300))")
        }
        var result: [String: [Hook: [TCFilter]]] = [:]
        var line = 0
        for dev in devices {
            for hook in [Hook.ingress, .egress] {
                result[dev, default: [:]][hook] = try Testbed.parseFilters(lines[line]).filter { $0.pref == Testbed.agentPref }
                line += 1
            }
        }
        return result
    }

    /// The agent's filters on every device of `ns` that has any; empty when none is left.
    func agentFiltersAnywhere(_ ns: String) throws -> [String: [Hook: [TCFilter]]] {
        let all = try agentFilters(ns, devices: try links(in: ns).keys.sorted())
        return all.filter { !$0.value.values.allSatisfy(\.isEmpty) }
    }

    /// The NETLINK_ROUTE socket of `ns` bound to port `port` with multicast groups joined (the
    /// agent's event socket has port = its pid), from /proc/net/netlink.
    func netlinkEventSocket(port: Int32, in ns: String) throws -> NetlinkSocketStats? {
        // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
        for line in try exec(ns, ["cat", "/proc/net/netlink"]).split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: \.isWhitespace)
            guard f.count >= 10, f[1] == "0", Int32(f[2]) == port, f[3] != "00000000",
                  let rmem = Int(f[4]), let drops = Int(f[8]) else { continue }
            return NetlinkSocketStats(queuedBytes: rmem, drops: drops)
        }
        return nil
    }
}

extension AgentProcess {
    /// The hnagent process itself. `ip netns exec` execs the command, so normally that is `pid`;
    /// should it fork instead, the hnagent child is used.
    func agentProcessID() throws -> Int32 {
        func command(_ pid: Int32) -> String? {
            (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if command(pid) == "hnagent" { return pid }
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ Int32($0) }) where command(child) == "hnagent" {
            return child
        }
        throw TestbedError("no hnagent process at pid \(pid) or among its children")
    }

    /// Stops the agent (SIGSTOP) and waits until the kernel says it is stopped, so nothing it
    /// reads from now on is read before `resume()`.
    func pause() throws {
        let target = try agentProcessID()
        kill(target, SIGSTOP)
        try Testbed.waitUntil(timeout: 5, "hnagent (pid \(target)) stopped") {
            let stat = try String(contentsOfFile: "/proc/\(target)/stat", encoding: .utf8)
            // "pid (comm) S ...": the state follows the last ')'.
            guard let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("T")
        }
    }

    /// SIGCONT; harmless when the agent runs (tearDown calls it so SIGTERM can be handled).
    func resume() {
        if let target = try? agentProcessID() { kill(target, SIGCONT) }
    }
}
