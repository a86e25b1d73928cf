/// An action in words, the one rendering every reader uses: the log ("set mtu 1500 on
/// vf0(3)"), the timeline's policy entries (without the verb) and `Action.description`
/// (devices by ifindex, for tests and debugging).
public struct ActionPhrase: Hashable, Sendable {
    /// "set", "add" or "delete".
    public var verb: String
    /// What changes and where: "mtu 1500 on vf0(3)".
    public var change: String
    /// The change names the device first ("vf0(3) up"): without the verb it would not read.
    public var startsWithDevice = false

    /// The whole phrase, for the log and failures: "set mtu 1500 on vf0(3)".
    public var line: String { "\(verb) \(change)" }
    /// For a timeline entry that already says it is a change: "mtu 1500 on vf0(3)", "set vf0(3) up".
    public var detail: String { startsWithDevice ? line : change }
}

extension Action: CustomStringConvertible {
    /// This action in words, each device named by `name`.
    public func phrase(naming name: (InterfaceIndex) -> String) -> ActionPhrase {
        switch self {
        case .deleteRedirect(let d, let hook): return ActionPhrase(verb: "delete", change: "\(hook) redirect on \(name(d))")
        case .addRedirect(let d, let hook, let kind, let t):
            return ActionPhrase(verb: "add", change: "\(hook.rawValue) \(kind.rawValue) on \(name(d)) to \(name(t))")
        case .addClsact(let d): return ActionPhrase(verb: "add", change: "clsact on \(name(d))")
        case .deleteClsact(let d): return ActionPhrase(verb: "delete", change: "clsact on \(name(d))")
        case .setAdminState(let d, let up):
            return ActionPhrase(verb: "set", change: "\(name(d)) \(up ? "up" : "down")", startsWithDevice: true)
        case .setAddrGenMode(let d, let mode): return ActionPhrase(verb: "set", change: "addrgenmode \(mode) on \(name(d))")
        case .setMTU(let d, let mtu): return ActionPhrase(verb: "set", change: "mtu \(mtu) on \(name(d))")
        case .setFlag(let d, let flag, let on):
            return ActionPhrase(verb: "set", change: "\(flag.rawValue) \(on ? "on" : "off") on \(name(d))")
        case .setFeatures(let d, let changes):
            return ActionPhrase(verb: "set", change: "features \(Action.describe(changes)) on \(name(d))")
        case .setGSOLimits(let d, let limits): return ActionPhrase(verb: "set", change: "\(limits) on \(name(d))")
        case .setLinkMode(let d, let mode): return ActionPhrase(verb: "set", change: "linkmode \(mode) on \(name(d))")
        case .setOperState(let d, let state): return ActionPhrase(verb: "set", change: "operstate \(state) on \(name(d))")
        }
    }

    public var description: String { phrase { "ifindex \($0)" }.line }
}
