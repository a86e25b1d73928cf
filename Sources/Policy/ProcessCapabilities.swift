/// Capability masks as /proc/PID/status shows them ("CapEff:\t000001ffffffffff").
public enum ProcessCapabilities {
    /// CAP_NET_ADMIN is bit 12 of the capability sets.
    public static let netAdmin: UInt64 = 1 << 12

    /// The CapEff mask of a /proc/PID/status text; nil when missing or not hexadecimal.
    public static func effective(statusText: String) -> UInt64? {
        for line in statusText.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let value = line.dropFirst("CapEff:".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard value.count == 1 else { return nil }
            return UInt64(value[0], radix: 16)
        }
        return nil
    }
}
