@testable import OperatorInterface
@testable import Engine
@testable import POSIX
import Foundation
import Policy
import XCTest

/// README and `--help` name every event kind and every pair state: the types are the source,
/// README and the built binary's help what operators read.
final class OperatorVocabularyTests: XCTestCase {
    private static let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    func testReadmeListsEveryEventKind() throws {
        let listed = try ReadmeVocabulary(contentsOf: Self.readme).eventKinds
        XCTAssertEqual(listed, PairActivity.Kind.allCases.map(\.rawValue),
                       "README's 'Kinds:' paragraph under 'hnagent events' must list PairActivity.Kind in order")
    }

    func testReadmeListsEveryPairState() throws {
        let listed = try ReadmeVocabulary(contentsOf: Self.readme).pairStates
        XCTAssertEqual(listed, PairState.allCases.map(\.rawValue), "README's state table under 'hnagent status'")
    }

    func testHelpListsEveryEventKindAndPairState() throws {
        func help(_ command: String) throws -> String {
            // The test runner (hnagentPackageTests.xctest) lies next to the binary it was built with.
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hnagent")
            let process = Process()
            process.executableURL = binary
            process.arguments = [command, "--help"]
            process.environment = ["COLUMNS": "80"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "\(binary.path) \(command) --help")
            // Wrapped at the terminal's width: compare words, not lines.
            return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        let events = try help("events")
        for kind in PairActivity.Kind.allCases {
            XCTAssertTrue(events.contains(" \(kind.rawValue),") || events.contains(" \(kind.rawValue).")
                          || events.contains(" \(kind.rawValue) "), "hnagent events --help lacks \(kind.rawValue)")
        }
        let status = try help("status")
        for state in PairState.allCases {
            XCTAssertTrue(status.contains(" \(state.rawValue),") || status.contains(" \(state.rawValue) ")
                          || status.contains(" \(state.rawValue)."), "hnagent status --help lacks \(state.rawValue)")
        }
    }

    func testMetricsHaveOneSeriesPerState() {
        let board = StatusBoard(mode: .transparent)
        let now = MonotonicInstant(nanoseconds: 1)
        let pair = PairSnapshot(synthetic: NamedInterface(2, name: "hn0"), syntheticLink: nil, vf: nil, vfLink: nil,
                                phase: .waitingForVF, steering: false, retryAt: nil, lastReason: nil, relay: TrafficCounters(),
                                recovered: TrafficCounters(), vfTraffic: nil, memberships: [])
        let snapshot = ReconcilerSnapshot(pairs: [pair], links: [:], originals: SavedOriginals(), reconciles: 0)
        let facts = AgentFacts(pid: 1, mode: .transparent, settle: .seconds(2), started: now, startedWall: WallTime(seconds: 0, nanoseconds: 0))
        let text = MetricsExposition.render(board.report(snapshot, facts: facts, now: now))
        let states = text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("hnagent_pair_state{"), let open = line.range(of: "state=\"") else { return nil }
            return String(line[open.upperBound...].prefix { $0 != "\"" })
        }
        XCTAssertEqual(states, PairState.allCases.map(\.rawValue))
    }
}

/// The event kinds and pair states README lists, read from its text.
struct ReadmeVocabulary {
    let eventKinds: [String]
    let pairStates: [String]

    init(contentsOf url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        // "Kinds: `discovered`, `vf-seen`, ... `peers-notified` (...)." up to the blank line.
        let kindsParagraph = text.components(separatedBy: "\nKinds: ").dropFirst().first?
            .components(separatedBy: "\n\n").first ?? ""
        eventKinds = Self.backticked(kindsParagraph)
        // The table whose header is "| state | meaning |": first cell of each row.
        let table = text.components(separatedBy: "| state | meaning |\n").dropFirst().first?
            .components(separatedBy: "\n\n").first ?? ""
        pairStates = table.split(separator: "\n").dropFirst().compactMap { row in
            Self.backticked(String(row.split(separator: "|").first ?? "")).first
        }
    }

    /// The `words` in backticks, in order; words inside parentheses are explanations, not entries.
    private static func backticked(_ text: String) -> [String] {
        var out: [String] = [], depth = 0, word: String?
        for character in text {
            switch character {
            case "(": depth += 1
            case ")": depth = max(0, depth - 1)
            case "`" where depth == 0:
                if let done = word { out.append(done); word = nil } else { word = "" }
            default: if word != nil { word!.append(character) }
            }
        }
        return out
    }
}
