/// A parser for the TOML subset hnagent's config file uses: `[table]` headers (dotted names
/// allowed), `key = value` with bare keys, basic and literal strings with the basic escapes,
/// decimal integers, floats, booleans, and arrays of scalars (which may span lines), plus
/// comments. Anything else TOML allows (multi-line strings, inline tables, arrays of tables,
/// dotted or quoted keys, dates, hex numbers, inf/nan) is rejected by name, never misread.
///
/// Written by hand rather than taken from a TOML package because every message must carry the
/// line it is about, and so that all problems are reported, not just the first: after an error
/// the parser skips to the next line (or past an unclosed array) and goes on.
/// Pure: no I/O; it works on the bytes of a String that is already valid UTF-8.
public enum TOMLParser {
    public static func parse(_ text: String) -> (document: TOMLDocument, diagnostics: [ConfigDiagnostic]) {
        var parser = TOMLReader(bytes: Array(text.utf8))
        parser.run()
        return (parser.document, parser.diagnostics)
    }
}

/// A syntax error. `resumeHere`: the cursor already stands at the start of the next statement
/// (an unclosed array ended by a new `key =` line), so recovery must not skip anything.
struct ParseFailure: Error {
    let line: Int
    let message: String
    var resumeHere = false
}

/// Byte classes of the grammar (the file is read as UTF-8 bytes; all syntax is ASCII).
enum ASCII {
    static let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), hash = UInt8(ascii: "#")
    static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{"), equals = UInt8(ascii: "="), comma = UInt8(ascii: ",")
    static let dot = UInt8(ascii: "."), quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'")
    static let backslash = UInt8(ascii: "\\")

    static func isBareKey(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    /// Characters of an unquoted scalar (numbers, booleans, and the things we reject by name).
    static func isScalar(_ c: UInt8) -> Bool {
        isBareKey(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":")
    }

    /// Control characters TOML forbids in strings (tab is allowed).
    static func isForbiddenControl(_ c: UInt8) -> Bool { (c < 0x20 && c != tab) || c == 0x7F }
}

/// The cursor over the file's bytes: reads one statement at a time into `document` and
/// collects diagnostics. Strings and error recovery are in the extensions next to this file.
struct TOMLReader {
    let bytes: [UInt8]
    var pos = 0
    var line = 1
    /// Set while parsing an array, so recovery knows to skip to its closing bracket.
    var insideArray = false
    var document = TOMLDocument()
    var current = 0
    var diagnostics: [ConfigDiagnostic] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }   // a UTF-8 byte order mark
    }

    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }
    func peek(_ offset: Int) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }

    mutating func run() {
        while pos < bytes.count {
            do {
                try statement()
            } catch {
                diagnostics.append(ConfigDiagnostic(line: error.line, error.message))
                let wasInArray = insideArray
                insideArray = false
                if !error.resumeHere { recover(skippingArray: wasInArray) }
            }
        }
    }

    // MARK: statements

    mutating func statement() throws(ParseFailure) {
        skipBlanks()
        guard let c = peek else { return }
        switch c {
        case ASCII.newline, ASCII.carriageReturn, ASCII.hash: try endOfLine(after: "")
        case ASCII.openBracket: try header()
        default: try keyValue()
        }
    }

    mutating func header() throws(ParseFailure) {
        let headerLine = line
        pos += 1
        if peek == ASCII.openBracket {
            throw fail("arrays of tables ([[...]]) are not supported; use a single [table] header")
        }
        skipBlanks()
        var path = [try bareKey(what: "table name")]
        while true {
            skipBlanks()
            if peek == ASCII.dot {
                pos += 1
                skipBlanks()
                path.append(try bareKey(what: "table name"))
            } else if peek == ASCII.closeBracket {
                pos += 1
                break
            } else {
                throw fail("expected ']' to close the table header, found \(describeNext())")
            }
        }
        let table = TOMLTable(path: path, line: headerLine)
        if let existing = document.tables.firstIndex(where: { $0.path == path && $0.line > 0 }) {
            // Keep checking the keys that follow, against the first definition.
            diagnostics.append(ConfigDiagnostic(line: headerLine,
                "table \(table.header) is defined twice (first on line \(document.tables[existing].line)); merge the two sections"))
            current = existing
        } else {
            document.tables.append(table)
            current = document.tables.count - 1
        }
        try endOfLine(after: "the table header")
    }

    mutating func keyValue() throws(ParseFailure) {
        let keyLine = line
        let key = try bareKey(what: "key")
        skipBlanks()
        if peek == ASCII.dot {
            throw fail("dotted keys ('\(key).…') are not supported; put the key under a [table] header")
        }
        guard peek == ASCII.equals else {
            throw fail("expected '=' after the key '\(key)', found \(describeNext())")
        }
        pos += 1
        skipBlanks()
        let value = try value()
        try endOfLine(after: "the value of '\(key)'")
        if let first = document.tables[current][key] {
            diagnostics.append(ConfigDiagnostic(line: keyLine,
                "duplicate key '\(key)' in \(document.tables[current].header) (first set on line \(first.line)); keep one"))
        } else {
            document.tables[current].entries.append(TOMLEntry(key: key, line: keyLine, value: value))
        }
    }

    mutating func bareKey(what: String) throws(ParseFailure) -> String {
        if peek == ASCII.quote || peek == ASCII.apostrophe {
            throw fail("quoted \(what)s are not supported; use a bare \(what) (letters, digits, '_' and '-')")
        }
        let start = pos
        while let c = peek, ASCII.isBareKey(c) { pos += 1 }
        guard pos > start else {
            throw fail("expected a \(what) (letters, digits, '_' and '-'), found \(describeNext())")
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    /// Blanks, an optional comment, then a newline or the end of the file.
    mutating func endOfLine(after what: String) throws(ParseFailure) {
        skipBlanks()
        if peek == ASCII.hash { skipComment() }
        guard let c = peek else { return }
        if c == ASCII.newline || c == ASCII.carriageReturn {
            try consumeNewline()
            return
        }
        throw fail("unexpected \(describeRestOfLine()) after \(what); start a comment with '#'")
    }

    // MARK: values

    mutating func value() throws(ParseFailure) -> TOMLValue {
        guard let c = peek, c != ASCII.newline, c != ASCII.carriageReturn, c != ASCII.hash else {
            throw fail("missing value after '='")
        }
        switch c {
        case ASCII.quote: return .string(try basicString())
        case ASCII.apostrophe: return .string(try literalString())
        case ASCII.openBracket: return try array()
        case ASCII.openBrace: throw fail("inline tables ({...}) are not supported; use a [table] section")
        default: return try scalar()
        }
    }

    mutating func array() throws(ParseFailure) -> TOMLValue {
        let openLine = line
        pos += 1
        insideArray = true
        var elements: [TOMLElement] = []
        while true {
            try skipArraySpace(openLine: openLine)
            if peek == ASCII.closeBracket { pos += 1; break }
            if peek == ASCII.openBracket { throw fail("nested arrays are not supported") }
            if peek == nil { throw unclosedArray(openLine) }
            let elementLine = line
            elements.append(TOMLElement(try value(), line: elementLine))
            try skipArraySpace(openLine: openLine)
            switch peek {
            case ASCII.comma: pos += 1
            case ASCII.closeBracket: pos += 1; insideArray = false; return .array(elements)
            case nil: throw unclosedArray(openLine)
            default: throw fail("expected ',' or ']' in the array opened on line \(openLine), found \(describeNext())")
            }
        }
        insideArray = false
        return .array(elements)
    }

    func unclosedArray(_ openLine: Int) -> ParseFailure {
        ParseFailure(line: openLine, message: "array is not closed: add ']'", resumeHere: true)
    }

    /// Blanks, comments and newlines between array elements. A line that starts a new
    /// statement means the array was never closed: report it where it was opened.
    mutating func skipArraySpace(openLine: Int) throws(ParseFailure) {
        while true {
            skipBlanks()
            if peek == ASCII.hash { skipComment() }
            guard let c = peek, c == ASCII.newline || c == ASCII.carriageReturn else { return }
            try consumeNewline()
            if startsStatement(at: pos) { throw unclosedArray(openLine) }
        }
    }

    /// An unquoted scalar: a boolean or a decimal number; everything else is named and refused.
    mutating func scalar() throws(ParseFailure) -> TOMLValue {
        let start = pos
        while let c = peek, ASCII.isScalar(c) { pos += 1 }
        guard pos > start else {
            throw fail("expected a value (a \"string\", a number, true, false or an [array]), found \(describeNext())")
        }
        let token = String(decoding: bytes[start..<pos], as: UTF8.self)
        switch TOMLNumber.parse(token) {
        case .success(let value): return value
        case .failure(let problem):
            pos = start
            throw fail(problem.message)
        }
    }

    // MARK: lexical helpers

    mutating func skipBlanks() {
        while let c = peek, c == ASCII.space || c == ASCII.tab { pos += 1 }
    }

    mutating func skipComment() {
        while let c = peek, c != ASCII.newline, c != ASCII.carriageReturn { pos += 1 }
    }

    mutating func consumeNewline() throws(ParseFailure) {
        if peek == ASCII.carriageReturn {
            guard peek(1) == ASCII.newline else {
                throw fail("a carriage return must be followed by a newline (use LF or CRLF line ends)")
            }
            pos += 1
        }
        pos += 1
        line += 1
    }
}
