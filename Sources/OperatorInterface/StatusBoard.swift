import Engine
import POSIX
import Policy

/// Facts about the running agent that the reconciler does not hold.
public struct AgentFacts: Sendable {
    public var pid: Int32
    public var mode: SteeringMode
    public var settle: Duration
    public var started: MonotonicInstant
    public var startedWall: WallTime
    public var netlinkErrors: UInt64 = 0
    public var resyncs: UInt64 = 0
    public var controlSocket: String?
    public var metricsListen: String?
    public var metricsListener: MetricsListenerStatus?
    /// "held", or "squatted by pid N uid U" (InstanceLock.Hold).
    public var instanceLock: String?
    /// "matchall" or "u32": the classifier of the relay filters the agent adds.
    public var relayClassifier: String?

    public init(pid: Int32, mode: SteeringMode, settle: Duration, started: MonotonicInstant, startedWall: WallTime) {
        self.pid = pid
        self.mode = mode
        self.settle = settle
        self.started = started
        self.startedWall = startedWall
    }
}

/// Keeps what status needs beyond the reconciler's snapshot: since when each pair is in its
/// state, its switches, and the event timeline. It is the reconciler's `PairEventSink`.
public final class StatusBoard: PairEventSink {
    public let timeline: EventTimeline
    private let mode: SteeringMode

    private struct Track {
        var state: PairState?
        var since: MonotonicInstant
        var toVF: UInt64 = 0
        var toSynthetic: UInt64 = 0
        var lastSwitch: PairActivity?
        var lastSwitchWall: WallTime?
        var heldBack: String?
    }
    private var tracks: [InterfaceIndex: Track] = [:]
    private let wallClock: () -> WallTime

    public init(mode: SteeringMode, timeline: EventTimeline = EventTimeline(), wallClock: @escaping () -> WallTime = WallTime.now) {
        self.mode = mode
        self.timeline = timeline
        self.wallClock = wallClock
    }

    public func record(_ activity: PairActivity) {
        timeline.append(activity)
        guard let hn = activity.synthetic?.index else { return }
        var track = tracks[hn] ?? Track(since: activity.at)
        switch activity.kind {
        case .steeringOn:
            track.toVF += 1
            track.lastSwitch = activity
            track.lastSwitchWall = wallClock()
        case .fallback:
            track.toSynthetic += 1
            track.lastSwitch = activity
            track.lastSwitchWall = wallClock()
        case .heldBack:
            track.heldBack = activity.reason
        default:
            break
        }
        tracks[hn] = track
    }

    /// Called after every reconcile: notes when a pair's state changed; forgets dissolved pairs.
    public func observe(_ snapshot: ReconcilerSnapshot, now: MonotonicInstant) {
        var fresh: [InterfaceIndex: Track] = [:]
        for pair in snapshot.pairs {
            let state = Self.state(of: pair, mode: mode)
            var track = tracks[pair.synthetic.index] ?? Track(since: now)
            if track.state == nil {
                track.state = state
            } else if track.state != state {
                track.state = state
                track.since = now
            }
            if state != .heldBack { track.heldBack = nil }
            fresh[pair.synthetic.index] = track
        }
        tracks = fresh
    }

    /// The pair's state as operators see it.
    public static func state(of pair: PairSnapshot, mode: SteeringMode) -> PairState {
        PairState(phase: pair.phase, steering: pair.steering, heldBack: pair.retryAt != nil || pair.dampedUntil != nil,
                  mode: mode, drained: pair.drained)
    }

    /// `changes: false` leaves out what the agent changed on each NIC (metrics show none of it).
    public func report(_ snapshot: ReconcilerSnapshot, facts: AgentFacts, vfAddresses: [InterfaceIndex: [String]] = [:],
                       changes: Bool = true, now: MonotonicInstant, wallNow: WallTime = WallTime.now()) -> StatusReport {
        func wall(_ instant: MonotonicInstant) -> WallTime { wallNow.minus(now.duration(since: instant)) }
        let agent = AgentStatus(
            pid: facts.pid, mode: facts.mode.rawValue, settleSeconds: facts.settle.secondsValue,
            startedAt: facts.startedWall.iso8601, uptimeSeconds: seconds(now.duration(since: facts.started)),
            reconciles: snapshot.reconciles, netlinkErrors: facts.netlinkErrors, resyncs: facts.resyncs,
            resyncPending: snapshot.resync.pending, resyncFailures: snapshot.resync.failures,
            controlSocket: facts.controlSocket, metricsListen: facts.metricsListen, metricsListener: facts.metricsListener,
            instanceLock: facts.instanceLock, relayClassifier: facts.relayClassifier,
            vfLossDeletes: mode == .transparent ? snapshot.vfLossDeletes : nil)
        let pairs = snapshot.pairs.map { pair -> PairStatus in
            let state = Self.state(of: pair, mode: mode)
            let track = tracks[pair.synthetic.index] ?? Track(state: state, since: now)
            let since = track.state == state ? track.since : now
            var reason: String?
            switch state {
            case .heldBack:
                reason = pair.dampedUntil.map { "flapping: held on the synthetic path for \(seconds($0.duration(since: now)))s more" }
                    ?? track.heldBack
            case .fallback: reason = (pair.lastReason.map { "\($0)" }) ?? track.lastSwitch?.reason
            case .drained: reason = FallbackReason.drained.description
            default: reason = nil
            }
            var settleRemaining: Double?
            if case .settling(_, let until) = pair.phase { settleRemaining = seconds(until.duration(since: now)) }
            let lastSwitch = track.lastSwitch.map { activity in
                SwitchRecord(direction: activity.kind == .steeringOn ? .toVF : .toSynthetic, reason: activity.reason,
                             at: (track.lastSwitchWall ?? wall(activity.at)).iso8601,
                             secondsAgo: seconds(now.duration(since: activity.at)),
                             switchMs: activity.switchDuration.map(milliseconds))
            }
            return PairStatus(
                synthetic: nicRef(pair.synthetic, pair.syntheticLink), vf: pair.vf.map { nicRef($0, pair.vfLink) },
                state: state, since: wall(since).iso8601, sinceSecondsAgo: seconds(now.duration(since: since)),
                reason: reason, settleRemainingSeconds: settleRemaining,
                retryInSeconds: (pair.retryAt ?? pair.dampedUntil).map { seconds($0.duration(since: now)) },
                lastSwitch: lastSwitch, switchesToVf: track.toVF, switchesToSynthetic: track.toSynthetic,
                traffic: traffic(pair),
                changes: changes ? NICChangeReport.changes(for: pair, snapshot: snapshot) : [],
                vfAddresses: pair.vf.flatMap { vfAddresses[$0.index] } ?? [],
                multicastMemberships: pair.memberships.map(\.description),
                multicastChangesCoalesced: pair.multicastChangesCoalesced,
                shadowedBy: pair.shadows.isEmpty ? nil : pair.shadows.map { shadow in
                    ShadowStatus(device: snapshot.links[shadow.device]?.name ?? "ifindex(\(shadow.device))",
                                 hook: shadow.hook.rawValue, priority: shadow.filter.priority, kind: shadow.filter.kind,
                                 handle: shadow.filter.handleText)
                })
        }
        return StatusReport(agent: agent, pairs: pairs)
    }

    private func nicRef(_ nic: NamedInterface, _ link: LinkSnapshot?) -> NICRef {
        NICRef(name: link?.name ?? nic.displayName, ifindex: nic.index.rawValue, mac: link?.mac?.description, present: link != nil)
    }

    private func traffic(_ pair: PairSnapshot) -> PairTraffic {
        let synthetic = pair.syntheticLink?.counters
        return PairTraffic(viaVf: pair.relay, synthetic: synthetic, total: pair.relay + (synthetic ?? TrafficCounters()),
                           recoveredAtVfRemoval: pair.recovered, vfDirect: pair.vfTraffic)
    }
}
