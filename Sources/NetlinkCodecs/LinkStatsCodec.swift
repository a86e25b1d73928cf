import Netlink
import Policy

/// `ip stats show group link`: every link's rtnl_link_stats64 and nothing else (RTM_GETSTATS
/// with IFLA_STATS_LINK_64). Status reads link counters this way: a full link dump fills and
/// parses every attribute of every link (IPv6 per-device statistics among them) for the
/// four numbers it needs.
public enum LinkStatsCodec {
    /// struct if_stats_msg: family, two pads, ifindex, filter_mask; 12 bytes.
    static let headerSize = 12
    /// IFLA_STATS_LINK_64, and its bit in filter_mask (IFLA_STATS_FILTER_BIT).
    static let link64: UInt16 = 1
    static var link64Filter: UInt32 { 1 << (UInt32(link64) - 1) }

    struct Header {
        var family: UInt8 = 0
        var pad1: UInt8 = 0
        var pad2: UInt16 = 0
        var ifindex: Int32 = 0
        var filterMask: UInt32
    }

    public static func dumpRequest(sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.getStats, flags: NLM.request | NLM.dump, sequence: sequence)
        builder.putFamilyHeader(Header(filterMask: link64Filter))
        return try builder.bytes()
    }

    /// One link's counters; nil for a message that is not RTM_NEWSTATS or carries no IFLA_STATS_LINK_64.
    public static func decode(_ message: NetlinkMessage) throws -> (InterfaceIndex, TrafficCounters)? {
        guard message.type == RT.newStats else { return nil }
        guard let ifindex = ByteReader(message.payload).i32(at: 4), message.payload.count >= headerSize else {
            throw MalformedMessage("stats message shorter than if_stats_msg")
        }
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(headerSize))
        guard let stats = attributes.first(link64), let counters = counters(stats64: stats.payload) else { return nil }
        return (InterfaceIndex(ifindex), counters)
    }

    /// struct rtnl_link_stats64 starts with rx_packets, tx_packets, rx_bytes, tx_bytes.
    static func counters(stats64 payload: ArraySlice<UInt8>) -> TrafficCounters? {
        let r = ByteReader(payload)
        guard let rxp = r.u64(at: 0), let txp = r.u64(at: 8), let rxb = r.u64(at: 16), let txb = r.u64(at: 24) else { return nil }
        return TrafficCounters(rxPackets: rxp, txPackets: txp, rxBytes: rxb, txBytes: txb)
    }
}
