@testable import POSIX
@testable import Engine
import Logging
import Policy
import XCTest

/// Issue 11 item 9: shutdown attempts every restore; one that fails does not leave the devices
/// after it (other pairs' relays) as they were.
final class ReconcilerShutdownTests: XCTestCase {
    private var kernel: FakeKernel!
    private var clock: FakeClock!
    private var logs: LogRecorder!
    private let config = AgentConfig(syntheticPatterns: [try! Glob("hn*")], settle: .seconds(2))

    /// Two pairs: hn0(2)+vf0(3) and hn1(4)+vf1(5), each VF at MTU 1500 under a synthetic NIC at 9000.
    override func setUp() {
        kernel = FakeKernel()
        kernel.addPair(hn: 2, vf: 3, mac: MACAddress("00:15:5d:aa:bb:01")!, mtu: (9000, 1500))
        kernel.addPair(hn: 4, vf: 5, names: ("hn1", "vf1"), mac: MACAddress("00:15:5d:aa:bb:02")!, mtu: (9000, 1500))
        clock = FakeClock(seconds: 100)
        logs = LogRecorder()
    }

    private func steerBoth() throws -> Reconciler {
        let r = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        XCTAssertEqual(kernel.relay[2]?.egress?.target, 3, "pair 1 steering")
        XCTAssertEqual(kernel.relay[4]?.egress?.target, 5, "pair 2 steering")
        XCTAssertEqual(kernel.links[3]?.mtu, 9000)
        XCTAssertEqual(kernel.links[5]?.mtu, 9000)
        return r
    }

    func testAFailedRestoreDoesNotStopTheOthers() throws {
        let r = try steerBoth()
        kernel.fail(.setMTU(device: 3, mtu: 1500), times: 100)
        let outcome = r.shutdown(keepSteering: false)

        // The second pair is given back entirely, though it comes after the failure.
        XCTAssertEqual(kernel.relay[4] ?? .absent, .absent, "hn1: no filter, no clsact")
        XCTAssertEqual(kernel.relay[5] ?? .absent, .absent, "vf1: no filter, no clsact")
        XCTAssertEqual(kernel.links[5]?.mtu, 1500)
        XCTAssertEqual(kernel.links[5]?.addrGenMode, .eui64)
        // And so is everything of the first pair but the one that failed.
        XCTAssertNil(kernel.relay[2]?.egress, "TX back on the synthetic path")
        XCTAssertEqual(kernel.relay[3] ?? .absent, .absent)
        XCTAssertEqual(kernel.links[3]?.addrGenMode, .eui64)
        XCTAssertEqual(kernel.links[3]?.mtu, 9000, "the one that failed")

        XCTAssertEqual(outcome.failedRestores, ["set mtu 1500 on vf0(3): set mtu 1500 on ifindex 3 failed: Cannot allocate memory (ENOMEM)"])
        XCTAssertTrue(logs.contains("restore failed: set mtu 1500 on vf0(3): set mtu 1500 on ifindex 3 failed: Cannot allocate memory (ENOMEM)", level: .error), "\(logs.messages)")
        XCTAssertEqual(logs.count("restore failed"), 1, "each failure logged once, not once per pass")
    }

    func testARestoreThatFailsOnceAndThenWorksIsNoFailure() throws {
        let r = try steerBoth()
        kernel.fail(.setMTU(device: 3, mtu: 1500), times: 1)
        let outcome = r.shutdown(keepSteering: false)
        XCTAssertEqual(kernel.links[3]?.mtu, 1500, "tried again in the next pass")
        XCTAssertEqual(outcome.failedRestores, [])
        XCTAssertEqual(kernel.relay.values.filter { $0 != .absent }.count, 0)
    }

    func testAFailureMadeGoodByAnotherRestoreIsNoFailure() throws {
        let r = try steerBoth()
        // As on Linux when a VF's MTU is below 1280 (no IPv6 device): its addrgenmode cannot be
        // set until the MTU restore brings IPv6 back, with the default mode, which was the original.
        kernel.fail(.setAddrGenMode(device: 3, mode: .eui64), times: 100)
        kernel.afterPerform = { action, kernel in
            if action == .setMTU(device: 3, mtu: 1500) { kernel.change(3) { $0.addrGenMode = .eui64 } }
        }
        let outcome = r.shutdown(keepSteering: false)
        XCTAssertTrue(logs.contains("restore failed: set addrgenmode eui64 on vf0(3)"), "it did fail: \(logs.messages)")
        XCTAssertEqual(outcome.failedRestores, [], "but nothing is left to restore")
        XCTAssertEqual(kernel.links[3]?.mtu, 1500)
    }
}
