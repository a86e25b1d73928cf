@testable import POSIX
@testable import NetlinkCodecs
@testable import Kernel
@testable import Engine
import Logging
import Policy
import XCTest

/// `onTimer` runs whenever a deadline passed, also right after the reconcile of a wake with
/// events (see AgentRuntime.run): each due deadline gets its own work, and no reconcile that the
/// one before it already did.
final class TimerWorkTests: ReconcilerTestCase {
    private let notifier = RecordingNotifier()
    private let interval: Duration = .milliseconds(200)

    override func setUp() {
        super.setUp()
        kernel.addresses = [hn: [InterfaceAddress(device: hn, family: .ipv4, bytes: [198, 18, 0, 1], unusable: false)]]
    }

    /// Steering, with the first of three notification rounds sent.
    private func steer() throws -> Reconciler {
        var config = AgentConfig(syntheticPatterns: [try Glob("hn0")], settle: .seconds(2))
        config.peerNotifyCount = 3
        config.peerNotifyInterval = interval
        let r = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger, notifier: notifier)
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering")
        XCTAssertEqual(notifier.rounds.count, 1, "round 1 right after steering on")
        return r
    }

    func testANotificationRoundAloneCostsNoReconcile() throws {
        let r = try steer()
        clock.advance(by: interval)
        let reconciles = r.reconcileCount
        r.onTimer()
        XCTAssertEqual(notifier.rounds.count, 2, "round 2 at its time")
        XCTAssertEqual(r.reconcileCount, reconciles, "sending a round changes nothing to reconcile")
        XCTAssertEqual(r.nextDeadline, clock.now().advanced(by: interval), "round 3 next")
    }

    /// A wake with an event on an unrelated link when round 2 is due: the event's reconcile, then
    /// the round, and one reconcile in all.
    func testAfterAnEventsReconcileOnlyTheDueRoundIsSent() throws {
        let r = try steer()
        clock.advance(by: interval)
        let reconciles = r.reconcileCount
        r.take(.present(LinkSnapshot(index: 9, name: "ev0", mac: MACAddress("02:00:00:00:00:09")!, flags: [.up])))
        r.reconcile()
        XCTAssertEqual(notifier.rounds.count, 1, "a reconcile sends no due round")
        let due = try XCTUnwrap(r.nextDeadline)
        XCTAssertLessThanOrEqual(due, clock.now(), "so the loop calls onTimer in the same wake")
        r.onTimer()
        XCTAssertEqual(notifier.rounds.count, 2)
        XCTAssertEqual(r.reconcileCount, reconciles + 1, "no second reconcile")
        XCTAssertGreaterThan(try XCTUnwrap(r.nextDeadline), clock.now())
    }

    /// A synthetic NIC removed with a round due (its pair ends at the next reconcile): the round
    /// is dropped, not left as a past deadline that would spin the loop.
    func testARoundDueOnAGoneSyntheticNICIsDropped() throws {
        let r = try steer()
        clock.advance(by: interval)
        kernel.remove(hn, notifying: r)
        r.onTimer()
        XCTAssertEqual(notifier.rounds.count, 1, "nothing sent on a device that is gone")
        if let next = r.nextDeadline { XCTAssertGreaterThan(next, clock.now(), "no deadline left in the past") }
    }

    // MARK: - Wakes of the event loop (Reconciler.handleWake)

    /// One batch of link events about a link on no pair, as a veth flapped in a loop gives them.
    private func unrelatedEvent(_ n: Int) -> LinkEventBatch {
        var batch = LinkEventBatch()
        batch.messages = [.present(LinkSnapshot(index: 9, name: "ev0", mac: MACAddress("02:00:00:00:00:09")!,
                                                flags: n % 2 == 0 ? [.up] : []))]
        return batch
    }

    /// Wakes 10 ms apart, each with events, for `duration`.
    private func stream(_ r: Reconciler, for duration: Duration, _ check: (WakeOutcome) -> Void = { _ in }) {
        let end = clock.now().advanced(by: duration)
        var n = 0
        while clock.now() < end {
            clock.advance(by: .milliseconds(10))
            check(r.handleWake(events: unrelatedEvent(n)))
            n += 1
        }
    }

    func testNotificationRoundsGoOutWhileEventsKeepComing() throws {
        let r = try steer()
        stream(r, for: .seconds(1))
        XCTAssertEqual(notifier.rounds.count, 3, "rounds 2 and 3 at their times, between the events")
        XCTAssertTrue(logs.contains("(round 3 of 3)"), "\(logs.messages)")
    }

    /// The VF left while its events were lost in an overrun, and the dump after the overrun failed:
    /// the retry is not postponed by events that keep coming, or the table stays stale (and TX
    /// on a VF that is gone) for as long as they do.
    func testAResyncRetryIsNotPostponedByEvents() throws {
        let r = try steer()
        kernel.remove(vf)
        kernel.dumpFailures = 1
        var overrun = LinkEventBatch()
        overrun.needsResync = true
        XCTAssertEqual(r.handleWake(events: overrun).resynchronised, true)
        XCTAssertEqual(r.snapshot().resync.pending, true, "the dump failed; retry in 100 ms")
        stream(r, for: .milliseconds(300))
        XCTAssertEqual(r.snapshot().resync, ResyncStatus(pending: false, failures: 1), "retried between the events")
        XCTAssertNil(r.links[vf], "the table knows the VF is gone")
        XCTAssertNil(kernel.relay[hn]?.egress, "TX back on the synthetic path")
    }

    /// Each wake with events reconciles once; a due round adds its round, not a second reconcile.
    func testAWakeWithEventsAndADueRoundReconcilesOnce() throws {
        let r = try steer()
        clock.advance(by: interval)
        let reconciles = r.reconcileCount
        let wake = r.handleWake(events: unrelatedEvent(0))
        XCTAssertEqual(wake, WakeOutcome(eventsHandled: true, timerRan: true))
        XCTAssertEqual(notifier.rounds.count, 2)
        XCTAssertEqual(r.reconcileCount, reconciles + 1)
    }

    /// Any user can join and leave a multicast group in a loop: a wake with only such events
    /// reconciles at most once per coalescing window, so the settle time must end on its own.
    func testASettleEndsWhileMulticastChurnKeepsComing() throws {
        let r = Reconciler(config: AgentConfig(syntheticPatterns: [try Glob("hn0")], settle: .seconds(2)), kernel: kernel,
                           drivers: FakeDrivers(byName: [:]), clock: clock, logger: logs.logger)
        try r.resynchronise()
        r.reconcile()
        if case .settling = r.pairs[hn]?.phase {} else { XCTFail("settling: \(String(describing: r.pairs[hn]?.phase))") }
        var churn = LinkEventBatch()
        churn.multicastChanged = true
        let end = clock.now().advanced(by: .milliseconds(2100))
        while clock.now() < end {
            clock.advance(by: .milliseconds(10))
            _ = r.handleWake(events: churn)
        }
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering 2 s after the VF came, churn or not")
    }
}
