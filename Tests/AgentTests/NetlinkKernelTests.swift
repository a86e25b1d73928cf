@testable import Netlink
@testable import Kernel
import Glibc
import Policy
import XCTest

/// NetlinkKernel over a scripted transport that answers like the kernel did in `Captured`.
final class NetlinkKernelTests: XCTestCase {
    var transport: FakeTransport!
    var kernel: NetlinkKernel!
    /// errno to answer each request type with (0 = ACK).
    var errnoFor: [UInt16: Int32] = [:]

    override func setUp() {
        transport = FakeTransport()
        kernel = NetlinkKernel(channel: RequestChannel(transport: transport, firstSequence: 500))
        transport.respond = { [unowned self] request in self.answer(request) }
    }

    /// Filter dumps by (ifindex, parent) that replace the default answers below.
    var filtersOn: [String: [[UInt8]]] = [:]

    /// A u32 filter at `priority` with one mirred egress redirect (with the agent's cookie, or
    /// none), as the kernel dumps it.
    func redirectFilter(ifindex: Int32, parent: UInt32, handle: UInt32, priority: UInt16 = 20040,
                                cookie: [UInt8]? = Array("hnagent1".utf8), seq: UInt32) -> [UInt8] {
        var action = nla(1, cString("mirred")) + nla(0x8000 | 2, nla(2, u32(1) + u32(0) + i32(4) + i32(1) + i32(1) + i32(1) + u32(9)))
        if let cookie { action += nla(6, cookie) }
        let body = tcmsgBytes(ifindex: ifindex, handle: handle, parent: parent, info: UInt32(priority) << 16 | 0x0300)
            + nla(1, cString("u32")) + nla(0x8000 | 2, nla(5, [1, 0, 1, 0] + zeros(28)) + nla(0x8000 | 7, nla(0x8000 | 1, action)))
        return nlmsg(type: 44, flags: 2, seq: seq, body)
    }

    /// Another tool's u32 filter without action (`classid 1:1`) at the agent's priority 20040.
    private func foreignFilterAtOurPriority(ifindex: Int32, parent: UInt32, handle: UInt32, seq: UInt32) -> [UInt8] {
        let body = tcmsgBytes(ifindex: ifindex, handle: handle, parent: parent, info: 0x4E48_0300)
            + nla(1, cString("u32")) + nla(0x8000 | 2, nla(1, u32(0x0001_0001)) + nla(5, [1, 0, 1, 0] + zeros(28)))
        return nlmsg(type: 44, flags: 2, seq: seq, body)
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
            if let scripted = filtersOn["\(ifindex)/\(parent)"] {
                return [datagram(Array(scripted.map { withSequence($0, seq) }.joined()) + doneMessage(seq: seq))]
            }
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
                                ingress: RelayFilter(kind: .toIngress, target: 3, counters: RelayCounters(packets: 5, bytes: 250)),
                                listed: [.ingress: [HookFilter(priority: 20040, handle: 0x8000_0800, kind: "u32", isAgents: true)],
                                         .egress: []]),
            // The hooks' classifying filters in the kernel's order, for RelayShadow (u32 containers left out).
            3: RelayObservation(hasClsact: true, foreignFilters: 1,
                                listed: [.egress: [HookFilter(priority: 1, handle: 0x8000_0800, kind: "u32")], .ingress: []]),
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

    /// The probe on lo: clsact added only when lo had none and removed again; matchall chosen when
    /// the kernel takes the probe filter, u32 when it answers ENOENT (no cls_matchall).
    func testMatchallProbe() throws {
        // (errno for NEWQDISC, errno for NEWTFILTER, chosen, request types sent in order)
        let rows: [(Int32, Int32, RelayClassifier, [UInt16])] = [
            (0, 0, .matchall, [36, 44, 45, 37]),
            (EEXIST, 0, .matchall, [36, 44, 45]),          // lo's clsact is someone else's: it stays
            (0, ENOENT, .u32, [36, 44, 37]),               // "TC classifier not found"
            (0, EEXIST, .matchall, [36, 44, 45, 37]),      // an earlier probe's filter was left behind
            (EPERM, 0, .u32, [36]),
        ]
        for (qdiscErrno, filterErrno, chosen, types) in rows {
            errnoFor = [36: qdiscErrno, 44: filterErrno]
            let before = transport.sent.count
            let choice = kernel.probeMatchall()
            XCTAssertEqual(choice.classifier, chosen, choice.reason)
            let sent = transport.sent[before...]
            XCTAssertEqual(sent.map { readU16($0, 4) }, types, choice.reason)
            XCTAssertTrue(sent.allSatisfy { Int32(bitPattern: readU32($0, 20)) == 1 }, "only lo is touched")
        }
    }

    /// With matchall chosen, the relay is added as matchall; deletes name the kind the dump reported.
    func testAddRedirectUsesTheChosenClassifier() throws {
        kernel.relayClassifier = .matchall
        try kernel.perform(.addRedirect(device: 3, hook: .egress, kind: .toEgress, target: 2))
        let request = try XCTUnwrap(transport.sent.last)
        XCTAssertEqual(String(decoding: request[40..<48], as: UTF8.self), "matchall")
    }

    /// Issue 11 item 4: a delete names the handle, kind and priority of each filter of the agent's
    /// (cookie "hnagent1") found on the hook just before; others' filters at 20040 stay.
    func testDeleteRedirectNamesOnlyTheAgentsFilters() throws {
        func tcmsg(_ request: [UInt8]) -> (type: UInt16, ifindex: Int32, handle: UInt32, parent: UInt32, info: UInt32, kind: String) {
            (readU16(request, 4), Int32(bitPattern: readU32(request, 20)), readU32(request, 24), readU32(request, 28),
             readU32(request, 32), request.count >= 43 ? String(decoding: request[40..<43], as: UTF8.self) : "")
        }
        // vf0 (2) ingress, as captured: chain head, hash table 800:, the agent's 800::800.
        var before = transport.sent.count
        try kernel.perform(.deleteRedirect(device: 2, hook: .ingress))
        var sent = transport.sent[before...].map(tcmsg)
        XCTAssertEqual(sent.map(\.type), [46, 45], "dump, delete 800::800 (the kernel frees the emptied priority)")
        XCTAssertEqual(sent[1].handle, 0x8000_0800)
        XCTAssertEqual(sent[1].info, 0x4E48_0300)
        XCTAssertEqual(sent[1].parent, 0xFFFF_FFF2)
        XCTAssertEqual(sent[1].kind, "u32")

        // The same beside another tool's u32 filter at prio 1: the kernel keeps the emptied u32
        // container at 20040, so it is deleted too (handle 0, kind u32).
        filtersOn["2/\(0xFFFF_FFF2 as UInt32)"] = Captured.filterDump.dropLast() + [foreignFilter(seq: 0)]
        before = transport.sent.count
        try kernel.perform(.deleteRedirect(device: 2, hook: .ingress))
        sent = transport.sent[before...].map(tcmsg)
        XCTAssertEqual(sent.map(\.type), [46, 45, 45], "dump, delete 800::800, delete the emptied priority")
        XCTAssertEqual(sent[1].handle, 0x8000_0800)
        XCTAssertEqual(sent[2].handle, 0)
        XCTAssertEqual(sent[2].info, 0x4E48_0300)
        XCTAssertEqual(sent[2].kind, "u32")
        filtersOn = [:]

        // hn0 (3) egress: another tool's filter 800::800 at 20040, the agent's 800::801, a foreign redirect at 20040
        // without the cookie, and a foreign filter at prio 1.
        filtersOn["3/\(0xFFFF_FFF3 as UInt32)"] = [
            foreignFilterAtOurPriority(ifindex: 3, parent: 0xFFFF_FFF3, handle: 0x8000_0800, seq: 0),
            redirectFilter(ifindex: 3, parent: 0xFFFF_FFF3, handle: 0x8000_0801, seq: 0),
            redirectFilter(ifindex: 3, parent: 0xFFFF_FFF3, handle: 0x8000_0802, cookie: nil, seq: 0),
            foreignFilter(seq: 0),
        ]
        before = transport.sent.count
        try kernel.perform(.deleteRedirect(device: 3, hook: .egress))
        sent = transport.sent[before...].map(tcmsg)
        XCTAssertEqual(sent.map(\.type), [46, 45], "only the agent's filter; the priority keeps the others'")
        XCTAssertEqual(sent[1].handle, 0x8000_0801)
        XCTAssertEqual(sent[1].ifindex, 3)
        XCTAssertEqual(sent[1].kind, "u32")
        let observed = try kernel.observeRelay(on: [3])
        XCTAssertEqual(observed[3]?.egress?.target, 9)
        XCTAssertEqual(observed[3]?.foreignFilters, 3, "foreign at 20040, the redirect without cookie, prio 1")

        // Nothing of the agent's on the hook: nothing is deleted.
        before = transport.sent.count
        try kernel.perform(.deleteRedirect(device: 5, hook: .egress))
        XCTAssertEqual(transport.sent[before...].map { readU16($0, 4) }, [46])

        // Already gone when the delete arrives (ENOENT, EINVAL): done; any other error is reported.
        for (code, succeeds) in [(ENOENT, true), (EINVAL, true), (EPERM, false)] {
            errnoFor = [45: code]
            if succeeds {
                XCTAssertNoThrow(try kernel.perform(.deleteRedirect(device: 2, hook: .ingress)), "errno \(code)")
            } else {
                XCTAssertThrowsError(try kernel.perform(.deleteRedirect(device: 2, hook: .ingress))) { error in
                    XCTAssertEqual((error as? KernelError)?.errno, code)
                    XCTAssertTrue((error as? KernelError)?.operation.contains("handle 800::800") ?? false, "\(error)")
                }
            }
        }
    }

    /// Issue 14: the delete names the agent's filter from the last observation's dump, so the
    /// first request after a VF event is the delete itself; a filter replaced since (ENOENT) is
    /// found by dumping the hook again.
    func testDeleteRedirectUsesTheLastObservation() throws {
        filtersOn["3/\(0xFFFF_FFF3 as UInt32)"] = [
            foreignFilterAtOurPriority(ifindex: 3, parent: 0xFFFF_FFF3, handle: 0x8000_0800, seq: 0),
            redirectFilter(ifindex: 3, parent: 0xFFFF_FFF3, handle: 0x8000_0801, seq: 0),
        ]
        _ = try kernel.observeRelay(on: [3])
        var before = transport.sent.count
        try kernel.perform(.deleteRedirect(device: 3, hook: .egress))
        var sent = Array(transport.sent[before...])
        XCTAssertEqual(sent.map { readU16($0, 4) }, [45], "the delete alone, no dump first")
        XCTAssertEqual(readU32(sent[0], 24), 0x8000_0801, "named by the agent's handle, not the foreign 800::800")
        XCTAssertEqual(readU32(sent[0], 32), 0x4E48_0300, "and its priority and protocol")

        // Used once: the next delete dumps.
        before = transport.sent.count
        try kernel.perform(.deleteRedirect(device: 3, hook: .egress))
        XCTAssertEqual(transport.sent[before...].map { readU16($0, 4) }, [46, 45])

        // Replaced since the observation: ENOENT, then dump and delete what is there now.
        _ = try kernel.observeRelay(on: [3])
        errnoFor = [45: ENOENT]
        before = transport.sent.count
        XCTAssertNoThrow(try kernel.perform(.deleteRedirect(device: 3, hook: .egress)))
        XCTAssertEqual(transport.sent[before...].map { readU16($0, 4) }, [45, 46, 45])
        errnoFor = [:]

        // A filter the agent added after the observation has no handle yet: dump first.
        _ = try kernel.observeRelay(on: [3])
        try kernel.perform(.addRedirect(device: 3, hook: .egress, kind: .toEgress, target: 9))
        before = transport.sent.count
        try kernel.perform(.deleteRedirect(device: 3, hook: .egress))
        XCTAssertEqual(transport.sent[before...].map { readU16($0, 4) }, [46, 45])
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
