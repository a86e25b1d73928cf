// `hnagent drain` / `undrain` (issue 14, planned removals) against the real kernel (root only):
// every answer is checked against the tc filters read back, and the drain against an agent
// restart, killed or stopped.

import Foundation
import XCTest

final class DrainIntegrationTests: IntegrationTestCase {
    /// A settle far longer than any deadline below: steering back within one proves no new settle.
    private let longSettle = 30.0

    private func pairState(_ a: AgentProcess) throws -> String? {
        let pairs = try a.statusJSON()["pairs"] as? [[String: Any]]
        return pairs?.first?["state"] as? String
    }

    func testDrainMovesTXAtOnceAndUndrainSteersAgainWithoutANewSettle() throws {
        let (tb, a) = try startSteered(settle: 0.2)
        let drain = try a.control(["drain", Testbed.hn])
        XCTAssertEqual(drain.status, 0, drain.stderr)
        XCTAssertEqual(drain.stdout, "\(Testbed.hn): drained (TX on \(Testbed.hn); VF \(Testbed.vf) kept)\n")
        // Checked right after the answer, no waiting: the command returns once TX is on hn0.
        XCTAssertTrue(try tb.hnEgressRedirectGone(), "no egress redirect on hn0 when drain returns")
        XCTAssertNotNil(try tb.agentRedirect(tb.guest, Testbed.vf, .ingress), "the VF's RX relay stays")
        XCTAssertEqual(try pairState(a), "drained")
        let table = try a.control(["status"]).stdout
        XCTAssertTrue(table.contains("\(Testbed.hn)(") && table.contains(" drained ") && table.contains("drained by the operator"), table)
        try a.waitForLog("fallback synthetic=\(Testbed.hn)", timeout: 2)
        XCTAssertEqual(try tb.ping(count: 20, interval: 0.01).received, 20, "the synthetic path carries traffic")

        let again = try a.control(["drain"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.hasPrefix("\(Testbed.hn): already drained"), again.stdout)

        let events = try a.control(["events"]).stdout
        XCTAssertTrue(events.contains("drained"), events)
        let metrics = try a.control(["metrics"]).stdout
        XCTAssertTrue(metrics.contains("hnagent_pair_state{synthetic=\"\(Testbed.hn)\",state=\"drained\"} 1")
                      || metrics.contains("state=\"drained\",synthetic=\"\(Testbed.hn)\"} 1"), metrics)

        let undrain = try a.control(["undrain", Testbed.hn])
        XCTAssertEqual(undrain.status, 0, undrain.stderr)
        XCTAssertEqual(undrain.stdout, "\(Testbed.hn): undrained (TX on \(Testbed.vf))\n")
        XCTAssertTrue(try tb.steeringInstalled(), "the redirect is back when undrain returns")
        XCTAssertEqual(try pairState(a), "steering")
        let twice = try a.control(["undrain"])
        XCTAssertEqual(twice.status, 0, twice.stderr)
        XCTAssertEqual(twice.stdout, "\(Testbed.hn): not drained, nothing to undo (TX on \(Testbed.vf))\n")
    }

    func testAnUnknownNameIsRefusedWithThePairsListed() throws {
        let (tb, a) = try startSteered(settle: 0.2)
        let unknown = try a.control(["drain", "eth9"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("no pair has a synthetic NIC named eth9; synthetic NICs hnagent pairs: \(Testbed.hn)"),
                      unknown.stderr)
        let vf = try a.control(["undrain", Testbed.vf])
        XCTAssertEqual(vf.status, 64, vf.stderr)
        XCTAssertTrue(vf.stderr.contains("\(Testbed.vf) is the VF of \(Testbed.hn)"), vf.stderr)
        XCTAssertTrue(try tb.steeringInstalled(), "nothing changed")
    }

    func testAPairWithoutAVFStaysOnTheSyntheticPathWhenItsVFArrives() throws {
        let tb = try makeTestbed(withVF: false)
        let a = try startAgent(tb, settle: 0.2)
        let drain = try a.control(["drain", Testbed.hn])
        XCTAssertEqual(drain.status, 0, drain.stderr)
        XCTAssertEqual(drain.stdout, "\(Testbed.hn): drained (TX on \(Testbed.hn); no VF yet, will not steer when one arrives)\n")
        try tb.addVF()
        try a.waitForLog("settled synthetic=\(Testbed.hn)", timeout: 5)
        try tb.waitUntil(timeout: 5, "the VF's RX relay (the pair holds it)") {
            try tb.agentRedirect(tb.guest, Testbed.vf, .ingress) != nil
        }
        XCTAssertTrue(try tb.hnEgressRedirectGone(), "drained: no TX through the VF after its settle")
        let undrain = try a.control(["undrain"])
        XCTAssertEqual(undrain.stdout, "\(Testbed.hn): undrained (TX on \(Testbed.vf))\n", undrain.stderr)
        XCTAssertTrue(try tb.steeringInstalled())
    }

    /// Killed, the next agent adopts the RX relay and keeps TX on hn0; stopped, every NIC is
    /// restored and the next agent holds the pair drained after its VF settles. Without the
    /// drain in the state file both would steer again (the first at once: adopted, no settle).
    func testADrainSurvivesAKilledAndAStoppedAgent() throws {
        let (tb, first) = try startSteered(settle: 0.2)
        XCTAssertEqual(try first.control(["drain"]).status, 0)
        XCTAssertTrue(try tb.hnEgressRedirectGone())
        XCTAssertEqual(first.crash(), 128 + SIGKILL)

        let second = try startAgent(tb, settle: longSettle)
        try second.waitForLog("adopted relay synthetic=\(Testbed.hn)", timeout: 5)
        XCTAssertFalse(second.logLines(containing: "drained before this start, and still drained: \(Testbed.hn)").isEmpty,
                       second.log)
        XCTAssertTrue(try tb.hnEgressRedirectGone(), "still on the synthetic path after kill -9 and a restart")
        XCTAssertEqual(try pairState(second), "drained")
        // The adopted VF needs no settle: the redirect is back when undrain answers, well within 30 s.
        let undrain = try second.control(["undrain", Testbed.hn])
        XCTAssertEqual(undrain.stdout, "\(Testbed.hn): undrained (TX on \(Testbed.vf))\n", undrain.stderr)
        XCTAssertTrue(try tb.steeringInstalled())

        XCTAssertEqual(try second.control(["drain", Testbed.hn]).status, 0)
        XCTAssertEqual(second.stop(), 0)
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.vf), "a normal stop restores every NIC as always")
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.hn))
        let saved = try String(contentsOfFile: tb.stateFile, encoding: .utf8)
        XCTAssertTrue(saved.contains("\ndrained \(try tb.ifindex(tb.guest, Testbed.hn)) \(Testbed.hn) \(Testbed.hnMAC)\n"), saved)

        let third = try startAgent(tb, settle: 0.2)
        try third.waitForLog("settled synthetic=\(Testbed.hn)", timeout: 5)
        try tb.waitUntil(timeout: 5, "the VF's RX relay again") { try tb.agentRedirect(tb.guest, Testbed.vf, .ingress) != nil }
        XCTAssertTrue(try tb.hnEgressRedirectGone(), "drained after a stop and a start too")
        XCTAssertEqual(try pairState(third), "drained")
        let again = try third.control(["undrain"])
        XCTAssertEqual(again.stdout, "\(Testbed.hn): undrained (TX on \(Testbed.vf))\n", again.stderr)
        XCTAssertTrue(try tb.steeringInstalled())
        XCTAssertEqual(third.stop(), 0)
        XCTAssertFalse(try String(contentsOfFile: tb.stateFile, encoding: .utf8).contains("drained"), "undrain forgot it")
    }

    /// Default drain-until "undrain": a VF that goes and comes back settles, and TX stays on hn0.
    func testADrainedPairStaysDrainedWhenItsVFComesBack() throws {
        let (tb, a) = try startSteered(settle: 0.2)
        XCTAssertEqual(try a.control(["drain"]).status, 0)
        try tb.deleteVF()
        try tb.waitUntil(timeout: 5, "the VF released") { try pairState(a) == "drained" && !tb.linkExists(tb.guest, Testbed.vf) }
        let mark = a.logMark()
        try tb.addVF()
        try a.waitForLog("settled synthetic=\(Testbed.hn)", timeout: 5, since: mark)
        try tb.waitUntil(timeout: 5, "the new VF's RX relay") { try tb.agentRedirect(tb.guest, Testbed.vf, .ingress) != nil }
        XCTAssertTrue(try tb.hnEgressRedirectGone(), "still drained")
        XCTAssertEqual(try pairState(a), "drained")
    }

    /// drain-until "vf-return": the VF's return ends the drain; steering after the normal settle.
    func testVFReturnEndsTheDrainWhenConfigured() throws {
        let (tb, a) = try startSteered(settle: 0.2, extraArguments: ["--drain-until", "vf-return"])
        XCTAssertEqual(try a.control(["drain", Testbed.hn]).status, 0)
        XCTAssertTrue(try tb.hnEgressRedirectGone())
        try tb.deleteVF()
        try tb.waitUntil(timeout: 5, "the VF gone") { !tb.linkExists(tb.guest, Testbed.vf) }
        XCTAssertEqual(try pairState(a), "drained", "the removal alone does not end it")
        try tb.addVF()
        try a.waitForLog("undrained synthetic=\(Testbed.hn)", timeout: 5)
        try tb.waitUntil(timeout: steerTimeout, "steering after the settle") { try tb.steeringInstalled() }
        let events = try a.control(["events", "--json"]).stdout
        XCTAssertTrue(events.contains("\"kind\":\"undrained\"") && events.contains("VF returned"), events)
    }
}
