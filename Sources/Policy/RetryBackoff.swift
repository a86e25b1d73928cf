/// How long to wait before trying again something that keeps failing: `initial` after the
/// first failure, doubled after each further failure in a row, never more than `maximum`.
public struct RetryBackoff: Equatable, Sendable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// A failed full link dump: soon (the link table is stale, a VF may be gone), but without
    /// hammering a kernel that keeps refusing.
    public static let resynchronisation = RetryBackoff(initial: .milliseconds(100), maximum: .seconds(5))

    /// The wait after `failures` failures in a row (1 for the first); 0 failures waits nothing.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        // 2^20 times any sensible initial delay is beyond every maximum: no overflow.
        let doubled = initial * (1 << min(failures - 1, 20))
        return doubled < maximum ? doubled : maximum
    }
}
