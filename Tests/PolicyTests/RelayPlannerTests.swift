import KernelModel
@testable import Policy
import XCTest

final class RelayPlannerTests: XCTestCase {
    private let hnUp = Fixture.hn(2)
    private let active = PairPhase.active(vf: 3, seenUsable: true)

    private func table(_ links: LinkSnapshot...) -> [InterfaceIndex: LinkSnapshot] {
        Dictionary(uniqueKeysWithValues: links.map { ($0.index, $0) })
    }

    /// The relay the agent wants for pair hn=2, vf=3.
    private var steered: [InterfaceIndex: RelayObservation] {
        [3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2)),
         2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 3))]
    }

    // MARK: intent

    func testIntentByPhase() {
        let vf = Fixture.vf(3)
        let until = Fixture.at(5)
        // (phase, vf present, expected vf, quiet, adminUp, ingress, egress)
        let rows: [(PairPhase, Bool, InterfaceIndex?, Bool, Bool?, Bool, Bool)] = [
            (.waitingForVF, false, nil, false, nil, false, false),
            (.settling(vf: 3, until: until), true, nil, false, nil, false, false),
            (.active(vf: 3, seenUsable: false), true, 3, true, true, true, true),
            (active, true, 3, true, true, true, true),
            (active, false, nil, false, nil, false, false),                       // VF link gone
            (.active(vf: 9, seenUsable: true), true, nil, false, nil, false, false), // phase holds another VF
            (.suspended(vf: 3, reason: .vfAdminDown), true, 3, true, nil, false, false),
        ]
        for (phase, present, expectedVF, quiet, adminUp, ingress, egress) in rows {
            let intent = PairIntent.compute(phase: phase, synthetic: hnUp, vf: present ? vf : nil, mode: .transparent)
            XCTAssertEqual(intent.synthetic, 2)
            XCTAssertEqual(intent.vf, expectedVF, "\(phase)")
            XCTAssertEqual(intent.vfQuiet, quiet, "\(phase)")
            XCTAssertEqual(intent.vfAdminUp, adminUp, "\(phase)")
            XCTAssertEqual(intent.vfIngressRedirect, ingress, "\(phase)")
            XCTAssertEqual(intent.syntheticEgressRedirect, egress, "\(phase)")
        }
    }

    func testEgressOnlyWhenVFUpWithCarrierAndSyntheticUp() {
        // (hn flags, vf flags, egress wanted, vf admin state wanted)
        let rows: [(LinkFlags, LinkFlags, Bool, Bool)] = [
            ([.up, .lowerUp], [.up, .lowerUp], true, true),
            ([.up], [.up, .lowerUp], true, true),                 // hn carrier is irrelevant
            ([.up, .lowerUp], [.up], false, true),                // VF without carrier
            ([.up, .lowerUp], [.up, .running], false, true),
            ([.up, .lowerUp], [.lowerUp], false, true),           // VF admin down
            ([.up, .lowerUp], [], false, true),
            ([.lowerUp], [.up, .lowerUp], false, false),          // hn down: VF follows it down
            ([], [], false, false),
        ]
        for (hnFlags, vfFlags, egress, vfUp) in rows {
            let intent = PairIntent.compute(phase: active, synthetic: Fixture.hn(2, flags: hnFlags),
                                            vf: Fixture.vf(3, flags: vfFlags), mode: .transparent)
            XCTAssertEqual(intent.syntheticEgressRedirect, egress, "hn=\(hnFlags.rawValue) vf=\(vfFlags.rawValue)")
            XCTAssertEqual(intent.vfAdminUp, vfUp, "hn=\(hnFlags.rawValue) vf=\(vfFlags.rawValue)")
            XCTAssertTrue(intent.vfIngressRedirect, "VF RX always goes to the synthetic NIC while active")
        }
    }

    func testNonTransparentModeNeverRedirectsAndLeavesTheVFItsIPv6() {
        let vf = Fixture.vf(3, flags: [.broadcast])
        let intent = PairIntent.compute(phase: active, synthetic: hnUp, vf: vf, mode: .nonTransparent)
        XCTAssertEqual(intent, PairIntent(synthetic: 2, vf: 3, vfIngressRedirect: false, syntheticEgressRedirect: false,
                                          vfAdminUp: true, vfQuiet: false, vfMTU: 1500,
                                          vfFlags: [.promiscuous: false, .allMulticast: false],
                                          syntheticFollowsVF: true, syntheticOperStateFollowsVF: false))
        let actions = RelayPlanner.plan(intent, links: table(hnUp, vf), relay: [:], originals: SavedOriginals())
        XCTAssertEqual(actions, [.setAdminState(device: 3, up: true)], "the stack uses the VF itself: it keeps its IPv6")
    }

    // MARK: attach

    func testAttachOrderFromDownVF() {
        var kernel = KernelModel(links: table(hnUp, Fixture.vf(3, flags: [.broadcast, .multicast])), carrierOnUp: [3])
        var log: [[Action]] = []
        for _ in 0..<5 {
            let intent = PairIntent.compute(phase: active, synthetic: kernel.links[2]!, vf: kernel.links[3], mode: .transparent)
            let actions = RelayPlanner.plan(intent, links: kernel.links, relay: kernel.relay, originals: SavedOriginals())
            if actions.isEmpty { break }
            log.append(actions)
            for action in actions { XCTAssertNoThrow(try kernel.apply(action), "\(action)") }
        }
        XCTAssertEqual(log, [
            [.setAddrGenMode(device: 3, mode: .none),     // quiet before up: no DAD/RS from the VF
             .setAdminState(device: 3, up: true),
             .addClsact(device: 3),
             .addRedirect(device: 3, hook: .ingress, kind: .toIngress, target: 2)],
            // Only once the VF is seen up with carrier does TX move to it.
            [.addClsact(device: 2),
             .addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3)],
        ])
        XCTAssertEqual(kernel.relay, steered)
    }

    func testAttachInOnePlanWhenVFAlreadyUsable() {
        let vf = Fixture.vf(3)
        let intent = PairIntent.compute(phase: active, synthetic: hnUp, vf: vf, mode: .transparent)
        let actions = RelayPlanner.plan(intent, links: table(hnUp, vf), relay: [:], originals: SavedOriginals())
        XCTAssertEqual(actions, [
            .setAddrGenMode(device: 3, mode: .none),
            .addClsact(device: 3),
            .addRedirect(device: 3, hook: .ingress, kind: .toIngress, target: 2),
            .addClsact(device: 2),
            .addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3),
        ])
        XCTAssertEqual(actions.last, .addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3))
    }

    func testNoAddrGenModeWhenAlreadyNoneOrNoIPv6() {
        for mode in [AddrGenMode.none, nil] {
            let vf = Fixture.vf(3, addrGenMode: mode)
            let intent = PairIntent.compute(phase: active, synthetic: hnUp, vf: vf, mode: .transparent)
            let actions = RelayPlanner.plan(intent, links: table(hnUp, vf), relay: steered, originals: SavedOriginals())
            XCTAssertEqual(actions, [], "addrgenmode \(String(describing: mode))")
        }
    }

    func testIdempotentAgainstIntendedState() {
        let vf = Fixture.vf(3, addrGenMode: AddrGenMode.none)
        let intent = PairIntent.compute(phase: active, synthetic: hnUp, vf: vf, mode: .transparent)
        XCTAssertEqual(RelayPlanner.plan(intent, links: table(hnUp, vf), relay: steered, originals: SavedOriginals()), [])
        // Counters are not part of the comparison.
        var counted = steered
        counted[2]?.egress?.counters = RelayCounters(packets: 10, bytes: 1000)
        counted[3]?.ingress?.counters = RelayCounters(packets: 7, bytes: 700)
        XCTAssertEqual(RelayPlanner.plan(intent, links: table(hnUp, vf), relay: counted, originals: SavedOriginals()), [])
    }

    func testExistingClsactNotReadded() {
        let vf = Fixture.vf(3, addrGenMode: AddrGenMode.none)
        let intent = PairIntent.compute(phase: active, synthetic: hnUp, vf: vf, mode: .transparent)
        let relay: [InterfaceIndex: RelayObservation] = [2: RelayObservation(hasClsact: true, foreignFilters: 1),
                                                         3: RelayObservation(hasClsact: true)]
        XCTAssertEqual(RelayPlanner.plan(intent, links: table(hnUp, vf), relay: relay, originals: SavedOriginals()), [
            .addRedirect(device: 3, hook: .ingress, kind: .toIngress, target: 2),
            .addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3),
        ])
    }

    func testWrongRedirectsReplaced() {
        let vf = Fixture.vf(3, addrGenMode: AddrGenMode.none)
        let intent = PairIntent.compute(phase: active, synthetic: hnUp, vf: vf, mode: .transparent)
        // (observed relay, expected actions)
        let rows: [([InterfaceIndex: RelayObservation], [Action])] = [
            // hn egress to a stale VF ifindex 9.
            ([2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 9)), 3: steered[3]!],
             [.deleteRedirect(device: 2, hook: .egress),
              .addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3)]),
            // hn egress of the wrong kind.
            ([2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toIngress, target: 3)), 3: steered[3]!],
             [.deleteRedirect(device: 2, hook: .egress),
              .addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3)]),
            // VF ingress to the wrong device.
            ([2: steered[2]!, 3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 7))],
             [.deleteRedirect(device: 3, hook: .ingress),
              .addRedirect(device: 3, hook: .ingress, kind: .toIngress, target: 2)]),
            // Our filters on hooks that are never wanted: hn ingress and VF egress.
            ([2: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 3),
                                  egress: RelayFilter(kind: .toEgress, target: 3)),
              3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2),
                                  egress: RelayFilter(kind: .toEgress, target: 2))],
             [.deleteRedirect(device: 2, hook: .ingress), .deleteRedirect(device: 3, hook: .egress)]),
        ]
        for (relay, expected) in rows {
            XCTAssertEqual(RelayPlanner.plan(intent, links: table(hnUp, vf), relay: relay, originals: SavedOriginals()),
                           expected)
        }
    }

    // MARK: detach

    func testEgressRemovedFirstWhenVFGoesAwayOrUnusable() {
        var originals = SavedOriginals()
        originals.record(.addClsact(device: 2), current: nil)
        originals.record(.addClsact(device: 3), current: nil)
        let quiet = AddrGenMode.none
        // (phase, hn, vf link present in the table, expected plan)
        let rows: [(String, PairPhase, LinkSnapshot, LinkSnapshot?, [Action])] = [
            ("VF lost carrier", active, hnUp, Fixture.vf(3, flags: [.up], addrGenMode: quiet),
             [.deleteRedirect(device: 2, hook: .egress)]),
            ("VF suspended (admin down)", .suspended(vf: 3, reason: .vfAdminDown), hnUp,
             Fixture.vf(3, flags: [], addrGenMode: quiet),
             [.deleteRedirect(device: 2, hook: .egress), .deleteRedirect(device: 3, hook: .ingress)]),
            ("synthetic NIC down", active, Fixture.hn(2, flags: []), Fixture.vf(3, addrGenMode: quiet),
             [.deleteRedirect(device: 2, hook: .egress), .setAdminState(device: 3, up: false)]),
            // hn0 keeps its clsact while paired: a qdisc change stops its queue for a moment.
            ("VF removed: pair waiting", .waitingForVF, hnUp, nil, [.deleteRedirect(device: 2, hook: .egress)]),
            ("VF link vanished under an active phase", active, hnUp, nil, [.deleteRedirect(device: 2, hook: .egress)]),
        ]
        for (name, phase, hn, vf, expected) in rows {
            let links = vf.map { table(hn, $0) } ?? table(hn)
            let intent = PairIntent.compute(phase: phase, synthetic: hn, vf: vf, mode: .transparent)
            let actions = RelayPlanner.plan(intent, links: links, relay: steered, originals: originals)
            XCTAssertEqual(actions, expected, name)
            XCTAssertEqual(actions.first, .deleteRedirect(device: 2, hook: .egress), name)
        }
    }

    func testReleaseTable() {
        let full = RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2),
                                    egress: RelayFilter(kind: .toEgress, target: 2))
        var changedAll = SavedOriginals()
        changedAll.record(.setAdminState(device: 3, up: true), current: Fixture.vf(3, flags: []))
        changedAll.record(.setAddrGenMode(device: 3, mode: .none), current: Fixture.vf(3, addrGenMode: .stablePrivacy))
        changedAll.record(.addClsact(device: 3), current: nil)
        let now = Fixture.vf(3, addrGenMode: AddrGenMode.none)   // up, quiet: as the agent left it
        var foreign = full
        foreign.foreignFilters = 2
        // (name, link, observed, originals, expected)
        let rows: [(String, LinkSnapshot?, RelayObservation, SavedOriginals, [Action])] = [
            ("everything the agent did", now, full, changedAll,
             [.deleteRedirect(device: 3, hook: .egress), .deleteRedirect(device: 3, hook: .ingress),
              .setAdminState(device: 3, up: false), .setAddrGenMode(device: 3, mode: .stablePrivacy),
              .deleteClsact(device: 3)]),
            ("foreign filters keep the clsact", now, foreign, changedAll,
             [.deleteRedirect(device: 3, hook: .egress), .deleteRedirect(device: 3, hook: .ingress),
              .setAdminState(device: 3, up: false), .setAddrGenMode(device: 3, mode: .stablePrivacy)]),
            ("someone else's clsact is left", now, full, SavedOriginals(),
             [.deleteRedirect(device: 3, hook: .egress), .deleteRedirect(device: 3, hook: .ingress)]),
            ("clsact already gone", now, .absent, changedAll,
             [.setAdminState(device: 3, up: false), .setAddrGenMode(device: 3, mode: .stablePrivacy)]),
            ("already restored", Fixture.vf(3, flags: [], addrGenMode: .stablePrivacy), .absent, changedAll, []),
            ("device gone", nil, full, changedAll, []),
        ]
        for (name, link, observed, originals, expected) in rows {
            let links = link.map { table(hnUp, $0) } ?? table(hnUp)
            XCTAssertEqual(RelayPlanner.release(3, links: links, relay: [3: observed], originals: originals), expected, name)
        }
    }

    func testReleaseAfterFullAttachRestoresOriginalState() {
        let vf = Fixture.vf(3, flags: [.broadcast], addrGenMode: .eui64)
        var kernel = KernelModel(links: table(hnUp, vf), carrierOnUp: [3])
        var originals = SavedOriginals()
        for _ in 0..<3 {
            let intent = PairIntent.compute(phase: active, synthetic: kernel.links[2]!, vf: kernel.links[3], mode: .transparent)
            for action in RelayPlanner.plan(intent, links: kernel.links, relay: kernel.relay, originals: originals) {
                originals.record(action, current: kernel.links[action.device])
                XCTAssertNoThrow(try kernel.apply(action), "\(action)")
            }
        }
        XCTAssertEqual(kernel.relay, steered)
        let release = RelayPlanner.release(2, links: kernel.links, relay: kernel.relay, originals: originals)
            + RelayPlanner.release(3, links: kernel.links, relay: kernel.relay, originals: originals)
        XCTAssertEqual(release.first, .deleteRedirect(device: 2, hook: .egress))
        for action in release {
            originals.record(action, current: kernel.links[action.device])
            XCTAssertNoThrow(try kernel.apply(action), "\(action)")
        }
        XCTAssertEqual(kernel.links[3], vf, "VF back to down, eui64")
        XCTAssertEqual(kernel.relay[2], .absent)
        XCTAssertEqual(kernel.relay[3], .absent)
    }

    // MARK: originals

    func testSavedOriginalsKeepFirst() {
        var originals = SavedOriginals()
        originals.record(.setAdminState(device: 3, up: true), current: Fixture.vf(3, flags: []))
        originals.record(.setAdminState(device: 3, up: false), current: Fixture.vf(3, flags: [.up]))
        XCTAssertEqual(originals[3, .adminState], .on(false))

        originals.record(.setAddrGenMode(device: 3, mode: .none), current: Fixture.vf(3, addrGenMode: .random))
        originals.record(.setAddrGenMode(device: 3, mode: .eui64), current: Fixture.vf(3, addrGenMode: AddrGenMode.none))
        XCTAssertEqual(originals[3, .addrGenMode], .addrGenMode(.random))

        // Unknown current state: admin state is not guessed; addrgenmode defaults to eui64.
        originals.record(.setAdminState(device: 7, up: true), current: nil)
        originals.record(.setAddrGenMode(device: 7, mode: .none), current: nil)
        XCTAssertNil(originals[7, .adminState])
        XCTAssertEqual(originals[7, .addrGenMode], .addrGenMode(.eui64))

        originals.record(.addClsact(device: 2), current: nil)
        originals.record(.addRedirect(device: 2, hook: .egress, kind: .toEgress, target: 3), current: nil)
        originals.record(.deleteRedirect(device: 5, hook: .egress), current: nil)
        XCTAssertEqual(originals.devices(saving: .clsact), [2])
        XCTAssertEqual(originals.devices, [2, 3, 7])
        XCTAssertTrue(originals.holds(2))
        XCTAssertFalse(originals.holds(5), "redirects alone are not originals")

        originals.record(.deleteClsact(device: 2), current: nil)
        XCTAssertEqual(originals.devices(saving: .clsact), [])
        originals.forget(3)
        XCTAssertFalse(originals.holds(3))
        XCTAssertEqual(originals.devices, [7])
    }

    func testActionDevicesAndDescriptions() {
        let rows: [(Action, InterfaceIndex, String)] = [
            (.deleteRedirect(device: 2, hook: .egress), 2, "delete egress redirect on ifindex 2"),
            (.addClsact(device: 4), 4, "add clsact on ifindex 4"),
            (.deleteClsact(device: 5), 5, "delete clsact on ifindex 5"),
            (.setAdminState(device: 6, up: false), 6, "set ifindex 6 down"),
            (.setAddrGenMode(device: 7, mode: .none), 7, "set addrgenmode none on ifindex 7"),
        ]
        for (action, device, text) in rows {
            XCTAssertEqual(action.device, device)
            XCTAssertEqual(action.description, text)
        }
        let add = Action.addRedirect(device: 3, hook: .ingress, kind: .toIngress, target: 2)
        XCTAssertEqual(add.device, 3, "an add is performed on the device, not the target")
        XCTAssertTrue(add.description.hasPrefix("add ingress "))
        XCTAssertTrue(add.description.hasSuffix(" on ifindex 3 to ifindex 2"))
    }
}
