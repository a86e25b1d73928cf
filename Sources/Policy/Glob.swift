/// A shell-style name pattern (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`) for interface names.
/// Pure Swift so that Policy needs no libc. Patterns come from flags and config files, so they
/// are bounded (`maximumLength`) and matched in O(pattern x name) steps: 40 stars and a letter
/// once kept a recursive backtracking matcher at 100% CPU before the agent was ready.
public struct Glob: Hashable, Sendable, CustomStringConvertible {
    public let pattern: String
    /// Interface names have at most 15 bytes; 64 characters leave room for escapes and sets.
    public static let maximumLength = 64
    private let tokens: [Token]

    private enum Token: Hashable {
        case literal(Character)
        case any
        case star
        case set(negated: Bool, items: [SetItem])

        /// Whether this single-character token takes `c` (a star is handled by the matcher).
        func accepts(_ c: Character) -> Bool {
            switch self {
            case .star: return false
            case .any: return true
            case .literal(let l): return l == c
            case .set(let negated, let items):
                let hit = items.contains { item in
                    switch item {
                    case .single(let s): return s == c
                    case .range(let lo, let hi): return lo <= c && c <= hi
                    }
                }
                return hit != negated
            }
        }
    }

    private enum SetItem: Hashable {
        case single(Character)
        case range(Character, Character)
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case unterminatedBracket(String)
        case tooLong(length: Int, limit: Int)
        public var description: String {
            switch self {
            case .empty: return "empty interface name pattern"
            case .tooLong(let length, let limit):
                return "pattern of \(length) characters is longer than the limit of \(limit)"
            case .unterminatedBracket(let p): return "pattern '\(p)' has a '[' without a closing ']'"
            }
        }
    }

    public init(_ pattern: String) throws {
        guard !pattern.isEmpty else { throw ParseError.empty }
        let length = pattern.count
        guard length <= Self.maximumLength else { throw ParseError.tooLong(length: length, limit: Self.maximumLength) }
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
        matchCountingSteps(name).matches
    }

    var tokenCount: Int { tokens.count }

    /// Iterative matching with one resumption point, the last star: when a later token fails,
    /// that star takes one more character and matching resumes after it. An earlier star never
    /// needs to be revisited (the later one can absorb whatever it would), so the work is at
    /// most (tokens + 1) x (name + 1) steps, without recursion, whatever the pattern.
    func matchCountingSteps(_ name: String) -> (matches: Bool, steps: Int) {
        let characters = Array(name)
        var steps = 0
        var t = 0, n = 0
        var resume: (token: Int, name: Int)?
        while n < characters.count {
            steps += 1
            if t < tokens.count, case .star = tokens[t] {
                resume = (t + 1, n)
                t += 1
            } else if t < tokens.count, tokens[t].accepts(characters[n]) {
                t += 1
                n += 1
            } else if let star = resume {
                resume = (star.token, star.name + 1)
                t = star.token
                n = star.name + 1
            } else {
                return (false, steps)
            }
        }
        while t < tokens.count, case .star = tokens[t] {
            steps += 1
            t += 1
        }
        return (t == tokens.count, steps)
    }

    public var description: String { pattern }
}
