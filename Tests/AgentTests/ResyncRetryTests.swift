@testable import POSIX
@testable import Engine
@testable import OperatorInterface
import Foundation
import Policy
import XCTest

/// Issue 11 item 11: a failed resynchronisation (after an event overrun) is retried with
/// back-off as a deadline of the event loop, and shows in status and metrics until it works.
final class ResyncRetryTests: ReconcilerTestCase {
    private let config = AgentConfig(syntheticPatterns: [try! Glob("hn0")], settle: .seconds(2))

    private func steer() throws -> Reconciler {
        let r = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering")
        return r
    }

    func testAFailedResynchronisationIsRetriedWithBackoffUntilItWorks() throws {
        let r = try steer()
        // The VF left while its events were lost in an overrun, and the dumps fail for a while.
        kernel.remove(vf)
        kernel.dumpFailures = 2
        let start = clock.now()

        XCTAssertFalse(r.resynchroniseOrRetry())
        XCTAssertEqual(r.nextDeadline, start.advanced(by: .milliseconds(100)), "first retry after 100 ms")
        XCTAssertEqual(r.snapshot().resync, ResyncStatus(pending: true, failures: 1))
        XCTAssertTrue(logs.contains("resynchronising: RTM_GETLINK dump failed: Cannot allocate memory (ENOMEM); the link table may be stale, retrying in 0.1s",
                                    level: .error), "\(logs.messages)")

        clock.advance(by: .milliseconds(50))
        r.onTimer()
        XCTAssertEqual(kernel.dumpFailures, 1, "not before its time")

        clock.advance(by: .milliseconds(50))
        r.onTimer()
        XCTAssertEqual(kernel.dumpFailures, 0, "retried at the deadline")
        XCTAssertEqual(r.nextDeadline, clock.now().advanced(by: .milliseconds(200)), "then after 200 ms")
        XCTAssertEqual(r.snapshot().resync, ResyncStatus(pending: true, failures: 2))
        XCTAssertNotNil(r.links[vf], "the table is still stale")

        clock.advance(by: .milliseconds(200))
        r.onTimer()
        XCTAssertEqual(r.snapshot().resync, ResyncStatus(pending: false, failures: 2), "done; failures counted")
        XCTAssertNil(kernel.relay[hn]?.egress, "the reconcile after the dump fell back: TX on the synthetic path")
        XCTAssertNil(r.links[vf], "the VF is gone from the table")
        XCTAssertTrue(logs.contains("resynchronised after 2 failed attempt(s)"), "\(logs.messages)")
        XCTAssertNil(r.resync.retryAt, "nothing more to retry")
    }

    func testStatusAndMetricsShowAPendingResynchronisation() throws {
        let r = try steer()
        kernel.dumpFailures = 1
        XCTAssertFalse(r.resynchroniseOrRetry())
        let board = StatusBoard(mode: .transparent)
        let facts = AgentFacts(pid: 1, mode: .transparent, settle: .seconds(2), started: clock.now(), startedWall: WallTime.now())
        let report = board.report(r.snapshot(), facts: facts, now: clock.now())
        XCTAssertTrue(report.agent.resyncPending)
        XCTAssertEqual(report.agent.resyncFailures, 1)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = String(decoding: try encoder.encode(report), as: UTF8.self)
        XCTAssertTrue(json.contains("\"resync_pending\":true"), json)
        XCTAssertTrue(json.contains("\"resync_failures\":1"), json)
        let metrics = MetricsExposition.render(report)
        XCTAssertTrue(metrics.contains("\nhnagent_resync_pending 1\n"), metrics)
        XCTAssertTrue(metrics.contains("\nhnagent_resync_failures_total 1\n"), metrics)
    }
}
