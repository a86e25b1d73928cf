// The agent with its stderr on a pipe the test controls, unlike AgentProcess whose log is always
// drained: for tests of a log reader that stalls (pipe full) or dies (read end closed).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class PipedAgent {
    let controlSocket: String
    private let controlDirectory: URL
    private let process = Process()
    /// The pipe's read end (non-blocking); -1 once closed.
    private var readEnd: Int32
    private var received = Data()
    private var stoppedStatus: Int32?
    /// F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7): Glibc exports it only with _GNU_SOURCE.
    private static let setPipeSize: Int32 = 1031

    /// Starts `hnagent run` in the testbed's GUEST namespace with stderr on a new pipe.
    /// `capacity` shrinks the pipe (F_SETPIPE_SZ); `prefilled` fills it before the agent starts,
    /// so its very first log write finds the pipe full.
    init(testbed: Testbed, capacity: Int32? = nil, prefilled: Bool = false) throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw TestbedError("pipe: errno \(errno)") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        readEnd = ends[0]
        let writeEnd = ends[1]
        defer { close(writeEnd) }
        if let capacity {
            let size = fcntl(writeEnd, PipedAgent.setPipeSize, capacity)
            guard size >= 0 else { throw TestbedError("F_SETPIPE_SZ \(capacity): errno \(errno)") }
            if prefilled {
                // Exactly the capacity fits into the empty pipe; the write end stays blocking.
                let filler = [UInt8](repeating: UInt8(ascii: "#"), count: Int(size))
                guard write(writeEnd, filler, filler.count) == filler.count else { throw TestbedError("prefill: errno \(errno)") }
            }
        }
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK) // the read end only: its own file description
        controlDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hnagent-piped-\(getpid())-\(UUID().uuidString.prefix(8))")
        controlSocket = controlDirectory.appendingPathComponent("hnagent.sock").path
        let binary = try AgentProcess.binaryURL().path
        process.executableURL = URL(fileURLWithPath: Shell.which("ip") ?? "/usr/sbin/ip")
        process.arguments = ["netns", "exec", testbed.guest, binary, "run"] + AgentProcess.testbedPairing
            + ["--settle", "0.2", "--log-level", "debug", "--control-socket", controlSocket, "--state-file", testbed.stateFile]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(fileDescriptor: writeEnd, closeOnDealloc: false)
        try process.run()
    }

    deinit {
        stop()
        closeReadEnd()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Everything read from the pipe so far, after reading what is there now.
    func drain() -> String {
        guard readEnd >= 0 else { return String(decoding: received, as: UTF8.self) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count <= 0 { break }
            received.append(contentsOf: buffer[..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// The reader dies: the agent's next write gets EPIPE (and SIGPIPE, unless ignored).
    func closeReadEnd() {
        if readEnd >= 0 { close(readEnd) }
        readEnd = -1
    }

    func signal(_ number: Int32) { if process.isRunning { kill(process.processIdentifier, number) } }

    /// Exit status (128 + n for signal n) once exited within `timeout`, else nil.
    func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// SIGTERM, then SIGKILL after `timeout`. Safe to call twice.
    @discardableResult
    func stop(timeout: TimeInterval = 10) -> Int32? {
        if let stoppedStatus { return stoppedStatus }
        signal(SIGTERM)
        var status = wait(timeout: timeout)
        if status == nil {
            signal(SIGKILL)
            status = wait(timeout: 5)
        }
        stoppedStatus = status
        try? FileManager.default.removeItem(at: controlDirectory)
        return status
    }
}
