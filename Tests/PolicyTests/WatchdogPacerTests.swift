import Policy
import XCTest

final class WatchdogPacerTests: XCTestCase {
    private func at(_ milliseconds: UInt64) -> MonotonicInstant { MonotonicInstant(nanoseconds: milliseconds * 1_000_000) }

    func testEnvironmentTable() {
        let cases: [(usec: String?, pid: String?, interval: Duration?)] = [
            (nil, nil, nil),                    // no WatchdogSec=
            ("", nil, nil),
            ("0", nil, nil),                    // systemd: 0 means off
            ("-5", nil, nil),
            ("20s", nil, nil),                  // not microseconds
            ("20000000", nil, .seconds(10)),    // WatchdogSec=20s: ping every 10 s
            ("20000000", "", .seconds(10)),
            ("20000000", "42", .seconds(10)),   // meant for this process
            ("20000000", "43", nil),            // meant for another process
            ("20000000", "x", nil),
            ("1", nil, .milliseconds(10)),      // odd: the loop still sleeps between pings
        ]
        for (usec, pid, interval) in cases {
            XCTAssertEqual(WatchdogPacer(watchdogUsec: usec, watchdogPID: pid, ownPID: 42)?.interval, interval,
                           "WATCHDOG_USEC=\(usec ?? "unset") WATCHDOG_PID=\(pid ?? "unset")")
        }
    }

    func testPingsAtMostEveryIntervalAndTellsTheLoopWhenToTurn() {
        var pacer = WatchdogPacer(interval: .milliseconds(100))
        XCTAssertNil(pacer.nextPing, "no ping yet: no cap before the first turn")
        XCTAssertTrue(pacer.pingIsDue(now: at(1000)), "the first turn pings")
        XCTAssertEqual(pacer.nextPing, at(1100))
        XCTAssertFalse(pacer.pingIsDue(now: at(1050)), "a busy loop does not flood systemd")
        XCTAssertFalse(pacer.pingIsDue(now: at(1099)))
        XCTAssertTrue(pacer.pingIsDue(now: at(1100)))
        XCTAssertEqual(pacer.nextPing, at(1200))
        XCTAssertTrue(pacer.pingIsDue(now: at(5000)), "late, after a long stall: ping when the loop turns again")
        XCTAssertEqual(pacer.nextPing, at(5100))
    }
}
