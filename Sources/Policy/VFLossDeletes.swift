/// How the synthetic NICs' egress redirects were removed when their VF was lost while steering
/// (the urgent path, README "hnagent metrics"): by the delete prepared ahead and sent from the
/// event's raw headers, or by the urgent step once the event was decoded. A prepared delete the
/// kernel refused (the filter was replaced since it was prepared) is counted apart, and the
/// decoded step that follows it counts too.
public struct VFLossDeletes: Codable, Equatable, Sendable {
    public var prepared: UInt64 = 0
    public var decoded: UInt64 = 0
    public var preparedRefused: UInt64 = 0

    public init(prepared: UInt64 = 0, decoded: UInt64 = 0, preparedRefused: UInt64 = 0) {
        self.prepared = prepared
        self.decoded = decoded
        self.preparedRefused = preparedRefused
    }
}
