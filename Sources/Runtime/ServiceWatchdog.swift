import Glibc
import Logging
import Policy

/// WATCHDOG=1 to systemd from the event loop, once per turn at most every half WatchdogSec
/// (see WatchdogPacer). Only the loop calls `loopTurned`, so a loop stuck in a reconcile, a
/// glob or a blocked write stops the pings and systemd restarts the agent.
final class ServiceWatchdog {
    private var pacer: WatchdogPacer
    private let send: (String) throws -> Void
    private var failing = false

    init(pacer: WatchdogPacer, send: @escaping (String) throws -> Void) {
        self.pacer = pacer
        self.send = send
    }

    /// nil unless systemd asked for a watchdog for this process and a notify socket exists.
    static func fromEnvironment(notifier: ServiceNotifier?,
                                _ lookup: (String) -> String? = { getenv($0).map { String(cString: $0) } }) -> ServiceWatchdog? {
        guard let notifier,
              let pacer = WatchdogPacer(watchdogUsec: lookup("WATCHDOG_USEC"), watchdogPID: lookup("WATCHDOG_PID"),
                                        ownPID: getpid()) else { return nil }
        return ServiceWatchdog(pacer: pacer, send: notifier.send)
    }

    var interval: Duration { pacer.interval }

    /// The latest time the loop must wake so the next ping is on time.
    var nextPing: MonotonicInstant? { pacer.nextPing }

    /// One turn of the loop: ping if due. A failure is logged once until a ping works again.
    func loopTurned(now: MonotonicInstant, logger: Logger) {
        guard pacer.pingIsDue(now: now) else { return }
        do {
            try send(ServiceNotifier.State.watchdog.rawValue)
            if failing { logger.notice("service manager watchdog pings work again") }
            failing = false
        } catch {
            if !failing { logger.warning("cannot send the service manager's watchdog ping: \(error); systemd will restart the agent when WatchdogSec= runs out") }
            failing = true
        }
    }
}
