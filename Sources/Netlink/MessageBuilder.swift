import CNetlink

/// Builds one netlink request with libmnl into a private buffer.
///
/// libmnl does the header, alignment and nesting arithmetic; the `_check` variants bound every
/// write by the buffer, and an overflow is remembered and reported by `bytes()`.
public final class MessageBuilder {
    static let capacity = 4096
    private let buffer: UnsafeMutableRawPointer
    private let header: UnsafeMutablePointer<nlmsghdr>
    private var overflowed = false

    public init(type: UInt16, flags: UInt16, sequence: UInt32) {
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.capacity, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: Self.capacity)
        header = mnl_nlmsg_put_header(buffer)
        header.pointee.nlmsg_type = type
        header.pointee.nlmsg_flags = flags
        header.pointee.nlmsg_seq = sequence
    }

    deinit { buffer.deallocate() }

    /// Appends the family header (ifinfomsg, tcmsg, ...) that follows nlmsghdr.
    public func putFamilyHeader<T>(_ value: T) {
        var copy = value
        let size = MemoryLayout<T>.size
        let destination = mnl_nlmsg_put_extra_header(header, size)!
        withUnsafeBytes(of: &copy) { destination.copyMemory(from: $0.baseAddress!, byteCount: size) }
    }

    public func put(_ type: UInt16, bytes: [UInt8]) {
        let ok = bytes.withUnsafeBytes { raw in
            mnl_attr_put_check(header, Self.capacity, type, raw.count, raw.baseAddress)
        }
        if !ok { overflowed = true }
    }

    public func put<T>(_ type: UInt16, raw value: T) {
        var copy = value
        let ok = withUnsafeBytes(of: &copy) { raw in
            mnl_attr_put_check(header, Self.capacity, type, raw.count, raw.baseAddress)
        }
        if !ok { overflowed = true }
    }

    public func put(_ type: UInt16, u8 value: UInt8) {
        if !mnl_attr_put_u8_check(header, Self.capacity, type, value) { overflowed = true }
    }

    public func put(_ type: UInt16, u32 value: UInt32) {
        if !mnl_attr_put_u32_check(header, Self.capacity, type, value) { overflowed = true }
    }

    public func put(_ type: UInt16, string value: String) {
        if !mnl_attr_put_strz_check(header, Self.capacity, type, value) { overflowed = true }
    }

    public func nest(_ type: UInt16, _ body: () -> Void) {
        guard let start = mnl_attr_nest_start_check(header, Self.capacity, type) else {
            overflowed = true
            return
        }
        body()
        mnl_attr_nest_end(header, start)
    }

    public func bytes() throws -> [UInt8] {
        guard !overflowed else { throw MalformedMessage("request larger than \(Self.capacity) bytes") }
        let length = Int(header.pointee.nlmsg_len)
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }
}
