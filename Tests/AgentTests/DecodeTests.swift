@testable import Netlink
@testable import NetlinkCodecs
import Policy
import XCTest

/// Decoding of kernel messages: real ones captured from Linux (`Captured`) and hand-assembled ones.
final class DecodeTests: XCTestCase {
    private func single(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> NetlinkMessage {
        let messages = try NetlinkMessage.split(bytes)
        XCTAssertEqual(messages.count, 1, file: file, line: line)
        return try XCTUnwrap(messages.first, file: file, line: line)
    }

    private func linkMessage(type: UInt16 = 16, index: Int32, flags: UInt32 = 0x1003, hardwareType: UInt16 = 1,
                             _ attributes: [UInt8]) -> NetlinkMessage {
        let body = ifinfomsgBytes(type: hardwareType, index: index, flags: flags) + attributes
        return try! NetlinkMessage.split(nlmsg(type: type, flags: 0, seq: 0, body))[0]
    }

    // MARK: split

    func testSplitHeaderFields() throws {
        let datagram = nlmsg(type: 16, flags: 0x2, seq: 77, port: 0x1234, [1, 2, 3])   // 19 bytes, padded to 20 below
            + [0] + nlmsg(type: 3, flags: 0x2, seq: 77, i32(0))
        let messages = try NetlinkMessage.split(datagram)
        XCTAssertEqual(messages.count, 2)
        XCTAssertEqual(messages[0].type, 16)
        XCTAssertEqual(messages[0].flags, 0x2)
        XCTAssertEqual(messages[0].sequence, 77)
        XCTAssertEqual(messages[0].port, 0x1234)
        XCTAssertEqual(Array(messages[0].payload), [1, 2, 3], "payload ends at nlmsg_len, padding excluded")
        XCTAssertEqual(messages[1].type, 3)
        XCTAssertEqual(Array(messages[1].payload), [0, 0, 0, 0])
    }

    // MARK: links

    func testDecodeCapturedNewLink() throws {
        let message = try single(Captured.linkVx0)
        XCTAssertEqual(message.sequence, 101)
        let decoded = try LinkCodec.decode(message)
        var expected = LinkSnapshot(index: 5, name: "vx0", mac: MACAddress("3e:d2:33:5b:94:c3"), hardwareType: 1,
                                    flags: [.up, .broadcast, .multicast], mtu: 1400, operState: .lowerLayerDown,
                                    kind: "veth", master: 6, driver: nil, addrGenMode: AddrGenMode.none)
        expected.gso = GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536)
        expected.tsoCeiling = TSOCeiling(maxSize: 524_280, maxSegs: 65535)
        expected.counters = TrafficCounters()
        XCTAssertEqual(decoded, .present(expected))
    }

    func testDecodeCapturedDelLinkMovedToNamespace() throws {
        let decoded = try LinkCodec.decode(try single(Captured.delLinkVx1MovedAway))
        XCTAssertEqual(decoded, .removed(index: 4, name: "vx1", movedToNamespace: true))
    }

    func testDecodeHandAssembledNewLink() throws {
        let attributes: [UInt8] =
            nla(3, cString("enP1s2"))                                  // IFLA_IFNAME
            + nla(1, [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03])             // IFLA_ADDRESS
            + nla(2, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])             // IFLA_BROADCAST (ignored)
            + nla(4, u32(9000))                                        // IFLA_MTU
            + nla(10, u32(12))                                         // IFLA_MASTER
            + nla(16, [6])                                             // IFLA_OPERSTATE: UP
            + nla(999, [1, 2, 3])                                      // unknown: skipped
            + nla(0x8000 | 18, nla(1, cString("macvlan")) + nla(2, [0, 0, 0, 0]))  // IFLA_LINKINFO {KIND, DATA}
            + nla(0x8000 | 26,                                         // IFLA_AF_SPEC
                  nla(2, nla(1, zeros(8)))                             //   AF_INET {..}: not ours
                  + nla(10, nla(1, u32(0)) + nla(8, [2])))             //   AF_INET6 {FLAGS, ADDR_GEN_MODE stable-privacy}
        let decoded = try LinkCodec.decode(linkMessage(index: 9, flags: 0x11043, attributes))
        let expected = LinkSnapshot(index: 9, name: "enP1s2", mac: MACAddress("00:15:5d:01:02:03"),
                                    flags: [.up, .broadcast, .running, .multicast, .lowerUp], mtu: 9000, operState: .up,
                                    kind: "macvlan", master: 12, addrGenMode: .stablePrivacy)
        XCTAssertEqual(decoded, .present(expected))
    }

    func testDecodeLinkWhoseNameIsNotUTF8() throws {
        // `ip link add $'bad\xff' type veth`: the kernel allows it; it must not fail the decode.
        let message = linkMessage(index: 9, nla(3, [0x62, 0x61, 0x64, 0xff, 0]) + nla(1, [2, 0, 0x5e, 0, 0, 9]))
        guard case .present(let link)? = try LinkCodec.decode(message) else { return XCTFail("not decoded") }
        XCTAssertEqual(link.name, "bad\u{FFFD}")
        XCTAssertEqual(link.index, 9)
        let removed = linkMessage(type: 17, index: 9, nla(3, [0xc3, 0x28, 0]))
        XCTAssertEqual(try LinkCodec.decode(removed), .removed(index: 9, name: "\u{FFFD}(", movedToNamespace: false))
    }

    func testDecodeLinkOptionalFields() throws {
        // (attributes, check)
        let rows: [(String, [UInt8], (LinkSnapshot) -> Void)] = [
            ("minimal", nla(3, cString("x0")), { link in
                XCTAssertNil(link.mac); XCTAssertNil(link.kind); XCTAssertNil(link.master)
                XCTAssertNil(link.addrGenMode); XCTAssertEqual(link.mtu, 0); XCTAssertEqual(link.operState, .unknown)
            }),
            ("4-byte address (a tunnel) is no MAC", nla(3, cString("gre1")) + nla(1, [10, 0, 0, 1]), { link in
                XCTAssertNil(link.mac)
            }),
            ("master 0 means none", nla(3, cString("x0")) + nla(10, u32(0)), { link in XCTAssertNil(link.master) }),
            ("unknown operstate", nla(3, cString("x0")) + nla(16, [42]), { link in XCTAssertEqual(link.operState, .unknown) }),
            ("unknown addrgenmode", nla(3, cString("x0")) + nla(26, nla(10, nla(8, [9]))), { link in
                XCTAssertNil(link.addrGenMode)
            }),
            ("name without NUL", nla(3, Array("abc".utf8)), { link in XCTAssertEqual(link.name, "abc") }),
            ("linkinfo without kind", nla(3, cString("x0")) + nla(18, nla(4, cString("bridge"))), { link in
                XCTAssertNil(link.kind, "a slave kind is not the device's kind")
            }),
        ]
        for (name, attributes, check) in rows {
            guard case .present(let link)? = try LinkCodec.decode(linkMessage(index: 3, attributes)) else {
                XCTFail(name); continue
            }
            check(link)
        }
    }

    func testDecodeDelLink() throws {
        let rows: [([UInt8], LinkMessage)] = [
            (nla(3, cString("vf0")), .removed(index: 7, name: "vf0", movedToNamespace: false)),
            ([], .removed(index: 7, name: nil, movedToNamespace: false)),
            (nla(3, cString("vf0")) + nla(45, i32(3)), .removed(index: 7, name: "vf0", movedToNamespace: true)),
            (nla(49, i32(12)), .removed(index: 7, name: nil, movedToNamespace: true)),
        ]
        for (attributes, expected) in rows {
            XCTAssertEqual(try LinkCodec.decode(linkMessage(type: 17, index: 7, attributes)), expected)
        }
    }

    func testDecodeLinkIgnoresOtherTypes() throws {
        for type: UInt16 in [2, 3, 18, 20, 36, 44] {
            XCTAssertNil(try LinkCodec.decode(linkMessage(type: type, index: 1, nla(3, cString("x")))), "type \(type)")
        }
    }

    // MARK: tc

    func testDecodeCapturedFilterDump() throws {
        let filters = try Captured.filterDump.flatMap { try NetlinkMessage.split($0) }.compactMap {
            try TrafficControlCodec.decodeFilter($0)
        }
        XCTAssertEqual(filters.count, 3, "NLMSG_DONE is not a filter")
        XCTAssertEqual(filters.map(\.device), [2, 2, 2])
        XCTAssertEqual(filters.map(\.hook), [.ingress, .ingress, .ingress])
        XCTAssertEqual(filters.map(\.priority), [20040, 20040, 20040])
        XCTAssertEqual(filters.map(\.kind), ["u32", "u32", "u32"])
        // The chain head and the u32 hash table 800: carry no action.
        XCTAssertNil(filters[0].redirect)
        XCTAssertNil(filters[1].redirect)
        XCTAssertTrue(filters[0].isOurHashTable && filters[1].isOurHashTable)
        XCTAssertFalse(filters[0].isOurs || filters[1].isOurs)
        // The filter 800::800 with the mirred action: 5 frames of 50 bytes went through.
        XCTAssertEqual(filters[2].redirect, RelayFilter(kind: .toIngress, target: 3,
                                                        counters: RelayCounters(packets: 5, bytes: 250)))
        XCTAssertEqual(filters[2].cookie, Array("hnagent1".utf8))
        XCTAssertTrue(filters[2].isOurs)
        XCTAssertFalse(filters[2].isOurHashTable)
        // Chain head, hash table 800:, filter 800::800: the delete names the filter's handle.
        XCTAssertEqual(filters.map(\.handle), [0, 0x8000_0000, 0x8000_0800])
        XCTAssertEqual(filters.map(\.protocolNumber), [0x0300, 0x0300, 0x0300])
    }

    /// A u32 filter with one mirred action as the kernel reports it, assembled by hand.
    private func filterMessage(device: Int32 = 3, parent: UInt32 = 0xFFFF_FFF3, priority: UInt16 = 20040,
                               kind: String = "u32", actionKind: String = "mirred", eaction: Int32 = 1, target: UInt32 = 2,
                               cookie: [UInt8]? = Array("hnagent1".utf8), stats: [UInt8]? = nil,
                               parms: [UInt8]? = nil, handle: UInt32 = 0x8000_0800) -> NetlinkMessage {
        let mirred = parms ?? (u32(1) + u32(0) + i32(4) + i32(1) + i32(1) + i32(eaction) + u32(target))
        var action = nla(1, cString(actionKind)) + nla(0x8000 | 2, nla(2, mirred))
        if let stats { action += nla(0x8000 | 4, stats) }
        if let cookie { action += nla(6, cookie) }
        let options = nla(11, u32(0x800_800))                            // TCA_U32_HASH (ignored)
            + nla(5, [1, 0, 1, 0] + zeros(28))                          // TCA_U32_SEL
            + nla(0x8000 | 7, nla(0x8000 | 1, action))                  // TCA_U32_ACT {1: action}
        let body = tcmsgBytes(ifindex: device, handle: handle, parent: parent,
                              info: UInt32(priority) << 16 | 0x0300)
            + nla(1, cString(kind)) + nla(11, u32(0)) + nla(0x8000 | 2, options)
        return try! NetlinkMessage.split(nlmsg(type: 44, flags: 2, seq: 1, body))[0]
    }

    func testDecodeFilterWithCookieAndStats() throws {
        let stats = nla(1, u64(123_456_789_012) + u32(4_000_000) + zeros(4))   // TCA_STATS_BASIC {bytes, packets, pad}
            + nla(3, zeros(20))                                                 // TCA_STATS_QUEUE (ignored)
        let filter = try XCTUnwrap(try TrafficControlCodec.decodeFilter(filterMessage(stats: stats)))
        XCTAssertEqual(filter, DumpedFilter(device: 3, hook: .egress, priority: 20040, handle: 0x8000_0800,
                                            protocolNumber: 0x0300, kind: "u32",
                                            redirect: RelayFilter(kind: .toEgress, target: 2,
                                                                  counters: RelayCounters(packets: 4_000_000, bytes: 123_456_789_012)),
                                            cookie: Array("hnagent1".utf8), actionIndex: 1))
        XCTAssertTrue(filter.isOurs)
    }

    func testDecodeFilterVariants() throws {
        // (name, message, hook, redirect kind/target or nil, cookie, isOurs, isOurHashTable)
        let rows: [(String, NetlinkMessage, Hook?, RelayFilter?, [UInt8]?, Bool, Bool)] = [
            ("ingress redirect", filterMessage(parent: 0xFFFF_FFF2, eaction: 3, target: 7), .ingress,
             RelayFilter(kind: .toIngress, target: 7), Array("hnagent1".utf8), true, false),
            ("someone else's prio", filterMessage(priority: 1), .egress,
             RelayFilter(kind: .toEgress, target: 2), Array("hnagent1".utf8), false, false),
            ("no cookie", filterMessage(cookie: nil), .egress, RelayFilter(kind: .toEgress, target: 2), nil, false, false),
            ("other cookie", filterMessage(cookie: [1, 2]), .egress, RelayFilter(kind: .toEgress, target: 2), [1, 2], false, false),
            // Marked as ours but not a redirect: NetlinkKernel counts it as foreign, so its clsact stays.
            ("mirror, not redirect", filterMessage(eaction: 2), .egress, nil, Array("hnagent1".utf8), true, false),
            // Another tool's u32 filter (a key handle) at the agent's priority is foreign, not a hash table.
            ("not mirred", filterMessage(actionKind: "gact"), .egress, nil, nil, false, false),
            // The chain head and hash tables at 20040 hold no filter of their own.
            ("chain head", filterMessage(actionKind: "gact", handle: 0), .egress, nil, nil, false, true),
            ("hash table", filterMessage(actionKind: "gact", handle: 0x8010_0000), .egress, nil, nil, false, true),
            ("hash table, other prio", filterMessage(priority: 7, actionKind: "gact", handle: 0x8010_0000), .egress,
             nil, nil, false, false),
            ("not mirred, other prio", filterMessage(priority: 7, actionKind: "gact"), .egress, nil, nil, false, false),
            ("not u32", filterMessage(kind: "bpf"), .egress, nil, nil, false, false),
            ("other parent", filterMessage(parent: 0x0001_0000), nil, RelayFilter(kind: .toEgress, target: 2),
             Array("hnagent1".utf8), true, false),
        ]
        for (name, message, hook, redirect, cookie, ours, table) in rows {
            let filter = try XCTUnwrap(try TrafficControlCodec.decodeFilter(message), name)
            XCTAssertEqual(filter.hook, hook, name)
            XCTAssertEqual(filter.redirect, redirect, name)
            XCTAssertEqual(filter.cookie, cookie, name)
            XCTAssertEqual(filter.isOurs, ours, name)
            XCTAssertEqual(filter.isOurHashTable, table, name)
        }
    }

    /// A matchall filter with the agent's mirred action as the kernel dumps it (TCA_MATCHALL_ACT,
    /// handle 1): ours, with its redirect and counters, and never a u32 container.
    private func matchallMessage(cookie: [UInt8]? = Array("hnagent1".utf8), priority: UInt16 = 20040) -> NetlinkMessage {
        let mirred = u32(1) + u32(0) + i32(4) + i32(1) + i32(1) + i32(1) + u32(2)
        var action = nla(1, cString("mirred")) + nla(0x8000 | 2, nla(2, mirred))
            + nla(0x8000 | 4, nla(1, u64(1500) + u32(10) + zeros(4)))
        if let cookie { action += nla(6, cookie) }
        let options = nla(3, u32(0)) + nla(0x8000 | 2, nla(0x8000 | 1, action))   // TCA_MATCHALL_FLAGS, _ACT
        let body = tcmsgBytes(ifindex: 3, handle: 1, parent: 0xFFFF_FFF3, info: UInt32(priority) << 16 | 0x0300)
            + nla(1, cString("matchall")) + nla(11, u32(0)) + nla(0x8000 | 2, options)
        return try! NetlinkMessage.split(nlmsg(type: 44, flags: 2, seq: 1, body))[0]
    }

    func testDecodeMatchallFilter() throws {
        let filter = try XCTUnwrap(try TrafficControlCodec.decodeFilter(matchallMessage()))
        XCTAssertEqual(filter, DumpedFilter(device: 3, hook: .egress, priority: 20040, handle: 1, protocolNumber: 0x0300,
                                            kind: "matchall",
                                            redirect: RelayFilter(kind: .toEgress, target: 2,
                                                                  counters: RelayCounters(packets: 10, bytes: 1500)),
                                            cookie: Array("hnagent1".utf8), actionIndex: 1))
        XCTAssertTrue(filter.isOurs)
        XCTAssertFalse(filter.isOurHashTable, "a matchall filter is no u32 container")
        let foreign = try XCTUnwrap(try TrafficControlCodec.decodeFilter(matchallMessage(cookie: nil)))
        XCTAssertFalse(foreign.isOurs, "another tool's matchall redirect at our priority is not ours")
    }

    /// What deleting the agent's redirect takes: a matchall filter goes with its priority, so no
    /// empty-container delete follows even when another u32 priority shares the hook.
    func testOwnFilterDeletionOfMatchall() throws {
        let ours = try XCTUnwrap(try TrafficControlCodec.decodeFilter(matchallMessage()))
        let foreign = try XCTUnwrap(try TrafficControlCodec.decodeFilter(matchallMessage(cookie: nil, priority: 20041)))
        let otherU32 = try XCTUnwrap(try TrafficControlCodec.decodeFilter(filterMessage(priority: 7, cookie: nil)))
        let deletion = OwnFilterDeletion(hook: [otherU32, ours, foreign])
        XCTAssertEqual(deletion.filters, [ours], "only the agent's filter, never another tool's")
        XCTAssertFalse(deletion.emptiesPriority)
        let u32Ours = try XCTUnwrap(try TrafficControlCodec.decodeFilter(filterMessage()))
        XCTAssertTrue(OwnFilterDeletion(hook: [otherU32, u32Ours]).emptiesPriority, "u32 still leaves its container")
    }

    func testDecodeFilterPacketCounterBeyond32Bits() throws {
        // Past 2^32 packets the kernel's gnet_stats_basic.packets (u32) is truncated and the real
        // count follows in TCA_STATS_PKT64 (gen_stats.c: "emit 64bit stats only if needed").
        let packets: UInt64 = 0x1_0000_0005
        let stats = nla(1, u64(9_000_000_000_000) + u32(UInt32(truncatingIfNeeded: packets)) + zeros(4))
            + nla(8, u64(packets))                                            // TCA_STATS_PKT64
        let filter = try XCTUnwrap(try TrafficControlCodec.decodeFilter(filterMessage(stats: stats)))
        XCTAssertEqual(filter.redirect?.counters, RelayCounters(packets: packets, bytes: 9_000_000_000_000))
    }

    func testDecodeCapturedQdiscDump() throws {
        let qdiscs = try Captured.qdiscDump.flatMap { try NetlinkMessage.split($0) }.compactMap {
            try TrafficControlCodec.decodeQdisc($0)
        }
        XCTAssertEqual(qdiscs.map(\.device), [2, 2, 3, 3, 5])
        XCTAssertEqual(qdiscs.map(\.kind), ["noqueue", "clsact", "noqueue", "clsact", "noqueue"])
        XCTAssertEqual(qdiscs.map(\.isClsact), [false, true, false, true, false])
        XCTAssertEqual(qdiscs[1].parent, 0xFFFF_FFF1)
    }

    func testQdiscIsClsactNeedsKindAndParent() throws {
        let rows: [(String, UInt32, Bool)] = [("clsact", 0xFFFF_FFF1, true), ("ingress", 0xFFFF_FFF1, false),
                                              ("clsact", 0xFFFF_FFFF, false)]
        for (kind, parent, expected) in rows {
            let body = tcmsgBytes(ifindex: 4, handle: 0xFFFF_0000, parent: parent) + nla(1, cString(kind))
            let message = try single(nlmsg(type: 36, flags: 2, seq: 1, body))
            XCTAssertEqual(try TrafficControlCodec.decodeQdisc(message)?.isClsact, expected, "\(kind) \(parent)")
        }
        XCTAssertNil(try TrafficControlCodec.decodeQdisc(try single(nlmsg(type: 44, flags: 0, seq: 1, tcmsgBytes(ifindex: 1, parent: 0)))))
        XCTAssertNil(try TrafficControlCodec.decodeFilter(try single(nlmsg(type: 36, flags: 0, seq: 1, tcmsgBytes(ifindex: 1, parent: 0)))))
    }

    // MARK: malformed

    func testMalformedInputsThrow() throws {
        let good = Captured.linkVx0
        let goodLink = try single(good)
        func link(_ payload: [UInt8], type: UInt16 = 16) -> NetlinkMessage {
            NetlinkMessage(type: type, flags: 0, sequence: 0, port: 0, payload: payload[...])
        }
        func tc(_ payload: [UInt8], type: UInt16) -> NetlinkMessage {
            NetlinkMessage(type: type, flags: 0, sequence: 0, port: 0, payload: payload[...])
        }
        // (name, what throws)
        let rows: [(String, () throws -> Void)] = [
            ("nlmsg_len below the header", { _ = try NetlinkMessage.split(u32(8) + u16(16) + u16(0) + u32(0) + u32(0)) }),
            ("nlmsg_len beyond the datagram", { _ = try NetlinkMessage.split(Array(good.prefix(100))) }),
            ("second message cut short", { _ = try NetlinkMessage.split(nlmsg(type: 3, flags: 0, seq: 0, i32(0))
                                                                       + u32(64) + u16(16) + u16(0) + u32(0) + u32(0)) }),
            ("ifinfomsg truncated", { _ = try LinkCodec.decode(link(Array(goodLink.payload.prefix(15)))) }),
            ("empty link payload", { _ = try LinkCodec.decode(link([])) }),
            ("dellink truncated", { _ = try LinkCodec.decode(link(zeros(7), type: 17)) }),
            ("ifindex zero", { _ = try LinkCodec.decode(link(ifinfomsgBytes(index: 0) + nla(3, cString("x")))) }),
            ("ifindex negative", { _ = try LinkCodec.decode(link(ifinfomsgBytes(index: -4) + nla(3, cString("x")))) }),
            ("ifindex zero in dellink", { _ = try LinkCodec.decode(link(ifinfomsgBytes(index: 0), type: 17)) }),
            ("newlink without a name", { _ = try LinkCodec.decode(link(ifinfomsgBytes(index: 3) + nla(4, u32(1500)))) }),
            // A name that is not UTF-8 is a valid link (testDecodeLinkWhoseNameIsNotUTF8).
            ("attribute length beyond buffer", { _ = try LinkCodec.decode(link(ifinfomsgBytes(index: 3) + u16(200) + u16(3) + cString("x0"))) }),
            ("attribute length below 4", { _ = try LinkCodec.decode(link(ifinfomsgBytes(index: 3) + u16(2) + u16(3) + zeros(4))) }),
            ("bad nest inside IFLA_LINKINFO", { _ = try LinkCodec.decode(link(ifinfomsgBytes(index: 3) + nla(3, cString("x"))
                                                                               + nla(18, u16(40) + u16(1) + zeros(4)))) }),
            ("bad nest inside IFLA_AF_SPEC", { _ = try LinkCodec.decode(link(ifinfomsgBytes(index: 3) + nla(3, cString("x"))
                                                                              + nla(26, nla(10, u16(99) + u16(8))))) }),
            ("tcmsg truncated (filter)", { _ = try TrafficControlCodec.decodeFilter(tc(zeros(19), type: 44)) }),
            ("tcmsg truncated (qdisc)", { _ = try TrafficControlCodec.decodeQdisc(tc(zeros(15), type: 36)) }),
            ("qdisc attribute beyond buffer", { _ = try TrafficControlCodec.decodeQdisc(tc(tcmsgBytes(ifindex: 1, parent: 0) + u16(50) + u16(1), type: 36)) }),
            ("tc_mirred shorter than 28 bytes", { _ = try TrafficControlCodec.decodeFilter(self.filterMessage(parms: zeros(24))) }),
            ("filter options beyond buffer", { _ = try TrafficControlCodec.decodeFilter(tc(tcmsgBytes(ifindex: 1, parent: 0)
                                                                                            + nla(1, cString("u32")) + nla(2, u16(80) + u16(7)), type: 44)) }),
        ]
        for (name, body) in rows {
            XCTAssertThrowsError(try body(), name) { error in
                XCTAssertTrue(error is MalformedMessage, "\(name): \(error)")
            }
        }
    }

    func testTrailingBytesShorterThanAHeaderAreIgnored() throws {
        // Fewer than 16 bytes cannot hold a header; split returns what precedes them.
        XCTAssertEqual(try NetlinkMessage.split(zeros(10)).count, 0)
        XCTAssertEqual(try NetlinkMessage.split(nlmsg(type: 3, flags: 0, seq: 1, i32(0)) + zeros(8)).count, 1)
        XCTAssertEqual(try NetlinkMessage.split([]).count, 0)
    }

    func testMalformedMessageDescription() {
        XCTAssertEqual(MalformedMessage("x").description, "malformed netlink message: x")
    }
}
