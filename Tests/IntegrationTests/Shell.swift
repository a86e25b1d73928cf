// Running external commands (ip, tc, bridge, ping, iperf3) from the integration tests.
// Foundation + XCTest only: this target has no dependencies.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A command that failed: carries the full command line and what it printed.
struct CommandError: Error, CustomStringConvertible {
    let commandLine: String
    let status: Int32
    let stdout: String
    let stderr: String
    let timedOut: Bool

    var description: String {
        var text = timedOut
            ? "command timed out: \(commandLine)"
            : "command failed (exit \(status)): \(commandLine)"
        let err = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let out = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if !err.isEmpty { text += "\n  stderr: \(err)" }
        if !out.isEmpty { text += "\n  stdout: \(out.prefix(2000))" }
        return text
    }
}

struct CommandResult {
    let commandLine: String
    let status: Int32
    let stdout: String
    let stderr: String
    let timedOut: Bool

    var succeeded: Bool { status == 0 && !timedOut }

    func check() throws -> String {
        guard succeeded else {
            throw CommandError(commandLine: commandLine, status: status, stdout: stdout,
                               stderr: stderr, timedOut: timedOut)
        }
        return stdout
    }
}

enum Shell {
    /// Directories searched for tools in addition to $PATH (ip/tc/bridge live in sbin).
    static let extraPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    static func which(_ tool: String) -> String? {
        if tool.contains("/") { return tool }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "")
            .split(separator: ":").map(String.init) + extraPath
        for dir in path where !dir.isEmpty {
            let candidate = dir + "/" + tool
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func quote(_ args: [String]) -> String {
        args.map { arg in
            arg.isEmpty || arg.contains(where: { " \t\n'\"$\\*?;&|<>()".contains($0) })
                ? "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
                : arg
        }.joined(separator: " ")
    }

    /// Runs a command to completion and returns everything it printed, whatever its exit status.
    /// It is killed (SIGKILL) after `timeout` seconds.
    static func execute(_ args: [String], timeout: TimeInterval = 60) -> CommandResult {
        let line = quote(args)
        guard let first = args.first, let exe = which(first) else {
            return CommandResult(commandLine: line, status: 127, stdout: "",
                                 stderr: "\(args.first ?? "<empty>"): command not found", timedOut: false)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = Array(args.dropFirst())
        process.standardInput = FileHandle.nullDevice
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        do {
            try process.run()
        } catch {
            return CommandResult(commandLine: line, status: 126, stdout: "",
                                 stderr: "cannot start: \(error)", timedOut: false)
        }
        // Read both pipes concurrently so neither can fill up and block the child.
        let errBuffer = OutputBuffer()
        let errReader = PipeReader(handle: errPipe.fileHandleForReading, buffer: errBuffer)
        let outBuffer = OutputBuffer()
        let outReader = PipeReader(handle: outPipe.fileHandleForReading, buffer: outBuffer)

        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() >= deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        outReader.waitForEOF(timeout: 5)
        errReader.waitForEOF(timeout: 5)
        return CommandResult(commandLine: line, status: process.terminationStatus,
                             stdout: outBuffer.text, stderr: errBuffer.text, timedOut: timedOut)
    }

    /// Runs a command and returns its stdout; throws `CommandError` (command line + stderr) on failure.
    @discardableResult
    static func run(_ args: [String], timeout: TimeInterval = 60) throws -> String {
        try execute(args, timeout: timeout).check()
    }
}

/// A thread-safe, growing byte buffer for a child's output, readable while the child runs.
final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) {
        lock.lock(); defer { lock.unlock() }
        data.append(chunk)
    }

    var text: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return data.count
    }

    /// Text from byte offset `from` on (for "what was logged since mark").
    func text(from offset: Int) -> String {
        lock.lock(); defer { lock.unlock() }
        guard offset < data.count else { return "" }
        return String(decoding: data[data.startIndex.advanced(by: max(0, offset))...], as: UTF8.self)
    }
}

/// Drains a pipe on its own thread (blocking reads) into an OutputBuffer until EOF.
final class PipeReader: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let onChunk: (@Sendable (Data) -> Void)?

    init(handle: FileHandle, buffer: OutputBuffer, onChunk: (@Sendable (Data) -> Void)? = nil) {
        self.onChunk = onChunk
        let thread = Thread { [done, onChunk] in
            while true {
                let chunk = handle.availableData   // blocks; empty at EOF
                if chunk.isEmpty { break }
                buffer.append(chunk)
                onChunk?(chunk)
            }
            try? handle.close()
            done.signal()
        }
        thread.start()
    }

    /// Waits until the writer side is closed (normally right after the child exits).
    @discardableResult
    func waitForEOF(timeout: TimeInterval) -> Bool {
        if done.wait(timeout: .now() + timeout) == .success {
            done.signal()   // stay signalled for later callers
            return true
        }
        return false
    }
}

/// A child process running in the background (iperf3, ping streams, the agent), with its
/// stdout and stderr captured into buffers that can be read while it runs.
final class BackgroundProcess: @unchecked Sendable {
    let commandLine: String
    let stdout = OutputBuffer()
    let stderr = OutputBuffer()
    private let process = Process()
    private var outReader: PipeReader?
    private var errReader: PipeReader?
    private let lock = NSLock()
    private var reaped = false

    /// `echoStderr`: copy the child's stderr lines to our stdout with this prefix (live logs).
    init(_ args: [String], echoStderrPrefix: String? = nil) throws {
        commandLine = Shell.quote(args)
        guard let first = args.first, let exe = Shell.which(first) else {
            throw CommandError(commandLine: commandLine, status: 127, stdout: "",
                               stderr: "\(args.first ?? "<empty>"): command not found", timedOut: false)
        }
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = Array(args.dropFirst())
        process.standardInput = FileHandle.nullDevice
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        outReader = PipeReader(handle: outPipe.fileHandleForReading, buffer: stdout)
        var echo: (@Sendable (Data) -> Void)? = nil
        if let prefix = echoStderrPrefix {
            echo = { chunk in
                let text = String(decoding: chunk, as: UTF8.self)
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                if lines.last == "" { lines.removeLast() }
                let out = lines.map { prefix + $0 }.joined(separator: "\n") + "\n"
                FileHandle.standardOutput.write(Data(out.utf8))
            }
        }
        errReader = PipeReader(handle: errPipe.fileHandleForReading, buffer: stderr, onChunk: echo)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Exit status, or nil while running. A signal death is reported as 128 + signal.
    var exitStatus: Int32? {
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Waits for exit up to `timeout`; returns the exit status or nil if still running.
    @discardableResult
    func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        guard !process.isRunning else { return nil }
        outReader?.waitForEOF(timeout: 2)
        errReader?.waitForEOF(timeout: 2)
        return exitStatus
    }

    func signal(_ sig: Int32) {
        if process.isRunning { kill(process.processIdentifier, sig) }
    }

    /// SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit status (128+n for signal n).
    @discardableResult
    func terminate(timeout: TimeInterval = 5) -> Int32? {
        guard process.isRunning else { return wait(timeout: 0) }
        signal(SIGTERM)
        if let status = wait(timeout: timeout) { return status }
        signal(SIGKILL)
        return wait(timeout: 5)
    }
}
