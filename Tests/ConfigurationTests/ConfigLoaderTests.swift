@testable import Configuration
import Policy
import XCTest

final class ConfigLoaderTests: XCTestCase {
    private func problems(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [ConfigDiagnostic] {
        switch ConfigLoader.load(text: text) {
        case .success(let settings):
            XCTFail("accepted: \(settings)", file: file, line: line)
            return []
        case .failure(let problems):
            return problems.diagnostics
        }
    }

    func testFullFileReadsEveryKey() throws {
        let settings = try ConfigLoader.load(text: """
        [pairing]
        synthetic = ["eth0", "hn*"]
        vf = ["enP*"]
        settle = 5
        [steering]
        mode = "transparent"
        keep-on-exit = true
        [logging]
        level = "debug"
        format = "json"
        """).get()
        XCTAssertEqual(settings, RunSettings(
            syntheticPatterns: [try Glob("eth0"), try Glob("hn*")], vfPatterns: [try Glob("enP*")], settle: 5,
            mode: .transparent, keepSteeringOnExit: true, logLevel: .debug, logFormat: .json))
    }

    func testDriverSelectorsAreRead() throws {
        let settings = try ConfigLoader.load(text: "[pairing]\nsynthetic = [\"driver:virtio_net\", \"hn*\"]\n").get()
        XCTAssertEqual(settings.syntheticPatterns, [try Glob("driver:virtio_net"), try Glob("hn*")])
    }

    func testEmptyFileSetsNothing() throws {
        XCTAssertEqual(try ConfigLoader.load(text: "").get(), RunSettings())
        XCTAssertEqual(try ConfigLoader.load(text: "# only a comment\n[logging]\n").get(), RunSettings())
    }

    func testSchemaProblemsNameKeyAndLine() {
        // (file, line, message fragment)
        let table: [(String, Int, String)] = [
            ("[pairing]\nsettle = \"2\"", 2, "pairing.settle must be a number of seconds such as 2 or 0.5, not a string"),
            ("[pairing]\nsettle = 3601", 2, "pairing.settle must be between 0 and 3600 seconds, got 3601"),
            ("[pairing]\nsettle = -0.5", 2, "pairing.settle must be between 0 and 3600 seconds, got -0.5"),
            ("[pairing]\nsynthetic = \"eth*\"", 2, #"pairing.synthetic must be an array of strings such as ["hn*", "driver:virtio_net"], not a string"#),
            ("[pairing]\nvf = [\"ok\",\n 3]", 3, "pairing.vf must be an array of strings; element 2 is an integer"),
            ("[pairing]\nvf = [\"eth[0\"]", 2, "pairing.vf: pattern 'eth[0' has a '[' without a closing ']'"),
            ("[pairing]\nvf = [\"\"]", 2, "pairing.vf: empty interface name pattern"),
            ("[pairing]\nsynthetic = [\"hn*\",\n \"driver:\"]", 3,
             "pairing.synthetic: 'driver:' needs a driver name, as ethtool -i reports it (e.g. driver:virtio_net)"),
            ("[pairing]\nsynthetic = [\"driver:\(String(repeating: "v", count: 58))\"]", 2,
             "pairing.synthetic: pattern of 65 characters is longer than the limit of 64"),
            ("[steering]\nmode = \"fast\"", 2, #"steering.mode must be one of "transparent", "non-transparent", got "fast""#),
            ("[pairing]\nallow-vf-kinds = [\"bridge\"]", 2, "pairing.allow-vf-kinds: a bridge device is never a VF"),
            ("[pairing]\nallow-vf-kinds = [\"mac vlan\"]", 2, "is not a link kind"),
            ("[steering]\nkeep-on-exit = \"yes\"", 2, "steering.keep-on-exit must be true or false (unquoted), not a string"),
            ("[steering]\ndrain-until = \"never\"", 2, #"steering.drain-until must be one of "undrain", "vf-return", got "never""#),
            ("[steering]\n\ndrain-until = true", 3, #"steering.drain-until must be one of "undrain", "vf-return", not a boolean"#),
            ("[logging]\nlevel = 3", 2, "logging.level must be one of \"trace\""),
            ("[logging]\nformat = \"xml\"", 2, #"logging.format must be one of "text", "json", got "xml""#),
            ("[pairing]\nsetle = 1", 2, "unknown key 'setle' in [pairing]; did you mean 'settle'? known keys: synthetic, vf, allow-vf-kinds, settle"),
            ("[pairing]\nlevel = \"info\"", 2, "unknown key 'level' in [pairing]; it belongs in [logging]"),
            ("[loging]\nlevel = \"info\"", 1, "unknown table [loging]; did you mean [logging]? known tables: [pairing], [steering], [logging]"),
            ("[pairing.extra]", 1, "unknown table [pairing.extra]"),
            ("settle = 1", 1, "key 'settle' must be under a table header: put it below [pairing]"),
            ("colour = 1", 1, "unknown key 'colour' outside any table"),
        ]
        for (text, line, fragment) in table {
            let diagnostics = problems(text)
            XCTAssertEqual(diagnostics.count, 1, "\(text): \(diagnostics)")
            XCTAssertEqual(diagnostics.first?.line, line, text)
            XCTAssertTrue(diagnostics.first?.message.contains(fragment) == true,
                          "\(text): '\(diagnostics.first?.message ?? "none")' lacks '\(fragment)'")
        }
    }

    func testAllProblemsListedInLineOrder() {
        let diagnostics = problems("""
        [pairing]
        synthetic = ["ok", "bad[", 7]
        settle = 9999
        speed = 1
        [steering]
        keep-on-exit = maybe
        [logging]
        level = "loud"
        """)
        XCTAssertEqual(diagnostics.map(\.line), [2, 2, 3, 4, 6, 8], "\(diagnostics)")
        XCTAssertEqual(diagnostics.map { $0.formatted(path: "f.toml") }.first,
                       "f.toml:2: pairing.synthetic: pattern 'bad[' has a '[' without a closing ']'")
    }

    func testBytesMustBeUTF8AndSmall() {
        guard case .failure(let utf8) = ConfigLoader.load(bytes: Array("[pairing]\nvf = [\"".utf8) + [0xFF] + Array("\"]".utf8)) else {
            return XCTFail("invalid UTF-8 accepted")
        }
        XCTAssertEqual(utf8.diagnostics, [ConfigDiagnostic(line: 2, "not valid UTF-8; save the file as UTF-8")])
        guard case .failure(let large) = ConfigLoader.load(bytes: Array(repeating: UInt8(ascii: "#"), count: ConfigLoader.maximumBytes + 1)) else {
            return XCTFail("oversized file accepted")
        }
        XCTAssertNil(large.diagnostics.first?.line)
    }

    func testFormatting() {
        XCTAssertEqual(ConfigDiagnostic(line: 3, "bad").formatted(path: "/x.toml"), "/x.toml:3: bad")
        XCTAssertEqual(ConfigDiagnostic(line: nil, "bad").formatted(path: "/x.toml"), "/x.toml: bad")
    }
}
