@testable import Policy
import XCTest

/// Builders for link snapshots, so each test row states only what matters to it.
enum Fixture {
    static let mac = MACAddress("00:15:5d:01:02:03")!
    static let otherMAC = MACAddress("00:15:5d:0a:0b:0c")!
    static let usableFlags: LinkFlags = [.up, .lowerUp, .broadcast, .multicast]

    static func link(_ index: Int32, _ name: String, mac: MACAddress? = Fixture.mac, flags: LinkFlags = Fixture.usableFlags,
                     hardwareType: UInt16 = hardwareTypeEthernet, kind: String? = nil, master: Int32? = nil,
                     driver: String? = nil, addrGenMode: AddrGenMode? = .eui64) -> LinkSnapshot {
        LinkSnapshot(index: InterfaceIndex(index), name: name, mac: mac, hardwareType: hardwareType, flags: flags,
                     kind: kind, master: master.map { InterfaceIndex($0) }, driver: driver, addrGenMode: addrGenMode)
    }

    /// A synthetic NIC found by driver (no patterns configured). Already in dormant link mode
    /// (as the agent leaves it while paired), so rows state only what they test.
    static func hn(_ index: Int32 = 2, _ name: String = "hn0", mac: MACAddress? = Fixture.mac,
                   flags: LinkFlags = Fixture.usableFlags) -> LinkSnapshot {
        var hn = link(index, name, mac: mac, flags: flags, driver: "hv_netvsc")
        hn.linkMode = .dormant
        return hn
    }

    static func vf(_ index: Int32 = 3, _ name: String = "vf0", mac: MACAddress? = Fixture.mac,
                   flags: LinkFlags = Fixture.usableFlags, addrGenMode: AddrGenMode? = .eui64) -> LinkSnapshot {
        link(index, name, mac: mac, flags: flags, driver: "mlx5_core", addrGenMode: addrGenMode)
    }

    static func at(_ seconds: Double) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: UInt64(seconds * 1e9))
    }
}

extension InterfaceIndex: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int32) { self.init(value) }
}
