import Policy
import XCTest

// Independent message assembly for golden tests: nothing here uses Agent's builder or parser.
// Netlink integers are in host byte order.

func host<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

func u8(_ v: UInt8) -> [UInt8] { [v] }
func u16(_ v: UInt16) -> [UInt8] { host(v) }
func u32(_ v: UInt32) -> [UInt8] { host(v) }
func i32(_ v: Int32) -> [UInt8] { host(v) }
func u64(_ v: UInt64) -> [UInt8] { host(v) }
func zeros(_ n: Int) -> [UInt8] { [UInt8](repeating: 0, count: n) }
func cString(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }

/// struct nlmsghdr (16 bytes) followed by `body`; nlmsg_len computed unless given.
func nlmsg(type: UInt16, flags: UInt16, seq: UInt32, port: UInt32 = 0, length: UInt32? = nil, _ body: [UInt8]) -> [UInt8] {
    u32(length ?? UInt32(16 + body.count)) + u16(type) + u16(flags) + u32(seq) + u32(port) + body
}

/// struct nlattr: nla_len (header + payload, unpadded), nla_type, payload, then zero padding to 4.
func nla(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
    let length = 4 + payload.count
    return u16(UInt16(length)) + u16(type) + payload + zeros((4 - length % 4) % 4)
}

/// struct ifinfomsg (16 bytes).
func ifinfomsgBytes(family: UInt8 = 0, type: UInt16 = 0, index: Int32, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
    u8(family) + u8(0) + u16(type) + i32(index) + u32(flags) + u32(change)
}

/// struct tcmsg (20 bytes).
func tcmsgBytes(ifindex: Int32, handle: UInt32 = 0, parent: UInt32, info: UInt32 = 0) -> [UInt8] {
    u8(0) + u8(0) + u16(0) + i32(ifindex) + u32(handle) + u32(parent) + u32(info)
}

/// Replaces nlmsg_seq (bytes 8..<12) of the first message in `bytes`.
func withSequence(_ bytes: [UInt8], _ seq: UInt32) -> [UInt8] {
    var copy = bytes
    copy.replaceSubrange(8..<12, with: u32(seq))
    return copy
}

/// Replaces nlmsg_flags (bytes 6..<8).
func withFlags(_ bytes: [UInt8], _ flags: UInt16) -> [UInt8] {
    var copy = bytes
    copy.replaceSubrange(6..<8, with: u16(flags))
    return copy
}

func readU16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
func readU32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * $1) } }

/// A canonical tree of attributes for comparing two encodings of one request: attribute order and
/// NLA_F_NESTED do not matter, payload bytes do. `isNest(path)` says which attribute types nest,
/// by their path of types from the top.
indirect enum AttributeTree: Equatable, Comparable, CustomStringConvertible {
    case leaf(UInt16, [UInt8])
    case nest(UInt16, [AttributeTree])

    var type: UInt16 { switch self { case .leaf(let t, _), .nest(let t, _): return t } }

    static func < (a: AttributeTree, b: AttributeTree) -> Bool { a.description < b.description }

    var description: String {
        switch self {
        case .leaf(let t, let p): return "\(t)=" + p.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        case .nest(let t, let c): return "\(t){" + c.map(\.description).joined(separator: ",") + "}"
        }
    }

    static func parse(_ bytes: ArraySlice<UInt8>, path: [UInt16] = [], isNest: ([UInt16]) -> Bool) -> [AttributeTree] {
        var out: [AttributeTree] = []
        var offset = bytes.startIndex
        while offset + 4 <= bytes.endIndex {
            let length = Int(UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
            let type = (UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8) & 0x3FFF
            precondition(length >= 4 && offset + length <= bytes.endIndex, "bad attribute in test data")
            let payload = bytes[(offset + 4)..<(offset + length)]
            if isNest(path + [type]) {
                out.append(.nest(type, parse(payload, path: path + [type], isNest: isNest).sorted()))
            } else {
                out.append(.leaf(type, Array(payload)))
            }
            offset += (length + 3) & ~3
        }
        return out.sorted()
    }
}

extension InterfaceIndex: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int32) { self.init(value) }
}
