import Netlink
import Policy

/// Generic netlink and ethtool netlink numbers (linux/genetlink.h, linux/ethtool_netlink.h),
/// checked against the headers in AgentTests/ConstantsTests.
enum GENL {
    static let controllerID: UInt16 = 0x10       // GENL_ID_CTRL
    static let commandGetFamily: UInt8 = 3       // CTRL_CMD_GETFAMILY
    static let attributeFamilyID: UInt16 = 1     // CTRL_ATTR_FAMILY_ID
    static let attributeFamilyName: UInt16 = 2   // CTRL_ATTR_FAMILY_NAME
    static let headerSize = 4                    // struct genlmsghdr
}

public enum ETHTOOL {
    public static let familyName = "ethtool"
    static let version: UInt8 = 1
    static let featuresGet: UInt8 = 11, featuresSet: UInt8 = 12
    static let featuresHeader: UInt16 = 1, featuresHW: UInt16 = 2, featuresWanted: UInt16 = 3
    static let featuresActive: UInt16 = 4, featuresNoChange: UInt16 = 5
    static let headerDevIndex: UInt16 = 1, headerFlags: UInt16 = 3
    static let flagOmitReply: UInt32 = 1 << 1
    static let bitsetNoMask: UInt16 = 1, bitsetBits: UInt16 = 3, bitsetValue: UInt16 = 4
    static let bitsetBitsBit: UInt16 = 1
    static let bitName: UInt16 = 2, bitValue: UInt16 = 3
}

/// struct genlmsghdr: command, version, reserved.
struct GenericHeader {
    var command: UInt8
    var version: UInt8
    var reserved: UInt16 = 0
}

public enum EthtoolCodec {
    /// CTRL_CMD_GETFAMILY "ethtool": the family id is assigned at boot, so it is asked for.
    public static func familyRequest(name: String, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: GENL.controllerID, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(GenericHeader(command: GENL.commandGetFamily, version: 1))
        builder.put(GENL.attributeFamilyName, string: name)
        return try builder.bytes()
    }

    public static func decodeFamilyID(_ message: NetlinkMessage) throws -> UInt16? {
        guard message.type == GENL.controllerID else { return nil }
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(GENL.headerSize))
        return attributes.first(GENL.attributeFamilyID)?.u16
    }

    /// ETHTOOL_MSG_FEATURES_GET for one device; bitsets come back verbose (with names).
    public static func featuresGetRequest(family: UInt16, device: InterfaceIndex, sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: family, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(GenericHeader(command: ETHTOOL.featuresGet, version: ETHTOOL.version))
        builder.nest(ETHTOOL.featuresHeader) {
            builder.put(ETHTOOL.headerDevIndex, u32: UInt32(bitPattern: device.rawValue))
        }
        return try builder.bytes()
    }

    /// ETHTOOL_MSG_FEATURES_SET changing only the named features: a verbose bitset with a mask
    /// (no ETHTOOL_A_BITSET_NOMASK), so every feature not listed keeps its state.
    public static func featuresSetRequest(family: UInt16, device: InterfaceIndex, changes: [String: Bool],
                                   sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: family, flags: NLM.request | NLM.ack, sequence: sequence)
        builder.putFamilyHeader(GenericHeader(command: ETHTOOL.featuresSet, version: ETHTOOL.version))
        builder.nest(ETHTOOL.featuresHeader) {
            builder.put(ETHTOOL.headerDevIndex, u32: UInt32(bitPattern: device.rawValue))
            builder.put(ETHTOOL.headerFlags, u32: ETHTOOL.flagOmitReply)
        }
        builder.nest(ETHTOOL.featuresWanted) {
            builder.nest(ETHTOOL.bitsetBits) {
                for (name, on) in changes.sorted(by: { $0.key < $1.key }) {
                    builder.nest(ETHTOOL.bitsetBitsBit) {
                        builder.put(ETHTOOL.bitName, string: name)
                        if on { builder.put(ETHTOOL.bitValue, bytes: []) }
                    }
                }
            }
        }
        return try builder.bytes()
    }

    /// ETHTOOL_MSG_FEATURES_GET_REPLY into the agent's view; nil for another message type.
    public static func decodeFeatures(_ message: NetlinkMessage, family: UInt16) throws -> OffloadFeatures? {
        guard message.type == family else { return nil }
        guard let command = message.payload.first, command == ETHTOOL.featuresGet else { return nil }
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(GENL.headerSize))
        func names(_ type: UInt16) throws -> Set<String> {
            guard let bitset = attributes.first(type) else {
                throw MalformedMessage("ethtool features reply without bitset \(type)")
            }
            return try setBits(of: bitset)
        }
        let hw = try names(ETHTOOL.featuresHW)
        let noChange = try names(ETHTOOL.featuresNoChange)
        return OffloadFeatures(active: try names(ETHTOOL.featuresActive), wanted: try names(ETHTOOL.featuresWanted),
                               changeable: hw.subtracting(noChange))
    }

    /// The names of the bits that are set in a verbose bitset. Without a mask (NOMASK) the
    /// kernel lists only set bits; with one, it lists the masked bits and flags set ones with VALUE.
    static func setBits(of bitset: NetlinkAttribute) throws -> Set<String> {
        let attributes = try bitset.nested()
        let noMask = attributes.first(ETHTOOL.bitsetNoMask) != nil
        guard let bits = attributes.first(ETHTOOL.bitsetBits) else {
            // A compact bitset (ETHTOOL_A_BITSET_VALUE) carries no names; the agent never asks for one.
            if attributes.first(ETHTOOL.bitsetValue) != nil {
                throw MalformedMessage("ethtool bitset in compact form, which was not requested")
            }
            return [] // no bit list: nothing set
        }
        var result: Set<String> = []
        for bit in try bits.nested() where bit.type == ETHTOOL.bitsetBitsBit {
            let fields = try bit.nested()
            guard let nameAttribute = fields.first(ETHTOOL.bitName), let name = nameAttribute.string else {
                throw MalformedMessage("ethtool bitset bit without a name")
            }
            if name.isEmpty { continue } // unused feature bits have empty names
            if noMask || fields.first(ETHTOOL.bitValue) != nil { result.insert(name) }
        }
        return result
    }
}
