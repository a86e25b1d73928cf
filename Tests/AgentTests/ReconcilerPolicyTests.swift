@testable import POSIX
@testable import Engine
@testable import OperatorInterface
import Glibc
import Logging
import Policy
import XCTest

/// The reconciler applying issue 4's policy on the fake kernel: what it changes, what it logs,
/// what it restores, and that the multicast timer is cheap.
final class ReconcilerPolicyTests: ReconcilerTestCase {
    private var reconciler: Reconciler!
    private static let features: Set<String> = ["tx-scatter-gather", "tx-checksum-ip-generic", "tx-tcp-segmentation",
                                                "tx-tcp6-segmentation", "rx-checksum"]

    override func setUp() {
        super.setUp()
        kernel.change(hn) { $0.gso = GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536) }
        kernel.change(vf) { $0.gso = GSOLimits(maxSize: 32768, maxSegs: 65535, ipv4MaxSize: 32768) }
        let all = OffloadFeatures(active: Self.features, wanted: Self.features, changeable: Self.features)
        kernel.offloads = [hn: all, vf: all]
        kernel.offloads[vf]!.active.remove("tx-tcp-segmentation")
        kernel.offloads[vf]!.wanted.remove("tx-tcp-segmentation")
    }

    private func start(_ config: AgentConfig = AgentConfig(syntheticPatterns: [try! Glob("hn0")], settle: .zero)) throws {
        reconciler = Reconciler(config: config, kernel: kernel, drivers: FakeDrivers(byName: [:]), clock: clock,
                                logger: logs.logger)
        try reconciler.resynchronise()
        reconciler.reconcile()
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
    }

    private func errors(_ text: String) -> Int {
        logs.records.filter { $0.level == .error && $0.message.contains(text) }.count
    }

    func testAttachIntersectsOffloadsLowersGSOAndFollowsTheVFsLinkState() throws {
        try start()
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering")
        XCTAssertFalse(kernel.offloads[hn]!.active.contains("tx-tcp-segmentation"))
        XCTAssertEqual(kernel.offloads[hn]!.active, Self.features.subtracting(["tx-tcp-segmentation"]))
        XCTAssertEqual(kernel.links[hn]?.gso, GSOLimits(maxSize: 32768, maxSegs: 65535, ipv4MaxSize: 32768))
        XCTAssertEqual(kernel.links[hn]?.linkMode, .dormant)
        XCTAssertTrue(logs.contains("offloads synthetic=hn0(2): off tx-tcp-segmentation (VF vf0(3) lacks them)", level: .notice))
        XCTAssertTrue(logs.contains("gso limits synthetic=hn0(2): gso_max_size=65536", level: .notice))
        // The changes come before TX is steered.
        let order = kernel.log.map { "\($0)" }
        XCTAssertLessThan(order.firstIndex { $0.hasPrefix("set features") }!, order.firstIndex { $0.contains("egress-redirect") }!)

        reconciler.shutdown(keepSteering: false)
        XCTAssertEqual(kernel.offloads[hn]!.active, Self.features, "exactly what was saved is back")
        XCTAssertEqual(kernel.links[hn]?.gso, GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536))
        XCTAssertEqual(kernel.links[hn]?.linkMode, .default)
        XCTAssertTrue(logs.contains("offloads restored on hn0(2): tx-tcp-segmentation on"))
    }

    func testAFeatureTurnedOnAgainIsReintersectedAndLogged() throws {
        try start()
        kernel.clearLog()
        kernel.offloads[hn]!.active.insert("tx-tcp-segmentation") // `ethtool -K hn0 tso on`: a FEATURE CHANGE link event
        kernel.offloads[hn]!.wanted.insert("tx-tcp-segmentation")
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [.setFeatures(device: hn, changes: ["tx-tcp-segmentation": false])])
        XCTAssertTrue(logs.contains("tx-tcp-segmentation turned on again while paired; VF vf0(3) lacks them: off again (re-intersected)"))
    }

    func testVFRemovalGivesTheSyntheticNICItsOffloadsBack() throws {
        try start()
        kernel.remove(vf, notifying: reconciler)
        reconciler.reconcile()
        XCTAssertNil(kernel.relay[hn]?.egress)
        XCTAssertEqual(kernel.offloads[hn]!.active, Self.features)
        XCTAssertEqual(kernel.links[hn]?.gso?.maxSize, 65536)
        XCTAssertEqual(kernel.links[hn]?.linkMode, .default)
        var onlyClsact = SavedOriginals()
        onlyClsact[hn, .clsact] = SettingValue.none
        XCTAssertEqual(reconciler.originals, onlyClsact, "nothing held but hn0's clsact, removed when the pair ends")
    }

    func testMulticastMembershipTurnsAllmultiOnAndTheTimerStaysCheap() throws {
        try start()
        kernel.clearLog()
        let defaults = [MACAddress("01:00:5e:00:00:01")!, MACAddress("33:33:00:00:00:01")!]
        kernel.multicast = [hn: defaults]
        let reads = kernel.multicastReads
        clock.advance(by: Reconciler.multicastCheckInterval)
        reconciler.onTimer()
        XCTAssertEqual(kernel.multicastReads, reads + 1)
        XCTAssertEqual(kernel.log, [], "memberships unchanged: no reconcile, no tc dumps, no changes")

        kernel.multicast = [hn: defaults + [MACAddress("01:00:5e:01:02:03")!]] // `ip maddr add`: no event
        clock.advance(by: Reconciler.multicastCheckInterval)
        reconciler.onTimer()
        XCTAssertEqual(kernel.log, [.setFlag(device: vf, flag: .allMulticast, on: true)])
        XCTAssertTrue(logs.contains("multicast synthetic=hn0(2) has memberships 01:00:5e:01:02:03: allmulti on VF vf0(3)"))

        kernel.clearLog()
        kernel.multicast = [hn: defaults]
        reconciler.takeMulticastChange() // an RTM_DELMULTICAST event, within multicast-settle of the join
        XCTAssertEqual(kernel.log, [], "held: allmulti changes at most once per multicast-settle")
        XCTAssertEqual(reconciler.nextDeadline, clock.now().advanced(by: .seconds(1)))
        clock.advance(by: .seconds(1))
        reconciler.onTimer()
        XCTAssertEqual(kernel.log, [.setFlag(device: vf, flag: .allMulticast, on: false)])
        XCTAssertTrue(logs.contains("has no memberships left: allmulti off on VF vf0(3)"))
    }

    func testMulticastChurnIsCoalescedIntoOneAllmultiChangePerSecond() throws {
        try start()
        let group = [MACAddress("01:00:5e:01:02:03")!]
        let board = StatusBoard(mode: .transparent)
        reconciler.eventSink = board
        kernel.clearLog()
        // A join/leave loop: 100 batches of events 10 ms apart, ending with a leave.
        for round in 0..<100 {
            kernel.multicast = round % 2 == 0 ? [hn: group] : [:]
            reconciler.takeMulticastChange()
            clock.advance(by: .milliseconds(10))
            if let due = reconciler.nextDeadline, clock.now() >= due { reconciler.onTimer() }
        }
        clock.advance(by: .seconds(1))
        reconciler.onTimer()
        let flips = kernel.log.filter { if case .setFlag(vf, .allMulticast, _) = $0 { return true } else { return false } }
        XCTAssertEqual(flips.count, 2, "on at the first join, off after the window the last leave fell in: \(flips)")
        XCTAssertEqual(kernel.links[vf]?.flags.contains(.allMulticast), false)
        XCTAssertEqual(reconciler.snapshot().pairs.first?.multicastChangesCoalesced, 98)
        XCTAssertEqual(logs.count("multicast synthetic=hn0(2)"), 3, "\(logs.messages.suffix(5))")
        XCTAssertTrue(logs.contains("multicast synthetic=hn0(2): 98 membership changes within 1.0s coalesced; allmulti on VF vf0(3) now off"),
                      "\(logs.messages.suffix(5))")
        XCTAssertEqual(board.timeline.entries.filter { $0.kind == "policy" }.map(\.detail),
                       ["allmulti on on vf0(3)", "allmulti off on vf0(3)"], "one timeline event per allmulti change")
    }

    func testRefusedMTUKeepsThePairOnTheSyntheticPathLogsOnceAndBacksOff() throws {
        kernel.maximumMTU[vf] = 1500
        kernel.change(hn) { $0.mtu = 9000 }
        try start()
        XCTAssertNil(kernel.relay[hn]?.egress, "not steering through a VF with another MTU")
        XCTAssertNil(kernel.relay[vf]?.ingress)
        XCTAssertEqual(errors("VF vf0(3) refused MTU 9000 of synthetic NIC hn0(2); not steering through it"), 1)
        XCTAssertTrue(logs.contains("MTU greater than device maximum", level: .error), "the kernel's words")
        let first = try XCTUnwrap(reconciler.pairs[hn]?.retryAt)
        clock.current = first
        reconciler.onTimer()
        let second = try XCTUnwrap(reconciler.pairs[hn]?.retryAt)
        XCTAssertEqual(second.duration(since: first), .seconds(2), "the retry delay doubles")
        XCTAssertEqual(errors("refused MTU 9000"), 1, "the same failure is not logged again")

        kernel.change(hn) { $0.mtu = 1500 } // the operator gives up on jumbo frames
        clock.current = second
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf)
        XCTAssertTrue(logs.contains("pair of hn0(2): changes applied again"))
    }

    /// Seen in the VM tier: after e1000e refused MTU 9300 and the back-off had grown, an MTU it
    /// takes waited out the back-off (10 s) before steering. A new MTU is a new request: now.
    func testAnMTUTheVFTakesSteersAtOnceWithoutWaitingOutTheBackOff() throws {
        kernel.maximumMTU[vf] = 1500
        kernel.change(hn) { $0.mtu = 9000 }
        try start()
        for _ in 0..<3 {
            clock.current = try XCTUnwrap(reconciler.pairs[hn]?.retryAt)
            reconciler.onTimer()
        }
        let retryAt = try XCTUnwrap(reconciler.pairs[hn]?.retryAt)
        XCTAssertEqual(retryAt.duration(since: clock.current), .seconds(8), "the back-off has grown to 8 s")

        clock.advance(by: .seconds(1))
        kernel.change(hn) { $0.mtu = 1400 } // one the VF takes
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.links[vf]?.mtu, 1400)
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering on the MTU change, 7 s before the retry was due")
        XCTAssertNil(reconciler.pairs[hn]?.retryAt)

        kernel.change(hn) { $0.mtu = 9000 } // refused again: held back, from 1 s again
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertNil(kernel.relay[hn]?.egress)
        XCTAssertEqual(try XCTUnwrap(reconciler.pairs[hn]?.retryAt).duration(since: clock.current), .seconds(1))
    }

    func testNonTransparentModeAppliesTheConsistencyItemsOnly() throws {
        kernel.change(hn) { $0.mtu = 4000 }
        try start(AgentConfig(syntheticPatterns: [try! Glob("hn0")], settle: .zero, mode: .nonTransparent))
        XCTAssertTrue(kernel.relay.isEmpty, "no tc ever")
        XCTAssertEqual(kernel.links[vf]?.mtu, 4000)
        XCTAssertFalse(kernel.offloads[hn]!.active.contains("tx-tcp-segmentation"))
        XCTAssertEqual(kernel.links[hn]?.gso?.maxSize, 32768)
        XCTAssertEqual(kernel.links[hn]?.linkMode, .default, "the VF is visible: hn's link state stays its own")
        XCTAssertEqual(kernel.links[vf]?.addrGenMode, .eui64, "the stack may use the VF: it keeps its IPv6")
    }

    func testNonTransparentModeCountsTheVFsOwnTraffic() throws {
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 100, txPackets: 50, rxBytes: 10_000, txBytes: 5_000) }
        try start(AgentConfig(syntheticPatterns: [try! Glob("hn0")], settle: .zero, mode: .nonTransparent))
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 130, txPackets: 60, rxBytes: 13_000, txBytes: 6_000) }
        reconciler.shutdown(keepSteering: false)
        XCTAssertTrue(logs.contains("vf traffic rx_packets=30 rx_bytes=3000 tx_packets=10 tx_bytes=1000"),
                      "only what passed since the VF was attached: \(logs.messages.filter { $0.contains("restored") })")
    }
}
