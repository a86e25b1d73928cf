import Netlink
import Policy

/// One mirred action, from a filter dump (inside the filter) or an action dump (on its own).
public struct MirredAction: Equatable, Sendable {
    /// tc_mirred.index: unique per namespace among mirred actions.
    public var index: UInt32
    /// tc_mirred.bindcnt: how many filters use the action (0: it lives on its own, `tc actions add`).
    public var bindCount: Int32
    public var cookie: [UInt8]?
    /// Nil for a mirror or another eaction than the two redirects.
    public var redirect: RelayFilter?

    /// The action's attributes (TCA_ACT_KIND, _OPTIONS, _STATS, _COOKIE); nil if it is not mirred.
    static func decode(_ fields: [NetlinkAttribute]) throws -> MirredAction? {
        guard fields.first(TCA.actKind)?.string == "mirred" else { return nil }
        let cookie = fields.first(TCA.actCookie).map { Array($0.payload) }
        guard let parameters = try fields.first(TCA.actOptions)?.nested().first(TCA.mirredParms) else { return nil }
        let p = ByteReader(parameters.payload)
        guard let index = p.u32(at: 0), let bindCount = p.i32(at: 16), let eaction = p.i32(at: 20),
              let target = p.u32(at: 24) else {
            throw MalformedMessage("tc_mirred shorter than 28 bytes")
        }
        var action = MirredAction(index: index, bindCount: bindCount, cookie: cookie)
        let kind: RedirectKind? = eaction == Mirred.ingressRedirect ? .toIngress
            : eaction == Mirred.egressRedirect ? .toEgress : nil
        guard let kind else { return action }
        var counters = RelayCounters()
        if let stats = try fields.first(TCA.actStats)?.nested(), let basic = stats.first(TCA.statsBasic) {
            let b = ByteReader(basic.payload)
            // Past 2^32 packets the kernel adds the full count as TCA_STATS_PKT64.
            let packets = stats.first(TCA.statsPackets64)?.u64 ?? UInt64(b.u32(at: 8) ?? 0)
            counters = RelayCounters(packets: packets, bytes: b.u64(at: 0) ?? 0)
        }
        action.redirect = RelayFilter(kind: kind, target: InterfaceIndex(Int32(bitPattern: target)), counters: counters)
        return action
    }
}

/// `tc actions list action mirred`: every mirred action of the namespace in one dump, with its
/// counters. The relay's counters for status come from it instead of a filter dump per hook
/// and device (see NetlinkKernel+RelayCounters.swift).
public enum ActionCodec {
    /// struct nla_bitfield32 (linux/netlink.h).
    struct Bitfield32 {
        var value: UInt32
        var selector: UInt32
    }

    /// struct tcamsg: family and padding, 4 bytes.
    static let headerSize = 4

    public static func dumpMirredRequest(sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.getAction, flags: NLM.request | NLM.dump, sequence: sequence)
        builder.putFamilyHeader(UInt32(0))
        builder.nest(TCA.actTab) {
            builder.nest(1) { builder.put(TCA.actKind, string: "mirred") }
        }
        // Many actions per message instead of 32.
        builder.put(TCA.rootFlags, raw: Bitfield32(value: TCA.flagLargeDump, selector: TCA.flagLargeDump))
        return try builder.bytes()
    }

    /// The mirred actions in one message of the dump.
    public static func decodeDump(_ message: NetlinkMessage) throws -> [MirredAction] {
        guard message.type == RT.getAction || message.type == RT.newAction else { return [] }
        guard message.payload.count >= headerSize else { throw MalformedMessage("action message shorter than tcamsg") }
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(headerSize))
        guard let table = try attributes.first(TCA.actTab)?.nested() else { return [] }
        return try table.compactMap { try MirredAction.decode(try $0.nested()) }
    }
}
