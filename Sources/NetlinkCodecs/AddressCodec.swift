import Netlink
import Policy

/// RTM_NEWADDR / RTM_DELADDR numbers (linux/rtnetlink.h, linux/if_addr.h).
public enum AddressConstants {
    static let newAddress: UInt16 = 20, deleteAddress: UInt16 = 21, getAddress: UInt16 = 22
    /// RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR.
    public static let ipv4Group: UInt32 = 5, ipv6Group: UInt32 = 9
    /// IFA_ADDRESS (the prefix address, or the peer on point-to-point links) and IFA_LOCAL.
    static let attributeAddress: UInt16 = 1, attributeLocal: UInt16 = 2
    static let familyIPv4: UInt8 = 2, familyIPv6: UInt8 = 10
    /// IFA_FLAGS (32-bit flags) and the flags that make an address not (yet) the interface's.
    static let attributeFlags: UInt16 = 8
    static let flagTentative: UInt32 = 0x40, flagDADFailed: UInt32 = 0x08
}

/// An address on an interface, as RTM_NEWADDR reports it.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Hashable, Sendable { case ipv4, ipv6 }
    public var device: InterfaceIndex
    public var family: Family
    /// 4 or 16 bytes, network order.
    public var bytes: [UInt8]
    /// IFA_F_TENTATIVE or IFA_F_DADFAILED: not (yet) the interface's to announce.
    public var unusable: Bool

    public init(device: InterfaceIndex, family: Family, bytes: [UInt8], unusable: Bool = false) {
        self.device = device
        self.family = family
        self.bytes = bytes
        self.unusable = unusable
    }

    /// "198.18.0.9", "fe80::1" (RFC 5952, as `ip` prints it).
    public var description: String {
        switch family {
        case .ipv4: return bytes.map(String.init).joined(separator: ".")
        case .ipv6: return ListenAddress.formatIPv6(bytes)
        }
    }
}

/// An address added to (RTM_NEWADDR, also every entry of a dump) or removed from an interface.
public struct AddressMessage: Hashable, Sendable {
    public var added: Bool
    public var interfaceAddress: InterfaceAddress
    public var prefixLength: UInt8

    public init(added: Bool, _ interfaceAddress: InterfaceAddress, prefixLength: UInt8) {
        self.added = added
        self.interfaceAddress = interfaceAddress
        self.prefixLength = prefixLength
    }

    public var index: InterfaceIndex { interfaceAddress.device }
    /// "198.18.0.9/24", "fe80::1/64".
    public var address: String { "\(interfaceAddress)/\(prefixLength)" }
}

/// Address dumps and events: for the hygiene check (which address, where) and for peer
/// notification (the synthetic NIC's own addresses). Pure, bounds-checked.
public enum AddressCodec {
    static let headerSize = 8 // struct ifaddrmsg

    public static func dumpRequest(sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: AddressConstants.getAddress, flags: NLM.request | NLM.dump, sequence: sequence)
        builder.putFamilyHeader((UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt32(0)))
        return try builder.bytes()
    }

    /// RTM_NEWADDR / RTM_DELADDR of IPv4 or IPv6; nil for anything else.
    public static func decode(_ message: NetlinkMessage) throws -> AddressMessage? {
        guard message.type == AddressConstants.newAddress || message.type == AddressConstants.deleteAddress else { return nil }
        let reader = ByteReader(message.payload)
        guard let family = reader.u8(at: 0), let prefix = reader.u8(at: 1), let smallFlags = reader.u8(at: 2),
              let rawIndex = reader.u32(at: 4) else {
            throw MalformedMessage("address message shorter than ifaddrmsg")
        }
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(headerSize))
        // IFA_FLAGS carries all 32 bits; the header's byte only the low 8.
        let flags = attributes.first(AddressConstants.attributeFlags)?.u32 ?? UInt32(smallFlags)
        // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
        let address = attributes.first(AddressConstants.attributeLocal) ?? attributes.first(AddressConstants.attributeAddress)
        guard let payload = address?.payload, rawIndex > 0 else { return nil }
        let kind: InterfaceAddress.Family
        switch (family, payload.count) {
        case (AddressConstants.familyIPv4, 4): kind = .ipv4
        case (AddressConstants.familyIPv6, 16): kind = .ipv6
        default: return nil
        }
        let decoded = InterfaceAddress(device: InterfaceIndex(Int32(bitPattern: rawIndex)), family: kind, bytes: Array(payload),
                                       unusable: flags & (AddressConstants.flagTentative | AddressConstants.flagDADFailed) != 0)
        return AddressMessage(added: message.type == AddressConstants.newAddress, decoded, prefixLength: prefix)
    }
}
