import Policy

/// The packets that tell switches and neighbours where an address now lives, as bonding sends
/// them after a failover (num_grat_arp / num_unsol_na).
public enum PeerNotificationFrames {
    /// ARP payload (RFC 5227 style announcement): a request for our own address, sender and
    /// target both the address, from our MAC.
    public static func gratuitousARP(mac: MACAddress, ipv4: [UInt8]) -> [UInt8] {
        precondition(ipv4.count == 4 && mac.bytes.count == 6)
        return [0x00, 0x01,            // htype Ethernet
                0x08, 0x00,            // ptype IPv4
                6, 4,                  // hlen, plen
                0x00, 0x01]            // oper request
            + mac.bytes + ipv4         // sender
            + [0, 0, 0, 0, 0, 0] + ipv4 // target: unknown MAC, our address
    }

    /// ICMPv6 neighbour advertisement (RFC 4861 4.4), unsolicited: Override set, Solicited not,
    /// with the target link-layer address option. The kernel fills in the checksum.
    public static func neighbourAdvertisement(mac: MACAddress, target: [UInt8]) -> [UInt8] {
        precondition(target.count == 16 && mac.bytes.count == 6)
        return [136, 0, 0, 0,           // type, code, checksum (kernel)
                0x20, 0, 0, 0]          // flags: O
            + target
            + [2, 1] + mac.bytes        // option: target link-layer address, 8 bytes
    }
}
