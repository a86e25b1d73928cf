import Glibc
import Policy

/// The agent's only source of time, injected so tests drive the settle timer themselves.
public protocol MonotonicClock: AnyObject {
    func now() -> MonotonicInstant
}

/// CLOCK_MONOTONIC: never jumps with wall-clock changes.
public final class SystemMonotonicClock: MonotonicClock {
    public init() {}
    public func now() -> MonotonicInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MonotonicInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }
}
