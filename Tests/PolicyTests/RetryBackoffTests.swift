@testable import Policy
import XCTest

final class RetryBackoffTests: XCTestCase {
    /// Issue 11 item 11: a failed resynchronisation is retried after 100 ms, doubling to 5 s.
    func testDelaysDoubleUpToTheMaximum() {
        let backoff = RetryBackoff.resynchronisation
        let table: [(Int, Duration)] = [
            (0, .milliseconds(100)), (1, .milliseconds(100)), (2, .milliseconds(200)), (3, .milliseconds(400)),
            (4, .milliseconds(800)), (5, .milliseconds(1600)), (6, .milliseconds(3200)), (7, .seconds(5)),
            (8, .seconds(5)), (64, .seconds(5)), (Int.max, .seconds(5)),
        ]
        for (failures, delay) in table {
            XCTAssertEqual(backoff.delay(afterFailures: failures), delay, "after \(failures) failure(s)")
        }
    }
}
