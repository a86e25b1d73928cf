import Glibc
import Logging
import POSIX
import Policy

/// The optional HTTP metrics listener, which steering never waits for: a bind that fails
/// (another process holds the port, the address is not on this host) is logged and tried again
/// from the event loop with back-off while the agent steers.
final class MetricsEndpoint {
    static let backoff = RetryBackoff(initial: .seconds(1), maximum: .seconds(60))

    /// As configured (port 0: the kernel picks one).
    let requested: ListenAddress
    private(set) var listener: TCPListener?
    /// When the next bind is tried; nil while listening.
    private(set) var retryAt: MonotonicInstant?
    private(set) var lastError: String?
    /// Failed binds in a row (they set the back-off), and since start (for metrics).
    private var failuresInARow = 0
    private(set) var failedAttempts: UInt64 = 0
    private let logger: Logger

    init(address: ListenAddress, now: MonotonicInstant, logger: Logger) {
        requested = address
        self.logger = logger
        attempt(now: now)
    }

    /// As bound once listening (the kernel's port for port 0), else as configured.
    var address: ListenAddress { listener?.address ?? requested }

    func retryIfDue(now: MonotonicInstant) {
        guard let retryAt, now >= retryAt else { return }
        attempt(now: now)
    }

    func status(now: MonotonicInstant) -> MetricsListenerStatus {
        MetricsListenerStatus(address: address.description, listening: listener != nil, error: lastError,
                              retryInSeconds: retryAt.map { max(0, $0.duration(since: now).secondsValue) },
                              failedAttempts: failedAttempts)
    }

    func close() {
        listener?.close()
        listener = nil
    }

    private func attempt(now: MonotonicInstant) {
        do {
            let bound = try TCPListener(address: requested)
            listener = bound
            let after = failuresInARow > 0 ? " (after \(failuresInARow) failed attempt\(failuresInARow == 1 ? "" : "s"))" : ""
            let reach = bound.address.isLoopback ? "" : "; not loopback: reachable from the network (the systemd unit's IPAddressDeny blocks it unless allowed)"
            logger.notice("metrics on http://\(bound.address)/metrics\(reach)\(after)")
            retryAt = nil
            lastError = nil
            failuresInARow = 0
        } catch {
            failuresInARow += 1
            failedAttempts += 1
            let wait = Self.backoff.delay(afterFailures: failuresInARow)
            retryAt = now.advanced(by: wait)
            let text = "\(error)"
            if text != lastError {
                logger.error("metrics: cannot listen on \(requested): \(text); \(advice(for: error)). Steering goes on without it; retrying in \(wait.secondsValue)s, then up to every \(Self.backoff.maximum.secondsValue)s")
            } else {
                logger.debug("metrics: still cannot listen on \(requested): \(text); retrying in \(wait.secondsValue)s")
            }
            lastError = text
        }
    }

    private func advice(for error: Error) -> String {
        switch (error as? SystemCallError)?.errno {
        case EADDRINUSE:
            return "another process holds port \(requested.port) (ss -ltnp 'sport = :\(requested.port)' names it): stop it, or set another metrics.listen / --metrics-listen"
        case EADDRNOTAVAIL:
            return "no interface in this network namespace has that address: set metrics.listen / --metrics-listen to one it has"
        case EACCES:
            return "ports below 1024 need CAP_NET_BIND_SERVICE: choose a port of 1024 or more"
        default:
            return "check metrics.listen / --metrics-listen"
        }
    }
}

/// `metrics_listener` in `hnagent status --json`: whether the HTTP endpoint listens, and if not why
/// and when it is tried again.
public struct MetricsListenerStatus: Codable, Equatable, Sendable {
    public var address: String
    public var listening: Bool
    public var error: String?
    public var retryInSeconds: Double?
    public var failedAttempts: UInt64
}
