import Glibc

/// A wall-clock time (CLOCK_REALTIME), for timestamps operators read. Durations and ordering
/// use the monotonic clock; this only labels moments.
public struct WallTime: Hashable, Sendable {
    public var seconds: Int64
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func now() -> WallTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallTime(seconds: Int64(spec.tv_sec), nanoseconds: Int64(spec.tv_nsec))
    }

    /// This time moved back by `duration` (for "when did this monotonic instant happen").
    public func minus(_ duration: Duration) -> WallTime {
        let total = seconds * 1_000_000_000 + nanoseconds - Int64(clamping: duration.nanosecondsClamped)
        let (s, n) = total.quotientAndRemainder(dividingBy: 1_000_000_000)
        return n < 0 ? WallTime(seconds: s - 1, nanoseconds: n + 1_000_000_000) : WallTime(seconds: s, nanoseconds: n)
    }

    /// "2026-11-25T10:00:00.123Z" (UTC, milliseconds).
    public var iso8601: String {
        var time = tm()
        var t = time_t(seconds)
        gmtime_r(&t, &time)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(time.tm_year + 1900, 4))-\(pad(time.tm_mon + 1, 2))-\(pad(time.tm_mday, 2))T"
            + "\(pad(time.tm_hour, 2)):\(pad(time.tm_min, 2)):\(pad(time.tm_sec, 2)).\(pad(Int32(nanoseconds / 1_000_000), 3))Z"
    }
}

/// Milliseconds with three decimals (microsecond resolution), for JSON and metrics.
public func milliseconds(_ duration: Duration) -> Double {
    (duration.secondsValue * 1_000_000).rounded() / 1000
}

/// Seconds with three decimals.
public func seconds(_ duration: Duration) -> Double {
    (duration.secondsValue * 1000).rounded() / 1000
}
