@testable import POSIX
@testable import Runtime
import Glibc
import XCTest

/// The log queue against a real pipe: a full pipe never blocks `enqueue`, dropped lines are
/// counted and reported once writing works again, a closed reader costs lines, not the process.
final class LogWriterTests: XCTestCase {
    private var ends: [Int32] = [-1, -1]

    override func setUpWithError() throws {
        signal(SIGPIPE, SIG_IGN) // as hnagent does: a dead reader is EPIPE, not death
        guard pipe(&ends) == 0 else { throw SystemCallError(call: "pipe", errno: errno) }
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
    }

    override func tearDown() {
        if ends[0] >= 0 { close(ends[0]) }
        // The write end stays open: the writer thread lives as long as the process (as the
        // agent's does with fd 2) and must never write to a reused descriptor number.
    }

    private func readAll(until marker: String, timeout: Double = 5) -> String {
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while !text.contains(marker) && Date() < deadline {
            let count = read(ends[0], &buffer, buffer.count)
            if count > 0 { text += String(decoding: buffer[..<count], as: UTF8.self) } else { usleep(2000) }
        }
        return text
    }

    func testLinesArriveInOrder() {
        let writer = LogWriter(fileDescriptor: ends[1], capacity: 100) { "dropped \($0)\n" }
        for n in 0..<50 { writer.enqueue("line \(n)\n") }
        XCTAssertTrue(writer.flush(timeoutSeconds: 5))
        let text = readAll(until: "line 49\n")
        XCTAssertEqual(text, (0..<50).map { "line \($0)\n" }.joined())
    }

    func testAFullPipeDropsAndCountsWithoutBlockingThenSaysHowManyOnceItDrains() {
        // A one-page pipe, full before the first line (F_SETPIPE_SZ is 1031; Glibc hides the name).
        let size = fcntl(ends[1], 1031, Int32(4096))
        XCTAssertEqual(write(ends[1], [UInt8](repeating: UInt8(ascii: "#"), count: Int(size)), Int(size)), Int(size))
        let writer = LogWriter(fileDescriptor: ends[1], capacity: 10) { "dropped \($0)\n" }
        // Far more than the pipe and the queue hold: must return at once.
        let line = String(repeating: "x", count: 1000) + "\n"
        let start = Date()
        for _ in 0..<500 { writer.enqueue(line) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "enqueue never waits for the reader")
        XCTAssertFalse(writer.flush(timeoutSeconds: 0.2), "the flush at exit gives up on a stalled reader")
        XCTAssertGreaterThan(writer.droppedTotal, 400)
        // One line per gap counts the lines dropped there (a gap can open before the writer
        // first blocks); together they count every dropped line.
        let dropped = writer.droppedTotal
        var reported: UInt64 = 0
        var text = ""
        let deadline = Date().addingTimeInterval(5)
        while reported < dropped && Date() < deadline {
            text += readAll(until: "dropped ", timeout: 0.1)
            reported = text.split(separator: "\n").filter { $0.hasPrefix("dropped ") }
                .compactMap { UInt64($0.dropFirst("dropped ".count)) }.reduce(0, +)
        }
        XCTAssertEqual(reported, dropped, "the notices count every dropped line")
    }

    func testAClosedReaderCostsLinesNotTheProcess() {
        close(ends[0])
        ends[0] = -1
        let writer = LogWriter(fileDescriptor: ends[1], capacity: 10) { "dropped \($0)\n" }
        for n in 0..<20 { writer.enqueue("line \(n)\n") }
        writer.flush(timeoutSeconds: 0.5)
        XCTAssertGreaterThan(writer.droppedTotal, 0)
    }
}
