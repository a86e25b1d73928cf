import Kernel
import Policy
@testable import Runtime
import XCTest

/// HNAGENT_RELAY_CLASSIFIER: auto probes, u32 forces the fallback without probing, matchall
/// refuses to start without it, anything else is bad usage that names the valid values.
final class RelayClassifierSettingTests: XCTestCase {
    private var probes = 0
    private func probe(_ found: RelayClassifier) -> () -> RelayClassifierChoice {
        { self.probes += 1; return RelayClassifierChoice(found, reason: "probe said \(found)") }
    }

    func testAutoAndUnsetProbe() throws {
        XCTAssertEqual(try RelayClassifierSetting.choose(nil, probe: probe(.matchall)).classifier, .matchall)
        XCTAssertEqual(try RelayClassifierSetting.choose("auto", probe: probe(.u32)).classifier, .u32)
        XCTAssertEqual(probes, 2)
    }

    func testForcedU32DoesNotProbe() throws {
        let choice = try RelayClassifierSetting.choose("u32", probe: probe(.matchall))
        XCTAssertEqual(choice.classifier, .u32)
        XCTAssertTrue(choice.reason.contains("HNAGENT_RELAY_CLASSIFIER=u32"), choice.reason)
        XCTAssertEqual(probes, 0, "a forced u32 leaves lo alone")
    }

    func testRequiredMatchallMissingIsAKernelFeatureError() {
        XCTAssertThrowsError(try RelayClassifierSetting.choose("matchall", probe: probe(.u32))) { error in
            let invalid = error as? RelayClassifierSetting.Invalid
            XCTAssertEqual(invalid?.kernelLacksMatchall, true)
            XCTAssertTrue("\(error)".contains("probe said u32"), "\(error)")
        }
        XCTAssertEqual(try RelayClassifierSetting.choose("matchall", probe: probe(.matchall)).classifier, .matchall)
    }

    func testBadValueNamesTheValidOnes() {
        XCTAssertThrowsError(try RelayClassifierSetting.choose("flower", probe: probe(.matchall))) { error in
            XCTAssertEqual((error as? RelayClassifierSetting.Invalid)?.kernelLacksMatchall, false)
            XCTAssertTrue("\(error)".contains("use auto (the default), u32 or matchall"), "\(error)")
        }
        XCTAssertEqual(probes, 0)
    }
}
