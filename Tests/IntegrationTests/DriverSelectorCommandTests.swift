// Issue 12: `driver:NAME` selects synthetic NICs by driver; an empty NAME is refused.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Exit codes and messages for an empty `driver:`; no root needed (validation comes first).
final class DriverSelectorCommandTests: XCTestCase {
    func testEmptyDriverFlagIsBadUsage() throws {
        let binary = try AgentProcess.binaryURL().path
        // A state file of its own: an agent that took the entry would otherwise run with the defaults.
        let result = Shell.execute([binary, "run", "--synthetic", "driver:", "--control-socket", "",
                                    "--state-file", NSTemporaryDirectory() + "/hnagent-driver-selector.state"], timeout: 30)
        XCTAssertEqual(result.status, 64, "EX_USAGE: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("--synthetic: 'driver:' needs a driver name"), result.stderr)
    }

    func testCheckConfigNamesTheLineOfAnEmptyDriver() throws {
        let path = NSTemporaryDirectory() + "/hnagent-driver-selector-\(getpid()).toml"
        defer { unlink(path) }
        try "[pairing]\nsynthetic = [\"driver:virtio_net\",\n  \"driver:\"]\n".write(toFile: path, atomically: true, encoding: .utf8)
        let check = Shell.execute([try AgentProcess.binaryURL().path, "check-config", path], timeout: 30)
        XCTAssertEqual(check.status, 65)
        XCTAssertEqual(check.stderr.split(separator: "\n").map(String.init), [
            "\(path):3: pairing.synthetic: 'driver:' needs a driver name, as ethtool -i reports it (e.g. driver:virtio_net)",
            "\(path): 1 problem; nothing applied",
        ])
    }
}
