// Issue 11 item 10 (root only): an unprivileged user joining and leaving a multicast group in a
// tight loop must not flip the VF's allmulti at the rate it churns, flood the log or push the
// real events out of the timeline: changes are coalesced, at most one per second per pair.

import Foundation
import XCTest

final class MulticastChurnTests: IntegrationTestCase {
    func testUnprivilegedJoinLeaveChurnIsCoalesced() throws {
        let (tb, a) = try startSteered()
        let hnIndex = try tb.ifindex(tb.guest, Testbed.hn)

        // Every change of vf0's flags, from the kernel; the probe (an alias on lo) shows it listens.
        let monitor = try tb.spawn(tb.guest, ["ip", "-o", "monitor", "link"])
        try tb.waitUntil(timeout: 5, "ip monitor link listening") {
            try tb.exec(tb.guest, ["ip", "link", "set", "dev", "lo", "alias", "probe-\(UUID().uuidString.prefix(6))"])
            return monitor.stdout.text.contains(" lo: ")
        }
        let mark = a.logMark()
        let cpuBefore = cpuSeconds(a.pid)
        let seconds = 2.0
        let churn = Shell.execute(["ip", "netns", "exec", tb.guest] + churnCommand(ifindex: hnIndex, seconds: seconds), timeout: 30)
        XCTAssertTrue(churn.succeeded, "\(churn.stderr)")
        print("agent CPU during the churn: \(cpuSeconds(a.pid) - cpuBefore)s")
        let rounds = Int(churn.stdout.split(separator: "\n").last ?? "") ?? 0
        XCTAssertGreaterThan(rounds, 100, "joins and leaves by uid 65534")

        // The last leave is applied within the settle time: allmulti off again on vf0.
        try tb.waitUntil(timeout: 5, "vf0 without allmulti after the churn") {
            !(try tb.exec(tb.guest, ["ip", "-o", "link", "show", "dev", Testbed.vf]).contains("ALLMULTI"))
        }
        let flips = allmultiChanges(monitor.stdout.text, device: Testbed.vf)
        monitor.terminate()
        XCTAssertGreaterThanOrEqual(flips, 1, "the churn reached the VF at least once")
        XCTAssertLessThanOrEqual(flips, Int(seconds) + 3, "vf0 allmulti changes, at most about one per second")

        let multicastLines = a.logLines(containing: "multicast synthetic=", since: mark)
        XCTAssertLessThanOrEqual(multicastLines.count, 2 * (Int(seconds) + 3), multicastLines.joined(separator: "\n"))
        XCTAssertTrue(multicastLines.contains { $0.contains("coalesced") }, multicastLines.joined(separator: "\n"))

        let pair = try XCTUnwrap((try a.statusJSON()["pairs"] as? [[String: Any]])?.first)
        let coalesced = (pair["multicast_changes_coalesced"] as? NSNumber)?.intValue ?? 0
        XCTAssertGreaterThan(coalesced, 10, "\(pair)")
        let metric = try a.control(["metrics"]).stdout.split(separator: "\n")
            .first { $0.hasPrefix("hnagent_multicast_changes_coalesced_total{synthetic=\"hn0\"} ") }
        XCTAssertGreaterThanOrEqual(metric.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0, coalesced, "\(metric ?? "no metric")")

        print("churn: \(rounds) join/leave rounds in \(seconds)s; vf0 allmulti changes \(flips); multicast log lines \(multicastLines.count); coalesced \(coalesced)")
        let table = try a.control(["status"]).stdout
        XCTAssertTrue(table.contains("membership changes coalesced"), table)
        let events = try a.control(["events", "--json"]).stdout.split(separator: "\n")
        XCTAssertTrue(events.contains { $0.contains("\"kind\":\"steering-on\"") }, "steering-on kept in the timeline")
        let allmultiEvents = events.filter { $0.contains("\"kind\":\"policy\"") && $0.contains("allmulti") }
        XCTAssertLessThanOrEqual(allmultiEvents.count, Int(seconds) + 3, allmultiEvents.joined(separator: "\n"))
    }

    /// A VF that comes back while the churn goes on settles and steers: the churn's events must not
    /// keep the agent's timers (settle, retries, peer notifications) from running.
    func testAVFReturningDuringChurnSettlesAndSteers() throws {
        let (tb, a) = try startSteered()
        // Two loops: events keep coming while the agent handles the previous ones.
        let churns = try (0..<2).map { _ in try tb.spawn(tb.guest, churnCommand(ifindex: try tb.ifindex(tb.guest, Testbed.hn), seconds: 20)) }
        try tb.waitUntil(timeout: 5, "uid 65534 churning") { churns.allSatisfy { $0.stdout.text.contains("churning") } }
        try tb.deleteVF()
        try tb.waitUntil(timeout: steerTimeout, "fallback") { try tb.hnEgressRedirectGone() }
        let mark = a.logMark()
        try tb.addVF()
        try tb.waitUntil(timeout: 5, "vf0 settled (0.5 s) and steering while the churn goes on") { try tb.steeringInstalled() }
        XCTAssertTrue(churns.allSatisfy(\.isRunning), "the churn was still going on")
        try a.waitForLog("peer notification synthetic=hn0(2) via VF vf0(", timeout: 2, since: mark)
        for churn in churns { churn.terminate() }
    }

    /// `setpriv ... python3` (run it in GUEST): uid 65534 joins and leaves 239.1.2.3 on the
    /// interface IFINDEX in a tight loop for SECONDS, then prints how many rounds it made.
    private func churnCommand(ifindex: Int, seconds: Double) -> [String] {
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
         "/usr/bin/python3", "-c", """
            import socket, struct, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            mreq = struct.pack("4s4si", socket.inet_aton("239.1.2.3"), socket.inet_aton("0.0.0.0"), \(ifindex))
            print("churning", flush=True)
            end, n = time.monotonic() + \(seconds), 0
            while time.monotonic() < end:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                s.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq)
                n += 1
            print(n)
            """]
    }

    private func cpuSeconds(_ pid: Int32) -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        return fields.count > 12 ? Double((Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)) / 100 : 0
    }

    /// How often DEVICE's ALLMULTI flag changed in `ip -o monitor link` output (it starts off).
    private func allmultiChanges(_ output: String, device: String) -> Int {
        var on = false, changes = 0
        for line in output.split(separator: "\n") where line.contains(" \(device):") || line.contains(" \(device)@") {
            guard let open = line.firstIndex(of: "<"), let close = line.firstIndex(of: ">") else { continue }
            let flagged = line[open..<close].split(separator: ",").contains("ALLMULTI")
            if flagged != on { changes += 1 }
            on = flagged
        }
        return changes
    }
}
