@testable import Engine
@testable import Kernel
@testable import Persistence
import Logging
import Policy
import XCTest

/// `hnagent drain` / `undrain` in the reconciler, on the kernel model: what is sent, in which
/// order, what the answer reads back, and what a restarted agent makes of the state file.
final class ReconcilerDrainTests: ReconcilerTestCase {
    private let store = MemoryStore()
    private var config = AgentConfig(syntheticPatterns: [try! Glob("hn0")], settle: .seconds(30))

    private func makeReconciler() throws -> Reconciler {
        try .started(config: config, kernel: kernel, clock: clock, logger: logs.logger, store: store)
    }

    private func steer() throws -> Reconciler {
        let r = try makeReconciler()
        r.settle(kernel: kernel, clock: clock)
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering")
        return r
    }

    func testDrainDeletesTheEgressRedirectFirstAndUndrainAddsItBackWithoutASettle() throws {
        let r = try steer()
        kernel.clearLog()
        let drained = try r.drain("hn0")
        XCTAssertEqual(kernel.log, [.deleteRedirect(device: hn, hook: .egress)], "the delete, and nothing else")
        XCTAssertEqual(drained.map(\.change), [.drained])
        XCTAssertNil(drained.first?.egressTo, "read back: TX on hn0")
        XCTAssertEqual(drained.first?.phase, .active(vf: vf, seenUsable: true), "the VF is kept")
        XCTAssertEqual(kernel.relay[vf]?.ingress?.target, hn, "its RX relay too")
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"drained by the operator\""), "\(logs.messages)")
        XCTAssertEqual(StatusProbe.state(r), .drained)

        kernel.clearLog()
        XCTAssertEqual(try r.drain(nil).map(\.change), [.alreadyDrained])
        XCTAssertEqual(kernel.log, [], "a second drain sends nothing")

        let undrained = try r.undrain(nil)
        XCTAssertEqual(kernel.log, [.addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vf)],
                       "no settle (30 s) and nothing re-done: the redirect alone")
        XCTAssertEqual(undrained.first?.egressTo?.index, vf)
        XCTAssertEqual(try r.undrain(nil).map(\.change), [.notDrained])
    }

    /// A drained pair's VF goes: the urgent path has nothing to delete; it comes back and
    /// settles, and TX stays on hn0.
    func testADrainedPairSendsNothingUrgentWhenItsVFGoes() throws {
        let pristine = try XCTUnwrap(kernel.links[vf], "the VF as it arrives")
        let r = try steer()
        _ = try r.drain(nil)
        kernel.clearLog()
        r.fallBackUrgently(on: .removed(index: vf, name: "vf0", movedToNamespace: false))
        XCTAssertEqual(kernel.log, [], "nothing to delete")
        kernel.remove(vf, notifying: r)
        XCTAssertFalse(kernel.log.contains(.deleteRedirect(device: hn, hook: .egress)), "\(kernel.log)")
        kernel.add(pristine)
        kernel.deliverLinks(to: r)
        r.reconcile()
        r.settle(kernel: kernel, clock: clock)
        XCTAssertEqual(kernel.relay[vf]?.ingress?.target, hn, "the returned VF is attached")
        XCTAssertNil(kernel.relay[hn]?.egress, "and TX stays on hn0")
        XCTAssertEqual(StatusProbe.state(r), .drained)
    }

    func testUnknownNamesAndNonTransparentModeAreRefused() throws {
        let r = try steer()
        XCTAssertThrowsError(try r.drain("eth9")) { error in
            XCTAssertEqual(error as? DrainTargetError, .unknown(name: "eth9", known: ["hn0"], vfOf: nil))
        }
        XCTAssertThrowsError(try r.undrain("vf0")) { error in
            XCTAssertEqual(error as? DrainTargetError, .unknown(name: "vf0", known: ["hn0"], vfOf: "hn0"))
        }
        config.mode = .nonTransparent
        r.applyReloaded(config)
        XCTAssertThrowsError(try r.drain(nil)) { error in XCTAssertEqual(error as? DrainTargetError, .nonTransparent) }
    }

    /// kill -9 after a drain: the next agent adopts the RX half and keeps TX on hn0; a normal
    /// stop restores everything and keeps the drain in the state file.
    func testTheDrainOutlivesTheAgent() throws {
        let first = try steer()
        _ = try first.drain(nil)
        XCTAssertTrue(store.text?.contains("\ndrained 2 hn0 00:15:5d:aa:bb:cc\n") == true, store.text ?? "nothing saved")
        kernel.clearLog()

        let second = try makeReconciler() // kill -9: no shutdown
        XCTAssertEqual(kernel.log, [], "nothing added: \(kernel.log)")
        XCTAssertNil(kernel.relay[hn]?.egress)
        XCTAssertEqual(StatusProbe.state(second), .drained)

        second.shutdown(keepSteering: false)
        XCTAssertTrue(kernel.relay.values.allSatisfy { $0.ingress == nil && $0.egress == nil }, "everything restored")
        let saved = try StateFileCodec.decode(store.text ?? "")
        XCTAssertEqual(saved.drained.map(\.synthetic.name), ["hn0"], "the drain kept")
        XCTAssertEqual(saved.originals, SavedOriginals())

        let third = try makeReconciler()
        third.settle(kernel: kernel, clock: clock)
        XCTAssertEqual(kernel.relay[vf]?.ingress?.target, hn, "settled and attached")
        XCTAssertNil(kernel.relay[hn]?.egress, "still drained")
        _ = try third.undrain("hn0")
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf)
        XCTAssertEqual(try StateFileCodec.decode(store.text ?? "").drained, [], "undrain forgets it")
    }

    func testADrainOfAnotherDeviceIsNotTakenOver() throws {
        store.text = "hnagent-state 1\nboot 8d0c2f9e-boot-now\ndrained 2 hn0 02:00:00:00:00:99\n"
        let r = try makeReconciler()
        XCTAssertTrue(logs.contains("drains not taken over: hn0(2) (another device now (MAC 00:15:5d:aa:bb:cc))"), "\(logs.messages)")
        XCTAssertEqual(StatusProbe.state(r), .settling)
    }
}

/// The pair state status shows, from the reconciler's snapshot.
enum StatusProbe {
    static func state(_ r: Reconciler) -> PairState? {
        r.snapshot().pairs.first.map { PairState(phase: $0.phase, steering: $0.steering, heldBack: $0.retryAt != nil,
                                                 mode: .transparent, drained: $0.drained) }
    }
}
