import Policy

/// Prometheus text exposition format 0.0.4, written by hand from a `StatusReport`: the same
/// numbers as `hnagent status`, no metrics library needed. Every pair's series carry the label
/// synthetic="<name>".
public enum MetricsExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ report: StatusReport) -> String {
        var out = Writer(report)
        out.family("hnagent_pair_state", "gauge", "1 for the state the pair is in, 0 for the others.")
        for pair in out.pairs {
            for state in PairState.allCases {
                out.sample("hnagent_pair_state", pair, ("state", state.rawValue), pair.status.state == state ? 1 : 0)
            }
        }
        out.family("hnagent_pair_state_seconds", "gauge", "Seconds the pair has been in its current state.")
        for pair in out.pairs { out.sample("hnagent_pair_state_seconds", pair, nil, pair.status.sinceSecondsAgo) }

        out.family("hnagent_switches_total", "counter",
                   "Relay switches since start: to_vf (steering on), to_synthetic (fallback).")
        for pair in out.pairs {
            out.sample("hnagent_switches_total", pair, ("direction", "to_vf"), exactly: pair.status.switchesToVf)
            out.sample("hnagent_switches_total", pair, ("direction", "to_synthetic"), exactly: pair.status.switchesToSynthetic)
        }
        out.family("hnagent_last_switch_duration_seconds", "gauge",
                   "Last switch: from the reconcile that saw the event to the relay read back changed.")
        for pair in out.pairs {
            if let ms = pair.status.lastSwitch?.switchMs { out.sample("hnagent_last_switch_duration_seconds", pair, nil, ms / 1000) }
        }

        let paths: [(name: String, help: String, counters: (PairStatus) -> TrafficCounters?)] = [
            ("relay", "through the VF (the relay's filter counters, kept across VF removals)", { $0.traffic.viaVf }),
            ("synthetic", "through the synthetic path (the synthetic NIC's own link counters)", { $0.traffic.synthetic }),
            ("total", "through either path: what the synthetic NIC's counters would show with the VF behind it",
             { $0.traffic.total }),
        ]
        for path in paths {
            for (unit, read) in [("packets", { (c: TrafficCounters, rx: Bool) in rx ? c.rxPackets : c.txPackets }),
                                 ("bytes", { (c: TrafficCounters, rx: Bool) in rx ? c.rxBytes : c.txBytes })] {
                let name = "hnagent_\(path.name)_\(unit)_total"
                out.family(name, "counter", "\(unit == "bytes" ? "Bytes" : "Packets") \(path.help); direction rx or tx as seen by the synthetic NIC.")
                for pair in out.pairs {
                    guard let counters = path.counters(pair.status) else { continue }
                    out.sample(name, pair, ("direction", "rx"), exactly: read(counters, true))
                    out.sample(name, pair, ("direction", "tx"), exactly: read(counters, false))
                }
            }
        }

        out.family("hnagent_multicast_changes_coalesced_total", "counter",
                   "Multicast membership changes the VF's allmulti did not follow on their own (at most one change per multicast-settle).")
        for pair in out.pairs {
            out.sample("hnagent_multicast_changes_coalesced_total", pair, nil, exactly: pair.status.multicastChangesCoalesced)
        }
        out.family("hnagent_relay_shadowed", "gauge",
                   "1 while another tool's tc filter runs before the relay's on the hook (egress: hn TX, ingress: VF RX); if it matches, that direction is not relayed.")
        for pair in out.pairs {
            let hooks = Set((pair.status.shadowedBy ?? []).map(\.hook))
            for hook in Hook.allCases.reversed() {
                out.sample("hnagent_relay_shadowed", pair, ("hook", hook.rawValue), hooks.contains(hook.rawValue) ? 1 : 0)
            }
        }
        out.family("hnagent_reconciles_total", "counter", "Reconcile passes since start.")
        out.sample("hnagent_reconciles_total", exactly: report.agent.reconciles)
        out.family("hnagent_netlink_errors_total", "counter", "Netlink requests the kernel refused or that failed.")
        out.sample("hnagent_netlink_errors_total", exactly: report.agent.netlinkErrors)
        if let deletes = report.agent.vfLossDeletes {
            out.family("hnagent_vf_loss_deletes_total", "counter",
                       "VF losses while steering whose egress redirect was removed by the delete prepared ahead (path prepared) or after decoding the event (path decoded).")
            out.sample("hnagent_vf_loss_deletes_total", ("path", "prepared"), exactly: deletes.prepared)
            out.sample("hnagent_vf_loss_deletes_total", ("path", "decoded"), exactly: deletes.decoded)
            out.family("hnagent_vf_loss_prepared_refused_total", "counter",
                       "Prepared deletes the kernel refused (the filter was replaced since); the decoded path removed the redirect instead.")
            out.sample("hnagent_vf_loss_prepared_refused_total", exactly: deletes.preparedRefused)
        }
        out.family("hnagent_resyncs_total", "counter", "Full resynchronisations after a lost or untrusted event.")
        out.sample("hnagent_resyncs_total", exactly: report.agent.resyncs)
        out.family("hnagent_resync_failures_total", "counter", "Full resynchronisations that failed (each is retried with back-off).")
        out.sample("hnagent_resync_failures_total", exactly: report.agent.resyncFailures)
        out.family("hnagent_resync_pending", "gauge", "1 while a failed resynchronisation waits for its retry (the link table may be stale).")
        out.sample("hnagent_resync_pending", nil, report.agent.resyncPending ? 1 : 0)
        if let lock = report.agent.instanceLock {
            out.family("hnagent_instance_lock_squatted", "gauge",
                       "1 while a process that cannot be an agent holds the single-instance lock name (a second agent would not be detected).")
            out.sample("hnagent_instance_lock_squatted", nil, lock == LockHolder.Hold.held.description ? 0 : 1)
        }
        if let classifier = report.agent.relayClassifier {
            out.family("hnagent_relay_classifier", "gauge",
                       "1 for the tc classifier of the relay filters the agent adds: matchall (deletes need no RTNL) or u32.")
            out.sample("hnagent_relay_classifier", ("classifier", classifier), 1)
        }
        if let listener = report.agent.metricsListener {
            out.family("hnagent_metrics_listening", "gauge", "1 while the HTTP metrics endpoint listens; 0 while its bind is retried.")
            out.sample("hnagent_metrics_listening", nil, listener.listening ? 1 : 0)
            out.family("hnagent_metrics_listen_failures_total", "counter", "Failed binds of the HTTP metrics endpoint since start.")
            out.sample("hnagent_metrics_listen_failures_total", exactly: listener.failedAttempts)
        }
        out.family("hnagent_pairs", "gauge", "Synthetic NICs the agent manages.")
        out.sample("hnagent_pairs", nil, Double(report.pairs.count))
        out.family("hnagent_uptime_seconds", "gauge", "Seconds since the agent started.")
        out.sample("hnagent_uptime_seconds", nil, report.agent.uptimeSeconds)
        return out.text.text
    }

    /// Label values escaped as the format wants: backslash, double quote, newline.
    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// A pair and its label, escaped once for all its series.
    private struct Pair {
        var status: PairStatus
        var label: String
    }

    /// Writes each sample line straight into one buffer: labels sorted by name, as the format
    /// wants (every pair label sorts before "synthetic").
    private struct Writer {
        var text: TextBuffer
        let pairs: [Pair]

        init(_ report: StatusReport) {
            text = TextBuffer(capacity: 4096 + 3072 * report.pairs.count)
            pairs = report.pairs.map { Pair(status: $0, label: escape($0.synthetic.name)) }
        }

        mutating func family(_ name: String, _ type: StaticString, _ help: String) {
            text.append("# HELP ")
            text.append(name)
            text.append(UInt8(ascii: " "))
            text.append(help)
            text.append("\n# TYPE ")
            text.append(name)
            text.append(UInt8(ascii: " "))
            text.append(type)
            text.append(UInt8(ascii: "\n"))
        }

        mutating func sample(_ name: String, _ pair: Pair, _ label: (StaticString, String)?, _ value: Double) {
            start(name, label, synthetic: pair.label)
            number(value)
        }

        /// Counters as integers, exact beyond 2^53.
        mutating func sample(_ name: String, _ pair: Pair, _ label: (StaticString, String)?, exactly value: UInt64) {
            start(name, label, synthetic: pair.label)
            text.append(decimal: value)
            text.append(UInt8(ascii: "\n"))
        }

        mutating func sample(_ name: String, _ label: (StaticString, String)?, _ value: Double) {
            start(name, label, synthetic: nil)
            number(value)
        }

        mutating func sample(_ name: String, _ label: (StaticString, String)? = nil, exactly value: UInt64) {
            start(name, label, synthetic: nil)
            text.append(decimal: value)
            text.append(UInt8(ascii: "\n"))
        }

        private mutating func start(_ name: String, _ label: (StaticString, String)?, synthetic: String?) {
            text.append(name)
            guard label != nil || synthetic != nil else { return text.append(UInt8(ascii: " ")) }
            text.append(UInt8(ascii: "{"))
            if let (key, value) = label {
                text.append(key)
                text.append("=\"")
                text.append(escape(value))
                text.append(UInt8(ascii: "\""))
                if synthetic != nil { text.append(UInt8(ascii: ",")) }
            }
            if let synthetic {
                text.append("synthetic=\"")
                text.append(synthetic)
                text.append(UInt8(ascii: "\""))
            }
            text.append("} ")
        }

        /// Integers without a fraction (counters up to 2^53 exactly), others as Swift prints them.
        private mutating func number(_ value: Double) {
            if value == value.rounded(), abs(value) < 9.007_199_254_740_992e15 {
                text.append(decimal: Int64(value))
            } else {
                text.append("\(value)")
            }
            text.append(UInt8(ascii: "\n"))
        }
    }
}
