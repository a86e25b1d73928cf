@testable import Runtime
@testable import Engine
@testable import Kernel
@testable import POSIX
@testable import NetlinkCodecs
import Glibc
import Policy
import XCTest

/// The event loop's dispatch, one wake at a time, on the fake kernel: what it waits on and for
/// how long, and who gets what woke it. The wait is scripted; no sockets, no signals.
final class EventLoopDispatchTests: ReconcilerTestCase {
    private var services: RecordingServices!
    private var waiter: ScriptedWaiter!
    private var drained = 0
    private var pendingEvents = LinkEventBatch()
    private var pendingSignal: Int32?
    private var signalsSeen: [Int32] = []
    private let config = AgentConfig(syntheticPatterns: [try! Glob("hn0")], settle: .seconds(2))

    override func setUp() {
        super.setUp()
        services = RecordingServices()
        waiter = ScriptedWaiter(clock: clock)
    }

    private func loop(_ reconciler: Reconciler, stopOn stop: Set<Int32> = [SIGTERM]) -> EventLoop {
        EventLoop(reconciler: reconciler, services: services,
                  linkEvents: .init(descriptor: 10, read: { self.drained += 1; return self.pendingEvents }),
                  signals: .init(descriptor: 11, read: { self.pendingSignal }),
                  waiter: waiter) { signal in
            self.signalsSeen.append(signal)
            return stop.contains(signal)
        }
    }

    func testLinkEventsAreDrainedReconciledAndPassedToTheServices() throws {
        let reconciler = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering")
        kernel.remove(vf)
        let address = AddressMessage(added: true, InterfaceAddress(device: vf, family: .ipv4, bytes: [198, 18, 0, 7], unusable: false),
                                     prefixLength: 24)
        pendingEvents = LinkEventBatch(messages: [.removed(index: vf, name: "vf0", movedToNamespace: false)], addresses: [address])
        waiter.ready = [10]
        XCTAssertTrue(try loop(reconciler).turn())
        XCTAssertEqual(drained, 1)
        XCTAssertNil(kernel.relay[hn]?.egress, "the removal reached the reconciler: hn0's redirect is gone")
        XCTAssertEqual(services.calls, ["beginWake", "afterReconcile 1", "handle []"])
        XCTAssertEqual(services.addresses, [address], "address events go on to the hygiene check")
    }

    func testTheWaitEndsAtTheEarliestDeadline() throws {
        let reconciler = Reconciler(config: config, kernel: kernel, drivers: FakeDrivers(byName: [:]), clock: clock,
                                    logger: logs.logger)
        try reconciler.resynchronise()
        reconciler.reconcile()
        let settled = clock.now().advanced(by: config.settle)
        XCTAssertEqual(reconciler.nextDeadline, settled, "settling")
        let loop = loop(reconciler)
        XCTAssertTrue(try loop.turn())
        XCTAssertEqual(waiter.deadlines.last, settled, "the reconciler's deadline")

        services.nextDeadline = clock.now().advanced(by: .seconds(1))
        XCTAssertTrue(try loop.turn())
        XCTAssertEqual(waiter.deadlines.last, services.nextDeadline, "a control client's, earlier")

        let ping = clock.now().advanced(by: .milliseconds(10))
        var housekept = 0
        loop.housekeeping = { housekept += 1; return ping }
        XCTAssertTrue(try loop.turn())
        XCTAssertEqual(waiter.deadlines.last, ping, "the watchdog's, earlier still")
        XCTAssertEqual(housekept, 1, "housekeeping runs once per turn, before the wait")
        XCTAssertEqual(waiter.descriptors.last, [10, 11], "the link event socket and the signals, then no clients")
    }

    func testAPassedDeadlineRunsTheTimerWithoutEvents() throws {
        let reconciler = Reconciler(config: config, kernel: kernel, drivers: FakeDrivers(byName: [:]), clock: clock,
                                    logger: logs.logger)
        try reconciler.resynchronise()
        reconciler.reconcile()
        waiter.advanceToDeadline = true
        XCTAssertTrue(try loop(reconciler).turn())
        XCTAssertEqual(drained, 0, "nothing was read from a socket that was not ready")
        XCTAssertEqual(services.calls, ["beginWake", "afterTimer", "handle []"])
        XCTAssertEqual(kernel.relay[vf]?.ingress?.target, hn, "the settle time ended: the VF is attached")
    }

    func testASignalIsHandledFirstAndStopEndsTheWake() throws {
        let reconciler = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        let loop = loop(reconciler)
        waiter.ready = [10, 11]
        pendingSignal = SIGHUP
        XCTAssertTrue(try loop.turn(), "SIGHUP: the loop goes on")
        XCTAssertEqual(signalsSeen, [SIGHUP])
        XCTAssertEqual(drained, 1, "and handles the events of the same wake")

        pendingSignal = SIGTERM
        XCTAssertFalse(try loop.turn(), "SIGTERM stops")
        XCTAssertEqual(signalsSeen, [SIGHUP, SIGTERM])
        XCTAssertEqual(drained, 1, "nothing else of a stopping wake is handled")
        XCTAssertEqual(services.calls.last, "beginWake")
    }

    func testClientDescriptorsGoBackToTheServicesWithWhatWasReady() throws {
        let reconciler = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        services.pollDescriptors = [pollfd(fd: 42, events: Int16(POLLIN), revents: 0), pollfd(fd: 43, events: Int16(POLLOUT), revents: 0)]
        waiter.ready = [43]
        XCTAssertTrue(try loop(reconciler).turn())
        XCTAssertEqual(waiter.descriptors.last, [10, 11, 42, 43])
        XCTAssertEqual(services.calls.last, "handle [42:0, 43:\(POLLOUT)]")
    }
}

/// Marks the scripted descriptors ready (with what they asked for) and records each wait.
private final class ScriptedWaiter: LoopWaiter {
    let clock: FakeClock
    var ready: Set<Int32> = []
    /// A wait without ready descriptors lasts until its deadline.
    var advanceToDeadline = false
    private(set) var deadlines: [MonotonicInstant?] = []
    private(set) var descriptors: [[Int32]] = []

    init(clock: FakeClock) { self.clock = clock }

    func wait(_ fds: inout [pollfd], until deadline: MonotonicInstant?) throws {
        deadlines.append(deadline)
        descriptors.append(fds.map(\.fd))
        for i in fds.indices where ready.contains(fds[i].fd) { fds[i].revents = fds[i].events }
        if advanceToDeadline, let deadline, deadline > clock.now() { clock.advance(by: deadline.duration(since: clock.now())) }
    }
}

private final class RecordingServices: LoopServices {
    var pollDescriptors: [pollfd] = []
    var nextDeadline: MonotonicInstant?
    private(set) var calls: [String] = []
    private(set) var addresses: [AddressMessage] = []

    func beginWake() { calls.append("beginWake") }
    func noteResync() { calls.append("noteResync") }
    func afterReconcile(addresses: [AddressMessage]) {
        calls.append("afterReconcile \(addresses.count)")
        self.addresses += addresses
    }
    func afterTimer() { calls.append("afterTimer") }
    func handle(_ polled: [pollfd]) { calls.append("handle [\(polled.map { "\($0.fd):\($0.revents)" }.joined(separator: ", "))]") }
}
