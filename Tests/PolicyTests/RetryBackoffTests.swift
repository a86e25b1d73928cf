@testable import Policy
import XCTest

final class RetryBackoffTests: XCTestCase {
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
