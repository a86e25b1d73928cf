import Engine
import POSIX
import Policy

/// One entry of `hnagent events`, as it goes over the control socket (one JSON object per line).
public struct TimelineEntry: Codable, Equatable, Sendable {
    /// Increases by one per event since the agent started; a gap means the ring dropped some.
    public var seq: UInt64
    /// Wall-clock time, UTC.
    public var time: String
    public var kind: String
    public var synthetic: String?
    public var syntheticIfindex: Int32?
    public var vf: String?
    public var vfIfindex: Int32?
    public var reason: String?
    /// Steering on / fallback: event received (the reconcile that saw it) to relay read back changed.
    public var switchMs: Double?
    public var detail: String?

    public init(seq: UInt64, time: String, kind: String, synthetic: String? = nil, syntheticIfindex: Int32? = nil,
                vf: String? = nil, vfIfindex: Int32? = nil, reason: String? = nil, switchMs: Double? = nil,
                detail: String? = nil) {
        self.seq = seq
        self.time = time
        self.kind = kind
        self.synthetic = synthetic
        self.syntheticIfindex = syntheticIfindex
        self.vf = vf
        self.vfIfindex = vfIfindex
        self.reason = reason
        self.switchMs = switchMs
        self.detail = detail
    }
}

/// The last `capacity` pair events in a ring buffer: bounded memory however long the agent runs.
/// Followers (`events --follow`) get each new entry as it is recorded.
public final class EventTimeline {
    public static let defaultCapacity = 1024

    public let capacity: Int
    private var ring: [TimelineEntry] = []
    /// Index in `ring` of the oldest entry once the ring is full.
    private var oldest = 0
    public private(set) var nextSequence: UInt64 = 1
    private let wallClock: () -> WallTime
    /// Called with every new entry (the control server streams it to followers).
    public var onAppend: ((TimelineEntry) -> Void)?

    public init(capacity: Int = EventTimeline.defaultCapacity, wallClock: @escaping () -> WallTime = WallTime.now) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.wallClock = wallClock
        ring.reserveCapacity(capacity)
    }

    /// Oldest first.
    public var entries: [TimelineEntry] {
        Array(ring[oldest...] + ring[..<oldest])
    }

    public func append(_ activity: PairActivity) {
        let entry = TimelineEntry(
            seq: nextSequence, time: wallClock().iso8601, kind: activity.kind.rawValue,
            synthetic: activity.synthetic?.displayName, syntheticIfindex: activity.synthetic?.index.rawValue,
            vf: activity.vf?.displayName, vfIfindex: activity.vf?.index.rawValue,
            reason: activity.reason, switchMs: activity.switchDuration.map(milliseconds), detail: activity.detail)
        nextSequence += 1
        if ring.count < capacity {
            ring.append(entry)
        } else {
            ring[oldest] = entry
            oldest = (oldest + 1) % capacity
        }
        onAppend?(entry)
    }
}
