@testable import Policy
import XCTest

final class RetryBackoffTests: XCTestCase {
    /// Issue 11 item 11: a failed resynchronisation is retried after 100 ms, doubling to 5 s.
    func testResynchronisationDoublesFrom100msUpTo5s() {
        let backoff = RetryBackoff.resynchronisation
        let table: [(Int, Duration)] = [
            (0, .zero), (1, .milliseconds(100)), (2, .milliseconds(200)), (3, .milliseconds(400)),
            (4, .milliseconds(800)), (5, .milliseconds(1600)), (6, .milliseconds(3200)), (7, .seconds(5)),
            (8, .seconds(5)), (64, .seconds(5)), (Int.max, .seconds(5)),
        ]
        for (failures, delay) in table {
            XCTAssertEqual(backoff.delay(afterFailures: failures), delay, "after \(failures) failure(s)")
        }
    }

    func testDoublesFromTheInitialDelayUpToTheMaximum() {
        let backoff = RetryBackoff(initial: .seconds(1), maximum: .seconds(60))
        let table: [(failures: Int, seconds: Int64)] = [
            (0, 0), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 60), (8, 60), (1000, 60),
        ]
        for row in table {
            XCTAssertEqual(backoff.delay(afterFailures: row.failures), .seconds(row.seconds), "after \(row.failures) failures")
        }
    }

    func testFractionalInitialDelays() {
        let backoff = RetryBackoff(initial: .milliseconds(250), maximum: .seconds(1))
        XCTAssertEqual(backoff.delay(afterFailures: 2), .milliseconds(500))
        XCTAssertEqual(backoff.delay(afterFailures: 4), .seconds(1))
    }
}
