@testable import OperatorInterface
import Policy

/// Status reports that fill every field the wire carries, for the tests that pin the bytes of
/// `status --json` and `metrics`.
enum StatusReportFixture {
    static func counters(_ base: UInt64) -> TrafficCounters {
        TrafficCounters(rxPackets: base + 1, txPackets: base + 2, rxBytes: base * 100 + 3, txBytes: base * 100 + 4)
    }

    /// One pair with every optional field present, one with none (and a name that needs
    /// escaping), and an agent with all its optional facts; `text` goes into every free-text
    /// string field.
    static func full(text: String = "VF removed", number: Double = 2.5) -> StatusReport {
        let agent = AgentStatus(
            pid: 4242, mode: "transparent", settleSeconds: 2, startedAt: "2026-11-18T11:06:40.123Z", uptimeSeconds: number,
            reconciles: 17, netlinkErrors: 1, resyncs: 2, resyncPending: true, resyncFailures: 3,
            controlSocket: "/run/hnagent/control.sock", metricsListen: "127.0.0.1:9101",
            metricsListener: MetricsListenerStatus(address: "127.0.0.1:9101", listening: false, error: text,
                                                   retryInSeconds: 0.25, failedAttempts: UInt64.max),
            instanceLock: "squatted by pid 7 uid 0", relayClassifier: "u32",
            vfLossDeletes: VFLossDeletes(prepared: 7, decoded: 8, preparedRefused: UInt64.max))
        let steering = PairStatus(
            synthetic: NICRef(name: "hn0", ifindex: 2, mac: "00:15:5d:aa:bb:cc", present: true),
            vf: NICRef(name: text, ifindex: 3, mac: "00:15:5d:aa:bb:cc", present: false),
            state: .fallback, since: "2026-11-18T11:06:38.999Z", sinceSecondsAgo: number, reason: text,
            settleRemainingSeconds: 1.5, retryInSeconds: 0.000_125,
            lastSwitch: SwitchRecord(direction: .toSynthetic, reason: text, at: "2026-11-18T11:06:38.999Z",
                                     secondsAgo: 1.124, switchMs: 0.25),
            switchesToVf: 5, switchesToSynthetic: 4,
            traffic: PairTraffic(viaVf: counters(10), synthetic: counters(20), total: counters(30),
                                 recoveredAtVfRemoval: counters(40), vfDirect: counters(50)),
            changes: [NICChanges(interface: "hn0", ifindex: 2, changes: [
                SettingChange(setting: "mtu", original: "1500", current: "9000"),
                SettingChange(setting: text, original: text, current: nil),
            ])],
            vfAddresses: ["198.18.0.9/24", text], multicastMemberships: ["33:33:00:00:00:fb", text],
            multicastChangesCoalesced: 6,
            shadowedBy: [ShadowStatus(device: "hn0", hook: "egress", priority: 100, kind: "u32", handle: "801::800"),
                         ShadowStatus(device: text, hook: "ingress", priority: 65535, kind: text, handle: text)])
        let waiting = PairStatus(
            synthetic: NICRef(name: "hn1\"\\\n\u{01}é", ifindex: 4, mac: nil, present: true), vf: nil, state: .waitingForVF,
            since: "2026-11-18T11:06:40.123Z", sinceSecondsAgo: 0, reason: nil, settleRemainingSeconds: nil,
            retryInSeconds: nil, lastSwitch: nil, switchesToVf: 0, switchesToSynthetic: 0,
            traffic: PairTraffic(viaVf: TrafficCounters(), synthetic: nil, total: TrafficCounters(),
                                 recoveredAtVfRemoval: TrafficCounters(), vfDirect: nil),
            changes: [], vfAddresses: [], multicastMemberships: [], multicastChangesCoalesced: 0)
        return StatusReport(agent: agent, pairs: [steering, waiting])
    }

    /// An agent with none of its optional facts and no pairs.
    static let bare = StatusReport(
        agent: AgentStatus(pid: 1, mode: "non-transparent", settleSeconds: 0, startedAt: "1970-01-01T00:00:00.000Z",
                           uptimeSeconds: 0, reconciles: 0, netlinkErrors: 0, resyncs: 0, resyncPending: false,
                           resyncFailures: 0, controlSocket: nil, metricsListen: nil, metricsListener: nil,
                           instanceLock: nil, relayClassifier: nil),
        pairs: [])
}
