/// Unquoted scalars of the subset: `true`, `false`, decimal integers and floats (with `_`
/// between digits, as TOML allows). What TOML has beyond that is refused with its name.
enum TOMLNumber {
    struct Problem: Error, Equatable { let message: String }

    static func parse(_ token: String) -> Result<TOMLValue, Problem> {
        if token == "true" { return .success(.boolean(true)) }
        if token == "false" { return .success(.boolean(false)) }
        let unsigned = token.first == "+" || token.first == "-" ? String(token.dropFirst()) : token
        if unsigned == "inf" || unsigned == "nan" {
            return .failure(Problem(message: "inf and nan are not supported; write a finite number"))
        }
        if token.contains(":") || looksLikeDate(token) {
            return .failure(Problem(message: "dates and times are not supported"))
        }
        if ["0x", "0o", "0b"].contains(where: unsigned.hasPrefix) {
            return .failure(Problem(message: "hexadecimal, octal and binary numbers are not supported; write '\(token)' in decimal"))
        }
        if let first = token.unicodeScalars.first, first.properties.isAlphabetic {
            return .failure(Problem(message: "strings must be quoted: write \"\(token)\""))
        }
        return number(token)
    }

    /// `1979-05-27...`: four digits, '-', two digits, '-', two digits.
    private static func looksLikeDate(_ token: String) -> Bool {
        let shape = Array("dddd-dd-dd")
        let chars = Array(token.prefix(shape.count))
        guard chars.count == shape.count else { return false }
        return zip(shape, chars).allSatisfy { want, got in want == "d" ? (got.isASCII && got.isNumber) : got == want }
    }

    /// `[+-]? int ( . digits )? ( [eE] [+-]? digits )?`, integer part without leading zeros.
    private static func number(_ token: String) -> Result<TOMLValue, Problem> {
        let invalid = Problem(message: "invalid number '\(token)'")
        var chars = token[...]
        var cleaned = ""
        if let sign = chars.first, sign == "+" || sign == "-" {
            if sign == "-" { cleaned.append("-") }
            chars = chars.dropFirst()
        }
        guard let integer = digits(&chars), !integer.isEmpty else { return .failure(invalid) }
        if integer.count > 1 && integer.first == "0" {
            return .failure(Problem(message: "leading zeros are not allowed in '\(token)'"))
        }
        cleaned += integer
        var isFloat = false
        if chars.first == "." {
            chars = chars.dropFirst()
            guard let fraction = digits(&chars), !fraction.isEmpty else { return .failure(invalid) }
            cleaned += "." + fraction
            isFloat = true
        }
        if let e = chars.first, e == "e" || e == "E" {
            chars = chars.dropFirst()
            cleaned += "e"
            if let sign = chars.first, sign == "+" || sign == "-" {
                cleaned.append(sign)
                chars = chars.dropFirst()
            }
            guard let exponent = digits(&chars), !exponent.isEmpty else { return .failure(invalid) }
            cleaned += exponent
            isFloat = true
        }
        guard chars.isEmpty else { return .failure(invalid) }
        if isFloat {
            guard let value = Double(cleaned), value.isFinite else {
                return .failure(Problem(message: "'\(token)' is out of range for a float"))
            }
            return .success(.float(value))
        }
        guard let value = Int64(cleaned) else {
            return .failure(Problem(message: "'\(token)' is out of range for a 64-bit integer"))
        }
        return .success(.integer(value))
    }

    /// Leading decimal digits, with single `_` allowed only between two digits; nil when an
    /// underscore is misplaced.
    private static func digits(_ chars: inout Substring) -> String? {
        var out = ""
        var lastWasDigit = false
        while let c = chars.first {
            if c.isASCII, c.isNumber {
                out.append(c)
                lastWasDigit = true
            } else if c == "_" {
                guard lastWasDigit, let next = chars.dropFirst().first, next.isASCII, next.isNumber else { return nil }
                lastWasDigit = false
            } else {
                break
            }
            chars = chars.dropFirst()
        }
        return out
    }
}
