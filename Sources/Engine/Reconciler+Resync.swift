import Policy

/// Whether a failed full link dump waits for its retry, for status and metrics.
public struct ResyncStatus: Equatable, Sendable {
    /// A resynchronisation failed and its retry is due: the link table may be stale.
    public var pending = false
    /// Failed resynchronisations since start.
    public var failures: UInt64 = 0

    public init(pending: Bool = false, failures: UInt64 = 0) {
        self.pending = pending
        self.failures = failures
    }
}

/// Resynchronisation after lost events (ENOBUFS, an interrupted dump): a dump that fails is
/// retried with back-off (RetryBackoff.resynchronisation) as a deadline of the event loop, so
/// the link table does not stay stale until the next event.
extension Reconciler {
    struct ResyncRetry {
        var retryAt: MonotonicInstant?
        var failuresInRow = 0
        var failures: UInt64 = 0
    }

    var resyncStatus: ResyncStatus { ResyncStatus(pending: resync.retryAt != nil, failures: resync.failures) }

    /// Replaces the link table with a full dump; if that fails, keeps the table and sets a retry
    /// deadline (see `nextDeadline`, `onTimer`). True when the table is fresh.
    @discardableResult
    public func resynchroniseOrRetry() -> Bool {
        do { try resynchronise() } catch {
            resync.failuresInRow += 1
            resync.failures += 1
            let delay = RetryBackoff.resynchronisation.delay(afterFailures: resync.failuresInRow)
            resync.retryAt = clock.now().advanced(by: delay)
            logger.error("resynchronising: \(error); the link table may be stale, retrying in \(delay.secondsValue)s")
            return false
        }
        if resync.failuresInRow > 0 { logger.notice("resynchronised after \(resync.failuresInRow) failed attempt(s)") }
        resync.failuresInRow = 0
        resync.retryAt = nil
        return true
    }
}
