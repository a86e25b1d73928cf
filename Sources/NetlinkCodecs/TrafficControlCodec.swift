import Netlink
import Policy

/// struct tcmsg (linux/rtnetlink.h), 20 bytes.
struct TrafficControlHeader {
    var family: UInt8 = AF.unspec
    var pad1: UInt8 = 0
    var pad2: UInt16 = 0
    var ifindex: Int32 = 0
    var handle: UInt32 = 0
    var parent: UInt32 = 0
    var info: UInt32 = 0
}

/// struct tc_mirred (linux/tc_act/tc_mirred.h): tc_gen followed by eaction and ifindex, 28 bytes.
struct MirredParameters {
    var index: UInt32 = 0
    var capab: UInt32 = 0
    var action: Int32 = Mirred.actionStolen
    var refcnt: Int32 = 0
    var bindcnt: Int32 = 0
    var eaction: Int32
    var ifindex: UInt32
}

/// How the agent marks its relay so it recognises its own filters and never touches others'.
public enum RelayIdentity {
    /// tc filter priority ("pref") of both relay filters: 0x4e48, ASCII "NH".
    public static let priority: UInt16 = RelayPriority.value
    /// TCA_ACT_COOKIE carried by the agent's mirred actions.
    public static let cookie: [UInt8] = Array("hnagent1".utf8)
}

/// One filter reported by a filter dump, reduced to what the agent needs.
public struct DumpedFilter: Equatable, Sendable {
    public var device: InterfaceIndex
    public var hook: Hook?
    public var priority: UInt16
    /// tcm_handle: for u32 "htid:hash:node" packed as 12:8:12 bits (800::800 = 0x80000800);
    /// for matchall the one filter's handle (1 unless asked otherwise).
    public var handle: UInt32 = 0
    /// The low 16 bits of tcm_info: the protocol in network byte order (0x0300 = ETH_P_ALL).
    public var protocolNumber: UInt16 = 0
    public var kind: String?
    /// TCA_CHAIN: the kernel runs chain 0; others only when an action jumps to them.
    public var chain: UInt32 = 0
    /// Present when the filter carries a mirred action.
    public var redirect: RelayFilter?
    public var cookie: [UInt8]?
    /// The mirred action's index (tc_mirred.index): an action dump finds the filter's counters by it.
    public var actionIndex: UInt32?

    /// The agent's own relay filter (priority and cookie both match).
    public var isOurs: Bool { priority == RelayIdentity.priority && cookie == RelayIdentity.cookie }
    /// A u32 chain head (handle 0) or hash table (node bits 0) classifies nothing by itself; at
    /// our priority it is the container of the agent's filter (another tool's filter there is a
    /// node with a handle of its own and counts as foreign).
    public var isOurHashTable: Bool { priority == RelayIdentity.priority && isU32Container }
    var isU32Container: Bool { kind == "u32" && handle & 0xFFF == 0 }
    /// The agent's relay filters that are deleted, each by its handle (see `ownFilterDeletion`).
    var isOurRedirect: Bool { isOurs && redirect != nil && !isU32Container }
    /// As `RelayShadow` reads a hook; nil for a u32 container, which classifies nothing.
    public var hookFilter: HookFilter? {
        guard !isU32Container else { return nil }
        return HookFilter(priority: priority, handle: handle, kind: kind ?? "?", chain: chain,
                          isAgents: isOurs && redirect != nil)
    }
}

/// What deleting the agent's redirect on one hook takes, decided from a dump of that hook.
public struct OwnFilterDeletion: Equatable {
    /// The agent's filters, each deleted by handle, kind and priority.
    public var filters: [DumpedFilter]
    /// Nothing else was at the agent's priority, but another u32 priority shares the hook: the
    /// kernel then keeps the emptied u32 container at 20040 (u32 frees it with its last filter
    /// only when no other u32 priority shares the hook's block), so the agent deletes it too.
    public var emptiesPriority: Bool

    public init(hook present: [DumpedFilter]) {
        filters = present.filter(\.isOurRedirect)
        let others = present.filter { $0.priority == RelayIdentity.priority && !$0.isOurRedirect && !$0.isU32Container }
        let otherU32Priority = present.contains { $0.kind == "u32" && $0.priority != RelayIdentity.priority }
        // A matchall priority holds one filter and goes with it: only u32 leaves a container.
        let deletesU32 = filters.contains { $0.kind == "u32" }
        emptiesPriority = deletesU32 && others.isEmpty && otherU32Priority
    }
}

/// One qdisc from a qdisc dump.
public struct DumpedQdisc: Equatable, Sendable {
    public var device: InterfaceIndex
    public var kind: String?
    public var parent: UInt32
    public var isClsact: Bool { kind == "clsact" && parent == TCHandle.clsact }
}

public enum TrafficControlCodec {
    static let headerSize = 20

    static func hookParent(_ hook: Hook) -> UInt32 {
        hook == .ingress ? TCHandle.ingressHook : TCHandle.egressHook
    }

    static var relayInfo: UInt32 {
        UInt32(RelayIdentity.priority) << 16 | UInt32(ethPAllNetworkOrder)
    }

    // MARK: qdiscs

    public static func addClsactRequest(device: InterfaceIndex, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newQdisc, flags: NLM.request | NLM.ack | NLM.create | NLM.excl,
                                     sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader(ifindex: device.rawValue, handle: TCHandle.clsactHandle,
                                                     parent: TCHandle.clsact))
        builder.put(TCA.kind, string: "clsact")
        return try builder.bytes()
    }

    public static func deleteClsactRequest(device: InterfaceIndex, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.delQdisc, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader(ifindex: device.rawValue, handle: TCHandle.clsactHandle,
                                                     parent: TCHandle.clsact))
        builder.put(TCA.kind, string: "clsact")
        return try builder.bytes()
    }

    public static func dumpQdiscsRequest(sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.getQdisc, flags: NLM.request | NLM.dump, sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader())
        return try builder.bytes()
    }

    public static func decodeQdisc(_ message: NetlinkMessage) throws -> DumpedQdisc? {
        guard message.type == RT.newQdisc else { return nil }
        let reader = ByteReader(message.payload)
        guard let ifindex = reader.i32(at: 4), let parent = reader.u32(at: 12) else {
            throw MalformedMessage("qdisc message shorter than tcmsg")
        }
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(headerSize))
        return DumpedQdisc(device: InterfaceIndex(ifindex), kind: attributes.first(TCA.kind)?.string, parent: parent)
    }

    // MARK: filters

    /// `tc filter add dev D {ingress|egress} prio 20040 protocol all u32 match u32 0 0
    ///  action mirred {ingress|egress} redirect dev T cookie "hnagent1"`, or with `matchall` in
    /// place of `u32 match u32 0 0`: the same action, cookie and priority.
    public static func addRedirectRequest(device: InterfaceIndex, hook: Hook, kind: RedirectKind,
                                          target: InterfaceIndex, classifier: RelayClassifier = .u32,
                                          sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newFilter, flags: NLM.request | NLM.ack | NLM.create | NLM.excl,
                                     sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader(ifindex: device.rawValue, parent: hookParent(hook), info: relayInfo))
        builder.put(TCA.kind, string: classifier.rawValue)
        builder.nest(TCA.options) {
            if classifier == .u32 { builder.put(TCA.u32Sel, bytes: matchAllSelector) }
            builder.nest(classifier == .u32 ? TCA.u32Act : TCA.matchallAct) {
                builder.nest(1) { // first action in the list (TCA_ACT_TAB order)
                    builder.put(TCA.actKind, string: "mirred")
                    builder.nest(TCA.actOptions) {
                        builder.put(TCA.mirredParms, raw: MirredParameters(
                            eaction: kind == .toIngress ? Mirred.ingressRedirect : Mirred.egressRedirect,
                            ifindex: UInt32(bitPattern: target.rawValue)))
                    }
                    builder.put(TCA.actCookie, bytes: RelayIdentity.cookie)
                }
            }
        }
        return try builder.bytes()
    }

    /// The chain of the start-up probe: no action jumps to it, so a filter there classifies nothing.
    public static let probeChain: UInt32 = 0x484E

    /// `tc filter add dev D ingress chain 0x484E prio 20040 protocol all matchall`: a filter
    /// without action in a chain nothing reaches. The kernel refuses it (ENOENT) without cls_matchall.
    public static func addProbeFilterRequest(device: InterfaceIndex, classifier: RelayClassifier,
                                             sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newFilter, flags: NLM.request | NLM.ack | NLM.create | NLM.excl,
                                     sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader(ifindex: device.rawValue, parent: hookParent(.ingress), info: relayInfo))
        builder.put(TCA.kind, string: classifier.rawValue)
        builder.put(TCA.chain, u32: probeChain)
        builder.nest(TCA.options) {}
        return try builder.bytes()
    }

    /// `tc filter del dev D ingress chain 0x484E prio 20040 protocol all matchall`: the probe's filter.
    public static func deleteProbeFilterRequest(device: InterfaceIndex, classifier: RelayClassifier,
                                                sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.delFilter, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader(ifindex: device.rawValue, parent: hookParent(.ingress), info: relayInfo))
        builder.put(TCA.kind, string: classifier.rawValue)
        builder.put(TCA.chain, u32: probeChain)
        return try builder.bytes()
    }

    /// `tc filter del dev D HOOK prio P protocol PROTO handle H {u32|matchall}`: exactly one filter,
    /// as a dump reported it. Naming kind and priority lets the kernel delete a matchall filter on
    /// clsact without RTNL (tc_del_tfilter: prio set, qdisc DOIT_UNLOCKED, classifier unlocked). The kernel refuses (EINVAL) if the priority holds another classifier kind.
    public static func deleteFilterRequest(_ filter: DumpedFilter, sequence: UInt32) throws -> [UInt8] {
        guard let hook = filter.hook, let kind = filter.kind, filter.handle != 0 else {
            throw MalformedMessage("filter on ifindex \(filter.device) has no clsact hook, kind or handle: not deleted")
        }
        let builder = MessageBuilder(type: RT.delFilter, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader(ifindex: filter.device.rawValue, handle: filter.handle,
                                                     parent: hookParent(hook),
                                                     info: UInt32(filter.priority) << 16 | UInt32(filter.protocolNumber)))
        builder.put(TCA.kind, string: kind)
        return try builder.bytes()
    }

    /// The requests that carry out `deletion` on one hook, in order: each filter by handle, kind
    /// and priority, then the emptied u32 priority when it has to go. Sequence 0: the sender
    /// writes its own (`NetlinkMessage.setSequence`), so they can be built before they are needed.
    public static func deleteRequests(_ deletion: OwnFilterDeletion, device: InterfaceIndex, hook: Hook) throws -> [[UInt8]] {
        var requests = try deletion.filters.map { try deleteFilterRequest($0, sequence: 0) }
        if deletion.emptiesPriority {
            requests.append(try deleteEmptyRelayPriorityRequest(device: device, hook: hook, sequence: 0))
        }
        return requests
    }

    /// Deletes the agent's priority on one hook once it holds no filter: handle 0, kind u32 and
    /// protocol all, so a priority that holds another kind or protocol is refused (EINVAL).
    public static func deleteEmptyRelayPriorityRequest(device: InterfaceIndex, hook: Hook, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.delFilter, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader(ifindex: device.rawValue, parent: hookParent(hook), info: relayInfo))
        builder.put(TCA.kind, string: "u32")
        return try builder.bytes()
    }

    public static func dumpFiltersRequest(device: InterfaceIndex, hook: Hook, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.getFilter, flags: NLM.request | NLM.dump, sequence: sequence)
        builder.putFamilyHeader(TrafficControlHeader(ifindex: device.rawValue, parent: hookParent(hook)))
        return try builder.bytes()
    }

    /// struct tc_u32_sel with flags TC_U32_TERMINAL and one all-zero key: matches every packet.
    static let matchAllSelector: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 16 + 16)
        bytes[0] = 1 // TC_U32_TERMINAL
        bytes[2] = 1 // nkeys
        return bytes
    }()

    public static func decodeFilter(_ message: NetlinkMessage) throws -> DumpedFilter? {
        guard message.type == RT.newFilter else { return nil }
        return try decodeFilterBody(message)
    }

    /// For an RTM_NEWTFILTER or RTM_DELTFILTER event (RTNLGRP_TC): true when another tool's
    /// filter changed on a clsact hook at a priority that can run before the agent's (20040 or
    /// less), so the relay is looked at again; false for the agent's own filters and for filters
    /// that run after them; nil for any other message.
    public static func filterEventConcernsRelay(_ message: NetlinkMessage) throws -> Bool? {
        guard message.type == RT.newFilter || message.type == RT.delFilter else { return nil }
        let filter = try decodeFilterBody(message)
        guard filter.hook != nil, filter.priority <= RelayIdentity.priority else { return false }
        return !filter.isOurs && !filter.isOurHashTable
    }

    private static func decodeFilterBody(_ message: NetlinkMessage) throws -> DumpedFilter {
        let reader = ByteReader(message.payload)
        guard let ifindex = reader.i32(at: 4), let parent = reader.u32(at: 12), let info = reader.u32(at: 16) else {
            throw MalformedMessage("filter message shorter than tcmsg")
        }
        let hook: Hook? = parent == TCHandle.ingressHook ? .ingress : parent == TCHandle.egressHook ? .egress : nil
        var filter = DumpedFilter(device: InterfaceIndex(ifindex), hook: hook, priority: UInt16(info >> 16),
                                  handle: reader.u32(at: 8) ?? 0, protocolNumber: UInt16(truncatingIfNeeded: info))
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(headerSize))
        filter.kind = attributes.first(TCA.kind)?.string
        filter.chain = attributes.first(TCA.chain)?.u32 ?? 0
        let actionList: UInt16? = filter.kind == "u32" ? TCA.u32Act : filter.kind == "matchall" ? TCA.matchallAct : nil
        guard let actionList, let options = try attributes.first(TCA.options)?.nested(),
              let actions = try options.first(actionList)?.nested() else { return filter }
        for action in actions {
            guard let mirred = try MirredAction.decode(try action.nested()) else { continue }
            filter.cookie = mirred.cookie
            filter.actionIndex = mirred.index
            guard let redirect = mirred.redirect else { continue }
            filter.redirect = redirect
            break
        }
        return filter
    }
}
