@testable import Configuration
import XCTest

final class TOMLParserTests: XCTestCase {
    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLDocument {
        let (document, diagnostics) = TOMLParser.parse(text)
        XCTAssertEqual(diagnostics, [], file: file, line: line)
        return document
    }

    func testTablesKeysAndLines() {
        let document = parse("""
        # comment
        top = 1

        [pairing]   # trailing comment
        synthetic = ["eth*", 'vf?']
        settle = 2.5
          [ a . b ]
        flag = true
        """)
        XCTAssertEqual(document.tables.map(\.path), [[], ["pairing"], ["a", "b"]])
        XCTAssertEqual(document.tables.map(\.line), [0, 4, 7])
        XCTAssertEqual(document.table([])?["top"], TOMLEntry(key: "top", line: 2, value: .integer(1)))
        XCTAssertEqual(document.table(["pairing"])?["synthetic"]?.value,
                       .array([TOMLElement(.string("eth*"), line: 5), TOMLElement(.string("vf?"), line: 5)]))
        XCTAssertEqual(document.table(["pairing"])?["settle"]?.line, 6)
        XCTAssertEqual(document.table(["a", "b"])?["flag"]?.value, .boolean(true))
    }

    func testScalars() {
        // (value text, expected value)
        let table: [(String, TOMLValue)] = [
            ("0", .integer(0)), ("-7", .integer(-7)), ("+42", .integer(42)), ("1_000", .integer(1000)),
            ("9223372036854775807", .integer(.max)),
            ("2.5", .float(2.5)), ("-0.5", .float(-0.5)), ("1e3", .float(1000)), ("1.5E-3", .float(0.0015)),
            ("3_600.000_1", .float(3600.0001)), ("2e05", .float(200000)),
            ("true", .boolean(true)), ("false", .boolean(false)),
            (#""""#, .string("")), (#""a b""#, .string("a b")), ("'C:\\path'", .string("C:\\path")),
            (#""q\"\\\t\n\r\b\f""#, .string("q\"\\\t\n\r\u{8}\u{C}")),
            (#""\u00e9\U0001F600""#, .string("é😀")), (#""é""#, .string("é")),
            ("[]", .array([])), ("[ 1 , 'x', ]", .array([TOMLElement(.integer(1), line: 1), TOMLElement(.string("x"), line: 1)])),
        ]
        for (text, expected) in table {
            let document = parse("k = \(text)")
            XCTAssertEqual(document.table([])?["k"]?.value, expected, text)
        }
    }

    func testMultiLineArrayKeepsElementLines() {
        let document = parse("""
        [pairing]
        vf = [
          "a",   # first
          # a comment line
          "b"
        ]
        after = 1
        """)
        XCTAssertEqual(document.table(["pairing"])?["vf"],
                       TOMLEntry(key: "vf", line: 2, value: .array([TOMLElement(.string("a"), line: 3),
                                                                    TOMLElement(.string("b"), line: 5)])))
        XCTAssertEqual(document.table(["pairing"])?["after"]?.line, 7)
    }

    func testCRLFAndByteOrderMark() {
        let document = parse("\u{FEFF}[t]\r\nk = 1\r\n")
        XCTAssertEqual(document.table(["t"])?["k"]?.line, 2)
    }

    func testRejectedConstructsNameTheProblem() {
        // (text, line, message fragment)
        let table: [(String, Int, String)] = [
            ("[[servers]]", 1, "arrays of tables"),
            ("a.b = 1", 1, "dotted keys"),
            (#""quoted" = 1"#, 1, "quoted keys are not supported"),
            ("k = {a = 1}", 1, "inline tables"),
            (#"k = """x""""#, 1, "multi-line strings"),
            ("k = '''x'''", 1, "multi-line literal strings"),
            ("k = 1979-05-27", 1, "dates and times"),
            ("k = 07:32:00", 1, "dates and times"),
            ("k = 0x1F", 1, "hexadecimal"),
            ("k = inf", 1, "inf and nan"),
            ("k = -nan", 1, "inf and nan"),
            ("k = [[1]]", 1, "nested arrays"),
            ("k = transparent", 1, #"strings must be quoted: write "transparent""#),
            ("k = 007", 1, "leading zeros"),
            ("k = 1__0", 1, "invalid number '1__0'"),
            ("k = 1.", 1, "invalid number"),
            ("k = 2s", 1, "invalid number '2s'"),
            ("k = 99999999999999999999", 1, "out of range for a 64-bit integer"),
            ("k = 1e999", 1, "out of range for a float"),
            (#"k = "open"#, 1, "string is not closed"),
            (#"k = "a\qb""#, 1, #"unknown escape '\q'"#),
            (#"k = "\u12""#, 1, "exactly 4 hexadecimal digits"),
            (#"k = "\uD800""#, 1, "not a Unicode scalar value"),
            ("k = \"a\u{1}b\"", 1, "control character U+0001"),
            ("k = 1 2", 1, "unexpected text '2' after the value of 'k'"),
            ("k =", 1, "missing value"),
            ("k 1", 1, "expected '=' after the key 'k'"),
            ("[t", 1, "expected ']' to close the table header"),
            ("[t] x", 1, "unexpected text 'x' after the table header"),
            ("= 1", 1, "expected a key"),
            ("ключ = 1", 1, "expected a key (letters, digits, '_' and '-'), found 'к'"),
            ("k = 1\rx = 2", 1, "carriage return"),
            ("\n\nk = [1 2]", 3, "expected ',' or ']'"),
            ("k = [1,\n", 1, "array is not closed"),
        ]
        for (text, line, fragment) in table {
            let (_, diagnostics) = TOMLParser.parse(text)
            XCTAssertEqual(diagnostics.count, 1, "\(text): \(diagnostics)")
            XCTAssertEqual(diagnostics.first?.line, line, text)
            XCTAssertTrue(diagnostics.first?.message.contains(fragment) == true,
                          "\(text): '\(diagnostics.first?.message ?? "none")' lacks '\(fragment)'")
        }
    }

    func testDuplicatesReportBothLines() {
        let (document, diagnostics) = TOMLParser.parse("""
        [t]
        k = 1
        k = 2
        [t]
        j = 3
        """)
        XCTAssertEqual(diagnostics.map(\.line), [3, 4])
        XCTAssertTrue(diagnostics[0].message.contains("duplicate key 'k' in [t] (first set on line 2)"))
        XCTAssertTrue(diagnostics[1].message.contains("table [t] is defined twice (first on line 1)"))
        // The first value stays; keys after the repeated header still land in [t].
        XCTAssertEqual(document.table(["t"])?["k"]?.value, .integer(1))
        XCTAssertEqual(document.table(["t"])?["j"]?.value, .integer(3))
    }

    /// One mistake, one message: recovery goes on with the next line, or past a broken array.
    func testRecoveryReportsEveryProblemOnce() {
        let (document, diagnostics) = TOMLParser.parse("""
        a = nope
        b = 1
        c = [
          "x",
          oops,
          "y",
        ]
        d = 2
        e = ["unclosed",
        f = 3
        [g
        h = 4
        """)
        XCTAssertEqual(diagnostics.map(\.line), [1, 5, 9, 11], "\(diagnostics)")
        XCTAssertEqual(document.table([])?.entries.map(\.key), ["b", "d", "f", "h"])
    }
}
