/// systemd's watchdog (`WatchdogSec=`): when the event loop sends `WATCHDOG=1`. systemd passes
/// the timeout as WATCHDOG_USEC (and WATCHDOG_PID when it is meant for one process only); the
/// loop pings at most every half timeout and never sleeps longer than that, so pings stop
/// exactly when the loop stops turning, and a hung loop is killed and restarted.
public struct WatchdogPacer: Equatable, Sendable {
    /// Half of WATCHDOG_USEC: the longest the loop may go without a ping.
    public let interval: Duration
    public private(set) var lastPing: MonotonicInstant?

    /// The shortest interval: a shorter one would keep the loop spinning instead of sleeping
    /// (and a timeout that short cannot be met anyway).
    public static let minimumInterval: Duration = .milliseconds(10)

    public init(interval: Duration) {
        self.interval = max(interval, Self.minimumInterval)
    }

    /// nil when no watchdog is asked for, or it is meant for another process (WATCHDOG_PID),
    /// or WATCHDOG_USEC is not a positive number of microseconds.
    public init?(watchdogUsec: String?, watchdogPID: String?, ownPID: Int32) {
        if let watchdogPID, !watchdogPID.isEmpty, Int32(watchdogPID) != ownPID { return nil }
        guard let text = watchdogUsec, let microseconds = UInt64(text), microseconds > 0 else { return nil }
        self.init(interval: .microseconds(Int64(clamping: microseconds / 2)))
    }

    /// True when a ping is due now (the first turn, or `interval` after the last ping); it
    /// counts as sent.
    public mutating func pingIsDue(now: MonotonicInstant) -> Bool {
        if let lastPing, now.duration(since: lastPing) < interval { return false }
        lastPing = now
        return true
    }

    /// When the loop must turn again at the latest, so the next ping is not late.
    public var nextPing: MonotonicInstant? { lastPing?.advanced(by: interval) }
}
