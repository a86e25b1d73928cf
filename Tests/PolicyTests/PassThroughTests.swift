@testable import Policy
import XCTest

/// MTU and flag pass-through from the synthetic NIC to its VF (issue 4 items 4 and 5).
final class PassThroughTests: XCTestCase {
    private let active = PairPhase.active(vf: 3, seenUsable: true)
    private let usable: LinkFlags = [.up, .lowerUp, .broadcast, .multicast]

    private func plan(hn: LinkSnapshot, vf: LinkSnapshot, originals: SavedOriginals = SavedOriginals()) -> [Action] {
        let intent = PairIntent.compute(phase: active, synthetic: hn, vf: vf, mode: .transparent)
        let relay: [InterfaceIndex: RelayObservation] = [
            3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2)),
            2: RelayObservation(hasClsact: true),
        ]
        return RelayPlanner.plan(intent, links: [2: hn, 3: vf], relay: relay, originals: originals)
    }

    func testVFFollowsTheSyntheticMTUBeforeTXIsSteered() {
        var hn = Fixture.hn(2, flags: usable)
        hn.mtu = 9000
        var vf = Fixture.vf(3, flags: usable)
        vf.mtu = 1500
        vf.addrGenMode = AddrGenMode.none
        XCTAssertEqual(plan(hn: hn, vf: vf), [.setMTU(device: 3, mtu: 9000)],
                       "MTU first; no egress redirect while the VF's MTU differs")
        vf.mtu = 9000
        XCTAssertEqual(plan(hn: hn, vf: vf), [.addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3)])
    }

    func testMTUMismatchRemovesAnExistingEgressRedirectFirst() {
        var hn = Fixture.hn(2, flags: usable)
        hn.mtu = 4000
        var vf = Fixture.vf(3, flags: usable)
        vf.addrGenMode = AddrGenMode.none
        let intent = PairIntent.compute(phase: active, synthetic: hn, vf: vf, mode: .transparent)
        XCTAssertFalse(intent.syntheticEgressRedirect)
        let relay: [InterfaceIndex: RelayObservation] = [
            3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2)),
            2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 3)),
        ]
        let actions = RelayPlanner.plan(intent, links: [2: hn, 3: vf], relay: relay, originals: SavedOriginals())
        XCTAssertEqual(actions, [.deleteRedirect(device: 2, hook: .egress), .setMTU(device: 3, mtu: 4000)])
    }

    func testPromiscuousAndAllmultiAreMirrored() {
        let rows: [(hn: LinkFlags, vf: LinkFlags, expected: [Action])] = [
            ([.promiscuous], [], [.setFlag(device: 3, flag: .promiscuous, on: true)]),
            ([.allMulticast], [], [.setFlag(device: 3, flag: .allMulticast, on: true)]),
            ([], [.promiscuous, .allMulticast], [.setFlag(device: 3, flag: .promiscuous, on: false),
                                                 .setFlag(device: 3, flag: .allMulticast, on: false)]),
            ([.promiscuous], [.promiscuous], []),
        ]
        for row in rows {
            let hn = Fixture.hn(2, flags: usable.union(row.hn))
            var vf = Fixture.vf(3, flags: usable.union(row.vf))
            vf.addrGenMode = AddrGenMode.none
            let actions = plan(hn: hn, vf: vf).filter { if case .setFlag = $0 { return true } else { return false } }
            XCTAssertEqual(actions, row.expected, "hn=\(row.hn.rawValue) vf=\(row.vf.rawValue)")
        }
    }

    func testReleaseRestoresMTUAndFlagsThatWereSaved() {
        var vf = Fixture.vf(3, flags: usable.union([.promiscuous]))
        vf.mtu = 9000
        var originals = SavedOriginals()
        var before = vf
        before.mtu = 1500
        before.flags = usable
        originals.record(.setMTU(device: 3, mtu: 9000), current: before)
        originals.record(.setFlag(device: 3, flag: .promiscuous, on: true), current: before)
        originals.record(.setMTU(device: 3, mtu: 4000), current: vf) // a second change keeps the first original
        let actions = RelayPlanner.release(3, links: [3: vf], relay: [:], originals: originals)
        XCTAssertEqual(actions, [.setMTU(device: 3, mtu: 1500), .setFlag(device: 3, flag: .promiscuous, on: false)])
        var unchanged = SavedOriginals()
        unchanged.record(.addClsact(device: 3), current: vf)
        XCTAssertFalse(RelayPlanner.release(3, links: [3: vf], relay: [:], originals: unchanged)
            .contains { if case .setMTU = $0 { return true } else { return false } }, "nothing saved, nothing restored")
    }
}
