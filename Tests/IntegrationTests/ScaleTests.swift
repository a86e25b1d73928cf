// Issue 5, many pairs: 64 synthetic/VF pairs in one namespace all steer, and one pair's failure
// (its VF deleted, another's VF refusing an MTU) leaves the other pairs' filters untouched.

import Foundation
import XCTest

final class ScaleTests: IntegrationTestCase {
    private var scale: ScaleTestbed?

    override func tearDown() {
        super.tearDown()        // stops the agent first
        scale?.destroy()
        scale = nil
    }

    private typealias Relay = [String: [Hook: [TCFilter]]]

    /// Pair n as the agent must install it: one redirect each way, nothing on the other hooks.
    private func steering(_ relay: Relay, _ n: Int) -> Bool {
        let (hn, vf) = (ScaleTestbed.hn(n), ScaleTestbed.vf(n))
        guard let hnOut = relay[hn]?[.egress], let vfIn = relay[vf]?[.ingress] else { return false }
        return hnOut.count == 1 && hnOut[0].mirred == [MirredAction(action: "redirect", direction: "egress", target: vf,
                                                                    cookie: hnOut[0].mirred.first?.cookie)]
            && vfIn.count == 1 && vfIn[0].mirred == [MirredAction(action: "redirect", direction: "ingress", target: hn,
                                                                  cookie: vfIn[0].mirred.first?.cookie)]
            && relay[hn]?[.ingress]?.isEmpty == true && relay[vf]?[.egress]?.isEmpty == true
    }

    /// The identity of pair n's two filters (handle and action index change when re-added).
    private func identity(_ relay: Relay, _ n: Int) -> [String] {
        [relay[ScaleTestbed.hn(n)]?[.egress]?.first?.identity ?? "-",
         relay[ScaleTestbed.vf(n)]?[.ingress]?.first?.identity ?? "-"]
    }

    private func devices(_ pairs: [Int]) -> [String] {
        pairs.flatMap { [ScaleTestbed.hn($0), ScaleTestbed.vf($0)] }
    }

    func testSixtyFourPairsSteerAndOnePairsFailureLeavesTheOthersUntouched() throws {
        let count = 64, removed = 17, refusing = 42
        let started = Date()
        let sb = try ScaleTestbed(pairs: count, macvlanVFs: [refusing])
        scale = sb
        let built = Date()
        let a = try AgentProcess(namespace: sb.guest, settle: 0, pairing: ["--synthetic", "hn*", "--vf", "vf*"],
                                 extraArguments: ["--allow-vf-kind", "macvlan"])
        agent = a
        try a.waitForLog("ready: mode=", timeout: startTimeout)
        let all = Array(1...count)
        var relay: Relay = [:]
        try Testbed.waitUntil(timeout: 30, "all \(count) pairs steering") {
            relay = try Testbed.agentFilters(in: sb.guest, devices: devices(all))
            return all.allSatisfy { steering(relay, $0) }
        }
        let steered = Date()
        XCTAssertEqual(a.logLines(containing: "steering on").count, count)
        let links = try Testbed.links(in: sb.guest)
        for n in all {
            XCTAssertEqual(links[ScaleTestbed.vf(n)]?.addrGenMode, "none", "vf\(n) quieted")
        }
        let before = Dictionary(uniqueKeysWithValues: all.map { ($0, identity(relay, $0)) })
        XCTAssertEqual(Set(before.values.map { $0.joined(separator: " ") }).count, count, "each pair has its own filters")

        // One pair loses its VF; another's VF refuses the synthetic NIC's new MTU.
        let mark = a.logMark()
        try Shell.run(["ip", "-n", sb.guest, "link", "del", ScaleTestbed.vf(removed)])
        try Shell.run(["ip", "-n", sb.guest, "link", "set", ScaleTestbed.hn(refusing), "mtu", "9000"])
        try Testbed.waitUntil(timeout: 5, "hn\(removed) and hn\(refusing) back on the synthetic path") {
            let broken = try Testbed.agentFilters(in: sb.guest, devices: [ScaleTestbed.hn(removed), ScaleTestbed.hn(refusing)])
            return broken.values.allSatisfy { $0[.egress]?.isEmpty == true }
        }
        try a.waitForLog("refused MTU 9000", timeout: 5, since: mark)
        XCTAssertEqual(try Testbed.links(in: sb.guest)[ScaleTestbed.vf(refusing)]?.mtu, 1500, "the VF kept its MTU")

        // The other pairs: still steering through the very same filters, and not touched at all.
        let others = all.filter { $0 != removed && $0 != refusing }
        relay = try Testbed.agentFilters(in: sb.guest, devices: devices(others))
        for n in others {
            XCTAssertTrue(steering(relay, n), "pair \(n) still steering: \(relay[ScaleTestbed.hn(n)] ?? [:])")
            XCTAssertEqual(identity(relay, n), before[n], "pair \(n)'s filters were not replaced")
        }
        let broken = ["hn\(removed)(", "vf\(removed)(", "hn\(refusing)(", "vf\(refusing)("]
        let elsewhere = a.log(since: mark).split(separator: "\n").filter { line in
            (line.contains("apply:") || line.contains("fallback") || line.contains("steering on"))
                && !broken.contains { line.contains($0) }
        }
        XCTAssertEqual(elsewhere, [], "changes outside the two broken pairs")

        // The refusing pair recovers once the MTUs agree again (after its retry back-off).
        try Shell.run(["ip", "-n", sb.guest, "link", "set", ScaleTestbed.hn(refusing), "mtu", "1500"])
        try Testbed.waitUntil(timeout: 35, "pair \(refusing) steering again") {
            steering(try Testbed.agentFilters(in: sb.guest, devices: devices([refusing])), refusing)
        }
        print("scale: \(count) pairs built in \(Int(built.timeIntervalSince(started) * 1000)) ms, all steering "
              + "\(Int(steered.timeIntervalSince(built) * 1000)) ms after the agent started; test "
              + "\(Int(Date().timeIntervalSince(started) * 1000)) ms")
    }
}
