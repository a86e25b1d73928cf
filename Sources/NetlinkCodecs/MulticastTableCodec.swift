import Policy

/// /proc/net/dev_mcast: every link-layer multicast address of every device in this namespace,
/// one per line: "ifindex name users global_use hexaddress". It holds the groups of IP joins
/// (IGMP/MLD) as well as ones added with `ip maddr` or packet sockets, which send no netlink
/// event; rtnetlink has no dump of link-layer groups.
public enum MulticastTableCodec {
    public static let path = "/proc/net/dev_mcast"

    /// Groups by device. Lines that do not parse are skipped (the file is the kernel's, but a
    /// format change must not take the agent down); at most `maximumLines` are read.
    public static func parse(_ text: String, maximumLines: Int = 65_536) -> [InterfaceIndex: [MACAddress]] {
        var groups: [InterfaceIndex: [MACAddress]] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(maximumLines) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 5, let index = Int32(fields[0]), index > 0,
                  let mac = macAddress(hex: fields[4]) else { continue }
            groups[InterfaceIndex(index), default: []].append(mac)
        }
        return groups
    }

    static func macAddress(hex: Substring) -> MACAddress? {
        // UInt8(_:radix:) alone would also take a sign ("+f").
        guard hex.count == 12, hex.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return MACAddress(bytes: bytes)
    }
}
