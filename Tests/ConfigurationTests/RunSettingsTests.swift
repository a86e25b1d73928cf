@testable import Configuration
import Policy
import XCTest

final class RunSettingsTests: XCTestCase {
    func testDefaults() {
        let defaults = ResolvedSettings.defaults
        XCTAssertEqual(defaults.syntheticPatterns, [])
        XCTAssertEqual(defaults.vfPatterns, [])
        XCTAssertEqual(defaults.settle, 2)
        XCTAssertEqual(defaults.mode, .transparent)
        XCTAssertFalse(defaults.keepSteeringOnExit)
        XCTAssertEqual(defaults.logLevel, .info)
        XCTAssertEqual(defaults.logFormat, .text)
        XCTAssertEqual(defaults.agentConfig.settle, AgentConfig.defaultSettle)
    }

    func testFlagsWinOverTheFileWhichWinsOverDefaults() throws {
        let file = RunSettings(vfPatterns: [try Glob("enP*")], settle: 5, keepSteeringOnExit: true, logLevel: .debug)
        let flags = RunSettings(settle: 0.25, keepSteeringOnExit: false, logFormat: .json)
        let resolved = ResolvedSettings(file.overridden(by: flags))
        XCTAssertEqual(resolved.vfPatterns, [try Glob("enP*")])     // file only
        XCTAssertEqual(resolved.settle, 0.25)                        // flag over file
        XCTAssertFalse(resolved.keepSteeringOnExit)                  // an explicit "no" flag over file
        XCTAssertEqual(resolved.logLevel, .debug)                    // file only
        XCTAssertEqual(resolved.logFormat, .json)                    // flag only
        XCTAssertEqual(resolved.syntheticPatterns, [])               // neither: default
        XCTAssertEqual(resolved.agentConfig.settle, .milliseconds(250))
    }
}
