import Netlink
import Policy

/// struct ifinfomsg (linux/rtnetlink.h), 16 bytes.
struct InterfaceInfoHeader {
    var family: UInt8 = AF.unspec
    var pad: UInt8 = 0
    var type: UInt16 = 0
    var index: Int32 = 0
    var flags: UInt32 = 0
    var change: UInt32 = 0
}

/// A link message decoded: a snapshot, or the notice that an interface left this namespace.
public enum LinkMessage: Equatable, Sendable {
    case present(LinkSnapshot)
    case removed(index: InterfaceIndex, name: String?, movedToNamespace: Bool)
}

public enum LinkCodec {
    static let headerSize = 16

    // MARK: requests

    public static func dumpRequest(sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.getLink, flags: NLM.request | NLM.dump, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader())
        return try builder.bytes()
    }

    public static func getRequest(index: InterfaceIndex, sequence: UInt32) throws -> [UInt8] {
        // With NLM_F_ACK the reply is followed by an ACK, so it is collected like a dump.
        let builder = MessageBuilder(type: RT.getLink, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader(index: index.rawValue))
        return try builder.bytes()
    }

    /// RTM_NEWLINK changing only IFF_UP (ifi_change masks the other flags out).
    public static func setAdminStateRequest(index: InterfaceIndex, up: Bool, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newLink, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader(index: index.rawValue, flags: up ? LinkFlags.up.rawValue : 0,
                                                    change: LinkFlags.up.rawValue))
        return try builder.bytes()
    }

    /// RTM_NEWLINK with IFLA_MTU.
    public static func setMTURequest(index: InterfaceIndex, mtu: UInt32, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newLink, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader(index: index.rawValue))
        builder.put(IFLA.mtu, u32: mtu)
        return try builder.bytes()
    }

    /// RTM_NEWLINK changing one flag (IFF_PROMISC or IFF_ALLMULTI) through ifi_change.
    public static func setFlagRequest(index: InterfaceIndex, flag: LinkFlags, on: Bool, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newLink, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader(index: index.rawValue, flags: on ? flag.rawValue : 0,
                                                    change: flag.rawValue))
        return try builder.bytes()
    }

    /// RTM_NEWLINK with IFLA_GSO_MAX_SIZE, IFLA_GSO_MAX_SEGS and, when known, IFLA_GSO_IPV4_MAX_SIZE.
    /// The kernel applies them in that order, so an explicit IPv4 limit wins over the one it
    /// derives from a gso_max_size below 64 KiB.
    public static func setGSOLimitsRequest(index: InterfaceIndex, limits: GSOLimits, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newLink, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader(index: index.rawValue))
        builder.put(IFLA.gsoMaxSize, u32: limits.maxSize)
        builder.put(IFLA.gsoMaxSegs, u32: limits.maxSegs)
        if let ipv4 = limits.ipv4MaxSize { builder.put(IFLA.gsoIPv4MaxSize, u32: ipv4) }
        return try builder.bytes()
    }

    /// RTM_NEWLINK with IFLA_LINKMODE.
    public static func setLinkModeRequest(index: InterfaceIndex, mode: LinkMode, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newLink, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader(index: index.rawValue))
        builder.put(IFLA.linkmode, u8: mode.rawValue)
        return try builder.bytes()
    }

    /// RTM_NEWLINK with IFLA_OPERSTATE (the kernel takes only UP and DORMANT from user space).
    public static func setOperStateRequest(index: InterfaceIndex, state: OperState, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newLink, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader(index: index.rawValue))
        builder.put(IFLA.operstate, u8: state.rawValue)
        return try builder.bytes()
    }

    /// RTM_NEWLINK with IFLA_AF_SPEC / AF_INET6 / IFLA_INET6_ADDR_GEN_MODE.
    public static func setAddrGenModeRequest(index: InterfaceIndex, mode: AddrGenMode, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: RT.newLink, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(InterfaceInfoHeader(index: index.rawValue))
        builder.nest(IFLA.afSpec) {
            builder.nest(AF.inet6) {
                builder.put(IFLA.inet6AddrGenMode, u8: mode.rawValue)
            }
        }
        return try builder.bytes()
    }

    // MARK: replies and events

    /// Decodes RTM_NEWLINK / RTM_DELLINK. Returns nil for other message types.
    public static func decode(_ message: NetlinkMessage) throws -> LinkMessage? {
        guard message.type == RT.newLink || message.type == RT.delLink else { return nil }
        let reader = ByteReader(message.payload)
        guard let type = reader.u16(at: 2), let rawIndex = reader.i32(at: 4), let flags = reader.u32(at: 8) else {
            throw MalformedMessage("link message shorter than ifinfomsg")
        }
        guard rawIndex > 0 else { throw MalformedMessage("link message with ifindex \(rawIndex)") }
        let index = InterfaceIndex(rawIndex)
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(headerSize))
        // To the kernel a name is bytes (anything but '/', ':' and whitespace): one that is not
        // UTF-8 is kept with replacement characters, or one such link would fail every dump.
        let name = attributes.first(IFLA.ifname).map { String(decoding: $0.payload.prefix { $0 != 0 }, as: UTF8.self) }

        if message.type == RT.delLink {
            let moved = attributes.first(IFLA.newNetnsID) != nil || attributes.first(IFLA.newIfindex) != nil
            return .removed(index: index, name: name, movedToNamespace: moved)
        }
        guard let name else { throw MalformedMessage("link \(index) without IFLA_IFNAME") }

        var snapshot = LinkSnapshot(index: index, name: name,
                                    mac: attributes.first(IFLA.address).flatMap { MACAddress(bytes: Array($0.payload)) },
                                    hardwareType: type, flags: LinkFlags(rawValue: flags))
        snapshot.mtu = attributes.first(IFLA.mtu)?.u32 ?? 0
        snapshot.operState = attributes.first(IFLA.operstate)?.u8.flatMap(OperState.init(rawValue:)) ?? .unknown
        if let master = attributes.first(IFLA.master)?.u32, master != 0 {
            snapshot.master = InterfaceIndex(Int32(bitPattern: master))
        }
        if let info = try attributes.first(IFLA.linkinfo)?.nested() {
            snapshot.kind = info.first(IFLA.infoKind)?.string
        }
        snapshot.linkMode = attributes.first(IFLA.linkmode)?.u8.flatMap(LinkMode.init(rawValue:)) ?? .default
        if let size = attributes.first(IFLA.gsoMaxSize)?.u32, let segs = attributes.first(IFLA.gsoMaxSegs)?.u32 {
            snapshot.gso = GSOLimits(maxSize: size, maxSegs: segs, ipv4MaxSize: attributes.first(IFLA.gsoIPv4MaxSize)?.u32)
        }
        if let size = attributes.first(IFLA.tsoMaxSize)?.u32, let segs = attributes.first(IFLA.tsoMaxSegs)?.u32 {
            snapshot.tsoCeiling = TSOCeiling(maxSize: size, maxSegs: segs)
        }
        if let stats = attributes.first(IFLA.stats64) { snapshot.counters = LinkStatsCodec.counters(stats64: stats.payload) }
        if let afSpec = try attributes.first(IFLA.afSpec)?.nested(),
           let inet6 = try afSpec.first(AF.inet6)?.nested(),
           let mode = inet6.first(IFLA.inet6AddrGenMode)?.u8 {
            snapshot.addrGenMode = AddrGenMode(rawValue: mode)
        }
        return .present(snapshot)
    }
}
