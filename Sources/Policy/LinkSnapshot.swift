/// Interface flags as reported in ifinfomsg.ifi_flags (linux/if.h).
public struct LinkFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let up = LinkFlags(rawValue: 0x1)
    public static let broadcast = LinkFlags(rawValue: 0x2)
    public static let loopback = LinkFlags(rawValue: 0x8)
    public static let running = LinkFlags(rawValue: 0x40)
    public static let promiscuous = LinkFlags(rawValue: 0x100)
    public static let allMulticast = LinkFlags(rawValue: 0x200)
    public static let master = LinkFlags(rawValue: 0x400)
    public static let slave = LinkFlags(rawValue: 0x800)
    public static let multicast = LinkFlags(rawValue: 0x1000)
    public static let lowerUp = LinkFlags(rawValue: 0x10000)
    public static let dormant = LinkFlags(rawValue: 0x20000)
}

/// RFC 2863 operational state (IFLA_OPERSTATE).
public enum OperState: UInt8, Sendable {
    case unknown = 0, notPresent = 1, down = 2, lowerLayerDown = 3, testing = 4, dormant = 5, up = 6
}

/// IFLA_LINKMODE: with `dormant`, user space decides whether a carrier-up device is UP or DORMANT.
public enum LinkMode: UInt8, Sendable, CustomStringConvertible {
    case `default` = 0, dormant = 1

    /// The case name, as Swift printed it by reflection (status, the state file), without the
    /// reflection: that cost a status request at 256 pairs about a tenth of its time.
    public var description: String {
        switch self {
        case .default: return "default"
        case .dormant: return "dormant"
        }
    }
}

/// Segmentation limits of a device (IFLA_GSO_MAX_SIZE/SEGS, IFLA_GSO_IPV4_MAX_SIZE). Changing
/// them emits no link event, so whoever writes them must read them back.
public struct GSOLimits: Hashable, Sendable, CustomStringConvertible {
    public var maxSize: UInt32
    public var maxSegs: UInt32
    /// IPv4's own limit (kernel 6.3+); nil where the kernel does not report it.
    public var ipv4MaxSize: UInt32?

    public init(maxSize: UInt32, maxSegs: UInt32, ipv4MaxSize: UInt32? = nil) {
        self.maxSize = maxSize
        self.maxSegs = maxSegs
        self.ipv4MaxSize = ipv4MaxSize
    }

    public var description: String {
        "gso_max_size=\(maxSize) gso_max_segs=\(maxSegs)" + (ipv4MaxSize.map { " gso_ipv4_max_size=\($0)" } ?? "")
    }
}

/// Hardware ceilings of a device (IFLA_TSO_MAX_SIZE/SEGS): GSO limits never exceed them.
public struct TSOCeiling: Hashable, Sendable {
    public var maxSize: UInt32
    public var maxSegs: UInt32
    public init(maxSize: UInt32, maxSegs: UInt32) {
        self.maxSize = maxSize
        self.maxSegs = maxSegs
    }
}

/// IPv6 link-local address generation mode (IFLA_INET6_ADDR_GEN_MODE).
public enum AddrGenMode: UInt8, Sendable, CustomStringConvertible {
    case eui64 = 0, none = 1, stablePrivacy = 2, random = 3

    /// The case name, as Swift printed it by reflection (see LinkMode.description).
    public var description: String {
        switch self {
        case .eui64: return "eui64"
        case .none: return "none"
        case .stablePrivacy: return "stablePrivacy"
        case .random: return "random"
        }
    }
}

/// ARPHRD_ETHER from linux/if_arp.h: the only hardware type a VF can have.
public let hardwareTypeEthernet: UInt16 = 1

/// What the agent knows about one interface, decoded from an RTM_NEWLINK message.
public struct LinkSnapshot: Hashable, Sendable, CustomStringConvertible {
    public var index: InterfaceIndex
    public var name: String
    public var mac: MACAddress?
    public var hardwareType: UInt16
    public var flags: LinkFlags
    public var mtu: UInt32
    public var operState: OperState
    /// IFLA_INFO_KIND ("veth", "vlan", "bridge", ...); nil for a physical NIC.
    public var kind: String?
    public var master: InterfaceIndex?
    /// Driver name from ethtool (e.g. "hv_netvsc", "mlx5_core", "veth"), when known.
    public var driver: String?
    public var addrGenMode: AddrGenMode?
    public var linkMode: LinkMode = .default
    /// Nil when the kernel did not report them.
    public var gso: GSOLimits?
    public var tsoCeiling: TSOCeiling?
    public var counters: TrafficCounters?

    public init(index: InterfaceIndex, name: String, mac: MACAddress?, hardwareType: UInt16 = hardwareTypeEthernet,
                flags: LinkFlags = [], mtu: UInt32 = 1500, operState: OperState = .down, kind: String? = nil,
                master: InterfaceIndex? = nil, driver: String? = nil, addrGenMode: AddrGenMode? = nil) {
        self.index = index
        self.name = name
        self.mac = mac
        self.hardwareType = hardwareType
        self.flags = flags
        self.mtu = mtu
        self.operState = operState
        self.kind = kind
        self.master = master
        self.driver = driver
        self.addrGenMode = addrGenMode
    }

    public var isAdminUp: Bool { flags.contains(.up) }
    /// Carrier as the kernel reports it (IFF_LOWER_UP).
    public var hasCarrier: Bool { flags.contains(.lowerUp) }
    /// "vf0(5)": how every log line names an interface.
    public var label: String { named.description }
    public var description: String { label }
}
