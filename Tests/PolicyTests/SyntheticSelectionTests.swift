@testable import Policy
import XCTest

final class SyntheticSelectionTests: XCTestCase {
    func testSelects() throws {
        // (entries, name, driver, selected)
        let table: [([String], String, String?, Bool)] = [
            ([], "eth0", "hv_netvsc", true),                        // no entries: the driver rule
            ([], "enp0s2", "virtio_net", true),
            ([], "enp1s0", "e1000e", false),
            ([], "eth0", "virtio_net_x", false),                    // exact driver names, not globs
            ([], "eth0", nil, false),
            (["driver:virtio_net"], "enp0s2", "virtio_net", true),
            (["driver:virtio_net"], "enp0s2", "e1000e", false),
            (["driver:virtio_net"], "enp0s2", nil, false),          // unknown driver
            (["driver:virtio_net"], "virtio_net", nil, false),      // a driver entry never matches a name
            (["driver:virtio_net"], "eth0", "hv_netvsc", false),    // entries replace the driver rule
            (["driver:virtio*"], "eth0", "virtio_net", true),       // NAME may be a glob
            (["driver:hv_netvsc", "hn*"], "hn3", "mlx5_core", true),   // OR'ed with name globs
            (["driver:hv_netvsc", "hn*"], "eth0", "hv_netvsc", true),
            (["driver:hv_netvsc", "hn*"], "eth1", "mlx5_core", false),
            (["driver:a", "driver:b"], "x", "b", true),
            (["hn*"], "hn0", nil, true),
            (["hn*"], "eth0", "hv_netvsc", false),
            (["driver"], "driver", nil, true),                      // no colon: a name glob
            (["Driver:virtio_net"], "enp0s2", "virtio_net", false), // the prefix is lower case
        ]
        for (entries, name, driver, expected) in table {
            let globs = try entries.map(Glob.init)
            XCTAssertEqual(SyntheticSelection.selects(name: name, driver: driver, entries: globs), expected,
                           "\(entries) \(name) driver=\(driver ?? "nil")")
        }
    }

    func testNeedsDriver() throws {
        // (entries, the driver must be looked up)
        let table: [([String], Bool)] = [
            ([], true),
            (["hn*"], false),
            (["hn*", "eth0"], false),
            (["driver:virtio_net"], true),
            (["hn*", "driver:virtio_net"], true),
        ]
        for (entries, expected) in table {
            XCTAssertEqual(SyntheticSelection.needsDriver(try entries.map(Glob.init)), expected, "\(entries)")
        }
    }

    func testProblem() {
        XCTAssertNotNil(SyntheticSelection.problem(with: "driver:"))
        XCTAssertNil(SyntheticSelection.problem(with: "driver:virtio_net"))
        XCTAssertNil(SyntheticSelection.problem(with: "hn*"))
        XCTAssertNil(SyntheticSelection.problem(with: "driver"))
    }

    func testPairingUsesDriverEntries() throws {
        let config = AgentConfig(syntheticPatterns: [try Glob("driver:virtio_net")])
        let links = [Fixture.link(2, "enp0s2", driver: "virtio_net"), Fixture.link(3, "enp1s0", driver: "e1000e")]
        let result = Pairing.pair(links, config: config)
        XCTAssertEqual(result.pairs.map(\.synthetic.index), [2])
        XCTAssertEqual(result.pairs.first?.vf?.index, 3)
    }
}
