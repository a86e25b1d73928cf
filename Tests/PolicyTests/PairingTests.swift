@testable import Policy
import XCTest

final class PairingTests: XCTestCase {
    private let byDriver = AgentConfig()

    private func vfOf(_ result: PairingResult, _ synthetic: InterfaceIndex) -> InterfaceIndex?? {
        guard let pair = result.pairs.first(where: { $0.synthetic.index == synthetic }) else { return .none }
        return .some(pair.vf?.index)
    }

    private func reasons(_ result: PairingResult) -> [InterfaceIndex: IgnoreReason] {
        Dictionary(uniqueKeysWithValues: result.ignored.map { ($0.link.index, $0.reason) })
    }

    func testPairsByMAC() {
        let links = [Fixture.hn(2), Fixture.vf(3), Fixture.link(4, "eth9", mac: Fixture.otherMAC)]
        let result = Pairing.pair(links, config: byDriver)
        XCTAssertEqual(result.pairs.count, 1)
        XCTAssertEqual(result.pairs[0].synthetic.index, 2)
        XCTAssertEqual(result.pairs[0].vf?.index, 3)
        XCTAssertTrue(result.ignored.isEmpty, "a link with another MAC is simply unrelated: \(result.ignored)")
    }

    func testSyntheticWithoutVFIsStillAPair() {
        let result = Pairing.pair([Fixture.hn(2), Fixture.link(4, "eth9", mac: Fixture.otherMAC)], config: byDriver)
        XCTAssertEqual(result.pairs.map(\.synthetic.index), [2])
        XCTAssertNil(result.pairs[0].vf)
    }

    func testSyntheticSelectedByDriverWithoutPatterns() {
        // (link, is synthetic under the driver rule)
        let table: [(LinkSnapshot, Bool)] = [
            (Fixture.link(2, "eth0", driver: "hv_netvsc"), true),
            (Fixture.link(2, "enp0s2", driver: "virtio_net"), true),
            (Fixture.link(2, "enp1s0", driver: "e1000e"), false),
            (Fixture.link(2, "hn0", driver: "mlx5_core"), false),          // name does not matter
            (Fixture.link(2, "eth0", driver: nil), false),                 // unknown driver
            (Fixture.link(2, "eth0", mac: MACAddress("00:00:00:00:00:00")!, driver: "hv_netvsc"), false),
            (Fixture.link(2, "eth0", mac: nil, driver: "hv_netvsc"), false),
            (Fixture.link(2, "eth0", hardwareType: 772, driver: "hv_netvsc"), false),  // ARPHRD_LOOPBACK
        ]
        for (link, expected) in table {
            XCTAssertEqual(Pairing.isSynthetic(link, config: byDriver), expected, "\(link) driver=\(link.driver ?? "nil")")
        }
    }

    func testSyntheticSelectedByPatternIgnoresDriver() throws {
        let config = AgentConfig(syntheticPatterns: [try Glob("hn*"), try Glob("eth0")])
        let table: [(LinkSnapshot, Bool)] = [
            (Fixture.link(2, "hn0", driver: nil), true),
            (Fixture.link(2, "eth0", driver: "mlx5_core"), true),
            (Fixture.link(2, "eth1", driver: "hv_netvsc"), false),         // patterns replace the driver rule
            (Fixture.link(2, "hn1", mac: MACAddress("00:00:00:00:00:00")!), false),
        ]
        for (link, expected) in table {
            XCTAssertEqual(Pairing.isSynthetic(link, config: config), expected, "\(link)")
        }
        let result = Pairing.pair([Fixture.link(5, "hn7"), Fixture.link(6, "vf7")], config: config)
        XCTAssertEqual(result.pairs.map(\.synthetic.index), [5])
        XCTAssertEqual(result.pairs.first?.vf?.index, 6)
    }

    func testExclusions() throws {
        let vfOnly = AgentConfig(vfPatterns: [try Glob("enP*")])
        // (candidate, config, expected reason or nil when it becomes the VF)
        let table: [(LinkSnapshot, AgentConfig, IgnoreReason?)] = [
            (Fixture.link(3, "ib0", hardwareType: 32), byDriver, .notEthernet(hardwareType: 32)),
            (Fixture.link(3, "hn0.10", kind: "vlan"), byDriver, .stackedDevice(kind: "vlan")),
            (Fixture.link(3, "mv0", kind: "macvlan"), byDriver, .stackedDevice(kind: "macvlan")),
            (Fixture.link(3, "br0", kind: "bridge"), byDriver, .stackedDevice(kind: "bridge")),
            (Fixture.link(3, "bond0", kind: "bond"), byDriver, .stackedDevice(kind: "bond")),
            (Fixture.link(3, "team0", kind: "team"), byDriver, .stackedDevice(kind: "team")),
            (Fixture.link(3, "tap0", kind: "tun"), byDriver, .stackedDevice(kind: "tun")),
            (Fixture.link(3, "vf0", kind: "veth"), byDriver, nil),
            (Fixture.link(3, "vf0"), byDriver, nil),
            (Fixture.link(3, "vf0", master: 9), byDriver, .enslaved(master: 9)),
            (Fixture.link(3, "vf0", kind: "veth", master: 9), byDriver, .enslaved(master: 9)),
            (Fixture.link(3, "eth1"), vfOnly, .nameNotAllowed),
            (Fixture.link(3, "enP1s1"), vfOnly, nil),
            // Hardware type is judged before kind, kind before master, master before name.
            (Fixture.link(3, "x", hardwareType: 32, kind: "vlan"), byDriver, .notEthernet(hardwareType: 32)),
            (Fixture.link(3, "eth1", kind: "vlan", master: 9), vfOnly, .stackedDevice(kind: "vlan")),
            (Fixture.link(3, "eth1", master: 9), vfOnly, .enslaved(master: 9)),
        ]
        for (candidate, config, expected) in table {
            XCTAssertEqual(Pairing.ineligibility(of: candidate, config: config), expected, "\(candidate) kind=\(candidate.kind ?? "-")")
            let result = Pairing.pair([Fixture.hn(2), candidate], config: config)
            XCTAssertEqual(result.pairs.count, 1)
            if let expected {
                XCTAssertNil(result.pairs[0].vf)
                XCTAssertEqual(result.ignored, [IgnoredLink(link: candidate, synthetic: 2, reason: expected)])
            } else {
                XCTAssertEqual(result.pairs[0].vf?.index, 3)
                XCTAssertTrue(result.ignored.isEmpty)
            }
        }
    }

    func testLowestIfindexWinsOthersIgnored() {
        let links = [Fixture.vf(9, "vfB"), Fixture.hn(2), Fixture.vf(4, "vfA"), Fixture.vf(7, "vfC")]
        let result = Pairing.pair(links, config: byDriver)
        XCTAssertEqual(result.pairs.first?.vf?.index, 4)
        XCTAssertEqual(reasons(result), [9: .anotherVFChosen(chosen: 4), 7: .anotherVFChosen(chosen: 4)])
        XCTAssertTrue(result.ignored.allSatisfy { $0.synthetic == 2 })
    }

    func testIneligibleLowerIndexDoesNotWin() {
        let links = [Fixture.hn(5), Fixture.link(3, "hn0.10", kind: "vlan"), Fixture.vf(8)]
        let result = Pairing.pair(links, config: byDriver)
        XCTAssertEqual(result.pairs.first?.vf?.index, 8)
        XCTAssertEqual(reasons(result), [3: .stackedDevice(kind: "vlan")])
    }

    func testCurrentVFKeepsItsPlace() {
        let links = [Fixture.hn(2), Fixture.vf(7, "vfOld"), Fixture.vf(4, "vfNew")]
        let result = Pairing.pair(links, config: byDriver, current: [2: 7])
        XCTAssertEqual(result.pairs.first?.vf?.index, 7)
        XCTAssertEqual(reasons(result), [4: .anotherVFChosen(chosen: 7)])

        // A `current` VF that is no longer eligible (now enslaved) gives way to the lowest eligible.
        let enslaved = [Fixture.hn(2), Fixture.link(7, "vfOld", master: 11), Fixture.vf(4, "vfNew")]
        let after = Pairing.pair(enslaved, config: byDriver, current: [2: 7])
        XCTAssertEqual(after.pairs.first?.vf?.index, 4)
        XCTAssertEqual(reasons(after), [7: .enslaved(master: 11)])

        // A `current` VF that vanished: lowest wins.
        let gone = Pairing.pair([Fixture.hn(2), Fixture.vf(6), Fixture.vf(5)], config: byDriver, current: [2: 7])
        XCTAssertEqual(gone.pairs.first?.vf?.index, 5)
    }

    func testTwoSyntheticsOneMAC() {
        let links = [Fixture.hn(6, "hn1"), Fixture.hn(2, "hn0"), Fixture.vf(3)]
        let result = Pairing.pair(links, config: byDriver)
        XCTAssertEqual(result.pairs.map(\.synthetic.index), [2, 6], "both synthetic NICs are pairs, in ifindex order")
        XCTAssertEqual(result.pairs[0].vf?.index, 3, "the lower ifindex gets the VF")
        XCTAssertNil(result.pairs[1].vf)
        XCTAssertEqual(result.ignored, [IgnoredLink(link: Fixture.vf(3), synthetic: 6, reason: .syntheticAlreadyClaimed(by: 2))])
        // Neither synthetic NIC is ever the other's VF.
        XCTAssertFalse(result.pairs.contains { $0.vf?.index == 2 || $0.vf?.index == 6 })
    }

    func testSyntheticIsNeverItsOwnVF() {
        let result = Pairing.pair([Fixture.hn(2)], config: byDriver)
        XCTAssertEqual(result.pairs.count, 1)
        XCTAssertNil(result.pairs[0].vf)
        XCTAssertTrue(result.ignored.isEmpty)
    }

    func testZeroMACSyntheticIgnored() {
        let zero = MACAddress("00:00:00:00:00:00")!
        let result = Pairing.pair([Fixture.hn(2, mac: zero), Fixture.vf(3, mac: zero)], config: byDriver)
        XCTAssertTrue(result.pairs.isEmpty)
        XCTAssertTrue(result.ignored.isEmpty)
    }

    func testSeparatePairsPerMAC() {
        let links = [Fixture.hn(2, "hn0"), Fixture.hn(3, "hn1", mac: Fixture.otherMAC),
                     Fixture.vf(10, "vf1", mac: Fixture.otherMAC), Fixture.vf(11, "vf0")]
        let result = Pairing.pair(links, config: byDriver)
        XCTAssertEqual(result.pairs.map { [$0.synthetic.index, $0.vf?.index] }, [[2, 11], [3, 10]])
    }

    func testDeterministicWhateverTheInputOrder() {
        let links = [Fixture.hn(2), Fixture.vf(5), Fixture.vf(4), Fixture.link(3, "hn0.1", kind: "vlan")]
        let reference = Pairing.pair(links, config: byDriver)
        for permutation in [Array(links.reversed()), [links[2], links[0], links[3], links[1]]] {
            XCTAssertEqual(Pairing.pair(permutation, config: byDriver), reference)
        }
    }

    func testReasonsReadWell() {
        XCTAssertEqual(IgnoreReason.nameNotAllowed.description, "name matches no --vf pattern")
        XCTAssertTrue(IgnoreReason.stackedDevice(kind: "vlan").description.contains("vlan"))
        XCTAssertTrue(IgnoreReason.anotherVFChosen(chosen: 4).description.contains("4"))
    }
}
