@testable import POSIX
@testable import Netlink
@testable import Engine
import Glibc
import Logging
import Policy
import XCTest

final class ReconcilerTests: ReconcilerTestCase {
    private var reconciler: Reconciler!

    private let mac = FakeKernel.pairMAC
    private let settle: Duration = .seconds(2)

    /// hn0 as the test starts: as `FakeKernel.withPair` makes it, in the dormant link mode the
    /// agent leaves it in while paired (its own tests set it otherwise).
    private var hnLink: LinkSnapshot {
        var link = FakeKernel.withPair().links[hn]!
        link.linkMode = .dormant
        return link
    }

    private func vfLink(_ index: InterfaceIndex = 3, name: String = "vf0", flags: LinkFlags = [.broadcast, .multicast]) -> LinkSnapshot {
        LinkSnapshot(index: index, name: name, mac: mac, flags: flags, addrGenMode: .eui64)
    }

    /// The attach sequence for pair hn0(2) + `vf`.
    private func attachActions(vf: InterfaceIndex = 3) -> [Action] {
        [.setAddrGenMode(device: vf, mode: .none),
         .setAdminState(device: vf, up: true),
         .addClsact(device: vf),
         .addRedirect(device: vf, hook: .ingress, kind: .toIngress, target: hn),
         .addClsact(device: hn),
         .addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vf)]
    }

    private func steered(vf: InterfaceIndex = 3) -> [InterfaceIndex: RelayObservation] {
        [vf: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: hn)),
         hn: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: vf))]
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        kernel.change(hn) { $0.linkMode = .dormant }
        kernel.add(LinkSnapshot(index: 1, name: "lo", mac: nil, hardwareType: 772, flags: [.up, .loopback]))
        kernel.add(LinkSnapshot(index: 4, name: "eth1", mac: MACAddress("00:15:5d:00:00:01"), flags: [.up, .lowerUp]))
        kernel.carrierOnUp.formUnion([7, 8])
        try makeReconciler()
    }

    private func makeReconciler(_ config: AgentConfig? = nil) throws {
        let drivers = FakeDrivers(byName: ["hn0": "hv_netvsc", "vf0": "mlx5_core", "eth1": "hv_netvsc"])
        reconciler = Reconciler(config: config ?? AgentConfig(settle: settle), kernel: kernel, drivers: drivers,
                                clock: clock, logger: logs.logger)
        try reconciler.resynchronise()
    }

    private var phase: PairPhase? { reconciler.pairs[hn]?.phase }

    /// Start, settle, attach, and let the agent see its own changes.
    private func steer(expecting relay: [InterfaceIndex: RelayObservation]? = nil,
                       file: StaticString = #filePath, line: UInt = #line) {
        reconciler.reconcile()
        clock.advance(by: settle)
        reconciler.reconcile()
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.relay, relay ?? steered(), "steering", file: file, line: line)
        XCTAssertEqual(phase, .active(vf: vf, seenUsable: true), file: file, line: line)
        kernel.clearLog()
        logs.clear()
    }

    // MARK: attach

    func testSettleThenSteer() {
        let t0 = clock.now()
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [], "nothing happens while settling")
        XCTAssertEqual(phase, .settling(vf: vf, until: t0.advanced(by: settle)))
        XCTAssertEqual(reconciler.nextDeadline, t0.advanced(by: settle))
        XCTAssertTrue(logs.contains("paired synthetic=hn0(2) vf=vf0(3) mac=00:15:5d:aa:bb:cc"))
        XCTAssertTrue(logs.contains("settling synthetic=hn0(2) vf=vf0(3) for 2.0s"))

        clock.advance(by: .milliseconds(1999))
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [], "still settling 1 ms before the deadline")
        XCTAssertEqual(reconciler.nextDeadline, t0.advanced(by: settle))

        clock.advance(by: .milliseconds(1))
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, attachActions(), "quiet, up, VF ingress, then hn egress")
        XCTAssertEqual(kernel.relay, steered())
        XCTAssertEqual(kernel.links[vf]?.addrGenMode, AddrGenMode.none)
        XCTAssertEqual(kernel.links[vf]?.flags.isSuperset(of: [.up, .lowerUp]), true)
        XCTAssertEqual(reconciler.nextDeadline, clock.now().advanced(by: Reconciler.multicastCheckInterval),
                       "nothing due but the multicast check")
        XCTAssertEqual(kernel.duplicateFilters, 0)
        XCTAssertEqual(logs.count("steering on"), 1)
        XCTAssertTrue(logs.contains("steering on synthetic=hn0(2) vf=vf0(3) mac=00:15:5d:aa:bb:cc switch_ms=0.0", level: .notice))
        XCTAssertFalse(logs.contains("fallback"))

        // Level-based: the same inputs again, or the agent's own changes arriving as events, change nothing.
        kernel.clearLog()
        reconciler.reconcile()
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [])
        XCTAssertEqual(phase, .active(vf: vf, seenUsable: true))
        XCTAssertEqual(logs.count("steering on"), 1)
    }

    func testZeroSettleSteersAtOnce() throws {
        try makeReconciler(AgentConfig(settle: .zero))
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, attachActions())
        XCTAssertEqual(kernel.relay, steered())
    }

    func testOnlyTheSyntheticNICsVFIsTouched() {
        steer()
        // eth1 (also hv_netvsc, other MAC) is a pair without VF; lo is no candidate at all.
        XCTAssertNil(reconciler.pairs[4]?.phase.vf)
        XCTAssertEqual(reconciler.pairs[4]?.phase, .waitingForVF)
        XCTAssertEqual(Set(kernel.relay.keys), [hn, vf])
    }

    // MARK: VF removal

    func testVFRemovedDeletesEgressFirstThenSteersAgainWhenItReturns() {
        steer()
        kernel.remove(vf, notifying: reconciler)                       // hn0's egress redirect now points at nothing: TX blackholed
        reconciler.reconcile()
        XCTAssertEqual(kernel.log.first, .deleteRedirect(device: hn, hook: .egress))
        XCTAssertEqual(kernel.log, [.deleteRedirect(device: hn, hook: .egress)],
                       "hn0 keeps its clsact while paired: a qdisc change would stop its queue")
        XCTAssertEqual(kernel.relay[hn], RelayObservation(hasClsact: true))
        XCTAssertEqual(phase, .waitingForVF)
        XCTAssertTrue(logs.contains("unpaired synthetic=hn0(2) vf="))
        XCTAssertTrue(logs.contains("reason=\"VF removed\""))
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"VF removed\"", level: .notice))

        // The VF comes back (new ifindex, as after a PCI rescan): settle again, then steer.
        kernel.clearLog()
        logs.clear()
        kernel.add(vfLink(7))
        reconciler.take(.present(kernel.links[7]!))
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [])
        XCTAssertEqual(phase, .settling(vf: 7, until: clock.now().advanced(by: settle)))
        XCTAssertEqual(reconciler.nextDeadline, clock.now().advanced(by: settle))
        clock.advance(by: settle)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, attachActions(vf: 7).filter { $0 != .addClsact(device: hn) })
        XCTAssertEqual(kernel.relay[hn], RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 7)))
        XCTAssertTrue(logs.contains("steering on synthetic=hn0(2) vf=vf0(7)"))
    }

    func testVFMovedToAnotherNamespace() {
        steer()
        kernel.remove(vf, notifying: reconciler, movedToNamespace: true)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log.first, .deleteRedirect(device: hn, hook: .egress))
        XCTAssertEqual(phase, .waitingForVF)
    }

    func testVFRemovedWithoutEventIsFoundByResynchronise() throws {
        steer()
        kernel.remove(vf)           // the event was lost (ENOBUFS): the agent dumps again
        try reconciler.resynchronise()
        reconciler.reconcile()
        XCTAssertEqual(kernel.log.first, .deleteRedirect(device: hn, hook: .egress))
        XCTAssertNil(kernel.relay[hn]?.egress)
    }

    func testVFRecreatedAtTheSameIfindexWithinOneBatchSettlesAnew() {
        steer()
        // `ip link del vf0; ip link add vf0 index 3 ...` read in one batch of events: the new
        // device comes up down like any new VF and must not pass for the old one set down.
        kernel.remove(vf)
        kernel.add(vfLink())
        reconciler.take(.removed(index: vf, name: "vf0", movedToNamespace: false))
        reconciler.take(.present(kernel.links[vf]!))
        reconciler.reconcile()
        XCTAssertEqual(kernel.log.first, .deleteRedirect(device: hn, hook: .egress))
        XCTAssertEqual(phase, .settling(vf: vf, until: clock.now().advanced(by: settle)))
        XCTAssertTrue(logs.contains("unpaired synthetic=hn0(2) vf=vf0(3) reason=\"VF removed\""))
        XCTAssertFalse(logs.contains("VF unusable"))

        kernel.clearLog()
        clock.advance(by: settle)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, attachActions().filter { $0 != .addClsact(device: hn) },
                       "attached like a new VF: quieted and brought up (hn0 kept its clsact)")
        XCTAssertEqual(kernel.relay, steered())
    }

    // MARK: shutdown

    func testShutdownRestoresEverything() {
        steer()
        reconciler.shutdown(keepSteering: false)
        XCTAssertEqual(kernel.log, [
            .deleteRedirect(device: hn, hook: .egress),      // TX back on hn0 first
            .deleteClsact(device: hn),
            .deleteRedirect(device: vf, hook: .ingress),
            .setAdminState(device: vf, up: false),
            .setAddrGenMode(device: vf, mode: .eui64),
            .deleteClsact(device: vf),
        ])
        XCTAssertEqual(kernel.relay[hn], .absent)
        XCTAssertEqual(kernel.relay[vf], .absent)
        XCTAssertEqual(kernel.links[vf], vfLink(), "VF as found: down, eui64")
        XCTAssertEqual(kernel.links[hn], hnLink, "the synthetic NIC is never changed")
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"agent stopping\""))
        XCTAssertTrue(logs.contains("restored synthetic=hn0(2) relay totals"))
    }

    func testShutdownKeepsForeignClsact() {
        // Someone else's clsact with a filter of theirs on the VF: the agent uses it, never deletes it.
        kernel.relay[vf] = RelayObservation(hasClsact: true, foreignFilters: 1)
        var expected = steered()
        expected[vf]?.foreignFilters = 1
        steer(expecting: expected)
        XCTAssertEqual(kernel.duplicateFilters, 0)
        reconciler.shutdown(keepSteering: false)
        XCTAssertFalse(kernel.log.contains(.deleteClsact(device: vf)))
        XCTAssertEqual(kernel.relay[vf], RelayObservation(hasClsact: true, foreignFilters: 1))
    }

    func testShutdownKeepingSteering() {
        steer()
        reconciler.shutdown(keepSteering: true)
        XCTAssertEqual(kernel.log, [])
        XCTAssertEqual(kernel.relay, steered())
        XCTAssertTrue(logs.contains("leaving the relay in place"))
    }

    // MARK: failures

    func testFailedEgressAddKeepsPairOffTheVFAndRetriesAfterOneSecond() {
        kernel.fail(.addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vf))
        reconciler.reconcile()
        clock.advance(by: settle)
        let failedAt = clock.now()
        reconciler.reconcile()
        XCTAssertEqual(kernel.failed, [.addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vf)])
        XCTAssertEqual(kernel.log, attachActions() + [.deleteRedirect(device: vf, hook: .ingress)],
                       "held on the synthetic path: the VF ingress redirect goes too")
        XCTAssertNil(kernel.relay[hn]?.egress)
        XCTAssertNil(kernel.relay[vf]?.ingress)
        XCTAssertEqual(reconciler.nextDeadline, failedAt.advanced(by: .seconds(1)))
        XCTAssertTrue(logs.contains("add egress egress-redirect on ifindex 2 to ifindex 3 failed: Cannot allocate memory (ENOMEM)", level: .error),
                      "\(logs.messages)")
        XCTAssertTrue(logs.contains("pair of hn0(2) stays on the synthetic path; retrying in 1.0s", level: .warning))
        XCTAssertFalse(logs.contains("steering on"))

        kernel.clearLog()
        clock.advance(by: .milliseconds(999))
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [], "no retry before the second is over")

        clock.advance(by: .milliseconds(1))
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [.addRedirect(device: vf, hook: .ingress, kind: .toIngress, target: hn),
                                    .addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vf)])
        XCTAssertEqual(kernel.relay, steered())
        XCTAssertEqual(reconciler.nextDeadline, clock.now().advanced(by: Reconciler.multicastCheckInterval),
                       "nothing due but the multicast check")
        XCTAssertTrue(logs.contains("steering on synthetic=hn0(2) vf=vf0(3)"))
    }

    func testFailureBeforeEgressRemovesEgressAtOnce() {
        steer()
        // Someone turns IPv6 address generation back on; quietening it again fails.
        kernel.change(vf) { $0.addrGenMode = .eui64 }
        kernel.deliverLinks(to: reconciler)
        kernel.fail(.setAddrGenMode(device: vf, mode: .none))
        reconciler.reconcile()
        XCTAssertEqual(Array(kernel.log.prefix(2)), [.setAddrGenMode(device: vf, mode: .none),
                                                     .deleteRedirect(device: hn, hook: .egress)],
                       "never leave TX on a half-configured VF")
        XCTAssertNil(kernel.relay[hn]?.egress)
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3)"))

        kernel.clearLog()
        clock.advance(by: .seconds(1))
        reconciler.reconcile()
        XCTAssertEqual(kernel.relay, steered())
        XCTAssertEqual(kernel.links[vf]?.addrGenMode, AddrGenMode.none)
    }

    func testKernelErrorIsLoggedWithErrnoText() throws {
        kernel.fail(.addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vf),
                    with: KernelError(operation: "RTM_NEWTFILTER egress on hn0(2)", errno: ENOMEM, kernelMessage: nil))
        reconciler.reconcile()
        clock.advance(by: settle)
        reconciler.reconcile()
        XCTAssertTrue(logs.contains("RTM_NEWTFILTER egress on hn0(2) failed: Cannot allocate memory (ENOMEM)", level: .error))
        XCTAssertNil(kernel.relay[hn]?.egress)
        clock.advance(by: .seconds(1))
        reconciler.reconcile()
        XCTAssertEqual(kernel.relay, steered())
    }

    // MARK: someone else's changes

    func testVFAdminDownSuspendsThenSettlesAgain() {
        steer()
        kernel.change(vf) { $0.flags.subtract([.up, .lowerUp]) }     // `ip link set vf0 down`
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [.deleteRedirect(device: hn, hook: .egress), .setOperState(device: hn, state: .dormant),
                                    .deleteRedirect(device: vf, hook: .ingress), .setOperState(device: hn, state: .up)],
                       "TX off the VF first, then hn0 dormant until the fallback is complete")
        XCTAssertEqual(phase, .suspended(vf: vf, reason: .vfAdminDown))
        XCTAssertEqual(kernel.links[vf]?.isAdminUp, false, "the agent does not fight the operator")
        XCTAssertTrue(logs.contains("VF unusable synthetic=hn0(2) vf=vf0(3) reason=\"VF set down\""))
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"VF set down\"", level: .notice))

        // Nothing more while it stays down.
        kernel.clearLog()
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [])

        // Up again: settle again, then steer again.
        kernel.change(vf) { $0.flags.formUnion([.up, .lowerUp]) }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(phase, .settling(vf: vf, until: clock.now().advanced(by: settle)))
        XCTAssertEqual(reconciler.nextDeadline, clock.now().advanced(by: settle))
        XCTAssertNil(kernel.relay[hn]?.egress, "no TX through the VF while it settles")
        clock.advance(by: settle)
        reconciler.reconcile()
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.relay, steered())
        XCTAssertEqual(kernel.links[vf]?.addrGenMode, AddrGenMode.none)
        XCTAssertTrue(logs.contains("steering on synthetic=hn0(2) vf=vf0(3)"))
    }

    func testResettlingVFStaysQuietAndUp() throws {
        steer()
        kernel.change(vf) { $0.flags.subtract([.up, .lowerUp]) }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        kernel.change(vf) { $0.flags.formUnion([.up, .lowerUp]) }
        kernel.deliverLinks(to: reconciler)
        kernel.clearLog()
        reconciler.reconcile()
        // The operator brought the VF back up: the agent must not take it down again, and must
        // not give it IPv6 link-local generation (DAD/RS with the synthetic NIC's MAC) meanwhile.
        XCTAssertFalse(kernel.log.contains(.setAdminState(device: vf, up: false)), "\(kernel.log)")
        XCTAssertFalse(kernel.log.contains(.setAddrGenMode(device: vf, mode: .eui64)), "\(kernel.log)")
        XCTAssertEqual(kernel.links[vf]?.addrGenMode, AddrGenMode.none)
        XCTAssertEqual(kernel.links[vf]?.isAdminUp, true)
    }

    func testVFLostCarrierSuspends() {
        steer()
        kernel.change(vf) { $0.flags.remove(.lowerUp) }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(Array(kernel.log.prefix(2)), [.deleteRedirect(device: hn, hook: .egress),
                                                     .setOperState(device: hn, state: .dormant)],
                       "TX off the VF before anything else, then hn0 dormant")
        XCTAssertEqual(kernel.links[hn]?.operState, .up, "fallback complete: hn0 up again")
        XCTAssertEqual(phase, .suspended(vf: vf, reason: .vfNoCarrier))
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"VF lost carrier\""))
    }

    func testSyntheticDownTakesVFDownAndBackUp() {
        steer()
        kernel.change(hn) { $0.flags.subtract([.up, .lowerUp]) }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [.deleteRedirect(device: hn, hook: .egress), .setAdminState(device: vf, up: false)])
        XCTAssertEqual(phase, .active(vf: vf, seenUsable: false), "not a suspension: the agent took the VF down")
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"synthetic NIC down\""))

        kernel.clearLog()
        kernel.change(hn) { $0.flags.formUnion([.up, .lowerUp]) }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [.setAdminState(device: vf, up: true),
                                    .addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vf)])
        XCTAssertEqual(kernel.relay, steered())
    }

    func testStolenVFIsReleased() {
        // The VF gets enslaved to a bridge by someone else: no longer a candidate; everything is given back.
        steer()
        kernel.change(vf) { $0.master = 9 }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        // Its admin state now belongs to its new master: not set down, unlike a VF that is simply released.
        XCTAssertEqual(Set(kernel.log), [.deleteRedirect(device: hn, hook: .egress),
                                         .deleteRedirect(device: vf, hook: .ingress),
                                         .setAddrGenMode(device: vf, mode: .eui64), .deleteClsact(device: vf)])
        XCTAssertEqual(kernel.links[vf]?.isAdminUp, true)
        XCTAssertEqual(phase, .waitingForVF)
        XCTAssertEqual(kernel.relay[hn], RelayObservation(hasClsact: true), "kept while hn0 is paired")
        XCTAssertEqual(kernel.relay[vf], .absent)
        XCTAssertTrue(logs.contains("ignored vf0(3) mac=00:15:5d:aa:bb:cc for synthetic=hn0(2) reason=\"already enslaved to ifindex 9"))
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3)"))
    }

    func testStolenVFReleasedOnlyAfterEgressIsRemoved() throws {
        steer()
        kernel.change(vf) { $0.master = 9 }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log.first, .deleteRedirect(device: hn, hook: .egress), "\(kernel.log)")
    }

    func testStolenVFFallbackReasonSaysWhy() throws {
        steer()
        kernel.change(vf) { $0.master = 9 }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"VF no longer a candidate"), "\(logs.messages)")
        XCTAssertFalse(logs.contains("reason=\"VF removed\""), "\(logs.messages)")
    }

    func testIgnoredLinksAnnouncedOnce() {
        kernel.add(LinkSnapshot(index: 8, name: "hn0.10", mac: mac, flags: [.up, .lowerUp], kind: "macvlan"))
        try? reconciler.resynchronise()
        reconciler.reconcile()
        reconciler.reconcile()
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(logs.count("ignored hn0.10(8)"), 1)
        XCTAssertTrue(logs.contains("reason=\"stacked or virtual device (kind macvlan)\""))
        XCTAssertEqual(phase?.vf, vf)
    }

    func testSyntheticNICRemovedGivesVFBack() {
        steer()
        kernel.remove(hn, notifying: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [.deleteRedirect(device: vf, hook: .ingress), .setAdminState(device: vf, up: false),
                                    .setAddrGenMode(device: vf, mode: .eui64), .deleteClsact(device: vf)])
        XCTAssertNil(reconciler.pairs[hn])
        XCTAssertEqual(kernel.links[vf], vfLink())
        XCTAssertTrue(logs.contains("synthetic NIC ifindex 2 gone or no longer synthetic; pair dissolved"))
        XCTAssertTrue(logs.contains("released vf=vf0(3)"))
    }

    func testRelayTotalsSurviveFilterReplacement() {
        steer()
        kernel.relay[hn]?.egress?.counters = RelayCounters(packets: 10, bytes: 1000)
        kernel.relay[vf]?.ingress?.counters = RelayCounters(packets: 5, bytes: 500)
        reconciler.reconcile()
        XCTAssertEqual(reconciler.pairs[hn]?.totals,
                       TrafficCounters(received: RelayCounters(packets: 5, bytes: 500), sent: RelayCounters(packets: 10, bytes: 1000)))
        // The VF goes and comes back: the new filters count from zero, the old counts are kept.
        kernel.remove(vf, notifying: reconciler)
        reconciler.reconcile()
        XCTAssertTrue(logs.contains("relay rx_packets=5 rx_bytes=500 tx_packets=10 tx_bytes=1000"), "\(logs.messages)")
        kernel.add(vfLink(7))
        reconciler.take(.present(kernel.links[7]!))
        reconciler.reconcile()
        clock.advance(by: settle)
        reconciler.reconcile()
        kernel.relay[hn]?.egress?.counters = RelayCounters(packets: 1, bytes: 64)
        reconciler.reconcile()
        XCTAssertEqual(reconciler.pairs[hn]?.totals,
                       TrafficCounters(received: RelayCounters(packets: 5, bytes: 500), sent: RelayCounters(packets: 11, bytes: 1064)))
    }

    func testResynchroniseRetriesInterruptedDumps() throws {
        kernel.dumpInterruptions = 3
        kernel.add(vfLink(7, name: "vf1"))
        try reconciler.resynchronise()
        XCTAssertEqual(kernel.dumpInterruptions, 0)
        XCTAssertNotNil(reconciler.links[7])
        kernel.dumpInterruptions = 6
        XCTAssertThrowsError(try reconciler.resynchronise()) { error in XCTAssertTrue(error is DumpInterrupted) }
    }

    func testObservationFailureChangesNothing() {
        reconciler.reconcile()
        clock.advance(by: settle)
        kernel.observeFailure = FakeKernel.noMemory("RTM_GETTFILTER dump")
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [], "no plan without knowing the tc state")
        XCTAssertTrue(logs.contains("observing tc state: RTM_GETTFILTER dump failed: Cannot allocate memory (ENOMEM)", level: .error))
        kernel.observeFailure = nil
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, attachActions())
    }

    func testNonTransparentModeNeverRedirects() throws {
        try makeReconciler(AgentConfig(settle: settle, mode: .nonTransparent))
        reconciler.reconcile()
        clock.advance(by: settle)
        reconciler.reconcile()
        XCTAssertEqual(kernel.log, [.setAdminState(device: vf, up: true)], "no quietening, no redirect: the stack uses the VF")
        XCTAssertTrue(kernel.relay.isEmpty)
    }
}
