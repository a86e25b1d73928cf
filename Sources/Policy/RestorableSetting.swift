/// A setting the agent changes on a device and gives back when it lets go of it. Everything
/// about one setting is here: which action changes it, what its original was, how it is given
/// back, how operators see it and how the state file spells it (RestorableSetting+Text.swift).
/// `SavedOriginals`, `RelayPlanner.release`, the state file and the change report only iterate.
///
/// `allCases` is the order of the restore: admin state before address generation mode, the
/// link mode after everything it may depend on, the clsact last (its filters are gone by then).
public enum RestorableSetting: Hashable, Sendable, CaseIterable {
    case adminState
    /// IPv6 address generation mode (the agent quietens the VF).
    case addrGenMode
    case mtu
    /// Promiscuous / allmulti, mirrored from the synthetic NIC.
    case flag(PassThroughFlag)
    /// Offload features, by name (only those the agent changed).
    case features
    case gsoLimits
    /// The agent makes the synthetic NIC's operational state follow the VF (link mode dormant).
    case linkMode
    /// A clsact qdisc the agent created (others' are left alone); its original is "none".
    case clsact

    public static var allCases: [RestorableSetting] {
        [.adminState, .addrGenMode, .mtu] + PassThroughFlag.allCases.map(Self.flag) + [.features, .gsoLimits, .linkMode, .clsact]
    }
}

/// The value a setting had, as saved. Which case belongs to which setting is the setting's
/// business (`RestorableSetting.original(before:link:offloads:)`).
public enum SettingValue: Hashable, Sendable {
    /// Admin state (up), a flag (on).
    case on(Bool)
    case mtu(UInt32)
    case addrGenMode(AddrGenMode)
    /// Feature name to wanted state.
    case features([String: Bool])
    case gsoLimits(GSOLimits)
    case linkMode(LinkMode)
    /// There was none (a clsact the agent created).
    case none

    /// Two saves of one setting: `fresh` fills in only what `self` does not hold (features are
    /// saved name by name; every other setting keeps its first original).
    func adding(_ fresh: SettingValue) -> SettingValue {
        guard case .features(let saved) = self, case .features(let more) = fresh else { return self }
        return .features(saved.merging(more) { first, _ in first })
    }
}

/// What an action does to the saved originals.
enum OriginalsUpdate {
    /// Save this original unless one is saved already.
    case save(RestorableSetting, SettingValue)
    /// The action gave the setting back for good (the agent's clsact deleted).
    case drop(RestorableSetting)
}

/// What a restore looks at: the device now.
public struct DeviceNow {
    public var link: LinkSnapshot
    public var relay: RelayObservation
    public var offloads: OffloadFeatures?
    /// The agent's clsact stays (the device is still paired).
    public var keepClsact: Bool
}

extension RestorableSetting {
    /// The original `action` is about to change on its device, read from the device now; nil
    /// when the action changes nothing restorable or the reading is missing.
    static func update(before action: Action, link: LinkSnapshot?, offloads: OffloadFeatures?) -> OriginalsUpdate? {
        switch action {
        case .setAdminState: return link.map { .save(.adminState, .on($0.isAdminUp)) }
        // Unknown: the kernel's default.
        case .setAddrGenMode: return .save(.addrGenMode, .addrGenMode(link?.addrGenMode ?? .eui64))
        case .setMTU: return link.map { .save(.mtu, .mtu($0.mtu)) }
        case .setFlag(_, let flag, _): return link.map { .save(.flag(flag), .on($0.flags.contains(flag.linkFlag))) }
        case .setFeatures(_, let changes):
            // Without a reading, a feature switched off was on (the planner only turns off active ones).
            var before: [String: Bool] = [:]
            for (name, on) in changes { before[name] = offloads.map { $0.wanted.contains(name) } ?? !on }
            return .save(.features, .features(before))
        case .setGSOLimits: return link?.gso.map { .save(.gsoLimits, .gsoLimits($0)) }
        case .setLinkMode: return link.map { .save(.linkMode, .linkMode($0.linkMode)) }
        case .addClsact: return .save(.clsact, .none)
        case .deleteClsact: return .drop(.clsact)
        case .deleteRedirect, .addRedirect, .setOperState: return nil
        }
    }

    /// The actions that give `original` back on `device`, none when it already has it.
    func restore(_ original: SettingValue, on device: InterfaceIndex, now: DeviceNow) -> [Action] {
        let link = now.link
        switch (self, original) {
        case (.adminState, .on(let wasUp)):
            // A device that now has a master belongs to it: its admin state is left alone.
            return wasUp != link.isAdminUp && link.master == nil ? [.setAdminState(device: device, up: wasUp)] : []
        case (.addrGenMode, .addrGenMode(let mode)):
            return mode != link.addrGenMode ? [.setAddrGenMode(device: device, mode: mode)] : []
        case (.mtu, .mtu(let mtu)):
            return mtu != link.mtu ? [.setMTU(device: device, mtu: mtu)] : []
        case (.flag(let flag), .on(let on)):
            return on != link.flags.contains(flag.linkFlag) ? [.setFlag(device: device, flag: flag, on: on)] : []
        case (.features, .features(let saved)):
            guard let current = now.offloads else { return [] }
            let changes = OffloadPolicy.restore(synthetic: current, originals: saved)
            return changes.isEmpty ? [] : [.setFeatures(device: device, changes: changes)]
        case (.gsoLimits, .gsoLimits(let limits)):
            guard let current = link.gso, limits != current else { return [] }
            return [.setGSOLimits(device: device, limits: limits)]
        case (.linkMode, .linkMode(let mode)):
            var actions: [Action] = []
            // UP first: with the default link mode again the kernel would not recompute it.
            if link.operState == .dormant, link.isAdminUp { actions.append(.setOperState(device: device, state: .up)) }
            if mode != link.linkMode { actions.append(.setLinkMode(device: device, mode: mode)) }
            return actions
        case (.clsact, _):
            return !now.keepClsact && now.relay.hasClsact && now.relay.foreignFilters == 0 ? [.deleteClsact(device: device)] : []
        default:
            return [] // a value saved under the wrong setting is never acted on
        }
    }
}
