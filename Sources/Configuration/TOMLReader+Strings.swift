/// Quoted strings of the subset: "basic" with escapes, 'literal' without; one line each.
extension TOMLReader {
    mutating func basicString() throws(ParseFailure) -> String {
        if peek(1) == ASCII.quote && peek(2) == ASCII.quote {
            throw fail("multi-line strings (\"\"\"...\"\"\") are not supported; write the string on one line")
        }
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek, c != ASCII.newline, c != ASCII.carriageReturn else {
                throw fail("string is not closed: add '\"' before the end of the line")
            }
            pos += 1
            switch c {
            case ASCII.quote: return String(decoding: out, as: UTF8.self)
            case ASCII.backslash: out.append(contentsOf: try escape())
            case _ where ASCII.isForbiddenControl(c):
                throw fail("control character \(ASCII.unicodeName(UInt32(c), digits: 4)) in a string; write it as an escape such as \\t or \\u0001")
            default: out.append(c)
            }
        }
    }

    /// After a backslash: the UTF-8 bytes of the escaped character.
    mutating func escape() throws(ParseFailure) -> [UInt8] {
        guard let c = peek else { throw fail("string is not closed: add '\"' before the end of the file") }
        pos += 1
        switch c {
        case UInt8(ascii: "b"): return [0x08]
        case UInt8(ascii: "t"): return [0x09]
        case UInt8(ascii: "n"): return [0x0A]
        case UInt8(ascii: "f"): return [0x0C]
        case UInt8(ascii: "r"): return [0x0D]
        case ASCII.quote, ASCII.backslash: return [c]
        case UInt8(ascii: "u"): return try unicodeEscape(digits: 4)
        case UInt8(ascii: "U"): return try unicodeEscape(digits: 8)
        default:
            pos -= 1
            throw fail("unknown escape '\\\(describeByte())' in a string; valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX")
        }
    }

    mutating func unicodeEscape(digits: Int) throws(ParseFailure) -> [UInt8] {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let c = peek, let digit = ASCII.hexDigit(c) else {
                throw fail("\\\(digits == 4 ? "u" : "U") needs exactly \(digits) hexadecimal digits")
            }
            value = value << 4 | digit
            pos += 1
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw fail("\(ASCII.unicodeName(value, digits: 4)) is not a Unicode scalar value (surrogate or above U+10FFFF)")
        }
        return Array(String(Character(scalar)).utf8)
    }

    mutating func literalString() throws(ParseFailure) -> String {
        if peek(1) == ASCII.apostrophe && peek(2) == ASCII.apostrophe {
            throw fail("multi-line literal strings ('''...''') are not supported; write the string on one line")
        }
        pos += 1
        let start = pos
        while true {
            guard let c = peek, c != ASCII.newline, c != ASCII.carriageReturn else {
                throw fail("string is not closed: add \"'\" before the end of the line")
            }
            if c == ASCII.apostrophe { break }
            if ASCII.isForbiddenControl(c) {
                throw fail("control character \(ASCII.unicodeName(UInt32(c), digits: 4)) in a literal string; use a \"basic\" string with an escape")
            }
            pos += 1
        }
        defer { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }
}

extension ASCII {
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    static func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    static func unicodeName(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
