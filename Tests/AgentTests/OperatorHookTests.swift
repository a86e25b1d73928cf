@testable import POSIX
@testable import Engine
@testable import OperatorInterface
import Logging
import Policy
import XCTest

/// Records what the reconciler reports to its event sink.
final class RecordingSink: PairEventSink {
    var activities: [PairActivity] = []
    func record(_ activity: PairActivity) { activities.append(activity) }
    var kinds: [PairActivity.Kind] { activities.map(\.kind) }
}

/// The reconciler's operator hooks: pair activity, the snapshot, and relay counters that stay
/// continuous when a VF goes (FakeKernel; the real kernel is in OperatorIntegrationTests).
final class OperatorHookTests: ReconcilerTestCase {
    private var reconciler: Reconciler!
    private var sink: RecordingSink!
    private let mac = FakeKernel.pairMAC

    override func setUpWithError() throws {
        try super.setUpWithError()
        kernel.carrierOnUp.insert(7)
        sink = RecordingSink()
        reconciler = Reconciler(config: AgentConfig(settle: .seconds(1)), kernel: kernel,
                                drivers: FakeDrivers(byName: ["hn0": "hv_netvsc"]), clock: clock, logger: logs.logger)
        reconciler.eventSink = sink
        try reconciler.resynchronise()
    }

    private func vfLink(_ index: InterfaceIndex, counters: TrafficCounters? = nil) -> LinkSnapshot {
        var link = LinkSnapshot(index: index, name: "vf0", mac: mac, flags: [.broadcast], addrGenMode: .eui64)
        link.counters = counters
        return link
    }

    private func steer() {
        reconciler.reconcile()
        clock.advance(by: .seconds(1))
        reconciler.reconcile()
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertTrue(reconciler.pairs[hn]?.steering == true)
    }

    func testHotPlugIsReportedInOrderWithSwitchDurations() {
        steer()
        XCTAssertEqual(sink.kinds.filter { $0 != .policy },
                       [.discovered, .vfSeen, .settleStarted, .settled, .steeringOn])
        let on = sink.activities.first { $0.kind == .steeringOn }
        XCTAssertEqual(on?.synthetic, NamedInterface(2, name: "hn0"))
        XCTAssertEqual(on?.vf, NamedInterface(3, name: "vf0"))
        XCTAssertEqual(on?.switchDuration, .zero, "the fake clock did not move during the attach")
        XCTAssertTrue(sink.activities.contains { $0.kind == .policy && $0.detail == "addrgenmode none on vf0(3)" })

        sink.activities.removeAll()
        kernel.remove(vf, notifying: reconciler)
        clock.advance(by: .milliseconds(3))
        reconciler.reconcile()
        XCTAssertEqual(sink.kinds.filter { $0 != .policy }, [.released, .fallback])
        XCTAssertEqual(sink.activities.first { $0.kind == .released }?.reason, "VF removed")
        let fallback = sink.activities.first { $0.kind == .fallback }
        XCTAssertEqual(fallback?.reason, "VF removed")
        XCTAssertEqual(fallback?.vf, NamedInterface(3, name: "vf0"), "the departed VF is still named")

        sink.activities.removeAll()
        reconciler.shutdown(keepSteering: false)
        XCTAssertEqual(sink.kinds.last, .restored)
    }

    func testHeldBackIsReportedOnce() {
        kernel.fail(.addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vf), times: 2)
        reconciler.reconcile()
        clock.advance(by: .seconds(1))
        reconciler.reconcile()
        XCTAssertEqual(sink.kinds.filter { $0 == .heldBack }.count, 1)
        XCTAssertEqual(sink.activities.first { $0.kind == .heldBack }?.reason,
                       "add egress egress-redirect on ifindex 2 to ifindex 3 failed: Cannot allocate memory (ENOMEM)")
        XCTAssertNotNil(reconciler.snapshot().pairs.first?.retryAt)
        XCTAssertEqual(StatusBoard.state(of: reconciler.snapshot().pairs[0], mode: .transparent), .heldBack)
    }

    func testSnapshotShowsPairsLinksAndWhatWasChanged() {
        steer()
        let snapshot = reconciler.snapshot()
        XCTAssertEqual(snapshot.pairs.count, 1)
        let pair = snapshot.pairs[0]
        XCTAssertEqual(pair.synthetic, NamedInterface(2, name: "hn0"))
        XCTAssertEqual(pair.vf, NamedInterface(3, name: "vf0"))
        XCTAssertTrue(pair.steering)
        XCTAssertEqual(StatusBoard.state(of: pair, mode: .transparent), .steering)
        XCTAssertEqual(snapshot.originals[vf, .addrGenMode], .addrGenMode(.eui64))
        XCTAssertTrue(snapshot.originals[vf, .clsact] != nil)
        XCTAssertEqual(snapshot.reconciles, 3)
        let changes = NICChangeReport.settings(of: vf, originals: snapshot.originals, link: snapshot.links[vf])
        XCTAssertTrue(changes.contains(SettingChange(setting: "addrgenmode", original: "eui64", current: "none")), "\(changes)")
        XCTAssertTrue(changes.contains(SettingChange(setting: "admin state", original: "down", current: "up")), "\(changes)")
        XCTAssertTrue(changes.contains(SettingChange(setting: "clsact qdisc", original: "none", current: "added by hnagent")))
    }

    /// The VF leaves with its filter between two readings: what its own link counters saw since
    /// the last reading is banked; nothing is counted twice; totals never go down.
    func testRelayCountersContinueAcrossVFRemoval() {
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 100, txPackets: 50, rxBytes: 100 * 98, txBytes: 50 * 98) }
        steer()
        // Traffic: the filters and the VF's link counters move together.
        kernel.model.relayTraffic(synthetic: hn, vf: vf, rx: 10, tx: 20, size: 98)
        XCTAssertEqual(kernel.links[vf]?.counters, TrafficCounters(rxPackets: 110, txPackets: 70, rxBytes: 110 * 98, txBytes: 70 * 98))
        reconciler.refreshCounters()
        XCTAssertEqual(reconciler.snapshot().pairs[0].relay,
                       TrafficCounters(received: RelayCounters(packets: 10, bytes: 840), sent: RelayCounters(packets: 20, bytes: 1960)))
        XCTAssertEqual(reconciler.pairs[hn]?.relay.ledger.rxOffset, RelayCounters(packets: 100, bytes: 100 * 84),
                       "the VF's RX besides the relay (before the filter): 110 - 10 packets")

        // 5 more each way, unread by the agent, then the VF goes: its close event carries its last counters.
        kernel.model.relayTraffic(synthetic: hn, vf: vf, rx: 5, tx: 5, size: 98)
        reconciler.take(.present(kernel.links[vf]!))
        kernel.remove(vf, notifying: reconciler)
        reconciler.reconcile()
        let pair = reconciler.snapshot().pairs[0]
        XCTAssertEqual(pair.relay.received, RelayCounters(packets: 15, bytes: 15 * 84), "RX header bytes left out as tc counts")
        XCTAssertEqual(pair.relay.sent, RelayCounters(packets: 25, bytes: 25 * 98))
        XCTAssertEqual(pair.recovered, TrafficCounters(received: RelayCounters(packets: 5, bytes: 5 * 84),
                                                   sent: RelayCounters(packets: 5, bytes: 5 * 98)))
        // Nothing more is added later.
        reconciler.reconcile()
        reconciler.refreshCounters()
        XCTAssertEqual(reconciler.snapshot().pairs[0].relay, pair.relay)
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"VF removed\""))
    }

    /// The VF sends traffic of its own (MLD reports, router solicitations) between readings: the
    /// latest reading's offset accounts for it, so the recovery at removal credits the relay with
    /// only what it carried after that reading.
    func testTheVFsOwnTrafficBetweenReadingsIsNotCreditedToTheRelay() {
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0) }
        steer()
        kernel.relay[hn]?.egress?.counters = RelayCounters(packets: 10, bytes: 980)
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 0, txPackets: 10, rxBytes: 0, txBytes: 980) }
        reconciler.refreshCounters()
        // 7 packets of the VF's own, then 10 more relayed; read.
        kernel.relay[hn]?.egress?.counters = RelayCounters(packets: 20, bytes: 1960)
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 0, txPackets: 27, rxBytes: 0, txBytes: 27 * 98) }
        reconciler.refreshCounters()
        XCTAssertEqual(reconciler.pairs[hn]?.relay.ledger.txOffset, RelayCounters(packets: 7, bytes: 7 * 98))
        // 3 more relayed, then the VF goes.
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 0, txPackets: 30, rxBytes: 0, txBytes: 30 * 98) }
        reconciler.take(.present(kernel.links[vf]!))
        kernel.remove(vf, notifying: reconciler)
        reconciler.reconcile()
        let pair = reconciler.snapshot().pairs[0]
        XCTAssertEqual(pair.recovered.sent, RelayCounters(packets: 3, bytes: 3 * 98))
        XCTAssertEqual(pair.relay.sent, RelayCounters(packets: 23, bytes: 23 * 98), "what the relay moved, nothing of the VF's own")
    }

    /// The VF leaves while the agent reads counters (a status request) before it has seen the
    /// VF's close event: the filters are gone but the VF still looks up. The recovery waits for
    /// the VF's final counters instead of taking the stale ones.
    func testVanishedFilterWaitsForTheVFsFinalCounters() {
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0) }
        steer()
        kernel.relay[vf]?.ingress?.counters = RelayCounters(packets: 10, bytes: 840)
        kernel.relay[hn]?.egress?.counters = RelayCounters(packets: 10, bytes: 980)
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 10, txPackets: 10, rxBytes: 980, txBytes: 980) }
        reconciler.refreshCounters()
        // Gone from the kernel, no event yet.
        var closed = kernel.links[vf]!
        closed.flags.subtract([.up, .lowerUp])
        closed.counters = TrafficCounters(rxPackets: 14, txPackets: 13, rxBytes: 14 * 98, txBytes: 13 * 98)
        kernel.remove(vf)
        reconciler.refreshCounters()
        XCTAssertEqual(reconciler.snapshot().pairs[0].relay.received.packets, 10, "banked what was read; waiting for the rest")
        // The close and removal events arrive.
        reconciler.take(.present(closed))
        reconciler.take(.removed(index: vf, name: "vf0", movedToNamespace: true))
        reconciler.reconcile()
        let pair = reconciler.snapshot().pairs[0]
        XCTAssertEqual(pair.relay.received, RelayCounters(packets: 14, bytes: 14 * 84))
        XCTAssertEqual(pair.relay.sent, RelayCounters(packets: 13, bytes: 13 * 98))
        XCTAssertEqual(pair.recovered.received.packets, 4)
        XCTAssertEqual(pair.recovered.sent.packets, 3)
    }

    /// No reading between steering on and the VF's removal (nothing happened to trigger one):
    /// the filters were last read at 0, so their end is only seen as their absence.
    func testFiltersThatVanishBeforeTheirFirstNonZeroReadingAreRecovered() {
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 3, txPackets: 0, rxBytes: 300, txBytes: 0) }
        steer()
        XCTAssertNotNil(reconciler.pairs[hn]?.relay.ledger.txOffset, "the egress filter, added after the ingress one, was learned too")
        var closed = kernel.links[vf]!
        closed.flags.subtract([.up, .lowerUp])
        closed.counters = TrafficCounters(rxPackets: 503, txPackets: 500, rxBytes: 300 + 500 * 98, txBytes: 500 * 98)
        kernel.remove(vf)
        reconciler.take(.present(closed))
        reconciler.take(.removed(index: vf, name: "vf0", movedToNamespace: false))
        reconciler.reconcile()
        let pair = reconciler.snapshot().pairs[0]
        XCTAssertEqual(pair.relay.received, RelayCounters(packets: 500, bytes: 500 * 84))
        XCTAssertEqual(pair.relay.sent, RelayCounters(packets: 500, bytes: 500 * 98))
    }

    /// Someone else removes the VF's ingress filter while the VF stays up: its later RX is not
    /// relay traffic; after the recovery window nothing is added, even if the VF leaves later.
    func testFilterRemovedBySomeoneElseAddsNothingLater() {
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0) }
        steer()
        kernel.relay[vf]?.ingress?.counters = RelayCounters(packets: 10, bytes: 840)
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 10, txPackets: 0, rxBytes: 980, txBytes: 0) }
        reconciler.refreshCounters()
        kernel.relay[vf]?.ingress = nil
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 50, txPackets: 0, rxBytes: 50 * 98, txBytes: 0) }
        reconciler.refreshCounters()
        clock.advance(by: .seconds(2))
        reconciler.refreshCounters()
        kernel.remove(vf, notifying: reconciler)
        reconciler.reconcile()
        XCTAssertEqual(reconciler.snapshot().pairs[0].relay.received, RelayCounters(packets: 10, bytes: 840))
    }

    /// A filter the agent removes itself (the VF left the pair but stays) was read in the same
    /// pass: the VF's later RX is not relay traffic and is not added.
    func testFilterRemovedByTheAgentAddsNothingFromLinkCounters() {
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 100, txPackets: 0, rxBytes: 9800, txBytes: 0) }
        steer()
        kernel.relay[vf]?.ingress?.counters = RelayCounters(packets: 7, bytes: 7 * 84)
        kernel.change(vf) { $0.counters = TrafficCounters(rxPackets: 107, txPackets: 0, rxBytes: 107 * 98, txBytes: 0) }
        reconciler.refreshCounters()
        // Someone enslaves the VF: it is released (filters removed by the agent) while traffic goes on.
        kernel.change(vf) {
            $0.master = 9
            $0.counters = TrafficCounters(rxPackets: 150, txPackets: 0, rxBytes: 150 * 98, txBytes: 0)
        }
        kernel.deliverLinks(to: reconciler)
        reconciler.reconcile()
        XCTAssertNil(kernel.relay[vf]?.ingress, "filter removed")
        XCTAssertEqual(reconciler.snapshot().pairs[0].relay.received, RelayCounters(packets: 7, bytes: 7 * 84))
        XCTAssertEqual(reconciler.snapshot().pairs[0].recovered, TrafficCounters())
    }

    func testRefreshReadsCountersWithoutChangingAnything() {
        steer()
        kernel.clearLog()
        kernel.change(hn) { $0.counters = TrafficCounters(rxPackets: 3, txPackets: 4, rxBytes: 300, txBytes: 400) }
        reconciler.refreshCounters()
        XCTAssertEqual(kernel.log, [], "read only")
        XCTAssertEqual(reconciler.snapshot().pairs[0].syntheticLink?.counters?.txPackets, 4, "hn's own counters re-read")
    }
}
