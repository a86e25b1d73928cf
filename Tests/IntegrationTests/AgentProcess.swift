// Runs the hnagent binary inside a testbed's GUEST namespace and watches its log (stderr).

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class AgentProcess {
    let arguments: [String]
    /// The agent's control socket: a fresh path per agent (the agent creates its directory), so
    /// test agents never share /run/hnagent/hnagent.sock with each other or a real agent.
    let controlSocket: String
    private let controlDirectory: URL?
    /// A state directory this process chose itself (not the testbed's, which a restarted agent reads).
    private var ownStateDirectory: String?
    private let process: BackgroundProcess
    private var stoppedStatus: Int32?

    /// Locates the hnagent binary: $HNAGENT_BINARY, else `hnagent` in the products directory
    /// (the directory that contains the .xctest bundle), else the directory of this executable.
    static func binaryURL() throws -> URL {
        let fm = FileManager.default
        if let override = ProcessInfo.processInfo.environment["HNAGENT_BINARY"], !override.isEmpty {
            guard fm.isExecutableFile(atPath: override) else {
                throw TestbedError("HNAGENT_BINARY=\(override) is not an executable file")
            }
            return URL(fileURLWithPath: override)
        }
        var dirs: [URL] = []
        for bundle in [Bundle(for: AgentProcess.self)] + Bundle.allBundles {
            let url = bundle.bundleURL
            if url.pathExtension == "xctest" {
                dirs.append(url.deletingLastPathComponent())
            } else {
                dirs.append(url)
            }
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        dirs.append(exe.deletingLastPathComponent())
        if let arg0 = CommandLine.arguments.first {
            dirs.append(URL(fileURLWithPath: arg0).deletingLastPathComponent())
        }
        for dir in dirs {
            let candidate = dir.appendingPathComponent("hnagent")
            if fm.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw TestbedError("hnagent binary not found next to the test bundle (looked in: "
                           + dirs.map(\.path).joined(separator: ", ") + "); run `swift build` first "
                           + "or set HNAGENT_BINARY")
    }

    /// The testbed's own pair: hn0 and vf0 by name.
    static let testbedPairing = ["--synthetic", Testbed.hn, "--vf", Testbed.vf]

    /// Starts `ip netns exec GUEST hnagent run --synthetic hn0 --vf vf0 --settle S ...`
    /// (`pairing` replaces the --synthetic/--vf options).
    /// Set HNAGENT_TEST_ECHO=1 to see the agent's log live (prefixed) while tests run.
    convenience init(testbed: Testbed, settle: Double = 0.5, logLevel: String? = "debug",
                     pairing: [String] = AgentProcess.testbedPairing, extraArguments: [String] = []) throws {
        try self.init(namespace: testbed.guest, settle: settle, logLevel: logLevel, pairing: pairing,
                      stateFile: testbed.stateFile, extraArguments: extraArguments)
    }

    /// Starts `ip netns exec NAMESPACE hnagent run PAIRING --settle S ...`. Saved originals go to
    /// `stateFile` (default: a file named after the namespace in the temporary directory), never
    /// to a real agent's /run/hnagent.
    init(namespace: String, settle: Double, logLevel: String? = "debug", pairing: [String],
         stateFile: String? = nil, extraArguments: [String] = []) throws {
        let binary = try AgentProcess.binaryURL()
        var socketArguments: [String] = []
        if let given = extraArguments.firstIndex(of: "--control-socket"), given + 1 < extraArguments.count {
            controlSocket = extraArguments[given + 1]
            controlDirectory = nil
        } else {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("hnagent-ctl-\(getpid())-\(UUID().uuidString.prefix(8))")
            controlDirectory = directory
            controlSocket = directory.appendingPathComponent("hnagent.sock").path
            socketArguments = ["--control-socket", controlSocket]
        }
        var state = stateFile ?? ""
        if stateFile == nil {
            // Root's and 0700: the agent refuses a state directory others can write.
            let directory = NSTemporaryDirectory() + "/\(namespace).statedir"
            mkdir(directory, 0o700)
            ownStateDirectory = directory
            state = directory + "/state"
        }
        arguments = [binary.path, "run"] + pairing
            + ["--settle", String(settle)] + (logLevel.map { ["--log-level", $0] } ?? []) + socketArguments
            + (extraArguments.contains("--state-file") ? [] : ["--state-file", state]) + extraArguments
        let echo = ProcessInfo.processInfo.environment["HNAGENT_TEST_ECHO"] == "1" ? "[hnagent] " : nil
        process = try BackgroundProcess(["ip", "netns", "exec", namespace] + arguments,
                                        echoStderrPrefix: echo)
    }

    deinit { stop() }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }

    /// Everything the agent has logged so far (stderr), readable while it runs.
    var log: String { process.stderr.text }
    var stdout: String { process.stdout.text }

    /// A position in the log; pass it to waitForLog(_:since:) to only look at later lines.
    func logMark() -> Int { process.stderr.count }

    func log(since mark: Int) -> String { process.stderr.text(from: mark) }

    /// Log lines (since `mark`) that contain `substring`.
    func logLines(containing substring: String, since mark: Int = 0) -> [String] {
        log(since: mark).split(separator: "\n").map(String.init).filter { $0.contains(substring) }
    }

    /// Waits until a log line containing `substring` appears (after `mark`), and returns it.
    /// Fails early if the agent exits.
    @discardableResult
    func waitForLog(_ substring: String, timeout: TimeInterval, since mark: Int = 0,
                    file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var found: String?
        do {
            try Testbed.waitUntil(timeout: timeout, "agent log line containing \"\(substring)\"",
                                  file: file, line: line) {
                if let hit = logLines(containing: substring, since: mark).first {
                    found = hit
                    return true
                }
                if !process.isRunning {
                    throw TestbedError("agent exited (status \(process.exitStatus ?? -1)) before logging \"\(substring)\"")
                }
                return false
            }
        } catch {
            throw TestbedError("\(error)\n--- agent log ---\n\(log(since: 0).suffix(4000))")
        }
        return found ?? ""
    }

    /// `kill -9`: no chance to restore anything (`ip netns exec` execs, so this is hnagent itself).
    @discardableResult
    func crash() -> Int32? {
        if let stoppedStatus { return stoppedStatus }
        process.signal(SIGKILL)
        let status = process.wait(timeout: 10)
        stoppedStatus = status
        return status
    }

    /// SIGTERM, wait up to `timeout` for exit, then SIGKILL. Returns the exit status
    /// (128 + n for death by signal n). Safe to call more than once.
    @discardableResult
    func stop(timeout: TimeInterval = 10) -> Int32? {
        if stoppedStatus == nil { stoppedStatus = process.terminate(timeout: timeout) }
        // Also after crash(): its control directory and state file are left otherwise.
        if let controlDirectory { try? FileManager.default.removeItem(at: controlDirectory) }
        if let ownStateDirectory { try? FileManager.default.removeItem(atPath: ownStateDirectory) }
        return stoppedStatus
    }
}
