// Issue 12: the udev rule asks `hnagent udev-role` whether a device is a VF candidate; the answer
// comes from the agent's pairing, so the rule and the agent agree.

@testable import Policy
import XCTest

final class UdevDeviceRoleTests: XCTestCase {
    private let virtio = Fixture.link(2, "enp0s2", driver: "virtio_net")
    private let e1000e = Fixture.link(3, "enp1s0", driver: "e1000e")

    /// (why, links, config, the device asked about, the expected HNAGENT_ROLE)
    func testRoleTable() throws {
        let byDriver = AgentConfig(syntheticPatterns: [try Glob("driver:virtio_net")])
        let byName = AgentConfig(syntheticPatterns: [try Glob("enp0s*")])
        var vfOnly = byDriver
        vfOnly.vfPatterns = [try Glob("vf*")]
        var macvlanAllowed = byDriver
        macvlanAllowed.extraVFKinds = ["macvlan"]
        let vlan = Fixture.link(4, "enp0s2.7", kind: "vlan")
        let macvlan = Fixture.link(4, "mv0", kind: "macvlan")
        let bonded = Fixture.link(4, "enp2s0", master: 9, driver: "e1000e")
        let second = Fixture.link(5, "enp2s0", driver: "e1000e")
        let stranger = Fixture.link(6, "enp3s0", mac: Fixture.otherMAC, driver: "e1000e")
        let table: [(String, [LinkSnapshot], AgentConfig, InterfaceIndex, String)] = [
            ("same MAC as the driver-selected synthetic NIC", [virtio, e1000e], byDriver, 3, "vf-candidate"),
            ("the synthetic NIC itself", [virtio, e1000e], byDriver, 2, "synthetic"),
            ("VF before the synthetic NIC exists (boot order)", [e1000e], byDriver, 3, "none"),
            ("a MAC no synthetic NIC has", [virtio, e1000e, stranger], byDriver, 6, "none"),
            ("selection by name glob", [virtio, e1000e], byName, 3, "vf-candidate"),
            ("the default selection takes virtio_net", [virtio, e1000e], AgentConfig(), 3, "vf-candidate"),
            ("... and hv_netvsc, but no e1000e NIC", [e1000e, stranger], AgentConfig(), 3, "none"),
            ("a VLAN on the synthetic NIC copies its MAC: stacked, never a VF", [virtio, e1000e, vlan], byDriver, 4, "ignored"),
            ("a macvlan is a VF only where allow-vf-kinds says so", [virtio, macvlan], byDriver, 4, "ignored"),
            ("... and then it is one", [virtio, macvlan], macvlanAllowed, 4, "vf-candidate"),
            ("enslaved to a bond: left to its master", [virtio, bonded], byDriver, 4, "ignored"),
            ("a name no --vf pattern allows", [virtio, e1000e], vfOnly, 3, "ignored"),
            ("a second eligible VF is still a candidate", [virtio, e1000e, second], byDriver, 5, "vf-candidate"),
        ]
        for (why, links, config, index, expected) in table {
            XCTAssertEqual(UdevDeviceRole.of(index, among: links, config: config)?.udevValue, expected, why)
        }
    }

    func testAVFCandidateNamesItsSyntheticNIC() throws {
        let config = AgentConfig(syntheticPatterns: [try Glob("driver:virtio_net")])
        XCTAssertEqual(UdevDeviceRole.of(3, among: [virtio, e1000e], config: config), .vfCandidate(synthetic: virtio))
    }

    func testStackedDeviceSelectedAsSyntheticIsNeverOne() throws {
        // A macvlan on the synthetic NIC matches the name glob "enp0s*" but is not a synthetic NIC.
        let macvlan = Fixture.link(4, "enp0s2mv", kind: "macvlan")
        let role = UdevDeviceRole.of(4, among: [virtio, macvlan], config: AgentConfig(syntheticPatterns: [try Glob("enp0s*")]))
        XCTAssertEqual(role, .ignored(.stackedDevice(kind: "macvlan")))
    }

    func testTwoSyntheticNICsWithOneMACTheFirstDecides() throws {
        let config = AgentConfig(syntheticPatterns: [try Glob("driver:virtio_net")])
        let twin = Fixture.link(7, "enp7s0", driver: "virtio_net")
        XCTAssertEqual(UdevDeviceRole.of(3, among: [virtio, e1000e, twin], config: config), .vfCandidate(synthetic: virtio))
    }

    func testUnknownDeviceHasNoRole() {
        XCTAssertNil(UdevDeviceRole.of(42, among: [virtio, e1000e], config: AgentConfig()))
    }
}
