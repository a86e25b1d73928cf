import Policy

/// Prometheus text exposition format 0.0.4, written by hand from a `StatusReport`: the same
/// numbers as `hnagent status`, no metrics library needed. Every pair's series carry the label
/// synthetic="<name>".
public enum MetricsExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ report: StatusReport) -> String {
        var out = Writer()
        out.family("hnagent_pair_state", "gauge", "1 for the state the pair is in, 0 for the others.")
        for pair in report.pairs {
            for state in PairState.allCases {
                out.sample("hnagent_pair_state", pair, ["state": state.rawValue], pair.state == state ? 1 : 0)
            }
        }
        out.family("hnagent_pair_state_seconds", "gauge", "Seconds the pair has been in its current state.")
        for pair in report.pairs { out.sample("hnagent_pair_state_seconds", pair, [:], pair.sinceSecondsAgo) }

        out.family("hnagent_switches_total", "counter",
                   "Relay switches since start: to_vf (steering on), to_synthetic (fallback).")
        for pair in report.pairs {
            out.sample("hnagent_switches_total", pair, ["direction": "to_vf"], exactly: pair.switchesToVf)
            out.sample("hnagent_switches_total", pair, ["direction": "to_synthetic"], exactly: pair.switchesToSynthetic)
        }
        out.family("hnagent_last_switch_duration_seconds", "gauge",
                   "Last switch: from the reconcile that saw the event to the relay read back changed.")
        for pair in report.pairs {
            if let ms = pair.lastSwitch?.switchMs { out.sample("hnagent_last_switch_duration_seconds", pair, [:], ms / 1000) }
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
                for pair in report.pairs {
                    guard let counters = path.counters(pair) else { continue }
                    out.sample(name, pair, ["direction": "rx"], exactly: read(counters, true))
                    out.sample(name, pair, ["direction": "tx"], exactly: read(counters, false))
                }
            }
        }

        out.family("hnagent_multicast_changes_coalesced_total", "counter",
                   "Multicast membership changes the VF's allmulti did not follow on their own (at most one change per multicast-settle).")
        for pair in report.pairs {
            out.sample("hnagent_multicast_changes_coalesced_total", pair, [:], exactly: pair.multicastChangesCoalesced)
        }
        out.family("hnagent_reconciles_total", "counter", "Reconcile passes since start.")
        out.line("hnagent_reconciles_total", [:], String(report.agent.reconciles))
        out.family("hnagent_netlink_errors_total", "counter", "Netlink requests the kernel refused or that failed.")
        out.line("hnagent_netlink_errors_total", [:], String(report.agent.netlinkErrors))
        out.family("hnagent_resyncs_total", "counter", "Full resynchronisations after a lost or untrusted event.")
        out.line("hnagent_resyncs_total", [:], String(report.agent.resyncs))
        out.family("hnagent_resync_failures_total", "counter", "Full resynchronisations that failed (each is retried with back-off).")
        out.line("hnagent_resync_failures_total", [:], String(report.agent.resyncFailures))
        out.family("hnagent_resync_pending", "gauge", "1 while a failed resynchronisation waits for its retry (the link table may be stale).")
        out.sample("hnagent_resync_pending", [:], report.agent.resyncPending ? 1 : 0)
        if let lock = report.agent.instanceLock {
            out.family("hnagent_instance_lock_squatted", "gauge",
                       "1 while a process that cannot be an agent holds the single-instance lock name (a second agent would not be detected).")
            out.sample("hnagent_instance_lock_squatted", [:], lock == LockHolder.Hold.held.description ? 0 : 1)
        }
        if let classifier = report.agent.relayClassifier {
            out.family("hnagent_relay_classifier", "gauge",
                       "1 for the tc classifier of the relay filters the agent adds: matchall (deletes need no RTNL) or u32.")
            out.sample("hnagent_relay_classifier", ["classifier": classifier], 1)
        }
        if let listener = report.agent.metricsListener {
            out.family("hnagent_metrics_listening", "gauge", "1 while the HTTP metrics endpoint listens; 0 while its bind is retried.")
            out.sample("hnagent_metrics_listening", [:], listener.listening ? 1 : 0)
            out.family("hnagent_metrics_listen_failures_total", "counter", "Failed binds of the HTTP metrics endpoint since start.")
            out.line("hnagent_metrics_listen_failures_total", [:], String(listener.failedAttempts))
        }
        out.family("hnagent_pairs", "gauge", "Synthetic NICs the agent manages.")
        out.sample("hnagent_pairs", [:], Double(report.pairs.count))
        out.family("hnagent_uptime_seconds", "gauge", "Seconds since the agent started.")
        out.sample("hnagent_uptime_seconds", [:], report.agent.uptimeSeconds)
        return out.text
    }

    /// Label values escaped as the format wants: backslash, double quote, newline.
    static func escape(_ value: String) -> String {
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

    private struct Writer {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ pair: PairStatus, _ labels: [String: String], _ value: Double) {
            sample(name, ["synthetic": pair.synthetic.name].merging(labels) { $1 }, value)
        }

        /// Counters as integers, exact beyond 2^53.
        mutating func sample(_ name: String, _ pair: PairStatus, _ labels: [String: String], exactly value: UInt64) {
            line(name, ["synthetic": pair.synthetic.name].merging(labels) { $1 }, String(value))
        }

        mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
            line(name, labels, format(value))
        }

        mutating func line(_ name: String, _ labels: [String: String], _ value: String) {
            let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escape($0.value))\"" }
            text += name + (rendered.isEmpty ? "" : "{" + rendered.joined(separator: ",") + "}") + " " + value + "\n"
        }

        /// Integers without a fraction (counters up to 2^53 exactly), others as Swift prints them.
        func format(_ value: Double) -> String {
            if value == value.rounded(), abs(value) < 9.007_199_254_740_992e15 { return String(Int64(value)) }
            return "\(value)"
        }
    }
}
