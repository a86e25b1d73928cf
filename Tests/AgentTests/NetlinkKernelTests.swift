@testable import Agent
import Glibc
import Policy
import XCTest

/// NetlinkKernel over a scripted transport that answers like the kernel did in `Captured`.
final class NetlinkKernelTests: XCTestCase {
    private var transport: FakeTransport!
    private var kernel: NetlinkKernel!
    /// errno to answer each request type with (0 = ACK).
    private var errnoFor: [UInt16: Int32] = [:]

    override func setUp() {
        transport = FakeTransport()
        kernel = NetlinkKernel(channel: RequestChannel(transport: transport, firstSequence: 500))
        transport.respond = { [unowned self] request in self.answer(request) }
    }

    /// A foreign u32 filter (prio 1, action gact) on hn0 egress.
    private func foreignFilter(seq: UInt32) -> [UInt8] {
        let body = tcmsgBytes(ifindex: 3, handle: 0x8000_0800, parent: 0xFFFF_FFF3, info: 0x0001_0300)
            + nla(1, cString("u32")) + nla(2, nla(7, nla(1, nla(1, cString("gact")))))
        return nlmsg(type: 44, flags: 2, seq: seq, body)
    }

    private func answer(_ request: [UInt8]) -> [NetlinkDatagram] {
        let type = readU16(request, 4), seq = readU32(request, 8)
        func datagram(_ bytes: [UInt8]) -> NetlinkDatagram { NetlinkDatagram(bytes: bytes) }
        switch type {
        case 18 where readU16(request, 6) & 0x300 != 0:                        // link dump
            return [datagram(withFlags(withSequence(Captured.linkVx0, seq), 2) + doneMessage(seq: seq))]
        case 18:                                                                // get one link
            if let code = errnoFor[18] { return [datagram(errorMessage(seq: seq, errno: code, request: request))] }
            return [datagram(withSequence(Captured.linkVx0, seq) + errorMessage(seq: seq, errno: 0, request: request))]
        case 38:                                                                // qdisc dump
            return [datagram(Array(Captured.qdiscDump.map { withSequence($0, seq) }.joined()))]
        case 46:                                                                // filter dump
            let ifindex = Int32(bitPattern: readU32(request, 20)), parent = readU32(request, 28)
            switch (ifindex, parent) {
            case (2, 0xFFFF_FFF2):
                return [datagram(Array(Captured.filterDump.map { withSequence($0, seq) }.joined()))]
            case (3, 0xFFFF_FFF3):
                return [datagram(foreignFilter(seq: seq) + doneMessage(seq: seq))]
            default:
                return [datagram(doneMessage(seq: seq))]
            }
        default:
            return [datagram(errorMessage(seq: seq, errno: errnoFor[type] ?? 0, request: request))]
        }
    }

    func testObserveRelay() throws {
        let observed = try kernel.observeRelay(on: [2, 3, 5])
        XCTAssertEqual(observed, [
            2: RelayObservation(hasClsact: true,
                                ingress: RelayFilter(kind: .toIngress, target: 3, counters: RelayCounters(packets: 5, bytes: 250))),
            3: RelayObservation(hasClsact: true, foreignFilters: 1),
            5: .absent,                                                       // noqueue only: no filters asked for
        ])
        let filterDumps = transport.sent.filter { readU16($0, 4) == 46 }
        XCTAssertEqual(filterDumps.count, 4, "two hooks on each device with clsact, none on ifindex 5")
        XCTAssertEqual(try kernel.observeRelay(on: []), [:])
    }

    func testDumpLinksAndGetLink() throws {
        XCTAssertEqual(try kernel.dumpLinks().map(\.name), ["vx0"])
        XCTAssertEqual(try kernel.link(5)?.index, 5)
        errnoFor[18] = ENODEV
        XCTAssertNil(try kernel.link(5), "ENODEV: the link is gone")
    }

    func testPerformTreatsAlreadyDoneAsSuccess() throws {
        // (action, request type, errno the kernel answers, succeeds)
        let rows: [(Action, UInt16, Int32, Bool)] = [
            (.addClsact(device: 2), 36, EEXIST, true),
            (.addRedirect(device: 2, hook: .ingress, kind: .toIngress, target: 3), 44, EEXIST, true),
            (.deleteRedirect(device: 3, hook: .egress), 45, ENOENT, true),
            (.deleteRedirect(device: 3, hook: .egress), 45, EINVAL, true),
            (.deleteClsact(device: 3), 37, ENODEV, true),
            (.addClsact(device: 2), 36, ENOMEM, false),
            (.addRedirect(device: 2, hook: .ingress, kind: .toIngress, target: 3), 44, ENODEV, false),
            (.setAdminState(device: 2, up: true), 16, EEXIST, false),
            (.setAddrGenMode(device: 2, mode: .none), 16, EAFNOSUPPORT, false),
            (.setAdminState(device: 2, up: false), 16, 0, true),
        ]
        for (action, type, code, succeeds) in rows {
            errnoFor = [type: code]
            let before = transport.sent.count
            if succeeds {
                XCTAssertNoThrow(try kernel.perform(action), "\(action) errno \(code)")
            } else {
                XCTAssertThrowsError(try kernel.perform(action), "\(action) errno \(code)") { error in
                    XCTAssertEqual((error as? KernelError)?.errno, code, "\(action)")
                }
            }
            XCTAssertEqual(transport.sent.count, before + 1)
            XCTAssertEqual(transport.sent.last.map { readU16($0, 4) }, type, "\(action)")
        }
    }

    func testOperationNamesInErrors() throws {
        errnoFor = [44: ENODEV]
        XCTAssertThrowsError(try kernel.perform(.addRedirect(device: 3, hook: .egress, kind: .toEgress, target: 9))) { error in
            let operation = (error as? KernelError)?.operation ?? ""
            XCTAssertTrue(operation.hasPrefix("RTM_NEWTFILTER egress "), operation)
            XCTAssertTrue(operation.hasSuffix(" on ifindex 3 to ifindex 9"), operation)
        }
    }
}
