// Issue 6 against a running agent in a namespace testbed (root only): status, events and metrics
// over the real control socket, read with the real CLI and checked against the kernel's own
// counters (tc action stats, link stats, the peer's counters) and real hot-plugs; a non-root
// client refused; counters continuous when the VF leaves mid-traffic; the VF hygiene warning.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class OperatorIntegrationTests: IntegrationTestCase {
    /// The test's one scratch directory, world-readable (for the binary's copy run as nobody).
    private func operatorScratch() throws -> URL {
        if let made = scratchDirectories.first { return made }
        let url = try scratchDirectory("hnagent-ops")
        chmod(url.path, 0o755)
        return url
    }

    // MARK: - Helpers

    /// Runs `hnagent ARGS --socket SOCKET`; as uid/gid 65534 with `asNobody` (from a copy of the
    /// binary in a world-readable directory, since the build tree may not be).
    private func cli(_ arguments: [String], socket: String, asNobody: Bool = false, timeout: TimeInterval = 30) throws -> CommandResult {
        var binary = try AgentProcess.binaryURL().path
        var prefix: [String] = []
        if asNobody {
            guard Shell.which("setpriv") != nil else { throw XCTSkip("setpriv (util-linux) not installed") }
            let copy = try operatorScratch().appendingPathComponent("hnagent").path
            if !FileManager.default.fileExists(atPath: copy) {
                try FileManager.default.copyItem(atPath: binary, toPath: copy)
                chmod(copy, 0o755)
            }
            binary = copy
            prefix = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        }
        return Shell.execute(prefix + [binary] + arguments + ["--socket", socket], timeout: timeout)
    }

    /// `hnagent status --json` from the agent, parsed.
    private func status(_ a: AgentProcess, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let result = try cli(["status", "--json"], socket: a.controlSocket)
        XCTAssertEqual(result.status, 0, "status --json: \(result.stderr)", file: file, line: line)
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw TestbedError("status --json is not a JSON object: \(result.stdout.prefix(500))")
        }
        return object
    }

    /// The first (only) pair of a status report.
    private func onlyPair(_ report: [String: Any]) throws -> [String: Any] {
        let pairs = try XCTUnwrap(report["pairs"] as? [[String: Any]], "pairs in \(report)")
        XCTAssertEqual(pairs.count, 1, "one synthetic NIC in the testbed")
        return try XCTUnwrap(pairs.first)
    }

    private struct Counts: Equatable, CustomStringConvertible {
        var rxPackets: UInt64, rxBytes: UInt64, txPackets: UInt64, txBytes: UInt64
        var description: String { "rx=\(rxPackets)p/\(rxBytes)B tx=\(txPackets)p/\(txBytes)B" }
        static func - (a: Counts, b: Counts) -> Counts {
            Counts(rxPackets: a.rxPackets &- b.rxPackets, rxBytes: a.rxBytes &- b.rxBytes,
                   txPackets: a.txPackets &- b.txPackets, txBytes: a.txBytes &- b.txBytes)
        }
        func atLeast(_ other: Counts) -> Bool {
            rxPackets >= other.rxPackets && rxBytes >= other.rxBytes && txPackets >= other.txPackets && txBytes >= other.txBytes
        }
    }

    /// traffic.<path> of a pair ("via_vf", "synthetic", "total", "recovered_at_vf_removal").
    private func traffic(_ pair: [String: Any], _ path: String) throws -> Counts {
        let traffic = try XCTUnwrap(pair["traffic"] as? [String: Any])
        let c = try XCTUnwrap(traffic[path] as? [String: Any], "traffic.\(path)")
        func n(_ key: String) -> UInt64 { (c[key] as? NSNumber)?.uint64Value ?? 0 }
        return Counts(rxPackets: n("rx_packets"), rxBytes: n("rx_bytes"), txPackets: n("tx_packets"), txBytes: n("tx_bytes"))
    }

    private func counts(_ link: LinkCounters) -> Counts {
        Counts(rxPackets: link.rxPackets, rxBytes: link.rxBytes, txPackets: link.txPackets, txBytes: link.txBytes)
    }

    /// `Counts` back to the testbed's counter type, for subtracting from fresh readings.
    private func vfBaseline(_ counts: Counts) -> LinkCounters {
        LinkCounters(rxPackets: counts.rxPackets, txPackets: counts.txPackets, rxBytes: counts.rxBytes, txBytes: counts.txBytes)
    }

    private func warmUp(_ tb: Testbed) throws {
        try tb.waitUntil(timeout: 5, "bridge learning hn0's MAC on \(Testbed.vfPort)") {
            _ = try tb.ping(count: 2, interval: 0.01)
            return tb.fdbPorts() == [Testbed.vfPort]
        }
    }

    // MARK: - status

    func testStatusOverTheSocketMatchesTheKernel() throws {
        let (tb, a) = try startSteered()
        try warmUp(tb)
        let ping = try tb.ping(count: 100, interval: 0.005)
        XCTAssertEqual(ping.received, 100, "\(ping)")

        let report = try status(a)
        // Kernel readings right after: no traffic in between (IPv6 is off in the testbed).
        let vfIngress = try XCTUnwrap(try tb.relayActionStats(tb.guest, Testbed.vf, .ingress), "agent filter on vf0 ingress")
        let hnEgress = try XCTUnwrap(try tb.relayActionStats(tb.guest, Testbed.hn, .egress), "agent filter on hn0 egress")
        let hnLink = counts(try tb.counters(tb.guest, Testbed.hn))

        let agent = try XCTUnwrap(report["agent"] as? [String: Any])
        XCTAssertEqual((agent["pid"] as? NSNumber)?.int32Value, a.pid)
        XCTAssertEqual(agent["mode"] as? String, "transparent")
        XCTAssertEqual(agent["control_socket"] as? String, a.controlSocket)
        XCTAssertGreaterThan((agent["reconciles"] as? NSNumber)?.intValue ?? 0, 0)
        // This kernel lacks cls_matchall: the probe chose the u32 fallback, said so, left lo as
        // it found it, and the relay really is u32.
        XCTAssertEqual(agent["relay_classifier"] as? String, "u32")
        XCTAssertEqual(a.logLines(containing: "relay classifier u32: this kernel has no cls_matchall").count, 1, a.log)
        XCTAssertFalse(try Shell.run(["tc", "-n", tb.guest, "qdisc", "show", "dev", "lo"]).contains("clsact"),
                       "the probe's clsact on lo is gone")
        let relay = try tb.agentFilters(tb.guest, devices: [Testbed.hn, Testbed.vf])
        XCTAssertEqual(relay[Testbed.hn]?[.egress]?.map(\.kind), ["u32"], "\(relay)")
        XCTAssertEqual(relay[Testbed.vf]?[.ingress]?.map(\.kind), ["u32"], "\(relay)")

        let pair = try onlyPair(report)
        let synthetic = try XCTUnwrap(pair["synthetic"] as? [String: Any])
        XCTAssertEqual(synthetic["name"] as? String, Testbed.hn)
        XCTAssertEqual((synthetic["ifindex"] as? NSNumber)?.intValue, try tb.ifindex(tb.guest, Testbed.hn))
        XCTAssertEqual(synthetic["mac"] as? String, Testbed.hnMAC)
        let vf = try XCTUnwrap(pair["vf"] as? [String: Any])
        XCTAssertEqual(vf["name"] as? String, Testbed.vf)
        XCTAssertEqual((vf["ifindex"] as? NSNumber)?.intValue, try tb.ifindex(tb.guest, Testbed.vf))
        XCTAssertEqual(pair["state"] as? String, "steering")
        let since = try XCTUnwrap((pair["since_seconds_ago"] as? NSNumber)?.doubleValue)
        XCTAssertGreaterThan(since, 0)
        XCTAssertLessThanOrEqual(since, (agent["uptime_seconds"] as? NSNumber)?.doubleValue ?? 0)
        XCTAssertEqual((pair["switches_to_vf"] as? NSNumber)?.intValue, 1)
        XCTAssertEqual((pair["switches_to_synthetic"] as? NSNumber)?.intValue, 0)
        let last = try XCTUnwrap(pair["last_switch"] as? [String: Any])
        XCTAssertEqual(last["direction"] as? String, "to-vf")
        let switchMs = try XCTUnwrap((last["switch_ms"] as? NSNumber)?.doubleValue)
        XCTAssertTrue(switchMs > 0 && switchMs < 2000, "switch_ms \(switchMs)")

        // Traffic: the relay's numbers are the kernel's action counters, the synthetic path is
        // hn0's own link counters, and the total is their sum.
        let viaVF = try traffic(pair, "via_vf")
        XCTAssertEqual(viaVF.rxPackets, vfIngress.packets, "RX through the VF = vf0 ingress mirred counters")
        XCTAssertEqual(viaVF.rxBytes, vfIngress.bytes)
        XCTAssertEqual(viaVF.txPackets, hnEgress.packets, "TX through the VF = hn0 egress mirred counters")
        XCTAssertEqual(viaVF.txBytes, hnEgress.bytes)
        XCTAssertGreaterThanOrEqual(viaVF.rxPackets, 100)
        XCTAssertGreaterThanOrEqual(viaVF.txPackets, 100)
        XCTAssertEqual(try traffic(pair, "synthetic"), hnLink, "synthetic path = hn0's link counters")
        let total = try traffic(pair, "total")
        XCTAssertEqual(total.rxPackets, viaVF.rxPackets + hnLink.rxPackets)
        XCTAssertEqual(total.txBytes, viaVF.txBytes + hnLink.txBytes)

        // What the agent changed, with what it restores.
        let changes = try XCTUnwrap(pair["changes"] as? [[String: Any]])
        func settings(_ nic: String) -> [String: [String: Any]] {
            let entry = changes.first { $0["interface"] as? String == nic }
            let list = entry?["changes"] as? [[String: Any]] ?? []
            return Dictionary(list.map { ($0["setting"] as? String ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
        }
        XCTAssertEqual(settings(Testbed.vf)["addrgenmode"]?["original"] as? String, "eui64")
        XCTAssertEqual(settings(Testbed.vf)["addrgenmode"]?["current"] as? String, "none")
        XCTAssertEqual(settings(Testbed.vf)["clsact qdisc"]?["current"] as? String, "added by hnagent")
        XCTAssertEqual(settings(Testbed.hn)["link mode"]?["original"] as? String, "default")
        XCTAssertEqual(settings(Testbed.hn)["link mode"]?["current"] as? String, "dormant")
        XCTAssertEqual(settings(Testbed.hn)["clsact qdisc"]?["original"] as? String, "none")
        XCTAssertEqual(pair["vf_addresses"] as? [String], [])

        // The table for humans says the same.
        let table = try cli(["status"], socket: a.controlSocket)
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("hnagent pid \(a.pid): transparent mode"), table.stdout)
        XCTAssertTrue(table.stdout.contains(", relay u32;"), table.stdout)
        let row = table.stdout.split(separator: "\n").first { $0.hasPrefix("hn0(") }.map(String.init) ?? ""
        XCTAssertTrue(row.contains("vf0(") && row.contains("steering") && row.contains("to-vf"), row)
        XCTAssertTrue(table.stdout.contains("changed on vf0("), table.stdout)
        print(table.stdout)
    }

    /// Status reads the relay's counters from one dump of every mirred action in the namespace:
    /// another tool's actions there, one even with the agent's cookie but bound to no filter and
    /// one bound to a filter of its own on hn0, are not taken for the agent's. The numbers are
    /// still those of the agent's filters, as tc reports them, before and after more traffic.
    func testStatusCountersIgnoreAnotherToolsMirredActions() throws {
        let (tb, a) = try startSteered()
        try warmUp(tb)
        try tb.exec(tb.guest, ["tc", "actions", "add", "action", "mirred", "egress", "redirect", "dev", Testbed.vf,
                               "index", "4242", "cookie", Testbed.agentCookie])
        try tb.exec(tb.guest, ["tc", "filter", "add", "dev", Testbed.hn, "egress", "prio", "7", "protocol", "all", "u32",
                               "match", "u32", "0xdeadbeef", "0xffffffff", "at", "0",
                               "action", "mirred", "egress", "redirect", "dev", Testbed.vf])
        for round in 1...2 {
            let ping = try tb.ping(count: 50 * round, interval: 0.005)
            XCTAssertEqual(ping.received, 50 * round, "\(ping)")
            let viaVF = try traffic(try onlyPair(try status(a)), "via_vf")
            let vfIngress = try XCTUnwrap(try tb.relayActionStats(tb.guest, Testbed.vf, .ingress))
            let hnEgress = try XCTUnwrap(try tb.relayActionStats(tb.guest, Testbed.hn, .egress))
            XCTAssertEqual(viaVF, Counts(rxPackets: vfIngress.packets, rxBytes: vfIngress.bytes,
                                         txPackets: hnEgress.packets, txBytes: hnEgress.bytes), "round \(round)")
            XCTAssertGreaterThanOrEqual(viaVF.txPackets, UInt64(50 * round))
        }
        XCTAssertEqual(a.logLines(containing: "reading the relay's counters in one action dump").count, 0, "not refused")
        let actions = try Shell.run(["tc", "-n", tb.guest, "actions", "list", "action", "mirred"])
        XCTAssertTrue(actions.contains("index 4242 ref 1 bind 0"), "the unbound action is still there, untouched: \(actions)")
    }

    // MARK: - the socket

    func testControlSocketIsRootOnlyAndRemovedOnExit() throws {
        let (tb, a) = try startSteered()
        let socket = a.controlSocket
        var info = stat()
        XCTAssertEqual(stat(socket, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFSOCK)
        XCTAssertEqual(info.st_mode & 0o777, 0o600, "socket mode 0600")
        XCTAssertEqual(stat((socket as NSString).deletingLastPathComponent, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o755, "missing directory created 0755")

        // The file mode keeps others out before the agent even sees them.
        let denied = try cli(["status"], socket: socket, asNobody: true)
        XCTAssertEqual(denied.status, 77, "EX_NOPERM: \(denied.stderr)")
        XCTAssertEqual(denied.stderr.split(separator: "\n").count, 1, "one line: \(denied.stderr)")
        XCTAssertTrue(denied.stderr.contains("permission denied on \(socket)") && denied.stderr.contains("run this as root"),
                      denied.stderr)

        // With the mode opened up (a mistake), the agent's own check refuses by SO_PEERCRED.
        XCTAssertEqual(chmod(socket, 0o666), 0)
        let mark = a.logMark()
        for request in [["status"], ["events", "--follow"], ["metrics"], ["drain"]] {
            let refused = try cli(request, socket: socket, asNobody: true)
            XCTAssertEqual(refused.status, 77, "\(request): \(refused.stderr)")
            XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, "one line: \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains("only root (uid 0) may use the hnagent control socket; you are uid 65534"),
                          refused.stderr)
            XCTAssertEqual(refused.stdout, "", "nothing else is sent")
        }
        try a.waitForLog("control: refused pid", timeout: 2, since: mark)
        XCTAssertEqual(a.logLines(containing: "uid 65534: only root (uid 0) may use the control socket", since: mark).count, 4)
        XCTAssertTrue(try tb.steeringInstalled(), "the refused drain changed nothing")
        XCTAssertTrue(a.logLines(containing: "drained synthetic=").isEmpty)
        XCTAssertEqual(try cli(["status"], socket: socket).status, 0, "root is still served")

        XCTAssertEqual(a.stop(), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "socket removed on exit")
        let gone = try cli(["status"], socket: socket)
        XCTAssertEqual(gone.status, 69, "EX_UNAVAILABLE without an agent: \(gone.stderr)")
        XCTAssertTrue(gone.stderr.contains("no hnagent answers on \(socket)"), gone.stderr)
    }

    func testStaleSocketIsReplacedAndASecondAgentStopsBeforeChangingAnything() throws {
        let directory = try operatorScratch()
        let socket = directory.appendingPathComponent("run/hnagent.sock").path
        try FileManager.default.createDirectory(atPath: (socket as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        // A socket file nobody listens on, as a killed agent leaves it.
        let stale = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socket.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        close(stale)
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket))

        let tb = try makeTestbed()
        let a = try startAgent(tb, extraArguments: ["--control-socket", socket])
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        XCTAssertEqual(try onlyPair(try status(a))["state"] as? String, "steering", "the stale socket was replaced")

        // A second agent in the same namespace would fight over the NICs: it stops at the socket.
        let binary = try AgentProcess.binaryURL().path
        let second = Shell.execute(["ip", "netns", "exec", tb.guest, binary, "run", "--synthetic", Testbed.hn, "--vf", Testbed.vf,
                                    "--settle", "0", "--control-socket", socket], timeout: 30)
        // The namespace lock (SingleInstanceTests) stops it even before the socket: exit 75.
        XCTAssertEqual(second.status, 75, second.stderr)
        XCTAssertTrue(second.stderr.contains("already runs in this network namespace (pid \(a.pid))"), second.stderr)
        XCTAssertFalse(second.stderr.contains("discovered"), "it stopped before looking at the NICs")
        XCTAssertTrue(try tb.steeringInstalled(), "the first agent's relay is untouched")
        XCTAssertEqual(try cli(["status"], socket: socket).status, 0, "the first agent still serves its socket")
    }

    // MARK: - events

    func testEventsRecordAHotPlugWithSwitchDurationsAndFollowStreamsThem() throws {
        let (tb, a) = try startSteered()
        let binary = try AgentProcess.binaryURL().path
        let follower = try tb.spawn(tb.guest, [binary, "events", "--follow", "--json", "--socket", a.controlSocket])
        try tb.waitUntil(timeout: 5, "events --follow prints the timeline so far") {
            follower.stdout.text.contains("\"kind\":\"steering-on\"")
        }

        try tb.deleteVF()
        try tb.waitUntil(timeout: 5, "the follower gets the fallback as it happens") {
            follower.stdout.text.contains("\"kind\":\"fallback\"")
        }
        try tb.addVF()
        try tb.waitUntil(timeout: steerTimeout, "steering again") { try tb.steeringInstalled() }
        try tb.waitUntil(timeout: 5, "the follower gets the second steering-on") {
            follower.stdout.text.components(separatedBy: "\"kind\":\"steering-on\"").count == 3
        }

        let result = try cli(["events", "--json"], socket: a.controlSocket)
        XCTAssertEqual(result.status, 0, result.stderr)
        let events = try result.stdout.split(separator: "\n").map { line -> [String: Any] in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
        }
        // The VF's close and removal events may come in one batch or two: then the pair first
        // sees the VF down (vf-unusable, fallback "VF set down") and then gone (released).
        let kinds = events.map { $0["kind"] as? String ?? "?" }.filter { !["policy", "vf-unusable", "peers-notified"].contains($0) }
        let removal = kinds.count > 6 && kinds[5] == "fallback" ? ["fallback", "released"] : ["released", "fallback"]
        XCTAssertEqual(kinds, ["discovered", "vf-seen", "settle-started", "settled", "steering-on"] + removal
                              + ["vf-seen", "settle-started", "settled", "steering-on"], "\(kinds)")
        let sequence = events.compactMap { ($0["seq"] as? NSNumber)?.intValue }
        XCTAssertEqual(sequence, Array(1...events.count), "numbered without gaps")
        let timestamp = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#)
        for event in events { XCTAssertNotNil((event["time"] as? String)?.wholeMatch(of: timestamp), "\(event)") }
        let fallback = try XCTUnwrap(events.first { $0["kind"] as? String == "fallback" })
        XCTAssertTrue(["VF removed", "VF set down"].contains(fallback["reason"] as? String ?? ""), "\(fallback)")
        let released = try XCTUnwrap(events.first { $0["kind"] as? String == "released" })
        XCTAssertEqual(released["reason"] as? String, "VF removed")
        XCTAssertEqual(fallback["synthetic"] as? String, Testbed.hn)
        XCTAssertEqual(fallback["vf"] as? String, Testbed.vf)
        for switched in events where ["fallback", "steering-on"].contains(switched["kind"] as? String) {
            let ms = try XCTUnwrap((switched["switch_ms"] as? NSNumber)?.doubleValue, "switch_ms in \(switched)")
            XCTAssertTrue(ms >= 0 && ms < 2000, "switch_ms \(ms)")
        }
        XCTAssertTrue(events.contains { $0["kind"] as? String == "policy" && ($0["detail"] as? String ?? "").contains("addrgenmode none") })
        // The human form says the same.
        let text = try cli(["events"], socket: a.controlSocket)
        XCTAssertTrue(text.stdout.contains(" hn0(\(try tb.ifindex(tb.guest, Testbed.hn))) steering-on vf=vf0("), text.stdout)
        XCTAssertTrue(text.stdout.contains("released vf=vf0(") && text.stdout.contains("reason=\"VF removed\""), text.stdout)
        XCTAssertTrue(text.stdout.split(separator: "\n").contains { $0.contains(" fallback vf=vf0(") && $0.contains(" switch_ms=") },
                      text.stdout)
        print(text.stdout)

        // The agent stops: the follower sees the end of the stream and exits.
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(follower.wait(timeout: 5), 0, "events --follow ends when the agent closes: \(follower.stderr.text)")
        XCTAssertTrue(follower.stdout.text.contains("\"kind\":\"restored\""), "the last events reach the follower")
    }

    // MARK: - metrics

    func testMetricsOverTheSocketAndOverHTTP() throws {
        let (tb, a) = try startSteered(extraArguments: ["--metrics-listen", "9464"])
        try a.waitForLog("metrics on http://127.0.0.1:9464/metrics", timeout: 2)
        try warmUp(tb)
        _ = try tb.ping(count: 20, interval: 0.005)

        let metrics = try cli(["metrics"], socket: a.controlSocket)
        XCTAssertEqual(metrics.status, 0, metrics.stderr)
        let lines = Set(metrics.stdout.split(separator: "\n").map(String.init))
        for expected in ["hnagent_pair_state{state=\"steering\",synthetic=\"hn0\"} 1",
                         "hnagent_pair_state{state=\"fallback\",synthetic=\"hn0\"} 0",
                         "hnagent_switches_total{direction=\"to_vf\",synthetic=\"hn0\"} 1",
                         "hnagent_netlink_errors_total 0", "hnagent_resyncs_total 0", "hnagent_pairs 1",
                         "hnagent_relay_classifier{classifier=\"u32\"} 1",
                         "# TYPE hnagent_relay_packets_total counter"] {
            XCTAssertTrue(lines.contains(expected), "missing \(expected) in:\n\(metrics.stdout)")
        }
        func value(_ prefix: String, in lines: Set<String>) -> UInt64? {
            lines.first { $0.hasPrefix(prefix + " ") }.flatMap { UInt64($0.split(separator: " ").last ?? "") }
        }
        let rx = try XCTUnwrap(value("hnagent_relay_packets_total{direction=\"rx\",synthetic=\"hn0\"}", in: lines))
        let kernelRX = try XCTUnwrap(try tb.relayActionStats(tb.guest, Testbed.vf, .ingress)).packets
        XCTAssertEqual(rx, kernelRX, "the relay's own counter")
        XCTAssertGreaterThan(value("hnagent_reconciles_total", in: lines) ?? 0, 0)

        // The same over HTTP, from inside the agent's namespace (loopback only there).
        func http(_ request: String) throws -> String {
            try tb.exec(tb.guest, ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9464; printf '\(request)' >&3; cat <&3"], timeout: 10)
        }
        let response = try http("GET /metrics HTTP/1.0\\r\\n\\r\\n")
        XCTAssertTrue(response.hasPrefix("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4"), response)
        XCTAssertTrue(response.contains("\nhnagent_pair_state{state=\"steering\",synthetic=\"hn0\"} 1\n"), response)
        XCTAssertTrue(try http("GET /other HTTP/1.0\\r\\n\\r\\n").hasPrefix("HTTP/1.0 404 Not Found"))
        // Not reachable from elsewhere: it listens on 127.0.0.1 only.
        let listening = try tb.exec(tb.guest, ["ss", "-Hltn", "sport = :9464"])
        XCTAssertTrue(listening.contains("127.0.0.1:9464"), listening)
    }

    // MARK: - counters across VF removal

    /// Traffic from PEER while the VF leaves GUEST for another namespace (the kernel drops its
    /// filters with it). The VF keeps its counters there, so they say exactly what went
    /// through it: the relay totals must match them, never go down, and the totals must match
    /// what PEER sent and received.
    func testCountersStayContinuousWhenTheVFLeavesMidTraffic() throws {
        try Testbed.requireRootAndTools(["ss"])
        let (tb, a) = try startSteered()
        try warmUp(tb)
        let vfBefore = counts(try tb.vfCounters())
        let start = try onlyPair(try status(a))
        let peerBefore = counts(try tb.counters(tb.peer, Testbed.peerIf))

        let pings = 3000
        let ping = try tb.spawn(tb.peer, ["ping", "-n", "-q", "-c", String(pings), "-i", "0.001", "-W", "1", Testbed.guestIP])
        var samples: [Counts] = []
        // One reading mid-stream; after it nothing reads the relay until the VF has gone, so
        // what went through it since is recovered from the VF's final counters.
        try tb.waitUntil(timeout: 10, "500 requests through the VF") { try (tb.vfCounters() - self.vfBaseline(vfBefore)).rxPackets > 500 }
        samples.append(try traffic(try onlyPair(try status(a)), "total"))
        try tb.waitUntil(timeout: 10, "1000 requests through the VF") { try (tb.vfCounters() - self.vfBaseline(vfBefore)).rxPackets > 1000 }
        try tb.moveVF(to: tb.host)
        try tb.waitUntil(timeout: 30, "ping finished") {
            samples.append(try self.traffic(try self.onlyPair(try self.status(a)), "total"))
            return !ping.isRunning
        }
        // PEER's counters before the agent's: a late ARP then shows in the agent's, not PEER's.
        let peer = counts(try tb.counters(tb.peer, Testbed.peerIf)) - peerBefore
        let end = try onlyPair(try status(a))
        samples.append(try traffic(end, "total"))
        let vfAfter = counts(try tb.counters(tb.host, Testbed.vf))
        let (_, answered) = try XCTUnwrap(Testbed.parsePingSummary(ping.stdout.text), ping.stdout.text)

        for (earlier, later) in zip(samples, samples.dropFirst()) {
            XCTAssertTrue(later.atLeast(earlier), "totals never go down: \(earlier) then \(later)")
        }
        XCTAssertEqual(end["state"] as? String, "waiting-for-vf")
        XCTAssertGreaterThan(try traffic(end, "recovered_at_vf_removal").rxPackets, 100, "the part after the last reading")
        let relay = try traffic(end, "via_vf") - (try traffic(start, "via_vf"))
        let vf = vfAfter - vfBefore
        let recovered = try traffic(end, "recovered_at_vf_removal")
        print("VF moved mid-traffic: relay delta \(relay), VF's own counters \(vf), recovered from them \(recovered); peer \(peer); replies \(answered)")
        // Exactly what the VF carried (RX bytes as tc counts them: without the 14-byte header).
        // (Two packets of slack for an ARP between the readings at the start.)
        func near(_ a: UInt64, _ b: UInt64, _ slack: UInt64) -> Bool { a <= b + slack && b <= a + slack }
        XCTAssertTrue(near(relay.rxPackets, vf.rxPackets, 2), "RX through the VF: relay \(relay) vs VF \(vf)")
        XCTAssertTrue(near(relay.rxBytes, vf.rxBytes - 14 * vf.rxPackets, 2 * 98), "RX bytes: relay \(relay) vs VF \(vf)")
        XCTAssertTrue(near(relay.txPackets, vf.txPackets, 2), "TX through the VF: relay \(relay) vs VF \(vf)")
        XCTAssertTrue(near(relay.txBytes, vf.txBytes, 2 * 98), "TX bytes: relay \(relay) vs VF \(vf)")
        // Both paths together against PEER: every answered request was received and every
        // answer sent; no more than PEER sent, or received (a few packets of slack for ARP, and
        // for the testbed bridge's own IGMP reports, which PEER receives too).
        let total = try traffic(end, "total") - (try traffic(start, "total"))
        XCTAssertGreaterThanOrEqual(total.rxPackets, UInt64(answered), "nothing lost: \(total), \(answered) answered")
        XCTAssertLessThanOrEqual(total.rxPackets, peer.txPackets + 2, "no double counting: \(total) vs peer \(peer)")
        XCTAssertGreaterThanOrEqual(total.txPackets, UInt64(answered), "every reply PEER got was counted: \(total)")
        XCTAssertLessThanOrEqual(total.txPackets, peer.rxPackets + 10, "no double counting: \(total) vs peer \(peer)")
    }

    /// A veth VF deleted mid-traffic: veth keeps its RX counters on its peer, which goes with it,
    /// so the RX the relay carried between the agent's last reading and the deletion cannot be
    /// recovered (real VFs count RX on their own device). The test measures that residual: it
    /// reads status (which reads the counters) just before deleting, so the residual is bounded
    /// by the traffic in between; TX is recovered from the VF's own counters.
    func testVFDeletedMidTrafficLosesAtMostTheRXSinceTheLastReading() throws {
        let (tb, a) = try startSteered()
        try warmUp(tb)
        let start = try onlyPair(try status(a))
        let peerBefore = counts(try tb.counters(tb.peer, Testbed.peerIf))
        let pings = 3000
        let ping = try tb.spawn(tb.peer, ["ping", "-n", "-q", "-c", String(pings), "-i", "0.001", "-W", "1", Testbed.guestIP])
        var samples: [Counts] = []
        try tb.waitUntil(timeout: 10, "1000 requests through the VF") {
            let pair = try self.onlyPair(try self.status(a))
            samples.append(try self.traffic(pair, "total"))
            return try self.traffic(pair, "via_vf").rxPackets - (try self.traffic(start, "via_vf")).rxPackets > 1000
        }
        let lastReading = Date()
        try tb.deleteVF()
        let window = Date().timeIntervalSince(lastReading)
        try tb.waitUntil(timeout: 30, "ping finished") {
            samples.append(try self.traffic(try self.onlyPair(try self.status(a)), "total"))
            return !ping.isRunning
        }
        let peer = counts(try tb.counters(tb.peer, Testbed.peerIf)) - peerBefore
        let end = try onlyPair(try status(a))
        samples.append(try traffic(end, "total"))
        let (sent, answered) = try XCTUnwrap(Testbed.parsePingSummary(ping.stdout.text), ping.stdout.text)

        for (earlier, later) in zip(samples, samples.dropFirst()) {
            XCTAssertTrue(later.atLeast(earlier), "totals never go down: \(earlier) then \(later)")
        }
        let total = try traffic(end, "total") - (try traffic(start, "total"))
        // GUEST received at least every request it answered (PEER got the answer).
        let residual = Int(answered) - Int(total.rxPackets)
        let rate = Double(sent) / 3.0 // packets per second, roughly: 3000 at 1 ms intervals
        print("VF deleted mid-traffic: RX residual \(max(0, residual)) packets (\(Int(window * 1000)) ms between the last counter reading and the deletion, ~\(Int(rate)) packets/s); total \(total), peer \(peer), ping \(sent)/\(answered)")
        XCTAssertLessThanOrEqual(residual, Int(window * 1000 * 1.5) + 20,
                                 "at most the RX of the window between the last reading and the deletion")
        XCTAssertLessThanOrEqual(total.rxPackets, peer.txPackets + 2, "no double counting")
        XCTAssertGreaterThanOrEqual(total.txPackets, UInt64(answered), "TX recovered from the VF's own counters: \(total)")
        // What GUEST sent reached PEER (replies, and the agent's gratuitous ARPs and neighbour
        // advertisements after the fallback), except what the dying VF dropped after the relay
        // counted it: a few packets, where double counting would be thousands.
        XCTAssertLessThanOrEqual(total.txPackets, peer.rxPackets + 10, "no double counting of TX: \(total) vs peer \(peer)")
    }

    // MARK: - hygiene

    func testAddressesOnThePairedVFAreWarnedAbout() throws {
        let tb = try Testbed(withVF: true, ipv6: true)
        testbed = tb
        // vf0 came up with IPv6 on, so it has its own link-local address before the agent quietens it.
        let linkLocal = try tb.exec(tb.guest, ["ip", "-6", "-o", "addr", "show", "dev", Testbed.vf, "scope", "link"])
            .split(separator: " ").first { $0.hasPrefix("fe80:") }.map(String.init)
        let a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        if let linkLocal {
            let line = try a.waitForLog("has IP addresses \(linkLocal)", timeout: 5)
            XCTAssertTrue(line.contains("warning VF vf0("), line)
        }

        let mark = a.logMark()
        try tb.exec(tb.guest, ["ip", "addr", "add", "198.18.0.99/24", "dev", Testbed.vf])
        try tb.exec(tb.guest, ["ip", "-6", "addr", "add", "fe80::99/64", "dev", Testbed.vf])
        let v4 = try a.waitForLog("has IP addresses 198.18.0.99/24", timeout: 5, since: mark)
        XCTAssertTrue(v4.contains("VF vf0(\(try tb.ifindex(tb.guest, Testbed.vf))) of synthetic NIC hn0("), v4)
        XCTAssertTrue(v4.contains("something configures the VF"), v4)
        try a.waitForLog("has IP addresses fe80::99/64", timeout: 5, since: mark)
        XCTAssertTrue(a.logLines(containing: "has IP addresses", since: mark).allSatisfy { !$0.contains("198.18.0.1/") },
                      "hn0's own address is not a VF's")

        let pair = try onlyPair(try status(a))
        let listed = Set(pair["vf_addresses"] as? [String] ?? [])
        XCTAssertTrue(listed.isSuperset(of: ["198.18.0.99/24", "fe80::99/64"]), "\(listed)")
        let events = try cli(["events"], socket: a.controlSocket).stdout
        XCTAssertTrue(events.contains("vf-addresses vf=vf0(") && events.contains("198.18.0.99/24"), events)

        // Removed: gone from status; added again: warned again.
        try tb.exec(tb.guest, ["ip", "addr", "del", "198.18.0.99/24", "dev", Testbed.vf])
        try tb.waitUntil(timeout: 5, "address gone from status") {
            !((try self.onlyPair(try self.status(a))["vf_addresses"] as? [String]) ?? []).contains("198.18.0.99/24")
        }
        let again = a.logMark()
        try tb.exec(tb.guest, ["ip", "addr", "add", "198.18.0.99/24", "dev", Testbed.vf])
        try a.waitForLog("has IP addresses 198.18.0.99/24", timeout: 5, since: again)
    }
}
