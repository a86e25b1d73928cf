// The agent's JSON log lines, read back and parsed (root only).

import Foundation
import XCTest

final class LogFormatIntegrationTests: IntegrationTestCase {
    func testJSONLogLinesParseAndCarryTimestampLevelAndMessage() throws {
        let (_, a) = try startSteered(settle: 0.2, extraArguments: ["--log-format", "json"])
        XCTAssertEqual(a.stop(), 0)
        let lines = a.log.split(separator: "\n").filter { $0.hasPrefix("{") }
        XCTAssertGreaterThan(lines.count, 5, a.log)
        let timestamp = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#)
        var messages: [String] = []
        for line in lines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], String(line))
            XCTAssertNotNil(object["ts"]?.wholeMatch(of: timestamp), String(line))
            XCTAssertNotNil(object["level"], String(line))
            messages.append(try XCTUnwrap(object["msg"]))
        }
        XCTAssertTrue(messages.contains { $0.hasPrefix("steering on synthetic=hn0") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.hasPrefix("restored synthetic=hn0") })
    }
}
