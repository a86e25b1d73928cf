@testable import Configuration
import Foundation
import XCTest

/// The default config is generated from the schema; these tests keep the generated text, the
/// example in the repository and the README's reference table in step with it.
final class DefaultConfigTests: XCTestCase {
    private static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testDefaultConfigIsValidAndSetsEveryKeyToItsDefault() throws {
        let settings = try ConfigLoader.load(text: DefaultConfig.text).get()
        XCTAssertEqual(ResolvedSettings(settings), ResolvedSettings.defaults)
        // Every key is written out (so the file documents all of them), none left to defaults.
        let (document, _) = TOMLParser.parse(DefaultConfig.text)
        let written = document.tables.flatMap { table in table.entries.map { "\(table.path.joined(separator: ".")).\($0.key)" } }
        XCTAssertEqual(written, ConfigSchema.keys.map(\.qualifiedName))
        XCTAssertTrue(DefaultConfig.text.hasSuffix("\n"))
    }

    func testEveryKeyNamesItsFlag() {
        for key in ConfigSchema.keys {
            XCTAssertTrue(DefaultConfig.text.contains("# Flag: \(key.flag)\n\(key.name) = "), key.qualifiedName)
        }
    }

    func testRepositoryExampleIsTheDefaultConfig() throws {
        let example = try String(contentsOf: Self.repository.appendingPathComponent("config/hnagent.toml"), encoding: .utf8)
        XCTAssertEqual(example, DefaultConfig.text,
                       "config/hnagent.toml is out of date: regenerate it with `hnagent print-default-config > config/hnagent.toml`")
    }

    func testReadmeReferencesEveryKey() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        for key in ConfigSchema.keys {
            XCTAssertTrue(readme.contains("| `\(key.qualifiedName)` |"), "README's config reference lacks \(key.qualifiedName)")
        }
    }

    func testSuggestions() {
        XCTAssertEqual(Suggestion.closest(to: "setle", among: ["synthetic", "vf", "settle"]), "settle")
        XCTAssertEqual(Suggestion.closest(to: "VF", among: ["synthetic", "vf", "settle"]), "vf")
        XCTAssertNil(Suggestion.closest(to: "colour", among: ["synthetic", "vf", "settle"]))
        XCTAssertEqual(Suggestion.distance("kitten", "sitting"), 3)
    }
}
