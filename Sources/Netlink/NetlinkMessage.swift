/// A message that does not parse. Never fatal: the message is dropped and logged.
public struct MalformedMessage: Error, Equatable, CustomStringConvertible {
    public let what: String
    public init(_ what: String) { self.what = what }
    public var description: String { "malformed netlink message: \(what)" }
}

/// One netlink message: the nlmsghdr fields and the payload after it.
public struct NetlinkMessage: Equatable, Sendable {
    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    public var port: UInt32
    public var payload: ArraySlice<UInt8>

    public static let headerSize = 16

    // Message types and flags from linux/netlink.h (stable uapi values).
    public static let typeNoop: UInt16 = 1
    public static let typeError: UInt16 = 2
    public static let typeDone: UInt16 = 3
    public static let typeOverrun: UInt16 = 4
    public static let flagMulti: UInt16 = 0x2
    public static let flagDumpInterrupted: UInt16 = 0x10
    public static let flagAckTLVs: UInt16 = 0x200

    /// Writes nlmsg_seq of the message at the start of `request`: a request built ahead of time
    /// gets its sequence number when it is sent.
    public static func setSequence(_ sequence: UInt32, in request: inout [UInt8]) {
        guard request.count >= headerSize else { return }
        request.withUnsafeMutableBytes { $0.storeBytes(of: sequence, toByteOffset: 8, as: UInt32.self) }
    }

    /// Splits a datagram into messages. Stops with an error at the first header whose length
    /// is impossible; messages before it are not returned either, since the datagram is suspect.
    public static func split(_ datagram: [UInt8]) throws -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var offset = 0
        let reader = ByteReader(datagram[...])
        while offset + headerSize <= datagram.count {
            guard let length = reader.u32(at: offset), let type = reader.u16(at: offset + 4),
                  let flags = reader.u16(at: offset + 6), let sequence = reader.u32(at: offset + 8),
                  let port = reader.u32(at: offset + 12) else { throw MalformedMessage("short header") }
            let total = Int(length)
            guard total >= headerSize, offset + total <= datagram.count else {
                throw MalformedMessage("length \(total) at offset \(offset) exceeds datagram of \(datagram.count) bytes")
            }
            let payload = datagram[(offset + headerSize)..<(offset + total)]
            messages.append(NetlinkMessage(type: type, flags: flags, sequence: sequence, port: port, payload: payload))
            offset += netlinkAlign(total)
        }
        return messages
    }
}

/// One netlink attribute (struct nlattr): type without the nested/byte-order bits, and payload.
public struct NetlinkAttribute: Equatable, Sendable {
    public var type: UInt16
    public var payload: ArraySlice<UInt8>

    /// NLA_TYPE_MASK: strips NLA_F_NESTED and NLA_F_NET_BYTEORDER.
    static let typeMask: UInt16 = 0x3FFF

    public var u8: UInt8? { ByteReader(payload).u8(at: 0) }
    public var u16: UInt16? { payload.count >= 2 ? ByteReader(payload).u16(at: 0) : nil }
    public var u32: UInt32? { payload.count >= 4 ? ByteReader(payload).u32(at: 0) : nil }
    public var i32: Int32? { payload.count >= 4 ? ByteReader(payload).i32(at: 0) : nil }
    public var u64: UInt64? { payload.count >= 8 ? ByteReader(payload).u64(at: 0) : nil }

    /// A NUL-terminated string (or the whole payload if the kernel left the NUL out).
    public var string: String? {
        let bytes = payload.prefix { $0 != 0 }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The attributes nested inside this one.
    public func nested() throws -> [NetlinkAttribute] { try NetlinkAttribute.parse(payload) }

    /// Parses a run of attributes. Bounded by the input: each attribute is at least 4 bytes, and
    /// nothing here recurses; callers descend only into the nests they know.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> [NetlinkAttribute] {
        var attributes: [NetlinkAttribute] = []
        let reader = ByteReader(bytes)
        var offset = 0
        while offset + 4 <= bytes.count {
            guard let length = reader.u16(at: offset), let rawType = reader.u16(at: offset + 2) else {
                throw MalformedMessage("short attribute header")
            }
            let total = Int(length)
            guard total >= 4, let payload = reader.slice(from: offset + 4, count: total - 4) else {
                throw MalformedMessage("attribute type \(rawType & typeMask) claims \(total) bytes, \(bytes.count - offset) left")
            }
            attributes.append(NetlinkAttribute(type: rawType & typeMask, payload: payload))
            offset += netlinkAlign(total)
        }
        return attributes
    }
}

extension Array where Element == NetlinkAttribute {
    /// The first attribute of `type` (the kernel never repeats the ones the agent reads).
    public func first(_ type: UInt16) -> NetlinkAttribute? { first { $0.type == type } }
}
