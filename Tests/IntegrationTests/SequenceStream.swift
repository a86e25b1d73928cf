// A fixed-rate UDP sequence stream between two testbed namespaces, echoed back: the benchmark's
// own tool (bench/tools/udpseq.c, built here with the C compiler), so a test counts lost packets
// one by one, with their send times (CLOCK_MONOTONIC, the clock `monotonicNanoseconds` reads).

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC in ns: the clock udpseq stamps each packet's send time with.
func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// One run of lost sequence numbers and the send times of its first and last packet.
struct SequenceGap: CustomStringConvertible {
    let first: UInt64, last: UInt64, firstSentNs: Int64, lastSentNs: Int64
    var count: UInt64 { last - first + 1 }
    var description: String { "seq \(first)-\(last) (\(count) packets)" }
}

/// What `udpseq send` wrote when it stopped.
struct SequenceResult: CustomStringConvertible {
    var sent: UInt64 = 0, received: UInt64 = 0, lost: UInt64 = 0, duplicates: UInt64 = 0
    var gaps: [SequenceGap] = []
    var description: String { "sent \(sent), received \(received), lost \(lost), duplicates \(duplicates)" }

    static func parse(_ text: String) throws -> SequenceResult {
        var result = SequenceResult()
        var summary = false
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.hasPrefix("# udpseq") {
                summary = true
                for word in words.dropFirst(2) {
                    let kv = word.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, let value = UInt64(kv[1]) else { continue }
                    switch kv[0] {
                    case "sent": result.sent = value
                    case "received": result.received = value
                    case "lost": result.lost = value
                    case "duplicates": result.duplicates = value
                    default: break
                    }
                }
            } else if words.first == "gap", words.count == 5, let a = UInt64(words[1]), let b = UInt64(words[2]),
                      let ta = Int64(words[3]), let tb = Int64(words[4]) {
                result.gaps.append(SequenceGap(first: a, last: b, firstSentNs: ta, lastSentNs: tb))
            }
        }
        guard summary else { throw TestbedError("udpseq output has no summary line: \(text.prefix(300))") }
        return result
    }

    /// Lost packets whose send time lies in [from, to): each gap's packets spread evenly over
    /// its send times, as the benchmark's collector counts them.
    func lost(sentFrom from: Int64, to: Int64) -> UInt64 {
        var n: UInt64 = 0
        for gap in gaps {
            let step = gap.count > 1 ? Double(gap.lastSentNs - gap.firstSentNs) / Double(gap.count - 1) : 0
            for k in 0..<gap.count {
                let t = gap.firstSentNs + Int64(step * Double(k))
                if t >= from && t < to { n += 1 }
            }
        }
        return n
    }
}

/// `udpseq echo` in one namespace and `udpseq send` in another; stop() returns the result.
final class SequenceStream {
    let name: String
    private let sender: BackgroundProcess
    private let echo: BackgroundProcess
    private let output: URL

    /// Builds bench/tools/udpseq.c into `directory` (once per directory) and returns its path.
    static func tool(in directory: URL) throws -> String {
        let binary = directory.appendingPathComponent("udpseq").path
        if FileManager.default.isExecutableFile(atPath: binary) { return binary }
        guard let compiler = ["cc", "gcc", "clang"].first(where: { Shell.which($0) != nil }) else {
            throw XCTSkip("no C compiler (cc, gcc or clang) to build bench/tools/udpseq.c (run scripts/setup)")
        }
        try Shell.run([compiler, "-O2", "-Wall", "-pthread", "-o", binary, Repository.path("bench/tools/udpseq.c")])
        return binary
    }

    /// Echo bound to `echoAddress:port` in `echoNamespace`; `rate` packets/s sent to it from
    /// `senderNamespace`, for at most `maxSeconds` (the cap bounds udpseq's memory).
    init(_ name: String, testbed tb: Testbed, from senderNamespace: String, to echoNamespace: String,
         echoAddress: String, port: Int, rate: Int, maxSeconds: Int = 120, directory: URL) throws {
        self.name = name
        let udpseq = try SequenceStream.tool(in: directory)
        let ready = directory.appendingPathComponent("\(name).ready").path
        output = directory.appendingPathComponent("\(name).txt")
        let echo = try tb.spawn(echoNamespace, [udpseq, "echo", echoAddress, String(port), ready])
        self.echo = echo
        try tb.waitUntil(timeout: 5, "\(name): udpseq echo bound") {
            guard echo.isRunning else { throw TestbedError("udpseq echo exited: \(echo.stderr.text)") }
            return FileManager.default.fileExists(atPath: ready)
        }
        sender = try tb.spawn(senderNamespace, [udpseq, "send", echoAddress, String(port), String(rate),
                                                String(maxSeconds), output.path])
    }

    var isRunning: Bool { sender.isRunning }

    /// SIGINT to the sender (it takes the last echoes for 300 ms, then writes its file).
    func stop() throws -> SequenceResult {
        sender.signal(SIGINT)
        guard sender.wait(timeout: 10) == 0 else {
            throw TestbedError("\(name): udpseq send did not finish cleanly (exit \(sender.exitStatus.map(String.init) ?? "none")): \(sender.stderr.text)")
        }
        echo.terminate(timeout: 2)
        return try SequenceResult.parse(String(contentsOf: output, encoding: .utf8))
    }
}
