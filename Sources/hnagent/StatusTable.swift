import OperatorInterface
import POSIX
import Policy

/// `hnagent status` for humans: one summary row per pair, then each pair's traffic and changes.
enum StatusTable {
    static func render(_ report: StatusReport) -> String {
        let agent = report.agent
        var out = "hnagent pid \(agent.pid): \(agent.mode) mode, settle \(agent.settleSeconds)s, up \(duration(agent.uptimeSeconds))"
        if let classifier = agent.relayClassifier { out += ", relay \(classifier)" }
        out += "; reconciles \(agent.reconciles), netlink errors \(agent.netlinkErrors), resyncs \(agent.resyncs)"
        if agent.resyncPending {
            out += " (RESYNC PENDING: a link dump failed \(agent.resyncFailures) time(s), retrying; the link table may be stale)"
        } else if agent.resyncFailures > 0 {
            out += " (\(agent.resyncFailures) failed, retried)"
        }
        out += "\n"
        if let lock = agent.instanceLock, lock != "held" {
            out += "INSTANCE LOCK: \(lock); a second hnagent in this network namespace would not be detected; stop that process and restart hnagent\n"
        }
        if let metrics = agent.metricsListener {
            out += metrics.listening
                ? "metrics http://\(metrics.address)/metrics listening\n"
                : "metrics \(metrics.address) not listening: \(metrics.error ?? "unknown error")"
                    + (metrics.retryInSeconds.map { "; retry in \(duration($0))" } ?? "") + "\n"
        }
        guard !report.pairs.isEmpty else {
            return out + "\nno synthetic NICs found (none has driver virtio_net or hv_netvsc, or none matches --synthetic)\n"
        }
        var rows = [["SYNTHETIC", "VF", "STATE", "SINCE", "LAST SWITCH", "SWITCHES", "VIA VF PKTS rx/tx", "SYNTHETIC PKTS rx/tx"]]
        for pair in report.pairs {
            let lastSwitch = pair.lastSwitch.map { s in
                "\(s.direction.rawValue) \(duration(s.secondsAgo)) ago" + (s.switchMs.map { " (\($0) ms)" } ?? "")
            } ?? "-"
            let synthetic = pair.traffic.synthetic.map { "\($0.rxPackets)/\($0.txPackets)" } ?? "-"
            rows.append([label(pair.synthetic), pair.vf.map(label) ?? "-", pair.state.rawValue, duration(pair.sinceSecondsAgo),
                         lastSwitch, "\(pair.switchesToVf)/\(pair.switchesToSynthetic)",
                         "\(pair.traffic.viaVf.rxPackets)/\(pair.traffic.viaVf.txPackets)", synthetic])
        }
        out += "\n" + table(rows)
        for pair in report.pairs { out += "\n" + details(pair) }
        return out
    }

    private static func details(_ pair: PairStatus) -> String {
        var out = "\(label(pair.synthetic)): \(pair.state.rawValue)"
        if let reason = pair.reason { out += " (\(reason))" }
        if let left = pair.settleRemainingSeconds { out += ", steering in \(duration(left))" }
        if let retry = pair.retryInSeconds { out += ", retry in \(duration(retry))" }
        out += "\n"
        if let last = pair.lastSwitch {
            out += "  last switch  \(last.direction.rawValue) at \(last.at)" + (last.reason.map { ", \($0)" } ?? "")
                + (last.switchMs.map { ", \($0) ms" } ?? "") + "\n"
        }
        var rows = [["  traffic", "rx packets", "rx bytes", "tx packets", "tx bytes"]]
        func row(_ name: String, _ c: TrafficCounters) -> [String] {
            ["    \(name)", "\(c.rxPackets)", bytes(c.rxBytes), "\(c.txPackets)", bytes(c.txBytes)]
        }
        rows.append(row("via VF", pair.traffic.viaVf))
        if let synthetic = pair.traffic.synthetic { rows.append(row("synthetic", synthetic)) }
        rows.append(row("total", pair.traffic.total))
        if let direct = pair.traffic.vfDirect { rows.append(row("VF direct", direct)) }
        out += table(rows)
        let recovered = pair.traffic.recoveredAtVfRemoval
        if recovered.rxPackets + recovered.txPackets > 0 {
            out += "  (via VF includes \(recovered.rxPackets) rx / \(recovered.txPackets) tx packets counted by the VF after the last relay reading, before it was removed)\n"
        }
        for nic in pair.changes {
            let list = nic.changes.map { change in
                change.current.map { "\(change.setting) \(change.original) -> \($0)" } ?? "\(change.setting) (was \(change.original))"
            }
            out += "  changed on \(nic.interface)(\(nic.ifindex)): " + list.joined(separator: "; ") + "\n"
        }
        if !pair.multicastMemberships.isEmpty {
            out += "  multicast    \(pair.multicastMemberships.joined(separator: ", ")) (VF in allmulti)\n"
        }
        if pair.multicastChangesCoalesced > 0 {
            out += "  multicast    \(pair.multicastChangesCoalesced) membership changes coalesced (allmulti follows at most once per multicast-settle)\n"
        }
        for shadow in pair.shadowedBy ?? [] {
            let direction = shadow.hook == Hook.egress.rawValue ? "TX" : "RX"
            out += "  WARNING      \(shadow.kind) filter prio \(shadow.priority) handle \(shadow.handle) on \(shadow.device) \(shadow.hook) "
                + "runs before hnagent's redirect: if it matches, \(direction) is not relayed (tc filter show dev \(shadow.device) \(shadow.hook))\n"
        }
        if !pair.vfAddresses.isEmpty {
            out += "  WARNING      VF has IP addresses \(pair.vfAddresses.joined(separator: ", ")): something configures it\n"
        }
        return out
    }

    static func label(_ nic: NICRef) -> String {
        "\(nic.name)(\(nic.ifindex))" + (nic.present ? "" : " gone")
    }

    /// "0.4s", "12s", "3m12s", "2h05m", "3d04h".
    static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return "\((seconds * 10).rounded() / 10)s" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(pad(s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(pad(s % 3600 / 60))m" }
        return "\(s / 86400)d\(pad(s % 86400 / 3600))h"
    }

    static func bytes(_ value: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var scaled = Double(value)
        var unit = 0
        while scaled >= 1024, unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : "\((scaled * 10).rounded() / 10) \(units[unit])"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Columns padded to their widest cell, two spaces apart.
    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

/// One `hnagent events` line: time, sequence, pair, kind, then what is known.
enum EventLine {
    static func render(_ entry: TimelineEntry) -> String {
        var line = "\(entry.time) #\(entry.seq) "
        if let synthetic = entry.synthetic { line += synthetic + (entry.syntheticIfindex.map { "(\($0))" } ?? "") + " " }
        line += entry.kind
        if let vf = entry.vf { line += " vf=\(vf)" + (entry.vfIfindex.map { "(\($0))" } ?? "") }
        if let reason = entry.reason { line += " reason=\"\(reason)\"" }
        if let ms = entry.switchMs { line += " switch_ms=\(ms)" }
        if let detail = entry.detail { line += " \(detail)" }
        return line
    }
}
