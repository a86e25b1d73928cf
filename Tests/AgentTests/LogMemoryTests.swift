@testable import Engine
import Policy
import XCTest

/// The log's memory says each thing once, still names links that left, and stays bounded.
final class LogMemoryTests: XCTestCase {
    func link(_ index: Int32, _ name: String) -> LinkSnapshot {
        var link = LinkSnapshot(index: InterfaceIndex(index), name: name, mac: nil)
        link.counters = TrafficCounters(rxPackets: UInt64(index))
        return link
    }

    func testDepartedLinksKeepTheirNameUntilTheIndexIsTakenAgain() {
        var memory = LogMemory()
        memory.depart(link(5, "vf0"))
        XCTAssertEqual(memory.departedName(5), "vf0")
        XCTAssertEqual(memory.departedCounters(5), TrafficCounters(rxPackets: 5))
        memory.arrived(5)
        XCTAssertNil(memory.departedName(5), "the table names a link that is back")
        XCTAssertEqual(memory.departedCounters(5), TrafficCounters(rxPackets: 5), "the counters still bank the old VF")
    }

    func testDepartedLinksAreBounded() {
        var memory = LogMemory()
        for index in 1...Int32(LogMemory.departedLimit) { memory.depart(link(index, "l\(index)")) }
        XCTAssertEqual(memory.departedName(1), "l1")
        memory.depart(link(5000, "new"))
        XCTAssertNil(memory.departedName(1), "emptied at the limit")
        XCTAssertEqual(memory.departedName(5000), "new")
    }

    func testEachFailureAndAnnouncementOnce() {
        var memory = LogMemory()
        XCTAssertTrue(memory.firstAnnouncement(of: "3/vf0/reason"))
        XCTAssertFalse(memory.firstAnnouncement(of: "3/vf0/reason"))
        XCTAssertTrue(memory.noteFailure(of: 2, "refused"))
        XCTAssertFalse(memory.noteFailure(of: 2, "refused"))
        XCTAssertTrue(memory.noteFailure(of: 2, "refused otherwise"))
        XCTAssertTrue(memory.noteRecovery(of: 2))
        XCTAssertFalse(memory.noteRecovery(of: 2), "said once")
        for index in 0...LogMemory.ignoredLimit { _ = memory.firstAnnouncement(of: "k\(index)") }
        memory.boundAnnouncements()
        XCTAssertTrue(memory.firstAnnouncement(of: "3/vf0/reason"), "forgotten past the limit, said again")
    }
}
