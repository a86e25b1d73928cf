import KernelModel
@testable import Policy
import XCTest

/// The seed's policy while a VF is attached (issue 4): offloads, GSO limits, LRO, multicast,
/// operational state, non-transparent mode; restore on detach; idempotence.
final class TransparentPolicyTests: XCTestCase {
    /// A steady pair on a `KernelModel`, with the originals the agent records on the way.
    @dynamicMemberLookup
    struct World {
        var kernel: KernelModel
        var originals = SavedOriginals()

        /// `world.links`, `world.relay`, `world.offloads`: the kernel's.
        subscript<T>(dynamicMember path: WritableKeyPath<KernelModel, T>) -> T {
            get { kernel[keyPath: path] }
            set { kernel[keyPath: path] = newValue }
        }

        mutating func apply(_ actions: [Action]) {
            for action in actions {
                originals.record(action, current: kernel.links[action.device], features: kernel.offloads[action.device])
                do { try kernel.apply(action) } catch { XCTFail("the kernel refused \(action): \(error)") }
            }
        }

        func plan(phase: PairPhase = .active(vf: 3, seenUsable: true), mode: SteeringMode = .transparent,
                  multicast: Bool = false) -> [Action] {
            let vf = phase.vf.flatMap { kernel.links[$0] }
            let intent = PairIntent.compute(phase: phase, synthetic: kernel.links[2]!, vf: vf, mode: mode,
                                            multicastMemberships: multicast)
            return RelayPlanner.plan(intent, links: kernel.links, relay: kernel.relay, originals: originals, offloads: kernel.offloads)
        }

        func release() -> [Action] {
            [2, 3].flatMap { RelayPlanner.release($0, links: kernel.links, relay: kernel.relay, originals: originals, offloads: kernel.offloads) }
        }
    }

    static let allOffloads: Set<String> = ["tx-scatter-gather", "tx-checksum-ip-generic", "tx-tcp-segmentation",
                                           "tx-tcp6-segmentation", "tx-checksum-sctp", "rx-checksum",
                                           "generic-receive-offload", "highdma"]

    /// hn0(2) and vf0(3), both up with carrier, equal MTU, VF quiet, hn already in dormant link mode,
    /// relay in place: a steady steering pair with nothing to do.
    func steadyWorld() -> World {
        var hn = Fixture.hn(2)
        hn.operState = .up
        hn.linkMode = .dormant
        hn.gso = GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536)
        hn.tsoCeiling = TSOCeiling(maxSize: 524_280, maxSegs: 65535)
        var vf = Fixture.vf(3, addrGenMode: AddrGenMode.none)
        vf.operState = .up
        vf.gso = hn.gso
        vf.tsoCeiling = hn.tsoCeiling
        let features = OffloadFeatures(active: Self.allOffloads, wanted: Self.allOffloads, changeable: Self.allOffloads)
        let relay: [InterfaceIndex: RelayObservation] = [
            3: RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2)),
            2: RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 3)),
        ]
        return World(kernel: KernelModel(links: [2: hn, 3: vf], relay: relay, offloads: [2: features, 3: features]))
    }

    func testASteadyPairNeedsNothing() {
        XCTAssertEqual(steadyWorld().plan(), [])
    }

    // MARK: 1. offloads

    func testSyntheticLosesWhatTheVFLacksAndRegainsItOnDetach() {
        var world = steadyWorld()
        world.offloads[3]!.active.subtract(["tx-tcp-segmentation", "tx-tcp6-segmentation", "tx-checksum-sctp"])
        let actions = world.plan()
        XCTAssertEqual(actions, [.setFeatures(device: 2, changes: ["tx-tcp-segmentation": false,
                                                                   "tx-tcp6-segmentation": false,
                                                                   "tx-checksum-sctp": false])])
        world.apply(actions)
        XCTAssertEqual(world.originals.features(of: 2), ["tx-tcp-segmentation": true, "tx-tcp6-segmentation": true,
                                                     "tx-checksum-sctp": true])
        XCTAssertEqual(world.plan(), [], "idempotent: applying the plan twice changes nothing the second time")

        world.relay[2]?.egress = nil
        world.links[3] = nil // VF removed
        let restore = world.plan(phase: .waitingForVF)
        XCTAssertEqual(restore, [.setFeatures(device: 2, changes: ["tx-tcp-segmentation": true,
                                                                   "tx-tcp6-segmentation": true,
                                                                   "tx-checksum-sctp": true])])
        world.apply(restore)
        XCTAssertEqual(world.offloads[2]!.active, Self.allOffloads, "exactly what was saved is back")
    }

    func testAFeatureTurnedOnAgainWhilePairedIsTakenAwayAgain() {
        var world = steadyWorld()
        world.offloads[3]!.active.remove("tx-checksum-sctp")
        world.apply(world.plan())
        world.offloads[2]!.wanted.insert("tx-checksum-sctp") // the user: ethtool -K hn0 tx-checksum-sctp on
        world.offloads[2]!.active.insert("tx-checksum-sctp")
        XCTAssertEqual(world.plan(), [.setFeatures(device: 2, changes: ["tx-checksum-sctp": false])])
        world.apply(world.plan())
        XCTAssertEqual(world.originals.features(of: 2), ["tx-checksum-sctp": true], "the original stays the first one saved")
    }

    func testAFeatureTheVFRegainsIsGivenBackWhilePaired() {
        var world = steadyWorld()
        world.offloads[3]!.active.remove("rx-checksum")
        world.apply(world.plan())
        XCTAssertFalse(world.offloads[2]!.active.contains("rx-checksum"))
        world.offloads[3]!.active.insert("rx-checksum")
        XCTAssertEqual(world.plan(), [.setFeatures(device: 2, changes: ["rx-checksum": true])])
    }

    func testFixedFeaturesAndFeaturesOutsideThePolicyAreLeftAlone() {
        var world = steadyWorld()
        world.offloads[2]!.changeable.remove("tx-scatter-gather")
        world.offloads[3]!.active.subtract(["tx-scatter-gather", "generic-receive-offload", "highdma"])
        XCTAssertEqual(world.plan(), [], "fixed on hn, or software/device-local features: not intersected")
    }

    func testAFeatureTheUserTurnedOffIsNotTurnedOnOnDetach() {
        var world = steadyWorld()
        world.offloads[2]!.wanted.remove("rx-checksum")
        world.offloads[2]!.active.remove("rx-checksum")
        world.offloads[3]!.active.remove("rx-checksum")
        XCTAssertEqual(world.plan(), [])
        XCTAssertEqual(world.release().filter { if case .setFeatures = $0 { return true }; return false }, [])
    }

    // MARK: 2. GSO limits

    func testGSOLimitsBecomeTheMinimumAndAreRestored() {
        var world = steadyWorld()
        world.links[3]!.gso = GSOLimits(maxSize: 32768, maxSegs: 64, ipv4MaxSize: 32768)
        let actions = world.plan()
        XCTAssertEqual(actions, [.setGSOLimits(device: 2, limits: GSOLimits(maxSize: 32768, maxSegs: 64, ipv4MaxSize: 32768))])
        world.apply(actions)
        XCTAssertEqual(world.plan(), [])
        XCTAssertEqual(world.originals.gsoLimits(of: 2), GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536))
        let restore = world.release().filter { if case .setGSOLimits = $0 { return true }; return false }
        XCTAssertEqual(restore, [.setGSOLimits(device: 2, limits: GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536))])
    }

    func testGSOLimitsAreBoundedByTheVFsHardwareCeiling() {
        var world = steadyWorld()
        world.links[3]!.tsoCeiling = TSOCeiling(maxSize: 16384, maxSegs: 32)
        XCTAssertEqual(world.plan(), [.setGSOLimits(device: 2, limits: GSOLimits(maxSize: 16384, maxSegs: 32, ipv4MaxSize: 16384))])
    }

    func testGSOLimitsRiseAgainWhenTheVFAllowsMoreButNeverAboveTheOriginal() {
        var world = steadyWorld()
        world.links[3]!.gso = GSOLimits(maxSize: 16384, maxSegs: 100)
        world.apply(world.plan())
        world.links[3]!.gso = GSOLimits(maxSize: 1 << 20, maxSegs: 65535)
        XCTAssertEqual(world.plan(), [.setGSOLimits(device: 2, limits: GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536))])
    }

    // MARK: 3. LRO

    func testLROAndHardwareGROAreOffWhilePairedAndRestored() {
        var world = steadyWorld()
        world.offloads[2]!.active.formUnion(["large-receive-offload", "rx-gro-hw"])
        world.offloads[2]!.wanted.formUnion(["large-receive-offload", "rx-gro-hw"])
        world.offloads[2]!.changeable.formUnion(["large-receive-offload", "rx-gro-hw"])
        world.offloads[3]!.active.formUnion(["large-receive-offload", "rx-gro-hw"]) // even if the VF has them
        let actions = world.plan()
        XCTAssertEqual(actions, [.setFeatures(device: 2, changes: ["large-receive-offload": false, "rx-gro-hw": false])])
        world.apply(actions)
        XCTAssertEqual(world.plan(), [])
        let restore = world.release().filter { if case .setFeatures = $0 { return true }; return false }
        XCTAssertEqual(restore, [.setFeatures(device: 2, changes: ["large-receive-offload": true, "rx-gro-hw": true])])
    }

    // MARK: 6. multicast

    func testMulticastMembershipsTurnAllmultiOnTheVFOnAndOff() {
        var world = steadyWorld()
        XCTAssertEqual(world.plan(multicast: true), [.setFlag(device: 3, flag: .allMulticast, on: true)])
        world.apply(world.plan(multicast: true))
        XCTAssertEqual(world.plan(multicast: true), [])
        XCTAssertEqual(world.plan(multicast: false), [.setFlag(device: 3, flag: .allMulticast, on: false)],
                       "the last membership gone: allmulti off again")
    }

    func testDefaultGroupsAreNotMemberships() {
        let groups = ["01:00:5e:00:00:01", "33:33:00:00:00:01", "33:33:ff:12:00:01", "33:33:00:00:00:02"]
            .map { MACAddress($0)! }
        XCTAssertEqual(MulticastPolicy.memberships(groups), [])
        let joined = groups + [MACAddress("01:00:5e:01:02:03")!, MACAddress("33:33:00:00:00:fb")!, MACAddress("01:00:5e:01:02:03")!]
        XCTAssertEqual(MulticastPolicy.memberships(joined), [MACAddress("01:00:5e:01:02:03")!, MACAddress("33:33:00:00:00:fb")!])
    }

    // MARK: 7. operational state

    func testVFWithoutCarrierMakesTheSyntheticNICDormantUntilFallbackCompletes() {
        var world = steadyWorld()
        world.links[3]!.flags.remove(.lowerUp)
        let phase = PairPhase.suspended(vf: 3, reason: .vfNoCarrier)
        let actions = world.plan(phase: phase)
        // TX off the VF before any other request (each waits for RTNL while TX is blackholed).
        XCTAssertEqual(actions, [.deleteRedirect(device: 2, hook: .egress),
                                 .setOperState(device: 2, state: .dormant),
                                 .deleteRedirect(device: 3, hook: .ingress),
                                 .setOperState(device: 2, state: .up)])
        world.apply(actions)
        XCTAssertEqual(world.plan(phase: phase), [])
    }

    func testSettledPairPutsTheSyntheticNICInDormantLinkModeAndRestoresIt() {
        var world = steadyWorld()
        world.links[2]!.linkMode = .default
        let actions = world.plan()
        XCTAssertEqual(actions, [.setLinkMode(device: 2, mode: .dormant)])
        world.apply(actions)
        world.links[2]!.operState = .dormant // hn0 reset: the kernel says DORMANT when its carrier returns
        XCTAssertEqual(world.plan(), [.setOperState(device: 2, state: .up)])
        XCTAssertEqual(world.release().filter { if case .setLinkMode = $0 { return true }
                                                if case .setOperState = $0 { return true }; return false },
                       [.setOperState(device: 2, state: .up), .setLinkMode(device: 2, mode: .default)])
    }

    // MARK: 8. re-apply after the synthetic NIC comes back

    func testEverythingIsReappliedToARecreatedSyntheticNIC() {
        var world = steadyWorld()
        world.offloads[3]!.active.remove("tx-tcp-segmentation")
        world.links[3]!.gso = GSOLimits(maxSize: 32768, maxSegs: 65535, ipv4MaxSize: 32768)
        world.apply(world.plan())
        // hn0 removed and created again with the same MAC (same index in this model): fresh state, nothing saved.
        world.originals.forget(2)
        world.links[2]!.gso = GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536)
        world.links[2]!.linkMode = .default
        world.offloads[2] = OffloadFeatures(active: Self.allOffloads, wanted: Self.allOffloads, changeable: Self.allOffloads)
        let again = world.plan()
        XCTAssertTrue(again.contains(.setFeatures(device: 2, changes: ["tx-tcp-segmentation": false])), "\(again)")
        XCTAssertTrue(again.contains(.setGSOLimits(device: 2, limits: GSOLimits(maxSize: 32768, maxSegs: 65535, ipv4MaxSize: 32768))))
        XCTAssertTrue(again.contains(.setLinkMode(device: 2, mode: .dormant)))
    }

    // MARK: non-transparent mode

    func testNonTransparentModeKeepsTheNICsConsistentWithoutAnyRedirect() {
        var world = steadyWorld()
        world.relay = [:]
        world.links[2]!.linkMode = .default
        world.links[2]!.mtu = 9000
        world.links[3]!.addrGenMode = .eui64
        world.offloads[3]!.active.remove("tx-tcp-segmentation")
        world.links[3]!.gso = GSOLimits(maxSize: 32768, maxSegs: 65535, ipv4MaxSize: 32768)
        let actions = world.plan(mode: .nonTransparent)
        XCTAssertEqual(actions, [.setMTU(device: 3, mtu: 9000),
                                 .setFeatures(device: 2, changes: ["tx-tcp-segmentation": false]),
                                 .setGSOLimits(device: 2, limits: GSOLimits(maxSize: 32768, maxSegs: 65535, ipv4MaxSize: 32768))],
                       "no redirects, no quietening of the VF, no link mode: the stack uses the VF itself")
        world.apply(actions)
        XCTAssertEqual(world.plan(mode: .nonTransparent), [])
    }
}
