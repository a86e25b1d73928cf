import NetlinkCodecs
import Policy

/// The typed requests the reconciler makes of the kernel. `NetlinkKernel` speaks netlink;
/// tests use an in-memory fake.
public protocol KernelPort: AnyObject {
    /// Every link in this namespace. Throws `DumpInterrupted` when the kernel says to retry.
    func dumpLinks() throws -> [LinkSnapshot]
    /// Every link's counters (IFLA_STATS64), without the rest of the link.
    func linkCounters() throws -> [InterfaceIndex: TrafficCounters]
    /// One link, fresh from the kernel; nil if it no longer exists.
    func link(_ index: InterfaceIndex) throws -> LinkSnapshot?
    /// The agent's relay and the clsact state of each device asked about.
    func observeRelay(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation]
    /// The relay's counters on `devices` in one read, as `observeRelay` would report them, while
    /// the last `observeRelay` still vouches for what else it found; nil when only `observeRelay`
    /// can tell.
    func relayCounters(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation]?
    /// Offload features of a device (ethtool netlink); nil if it is gone or the kernel cannot say.
    func offloads(of device: InterfaceIndex) throws -> OffloadFeatures?
    /// Link-layer multicast groups of every device in this namespace.
    func multicastGroups() throws -> [InterfaceIndex: [MACAddress]]
    /// Every IPv4/IPv6 address of `device`.
    func addresses(of device: InterfaceIndex) throws -> [InterfaceAddress]
    /// Performs one action; a failure names the request and its devices.
    func perform(_ action: Action) throws
}

/// Finds a link's driver name (ethtool ETHTOOL_GDRVINFO), so synthetic NICs can be found by
/// driver when no name patterns are given.
public protocol DriverLookup {
    func driver(of interfaceName: String) -> String?
}

extension KernelPort {
    /// From a full link dump, for a kernel port without a lighter read.
    public func linkCounters() throws -> [InterfaceIndex: TrafficCounters] {
        var counters: [InterfaceIndex: TrafficCounters] = [:]
        for link in try dumpLinks() { counters[link.index] = link.counters }
        return counters
    }

    /// A kernel port without a cheaper read: counters come with `observeRelay`.
    public func relayCounters(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation]? { nil }
}
