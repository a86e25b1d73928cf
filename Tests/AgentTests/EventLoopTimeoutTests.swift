@testable import Runtime
import Glibc
import Policy
import XCTest

/// The event loop sleeps until the reconciler's next deadline to the nanosecond (ppoll), so a
/// settle time ends when it says, not up to a millisecond later.
final class EventLoopTimeoutTests: XCTestCase {
    private func instant(_ nanoseconds: UInt64) -> MonotonicInstant { MonotonicInstant(nanoseconds: nanoseconds) }

    func testTimeoutKeepsSubMillisecondPrecision() {
        let wait = AgentRuntime.timespec(until: instant(2_001_500_000), now: instant(1_000_000))
        XCTAssertEqual(wait.tv_sec, 2)
        XCTAssertEqual(wait.tv_nsec, 500_000, "half a millisecond, not rounded up to one")
    }

    func testAPassedDeadlineWaitsNotAtAll() {
        let wait = AgentRuntime.timespec(until: instant(5), now: instant(10))
        XCTAssertEqual(wait.tv_sec, 0)
        XCTAssertEqual(wait.tv_nsec, 0)
    }
}
