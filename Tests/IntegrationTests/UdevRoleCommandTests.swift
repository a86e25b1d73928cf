// Issue 12: `hnagent udev-role`, which the installed udev rule calls, read against real links in
// a testbed namespace; its exit codes and messages for bad input (no root needed for those).

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class UdevRoleCommandTests: XCTestCase {
    private func udevRole(_ arguments: [String], namespace: String? = nil) throws -> CommandResult {
        let command = [try AgentProcess.binaryURL().path, "udev-role"] + arguments
        return Shell.execute((namespace.map { ["ip", "netns", "exec", $0] } ?? []) + command, timeout: 30)
    }

    private func config(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "/hnagent-udev-role-\(getpid())-\(UUID().uuidString).toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { unlink(path) }
        return path
    }

    /// (arguments, exit code, what stderr must say)
    func testBadInputIsNamed() throws {
        let table: [([String], Int32, String)] = [
            (["eth0/1"], 64, "'eth0/1' is not an interface name"),
            (["0"], 64, "'0' is not an ifindex"),
            (["this-name-is-too-long"], 64, "longer than 15 bytes"),
            (["1", "--name", "a b"], 64, "--name: 'a b' is not an interface name"),
            (["hnagent-nope0"], 1, "no interface hnagent-nope0 in this network namespace"),
            (["lo", "--config", "/nonexistent/hnagent.toml"], 66, "/nonexistent/hnagent.toml: no such file"),
        ]
        for (arguments, status, message) in table {
            let result = try udevRole(arguments)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(arguments): no properties for udev on an error")
        }
        let invalid = try udevRole(["lo", "--config", try config("[pairing]\nsynthetic = [\"driver:\"]\n")])
        XCTAssertEqual(invalid.status, 65, invalid.stderr)
        XCTAssertTrue(invalid.stderr.contains(":2: pairing.synthetic: 'driver:' needs a driver name"), invalid.stderr)
    }

    /// The testbed's hn0 and vf0 share a MAC: by name, by ifindex, and with udev's pending name.
    func testRolesOfTheTestbedsLinks() throws {
        try Testbed.requireRootAndTools()
        let testbed = try Testbed(withVF: true)
        defer { testbed.destroy() }
        let path = try config("[pairing]\nsynthetic = [\"hn*\"]\n")
        let vfIndex = try testbed.exec(testbed.guest, ["cat", "/sys/class/net/\(Testbed.vf)/ifindex"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let table: [([String], String)] = [
            ([Testbed.vf], "HNAGENT_ROLE=vf-candidate\nHNAGENT_SYNTHETIC=\(Testbed.hn)\n"),
            ([vfIndex], "HNAGENT_ROLE=vf-candidate\nHNAGENT_SYNTHETIC=\(Testbed.hn)\n"),
            ([Testbed.hn], "HNAGENT_ROLE=synthetic\n"),
            (["lo"], "HNAGENT_ROLE=none\n"),
            // A rename to a name the synthetic pattern selects makes it a synthetic NIC of its own.
            ([vfIndex, "--name", "hn9"], "HNAGENT_ROLE=synthetic\n"),
        ]
        for (arguments, expected) in table {
            let result = try udevRole(arguments + ["--config", path], namespace: testbed.guest)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, expected, "\(arguments)")
        }
        // --vf patterns the VF does not match: ignored, with the reason.
        let strict = try config("[pairing]\nsynthetic = [\"hn*\"]\nvf = [\"mlx*\"]\n")
        let ignored = try udevRole([Testbed.vf, "--config", strict], namespace: testbed.guest)
        XCTAssertEqual(ignored.stdout, "HNAGENT_ROLE=ignored\nHNAGENT_REASON=\"name matches no --vf pattern\"\n", ignored.stderr)
    }
}
