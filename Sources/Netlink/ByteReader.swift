/// Bounds-checked reads of host-endian integers from a byte slice. Every read returns nil
/// rather than trapping, so a short or hostile message can never crash the agent.
public struct ByteReader {
    let bytes: ArraySlice<UInt8>

    public init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    public func u8(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < bytes.count else { return nil }
        return bytes[bytes.startIndex + offset]
    }

    func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset + size <= bytes.count else { return nil }
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { out in
            for i in 0..<size { out[i] = bytes[bytes.startIndex + offset + i] }
        }
        return value // host byte order, as netlink uses
    }

    public func u16(at offset: Int) -> UInt16? { integer(UInt16.self, at: offset) }
    public func u32(at offset: Int) -> UInt32? { integer(UInt32.self, at: offset) }
    public func i32(at offset: Int) -> Int32? { integer(Int32.self, at: offset) }
    public func u64(at offset: Int) -> UInt64? { integer(UInt64.self, at: offset) }

    func slice(from offset: Int, count: Int) -> ArraySlice<UInt8>? {
        guard offset >= 0, count >= 0, offset + count <= bytes.count else { return nil }
        let start = bytes.startIndex + offset
        return bytes[start..<(start + count)]
    }
}

/// Netlink's 4-byte alignment (NLMSG_ALIGN / NLA_ALIGN).
@inline(__always)
func netlinkAlign(_ length: Int) -> Int { (length + 3) & ~3 }
