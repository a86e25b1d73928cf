/// What the agent changed on each device and what it was before, so that detach restores
/// exactly that and nothing else.
public struct SavedOriginals: Hashable, Sendable {
    /// IPv6 address generation mode before the agent quietened the VF.
    public var addrGenMode: [InterfaceIndex: AddrGenMode] = [:]
    /// Admin state before the agent first changed it.
    public var adminUp: [InterfaceIndex: Bool] = [:]
    /// Devices whose clsact qdisc the agent created (others' qdiscs are left alone).
    public var createdClsact: Set<InterfaceIndex> = []
    /// MTU before the agent made the VF follow the synthetic NIC.
    public var mtu: [InterfaceIndex: UInt32] = [:]
    /// Promiscuous / allmulti state before the agent mirrored the synthetic NIC's.
    public var flags: [InterfaceIndex: [PassThroughFlag: Bool]] = [:]
    /// Offload features (wanted state, by name) before the agent changed them.
    public var features: [InterfaceIndex: [String: Bool]] = [:]
    /// Segmentation limits before the agent lowered them.
    public var gso: [InterfaceIndex: GSOLimits] = [:]
    /// Link mode before the agent made the synthetic NIC's operational state follow the VF.
    public var linkMode: [InterfaceIndex: LinkMode] = [:]

    public init() {}

    public var devices: Set<InterfaceIndex> {
        Set(addrGenMode.keys).union(adminUp.keys).union(createdClsact).union(mtu.keys).union(flags.keys)
            .union(features.keys).union(gso.keys).union(linkMode.keys)
    }

    public func holds(_ device: InterfaceIndex) -> Bool { devices.contains(device) }

    /// Records the original of whatever `action` is about to change, unless recorded already.
    /// Called before the action is performed.
    public mutating func record(_ action: Action, current link: LinkSnapshot?, features current: OffloadFeatures? = nil) {
        switch action {
        case .setAddrGenMode(let device, _):
            if addrGenMode[device] == nil { addrGenMode[device] = link?.addrGenMode ?? .eui64 }
        case .setAdminState(let device, _):
            if adminUp[device] == nil, let link { adminUp[device] = link.isAdminUp }
        case .addClsact(let device):
            createdClsact.insert(device)
        case .deleteClsact(let device):
            createdClsact.remove(device)
        case .setMTU(let device, _):
            if mtu[device] == nil, let link { mtu[device] = link.mtu }
        case .setFlag(let device, let flag, _):
            if flags[device]?[flag] == nil, let link { flags[device, default: [:]][flag] = link.flags.contains(flag.linkFlag) }
        case .setFeatures(let device, let changes):
            for name in changes.keys where features[device]?[name] == nil {
                // Without a reading, a feature switched off was on (the planner only turns off active ones).
                features[device, default: [:]][name] = current.map { $0.wanted.contains(name) } ?? !(changes[name] ?? false)
            }
        case .setGSOLimits(let device, _):
            if gso[device] == nil, let limits = link?.gso { gso[device] = limits }
        case .setLinkMode(let device, _):
            if linkMode[device] == nil, let link { linkMode[device] = link.linkMode }
        case .deleteRedirect, .addRedirect, .setOperState:
            break
        }
    }

    /// Takes every original of `device` from `other` (a state file read at start).
    public mutating func adopt(_ device: InterfaceIndex, from other: SavedOriginals) {
        addrGenMode[device] = other.addrGenMode[device]
        adminUp[device] = other.adminUp[device]
        if other.createdClsact.contains(device) { createdClsact.insert(device) }
        mtu[device] = other.mtu[device]
        flags[device] = other.flags[device]
        features[device] = other.features[device]
        gso[device] = other.gso[device]
        linkMode[device] = other.linkMode[device]
    }

    /// Forgets a device that has been restored or no longer exists. `keepingClsact`: except
    /// that the agent created its clsact (kept while the device is paired, removed at the end).
    public mutating func forget(_ device: InterfaceIndex, keepingClsact: Bool = false) {
        addrGenMode[device] = nil
        adminUp[device] = nil
        if !keepingClsact { createdClsact.remove(device) }
        mtu[device] = nil
        flags[device] = nil
        features[device] = nil
        gso[device] = nil
        linkMode[device] = nil
    }
}
