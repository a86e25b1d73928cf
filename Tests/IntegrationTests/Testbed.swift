// A network-namespace testbed for hnagent: the same topology as scripts/lib/testbed.sh, with
// the names and addresses both read from scripts/lib/testbed.env.
//
//   GUEST                          HOST (switch)                 PEER
//   hn0 198.18.0.1/24  <-veth->  p-hn0 --+
//   vf0 (hn0's MAC)    <-veth->  p-vf0 --+-- br0 (stp off) --+-- p-peer <-veth-> eth0 198.18.0.2/24
//
// Namespace names are unique per testbed ("hnit-<pid>-<n>-<rand>-guest" ...); interfaces live
// only inside them. Everything created is recorded and removed by destroy(), which is safe to
// call more than once and is called from tearDown.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

struct WaitTimeout: Error, CustomStringConvertible {
    let message: String
    let timeout: TimeInterval
    let lastError: Error?
    let file: StaticString
    let line: UInt
    var description: String {
        var text = "timed out after \(timeout)s waiting for: \(message) (\(file):\(line))"
        if let lastError { text += "\n  last error from the condition: \(lastError)" }
        return text
    }
}

enum Hook: String { case ingress, egress }

/// One mirred action as `tc -j filter show` reports it.
struct MirredAction: Equatable, CustomStringConvertible {
    let action: String      // "redirect" | "mirror"
    let direction: String   // "ingress" | "egress"
    let target: String      // device name, "*" when the target is gone
    let cookie: String?
    var description: String { "mirred \(direction) \(action) dev \(target)" }
}

/// One tc filter entry (the entries that carry options; the chain/hash-table headers are folded in).
struct TCFilter: CustomStringConvertible {
    let pref: Int
    let kind: String
    let proto: String
    let mirred: [MirredAction]
    /// The filter handle ("800::800") and its actions' indexes: together the filter's identity,
    /// which changes when it is deleted and added again.
    var handle: String = ""
    var actionIndexes: [Int] = []
    var identity: String { "\(pref)/\(handle)/\(actionIndexes)" }
    var description: String { "pref \(pref) \(proto) \(kind) [\(mirred.map(\.description).joined(separator: ", "))]" }
}

struct LinkCounters: CustomStringConvertible {
    var rxPackets: UInt64
    var txPackets: UInt64
    var rxBytes: UInt64
    var txBytes: UInt64
    var description: String { "rx=\(rxPackets)p/\(rxBytes)B tx=\(txPackets)p/\(txBytes)B" }
    static func - (a: LinkCounters, b: LinkCounters) -> LinkCounters {
        LinkCounters(rxPackets: a.rxPackets &- b.rxPackets, txPackets: a.txPackets &- b.txPackets,
                     rxBytes: a.rxBytes &- b.rxBytes, txBytes: a.txBytes &- b.txBytes)
    }
}

struct PingResult: CustomStringConvertible {
    let transmitted: Int
    let received: Int
    let status: Int32
    let output: String
    var lost: Int { transmitted - received }
    var description: String { "\(transmitted) transmitted, \(received) received (exit \(status))" }
}

final class Testbed {
    static let agentPref = 20040
    // Names, addresses and MACs: scripts/lib/testbed.env, shared with scripts/lib/testbed.sh.
    static let hnMAC = TestbedDefinition.value("TB_HN_MAC")
    static let peerMAC = TestbedDefinition.value("TB_PEER_MAC")
    static let guestIP = TestbedDefinition.value("TB_GUEST_IP")
    static let peerIP = TestbedDefinition.value("TB_PEER_IP")
    static let prefixLength = Int(TestbedDefinition.value("TB_PREFIXLEN"))!

    // Interface names (namespace-local).
    static let hn = TestbedDefinition.value("TB_HN"), vf = TestbedDefinition.value("TB_VF")
    static let peerIf = TestbedDefinition.value("TB_PEER_IF"), bridge = TestbedDefinition.value("TB_BR")
    static let hnPort = TestbedDefinition.value("TB_HN_PORT"), vfPort = TestbedDefinition.value("TB_VF_PORT")
    static let peerPort = TestbedDefinition.value("TB_PEER_PORT")

    private static let namePrefix = "hnit"
    private static var counter = 0
    private static let counterLock = NSLock()

    let id: String
    let guest: String
    let host: String
    let peer: String

    private(set) var namespaces: [String] = []
    private(set) var links: [(ns: String, dev: String)] = []
    private var background: [BackgroundProcess] = []
    private var destroyed = false
    /// false (default): IPv6 is disabled in all three namespaces, so no DAD/RS/MLD frames add
    /// noise to the path counters. true: IPv6 on with DAD off (for tests of the agent's IPv6
    /// handling, e.g. addrgenmode on the VF); the testbed never touches the VF's addrgenmode.
    let ipv6: Bool

    static var isRoot: Bool { geteuid() == 0 }

    /// Throws XCTSkip when not root or a required tool is missing.
    static func requireRootAndTools(_ tools: [String] = ["ip", "tc", "bridge", "ping"]) throws {
        guard isRoot else {
            throw XCTSkip("integration tests need root (CAP_NET_ADMIN) for network namespaces")
        }
        let missing = tools.filter { Shell.which($0) == nil }
        if !missing.isEmpty {
            throw XCTSkip("missing tools: \(missing.joined(separator: ", ")) (run scripts/setup)")
        }
    }

    init(withVF: Bool = false, ipv6: Bool = false) throws {
        self.ipv6 = ipv6
        let n: Int = {
            Testbed.counterLock.lock(); defer { Testbed.counterLock.unlock() }
            Testbed.counter += 1
            return Testbed.counter
        }()
        id = String(format: "%@-%d-%d-%04x", Testbed.namePrefix, Int(getpid()), n, Int.random(in: 0..<0x10000))
        guest = id + "-guest"
        host = id + "-host"
        peer = id + "-peer"
        Testbed.reapStale()
        do {
            guard mkdir(stateDirectory, 0o700) == 0 else { throw TestbedError("mkdir \(stateDirectory): errno \(errno)") }
            try build()
            if withVF { try addVF() }
        } catch {
            destroy()
            throw error
        }
    }

    deinit { destroy() }

    // MARK: - Commands

    @discardableResult
    func run(_ args: [String], timeout: TimeInterval = 60) throws -> String {
        try Shell.run(args, timeout: timeout)
    }

    /// Runs a command inside a namespace (`ip netns exec NS ...`).
    @discardableResult
    func exec(_ ns: String, _ args: [String], timeout: TimeInterval = 60) throws -> String {
        try run(["ip", "netns", "exec", ns] + args, timeout: timeout)
    }

    /// Starts a background process inside a namespace; it is killed by destroy().
    func spawn(_ ns: String, _ args: [String]) throws -> BackgroundProcess {
        let p = try BackgroundProcess(["ip", "netns", "exec", ns] + args)
        background.append(p)
        return p
    }

    /// Polls `condition` (every 50 ms) until it returns true or the deadline passes; then throws
    /// WaitTimeout with `message`. A throwing condition counts as false (its error is reported).
    func waitUntil(timeout: TimeInterval, _ message: @autoclosure () -> String = "condition",
                   file: StaticString = #filePath, line: UInt = #line,
                   _ condition: () throws -> Bool) throws {
        try Testbed.waitUntil(timeout: timeout, message(), file: file, line: line, condition)
    }

    static func waitUntil(timeout: TimeInterval, _ message: @autoclosure () -> String = "condition",
                          file: StaticString = #filePath, line: UInt = #line,
                          _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: Error?
        while true {
            do {
                if try condition() { return }
                lastError = nil
            } catch {
                lastError = error
            }
            if Date() >= deadline {
                throw WaitTimeout(message: message(), timeout: timeout, lastError: lastError, file: file, line: line)
            }
            usleep(50_000)
        }
    }

    // MARK: - Topology

    private func addNamespace(_ name: String) throws {
        try run(["ip", "netns", "add", name])
        namespaces.append(name)
        try run(["ip", "-n", name, "link", "set", "lo", "up"])
        let keys = ipv6
            ? ["net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
               "net.ipv6.conf.all.router_solicitations=0", "net.ipv6.conf.default.router_solicitations=0"]
            : ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
        for key in keys {
            _ = Shell.execute(["ip", "netns", "exec", name, "sysctl", "-qw", key])
        }
    }

    private func addVeth(_ nsA: String, _ devA: String, _ nsB: String, _ devB: String, macB: String?) throws {
        var args = ["ip", "-n", nsA, "link", "add", devA, "type", "veth", "peer", "name", devB]
        if let macB { args += ["address", macB] }
        args += ["netns", nsB]
        try run(args)
        links.append((nsA, devA))
    }

    private func build() throws {
        try addNamespace(host)
        try addNamespace(guest)
        try addNamespace(peer)

        try run(["ip", "-n", host, "link", "add", Testbed.bridge, "type", "bridge",
                 "stp_state", "0", "forward_delay", "0"])
        links.append((host, Testbed.bridge))
        try run(["ip", "-n", host, "link", "set", Testbed.bridge, "up"])

        try addVeth(host, Testbed.hnPort, guest, Testbed.hn, macB: Testbed.hnMAC)
        try run(["ip", "-n", host, "link", "set", Testbed.hnPort, "master", Testbed.bridge, "up"])
        try run(["ip", "-n", guest, "addr", "add", "\(Testbed.guestIP)/\(Testbed.prefixLength)", "dev", Testbed.hn])
        try run(["ip", "-n", guest, "link", "set", Testbed.hn, "up"])

        try addVeth(host, Testbed.peerPort, peer, Testbed.peerIf, macB: Testbed.peerMAC)
        try run(["ip", "-n", host, "link", "set", Testbed.peerPort, "master", Testbed.bridge, "up"])
        try run(["ip", "-n", peer, "addr", "add", "\(Testbed.peerIP)/\(Testbed.prefixLength)", "dev", Testbed.peerIf])
        try run(["ip", "-n", peer, "link", "set", Testbed.peerIf, "up"])

        try waitUntil(timeout: 5, "hn0 and peer eth0 operationally up") {
            try operState(guest, Testbed.hn) == "up" && operState(peer, Testbed.peerIf) == "up"
        }
    }

    /// Hot-plugs vf0 into GUEST (hn0's MAC, no address), its HOST end on br0, both up.
    func addVF() throws {
        try addVeth(host, Testbed.vfPort, guest, Testbed.vf, macB: Testbed.hnMAC)
        try run(["ip", "-n", host, "link", "set", Testbed.vfPort, "master", Testbed.bridge, "up"])
        try run(["ip", "-n", guest, "link", "set", Testbed.vf, "up"])
        try waitUntil(timeout: 5, "vf0 operationally up") { try operState(guest, Testbed.vf) == "up" }
    }

    /// Hot-unplugs vf0 (deleting the GUEST end removes the pair).
    func deleteVF() throws {
        try run(["ip", "-n", guest, "link", "del", Testbed.vf])
        links.removeAll { $0.ns == host && $0.dev == Testbed.vfPort }
    }

    /// Removes hn0 (its HOST end goes with it) and creates it again with the same MAC, address
    /// and bridge port: a synthetic NIC that was reset by its driver.
    func recreateSynthetic() throws {
        try run(["ip", "-n", guest, "link", "del", Testbed.hn])
        links.removeAll { $0.ns == host && $0.dev == Testbed.hnPort }
        try addVeth(host, Testbed.hnPort, guest, Testbed.hn, macB: Testbed.hnMAC)
        try run(["ip", "-n", host, "link", "set", Testbed.hnPort, "master", Testbed.bridge, "up"])
        try run(["ip", "-n", guest, "addr", "add", "\(Testbed.guestIP)/\(Testbed.prefixLength)", "dev", Testbed.hn])
        try run(["ip", "-n", guest, "link", "set", Testbed.hn, "up"])
    }

    /// vf0 loses (or regains) carrier: its HOST end goes down (up), as when the host pulls the link.
    func setVFCarrier(_ on: Bool) throws {
        try run(["ip", "-n", host, "link", "set", Testbed.vfPort, on ? "up" : "down"])
    }

    /// `ethtool -k DEV` as name -> on, e.g. "tx-tcp-segmentation": false.
    func features(_ ns: String, _ dev: String) throws -> [String: Bool] {
        var result: [String: Bool] = [:]
        for line in try exec(ns, ["ethtool", "-k", dev]).split(separator: "\n") {
            let parts = line.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("on") { result[String(parts[0])] = true } else if value.hasPrefix("off") { result[String(parts[0])] = false }
        }
        return result
    }

    /// `ip -d link show DEV` as one line (MTU, flags, link mode, GSO limits).
    func linkDetails(_ ns: String, _ dev: String) throws -> String {
        try exec(ns, ["ip", "-d", "link", "show", dev]).replacingOccurrences(of: "\n", with: " ")
    }

    /// A number after `key` in `ip -d link show` (e.g. "gso_max_size").
    func linkNumber(_ ns: String, _ dev: String, _ key: String) throws -> Int? {
        let words = try linkDetails(ns, dev).split(separator: " ")
        guard let i = words.firstIndex(of: Substring(key)), i + 1 < words.count else { return nil }
        return Int(words[i + 1])
    }

    func vfDown() throws { try run(["ip", "-n", guest, "link", "set", Testbed.vf, "down"]) }
    func vfUp() throws { try run(["ip", "-n", guest, "link", "set", Testbed.vf, "up"]) }

    /// Removes everything this testbed made. Safe to call twice.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        for p in background { p.terminate(timeout: 2) }
        background.removeAll()
        // Anything still running in our own uniquely named namespaces was started by this testbed.
        for ns in namespaces { Testbed.killProcesses(in: ns) }
        for link in links.reversed() {
            _ = Shell.execute(["ip", "-n", link.ns, "link", "del", link.dev])
        }
        for ns in namespaces.reversed() {
            _ = Shell.execute(["ip", "netns", "del", ns])
        }
        links.removeAll()
        namespaces.removeAll()
        // Whatever a test put there too (FIFOs, symlinks: removed, never followed).
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    /// The agents of this testbed keep their saved originals here (not in /run/hnagent, which
    /// belongs to a real agent and to other tests); one file, so a restarted agent finds it.
    /// Its directory is root's and 0700: the agent refuses a state directory others can write.
    var stateFile: String { stateDirectory + "/state" }
    var stateDirectory: String { NSTemporaryDirectory() + "/\(id).statedir" }

    private static func killProcesses(in ns: String) {
        let pids = Shell.execute(["ip", "netns", "pids", ns]).stdout
            .split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        for pid in pids where pid != getpid() { kill(pid, SIGKILL) }
    }

    /// Removes namespaces left by an earlier test process that died without tearDown
    /// ("hnit-<pid>-..." whose <pid> no longer exists).
    private static var reaped = false
    private static func reapStale() {
        counterLock.lock()
        let first = !reaped
        reaped = true
        counterLock.unlock()
        guard first else { return }
        let names = Shell.execute(["ip", "netns", "list"]).stdout
            .split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        for name in names {
            let parts = name.split(separator: "-")
            guard parts.count == 5, parts[0] == Substring(namePrefix), let pid = Int32(parts[1]),
                  ["guest", "host", "peer"].contains(String(parts[4])) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                killProcesses(in: name)
                _ = Shell.execute(["ip", "netns", "del", name])
            }
        }
    }

    // MARK: - Kernel state

    func operState(_ ns: String, _ dev: String) throws -> String {
        try exec(ns, ["cat", "/sys/class/net/\(dev)/operstate"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func linkExists(_ ns: String, _ dev: String) -> Bool {
        Shell.execute(["ip", "-n", ns, "link", "show", "dev", dev]).succeeded
    }

    func ifindex(_ ns: String, _ dev: String) throws -> Int {
        let text = try exec(ns, ["cat", "/sys/class/net/\(dev)/ifindex"]).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = Int(text) else { throw TestbedError("bad ifindex for \(dev): \(text)") }
        return value
    }

    /// All filters on DEV's clsact hook, parsed from `tc -j filter show dev DEV HOOK`.
    /// Throws if the device does not exist.
    func filters(_ ns: String, _ dev: String, _ hook: Hook) throws -> [TCFilter] {
        let json = try exec(ns, ["tc", "-j", "filter", "show", "dev", dev, hook.rawValue])
        return try Testbed.parseFilters(json)
    }

    static func parseFilters(_ json: String) throws -> [TCFilter] {
        let trimmed = json.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [] }
        guard let array = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [[String: Any]] else {
            throw TestbedError("unexpected tc -j output: \(trimmed.prefix(500))")
        }
        var result: [TCFilter] = []
        for entry in array {
            guard let options = entry["options"] as? [String: Any],
                  let actions = options["actions"] as? [[String: Any]] else { continue }
            let mirred = actions.filter { ($0["kind"] as? String) == "mirred" }.map {
                MirredAction(action: $0["mirred_action"] as? String ?? "?",
                             direction: $0["direction"] as? String ?? "?",
                             target: $0["to_dev"] as? String ?? "*",
                             cookie: $0["cookie"] as? String)
            }
            result.append(TCFilter(pref: entry["pref"] as? Int ?? -1,
                                   kind: entry["kind"] as? String ?? "?",
                                   proto: entry["protocol"] as? String ?? "?",
                                   mirred: mirred,
                                   handle: options["fh"] as? String ?? "",
                                   actionIndexes: actions.compactMap { $0["index"] as? Int }))
        }
        return result
    }

    /// The kernel's index of the mirred action in the agent's filter on DEV's hook, and its
    /// packet count: a filter that was removed and added again has a new index and starts at 0.
    func agentActionIdentity(_ ns: String, _ dev: String, _ hook: Hook) throws -> (index: Int, packets: Int)? {
        let json = try exec(ns, ["tc", "-s", "-j", "filter", "show", "dev", dev, hook.rawValue])
        let trimmed = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty,
              let array = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [[String: Any]] else { return nil }
        for entry in array where entry["pref"] as? Int == Testbed.agentPref {
            guard let options = entry["options"] as? [String: Any],
                  let actions = options["actions"] as? [[String: Any]],
                  let mirred = actions.first(where: { ($0["kind"] as? String) == "mirred" }),
                  let index = mirred["index"] as? Int else { continue }
            let stats = mirred["stats"] as? [String: Any]
            return (index, stats?["packets"] as? Int ?? 0)
        }
        return nil
    }

    /// The agent's filters (pref 20040) on DEV's hook.
    func agentFilters(_ ns: String, _ dev: String, _ hook: Hook) throws -> [TCFilter] {
        try filters(ns, dev, hook).filter { $0.pref == Testbed.agentPref }
    }

    /// The single mirred action of the agent's filter on DEV's hook, or nil if there is no
    /// pref-20040 filter. Throws if the device is missing.
    func agentRedirect(_ ns: String, _ dev: String, _ hook: Hook) throws -> MirredAction? {
        try agentFilters(ns, dev, hook).flatMap(\.mirred).first
    }

    /// True when the kernel holds both steering filters as the agent must install them:
    /// vf0 ingress -> mirred ingress redirect hn0, hn0 egress -> mirred egress redirect vf0.
    func steeringInstalled() throws -> Bool {
        let vfIn = try agentFilters(guest, Testbed.vf, .ingress)
        let hnOut = try agentFilters(guest, Testbed.hn, .egress)
        let vfOK = vfIn.contains { $0.kind == "u32" && $0.proto == "all" && $0.mirred.contains {
            $0.action == "redirect" && $0.direction == "ingress" && $0.target == Testbed.hn } }
        let hnOK = hnOut.contains { $0.kind == "u32" && $0.proto == "all" && $0.mirred.contains {
            $0.action == "redirect" && $0.direction == "egress" && $0.target == Testbed.vf } }
        return vfOK && hnOK
    }

    /// hn0 has no agent filter on egress (traffic leaves through the synthetic path).
    func hnEgressRedirectGone() throws -> Bool {
        try agentFilters(guest, Testbed.hn, .egress).isEmpty
    }

    func hasClsact(_ ns: String, _ dev: String) throws -> Bool {
        let json = try exec(ns, ["tc", "-j", "qdisc", "show", "dev", dev])
        let trimmed = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty,
              let array = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [[String: Any]] else {
            return false
        }
        return array.contains { ($0["kind"] as? String) == "clsact" }
    }

    /// Link counters from `ip -j -s link show dev DEV` in NS.
    func counters(_ ns: String, _ dev: String) throws -> LinkCounters {
        let json = try run(["ip", "-n", ns, "-j", "-s", "link", "show", "dev", dev])
        guard let array = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]],
              let stats = (array.first?["stats64"] ?? array.first?["stats"]) as? [String: Any],
              let rx = stats["rx"] as? [String: Any], let tx = stats["tx"] as? [String: Any] else {
            throw TestbedError("cannot parse link stats of \(dev) in \(ns): \(json.prefix(500))")
        }
        func num(_ d: [String: Any], _ k: String) -> UInt64 {
            if let n = d[k] as? NSNumber { return n.uint64Value }
            return 0
        }
        return LinkCounters(rxPackets: num(rx, "packets"), txPackets: num(tx, "packets"),
                            rxBytes: num(rx, "bytes"), txBytes: num(tx, "bytes"))
    }

    /// Counters of the VF (GUEST side) and of hn0's HOST-side port (the synthetic path).
    func vfCounters() throws -> LinkCounters { try counters(guest, Testbed.vf) }
    func syntheticPortCounters() throws -> LinkCounters { try counters(host, Testbed.hnPort) }

    /// Bridge ports on which HOST's br0 has learned `mac` (normally one).
    func fdbPorts(for mac: String = Testbed.hnMAC) -> [String] {
        Shell.execute(["bridge", "-n", host, "fdb", "show", "br", Testbed.bridge]).stdout
            .split(separator: "\n")
            .filter { $0.lowercased().hasPrefix(mac.lowercased() + " ") }
            .compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard let i = words.firstIndex(of: "dev"), i + 1 < words.count else { return nil }
                return String(words[i + 1])
            }
    }

    /// `ping` from PEER to the guest. Does not throw on packet loss; read the result.
    func ping(count: Int, interval: Double = 0.01, from ns: String? = nil, to address: String = Testbed.guestIP,
              timeout: TimeInterval? = nil) throws -> PingResult {
        let args = ["ip", "netns", "exec", ns ?? peer, "ping", "-n", "-q", "-c", String(count),
                    "-i", String(interval), "-W", "1", address]
        let result = Shell.execute(args, timeout: timeout ?? (Double(count) * max(interval, 0.002) + 15))
        if result.timedOut { throw CommandError(commandLine: result.commandLine, status: result.status,
                                                stdout: result.stdout, stderr: result.stderr, timedOut: true) }
        guard let (tx, rx) = Testbed.parsePingSummary(result.stdout) else {
            throw CommandError(commandLine: result.commandLine, status: result.status,
                               stdout: result.stdout, stderr: result.stderr, timedOut: false)
        }
        return PingResult(transmitted: tx, received: rx, status: result.status, output: result.stdout)
    }

    static func parsePingSummary(_ text: String) -> (Int, Int)? {
        for line in text.split(separator: "\n") where line.contains("packets transmitted") {
            let parts = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 2,
                  let tx = Int(parts[0].split(separator: " ").first ?? ""),
                  let rx = Int(parts[1].split(separator: " ").first ?? "") else { return nil }
            return (tx, rx)
        }
        return nil
    }

    /// A one-line dump of the state that matters when a test fails.
    func stateSummary() -> String {
        var lines: [String] = ["testbed \(id):"]
        for (dev, hook) in [(Testbed.vf, Hook.ingress), (Testbed.hn, .egress), (Testbed.hn, .ingress), (Testbed.vf, .egress)] {
            let text = (try? filters(guest, dev, hook).map(\.description).joined(separator: "; ")) ?? "<no device>"
            lines.append("  \(dev) \(hook.rawValue): \(text.isEmpty ? "<none>" : text)")
        }
        lines.append("  fdb \(Testbed.hnMAC): \(fdbPorts())")
        if let c = try? vfCounters() { lines.append("  vf0: \(c)") }
        if let c = try? syntheticPortCounters() { lines.append("  HOST \(Testbed.hnPort): \(c)") }
        return lines.joined(separator: "\n")
    }
}

struct TestbedError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
