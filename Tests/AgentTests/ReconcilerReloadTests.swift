@testable import POSIX
@testable import Engine
import Logging
import Policy
import XCTest

/// Settings applied by a reload (SIGHUP) to a running reconciler, against the fake kernel.
final class ReconcilerReloadTests: XCTestCase {
    private let hn: InterfaceIndex = 2
    private let vf: InterfaceIndex = 3

    /// hn0 + vf0 steering under `config` (settle 0), plus eth1, another hv_netvsc NIC without a VF.
    private func steering(_ config: AgentConfig) throws -> (FakeKernel, Reconciler, LogRecorder) {
        let kernel = FakeKernel.withPair(hn: hn, vf: vf)
        kernel.add(LinkSnapshot(index: 4, name: "eth1", mac: MACAddress("00:15:5d:00:00:01"), flags: [.up, .lowerUp]))
        let logs = LogRecorder()
        let reconciler = try Reconciler.steering(
            config: config, kernel: kernel, clock: FakeClock(seconds: 1000), logger: logs.logger,
            drivers: FakeDrivers(byName: ["hn0": "hv_netvsc", "vf0": "mlx5_core", "eth1": "hv_netvsc"]))
        XCTAssertEqual(kernel.relay[hn]?.egress, RelayFilter(kind: .toEgress, target: vf), "steering before the reload")
        return (kernel, reconciler, logs)
    }

    func testAVFThatNoLongerMatchesIsReleasedAndRestored() throws {
        let (kernel, reconciler, logs) = try steering(AgentConfig(vfPatterns: [try Glob("vf0")], settle: .zero))
        reconciler.applyReloaded(AgentConfig(vfPatterns: [try Glob("other*")], settle: .zero))
        reconciler.reconcile()
        XCTAssertNil(kernel.relay[hn]?.egress, "hn0's egress redirect removed")
        XCTAssertNil(kernel.relay[vf]?.ingress, "vf0's ingress redirect removed")
        XCTAssertEqual(kernel.links[vf]?.addrGenMode, .eui64, "what the agent changed on vf0 is restored")
        XCTAssertTrue(logs.contains("name matches no --vf pattern"))
    }

    func testDroppingTheSyntheticPatternsFindsSyntheticNICsByDriverWithoutLosingThePair() throws {
        let (kernel, reconciler, logs) = try steering(AgentConfig(syntheticPatterns: [try Glob("hn0")], settle: .zero))
        kernel.clearLog()
        reconciler.applyReloaded(AgentConfig(settle: .zero))
        reconciler.reconcile()
        XCTAssertEqual(kernel.relay[hn]?.egress, RelayFilter(kind: .toEgress, target: vf), "hn0 (hv_netvsc) still steers")
        XCTAssertEqual(kernel.log, [], "nothing removed and re-added")
        XCTAssertTrue(logs.contains("discovered synthetic NIC eth1(4)"), "found by its driver")
    }

    func testFlapDampingOfExistingPairsTakesTheNewLimits() throws {
        let (_, reconciler, _) = try steering(AgentConfig(settle: .zero))
        var config = AgentConfig(settle: .zero)
        config.flapThreshold = 2
        config.flapWindow = .seconds(10)
        config.flapHold = .seconds(7)
        reconciler.applyReloaded(config)
        let damper = try XCTUnwrap(reconciler.pairs[hn]?.damper)
        XCTAssertEqual(damper.threshold, 2)
        XCTAssertEqual([damper.window, damper.hold], [.seconds(10), .seconds(7)])
    }
}
