import Policy

/// `hnagent status --json`, written by hand: the bytes Foundation's JSONEncoder made with sorted
/// snake_case keys and unescaped slashes (StatusWireTests pins them, and checks them against
/// JSONEncoder), at a fraction of its cost. Keys are written in sorted (UTF-8) order, optionals
/// that are nil are left out, and a number that is not finite makes the whole document nil, as
/// with JSONEncoder. The client decodes it with JSONDecoder as before.
public enum StatusJSON {
    public static func text(_ report: StatusReport) -> String? {
        var json = JSONWriter(capacity: 1024 + 2048 * report.pairs.count)
        json.object {
            $0.field("agent") { report.agent.write(to: &$0) }
            $0.field("pairs") { json in json.array(report.pairs) { $1.write(to: &$0) } }
        }
        return json.finished
    }
}

/// A JSON text per RFC 8259, escaped as JSONEncoder escapes: `"` and `\` with a backslash,
/// \b \f \n \r \t by name, other control characters as \u00XX (lower-case hex); `/`, DEL and
/// non-ASCII as they are (UTF-8).
struct JSONWriter {
    private var out: TextBuffer
    /// A value was written at this level: the next one needs a comma first.
    private var afterValue = false
    /// A number could not be written (NaN or infinite).
    private var invalid = false

    init(capacity: Int) { out = TextBuffer(capacity: capacity) }

    var finished: String? { invalid ? nil : out.text }

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        open(UInt8(ascii: "{"))
        body(&self)
        close(UInt8(ascii: "}"))
    }

    mutating func array<T>(_ elements: [T], _ element: (inout JSONWriter, T) -> Void) {
        open(UInt8(ascii: "["))
        for each in elements { element(&self, each) }
        close(UInt8(ascii: "]"))
    }

    /// `"key":` and the value `body` writes. Keys are constants that need no escaping.
    mutating func field(_ key: StaticString, _ body: (inout JSONWriter) -> Void) {
        separate()
        out.append(UInt8(ascii: "\""))
        out.append(key)
        out.append("\":")
        afterValue = false
        body(&self)
    }

    mutating func field(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        field(key) { $0.string(value) }
    }

    mutating func field(_ key: StaticString, _ value: Double?) {
        guard let value else { return }
        field(key) { $0.number(value) }
    }

    mutating func field(_ key: StaticString, _ value: UInt64) { field(key) { $0.number(value) } }
    mutating func field(_ key: StaticString, _ value: Int32) { field(key) { $0.number(Int64(value)) } }

    mutating func field(_ key: StaticString, _ value: Bool) {
        field(key) { $0.scalar(value ? "true" : "false") }
    }

    mutating func field(_ key: StaticString, _ value: [String]) {
        field(key) { json in json.array(value) { $0.string($1) } }
    }

    mutating func string(_ value: String) {
        separate()
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var plain = 0 // start of the bytes not yet written
            for (offset, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plain..<offset]))
                escape(byte)
                plain = offset + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plain...]))
        }
        out.append(UInt8(ascii: "\""))
        afterValue = true
    }

    mutating func number(_ value: UInt64) {
        separate()
        out.append(decimal: value)
        afterValue = true
    }

    mutating func number(_ value: Int64) {
        separate()
        out.append(decimal: value)
        afterValue = true
    }

    /// As JSONEncoder writes a Double: its `description` without a trailing ".0".
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            invalid = true
            return scalar("null")
        }
        if value == value.rounded(), abs(value) < 1e15, value != 0 || value.sign == .plus {
            return number(Int64(value)) // "2.0" -> "2", as below, without formatting a Double
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        separate()
        out.append(text)
        afterValue = true
    }

    private mutating func scalar(_ text: StaticString) {
        separate()
        out.append(text)
        afterValue = true
    }

    private mutating func escape(_ byte: UInt8) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            out.append("u00")
            out.append(hex.utf8Start[Int(byte >> 4)])
            out.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        out.append(bracket)
        afterValue = false
    }

    private mutating func close(_ bracket: UInt8) {
        out.append(bracket)
        afterValue = true
    }

    private mutating func separate() {
        if afterValue { out.append(UInt8(ascii: ",")) }
    }
}

// Each type writes its keys in sorted order: the snake_case names JSONEncoder derived from the
// property names. A property added to one of these types must be added here too; the golden
// and differential tests in StatusWireTests fail until it is.

extension AgentStatus {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("control_socket", controlSocket)
            $0.field("instance_lock", instanceLock)
            $0.field("metrics_listen", metricsListen)
            if let metricsListener { $0.field("metrics_listener") { metricsListener.write(to: &$0) } }
            $0.field("mode", mode)
            $0.field("netlink_errors", netlinkErrors)
            $0.field("pid", pid)
            $0.field("reconciles", reconciles)
            $0.field("relay_classifier", relayClassifier)
            $0.field("resync_failures", resyncFailures)
            $0.field("resync_pending", resyncPending)
            $0.field("resyncs", resyncs)
            $0.field("settle_seconds", settleSeconds)
            $0.field("started_at", startedAt)
            $0.field("uptime_seconds", uptimeSeconds)
            if let vfLossDeletes { $0.field("vf_loss_deletes") { vfLossDeletes.write(to: &$0) } }
        }
    }
}

extension VFLossDeletes {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("decoded", decoded)
            $0.field("prepared", prepared)
            $0.field("prepared_refused", preparedRefused)
        }
    }
}

extension MetricsListenerStatus {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("address", address)
            $0.field("error", error)
            $0.field("failed_attempts", failedAttempts)
            $0.field("listening", listening)
            $0.field("retry_in_seconds", retryInSeconds)
        }
    }
}

extension PairStatus {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("changes") { json in json.array(changes) { $1.write(to: &$0) } }
            if let lastSwitch { $0.field("last_switch") { lastSwitch.write(to: &$0) } }
            $0.field("multicast_changes_coalesced", multicastChangesCoalesced)
            $0.field("multicast_memberships", multicastMemberships)
            $0.field("reason", reason)
            $0.field("retry_in_seconds", retryInSeconds)
            $0.field("settle_remaining_seconds", settleRemainingSeconds)
            if let shadowedBy { $0.field("shadowed_by") { json in json.array(shadowedBy) { $1.write(to: &$0) } } }
            $0.field("since", since)
            $0.field("since_seconds_ago", sinceSecondsAgo)
            $0.field("state", state.rawValue)
            $0.field("switches_to_synthetic", switchesToSynthetic)
            $0.field("switches_to_vf", switchesToVf)
            $0.field("synthetic") { synthetic.write(to: &$0) }
            $0.field("traffic") { traffic.write(to: &$0) }
            if let vf { $0.field("vf") { vf.write(to: &$0) } }
            $0.field("vf_addresses", vfAddresses)
        }
    }
}

extension ShadowStatus {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("device", device)
            $0.field("handle", handle)
            $0.field("hook", hook)
            $0.field("kind", kind)
            $0.field("priority", UInt64(priority))
        }
    }
}

extension NICChanges {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("changes") { json in json.array(changes) { $1.write(to: &$0) } }
            $0.field("ifindex", ifindex)
            $0.field("interface", interface)
        }
    }
}

extension SettingChange {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("current", current)
            $0.field("original", original)
            $0.field("setting", setting)
        }
    }
}

extension SwitchRecord {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("at", at)
            $0.field("direction", direction.rawValue)
            $0.field("reason", reason)
            $0.field("seconds_ago", secondsAgo)
            $0.field("switch_ms", switchMs)
        }
    }
}

extension NICRef {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("ifindex", ifindex)
            $0.field("mac", mac)
            $0.field("name", name)
            $0.field("present", present)
        }
    }
}

extension PairTraffic {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("recovered_at_vf_removal") { recoveredAtVfRemoval.write(to: &$0) }
            if let synthetic { $0.field("synthetic") { synthetic.write(to: &$0) } }
            $0.field("total") { total.write(to: &$0) }
            if let vfDirect { $0.field("vf_direct") { vfDirect.write(to: &$0) } }
            $0.field("via_vf") { viaVf.write(to: &$0) }
        }
    }
}

extension TrafficCounters {
    func write(to json: inout JSONWriter) {
        json.object {
            $0.field("rx_bytes", rxBytes)
            $0.field("rx_packets", rxPackets)
            $0.field("tx_bytes", txBytes)
            $0.field("tx_packets", txPackets)
        }
    }
}
