/// A classifying filter on a clsact hook, as the kernel lists it: enough to tell whether it runs
/// before the agent's redirect. u32's containers (chain heads, hash tables) are left out: they
/// classify nothing by themselves.
public struct HookFilter: Hashable, Sendable {
    public var priority: UInt16
    /// tcm_handle: u32's "htid:hash:node", matchall's own number.
    public var handle: UInt32
    public var kind: String
    /// Only chain 0 runs unless an action jumps elsewhere.
    public var chain: UInt32
    /// Carries the agent's priority and cookie.
    public var isAgents: Bool

    public init(priority: UInt16, handle: UInt32, kind: String, chain: UInt32 = 0, isAgents: Bool = false) {
        self.priority = priority
        self.handle = handle
        self.kind = kind
        self.chain = chain
        self.isAgents = isAgents
    }

    /// The handle as `tc filter show` prints it: "801::800" for u32, "0x1" otherwise.
    public var handleText: String {
        guard kind == "u32" else { return "0x" + String(handle, radix: 16) }
        let htid = handle >> 20, hash = (handle >> 12) & 0xFF, node = handle & 0xFFF
        return (htid == 0 ? "" : String(htid, radix: 16)) + ":" + (hash == 0 ? "" : String(hash, radix: 16)) + ":"
            + (node == 0 ? "" : String(node, radix: 16))
    }
}

/// Another tool's filter that the kernel evaluates before the agent's redirect on one hook. If it
/// matches and its action ends classification (pass, drop, redirect, or none with a classid),
/// the redirect never runs: TX stays on the synthetic path (or VF RX is not relayed) although
/// the redirect is in place. The agent says so; it never moves or deletes the other filter.
public struct RelayShadow: Hashable, Sendable {
    public var device: InterfaceIndex
    public var hook: Hook
    public var filter: HookFilter

    public init(device: InterfaceIndex, hook: Hook, filter: HookFilter) {
        self.device = device
        self.hook = hook
        self.filter = filter
    }

    /// The first filter of another tool evaluated before the agent's on one hook, from the
    /// kernel's listing of that hook; nil when none is, or the agent has no filter there. The
    /// kernel runs chain 0 by ascending priority, and within one priority in the order it lists
    /// (u32: by hash table and node; checked on kernel 6.18, see README "The relay's classifier").
    public static func first(in listed: [HookFilter]) -> HookFilter? {
        let chain = listed.filter { $0.chain == 0 }
        guard let ours = chain.firstIndex(where: \.isAgents) else { return nil }
        let priority = chain[ours].priority
        return chain.enumerated().first { position, filter in
            !filter.isAgents && (filter.priority < priority || (filter.priority == priority && position < ours))
        }?.element
    }

    /// A pair's shadowed hooks: hn's egress (TX) and the VF's ingress (RX), in that order.
    public static func of(synthetic: InterfaceIndex, vf: InterfaceIndex?,
                          observed: [InterfaceIndex: RelayObservation]) -> [RelayShadow] {
        var shadows: [RelayShadow] = []
        for (device, hook) in [(synthetic, Hook.egress), (vf, Hook.ingress)] {
            guard let device, let listed = observed[device]?.listed[hook], let filter = first(in: listed) else { continue }
            shadows.append(RelayShadow(device: device, hook: hook, filter: filter))
        }
        return shadows
    }

    /// "TX" for hn's egress, "RX" for the VF's ingress: what stops being relayed.
    public var direction: String { hook == .egress ? "TX" : "RX" }
}

extension RelayShadow {
    /// "u32 filter prio 100 handle 801::800 on hn0 egress"
    public func filterText(deviceName: String) -> String {
        "\(filter.kind) filter prio \(filter.priority) handle \(filter.handleText) on \(deviceName) \(hook)"
    }

    /// The log's warning: what runs first, what it costs, what to do (the agent changes nothing).
    public func warning(deviceName: String) -> String {
        "another tool's \(filterText(deviceName: deviceName)) runs before hnagent's redirect (prio \(RelayPriority.value)): "
            + "if it matches, \(direction) is not relayed through the VF although the pair shows steering. hnagent leaves it alone: "
            + "give it a priority above \(RelayPriority.value) or remove it (see `tc filter show dev \(deviceName) \(hook)`)"
    }
}

/// The tc priority ("pref") of the agent's relay filters: 0x4e48, ASCII "NH". Filters of other
/// tools at a lower number run first (`RelayShadow`).
public enum RelayPriority {
    public static let value: UInt16 = 20040
}
