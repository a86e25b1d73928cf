/// Builds one netlink request: nlmsghdr, the family header, then attributes, each padded to
/// netlink's 4-byte alignment (NLMSG_ALIGN / NLA_ALIGN) with zero bytes.
///
/// Plain Swift rather than libmnl, so the installed binary can be one static executable (README,
/// Memory). A request is bounded as libmnl's `_check` calls bounded it: one larger than
/// `capacity` is reported by `bytes()`.
public final class MessageBuilder {
    static let capacity = 4096
    /// sizeof(struct nlmsghdr) and sizeof(struct nlattr).
    private static let headerSize = 16, attributeHeaderSize = 4
    /// NLA_F_NESTED, set on every nest (as libmnl's mnl_attr_nest_start did).
    private static let nestedFlag: UInt16 = 0x8000
    private var message: [UInt8]

    public init(type: UInt16, flags: UInt16, sequence: UInt32) {
        message = []
        message.reserveCapacity(256)
        // nlmsg_len is written by bytes(); nlmsg_pid stays 0 (the kernel fills in the sender).
        append(UInt32(0)); append(type); append(flags); append(sequence); append(UInt32(0))
    }

    /// Appends the family header (ifinfomsg, tcmsg, ...) that follows nlmsghdr.
    public func putFamilyHeader<T>(_ value: T) {
        append(value)
        pad()
    }

    public func put(_ type: UInt16, bytes: [UInt8]) {
        putAttribute(type, length: bytes.count) { message.append(contentsOf: bytes) }
    }

    public func put<T>(_ type: UInt16, raw value: T) {
        putAttribute(type, length: MemoryLayout<T>.size) { append(value) }
    }

    public func put(_ type: UInt16, u8 value: UInt8) { put(type, raw: value) }

    public func put(_ type: UInt16, u32 value: UInt32) { put(type, raw: value) }

    /// A NUL-terminated string (NLA_NUL_STRING / NLA_STRING as iproute2 sends it).
    public func put(_ type: UInt16, string value: String) { put(type, bytes: Array(value.utf8) + [0]) }

    public func nest(_ type: UInt16, _ body: () -> Void) {
        let start = message.count
        append(UInt16(0)); append(type | Self.nestedFlag)
        body()
        // The nest's length covers its attributes including their padding.
        setUInt16(UInt16(truncatingIfNeeded: message.count - start), at: start)
    }

    public func bytes() throws -> [UInt8] {
        guard message.count <= Self.capacity else { throw MalformedMessage("request larger than \(Self.capacity) bytes") }
        var out = message
        withUnsafeBytes(of: UInt32(out.count)) { length in
            out.withUnsafeMutableBytes { $0.copyMemory(from: length) }
        }
        return out
    }

    /// struct nlattr { nla_len (header + payload, without padding), nla_type }, payload, padding.
    private func putAttribute(_ type: UInt16, length: Int, _ payload: () -> Void) {
        append(UInt16(truncatingIfNeeded: Self.attributeHeaderSize + length)); append(type)
        payload()
        pad()
    }

    /// Host byte order, as netlink headers and attributes are.
    private func append<T>(_ value: T) {
        withUnsafeBytes(of: value) { message.append(contentsOf: $0) }
    }

    private func pad() {
        message.append(contentsOf: repeatElement(0, count: netlinkAlign(message.count) - message.count))
    }

    private func setUInt16(_ value: UInt16, at offset: Int) {
        withUnsafeBytes(of: value) { bytes in
            message.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[offset..<offset + 2]).copyMemory(from: bytes) }
        }
    }
}
