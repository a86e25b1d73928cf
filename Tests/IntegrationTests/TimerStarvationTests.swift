// Timers under a constant stream of link events (root only): work that only the agent's timer
// does (peer notification rounds 2..N, a resync retry, the multicast re-read) must not wait for a
// wake without events. Anyone who can flap a link (a container runtime creating veths) can keep
// events coming for as long as they like.

import Foundation
import XCTest

final class TimerStarvationTests: IntegrationTestCase {
    private let rounds = 3

    /// While ev0 (a veth on no pair) goes up and down as fast as `ip` goes, vf0 is deleted and
    /// added again: every round of gratuitous ARP reaches the peer, after the fallback and after
    /// steering resumes.
    func testPeerNotificationRoundsGoOutWhileLinkEventsKeepComing() throws {
        try Testbed.requireRootAndTools(["tcpdump", "timeout", "yes"])
        let tb = try makeTestbed()
        let a = try startAgent(tb, settle: 0.2, extraArguments: ["--peer-notify-count", "\(rounds)",
                                                                 "--peer-notify-interval", "0.2"])
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        // The start's own rounds are done before anything is counted.
        try a.waitForLog("(round \(rounds) of \(rounds))", timeout: 5)

        // Gratuitous ARPs from hn0's MAC, as the peer sees them; nothing else in the testbed sends ARP.
        let capture = try tb.spawn(tb.peer, ["tcpdump", "-i", Testbed.peerIf, "-n", "-l", "-e",
                                             "arp and ether src \(Testbed.hnMAC)"])
        try tb.waitUntil(timeout: 5, "tcpdump listening") { capture.stderr.text.contains("listening on") }

        let flood = try startLinkFlood(tb, seconds: 30)
        defer { flood.terminate(timeout: 2) }
        let mark = a.logMark()

        try tb.deleteVF()
        try tb.waitUntil(timeout: 2, "hn0 egress redirect removed") { try tb.hnEgressRedirectGone() }
        // Rounds 2 and 3 are due 0.2 s and 0.4 s after the fallback.
        try a.waitForLog("via the synthetic path: 1 gratuitous ARP(s), 0 neighbour advertisement(s) (round \(rounds) of \(rounds))",
                         timeout: 3, since: mark)
        try tb.waitUntil(timeout: 2, "\(rounds) gratuitous ARPs at the peer after the fallback") {
            arpLines(capture).count >= rounds
        }

        let readded = a.logMark()
        try tb.addVF()
        try tb.waitUntil(timeout: steerTimeout, "steering on the new vf0 during the flood") { try tb.steeringInstalled() }
        try a.waitForLog("via VF vf0(", timeout: 2, since: readded)
        try a.waitForLog("(round \(rounds) of \(rounds))", timeout: 3, since: readded)
        try tb.waitUntil(timeout: 2, "\(2 * rounds) gratuitous ARPs at the peer in all") {
            arpLines(capture).count >= 2 * rounds
        }
        XCTAssertTrue(flood.isRunning, "link events kept coming the whole time: \(flood.stderr.text)")
        let sent = a.logLines(containing: "peer notification synthetic=hn0(", since: mark)
        XCTAssertEqual(sent.count, 2 * rounds, sent.joined(separator: "\n"))
        XCTAssertEqual(arpLines(capture).count, 2 * rounds, capture.stdout.text)
        // The last rounds went out through the VF: the bridge learned hn0's MAC on the VF port.
        try tb.waitUntil(timeout: 2, "hn0's MAC on the VF port") { tb.fdbPorts() == [Testbed.vfPort] }
        print("flood: \(arpLines(capture).count) gratuitous ARPs at the peer while ev0 flapped")
    }

    /// ev0/ev1 in GUEST, ev0 set up and down by one `ip -batch` as fast as it goes, for `seconds`
    /// (then `timeout` ends it; the test kills it by PID before that, and the testbed's namespace
    /// goes with its veths). It overruns the agent's event socket every few hundred ms, so every
    /// wake has events (a loop forking `ip` per change is too slow for that here).
    private func startLinkFlood(_ tb: Testbed, seconds: Int) throws -> BackgroundProcess {
        try tb.exec(tb.guest, ["ip", "link", "add", "ev0", "type", "veth", "peer", "name", "ev1"])
        let flood = try tb.spawn(tb.guest, ["timeout", "\(seconds)", "sh", "-c",
                                            "echo flooding; yes 'link set ev0 up\nlink set ev0 down' | ip -batch -"])
        try tb.waitUntil(timeout: 5, "link flood running") { flood.stdout.text.contains("flooding") }
        return flood
    }

    private func arpLines(_ capture: BackgroundProcess) -> [Substring] {
        capture.stdout.text.split(separator: "\n").filter { $0.contains("ARP") }
    }
}
