@testable import Netlink
@testable import NetlinkCodecs
@testable import Kernel
import Glibc
import Policy
import XCTest

/// Every link's counters from one RTM_GETSTATS dump (`NetlinkKernel.linkCounters`), for status.
final class LinkCountersTests: XCTestCase {
    func testDecodesACapturedStatsDump() throws {
        let messages = try Captured.linkStatsDump.flatMap { try NetlinkMessage.split($0) }
        let decoded = try messages.compactMap { try LinkStatsCodec.decode($0) }
        XCTAssertEqual(decoded.map(\.0), [1, 2, 3])
        XCTAssertEqual(decoded.map(\.1), [
            TrafficCounters(),
            TrafficCounters(rxPackets: 2, txPackets: 1, rxBytes: 132, txBytes: 90),
            TrafficCounters(rxPackets: 1, txPackets: 2, rxBytes: 90, txBytes: 132),
        ], "as `ip -s link` showed them")
    }

    /// The request the capture answered, byte for byte.
    func testDumpRequestBytes() throws {
        XCTAssertEqual(try LinkStatsCodec.dumpRequest(sequence: 88),
                       hexBytes("1c0000005e0001035800000000000000000000000000000001000000"))
    }

    /// One request for all counters; a kernel that does not know RTM_GETSTATS gets a link dump.
    func testOneStatsDumpOrALinkDumpWhereRefused() throws {
        let transport = FakeTransport()
        let kernel = NetlinkKernel(channel: RequestChannel(transport: transport, firstSequence: 88))
        var refuse = false
        transport.respond = { request in
            let type = readU16(request, 4), seq = readU32(request, 8)
            switch type {
            case 94 where refuse:
                return [NetlinkDatagram(bytes: errorMessage(seq: seq, errno: EOPNOTSUPP, request: request))]
            case 94:
                return Captured.linkStatsDump.map { NetlinkDatagram(bytes: withSequence($0, seq)) }
            default: // the link dump
                return [NetlinkDatagram(bytes: withFlags(withSequence(Captured.linkVx0, seq), 2) + doneMessage(seq: seq))]
            }
        }
        let counters = try kernel.linkCounters()
        XCTAssertEqual(transport.sent.map { readU16($0, 4) }, [94])
        XCTAssertEqual(counters[2], TrafficCounters(rxPackets: 2, txPackets: 1, rxBytes: 132, txBytes: 90))
        XCTAssertEqual(counters.count, 3)

        refuse = true
        let fallback = try kernel.linkCounters()
        XCTAssertEqual(transport.sent.dropFirst().map { readU16($0, 4) }, [94, 18], "refused, then a link dump")
        let vx0 = try XCTUnwrap(try NetlinkMessage.split(Captured.linkVx0).compactMap { try LinkCodec.decode($0) }.first)
        guard case .present(let link) = vx0 else { return XCTFail("vx0 is present") }
        XCTAssertEqual(fallback, [link.index: try XCTUnwrap(link.counters)])
    }
}
