@testable import Configuration
import Policy
import XCTest

/// What a SIGHUP reload applies live and what needs a restart (issue 11 item 1).
final class SettingsChangeTests: XCTestCase {
    private let base = ResolvedSettings(RunSettings(syntheticPatterns: [try! Glob("hn*")], vfPatterns: [try! Glob("vf0")]))

    func testNothingChangedNothingToSay() {
        XCTAssertEqual(base.changes(to: base), [])
    }

    func testEachKeyIsLiveOrRestartOnly() {
        var layer = RunSettings()
        layer.syntheticPatterns = [try! Glob("eth*")]
        layer.vfPatterns = [try! Glob("enP*")]
        layer.extraVFKinds = ["macvlan"]
        layer.settle = 0.5
        layer.flapThreshold = 3
        layer.flapWindow = 10
        layer.flapHold = 5
        layer.mode = .nonTransparent
        layer.keepSteeringOnExit = true
        layer.peerNotifyCount = 0
        layer.peerNotifyInterval = 1
        layer.multicastSettle = 0
        layer.drainUntil = .vfReturn
        layer.logLevel = .debug
        layer.logFormat = .json
        layer.stateFile = "/var/lib/hnagent/state"
        layer.controlSocket = ""
        layer.metricsListen = "9464"
        let changes = base.changes(to: ResolvedSettings(layer))
        let table: [(key: String, old: String, new: String, live: Bool)] = [
            ("pairing.synthetic", "[\"hn*\"]", "[\"eth*\"]", true),
            ("pairing.vf", "[\"vf0\"]", "[\"enP*\"]", true),
            ("pairing.allow-vf-kinds", "[]", "[\"macvlan\"]", true),
            ("pairing.settle", "2.0", "0.5", true),
            ("pairing.flap-threshold", "5", "3", true),
            ("pairing.flap-window", "60.0", "10.0", true),
            ("pairing.flap-hold", "30.0", "5.0", true),
            ("steering.mode", "transparent", "non-transparent", false),
            ("steering.keep-on-exit", "false", "true", true),
            ("steering.peer-notify-count", "2", "0", true),
            ("steering.peer-notify-interval", "0.2", "1.0", true),
            ("steering.multicast-settle", "1.0", "0.0", true),
            ("steering.drain-until", "undrain", "vf-return", true),
            ("logging.level", "info", "debug", true),
            ("logging.format", "text", "json", false),
            ("runtime.state-file", "\"/run/hnagent/state\"", "\"/var/lib/hnagent/state\"", false),
            ("control.socket", "\"/run/hnagent/hnagent.sock\"", "\"\"", false),
            ("metrics.listen", "\"\"", "\"9464\"", false),
        ]
        XCTAssertEqual(changes, table.map { SettingChange(key: $0.key, old: $0.old, new: $0.new, live: $0.live) })
        XCTAssertEqual(changes.first?.description, "pairing.synthetic [\"hn*\"] -> [\"eth*\"]")
    }

    /// A key added to the schema but not to the reload comparison would change silently on SIGHUP.
    func testTheReloadComparesEverySchemaKey() {
        let compared = ResolvedSettings(RunSettings()).renderedValues.map(\.key)
        XCTAssertEqual(Set(compared), Set(ConfigSchema.keys.map(\.qualifiedName)))
        XCTAssertEqual(compared.count, ConfigSchema.keys.count)
    }

    func testApplyingLiveKeepsTheRestartOnlyKeys() {
        var layer = RunSettings(vfPatterns: [try! Glob("other*")], mode: .nonTransparent, logLevel: .debug, logFormat: .json)
        layer.stateFile = "/elsewhere"
        layer.controlSocket = "/elsewhere.sock"
        layer.metricsListen = "9464"
        let applied = base.applyingLive(ResolvedSettings(layer))
        XCTAssertEqual(applied.vfPatterns, [try! Glob("other*")], "live")
        XCTAssertEqual(applied.logLevel, .debug, "live")
        XCTAssertEqual(applied.syntheticPatterns, [], "live: the file no longer sets it")
        XCTAssertEqual(applied.mode, .transparent)
        XCTAssertEqual(applied.logFormat, .text)
        XCTAssertEqual(applied.stateFile, base.stateFile)
        XCTAssertEqual(applied.controlSocket, base.controlSocket)
        XCTAssertEqual(applied.metricsListen, "")
        XCTAssertEqual(base.changes(to: applied).filter { !$0.live }, [], "nothing restart-only left to apply")
    }
}
