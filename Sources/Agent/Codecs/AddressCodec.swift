import Policy

/// An address on an interface, as RTM_NEWADDR reports it.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Hashable, Sendable { case ipv4, ipv6 }
    public var device: InterfaceIndex
    public var family: Family
    /// 4 or 16 bytes, network order.
    public var bytes: [UInt8]
    /// IFA_F_TENTATIVE or IFA_F_DADFAILED: not (yet) the interface's to announce.
    public var unusable: Bool

    public var description: String {
        switch family {
        case .ipv4: return bytes.map(String.init).joined(separator: ".")
        case .ipv6:
            return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
    }
}

/// RTM_GETADDR dumps and RTM_NEWADDR decoding (struct ifaddrmsg, linux/if_addr.h).
public enum AddressCodec {
    static let getAddress: UInt16 = 22, newAddress: UInt16 = 20
    static let headerSize = 8
    static let attributeAddress: UInt16 = 1, attributeLocal: UInt16 = 2, attributeFlags: UInt16 = 8
    static let flagTentative: UInt32 = 0x40, flagDADFailed: UInt32 = 0x08

    static func dumpRequest(sequence: UInt32) throws -> [UInt8] {
        let builder = MessageBuilder(type: getAddress, flags: NLM.request | NLM.dump, sequence: sequence)
        builder.putFamilyHeader(UInt64(0)) // ifaddrmsg: family AF_UNSPEC, everything else 0
        return try builder.bytes()
    }

    /// nil for other messages and other families.
    static func decode(_ message: NetlinkMessage) throws -> InterfaceAddress? {
        guard message.type == newAddress else { return nil }
        let reader = ByteReader(message.payload)
        guard let family = reader.u8(at: 0), let smallFlags = reader.u8(at: 2), let rawIndex = reader.u32(at: 4) else {
            throw MalformedMessage("address message shorter than ifaddrmsg")
        }
        let attributes = try NetlinkAttribute.parse(message.payload.dropFirst(headerSize))
        let flags = attributes.first(attributeFlags)?.u32 ?? UInt32(smallFlags)
        // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
        let address = attributes.first(attributeLocal) ?? attributes.first(attributeAddress)
        guard let payload = address?.payload, rawIndex > 0 else { return nil }
        let kind: InterfaceAddress.Family
        switch (family, payload.count) {
        case (2, 4): kind = .ipv4
        case (10, 16): kind = .ipv6
        default: return nil
        }
        return InterfaceAddress(device: InterfaceIndex(Int32(bitPattern: rawIndex)), family: kind, bytes: Array(payload),
                                unusable: flags & (flagTentative | flagDADFailed) != 0)
    }
}
