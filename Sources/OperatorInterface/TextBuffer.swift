/// UTF-8 text appended byte by byte, for the documents written on every status and metrics
/// request: at 256 pairs, Foundation's JSONEncoder and string interpolation cost more than
/// reading the kernel did.
struct TextBuffer {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func append(contentsOf part: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: part) }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Decimal digits, as `String(value)` writes them.
    mutating func append(decimal value: UInt64) {
        var count = 1, rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        bytes.append(contentsOf: repeatElement(0, count: count))
        var next = bytes.count, left = value
        repeat {
            next -= 1
            bytes[next] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: left % 10)
            left /= 10
        } while left > 0
    }

    mutating func append(decimal value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        append(decimal: value.magnitude)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
