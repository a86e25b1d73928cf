@testable import Netlink
@testable import NetlinkCodecs
@testable import Kernel
import Glibc
import Policy
import XCTest

/// The VF-loss fast path (issue 14): the delete of hn's egress redirect is built while the pair
/// steers and sent from the event's headers. The kernel is the scripted one of NetlinkKernelTests.
extension NetlinkKernelTests {
    private static let egress: UInt32 = 0xFFFF_FFF3
    private static let hn: InterfaceIndex = 3, vf: InterfaceIndex = 7

    /// RTM_DELTFILTER naming one filter, assembled here byte by byte (not by the codec).
    private func goldenDelete(ifindex: Int32, handle: UInt32, kind: String, seq: UInt32 = 0) -> [UInt8] {
        nlmsg(type: 45, flags: 0x1 | 0x4, seq: seq,
              tcmsgBytes(ifindex: ifindex, handle: handle, parent: Self.egress, info: 0x4E48_0300) + nla(1, cString(kind)))
    }

    /// Steering through VF 7 with the agent's u32 filter `handle` on hn (3) egress, observed and prepared.
    private func steer(handle: UInt32) throws {
        filtersOn["3/\(Self.egress)"] = [redirectFilter(ifindex: 3, parent: Self.egress, handle: handle, seq: 0)]
        _ = try kernel.observeRelay(on: [Self.hn])
        kernel.prepareEgressDeletes(steering: [Self.vf: Self.hn])
    }

    private func delLink(_ index: Int32) -> [UInt8] {
        nlmsg(type: 17, flags: 0, seq: 0, ifinfomsgBytes(index: index) + nla(3, cString("vf0")))
    }

    private func removed(_ synthetic: [InterfaceIndex]) -> PreparedDeleteOutcome { PreparedDeleteOutcome(removed: synthetic) }

    private func sentSince(_ count: Int) -> [[UInt8]] { Array(transport.sent[count...]) }

    func testPreparedDeleteGoldenBytesU32AndMatchall() throws {
        try steer(handle: 0x800_800)
        XCTAssertEqual(kernel.preparedEgressDeletes[Self.vf]?.requests,
                       [goldenDelete(ifindex: 3, handle: 0x800_800, kind: "u32")])

        var matchall = DumpedFilter(device: Self.hn, hook: .egress, priority: 20040, handle: 1, protocolNumber: 0x0300,
                                    kind: "matchall", redirect: RelayFilter(kind: .toEgress, target: Self.vf),
                                    cookie: RelayIdentity.cookie)
        kernel.lastDumped = [Self.hn: [.egress: [matchall]]]
        kernel.prepareEgressDeletes(steering: [Self.vf: Self.hn])
        XCTAssertEqual(kernel.preparedEgressDeletes[Self.vf]?.requests, [goldenDelete(ifindex: 3, handle: 1, kind: "matchall")])

        // Another tool's filter at the same priority is never named.
        matchall.cookie = nil
        kernel.lastDumped = [Self.hn: [.egress: [matchall]]]
        kernel.prepareEgressDeletes(steering: [Self.vf: Self.hn])
        XCTAssertNil(kernel.preparedEgressDeletes[Self.vf], "nothing of ours to delete: no prepared request")
    }

    func testVFLossSendsThePreparedBytesOnceWithAFreshSequence() throws {
        try steer(handle: 0x800_800)
        let before = transport.sent.count
        XCTAssertEqual(kernel.sendPreparedEgressDeletes(lostIn: delLink(7) + delLink(9)), removed([Self.hn]))
        let sent = sentSince(before)
        XCTAssertEqual(sent.count, 1, "one request, no dump")
        XCTAssertEqual(sent.first, goldenDelete(ifindex: 3, handle: 0x800_800, kind: "u32", seq: readU32(sent[0], 8)))
        XCTAssertNotEqual(readU32(sent[0], 8), 0, "the channel's own sequence number")
        XCTAssertEqual(kernel.sendPreparedEgressDeletes(lostIn: delLink(7)), PreparedDeleteOutcome(), "sent once")
        XCTAssertEqual(transport.sent.count, before + 1)
    }

    func testUsableVFOrOtherLinksSendNothing() throws {
        try steer(handle: 0x800_800)
        let before = transport.sent.count
        let upWithCarrier = nlmsg(type: 16, flags: 0, seq: 0, ifinfomsgBytes(index: 7, flags: 0x1_1043) + nla(3, cString("vf0")))
        XCTAssertEqual(kernel.sendPreparedEgressDeletes(lostIn: upWithCarrier + delLink(8)), PreparedDeleteOutcome())
        XCTAssertEqual(transport.sent.count, before)
        let lostCarrier = nlmsg(type: 16, flags: 0, seq: 0, ifinfomsgBytes(index: 7, flags: 0x1043) + nla(3, cString("vf0")))
        XCTAssertEqual(kernel.sendPreparedEgressDeletes(lostIn: lostCarrier), removed([Self.hn]), "up without carrier")
    }

    /// ENOENT: the filter was replaced since the observation. Not reported as done, and the
    /// decoded path that follows dumps the hook and deletes what it finds.
    func testReplacedFilterFallsBackToDumpAndFind() throws {
        try steer(handle: 0x800_800)
        errnoFor = [45: ENOENT]
        XCTAssertEqual(kernel.sendPreparedEgressDeletes(lostIn: delLink(7)), PreparedDeleteOutcome(refused: [Self.hn]),
                       "refused: the decoded path's to do, and a failed request to count")
        errnoFor = [:]
        let before = transport.sent.count
        try kernel.perform(.deleteRedirect(device: Self.hn, hook: .egress))
        XCTAssertEqual(sentSince(before).map { readU16($0, 4) }, [46, 45], "dump, then delete")
    }

    /// A re-steer makes a new filter: the delete prepared for the old one is never sent, and the
    /// next preparation names the new one.
    func testStalePreparedDeleteIsNeverSentAfterReSteer() throws {
        try steer(handle: 0x800_800)
        try kernel.perform(.deleteRedirect(device: Self.hn, hook: .egress))
        try kernel.perform(.addRedirect(device: Self.hn, hook: .egress, kind: .toEgress, target: Self.vf))
        XCTAssertNil(kernel.preparedEgressDeletes[Self.vf], "the agent changed hn's egress hook")
        var before = transport.sent.count
        XCTAssertEqual(kernel.sendPreparedEgressDeletes(lostIn: delLink(7)), PreparedDeleteOutcome())
        XCTAssertEqual(transport.sent.count, before, "nothing sent for the old filter")

        try steer(handle: 0x800_801)
        before = transport.sent.count
        XCTAssertEqual(kernel.sendPreparedEgressDeletes(lostIn: delLink(7)), removed([Self.hn]))
        XCTAssertEqual(readU32(sentSince(before)[0], 24), 0x800_801, "names the filter of the re-steer")
    }

    /// Another tool replaced the agent's filter between observations: the next observation
    /// drops what was prepared, and a pair that stopped steering is dropped at the next preparation.
    func testObservationOrStopDropsPreparedDelete() throws {
        try steer(handle: 0x800_800)
        filtersOn["3/\(Self.egress)"] = [redirectFilter(ifindex: 3, parent: Self.egress, handle: 0x800_802, seq: 0)]
        _ = try kernel.observeRelay(on: [Self.hn])
        XCTAssertNil(kernel.preparedEgressDeletes[Self.vf])

        try steer(handle: 0x800_802)
        XCTAssertNotNil(kernel.preparedEgressDeletes[Self.vf])
        kernel.prepareEgressDeletes(steering: [:])
        XCTAssertNil(kernel.preparedEgressDeletes[Self.vf], "not steering: nothing prepared")
    }
}
