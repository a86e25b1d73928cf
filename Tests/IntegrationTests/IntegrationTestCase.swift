// The base of every root integration test: one testbed and at most one agent per test, both
// removed in tearDown (also on failure, when the kernel state and the agent's log are printed).

import Foundation
import XCTest

class IntegrationTestCase: XCTestCase {
    var testbed: Testbed?
    var agent: AgentProcess?
    /// Directories made by `scratchDirectory`, removed in tearDown once the agent has stopped.
    private(set) var scratchDirectories: [URL] = []

    /// Generous deadlines for a loaded 2-core CI machine; the agent normally reacts in ms.
    let startTimeout: TimeInterval = 15
    let steerTimeout: TimeInterval = 5

    override func setUpWithError() throws {
        try Testbed.requireRootAndTools()
        continueAfterFailure = false
    }

    override func tearDown() {
        let failed = (testRun?.failureCount ?? 0) + (testRun?.unexpectedExceptionCount ?? 0) > 0
        if failed, let testbed { print(testbed.stateSummary()) }
        if let agent {
            agent.stop()
            if failed {
                print("--- hnagent log (\(agent.arguments.joined(separator: " "))) ---")
                print(agent.log.suffix(8000))
                print("--- end of hnagent log ---")
            }
        }
        agent = nil
        testbed?.destroy()
        testbed = nil
        for directory in scratchDirectories { try? FileManager.default.removeItem(at: directory) }
        scratchDirectories = []
        super.tearDown()
    }

    /// A fresh directory under $TMPDIR for this test, removed in tearDown.
    func scratchDirectory(_ prefix: String) throws -> URL {
        let url = try makeScratchDirectory(prefix)
        scratchDirectories.append(url)
        return url
    }

    /// A testbed (vf0 present unless told otherwise), kept for tearDown.
    func makeTestbed(withVF: Bool = true) throws -> Testbed {
        let tb = try Testbed(withVF: withVF)
        testbed = tb
        return tb
    }

    /// Starts the agent in the testbed's GUEST namespace and waits for its "ready" line.
    @discardableResult
    func startAgent(_ tb: Testbed, settle: Double = 0.5, pairing: [String] = AgentProcess.testbedPairing,
                    extraArguments: [String] = []) throws -> AgentProcess {
        let a = try AgentProcess(testbed: tb, settle: settle, pairing: pairing, extraArguments: extraArguments)
        agent = a
        try a.waitForLog("ready: mode=", timeout: startTimeout)
        return a
    }

    /// A testbed with vf0 present and the agent started and steering (kernel state checked).
    func startSteered(settle: Double = 0.5, pairing: [String] = AgentProcess.testbedPairing,
                      extraArguments: [String] = []) throws -> (Testbed, AgentProcess) {
        let tb = try makeTestbed()
        let a = try startAgent(tb, settle: settle, pairing: pairing, extraArguments: extraArguments)
        try tb.waitUntil(timeout: steerTimeout, "steering filters on vf0 ingress and hn0 egress") {
            try tb.steeringInstalled()
        }
        return (tb, a)
    }
}
