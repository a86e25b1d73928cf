// Issue 11 item 5: hostile name patterns (bounded matching, a length limit).

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class HostilePatternIntegrationTests: IntegrationTestCase {
    /// 40 stars and a letter once kept the agent at 100% CPU before "ready", deaf to SIGTERM.
    func testFortyStarPatternReachesReadyAndStops() throws {
        let tb = try makeTestbed()
        // Interface names of 15 characters (the kernel's longest), none ending in "q": a
        // backtracking matcher tries every way of spreading them over 40 stars.
        try tb.exec(tb.guest, ["ip", "link", "add", "longnameabcdefg", "type", "veth", "peer", "name", "longnameabcdefh"])
        let pattern = String(repeating: "*", count: 40) + "q"
        let a = try startAgent(tb, pairing: ["--synthetic", pattern, "--vf", Testbed.vf])
        XCTAssertEqual(a.stop(), 0, "SIGTERM answered within the usual deadline")
    }
}

/// Exit codes and messages for too-long patterns; no root needed (validation comes first).
final class PatternLimitCommandTests: XCTestCase {
    func testTooLongFlagPatternIsBadUsage() throws {
        let binary = try AgentProcess.binaryURL().path
        let long = String(repeating: "a", count: 65)
        for flag in ["--synthetic", "--vf"] {
            // A state file of its own: an agent that took the pattern would otherwise run with the defaults.
            let result = Shell.execute([binary, "run", flag, long, "--control-socket", "",
                                        "--state-file", NSTemporaryDirectory() + "/hnagent-pattern-limit.state"], timeout: 30)
            XCTAssertEqual(result.status, 64, "EX_USAGE: \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("\(flag): bad interface pattern: pattern of 65 characters is longer than the limit of 64"),
                          result.stderr)
        }
    }

    func testCheckConfigListsTooLongPatternsWithTheirLines() throws {
        let path = NSTemporaryDirectory() + "/hnagent-patterns-\(getpid()).toml"
        defer { unlink(path) }
        let stars = String(repeating: "*", count: 65), vees = String(repeating: "v", count: 70)
        try "[pairing]\nsynthetic = [\"hn*\", \"\(stars)\"]\nvf = [\"\(vees)\"]\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let check = Shell.execute([try AgentProcess.binaryURL().path, "check-config", path], timeout: 30)
        XCTAssertEqual(check.status, 65)
        XCTAssertEqual(check.stderr.split(separator: "\n").map(String.init), [
            "\(path):2: pairing.synthetic: pattern of 65 characters is longer than the limit of 64",
            "\(path):3: pairing.vf: pattern of 70 characters is longer than the limit of 64",
            "\(path): 2 problems; nothing applied",
        ])
    }
}
