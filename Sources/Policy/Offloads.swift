/// The offload features of one device as ethtool netlink reports them (ETHTOOL_MSG_FEATURES_GET),
/// by the kernel's feature names ("tx-tcp-segmentation", "rx-checksum", ...).
public struct OffloadFeatures: Hashable, Sendable {
    /// In effect now.
    public var active: Set<String>
    /// Asked for by the user (or by the agent); `active` is `wanted` minus what dependencies forbid.
    public var wanted: Set<String>
    /// Toggleable: in the hardware set and not "fixed" (nochange).
    public var changeable: Set<String>

    public init(active: Set<String>, wanted: Set<String>, changeable: Set<String>) {
        self.active = active
        self.wanted = wanted
        self.changeable = changeable
    }
}

/// The seed's offload rules while a VF is attached: the synthetic NIC offers only what both
/// NICs can do, and receive aggregation on it is off.
public enum OffloadPolicy {
    /// Features describing what the NIC does to packets the synthetic NIC's stack sends or gets:
    /// checksums, scatter-gather, segmentation, VLAN tag handling, receive hashing. Intersected
    /// with the VF's. Software-only features (GSO, GRO) and device-local ones (highdma, ntuple,
    /// tc offload) are not the VF's business and are left alone.
    public static let intersected: Set<String> = [
        "tx-scatter-gather", "tx-scatter-gather-fraglist",
        "tx-checksum-ipv4", "tx-checksum-ip-generic", "tx-checksum-ipv6", "tx-checksum-sctp",
        "tx-checksum-fcoe-crc", "rx-checksum",
        "tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation",
        "tx-tcp6-segmentation", "tx-tcp-accecn-segmentation", "tx-udp-segmentation", "tx-gso-list",
        "tx-gso-partial", "tx-gre-segmentation", "tx-gre-csum-segmentation", "tx-ipxip4-segmentation",
        "tx-ipxip6-segmentation", "tx-udp_tnl-segmentation", "tx-udp_tnl-csum-segmentation",
        "tx-sctp-segmentation", "tx-esp-segmentation", "tx-tunnel-remcsum-segmentation",
        "tx-vlan-hw-insert", "tx-vlan-stag-hw-insert", "rx-vlan-hw-parse", "rx-vlan-stag-hw-parse",
        "rx-hashing",
    ]

    /// Off on the synthetic NIC while a VF is attached: LRO (the seed: the synthetic NIC only
    /// sees broadcast, multicast and SYNs then, and in non-transparent mode an LRO flush would
    /// deliver on the wrong interface) and its Linux sibling, hardware GRO.
    public static let disabledWhilePaired: Set<String> = ["large-receive-offload", "rx-gro-hw"]

    /// The changes to the synthetic NIC's wanted features, by name (true = on), that make it
    /// agree with `vf`. `originals` holds what the agent already changed and what it was, so a
    /// feature the VF regains is given back and one the user turned on again is taken away again.
    public static func changes(synthetic hn: OffloadFeatures, vf: OffloadFeatures,
                               originals: [String: Bool]) -> [String: Bool] {
        var changes: [String: Bool] = [:]
        for name in intersected.union(disabledWhilePaired) where hn.changeable.contains(name) {
            let allowed = !disabledWhilePaired.contains(name) && vf.active.contains(name)
            if hn.active.contains(name) && !allowed {
                changes[name] = false
            } else if originals[name] == true, allowed, !hn.wanted.contains(name) {
                changes[name] = true // the VF can do it (again): give it back
            }
        }
        return changes
    }

    /// What to set on detach: every feature the agent changed, back to what it was, where it differs.
    public static func restore(synthetic hn: OffloadFeatures, originals: [String: Bool]) -> [String: Bool] {
        originals.filter { name, wasOn in hn.wanted.contains(name) != wasOn && hn.changeable.contains(name) }
    }
}

/// The seed's rule for segmentation limits: the synthetic NIC never builds a segment the VF
/// could not send.
public enum GSOPolicy {
    /// The limits the synthetic NIC must have while paired, from its original limits (what it had
    /// before the agent lowered them) and the VF's; nil when they cannot be computed.
    public static func desired(original: GSOLimits?, synthetic hn: LinkSnapshot, vf: LinkSnapshot) -> GSOLimits? {
        guard let own = original ?? hn.gso, let theirs = vf.gso else { return nil }
        // Both ceilings: the VF's because it sends the segments, the synthetic NIC's because the
        // kernel clamps to it (asking for more would never read back as asked).
        let sizeCeiling = min(vf.tsoCeiling?.maxSize ?? .max, hn.tsoCeiling?.maxSize ?? .max)
        let segsCeiling = min(vf.tsoCeiling?.maxSegs ?? .max, hn.tsoCeiling?.maxSegs ?? .max)
        let size = min(own.maxSize, theirs.maxSize, sizeCeiling)
        let segs = min(own.maxSegs, theirs.maxSegs, segsCeiling)
        let ipv4 = own.ipv4MaxSize.map { min($0, theirs.ipv4MaxSize ?? theirs.maxSize, sizeCeiling) }
        return GSOLimits(maxSize: size, maxSegs: segs, ipv4MaxSize: ipv4)
    }
}

/// The seed's multicast rule: when the synthetic NIC has multicast memberships, the VF gets
/// allmulti (no copying of filter lists).
public enum MulticastPolicy {
    /// Link-layer groups every IP-enabled NIC joins by itself; they are not memberships anyone asked for.
    static let defaults: Set<MACAddress> = [
        MACAddress("01:00:5e:00:00:01")!, // 224.0.0.1 all hosts
        MACAddress("33:33:00:00:00:01")!, // ff02::1 all nodes
        MACAddress("33:33:00:00:00:02")!, // ff02::2 all routers (joined when forwarding)
    ]

    /// True for a default group: the fixed ones above and IPv6 solicited-node groups
    /// (33:33:ff:xx:xx:xx), which follow the NIC's own unicast addresses.
    public static func isDefault(_ group: MACAddress) -> Bool {
        defaults.contains(group) || group.bytes.starts(with: [0x33, 0x33, 0xFF])
    }

    /// The memberships beyond the defaults, sorted for stable logs.
    public static func memberships(_ groups: [MACAddress]) -> [MACAddress] {
        Set(groups.filter { !isDefault($0) }).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
    }
}
