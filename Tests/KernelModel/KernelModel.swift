import Glibc
import Policy

/// The one in-memory model of the kernel that unit tests use (PolicyTests drive it directly,
/// AgentTests' FakeKernel puts it behind `KernelPort`). Actions change links and tc state the
/// way Linux does, as seen through NetlinkKernel (which treats "already so" errors as success):
/// - setAdminState toggles IFF_UP; carrier (IFF_LOWER_UP) follows on devices in `carrierOnUp`
///   and is never reported while a device is down;
/// - setOperState works as set_operstate(): only between UP and DORMANT (or from UNKNOWN);
/// - setMTU above a device's `maximumMTU` fails with EINVAL, as on a real NIC;
/// - only changeable offload features change;
/// - clsact holds the filters: deleting it deletes them; a filter needs a clsact and a target;
/// - removing a link removes its qdiscs, but a redirect on another device keeps pointing at it.
public struct KernelModel: Sendable {
    public var links: [InterfaceIndex: LinkSnapshot] = [:]
    public var relay: [InterfaceIndex: RelayObservation] = [:]
    public var carrierOnUp: Set<InterfaceIndex> = []
    /// Largest MTU each device accepts (65535 when not given).
    public var maximumMTU: [InterfaceIndex: UInt32] = [:]
    /// Offload features by device; devices without an entry report none (as without ethtool netlink).
    public var offloads: [InterfaceIndex: OffloadFeatures] = [:]
    /// Filters added on a hook that already had the agent's filter (the kernel would hold two).
    public private(set) var duplicateFilters = 0

    /// What the kernel answers to a request it refuses.
    public struct Refusal: Error, Equatable, Sendable {
        public var errno: Int32
        /// The extended ACK text, when the kernel gives one.
        public var message: String?
    }

    public init(links: [InterfaceIndex: LinkSnapshot] = [:], relay: [InterfaceIndex: RelayObservation] = [:],
                carrierOnUp: Set<InterfaceIndex> = [], offloads: [InterfaceIndex: OffloadFeatures] = [:]) {
        self.relay = relay
        self.carrierOnUp = carrierOnUp
        self.offloads = offloads
        for link in links.values { add(link) }
    }

    /// A link appears (carrier is never reported on a device that is down).
    public mutating func add(_ link: LinkSnapshot) {
        var link = link
        if !link.isAdminUp { link.flags.remove(.lowerUp) }
        links[link.index] = link
    }

    public mutating func remove(_ index: InterfaceIndex) {
        links[index] = nil
        relay[index] = nil
    }

    public mutating func apply(_ action: Action) throws {
        let device = action.device
        let noDevice = Refusal(errno: ENODEV)
        switch action {
        case .setAdminState(_, let up):
            guard links[device] != nil else { throw noDevice }
            if up {
                links[device]!.flags.insert(.up)
                if carrierOnUp.contains(device) { links[device]!.flags.insert(.lowerUp) }
            } else {
                links[device]!.flags.subtract([.up, .lowerUp])
            }
        case .setMTU(_, let mtu):
            guard links[device] != nil else { throw noDevice }
            guard mtu <= maximumMTU[device, default: 65_535] else {
                throw Refusal(errno: EINVAL, message: "MTU greater than device maximum")
            }
            links[device]!.mtu = mtu
        case .setFlag(_, let flag, let on):
            guard links[device] != nil else { throw noDevice }
            if on { links[device]!.flags.insert(flag.linkFlag) } else { links[device]!.flags.remove(flag.linkFlag) }
        case .setAddrGenMode(_, let mode):
            guard links[device] != nil else { throw noDevice }
            links[device]!.addrGenMode = mode
        case .addClsact:
            guard links[device] != nil else { throw noDevice }
            relay[device, default: .absent].hasClsact = true                   // EEXIST: already so
        case .deleteClsact:
            if links[device] != nil { relay[device] = .absent }                // ENOENT/ENODEV: already so
        case .addRedirect(_, let hook, let kind, let target):
            guard links[device] != nil, links[target] != nil else { throw noDevice }
            guard relay[device]?.hasClsact == true else { throw Refusal(errno: EINVAL, message: "Parent Qdisc doesn't exists") }
            if relay[device]?.filter(on: hook) != nil { duplicateFilters += 1 }
            let filter = RelayFilter(kind: kind, target: target)
            if hook == .ingress { relay[device]!.ingress = filter } else { relay[device]!.egress = filter }
        case .deleteRedirect(_, let hook):
            if hook == .ingress { relay[device]?.ingress = nil } else { relay[device]?.egress = nil }
        case .setFeatures(_, let changes):
            guard links[device] != nil, offloads[device] != nil else { throw noDevice }
            for (name, on) in changes where offloads[device]!.changeable.contains(name) {
                if on { offloads[device]!.wanted.insert(name); offloads[device]!.active.insert(name) }
                else { offloads[device]!.wanted.remove(name); offloads[device]!.active.remove(name) }
            }
        case .setGSOLimits(_, let limits):
            guard links[device] != nil else { throw noDevice }
            links[device]!.gso = limits
        case .setLinkMode(_, let mode):
            guard links[device] != nil else { throw noDevice }
            links[device]!.linkMode = mode
        case .setOperState(_, let state):
            guard links[device] != nil else { throw noDevice }
            if let current = links[device]?.operState, [.up, .dormant, .unknown].contains(current) {
                links[device]!.operState = state
            }
        }
    }

    /// `packets` of `size` bytes each way through a steering pair, counted where Linux counts
    /// them: the VF's link counters, the VF's ingress filter (without the Ethernet header) and
    /// the synthetic NIC's egress filter. A filter that is not there counts nothing.
    public mutating func relayTraffic(synthetic hn: InterfaceIndex, vf: InterfaceIndex, rx: UInt64, tx: UInt64, size: UInt64) {
        let before = links[vf]?.counters ?? TrafficCounters()
        links[vf]?.counters = before + TrafficCounters(rxPackets: rx, txPackets: tx, rxBytes: rx * size, txBytes: tx * size)
        if relay[vf]?.ingress?.target == hn {
            relay[vf]!.ingress!.counters = relay[vf]!.ingress!.counters + RelayCounters(packets: rx, bytes: rx * (size - 14))
        }
        if relay[hn]?.egress?.target == vf {
            relay[hn]!.egress!.counters = relay[hn]!.egress!.counters + RelayCounters(packets: tx, bytes: tx * size)
        }
    }
}
