@testable import Policy
import XCTest

/// Issue 11 item 6: a stacked or virtual device (macvlan on the synthetic NIC, vlan, bridge, ...)
/// that matches the synthetic NIC patterns is not a synthetic NIC; the same kind rule as for VFs.
final class SyntheticKindTests: XCTestCase {
    func testOnlyDevicesWithoutKindOrVethAreSyntheticNICs() throws {
        let byName = AgentConfig(syntheticPatterns: [try Glob("hn*")])
        let byDriver = AgentConfig()
        // (link, config, expected reason it is not a synthetic NIC, nil when it is one)
        let table: [(LinkSnapshot, AgentConfig, IgnoreReason?)] = [
            (Fixture.link(2, "hn0"), byName, nil),                                    // physical / paravirtual
            (Fixture.link(2, "hn0", kind: "veth"), byName, nil),                       // test beds
            (Fixture.link(7, "hnmv", kind: "macvlan"), byName, .stackedDevice(kind: "macvlan")),
            (Fixture.link(7, "hnmvt", kind: "macvtap"), byName, .stackedDevice(kind: "macvtap")),
            (Fixture.link(7, "hnip", kind: "ipvlan"), byName, .stackedDevice(kind: "ipvlan")),
            (Fixture.link(7, "hn0.10", kind: "vlan"), byName, .stackedDevice(kind: "vlan")),
            (Fixture.link(7, "hnbr", kind: "bridge"), byName, .stackedDevice(kind: "bridge")),
            (Fixture.link(7, "hnbond", kind: "bond"), byName, .stackedDevice(kind: "bond")),
            (Fixture.link(7, "hnteam", kind: "team"), byName, .stackedDevice(kind: "team")),
            (Fixture.link(7, "hntap", kind: "tun"), byName, .stackedDevice(kind: "tun")),
            (Fixture.link(7, "eth0", kind: "macvlan", driver: "hv_netvsc"), byDriver,
             .stackedDevice(kind: "macvlan")),                                        // the driver rule too
            (Fixture.link(3, "eth0nsby", master: 2, driver: "virtio_net"), byDriver,
             .enslaved(master: 2)),                                                   // net_failover's standby
            (Fixture.link(3, "hn0", master: 9), byName, .enslaved(master: 9)),         // in a bond or bridge
        ]
        for (link, config, expected) in table {
            XCTAssertEqual(Pairing.syntheticIneligibility(of: link, config: config), expected, "\(link.name)")
            XCTAssertEqual(Pairing.isSynthetic(link, config: config), expected == nil, "\(link.name)")
        }
        // Links that match no pattern are not candidates at all: nothing to say about them.
        XCTAssertNil(Pairing.syntheticIneligibility(of: Fixture.link(7, "mv0", kind: "macvlan"), config: byName))
    }

    func testMacvlanOnTheSyntheticNICIsNeitherSyntheticNorVF() throws {
        let config = AgentConfig(syntheticPatterns: [try Glob("hn*")], vfPatterns: [try Glob("vf*")])
        let macvlan = Fixture.link(7, "hnmv", kind: "macvlan")
        let result = Pairing.pair([Fixture.link(2, "hn0"), Fixture.vf(3), macvlan], config: config)
        XCTAssertEqual(result.pairs.map(\.synthetic.index), [2])
        XCTAssertEqual(result.pairs.first?.vf?.index, 3)
        XCTAssertEqual(result.ignoredSynthetics, [IgnoredSynthetic(link: macvlan, reason: .stackedDevice(kind: "macvlan"))])
        XCTAssertEqual(result.ignored, [IgnoredLink(link: macvlan, synthetic: 2, reason: .stackedDevice(kind: "macvlan"))])
    }

    /// virtio-net STANDBY (net_failover): master eth0 (driver net_failover) holds the MAC and the
    /// addresses; the virtio NIC eth0nsby and the VF eth0npf are its slaves. Nothing is paired:
    /// the master is no synthetic NIC, the standby is enslaved, so the kernel's failover keeps
    /// the job (a relay from the standby to the master would loop RX back into the master).
    func testNetFailoverStandbyIsLeftToTheKernel() {
        let master = Fixture.link(2, "eth0", driver: "net_failover")
        let standby = Fixture.link(3, "eth0nsby", master: 2, driver: "virtio_net")
        let primary = Fixture.link(4, "eth0npf", master: 2, driver: "mlx5_core")
        let result = Pairing.pair([master, standby, primary], config: AgentConfig())
        XCTAssertEqual(result.pairs, [])
        XCTAssertEqual(result.ignoredSynthetics, [IgnoredSynthetic(link: standby, reason: .enslaved(master: 2))])
    }
}
