/// A shell-style name pattern (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`) for interface names.
/// Pure Swift so that Policy needs no libc; interface names are at most 15 bytes, so the
/// backtracking matcher is cheap.
public struct Glob: Hashable, Sendable, CustomStringConvertible {
    public let pattern: String
    private let tokens: [Token]

    private enum Token: Hashable {
        case literal(Character)
        case any
        case star
        case set(negated: Bool, items: [SetItem])
    }

    private enum SetItem: Hashable {
        case single(Character)
        case range(Character, Character)
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case unterminatedBracket(String)
        public var description: String {
            switch self {
            case .empty: return "empty interface name pattern"
            case .unterminatedBracket(let p): return "pattern '\(p)' has a '[' without a closing ']'"
            }
        }
    }

    public init(_ pattern: String) throws {
        guard !pattern.isEmpty else { throw ParseError.empty }
        self.pattern = pattern
        var tokens: [Token] = []
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "*": tokens.append(.star); i += 1
            case "?": tokens.append(.any); i += 1
            case "[":
                var j = i + 1
                var negated = false
                if j < chars.count, chars[j] == "!" || chars[j] == "^" { negated = true; j += 1 }
                var items: [SetItem] = []
                var first = true
                while j < chars.count, chars[j] != "]" || first {
                    first = false
                    if j + 2 < chars.count, chars[j + 1] == "-", chars[j + 2] != "]" {
                        items.append(.range(chars[j], chars[j + 2]))
                        j += 3
                    } else {
                        items.append(.single(chars[j]))
                        j += 1
                    }
                }
                guard j < chars.count else { throw ParseError.unterminatedBracket(pattern) }
                tokens.append(.set(negated: negated, items: items))
                i = j + 1
            case "\\" where i + 1 < chars.count:
                tokens.append(.literal(chars[i + 1])); i += 2
            default:
                tokens.append(.literal(c)); i += 1
            }
        }
        self.tokens = tokens
    }

    public func matches(_ name: String) -> Bool {
        Self.match(tokens[...], Array(name)[...])
    }

    private static func match(_ tokens: ArraySlice<Token>, _ name: ArraySlice<Character>) -> Bool {
        guard let token = tokens.first else { return name.isEmpty }
        let rest = tokens.dropFirst()
        switch token {
        case .star:
            var tail = name
            while true {
                if match(rest, tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        case .any:
            guard !name.isEmpty else { return false }
            return match(rest, name.dropFirst())
        case .literal(let c):
            guard name.first == c else { return false }
            return match(rest, name.dropFirst())
        case .set(let negated, let items):
            guard let c = name.first else { return false }
            let hit = items.contains { item in
                switch item {
                case .single(let s): return s == c
                case .range(let lo, let hi): return lo <= c && c <= hi
                }
            }
            guard hit != negated else { return false }
            return match(rest, name.dropFirst())
        }
    }

    public var description: String { pattern }
}
