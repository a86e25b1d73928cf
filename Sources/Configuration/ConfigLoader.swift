import Policy

/// A config file's bytes to the `RunSettings` layer it sets, or every problem in it.
/// Pure: the CLI reads the file and prints the diagnostics.
public enum ConfigLoader {
    /// The file `run` and `check-config` read when no path is given.
    public static let defaultPath = "/etc/hnagent/hnagent.toml"

    /// Larger files are refused unread: a config is a few hundred bytes, so this is a wrong path.
    public static let maximumBytes = 1 << 20

    public static func load(bytes: [UInt8]) -> Result<RunSettings, ConfigProblems> {
        guard bytes.count <= maximumBytes else {
            return .failure(ConfigProblems([ConfigDiagnostic(line: nil,
                "file is larger than \(maximumBytes >> 20) MiB; is this really an hnagent config file?")]))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(ConfigProblems([ConfigDiagnostic(line: firstInvalidUTF8Line(bytes),
                "not valid UTF-8; save the file as UTF-8")]))
        }
        return load(text: text)
    }

    public static func load(text: String) -> Result<RunSettings, ConfigProblems> {
        let (document, syntax) = TOMLParser.parse(text)
        let (settings, semantic) = validate(document)
        // Stable sort: one list in file order, syntax before meaning on the same line.
        let all = (syntax + semantic).enumerated().sorted { a, b in
            (a.element.line ?? 0, a.offset) < (b.element.line ?? 0, b.offset)
        }.map(\.element)
        return all.isEmpty ? .success(settings) : .failure(ConfigProblems(all))
    }

    /// Checks every table and key against `ConfigSchema` and reads the known ones.
    static func validate(_ document: TOMLDocument) -> (RunSettings, [ConfigDiagnostic]) {
        var settings = RunSettings()
        var diagnostics: [ConfigDiagnostic] = []
        let knownTables = ConfigSchema.tables.map { "[\($0)]" }.joined(separator: ", ")
        for table in document.tables {
            guard !table.path.isEmpty else {
                for entry in table.entries {
                    diagnostics.append(ConfigDiagnostic(line: entry.line, rootKeyMessage(entry.key, knownTables)))
                }
                continue
            }
            let name = table.path.joined(separator: ".")
            guard ConfigSchema.tables.contains(name) else {
                let hint = Suggestion.closest(to: name, among: ConfigSchema.tables).map { "did you mean [\($0)]? " } ?? ""
                diagnostics.append(ConfigDiagnostic(line: table.line,
                    "unknown table \(table.header); \(hint)known tables: \(knownTables)"))
                continue
            }
            for entry in table.entries {
                guard let key = ConfigSchema.key(table: name, name: entry.key) else {
                    diagnostics.append(ConfigDiagnostic(line: entry.line, unknownKeyMessage(entry.key, table: name)))
                    continue
                }
                do {
                    try key.read(ValueReader(entry: entry, key: key), &settings)
                } catch let problems as ConfigProblems {
                    diagnostics += problems.diagnostics
                } catch {
                    diagnostics.append(ConfigDiagnostic(line: entry.line, "\(key.qualifiedName): \(error)"))
                }
            }
        }
        return (settings, diagnostics)
    }

    private static func rootKeyMessage(_ key: String, _ knownTables: String) -> String {
        let homes = ConfigSchema.keys.filter { $0.name == key }.map { "[\($0.table)]" }
        if let home = homes.first {
            return "key '\(key)' must be under a table header: put it below \(home)"
        }
        return "unknown key '\(key)' outside any table; keys belong under one of \(knownTables)"
    }

    private static func unknownKeyMessage(_ key: String, table: String) -> String {
        let names = ConfigSchema.keys(in: table).map(\.name)
        var message = "unknown key '\(key)' in [\(table)]; "
        if let elsewhere = ConfigSchema.keys.first(where: { $0.name == key && $0.table != table }) {
            message += "it belongs in [\(elsewhere.table)]; "
        } else if let near = Suggestion.closest(to: key, among: names) {
            message += "did you mean '\(near)'? "
        }
        return message + "known keys: " + names.joined(separator: ", ")
    }

    private static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int? {
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where String(validating: line, as: UTF8.self) == nil {
            return index + 1
        }
        return nil
    }
}
