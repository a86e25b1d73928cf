/// How long to wait before retrying something that failed: `first`, doubled for each failure
/// in a row, never more than `maximum`.
public struct RetryBackoff: Sendable, Equatable {
    public var first: Duration
    public var maximum: Duration

    public init(first: Duration, maximum: Duration) {
        self.first = first
        self.maximum = maximum
    }

    /// A failed full link dump: soon (the link table is stale, a VF may be gone), but without
    /// hammering a kernel that keeps refusing.
    public static let resynchronisation = RetryBackoff(first: .milliseconds(100), maximum: .seconds(5))

    /// The wait after `failures` failures in a row (0 and 1 both give `first`).
    public func delay(afterFailures failures: Int) -> Duration {
        var delay = first
        var doublings = failures - 1
        while doublings > 0, delay < maximum {
            delay = delay * 2
            doublings -= 1
        }
        return min(delay, maximum)
    }
}
