/// A clsact hook: filters on `ingress` see what a device receives, on `egress` what it sends.
public enum Hook: String, Hashable, Sendable, CaseIterable {
    case ingress, egress
}

/// What the agent's mirred action does with a packet.
public enum RedirectKind: String, Hashable, Sendable {
    /// TCA_INGRESS_REDIR: the packet appears as received on the target.
    case toIngress = "ingress-redirect"
    /// TCA_EGRESS_REDIR: the packet is sent out of the target.
    case toEgress = "egress-redirect"
}

/// The tc classifier that carries the agent's relay filters, chosen once at start.
public enum RelayClassifier: String, Hashable, Sendable, CaseIterable {
    /// cls_matchall: a delete that names its kind and priority runs without RTNL on clsact, so
    /// hn's egress redirect goes while the VF's unregistration still holds RTNL.
    case matchall
    /// cls_u32 with one all-zero key: present everywhere, but its delete waits for RTNL.
    case u32
}

/// Packets and bytes counted by a filter's action.
public struct RelayCounters: Hashable, Sendable {
    public var packets: UInt64
    public var bytes: UInt64
    public init(packets: UInt64 = 0, bytes: UInt64 = 0) {
        self.packets = packets
        self.bytes = bytes
    }
    public static func + (lhs: Self, rhs: Self) -> Self {
        RelayCounters(packets: lhs.packets &+ rhs.packets, bytes: lhs.bytes &+ rhs.bytes)
    }
}

/// One of the agent's own relay filters, as read back from the kernel.
public struct RelayFilter: Hashable, Sendable {
    public var kind: RedirectKind
    public var target: InterfaceIndex
    public var counters: RelayCounters
    public init(kind: RedirectKind, target: InterfaceIndex, counters: RelayCounters = RelayCounters()) {
        self.kind = kind
        self.target = target
        self.counters = counters
    }
}

/// The tc state of one device as far as the agent cares.
public struct RelayObservation: Hashable, Sendable {
    public var hasClsact: Bool
    /// The agent's filter on the ingress hook, if any.
    public var ingress: RelayFilter?
    /// The agent's filter on the egress hook, if any.
    public var egress: RelayFilter?
    /// Filters on either hook that are not the agent's; a clsact holding them is never deleted.
    public var foreignFilters: Int
    /// Each hook's classifying filters, the agent's and others', in the kernel's listing order
    /// (`RelayShadow.first` tells from it whether another tool's runs before the agent's).
    public var listed: [Hook: [HookFilter]]

    public init(hasClsact: Bool = false, ingress: RelayFilter? = nil, egress: RelayFilter? = nil, foreignFilters: Int = 0,
                listed: [Hook: [HookFilter]] = [:]) {
        self.hasClsact = hasClsact
        self.ingress = ingress
        self.egress = egress
        self.foreignFilters = foreignFilters
        self.listed = listed
    }

    public static let absent = RelayObservation()

    public func filter(on hook: Hook) -> RelayFilter? {
        hook == .ingress ? ingress : egress
    }
}

/// Interface flags the VF mirrors from the synthetic NIC while paired (the seed passes the
/// synthetic NIC's ioctls through to the VF).
public enum PassThroughFlag: String, Hashable, Sendable, CaseIterable {
    case promiscuous = "promisc"
    case allMulticast = "allmulti"

    public var linkFlag: LinkFlags { self == .promiscuous ? .promiscuous : .allMulticast }
}

/// One change to kernel state. The Agent performs them in the order given.
public enum Action: Hashable, Sendable {
    case deleteRedirect(device: InterfaceIndex, hook: Hook)
    case addRedirect(device: InterfaceIndex, hook: Hook, kind: RedirectKind, target: InterfaceIndex)
    case addClsact(device: InterfaceIndex)
    case deleteClsact(device: InterfaceIndex)
    case setAdminState(device: InterfaceIndex, up: Bool)
    case setAddrGenMode(device: InterfaceIndex, mode: AddrGenMode)
    case setMTU(device: InterfaceIndex, mtu: UInt32)
    case setFlag(device: InterfaceIndex, flag: PassThroughFlag, on: Bool)
    /// Offload features by name (true = on), through ethtool netlink; only those named change.
    case setFeatures(device: InterfaceIndex, changes: [String: Bool])
    case setGSOLimits(device: InterfaceIndex, limits: GSOLimits)
    case setLinkMode(device: InterfaceIndex, mode: LinkMode)
    /// IFLA_OPERSTATE: only UP and DORMANT can be asked for, and only while the device is up.
    case setOperState(device: InterfaceIndex, state: OperState)

    public var device: InterfaceIndex {
        switch self {
        case .deleteRedirect(let d, _), .addRedirect(let d, _, _, _), .addClsact(let d), .deleteClsact(let d),
             .setAdminState(let d, _), .setAddrGenMode(let d, _), .setMTU(let d, _), .setFlag(let d, _, _),
             .setFeatures(let d, _), .setGSOLimits(let d, _), .setLinkMode(let d, _), .setOperState(let d, _):
            return d
        }
    }

    /// "tx-tcp-segmentation off, rx-checksum on", sorted so logs are stable.
    public static func describe(_ changes: [String: Bool]) -> String {
        changes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value ? "on" : "off")" }.joined(separator: ", ")
    }
}
