@testable import Policy
import XCTest

final class IdentifierTests: XCTestCase {
    func testMACParseAndFormat() {
        // (text, bytes or nil)
        let table: [(String, [UInt8]?)] = [
            ("00:15:5d:01:02:03", [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03]),
            ("AA:bb:Cc:dD:ee:FF", [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]),
            ("00:00:00:00:00:00", [0, 0, 0, 0, 0, 0]),
            ("00:15:5d:01:02", nil),            // five groups
            ("00:15:5d:01:02:03:04", nil),      // seven groups
            ("0:15:5d:01:02:03", nil),          // one digit
            ("000:15:5d:01:02:03", nil),        // three digits
            ("00:15:5d:01:02:0g", nil),         // not hex
            ("00-15-5d-01-02-03", nil),         // wrong separator
            ("00:15:5d:01:02:", nil),           // empty group
            ("", nil),
        ]
        for (text, bytes) in table {
            let mac = MACAddress(text)
            XCTAssertEqual(mac?.bytes, bytes, text)
            if let mac { XCTAssertEqual(mac.description, text.lowercased(), "round trip of \(text)") }
        }
        XCTAssertEqual(MACAddress(bytes: [0x0a, 0, 0xff, 1, 2, 3])?.description, "0a:00:ff:01:02:03")
        XCTAssertEqual(MACAddress(bytes: [0xff, 0xfe, 0x10, 0x9a, 0xbc, 0x0f])?.description, "ff:fe:10:9a:bc:0f")
    }

    /// Status rows and state-file lines print these modes by name: the names reflection gave
    /// before they had a description of their own.
    func testModesPrintTheirCaseNames() {
        XCTAssertEqual([LinkMode.default, .dormant].map { "\($0)" }, ["default", "dormant"])
        XCTAssertEqual([AddrGenMode.eui64, .none, .stablePrivacy, .random].map { "\($0)" },
                       ["eui64", "none", "stablePrivacy", "random"])
    }

    func testMACRejectsSignedGroups() throws {
        XCTAssertNil(MACAddress("+a:bb:cc:dd:ee:ff"))
        XCTAssertNil(MACAddress("-0:bb:cc:dd:ee:ff"))
    }

    func testMACFromBytesNeedsSix() {
        XCTAssertNil(MACAddress(bytes: []))
        XCTAssertNil(MACAddress(bytes: [1, 2, 3, 4, 5]))
        XCTAssertNil(MACAddress(bytes: [1, 2, 3, 4, 5, 6, 7]))   // e.g. a 20-byte InfiniBand address is never a MAC
        XCTAssertNotNil(MACAddress(bytes: [1, 2, 3, 4, 5, 6]))
    }

    func testMACZero() {
        XCTAssertTrue(MACAddress("00:00:00:00:00:00")!.isZero)
        XCTAssertFalse(MACAddress("00:00:00:00:00:01")!.isZero)
        XCTAssertEqual(MACAddress("00:15:5d:01:02:03"), MACAddress(bytes: [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03]))
    }

    func testInterfaceIndexOrdering() {
        let indexes = [InterfaceIndex(10), InterfaceIndex(2), InterfaceIndex(7), InterfaceIndex(1)]
        XCTAssertEqual(indexes.sorted().map(\.rawValue), [1, 2, 7, 10])
        XCTAssertLessThan(InterfaceIndex(2), InterfaceIndex(10))    // numeric, not textual
        XCTAssertFalse(InterfaceIndex(3) < InterfaceIndex(3))
        XCTAssertEqual(InterfaceIndex(rawValue: 5), InterfaceIndex(5))
        XCTAssertEqual(InterfaceIndex(42).description, "42")
        XCTAssertEqual([InterfaceIndex(4), InterfaceIndex(9)].min(), InterfaceIndex(4))
    }

    func testMonotonicInstantArithmetic() {
        let t = MonotonicInstant(nanoseconds: 1_000)
        XCTAssertEqual(t.advanced(by: .seconds(2)).nanoseconds, 2_000_001_000)
        XCTAssertEqual(t.advanced(by: .milliseconds(1)).nanoseconds, 1_001_000)
        XCTAssertEqual(t.advanced(by: .seconds(-5)), t, "negative durations clamp to zero")
        XCTAssertEqual(t.advanced(by: .seconds(3)).duration(since: t), .seconds(3))
        XCTAssertEqual(t.duration(since: t.advanced(by: .seconds(1))), .zero, "earlier minus later is zero")
        XCTAssertEqual(Duration.milliseconds(1500).secondsValue, 1.5, accuracy: 1e-12)
    }

    func testLinkSnapshotDerivedState() {
        let link = LinkSnapshot(index: 5, name: "vf0", mac: nil, flags: [.up])
        XCTAssertTrue(link.isAdminUp)
        XCTAssertFalse(link.hasCarrier)
        XCTAssertEqual(link.label, "vf0(5)")
        XCTAssertTrue(LinkSnapshot(index: 5, name: "vf0", mac: nil, flags: [.lowerUp]).hasCarrier)
    }
}
