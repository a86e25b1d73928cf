import Policy

/// What `hnagent status --json` prints: the agent's view of every synthetic NIC. Property names
/// become snake_case keys on the wire (`via_vf`, `since_seconds_ago`).
public struct StatusReport: Codable, Equatable, Sendable {
    public var agent: AgentStatus
    public var pairs: [PairStatus]
}

public struct AgentStatus: Codable, Equatable, Sendable {
    public var pid: Int32
    public var mode: String
    public var settleSeconds: Double
    public var startedAt: String
    public var uptimeSeconds: Double
    public var reconciles: UInt64
    public var netlinkErrors: UInt64
    public var resyncs: UInt64
    /// A full link dump failed and is retried with back-off: the link table may be stale.
    public var resyncPending: Bool
    /// Failed full link dumps since start.
    public var resyncFailures: UInt64
    public var controlSocket: String?
    public var metricsListen: String?
    /// Whether the HTTP metrics endpoint listens, or why not and when it is tried again.
    public var metricsListener: MetricsListenerStatus?
    /// The single-instance lock: "held", or "squatted by pid N uid U" when a process that
    /// cannot be an agent holds its name (a second agent would then not be detected).
    public var instanceLock: String?
    /// "matchall" (deletes need no RTNL) or "u32" (the fallback where the kernel lacks cls_matchall).
    public var relayClassifier: String?
    /// Transparent mode: how VF losses removed the egress redirect (prepared or decoded path).
    public var vfLossDeletes: VFLossDeletes?
}

public struct NICRef: Codable, Equatable, Sendable {
    public var name: String
    public var ifindex: Int32
    public var mac: String?
    /// false for a VF that already left this namespace.
    public var present: Bool
}

/// A pair's traffic: what an operator expects hn's counters to show is `total`.
public struct PairTraffic: Codable, Equatable, Sendable {
    /// Through the VF: the relay's filter counters (VF RX redirected into hn, hn TX sent out of
    /// the VF), since the agent started, kept across VF removals.
    public var viaVf: TrafficCounters
    /// The synthetic NIC's own link counters (IFLA_STATS64): the synthetic path only, since
    /// redirected packets bypass its driver. Lifetime of the device.
    public var synthetic: TrafficCounters?
    public var total: TrafficCounters
    /// The part of `via_vf` taken from the VF's link counters because its filter went with it.
    public var recoveredAtVfRemoval: TrafficCounters
    /// Non-transparent mode: the VF's own counters while paired (the stack uses the VF directly).
    public var vfDirect: TrafficCounters?
}

/// One setting the agent changed on a NIC, with the value it will restore.
public struct SettingChange: Codable, Equatable, Sendable {
    public var setting: String
    public var original: String
    public var current: String?
}

public struct NICChanges: Codable, Equatable, Sendable {
    public var interface: String
    public var ifindex: Int32
    public var changes: [SettingChange]
}

public struct SwitchRecord: Codable, Equatable, Sendable {
    public var direction: SwitchDirection
    public var reason: String?
    public var at: String
    public var secondsAgo: Double
    public var switchMs: Double?
}

public struct PairStatus: Codable, Equatable, Sendable {
    public var synthetic: NICRef
    public var vf: NICRef?
    public var state: PairState
    /// When the pair entered `state` (wall clock) and how long ago.
    public var since: String
    public var sinceSecondsAgo: Double
    public var reason: String?
    public var settleRemainingSeconds: Double?
    public var retryInSeconds: Double?
    public var lastSwitch: SwitchRecord?
    public var switchesToVf: UInt64
    public var switchesToSynthetic: UInt64
    public var traffic: PairTraffic
    public var changes: [NICChanges]
    /// IP addresses something put on the VF (should be none; see the hygiene warning).
    public var vfAddresses: [String]
    public var multicastMemberships: [String]
    /// Membership changes the VF's allmulti did not follow on their own (steering.multicast-settle).
    public var multicastChangesCoalesced: UInt64
    /// Other tools' filters that run before the relay's (nil, and absent from JSON, when none):
    /// if one matches, that direction is not relayed although the state says steering.
    public var shadowedBy: [ShadowStatus]? = nil
}

/// Another tool's tc filter that the kernel evaluates before the agent's redirect.
public struct ShadowStatus: Codable, Equatable, Sendable {
    /// The device and clsact hook: hn's "egress" (TX) or the VF's "ingress" (RX).
    public var device: String
    public var hook: String
    public var priority: UInt16
    public var kind: String
    /// As `tc filter show` prints it ("801::800" for u32).
    public var handle: String
}
