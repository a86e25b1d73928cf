@testable import Policy
import XCTest

final class GlobTests: XCTestCase {
    func testMatching() throws {
        // (pattern, name, matches)
        let table: [(String, String, Bool)] = [
            ("eth0", "eth0", true),
            ("eth0", "eth01", false),
            ("eth0", "eth", false),
            ("*", "", true),
            ("*", "anything", true),
            ("eth*", "eth", true),
            ("eth*", "eth12", true),
            ("eth*", "veth0", false),
            ("*0", "enP1s0", true),
            ("*0", "enP1s1", false),
            ("e*h*1", "eth1", true),
            ("e*h*1", "enhance1", true),
            ("e*h*1", "eth12", false),
            ("eth?", "eth1", true),
            ("eth?", "eth", false),
            ("eth?", "eth10", false),
            ("??", "ab", true),
            ("??", "a", false),
            ("eth[0-3]", "eth0", true),
            ("eth[0-3]", "eth3", true),
            ("eth[0-3]", "eth4", false),
            ("[a-z]x", "qx", true),
            ("[a-z]x", "Qx", false),
            ("[a-z]x", "1x", false),
            ("vf[abc]", "vfb", true),
            ("vf[abc]", "vfd", false),
            ("vf[!x]", "vfy", true),
            ("vf[!x]", "vfx", false),
            ("vf[^x]", "vfx", false),
            ("vf[!0-9]", "vf7", false),
            ("vf[!0-9]", "vfa", true),
            ("vf[!x]", "vf", false),          // a set consumes exactly one character
            ("[]]", "]", true),               // ']' first in a set is a member
            ("[a-]", "-", true),              // '-' last in a set is a literal
            ("[a-]", "b", false),
            ("\\*", "*", true),               // escaped star is literal
            ("\\*", "x", false),
            ("a\\?", "a?", true),
            ("a\\?", "ab", false),
            ("\\[x]", "[x]", true),
            ("\\[x]", "x", false),
            ("a\\", "a\\", true),             // trailing backslash is itself a literal
            ("*[0-9]", "enP1s0f1", true),
            ("mlx*_[0-9]", "mlx5_7", true),
        ]
        for (pattern, name, expected) in table {
            let glob = try Glob(pattern)
            XCTAssertEqual(glob.matches(name), expected, "'\(pattern)' vs '\(name)'")
            XCTAssertEqual(glob.description, pattern)
        }
    }

    func testParseErrors() {
        let table: [(String, Glob.ParseError)] = [
            ("", .empty),
            ("[", .unterminatedBracket("[")),
            ("eth[0-9", .unterminatedBracket("eth[0-9")),
            ("vf[!", .unterminatedBracket("vf[!")),
            ("[]", .unterminatedBracket("[]")),       // ']' right after '[' is a member, so no close
            ("[!]", .unterminatedBracket("[!]")),
        ]
        for (pattern, expected) in table {
            XCTAssertThrowsError(try Glob(pattern), "'\(pattern)'") { error in
                XCTAssertEqual(error as? Glob.ParseError, expected, "'\(pattern)'")
            }
        }
        XCTAssertEqual(Glob.ParseError.empty.description, "empty interface name pattern")
        XCTAssertTrue(Glob.ParseError.unterminatedBracket("a[").description.contains("'a['"))
    }

    func testBacktrackingStaysCheap() throws {
        // Pathological for naive backtracking, but names are short: must finish instantly.
        let glob = try Glob("*a*a*a*a*b")
        XCTAssertFalse(glob.matches("aaaaaaaaaaaaaaa"))
        XCTAssertTrue(glob.matches("aaaaaaaaaaaaaab"))
    }
}

/// Hostile patterns (issue 11 item 5): matching does work bounded by pattern x name, counted in
/// steps rather than timed, and patterns have a length limit.
final class GlobBoundsTests: XCTestCase {
    func testMatchingDoesBoundedWork() throws {
        let name15 = String(repeating: "a", count: 15)
        // (pattern, name, matches)
        let table: [(String, String, Bool)] = [
            (String(repeating: "*", count: 10) + "q", name15, false),
            (String(repeating: "*", count: 40) + "q", name15, false),
            (String(repeating: "*", count: 40) + "q", "hnq", true),
            (String(repeating: "*a", count: 20) + "b", name15, false),
            (String(repeating: "a*", count: 20), name15, false),
            (String(repeating: "?*", count: 15), name15, true),
            ("*a*a*a*a*b", name15, false),
        ]
        for (pattern, name, expected) in table {
            let glob = try Glob(pattern)
            let (matches, steps) = glob.matchCountingSteps(name)
            XCTAssertEqual(matches, expected, "'\(pattern)' vs '\(name)'")
            let bound = (glob.tokenCount + 1) * (name.count + 1)
            XCTAssertLessThanOrEqual(steps, bound, "'\(pattern)' vs '\(name)': \(steps) steps")
        }
    }

    func testLengthLimit() throws {
        XCTAssertEqual(Glob.maximumLength, 64)
        XCTAssertNoThrow(try Glob(String(repeating: "*", count: 64)))
        XCTAssertNoThrow(try Glob(String(repeating: "*", count: 40) + "q"))
        let long = String(repeating: "x", count: 65)
        XCTAssertThrowsError(try Glob(long)) { error in
            XCTAssertEqual(error as? Glob.ParseError, .tooLong(length: 65, limit: 64))
            XCTAssertEqual("\(error)", "pattern of 65 characters is longer than the limit of 64")
        }
    }
}
