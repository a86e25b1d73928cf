@testable import Netlink
@testable import NetlinkCodecs
import Policy
import XCTest

/// The fast path's look at a datagram's headers: the same verdict the decoded urgent step
/// (`LinkCodec` + `PairStep.urgentEgressDeletes`) reaches, for every row.
final class LinkLossScanTests: XCTestCase {
    private func link(_ type: UInt16, index: Int32, flags: UInt32 = 0) -> [UInt8] {
        nlmsg(type: type, flags: 0, seq: 0, ifinfomsgBytes(index: index, flags: flags) + nla(3, cString("vf0")))
    }

    private func scan(_ datagram: [UInt8]) -> [InterfaceIndex] {
        var lost: [InterfaceIndex] = []
        LinkLossScan.lostLinks(in: datagram) { lost.append($0) }
        return lost
    }

    func testVerdictPerMessage() throws {
        let rows: [(String, [UInt8], lost: Bool)] = [
            ("removed", link(17, index: 7), true),
            ("up with carrier", link(16, index: 7, flags: 0x1_1043), false),
            ("up without carrier", link(16, index: 7, flags: 0x1043), true),
            ("admin down", link(16, index: 7, flags: 0x1_1042), true),
            ("address event", nlmsg(type: 20, flags: 0, seq: 0, zeros(8)), false),
            ("ifindex 0", link(17, index: 0), false),
        ]
        var pair = PairProgress(synthetic: 2)
        pair.phase = .active(vf: 7, seenUsable: true)
        pair.steering = true
        for (name, bytes, lost) in rows {
            XCTAssertEqual(scan(bytes), lost ? [7] : [], name)
            // The decoded path agrees wherever it decodes the message.
            guard let message = try? NetlinkMessage.split(bytes).first, let decoded = try? LinkCodec.decode(message) else { continue }
            let (index, snapshot): (InterfaceIndex, LinkSnapshot?) = {
                switch decoded {
                case .removed(let index, _, _): return (index, nil)
                case .present(let link): return (link.index, link)
                }
            }()
            XCTAssertEqual(!PairStep.urgentEgressDeletes(event: index, link: snapshot, pairs: [pair]).isEmpty, lost, name)
        }
    }

    func testEveryMessageOfADatagramInOrder() {
        XCTAssertEqual(scan(link(16, index: 5, flags: 0x1_1043) + link(16, index: 7) + link(17, index: 9)), [7, 9])
    }

    func testImpossibleLengthStopsTheScan() {
        let first = link(17, index: 7)
        XCTAssertEqual(scan(first + withLength(link(17, index: 9), 4000)), [7], "stops at the header that overruns")
        XCTAssertEqual(scan(withLength(first, 8)), [], "shorter than nlmsghdr")
        XCTAssertEqual(scan(Array(first.prefix(20))), [], "cut inside the ifinfomsg")
        XCTAssertEqual(scan(nlmsg(type: 17, flags: 0, seq: 0, zeros(4))), [], "no room for ifinfomsg")
    }

    private func withLength(_ bytes: [UInt8], _ length: UInt32) -> [UInt8] {
        var copy = bytes
        copy.replaceSubrange(0..<4, with: u32(length))
        return copy
    }
}
