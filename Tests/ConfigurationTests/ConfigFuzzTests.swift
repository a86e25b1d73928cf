@testable import Configuration
import XCTest

/// Random edits of the default config: the loader must never trap or hang, and every
/// diagnostic must point at a line that exists (an operator is sent to it).
final class ConfigFuzzTests: XCTestCase {
    /// SplitMix64: seeded, so a failure reproduces.
    private struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static let alphabet = Array("[]{}\"'\\=,.#\n\r\t -_+:0123456789aeEfinrtuxU\u{1}é".utf8)

    func testRandomEditsGiveLineNumberedDiagnostics() {
        var random = Generator(state: 0x686E_6167_656E_7431)
        let base = Array(DefaultConfig.text.utf8)
        for iteration in 0..<3000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let at = Int.random(in: 0...bytes.count, using: &random)
                let byte = Self.alphabet.randomElement(using: &random)!
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes.insert(byte, at: at)
                case 1 where at < bytes.count: bytes.remove(at: at)
                default: if at < bytes.count { bytes[at] = byte }
                }
            }
            let lineCount = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
            guard case .failure(let problems) = ConfigLoader.load(bytes: bytes) else { continue }
            XCTAssertFalse(problems.diagnostics.isEmpty)
            for diagnostic in problems.diagnostics {
                guard let line = diagnostic.line else { continue }
                XCTAssertTrue((1...lineCount).contains(line),
                              "iteration \(iteration): line \(line) of \(lineCount): \(diagnostic.message)")
            }
        }
    }
}
