// Issue 12: a reload that adds a `driver:NAME` entry has the links' drivers looked up, so the
// synthetic NIC is found by its driver (in the testbed both hn0 and vf0 are veth).

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class DriverSelectorIntegrationTests: IntegrationTestCase {
    func testReloadAddingADriverEntryDiscoversTheNICByItsDriver() throws {
        let dir = try scratchDirectory("hnagent-driver")
        let config = dir.appendingPathComponent("hnagent.toml").path
        try "[pairing]\nsynthetic = [\"hnit-none\"]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tb = try makeTestbed(withVF: false)
        let a = try startAgent(tb, settle: 0.2, pairing: [], extraArguments: ["--config", config])
        XCTAssertTrue(a.logLines(containing: "discovered synthetic NIC").isEmpty, "a name pattern matching nothing selects nothing")

        // Links stored under name patterns only were never asked their driver; the reload must ask.
        try "[pairing]\nsynthetic = [\"hnit-none\", \"driver:veth\"]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let mark = a.logMark()
        kill(a.pid, SIGHUP)
        let line = try a.waitForLog("discovered synthetic NIC \(Testbed.hn)", timeout: 5, since: mark)
        XCTAssertTrue(line.contains("driver=veth"), line)
        XCTAssertTrue(a.isRunning)
    }
}
