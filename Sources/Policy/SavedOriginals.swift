/// What the agent changed on each device and what it was before, so that detach restores
/// exactly that and nothing else: per device, per setting (`RestorableSetting`, which knows
/// everything about each one).
public struct SavedOriginals: Hashable, Sendable {
    private var saved: [InterfaceIndex: [RestorableSetting: SettingValue]] = [:]

    public init() {}

    public var devices: Set<InterfaceIndex> { Set(saved.keys) }

    public func holds(_ device: InterfaceIndex) -> Bool { saved[device] != nil }

    /// The original of one setting of `device`; setting nil forgets it.
    public subscript(device: InterfaceIndex, setting: RestorableSetting) -> SettingValue? {
        get { saved[device]?[setting] }
        set {
            saved[device, default: [:]][setting] = newValue
            if saved[device]?.isEmpty == true { saved[device] = nil }
        }
    }

    /// Every saved original of `device`, in the order they are restored.
    public func settings(of device: InterfaceIndex) -> [(setting: RestorableSetting, original: SettingValue)] {
        guard let values = saved[device] else { return [] }
        return RestorableSetting.allCases.compactMap { setting in values[setting].map { (setting, $0) } }
    }

    /// Merges one original read from a state file (features come one name per line; a later
    /// line wins).
    mutating func load(_ setting: RestorableSetting, _ value: SettingValue, on device: InterfaceIndex) {
        self[device, setting] = self[device, setting].map { value.adding($0) } ?? value
    }

    /// Records the original of whatever `action` is about to change, unless recorded already.
    /// Called before the action is performed.
    public mutating func record(_ action: Action, current link: LinkSnapshot?, features current: OffloadFeatures? = nil) {
        switch RestorableSetting.update(before: action, link: link, offloads: current) {
        case .save(let setting, let original):
            self[action.device, setting] = self[action.device, setting].map { $0.adding(original) } ?? original
        case .drop(let setting):
            self[action.device, setting] = nil
        case nil:
            break
        }
    }

    /// Takes every original of `device` from `other` (a state file read at start).
    public mutating func adopt(_ device: InterfaceIndex, from other: SavedOriginals) {
        let clsact = saved[device]?[.clsact]
        saved[device] = other.saved[device]
        if let clsact, self[device, .clsact] == nil { self[device, .clsact] = clsact }
    }

    /// Forgets a device that has been restored or no longer exists. `keepingClsact`: except
    /// that the agent created its clsact (kept while the device is paired, removed at the end).
    public mutating func forget(_ device: InterfaceIndex, keepingClsact: Bool = false) {
        let clsact = keepingClsact ? saved[device]?[.clsact] : nil
        saved[device] = nil
        self[device, .clsact] = clsact
    }

    // MARK: - What the pair policy reads back

    /// Offload features the agent changed on `device` and their originals (nil: none).
    public func features(of device: InterfaceIndex) -> [String: Bool]? {
        guard case .features(let features) = saved[device]?[.features] else { return nil }
        return features
    }

    /// Segmentation limits before the agent lowered them.
    public func gsoLimits(of device: InterfaceIndex) -> GSOLimits? {
        guard case .gsoLimits(let limits) = saved[device]?[.gsoLimits] else { return nil }
        return limits
    }

    /// The devices with an original of `setting` saved.
    public func devices(saving setting: RestorableSetting) -> Set<InterfaceIndex> {
        Set(saved.compactMap { $0.value[setting] == nil ? nil : $0.key })
    }
}
