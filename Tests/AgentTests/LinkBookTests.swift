@testable import Engine
import Kernel
import Policy
import XCTest

/// Which links the engine asks ethtool for a driver: only Ethernet links can be synthetic NICs,
/// so lo and tunnels cost no request (`hnagent udev-role` follows the same rule).
final class LinkBookTests: XCTestCase {
    /// Records every driver request.
    private final class RecordingDrivers: DriverLookup {
        var asked: [String] = []
        func driver(of interfaceName: String) -> String? {
            asked.append(interfaceName)
            return interfaceName == "eth0" ? "virtio_net" : nil
        }
    }

    private let loopback = LinkSnapshot(index: 1, name: "lo", mac: nil, hardwareType: 772)
    private let tunnel = LinkSnapshot(index: 2, name: "gre0", mac: nil, hardwareType: 778)
    private let ethernet = LinkSnapshot(index: 3, name: "eth0", mac: MACAddress("02:00:00:00:00:01"))

    func testDefaultSelectionAsksEthernetLinksOnlyOnce() throws {
        let drivers = RecordingDrivers()
        var book = LinkBook(drivers: drivers)
        for link in [loopback, tunnel, ethernet, ethernet] { book.store(link, patterns: []) }
        XCTAssertEqual(drivers.asked, ["eth0"])
        XCTAssertEqual(book[3]?.driver, "virtio_net")
        XCTAssertNil(book[1]?.driver)
    }

    func testNamePatternsAskNobodyUntilAReloadNeedsDrivers() throws {
        let drivers = RecordingDrivers()
        var book = LinkBook(drivers: drivers)
        let names = [try Glob("eth*")]
        for link in [loopback, tunnel, ethernet] { book.store(link, patterns: names) }
        XCTAssertEqual(drivers.asked, [])
        book.fillDrivers(patterns: [try Glob("driver:virtio_net")])
        XCTAssertEqual(drivers.asked, ["eth0"])
    }
}
