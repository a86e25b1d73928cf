/// A restorable setting as operators read it: a row of the change report (`hnagent status`)
/// and lines of the state file. Both keep the order they have always had, which is not the
/// restore's: the ranks below say where a setting goes.

/// One row of "what the agent changed on this NIC".
public struct SettingRow: Hashable, Sendable {
    public var setting: String
    public var original: String
    /// nil when the device's current value is not known.
    public var current: String?
}

/// A state-file line that names a setting but does not parse; the codec adds the line number.
public struct SettingLineError: Error, Equatable, Sendable {
    public let message: String
}

extension RestorableSetting {
    /// Place in the change report (flags and features then by name).
    var reportRank: Int {
        switch self {
        case .mtu: return 0
        case .adminState: return 1
        case .flag: return 2
        case .features: return 3
        case .gsoLimits: return 4
        case .linkMode: return 5
        case .addrGenMode: return 6
        case .clsact: return 7
        }
    }

    /// Place in a device's block of the state file (flags and features then by name).
    var stateFileRank: Int {
        switch self {
        case .mtu: return 0
        case .adminState: return 1
        case .addrGenMode: return 2
        case .flag: return 3
        case .features: return 4
        case .gsoLimits: return 5
        case .linkMode: return 6
        case .clsact: return 7
        }
    }

    /// Ties between flags are broken by name.
    var tieBreak: String {
        if case .flag(let flag) = self { return flag.rawValue }
        return ""
    }

    /// The change report's rows for a saved original, next to the device's value now.
    func rows(original: SettingValue, link: LinkSnapshot?) -> [SettingRow] {
        func onOff(_ on: Bool) -> String { on ? "on" : "off" }
        func upDown(_ up: Bool) -> String { up ? "up" : "down" }
        switch (self, original) {
        case (.mtu, .mtu(let mtu)):
            return [SettingRow(setting: "mtu", original: "\(mtu)", current: link.map { "\($0.mtu)" })]
        case (.adminState, .on(let up)):
            return [SettingRow(setting: "admin state", original: upDown(up), current: link.map { upDown($0.isAdminUp) })]
        case (.flag(let flag), .on(let on)):
            return [SettingRow(setting: flag.rawValue, original: onOff(on),
                               current: link.map { onOff($0.flags.contains(flag.linkFlag)) })]
        case (.features, .features(let saved)):
            // The agent only flips features, so the current value is the other one.
            return saved.sorted { $0.key < $1.key }.map {
                SettingRow(setting: "feature \($0.key)", original: onOff($0.value), current: onOff(!$0.value))
            }
        case (.gsoLimits, .gsoLimits(let limits)):
            return [SettingRow(setting: "gso limits", original: "\(limits)", current: link?.gso.map { "\($0)" })]
        case (.linkMode, .linkMode(let mode)):
            return [SettingRow(setting: "link mode", original: "\(mode)", current: link.map { "\($0.linkMode)" })]
        case (.addrGenMode, .addrGenMode(let mode)):
            return [SettingRow(setting: "addrgenmode", original: "\(mode)", current: link?.addrGenMode.map { "\($0)" })]
        case (.clsact, _):
            return [SettingRow(setting: "clsact qdisc", original: "none", current: "added by hnagent")]
        default:
            return []
        }
    }

    /// The state file's lines for a saved original ("mtu 1500", "flag promisc 0", ...).
    func stateFileLines(_ original: SettingValue) -> [String] {
        func bit(_ on: Bool) -> String { on ? "1" : "0" }
        switch (self, original) {
        case (.mtu, .mtu(let mtu)): return ["mtu \(mtu)"]
        case (.adminState, .on(let up)): return ["admin-up \(bit(up))"]
        case (.addrGenMode, .addrGenMode(let mode)): return ["addrgenmode \(mode.rawValue)"]
        case (.flag(let flag), .on(let on)): return ["flag \(flag.rawValue) \(bit(on))"]
        case (.features, .features(let saved)):
            return saved.sorted { $0.key < $1.key }.map { "feature \($0.key) \(bit($0.value))" }
        case (.gsoLimits, .gsoLimits(let gso)):
            return ["gso \(gso.maxSize) \(gso.maxSegs) \(gso.ipv4MaxSize.map(String.init) ?? "-")"]
        case (.linkMode, .linkMode(let mode)): return ["linkmode \(mode.rawValue)"]
        case (.clsact, _): return ["clsact"]
        default: return []
        }
    }

    /// One state-file line read back; nil when it names no setting or has the wrong number of
    /// words. Features come one name per line: the caller merges them.
    static func parse(stateFileLine words: [String]) throws -> (RestorableSetting, SettingValue)? {
        func int<T: FixedWidthInteger>(_ i: Int, _: T.Type = T.self) throws -> T {
            guard i < words.count, let value = T(words[i]) else {
                throw SettingLineError(message: "\(words[0]): expected a number at field \(i + 1)")
            }
            return value
        }
        func bool(_ i: Int) throws -> Bool {
            let value: UInt8 = try int(i)
            guard value <= 1 else { throw SettingLineError(message: "\(words[0]): expected 0 or 1") }
            return value == 1
        }
        switch (words.first ?? "", words.count) {
        case ("mtu", 2): return (.mtu, .mtu(try int(1)))
        case ("admin-up", 2): return (.adminState, .on(try bool(1)))
        case ("addrgenmode", 2):
            guard let mode = AddrGenMode(rawValue: try int(1)) else { throw SettingLineError(message: "addrgenmode: unknown mode") }
            return (.addrGenMode, .addrGenMode(mode))
        case ("flag", 3):
            guard let flag = PassThroughFlag(rawValue: words[1]) else {
                throw SettingLineError(message: "flag: unknown flag \(words[1])")
            }
            return (.flag(flag), .on(try bool(2)))
        case ("feature", 3):
            guard words[1].count <= 64 else { throw SettingLineError(message: "feature: name too long") }
            return (.features, .features([words[1]: try bool(2)]))
        case ("gso", 4):
            return (.gsoLimits, .gsoLimits(GSOLimits(maxSize: try int(1), maxSegs: try int(2),
                                                     ipv4MaxSize: words[3] == "-" ? nil : try int(3))))
        case ("linkmode", 2):
            guard let mode = LinkMode(rawValue: try int(1)) else { throw SettingLineError(message: "linkmode: unknown mode") }
            return (.linkMode, .linkMode(mode))
        case ("clsact", 1): return (.clsact, .none)
        default: return nil
        }
    }
}

extension SavedOriginals {
    /// The change report's rows for `device`, next to its link now.
    public func reportRows(of device: InterfaceIndex, link: LinkSnapshot?) -> [SettingRow] {
        settings(of: device).sorted { ($0.setting.reportRank, $0.setting.tieBreak) < ($1.setting.reportRank, $1.setting.tieBreak) }
            .flatMap { $0.setting.rows(original: $0.original, link: link) }
    }

    /// The state file's lines for `device` (after its "device" and "role" lines).
    public func stateFileLines(of device: InterfaceIndex) -> [String] {
        settings(of: device).sorted { ($0.setting.stateFileRank, $0.setting.tieBreak) < ($1.setting.stateFileRank, $1.setting.tieBreak) }
            .flatMap { $0.setting.stateFileLines($0.original) }
    }

    /// Merges one state-file line into `device`'s originals. False when the line names no
    /// setting or has the wrong number of words; throws `SettingLineError` when it names one
    /// but does not parse.
    public mutating func load(stateFileLine words: [String], on device: InterfaceIndex) throws -> Bool {
        guard let (setting, value) = try RestorableSetting.parse(stateFileLine: words) else { return false }
        load(setting, value, on: device)
        return true
    }
}
