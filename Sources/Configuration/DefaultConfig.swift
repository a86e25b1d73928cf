/// The text `hnagent print-default-config` prints and `config/hnagent.toml` holds: every key
/// with its built-in default and what it means, generated from `ConfigSchema` so it cannot
/// drift from what the parser accepts.
public enum DefaultConfig {
    public static var text: String {
        var lines = [
            "# hnagent configuration (TOML). hnagent run reads \(ConfigLoader.defaultPath),",
            "# or the file given with --config PATH.",
            "#",
            "# Every key is optional: a key left out takes the built-in default, which is the value",
            "# shown here. A command-line flag of `hnagent run` wins over this file.",
            "# Check the file after editing it: hnagent check-config PATH",
            "# Syntax: a subset of TOML: [table] headers, key = \"string\" | number | true | false |",
            "# [\"array\", \"of strings\"], and # comments.",
        ]
        let defaults = ResolvedSettings.defaults
        for table in ConfigSchema.tables {
            lines += ["", "[\(table)]"]
            for (index, key) in ConfigSchema.keys(in: table).enumerated() {
                if index > 0 { lines.append("") }
                lines += key.help.map { "# " + $0 }
                lines.append("# Flag: \(key.flag)")
                lines.append("\(key.name) = \(key.render(defaults))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
