// The testbed's names, addresses and MACs, read from scripts/lib/testbed.env: the file the
// shell testbed (scripts/lib/testbed.sh) reads too, so the two never drift apart.

import Foundation

enum TestbedDefinition {
    static let path = Repository.path("scripts/lib/testbed.env")

    /// KEY=VALUE lines; comments and blank lines skipped.
    static let values: [String: String] = {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            fatalError("cannot read \(path): the testbed definition shared with scripts/lib/testbed.sh")
        }
        return parse(text)
    }()

    static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    static func value(_ key: String) -> String {
        guard let value = values[key], !value.isEmpty else { fatalError("\(path) does not set \(key)") }
        return value
    }
}
