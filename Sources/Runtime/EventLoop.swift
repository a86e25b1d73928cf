import CNetlink
import Engine
import Glibc
import Kernel
import NetlinkCodecs
import POSIX
import Policy

/// What the loop serves besides the reconciler: the control socket and the metrics endpoint.
protocol LoopServices: AnyObject {
    /// Client descriptors to wait on, after the loop's two fixed ones.
    var pollDescriptors: [pollfd] { get }
    var nextDeadline: MonotonicInstant? { get }
    func beginWake()
    func noteResync()
    func afterReconcile(addresses: [AddressMessage])
    func afterTimer()
    func handle(_ polled: [pollfd])
}

extension OperatorServices: LoopServices {}

/// Where the loop blocks until a descriptor is ready or the deadline passes.
protocol LoopWaiter {
    func wait(_ descriptors: inout [pollfd], until deadline: MonotonicInstant?) throws
}

/// ppoll(2), to the nanosecond (poll's milliseconds would end a settle time up to 1 ms late).
struct PollWaiter: LoopWaiter {
    let clock: MonotonicClock

    func wait(_ descriptors: inout [pollfd], until deadline: MonotonicInstant?) throws {
        if var timeout = deadline.map({ AgentRuntime.timespec(until: $0, now: clock.now()) }) {
            _ = try systemCall("ppoll") { hn_ppoll(&descriptors, nfds_t(descriptors.count), &timeout) }
        } else {
            _ = try systemCall("ppoll") { hn_ppoll(&descriptors, nfds_t(descriptors.count), nil) }
        }
    }
}

/// One thread's dispatch: wait on the link event socket, the signal descriptor and the control
/// clients until the earliest deadline, then hand each what is ready. The wait, the sources and
/// the services are injected, so tests drive wakes without sockets or signals.
final class EventLoop {
    struct Source<Value> {
        var descriptor: Int32
        /// Reads what is pending once the descriptor is ready.
        var read: () -> Value
    }

    let reconciler: Reconciler
    let services: LoopServices
    let linkEvents: Source<LinkEventBatch>
    let signals: Source<Int32?>
    let waiter: LoopWaiter
    /// Runs at the top of every turn (the service watchdog's ping, the instance lock's queue) and
    /// says when it must run again.
    var housekeeping: () -> MonotonicInstant? = { nil }
    /// A signal arrived: SIGHUP reloads; SIGINT/SIGTERM stop (true ends the loop).
    let onSignal: (Int32) throws -> Bool
    /// Link events a status request drained (and took the urgent step for) while it read the
    /// kernel: the next wake does not wait and reconciles them first.
    var earlyEvents: EarlyLinkEvents?

    init(reconciler: Reconciler, services: LoopServices, linkEvents: Source<LinkEventBatch>, signals: Source<Int32?>,
         waiter: LoopWaiter, onSignal: @escaping (Int32) throws -> Bool) {
        self.reconciler = reconciler
        self.services = services
        self.linkEvents = linkEvents
        self.signals = signals
        self.waiter = waiter
        self.onSignal = onSignal
    }

    /// Turns until a signal stops it.
    func run() throws {
        while try turn() {}
    }

    /// One wait and what it woke for. False once a signal stopped the agent; then nothing else
    /// of this wake is handled.
    func turn() throws -> Bool {
        let housekeepingDue = housekeeping()
        // Control clients come after the two fixed descriptors.
        var fds = [pollfd(fd: linkEvents.descriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0)] + services.pollDescriptors
        // Events drained early are due now: the wait only collects what else is ready.
        let heldDue = earlyEvents?.hasHeld == true ? MonotonicInstant(nanoseconds: 0) : nil
        let deadline = [reconciler.nextDeadline, services.nextDeadline, housekeepingDue, heldDue].compactMap { $0 }.min()
        try waiter.wait(&fds, until: deadline)
        services.beginWake()

        if fds[1].revents != 0, let signal = signals.read(), try onSignal(signal) { return false }
        var events = earlyEvents?.take()
        if fds[0].revents != 0 {
            let fresh = linkEvents.read()
            events = events.map { $0.followed(by: fresh) } ?? fresh
        }
        let wake = reconciler.handleWake(events: events)
        if wake.resynchronised { services.noteResync() }
        if wake.eventsHandled { services.afterReconcile(addresses: wake.addresses) }
        if wake.timerRan { services.afterTimer() }
        services.handle(Array(fds[2...]))
        return true
    }
}
