@testable import Netlink
@testable import NetlinkCodecs
@testable import Kernel
import Glibc
import Policy
import XCTest

/// The relay's counters from one mirred action dump (`NetlinkKernel.relayCounters`), over a
/// scripted kernel: vf0 (ifindex 2) and hn0 (3) with clsact, the agent's egress redirect on hn0
/// as in `Captured.mirredActionDump` (action index 1), and another tool's unbound action 77.
final class RelayCountersTests: XCTestCase {
    private var transport: FakeTransport!
    private var kernel: NetlinkKernel!
    /// The action dump's actions: (index, bindcnt, cookie, eaction, target, packets, bytes).
    private var actions: [(UInt32, Int32, [UInt8]?, Int32, UInt32, UInt32, UInt64)] = []
    /// errno for RTM_GETACTION (0: answer the dump).
    private var actionErrno: Int32 = 0

    override func setUp() {
        transport = FakeTransport()
        kernel = NetlinkKernel(channel: RequestChannel(transport: transport, firstSequence: 700))
        transport.respond = { [unowned self] in self.answer($0) }
        actions = [(77, 0, nil, 1, 3, 0, 0), (1, 1, RelayIdentity.cookie, 1, 2, 3, 294)]
    }

    private func qdisc(_ ifindex: Int32, seq: UInt32) -> [UInt8] {
        nlmsg(type: 36, flags: 2, seq: seq, tcmsgBytes(ifindex: ifindex, handle: 0xFFFF_0000, parent: 0xFFFF_FFF1)
              + nla(1, cString("clsact")))
    }

    private func mirred(_ a: (UInt32, Int32, [UInt8]?, Int32, UInt32, UInt32, UInt64)) -> [UInt8] {
        var fields = nla(1, cString("mirred"))
            + nla(0x8000 | 2, nla(2, u32(a.0) + u32(0) + i32(4) + i32(1) + i32(a.1) + i32(a.3) + u32(a.4)))
            + nla(0x8000 | 4, nla(1, u64(a.6) + u32(a.5) + u32(0)))
        if let cookie = a.2 { fields += nla(6, cookie) }
        return fields
    }

    private func answer(_ request: [UInt8]) -> [NetlinkDatagram] {
        let type = readU16(request, 4), seq = readU32(request, 8)
        switch type {
        case 38:
            return [NetlinkDatagram(bytes: qdisc(2, seq: seq) + qdisc(3, seq: seq) + doneMessage(seq: seq))]
        case 46 where readU32(request, 20) == 3 && readU32(request, 28) == 0xFFFF_FFF3:
            let action = mirred((1, 1, RelayIdentity.cookie, 1, 2, 1, 42))
            let filter = tcmsgBytes(ifindex: 3, handle: 0x8000_0800, parent: 0xFFFF_FFF3, info: 0x4E48_0300)
                + nla(1, cString("u32")) + nla(0x8000 | 2, nla(0x8000 | 7, nla(0x8000 | 1, action)))
            return [NetlinkDatagram(bytes: nlmsg(type: 44, flags: 2, seq: seq, filter) + doneMessage(seq: seq))]
        case 46:
            return [NetlinkDatagram(bytes: doneMessage(seq: seq))]
        case 50 where actionErrno != 0:
            return [NetlinkDatagram(bytes: errorMessage(seq: seq, errno: actionErrno, request: request))]
        case 50:
            let table = nla(0x8000 | 1, actions.enumerated().flatMap { nla(0x8000 | UInt16($0.offset), mirred($0.element)) })
            return [NetlinkDatagram(bytes: nlmsg(type: 50, flags: 2, seq: seq, zeros(4) + nla(3, u32(UInt32(actions.count))) + table)
                                    + doneMessage(seq: seq))]
        default:
            return [NetlinkDatagram(bytes: errorMessage(seq: seq, errno: 0, request: request))]
        }
    }

    private func sentTypes(since count: Int) -> [UInt16] { transport.sent[count...].map { readU16($0, 4) } }

    /// The kernel's own bytes: the agent's action (index 1, bound, its cookie, egress redirect to
    /// vf0, one frame) and another tool's (index 77, unbound, no cookie, to hn0).
    func testDecodesACapturedMirredActionDump() throws {
        let messages = try Captured.mirredActionDump.flatMap { try NetlinkMessage.split($0) }
        let decoded = try messages.flatMap { try ActionCodec.decodeDump($0) }
        XCTAssertEqual(decoded, [
            MirredAction(index: 1, bindCount: 1, cookie: RelayIdentity.cookie,
                         redirect: RelayFilter(kind: .toEgress, target: 2, counters: RelayCounters(packets: 1, bytes: 42))),
            MirredAction(index: 77, bindCount: 0, cookie: nil,
                         redirect: RelayFilter(kind: .toEgress, target: 3, counters: RelayCounters())),
        ])
    }

    /// The request the capture answered, byte for byte.
    func testDumpRequestBytes() throws {
        XCTAssertEqual(try ActionCodec.dumpMirredRequest(sequence: 77), hexBytes(
            "34000000320001034d000000000000000000000014000180100001800b000100",
            "6d697272656400000c0002000100000001000000"))
    }

    func testOneActionDumpReadsTheCountersTheFilterDumpsWould() throws {
        let observed = try kernel.observeRelay(on: [2, 3])
        XCTAssertEqual(observed[3]?.egress?.counters, RelayCounters(packets: 1, bytes: 42))
        let before = transport.sent.count
        let counted = try XCTUnwrap(try kernel.relayCounters(on: [2, 3]))
        XCTAssertEqual(sentTypes(since: before), [50], "one RTM_GETACTION dump, no filter dump")
        var expected = observed
        expected[3]?.egress?.counters = RelayCounters(packets: 3, bytes: 294)
        XCTAssertEqual(counted, expected, "the new counters, everything else as observed; action 77 is not ours")
    }

    /// Anything the last observation cannot vouch for: nil, for a full observation instead.
    func testAnActionThatIsGoneOrChangedAsksForAFullObservation() throws {
        _ = try kernel.observeRelay(on: [2, 3])
        let ours = actions[1]
        let changed: [(String, [(UInt32, Int32, [UInt8]?, Int32, UInt32, UInt32, UInt64)])] = [
            ("gone", [actions[0]]),
            ("another target", [(1, 1, ours.2, 1, 9, 3, 294)]),
            ("another kind", [(1, 1, ours.2, 3, 2, 3, 294)]),
            ("no cookie: another tool's action took the index", [(1, 1, nil, 1, 2, 3, 294)]),
            ("no filter binds it", [(1, 0, ours.2, 1, 2, 3, 294)]),
        ]
        for (what, dump) in changed {
            actions = dump
            XCTAssertNil(try kernel.relayCounters(on: [2, 3]), what)
        }
    }

    func testWithoutAnObservationThatCoversTheDevicesNothingIsDumped() throws {
        XCTAssertNil(try kernel.relayCounters(on: [3]), "nothing observed yet")
        _ = try kernel.observeRelay(on: [3])
        XCTAssertNil(try kernel.relayCounters(on: [2, 3]), "vf0 was not observed")
        XCTAssertNotNil(try kernel.relayCounters(on: [3]))
        try kernel.perform(.addRedirect(device: 2, hook: .ingress, kind: .toIngress, target: 3))
        XCTAssertNotNil(try kernel.relayCounters(on: [3]), "a change on vf0 says nothing about hn0")
        try kernel.perform(.deleteRedirect(device: 3, hook: .egress))
        let before = transport.sent.count
        XCTAssertNil(try kernel.relayCounters(on: [3]), "the agent changed hn0 since")
        XCTAssertEqual(sentTypes(since: before), [])
    }

    func testARefusalIsThrownWithTheRequestsName() throws {
        _ = try kernel.observeRelay(on: [2, 3])
        actionErrno = EOPNOTSUPP
        XCTAssertThrowsError(try kernel.relayCounters(on: [2, 3])) { error in
            XCTAssertEqual((error as? KernelError)?.operation, "RTM_GETACTION dump mirred")
            XCTAssertEqual((error as? KernelError)?.errno, EOPNOTSUPP)
        }
    }
}
