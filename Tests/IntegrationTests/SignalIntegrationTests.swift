// Issue 11 items 1 and 2 against a running agent (root only): SIGHUP re-reads the config file
// instead of killing the agent, and a log reader that stalls or dies neither blocks nor kills it.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class SignalIntegrationTests: IntegrationTestCase {
    private var piped: PipedAgent?
    private let fallbackTimeout: TimeInterval = 2

    override func tearDown() {
        if let piped {
            piped.stop()
            if (testRun?.failureCount ?? 0) + (testRun?.unexpectedExceptionCount ?? 0) > 0 {
                print("--- piped hnagent log ---\n\(piped.drain().suffix(6000))\n--- end ---")
            }
        }
        piped = nil
        super.tearDown()
    }

    /// `hnagent status --socket SOCKET`: exit status 0 when the agent answers.
    private func statusAnswers(_ socket: String) throws -> Bool {
        let result = Shell.execute([try AgentProcess.binaryURL().path, "status", "--socket", socket], timeout: 10)
        return result.status == 0 && result.stdout.contains("hn0")
    }

    private func writeConfig(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A new config file with `text` in a scratch directory, for `--config`.
    private func makeConfig(_ text: String) throws -> String {
        let dir = try scratchDirectory("hnagent-hup")
        let config = dir.appendingPathComponent("hnagent.toml").path
        try writeConfig(config, text)
        return config
    }

    // MARK: - SIGHUP

    /// An agent whose pairing patterns come from a config file only, steering.
    private func startSteeredByConfigFile() throws -> (Testbed, AgentProcess, String) {
        let config = try makeConfig("""
        [pairing]
        synthetic = ["hn0"]
        vf = ["vf0"]
        """)
        let tb = try makeTestbed()
        let a = try startAgent(tb, settle: 0.2, pairing: [], extraArguments: ["--config", config])
        try tb.waitUntil(timeout: steerTimeout, "steering with the file's patterns") { try tb.steeringInstalled() }
        return (tb, a, config)
    }

    func testSighupReloadsTheConfigFileAppliesLiveKeysNamesRestartKeysAndSurvivesAnInvalidFile() throws {
        let (tb, a, config) = try startSteeredByConfigFile()
        let egress = try XCTUnwrap(try tb.agentActionIdentity(tb.guest, Testbed.hn, .egress))

        // Nothing changed: the agent lives on and leaves the relay alone.
        var mark = a.logMark()
        kill(a.pid, SIGHUP)
        try a.waitForLog("reload: \(config): no changes", timeout: 5, since: mark)
        XCTAssertTrue(a.isRunning)
        XCTAssertEqual(try tb.agentActionIdentity(tb.guest, Testbed.hn, .egress)?.index, egress.index, "relay untouched")

        // The VF pattern no longer matches (live: the VF is released and restored); the mode
        // cannot change live (named, with both values, and kept).
        try writeConfig(config, """
        [pairing]
        synthetic = ["hn0"]
        vf = ["other*"]
        [steering]
        mode = "non-transparent"
        """)
        mark = a.logMark()
        kill(a.pid, SIGHUP)
        try tb.waitUntil(timeout: fallbackTimeout, "relay removed after the VF pattern changed") {
            try tb.agentFilters(tb.guest, Testbed.hn, .egress).isEmpty && tb.agentFilters(tb.guest, Testbed.vf, .ingress).isEmpty
        }
        let restart = try a.waitForLog("steering.mode", timeout: 5, since: mark)
        XCTAssertTrue(restart.contains("transparent -> non-transparent") && restart.contains("restart"), restart)
        let live = try a.waitForLog("pairing.vf", timeout: 5, since: mark)
        XCTAssertTrue(live.contains("vf0") && live.contains("other*"), live)
        try a.waitForLog("unpaired synthetic=hn0", timeout: 5, since: mark)
        try a.waitForLog("apply: set addrgenmode eui64 on vf0", timeout: 5, since: mark) // the released VF is restored
        XCTAssertTrue(a.isRunning)

        // An invalid file: every problem with PATH:LINE, old settings kept.
        try writeConfig(config, """
        [pairing]
        synthetic = ["hn0"]
        vf = ["vf0"]
        settle = "soon"
        colour = 3
        """)
        mark = a.logMark()
        kill(a.pid, SIGHUP)
        try a.waitForLog("\(config):4:", timeout: 5, since: mark)
        try a.waitForLog("\(config):5:", timeout: 5, since: mark)
        try a.waitForLog("keeping the current settings", timeout: 5, since: mark)
        XCTAssertTrue(a.isRunning)
        XCTAssertTrue(try tb.agentFilters(tb.guest, Testbed.hn, .egress).isEmpty, "the invalid file's vf0 was not applied")

        // Fixed: steering again through vf0.
        try writeConfig(config, """
        [pairing]
        synthetic = ["hn0"]
        vf = ["vf0"]
        """)
        kill(a.pid, SIGHUP)
        try tb.waitUntil(timeout: steerTimeout, "steering again after the fixed file") { try tb.steeringInstalled() }
        XCTAssertEqual(a.stop(), 0)
        XCTAssertTrue(try tb.hnEgressRedirectGone())
    }

    /// The config path replaced by a FIFO nobody writes: the reload must not hang the loop
    /// (open and read would wait for a writer forever).
    func testSighupWithAFIFOAtTheConfigPathKeepsTheLoopTurning() throws {
        let (tb, a, config) = try startSteeredByConfigFile()
        unlink(config)
        XCTAssertEqual(mkfifo(config, 0o600), 0)
        let mark = a.logMark()
        kill(a.pid, SIGHUP)
        let refused = try a.waitForLog("reload: \(config)", timeout: 5, since: mark)
        XCTAssertTrue(refused.contains("not a regular file"), refused)
        try a.waitForLog("keeping the current settings", timeout: 5, since: mark)
        XCTAssertTrue(try statusAnswers(a.controlSocket), "the loop still turns")
        try tb.deleteVF()
        try tb.waitUntil(timeout: fallbackTimeout, "fallback after the VF left") { try tb.hnEgressRedirectGone() }
    }

    /// The log level and keep-on-exit change live: a reload before `systemctl restart` can keep
    /// traffic on the VF across an upgrade.
    func testSighupChangesTheLogLevelAndKeepOnExitLive() throws {
        let config = try makeConfig("""
        [logging]
        level = "notice"
        """)
        let tb = try makeTestbed()
        // No --log-level flag: the file decides.
        let a = try AgentProcess(testbed: tb, settle: 0.2, logLevel: nil, extraArguments: ["--config", config])
        agent = a
        try a.waitForLog("ready:", timeout: startTimeout)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        XCTAssertTrue(try statusAnswers(a.controlSocket))
        XCTAssertTrue(a.logLines(containing: "debug ").isEmpty && a.logLines(containing: "info ").isEmpty, a.log)

        try writeConfig(config, """
        [logging]
        level = "debug"
        [steering]
        keep-on-exit = true
        """)
        var mark = a.logMark()
        kill(a.pid, SIGHUP)
        try a.waitForLog("reload: logging.level notice -> debug", timeout: 5, since: mark)
        try a.waitForLog("reload: steering.keep-on-exit false -> true", timeout: 5, since: mark)
        mark = a.logMark()
        XCTAssertTrue(try statusAnswers(a.controlSocket))
        try a.waitForLog("debug control: pid", timeout: 5, since: mark)

        XCTAssertEqual(a.stop(), 0)
        XCTAssertTrue(try tb.steeringInstalled(), "keep-on-exit from the reload left the relay")
    }

    /// SIGPIPE is ignored in the client commands too; a follower whose reader went away
    /// (`| head`) must still end, at its next event.
    func testEventsFollowEndsWhenItsReaderGoesAway() throws {
        let (tb, a) = try startSteered()
        let binary = try AgentProcess.binaryURL().path
        let pipeline = try BackgroundProcess(["sh", "-c", "\(binary) events --follow --socket \(a.controlSocket) | head -n 1"])
        defer { pipeline.terminate(timeout: 2) }
        try tb.waitUntil(timeout: 5, "head printed one event") { pipeline.stdout.text.contains("discovered") }
        try tb.vfDown()
        try tb.vfUp()
        XCTAssertNotNil(pipeline.wait(timeout: 5), "events --follow ended once its reader was gone")
    }

    // MARK: - Log readers

    func testAStalledLogReaderBlocksNeitherSteeringNorFallbackNorStatus() throws {
        let tb = try makeTestbed()
        // A one-page pipe, full before the agent writes its first line, never read until the end.
        let p = try PipedAgent(testbed: tb, capacity: 4096, prefilled: true)
        piped = p
        try tb.waitUntil(timeout: startTimeout, "steering although stderr is full") { try tb.steeringInstalled() }
        XCTAssertTrue(try statusAnswers(p.controlSocket), "status answers")

        try tb.deleteVF()
        try tb.waitUntil(timeout: fallbackTimeout, "hn0's egress redirect removed after the VF left") { try tb.hnEgressRedirectGone() }
        XCTAssertTrue(p.isRunning)
        XCTAssertTrue(try statusAnswers(p.controlSocket), "status still answers")

        // The reader comes back: the queue kept what the pipe could not take, in order. (Lines
        // beyond the queue's capacity are dropped and counted: LogWriterTests.)
        try tb.waitUntil(timeout: 5, "the queued log lines once the pipe is read") {
            p.drain().contains("unpaired synthetic=hn0")
        }
        let log = p.drain()
        let ready = try XCTUnwrap(log.range(of: "ready:"), log)
        let fallback = try XCTUnwrap(log.range(of: "fallback synthetic=hn0"), log)
        XCTAssertLessThan(ready.lowerBound, fallback.lowerBound)
        XCTAssertEqual(p.stop(), 0)
    }

    /// SIGTERM with the log still stalled: everything is restored, and the bounded flush at
    /// exit does not wait for the reader.
    func testAStalledLogReaderDoesNotHoldUpTheRestoreOrTheExit() throws {
        let tb = try makeTestbed()
        let p = try PipedAgent(testbed: tb, capacity: 4096, prefilled: true)
        piped = p
        try tb.waitUntil(timeout: startTimeout, "steering although stderr is full") { try tb.steeringInstalled() }
        let start = Date()
        XCTAssertEqual(p.stop(timeout: 5), 0, "exit 0 after restoring")
        XCTAssertLessThan(Date().timeIntervalSince(start), 3, "the flush at exit gives up after a second")
        XCTAssertTrue(try tb.agentFilters(tb.guest, Testbed.hn, .egress).isEmpty)
        XCTAssertTrue(try tb.agentFilters(tb.guest, Testbed.vf, .ingress).isEmpty)
    }

    func testADeadLogReaderKillsNothingAndSignalsStillWork() throws {
        let tb = try makeTestbed()
        let p = try PipedAgent(testbed: tb)
        piped = p
        try tb.waitUntil(timeout: startTimeout, "steering") { try tb.steeringInstalled() && p.drain().contains("steering on") }
        p.closeReadEnd()

        try tb.deleteVF()
        try tb.waitUntil(timeout: fallbackTimeout, "hn0's egress redirect removed after the VF left") { try tb.hnEgressRedirectGone() }
        XCTAssertTrue(p.isRunning, "the agent survived writing to a dead reader (exit \(p.wait(timeout: 0) ?? -1))")

        p.signal(SIGHUP)
        XCTAssertTrue(try statusAnswers(p.controlSocket), "status answers after SIGHUP")
        XCTAssertTrue(p.isRunning)

        try tb.addVF()
        try tb.waitUntil(timeout: steerTimeout, "steering again") { try tb.steeringInstalled() }
        XCTAssertEqual(p.stop(), 0, "SIGTERM still restores and exits 0")
        XCTAssertTrue(try tb.agentFilters(tb.guest, Testbed.hn, .egress).isEmpty)
        XCTAssertTrue(try tb.agentFilters(tb.guest, Testbed.vf, .ingress).isEmpty)
    }
}
