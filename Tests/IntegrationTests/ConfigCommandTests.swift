// check-config, print-default-config and run --config, through the real binary: exit codes and
// PATH:LINE messages. No root needed: run stops on a bad config before touching netlink.

import Foundation
import XCTest

final class ConfigCommandTests: XCTestCase {
    private var directory: URL?

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        directory = nil
        super.tearDown()
    }

    private func hnagent(_ arguments: [String]) throws -> CommandResult {
        Shell.execute([try AgentProcess.binaryURL().path] + arguments, timeout: 30)
    }

    /// Writes `text` to a file in this test's scratch directory and returns its path.
    private func file(_ name: String, _ text: String) throws -> String {
        let dir = try directory ?? makeScratchDirectory("hnagent-config")
        directory = dir
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testPrintDefaultConfigPassesCheckConfigAndIsTheExample() throws {
        let printed = try hnagent(["print-default-config"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        let path = try file("default.toml", printed.stdout)
        let check = try hnagent(["check-config", path])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout, "\(path): valid\n")
        XCTAssertEqual(check.stderr, "")
        XCTAssertEqual(printed.stdout, try String(contentsOfFile: Repository.path("config/hnagent.toml"), encoding: .utf8))
    }

    func testCheckConfigListsEveryProblemWithItsLine() throws {
        let path = try file("bad.toml", """
        [pairing]
        synthetic = ["eth0", "bad["]
        settle = 9000
        [steering]
        mode = fast
        [logging]
        colour = "red"
        """)
        let check = try hnagent(["check-config", path])
        XCTAssertEqual(check.status, 65, "EX_DATAERR for an invalid file")
        XCTAssertEqual(check.stdout, "")
        XCTAssertEqual(check.stderr.split(separator: "\n").map(String.init), [
            "\(path):2: pairing.synthetic: pattern 'bad[' has a '[' without a closing ']'",
            "\(path):3: pairing.settle must be between 0 and 3600 seconds, got 9000",
            "\(path):5: strings must be quoted: write \"fast\"",
            "\(path):7: unknown key 'colour' in [logging]; known keys: level, format",
            "\(path): 4 problems; nothing applied",
        ])
    }

    func testCheckConfigOnAMissingFileExits66() throws {
        let missing = try makeScratchDirectory("hnagent-config").appendingPathComponent("none.toml").path
        directory = URL(fileURLWithPath: missing).deletingLastPathComponent()
        let check = try hnagent(["check-config", missing])
        XCTAssertEqual(check.status, 66, "EX_NOINPUT for a missing file")
        XCTAssertTrue(check.stderr.hasPrefix("\(missing): no such file"), check.stderr)
    }

    /// /dev/stdin and <(...) are pipes: refused without blocking, with the way that works (`-`).
    func testCheckConfigOnAPipeSaysToUseDash() throws {
        let dir = try makeScratchDirectory("hnagent-config")
        directory = dir
        let fifo = dir.appendingPathComponent("pipe.toml").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let check = try hnagent(["check-config", fifo])
        XCTAssertEqual(check.status, 66, "EX_NOINPUT for a path that is not a file")
        XCTAssertEqual(check.stderr, "\(fifo): cannot read: a FIFO, not a regular file; to check a config from "
            + "standard input or a pipe, give - as the path: hnagent check-config - < FILE\n")
    }

    /// run refuses a bad or missing --config before any netlink work. The patterns match no
    /// interface, so even a regression could not touch this machine's NICs.
    func testRunStopsOnABadOrMissingConfig() throws {
        let bad = try file("bad.toml", "[pairing]\nsettle = \"soon\"\n")
        let guardFlags = ["--synthetic", "hnit-none-*", "--vf", "hnit-none-*"]
        let invalid = Shell.execute([try AgentProcess.binaryURL().path, "run", "--config", bad] + guardFlags, timeout: 30)
        XCTAssertEqual(invalid.status, 65, invalid.stderr)
        XCTAssertTrue(invalid.stderr.contains("\(bad):2: pairing.settle must be a number of seconds"), invalid.stderr)

        let missing = bad + ".missing"
        let absent = Shell.execute([try AgentProcess.binaryURL().path, "run", "--config", missing] + guardFlags, timeout: 30)
        XCTAssertEqual(absent.status, 66, absent.stderr)
        XCTAssertTrue(absent.stderr.contains("\(missing): no such file"), absent.stderr)
    }

    /// Every option of `run` must be settable in the file (issue 6). A new flag fails this
    /// test until it has a key in ConfigSchema.
    func testEveryRunFlagHasAConfigKey() throws {
        let help = try hnagent(["run", "--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        let optionLines = help.stdout.split(separator: "\n").filter { $0.hasPrefix("  -") }
        let flagPattern = try Regex("--[a-z0-9-]+")
        let flags = Set(optionLines.flatMap { line in
            // The option column ends at the first run of spaces.
            let column = line.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ")[0]
            return column.matches(of: flagPattern).map { String(column[$0.range]) }
        }).subtracting(["--config", "--help", "--version"]).filter { !$0.hasPrefix("--no-") }
        XCTAssertTrue(flags.contains("--settle"), "help parsed: \(flags)")
        let defaults = try hnagent(["print-default-config"]).stdout
        for flag in flags.sorted() {
            XCTAssertTrue(defaults.contains("# Flag: \(flag)\n"),
                          "run \(flag) has no config file key: add one to ConfigSchema (Sources/Configuration)")
        }
    }
}
