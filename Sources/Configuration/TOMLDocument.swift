/// A parsed TOML-subset file: every table, key and array element keeps the line it was
/// written on, because validation messages must point at lines.
public struct TOMLDocument: Equatable, Sendable {
    /// In file order. The first is the root table (path `[]`, line 0): keys before any `[header]`.
    public var tables: [TOMLTable]

    public init(tables: [TOMLTable] = [TOMLTable(path: [], line: 0)]) { self.tables = tables }

    /// The table with this header path (`["pairing"]`), if the file has it.
    public func table(_ path: [String]) -> TOMLTable? { tables.first { $0.path == path } }
}

public struct TOMLTable: Equatable, Sendable {
    /// Header components: `[a.b]` is `["a", "b"]`; the root table is `[]`.
    public let path: [String]
    public let line: Int
    public var entries: [TOMLEntry] = []

    public init(path: [String], line: Int, entries: [TOMLEntry] = []) {
        self.path = path
        self.line = line
        self.entries = entries
    }

    /// `[a.b]` as written in a header, for messages.
    public var header: String { "[" + path.joined(separator: ".") + "]" }

    public subscript(key: String) -> TOMLEntry? { entries.first { $0.key == key } }
}

/// `key = value` on a line.
public struct TOMLEntry: Equatable, Sendable {
    public let key: String
    public let line: Int
    public let value: TOMLValue

    public init(key: String, line: Int, value: TOMLValue) {
        self.key = key
        self.line = line
        self.value = value
    }
}

/// The value types of the subset. Arrays hold scalars only; each element keeps its line
/// (arrays may span lines).
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLElement])

    /// "a string", "an integer", ...: for "must be X, not Y" messages.
    public var typeName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .boolean: return "a boolean"
        case .array: return "an array"
        }
    }
}

public struct TOMLElement: Equatable, Sendable {
    public let value: TOMLValue
    public let line: Int

    public init(_ value: TOMLValue, line: Int) {
        self.value = value
        self.line = line
    }
}
