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

    func testMulticastSettle() throws {
        XCTAssertEqual(ResolvedSettings.defaults.agentConfig.multicastSettle, .seconds(1))
        let file = try ConfigLoader.load(text: "[steering]\nmulticast-settle = 0.5\n").get()
        XCTAssertEqual(ResolvedSettings(file).agentConfig.multicastSettle, .milliseconds(500))
        var flags = RunSettings()
        flags.multicastSettle = 0
        XCTAssertEqual(ResolvedSettings(file.overridden(by: flags)).agentConfig.multicastSettle, .zero, "the flag wins")
        guard case .failure(let problems) = ConfigLoader.load(text: "[steering]\nmulticast-settle = 90\n") else {
            return XCTFail("accepted")
        }
        XCTAssertTrue(problems.diagnostics[0].message.contains("steering.multicast-settle"), problems.diagnostics[0].message)
    }
}

final class ControlSettingsTests: XCTestCase {
    func testDefaultsAndKeys() throws {
        XCTAssertEqual(ResolvedSettings.defaults.controlSocketPath, "/run/hnagent/hnagent.sock")
        XCTAssertNil(ResolvedSettings.defaults.metricsAddress, "metrics endpoint off by default")
        let settings = try ConfigLoader.load(text: """
            [control]
            socket = "/tmp/x/hn.sock"
            [metrics]
            listen = "9464"
            """).get()
        let resolved = ResolvedSettings(settings)
        XCTAssertEqual(resolved.controlSocketPath, "/tmp/x/hn.sock")
        XCTAssertEqual(resolved.metricsAddress?.description, "127.0.0.1:9464", "a port alone is loopback")
        let off = ResolvedSettings(try ConfigLoader.load(text: "[control]\nsocket = \"\"\n").get())
        XCTAssertNil(off.controlSocketPath)
        // Flags win over the file.
        let flagged = ResolvedSettings(settings.overridden(by: RunSettings(controlSocket: "/run/b.sock", metricsListen: "")))
        XCTAssertEqual(flagged.controlSocketPath, "/run/b.sock")
        XCTAssertNil(flagged.metricsAddress)
    }

    func testBadValuesAreReportedWithLines() {
        let text = """
            [control]
            socket = "relative.sock"
            [metrics]
            listen = "example.org:80"
            """
        guard case .failure(let problems) = ConfigLoader.load(text: text) else { return XCTFail("accepted") }
        let lines = problems.diagnostics.map { "\($0.line ?? 0): \($0.message)" }
        XCTAssertEqual(lines.count, 2, "\(lines)")
        XCTAssertTrue(lines[0].hasPrefix("2: control.socket: \"relative.sock\" is not an absolute path"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("4: metrics.listen: \"example.org:80\""), lines[1])
        XCTAssertNotNil(ControlSettings.socketProblem("/" + String(repeating: "a", count: 107)), "too long for sun_path")
        XCTAssertNil(ControlSettings.socketProblem("/" + String(repeating: "a", count: 106)))
        XCTAssertNotNil(ControlSettings.socketProblem("/run/hnagent/"))
        guard case .failure(let typed) = ConfigLoader.load(text: "[control]\nsocket = 1\n") else { return XCTFail("accepted") }
        XCTAssertTrue(typed.diagnostics[0].message.contains("must be a path such as"), typed.diagnostics[0].message)
    }
}
