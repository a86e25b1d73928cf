/// A TCP listen address for the metrics endpoint: an IP literal and a port. No host names, so
/// starting never waits for DNS and the address is exactly what the file says.
///
/// Accepted forms: `9464` or `:9464` (loopback, 127.0.0.1), `localhost:9464` (127.0.0.1),
/// `198.18.0.1:9464`, `[::1]:9464`, `[::]:9464`, `0.0.0.0:9464`.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Host: Hashable, Sendable {
        /// Four bytes, network order.
        case ipv4([UInt8])
        /// Sixteen bytes, network order.
        case ipv6([UInt8])
    }

    public var host: Host
    public var port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// 127.0.0.0/8 or ::1: reachable from this machine only.
    public var isLoopback: Bool {
        switch host {
        case .ipv4(let bytes): return bytes.first == 127
        case .ipv6(let bytes): return bytes == [UInt8](repeating: 0, count: 15) + [1]
        }
    }

    public var description: String {
        switch host {
        case .ipv4(let bytes): return bytes.map(String.init).joined(separator: ".") + ":\(port)"
        case .ipv6(let bytes): return "[\(Self.formatIPv6(bytes))]:\(port)"
        }
    }

    /// Parses one of the accepted forms; the error says what is wrong and shows a good value.
    public static func parse(_ text: String) -> Result<ListenAddress, ListenAddressError> {
        let example = "use \"127.0.0.1:9464\", \"[::1]:9464\" or a port alone"
        func fail(_ why: String) -> Result<ListenAddress, ListenAddressError> {
            .failure(ListenAddressError(message: "\"\(text)\": \(why); \(example)"))
        }
        var hostText: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return fail("missing ']' after the IPv6 address") }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return fail("a port must follow the IPv6 address") }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            if hostText.contains(":") { return fail("put an IPv6 address in brackets") }
        } else {
            hostText = ""
            portText = text[...]
        }
        guard let port = UInt16(portText), port > 0 else { return fail("the port must be a number from 1 to 65535") }
        if hostText.isEmpty || hostText == "localhost" { hostText = "127.0.0.1" }
        if text.hasPrefix("[") {
            guard let bytes = parseIPv6(hostText) else { return fail("'\(hostText)' is not an IPv6 address") }
            return .success(ListenAddress(host: .ipv6(bytes), port: port))
        }
        guard let bytes = parseIPv4(hostText) else { return fail("'\(hostText)' is not an IPv4 address (no host names)") }
        return .success(ListenAddress(host: .ipv4(bytes), port: port))
    }

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    /// RFC 4291 text form: up to eight groups of 1-4 hex digits, one `::` for a run of zeros,
    /// optionally ending in a dotted IPv4 address.
    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        let halves = text.pieces(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring, last: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if last, i == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    result += [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit), let value = UInt16(piece, radix: 16) else {
                    return nil
                }
                result.append(value)
            }
            return result
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], last: false), let tail = groups(halves[1], last: true),
                  head.count + tail.count <= 7 else { return nil }
            all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(halves[0], last: true), only.count == 8 else { return nil }
            all = only
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    /// Compact text form (longest run of two or more zero groups as `::`).
    public static func formatIPv6(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "?" }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var best = (start: -1, length: 0)
        var run = (start: -1, length: 0)
        for (i, group) in groups.enumerated() {
            if group == 0 {
                run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}

extension Substring {
    /// Foundation-free split on a multi-character separator.
    func pieces(separatedBy separator: String) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}

public struct ListenAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
