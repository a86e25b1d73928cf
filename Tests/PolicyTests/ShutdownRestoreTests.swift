@testable import Policy
import XCTest

/// The shutdown's restore, one row per situation: pairs, held devices, links, the relay and
/// the saved originals in; the actions in their order and what is fully given back out.
final class ShutdownRestoreTests: XCTestCase {
    let hn = Fixture.hn(2)
    let vf = Fixture.vf(3, addrGenMode: AddrGenMode.none)   // up, quiet: as the agent left it

    func links(_ list: LinkSnapshot...) -> [InterfaceIndex: LinkSnapshot] {
        Dictionary(uniqueKeysWithValues: list.map { ($0.index, $0) })
    }

    /// The relay of pair hn=2, vf=3 in place.
    let steered: [InterfaceIndex: RelayObservation] = [
        2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 3)),
        3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2)),
    ]

    /// What the agent saved while pairing hn=2 with vf=3 (the VF was down, stable-privacy).
    var paired: SavedOriginals {
        var originals = SavedOriginals()
        originals.record(.addClsact(device: 2), current: nil)
        originals.record(.addClsact(device: 3), current: nil)
        originals.record(.setAdminState(device: 3, up: true), current: Fixture.vf(3, flags: []))
        originals.record(.setAddrGenMode(device: 3, mode: .none), current: Fixture.vf(3, addrGenMode: .stablePrivacy))
        return originals
    }

    func testPlanTable() {
        let vfRestored = Fixture.vf(3, flags: [], addrGenMode: .stablePrivacy)
        let vfRelay: [InterfaceIndex: RelayObservation] = [3: steered[3]!]
        let rows: [(name: String, synthetics: Set<InterfaceIndex>, held: Set<InterfaceIndex>,
                    links: [InterfaceIndex: LinkSnapshot], relay: [InterfaceIndex: RelayObservation],
                    originals: SavedOriginals, actions: [Action], givenBack: Set<InterfaceIndex>)] = [
            ("a steering pair: the synthetic NIC's egress first, then the VF", [2], [2, 3], links(hn, vf), steered, paired,
             [.deleteRedirect(device: 2, hook: .egress), .deleteClsact(device: 2),
              .deleteRedirect(device: 3, hook: .ingress), .setAdminState(device: 3, up: false),
              .setAddrGenMode(device: 3, mode: .stablePrivacy), .deleteClsact(device: 3)], []),
            ("a VF that left its pair is released after every synthetic NIC", [2], [3], links(hn, vf), vfRelay, paired,
             [.deleteRedirect(device: 3, hook: .ingress), .setAdminState(device: 3, up: false),
              .setAddrGenMode(device: 3, mode: .stablePrivacy), .deleteClsact(device: 3)], [2]),
            ("everything given back: nothing pending, both forgotten", [2], [], links(hn, vfRestored), [:], paired, [], [2, 3]),
            ("filters on a device without originals are removed, nothing to forget", [], [3], links(vf), vfRelay,
             SavedOriginals(), [.deleteRedirect(device: 3, hook: .ingress)], []),
            ("a device that is gone has nothing to give back", [2], [3], links(hn), steered, paired,
             [.deleteRedirect(device: 2, hook: .egress), .deleteClsact(device: 2)], [3]),
            ("nothing held, no pair", [], [], links(hn, vf), [:], SavedOriginals(), [], []),
        ]
        for row in rows {
            let restore = ShutdownRestore.plan(synthetics: row.synthetics, held: row.held, links: row.links, relay: row.relay,
                                               originals: row.originals, offloads: [:])
            XCTAssertEqual(restore.actions, row.actions, row.name)
            XCTAssertEqual(restore.givenBack, row.givenBack, row.name)
        }
    }

    /// Synthetic NICs go first in ifindex order, whatever their ifindex against the VFs'.
    func testSyntheticNICsBeforeEveryOtherDevice() {
        let hn9 = Fixture.hn(9, "hn1")
        let relay: [InterfaceIndex: RelayObservation] = [
            9: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 3)),
            2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 5)),
            3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 9)),
        ]
        let restore = ShutdownRestore.plan(synthetics: [9, 2], held: [3], links: links(hn, hn9, vf), relay: relay,
                                           originals: SavedOriginals(), offloads: [:])
        XCTAssertEqual(restore.actions, [.deleteRedirect(device: 2, hook: .egress), .deleteRedirect(device: 9, hook: .egress),
                                         .deleteRedirect(device: 3, hook: .ingress)])
    }
}
