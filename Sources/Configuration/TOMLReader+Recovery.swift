/// Error recovery and the text of messages: what the reader skips after a failure, and how
/// it names what it found.
extension TOMLReader {
    /// Skips the rest of the failed line; after a failure inside an array, also the lines up to
    /// its closing bracket or the next statement, so one mistake gives one message.
    mutating func recover(skippingArray: Bool) {
        skipLine()
        guard skippingArray else { return }
        while pos < bytes.count, !startsStatement(at: pos) {
            if skipLine() { return }
        }
    }

    /// Skips to the start of the next line; returns whether a ']' outside quotes was passed.
    @discardableResult
    mutating func skipLine() -> Bool {
        var sawClose = false
        var quote: UInt8?
        while let c = peek, c != ASCII.newline {
            if let q = quote {
                if c == q { quote = nil } else if c == ASCII.backslash && q == ASCII.quote { pos += 1 }
            } else if c == ASCII.quote || c == ASCII.apostrophe {
                quote = c
            } else if c == ASCII.hash {
                while let d = peek, d != ASCII.newline { pos += 1 }
                break
            } else if c == ASCII.closeBracket {
                sawClose = true
            }
            pos += 1
        }
        if peek == ASCII.newline { pos += 1; line += 1 }
        return sawClose
    }

    /// Whether the line at `index` looks like `[table]` or `key =`.
    func startsStatement(at index: Int) -> Bool {
        var i = index
        while i < bytes.count, bytes[i] == ASCII.space || bytes[i] == ASCII.tab { i += 1 }
        guard i < bytes.count else { return false }
        if bytes[i] == ASCII.openBracket {
            i += 1
            while i < bytes.count, bytes[i] == ASCII.space || bytes[i] == ASCII.openBracket { i += 1 }
            return i < bytes.count && ASCII.isBareKey(bytes[i]) && !ASCII.isDigit(bytes[i])
        }
        let keyStart = i
        while i < bytes.count, ASCII.isBareKey(bytes[i]) { i += 1 }
        guard i > keyStart else { return false }
        while i < bytes.count, bytes[i] == ASCII.space || bytes[i] == ASCII.tab { i += 1 }
        return i < bytes.count && bytes[i] == ASCII.equals
    }

    func fail(_ message: String) -> ParseFailure { ParseFailure(line: line, message: message) }

    /// The next character for a message: `'x'`, or "the end of the line/file".
    func describeNext() -> String {
        guard let c = peek else { return "the end of the file" }
        if c == ASCII.newline || c == ASCII.carriageReturn { return "the end of the line" }
        return "'\(describeByte())'"
    }

    /// The (possibly multi-byte) character at the cursor, for messages.
    func describeByte() -> String {
        var end = pos + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        let text = String(decoding: bytes[pos..<min(end, bytes.count)], as: UTF8.self)
        return text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F } ? text : ASCII.unicodeName(UInt32(bytes[pos]), digits: 4)
    }

    /// The rest of the line, shortened, for "unexpected text" messages.
    func describeRestOfLine() -> String {
        var end = pos
        while end < bytes.count, bytes[end] != ASCII.newline, bytes[end] != ASCII.carriageReturn { end += 1 }
        let text = String(decoding: bytes[pos..<end], as: UTF8.self)
        return "text '\(text.count > 40 ? text.prefix(40) + "…" : text)'"
    }
}
