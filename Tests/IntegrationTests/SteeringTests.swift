// End-to-end tests of hnagent in network namespaces (root only; they skip otherwise).
//
// Each test builds its own testbed (see Testbed.swift), starts the agent in the GUEST namespace
// and reads the result back from the kernel: tc filters (pref 20040), link counters, ping and a
// TCP stream between PEER and GUEST. Everything is torn down in tearDown, also on failure.

import Foundation
import XCTest

final class SteeringTests: IntegrationTestCase {
    private let fallbackTimeout: TimeInterval = 2
    /// Packets the synthetic path may still carry while steering (ARP etc.).
    private let syntheticNoise: UInt64 = 5

    // MARK: - Helpers

    /// Pings until the bridge has learned the guest's MAC on the VF port, i.e. replies leave
    /// through vf0 (the first replies may still have gone through hn0's port).
    private func warmUpVFPath(_ tb: Testbed) throws {
        try tb.waitUntil(timeout: 5, "bridge learning hn0's MAC on \(Testbed.vfPort)") {
            _ = try tb.ping(count: 2, interval: 0.01)
            return tb.fdbPorts() == [Testbed.vfPort]
        }
    }

    /// Sends `count` pings and asserts they all arrive and travel through the VF, not hn0's
    /// HOST port.
    private func assertTrafficThroughVF(_ tb: Testbed, count: Int = 200,
                                        file: StaticString = #filePath, line: UInt = #line) throws {
        try warmUpVFPath(tb)
        let vfBefore = try tb.vfCounters()
        let synBefore = try tb.syntheticPortCounters()
        let result = try tb.ping(count: count, interval: 0.01)
        let vfDelta = try tb.vfCounters() - vfBefore
        let synDelta = try tb.syntheticPortCounters() - synBefore
        let context = "ping: \(result); vf0 delta: \(vfDelta); HOST \(Testbed.hnPort) delta: \(synDelta)"
        XCTAssertEqual(result.received, count, "all pings answered. \(context)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(vfDelta.rxPackets, UInt64(count), "requests arrive on vf0. \(context)",
                                    file: file, line: line)
        XCTAssertGreaterThanOrEqual(vfDelta.txPackets, UInt64(count), "replies leave through vf0. \(context)",
                                    file: file, line: line)
        XCTAssertLessThan(synDelta.rxPackets, syntheticNoise, "synthetic path carries no replies. \(context)",
                          file: file, line: line)
        XCTAssertLessThan(synDelta.txPackets, syntheticNoise, "synthetic path carries no requests. \(context)",
                          file: file, line: line)
    }

    private func assertPingWorks(_ tb: Testbed, count: Int = 100, _ what: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try tb.ping(count: count, interval: 0.01)
        XCTAssertEqual(result.received, count, "\(what): \(result)\n\(result.output)", file: file, line: line)
    }

    // MARK: - Tests

    func testSteeringFiltersInstalledAfterStart() throws {
        let (tb, a) = try startSteered()
        let vfIn = try tb.agentFilters(tb.guest, Testbed.vf, .ingress)
        XCTAssertEqual(vfIn.count, 1, "one agent filter on vf0 ingress: \(vfIn)")
        XCTAssertEqual(vfIn.first?.kind, "u32")
        XCTAssertEqual(vfIn.first?.proto, "all")
        XCTAssertEqual(vfIn.first?.mirred, [MirredAction(action: "redirect", direction: "ingress",
                                                          target: Testbed.hn, cookie: vfIn.first?.mirred.first?.cookie)])
        XCTAssertNotNil(vfIn.first?.mirred.first?.cookie, "the agent marks its action with a cookie")

        let hnOut = try tb.agentFilters(tb.guest, Testbed.hn, .egress)
        XCTAssertEqual(hnOut.count, 1, "one agent filter on hn0 egress: \(hnOut)")
        XCTAssertEqual(hnOut.first?.kind, "u32")
        XCTAssertEqual(hnOut.first?.proto, "all")
        XCTAssertEqual(hnOut.first?.mirred.map(\.direction), ["egress"])
        XCTAssertEqual(hnOut.first?.mirred.map(\.action), ["redirect"])
        XCTAssertEqual(hnOut.first?.mirred.map(\.target), [Testbed.vf])
        XCTAssertNotNil(hnOut.first?.mirred.first?.cookie, "the agent marks its action with a cookie")

        XCTAssertTrue(try tb.hasClsact(tb.guest, Testbed.vf))
        XCTAssertTrue(try tb.hasClsact(tb.guest, Testbed.hn))

        let hnIndex = try tb.ifindex(tb.guest, Testbed.hn), vfIndex = try tb.ifindex(tb.guest, Testbed.vf)
        try a.waitForLog("paired synthetic=hn0(\(hnIndex)) vf=vf0(\(vfIndex))", timeout: 2)
        try a.waitForLog("steering on synthetic=hn0(\(hnIndex)) vf=vf0(\(vfIndex))", timeout: 2)
        XCTAssertTrue(a.isRunning)
    }

    func testTrafficFlowsThroughVF() throws {
        let (tb, _) = try startSteered()
        try assertTrafficThroughVF(tb, count: 200)
    }

    func testVFDeletionFallsBackToSyntheticPath() throws {
        let (tb, a) = try startSteered()
        try warmUpVFPath(tb)
        let mark = a.logMark()
        let start = Date()
        try tb.deleteVF()
        try tb.waitUntil(timeout: fallbackTimeout, "hn0 egress redirect removed after VF deletion") {
            try tb.hnEgressRedirectGone()
        }
        print("fallback: hn0 egress redirect gone \(Int(Date().timeIntervalSince(start) * 1000)) ms after VF deletion")
        try a.waitForLog("fallback synthetic=hn0(", timeout: fallbackTimeout, since: mark)
        try assertPingWorks(tb, count: 100, "ping on the synthetic path after fallback")
        XCTAssertTrue(a.isRunning, "agent keeps running without a VF")
    }

    func testVFReturnRestoresSteering() throws {
        let (tb, a) = try startSteered()
        try tb.deleteVF()
        try tb.waitUntil(timeout: fallbackTimeout, "hn0 egress redirect removed") { try tb.hnEgressRedirectGone() }
        try assertPingWorks(tb, count: 20, "ping while the VF is away")

        let mark = a.logMark()
        try tb.addVF()
        try tb.waitUntil(timeout: steerTimeout, "steering filters back on both sides after VF return") {
            try tb.steeringInstalled()
        }
        try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: mark)
        try assertTrafficThroughVF(tb, count: 200)
    }

    func testStopRemovesEverythingAndTrafficContinues() throws {
        let (tb, a) = try startSteered()
        let status = a.stop(timeout: 10)
        XCTAssertEqual(status, 0, "agent exits 0 on SIGTERM. Log:\n\(a.log.suffix(3000))")
        XCTAssertFalse(a.logLines(containing: "restored synthetic=hn0(").isEmpty,
                       "agent logs 'restored synthetic=hn0(...)' on exit")
        for (dev, hook) in [(Testbed.hn, Hook.egress), (Testbed.hn, .ingress), (Testbed.vf, .ingress), (Testbed.vf, .egress)] {
            let left = try tb.agentFilters(tb.guest, dev, hook)
            XCTAssertTrue(left.isEmpty, "no pref \(Testbed.agentPref) filter left on \(dev) \(hook): \(left)")
        }
        // The testbed creates no clsact, so any clsact left was the agent's.
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.hn), "agent removed the clsact it created on hn0")
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.vf), "agent removed the clsact it created on vf0")
        try assertPingWorks(tb, count: 100, "ping after the agent stopped")
    }

    /// A TCP stream (iperf3, both directions) keeps going across 5 VF hot-plug cycles.
    func testTCPStreamSurvivesVFHotPlugCycles() throws {
        try Testbed.requireRootAndTools(["iperf3", "ss"])
        // Five hot-plugs in a few seconds would be damped as flapping: this test is about the stream.
        let (tb, a) = try startSteered(extraArguments: ["--flap-threshold", "0"])
        try warmUpVFPath(tb)

        let port = "5201"
        let server = try tb.spawn(tb.guest, ["iperf3", "-s", "-1", "-B", Testbed.guestIP, "-p", port])
        try tb.waitUntil(timeout: 10, "iperf3 server listening in GUEST") {
            guard server.isRunning else { throw TestbedError("iperf3 -s exited: \(server.stderr.text)\(server.stdout.text)") }
            return !(try tb.exec(tb.guest, ["ss", "-Hltn", "sport = :\(port)"])).isEmpty
        }
        let duration = 30
        let started = Date()
        // Rate-limited so the 2-core machine keeps time for the agent; --bidir puts data on both
        // the VF's RX redirect and hn0's TX redirect.
        let client = try tb.spawn(tb.peer, ["iperf3", "-c", Testbed.guestIP, "-p", port, "-t", String(duration),
                                            "-b", "100M", "--bidir", "-J", "--connect-timeout", "5000"])
        // Let the stream run on the VF for a moment first.
        try tb.waitUntil(timeout: 10, "stream established") {
            guard client.isRunning else { throw TestbedError("iperf3 -c exited early: \(client.stdout.text)") }
            return try tb.vfCounters().rxPackets > 1000
        }

        for cycle in 1...5 {
            var mark = a.logMark()
            let t0 = Date()
            try tb.deleteVF()
            try tb.waitUntil(timeout: fallbackTimeout, "cycle \(cycle): hn0 egress redirect removed") {
                try tb.hnEgressRedirectGone()
            }
            try a.waitForLog("fallback synthetic=hn0(", timeout: fallbackTimeout, since: mark)
            let fallbackMs = Int(Date().timeIntervalSince(t0) * 1000)
            let synBefore = try tb.syntheticPortCounters()
            try tb.waitUntil(timeout: 5, "cycle \(cycle): stream flows on the synthetic path") {
                try (tb.syntheticPortCounters() - synBefore).rxPackets > 200
            }

            mark = a.logMark()
            let t1 = Date()
            try tb.addVF()
            try tb.waitUntil(timeout: steerTimeout, "cycle \(cycle): steering back after VF return") {
                try tb.steeringInstalled()
            }
            try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: mark)
            let steerMs = Int(Date().timeIntervalSince(t1) * 1000)
            let vfBefore = try tb.vfCounters()
            try tb.waitUntil(timeout: 5, "cycle \(cycle): stream flows through the VF again") {
                let d = try tb.vfCounters() - vfBefore
                return d.rxPackets > 200 && d.txPackets > 200
            }
            print("cycle \(cycle): fallback after \(fallbackMs) ms, steering again after \(steerMs) ms")
            XCTAssertTrue(client.isRunning, "iperf3 client still running after cycle \(cycle)")
        }
        XCTAssertTrue(client.isRunning,
                      "the stream must outlast the 5 cycles (took \(Int(Date().timeIntervalSince(started))) s of \(duration) s)")

        guard let status = client.wait(timeout: TimeInterval(duration) + 30) else {
            XCTFail("iperf3 client did not finish")
            return
        }
        let output = client.stdout.text
        XCTAssertEqual(status, 0, "iperf3 client exit status; stderr: \(client.stderr.text)\n\(output.suffix(2000))")
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                                   "iperf3 -J output: \(output.suffix(2000))")
        XCTAssertNil(report["error"], "iperf3 reported an error: \(report["error"] ?? "")")
        let end = try XCTUnwrap(report["end"] as? [String: Any], "iperf3 report has no 'end'")
        let forward = ((end["sum_received"] as? [String: Any])?["bytes"] as? NSNumber)?.uint64Value ?? 0
        let reverse = ((end["sum_received_bidir_reverse"] as? [String: Any])?["bytes"] as? NSNumber)?.uint64Value ?? 0
        print("iperf3: received \(forward) bytes PEER->GUEST, \(reverse) bytes GUEST->PEER")
        XCTAssertGreaterThan(forward, 10_000_000, "data PEER->GUEST")
        XCTAssertGreaterThan(reverse, 10_000_000, "data GUEST->PEER")
        _ = server.wait(timeout: 5)
    }
}
