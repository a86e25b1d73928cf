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
        // Written digit by digit: status writes two of these per pair.
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func pad(_ value: Int32, _ width: Int, then separator: UInt8) {
            var count = 1, rest = value.magnitude
            while rest >= 10 {
                rest /= 10
                count += 1
            }
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, width - count - (value < 0 ? 1 : 0))))
            if value < 0 { text.append(UInt8(ascii: "-")) }
            text.append(contentsOf: repeatElement(0, count: count))
            var next = text.count, left = value.magnitude
            repeat {
                next -= 1
                text[next] = UInt8(ascii: "0") + UInt8(left % 10)
                left /= 10
            } while left > 0
            text.append(separator)
        }
        pad(time.tm_year + 1900, 4, then: UInt8(ascii: "-"))
        pad(time.tm_mon + 1, 2, then: UInt8(ascii: "-"))
        pad(time.tm_mday, 2, then: UInt8(ascii: "T"))
        pad(time.tm_hour, 2, then: UInt8(ascii: ":"))
        pad(time.tm_min, 2, then: UInt8(ascii: ":"))
        pad(time.tm_sec, 2, then: UInt8(ascii: "."))
        pad(Int32(nanoseconds / 1_000_000), 3, then: UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
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
