@testable import NetlinkCodecs
import Policy
import XCTest

/// Requests byte for byte. Expected bytes are assembled here field by field (host byte order,
/// little-endian on the machines this runs on), and the tc requests are also compared with
/// what iproute2 sends for the same command (`Captured`).
final class CodecGoldenTests: XCTestCase {
    /// NLA_F_NESTED: MessageBuilder sets it on every nest, as libmnl did (iproute2 sets it only on
    /// some); kernels accept both for these attributes.
    private let nested: UInt16 = 0x8000

    // MARK: links

    func testLinkDumpRequest() throws {
        let expected: [UInt8] =
            u32(32) + u16(18) + u16(0x0301) + u32(0x0A0B_0C0D) + u32(0)   // nlmsghdr: len, RTM_GETLINK, REQUEST|ROOT|MATCH, seq, pid
            + u8(0) + u8(0) + u16(0) + i32(0) + u32(0) + u32(0)            // ifinfomsg: AF_UNSPEC, pad, type, index 0, flags, change
        XCTAssertEqual(try LinkCodec.dumpRequest(sequence: 0x0A0B_0C0D), expected)
    }

    func testLinkGetRequest() throws {
        let expected: [UInt8] =
            u32(32) + u16(18) + u16(0x0005) + u32(9) + u32(0)              // RTM_GETLINK, REQUEST|ACK
            + u8(0) + u8(0) + u16(0) + i32(7) + u32(0) + u32(0)            // ifindex 7
        XCTAssertEqual(try LinkCodec.getRequest(index: 7, sequence: 9), expected)
    }

    func testSetAdminStateRequest() throws {
        // Same shape as `ip link set dev vf0 up|down`: only IFF_UP in ifi_change.
        for (up, flags) in [(true, UInt32(1)), (false, UInt32(0))] {
            let expected: [UInt8] =
                u32(32) + u16(16) + u16(0x0005) + u32(42) + u32(0)         // RTM_NEWLINK, REQUEST|ACK
                + u8(0) + u8(0) + u16(0) + i32(5)                          // AF_UNSPEC, ifindex 5
                + u32(flags)                                               // ifi_flags: IFF_UP or 0
                + u32(1)                                                   // ifi_change: IFF_UP only
            XCTAssertEqual(try LinkCodec.setAdminStateRequest(index: 5, up: up, sequence: 42), expected, "up=\(up)")
        }
    }

    func testSetAddrGenModeRequest() throws {
        // Same as `ip link set dev vf0 addrgenmode none`.
        let table: [(AddrGenMode, UInt8)] = [(.none, 1), (.eui64, 0), (.stablePrivacy, 2), (.random, 3)]
        for (mode, raw) in table {
            let expected: [UInt8] =
                u32(48) + u16(16) + u16(0x0005) + u32(3) + u32(0)          // RTM_NEWLINK, REQUEST|ACK
                + u8(0) + u8(0) + u16(0) + i32(6) + u32(0) + u32(0)        // ifindex 6, no flag change
                + u16(16) + u16(nested | 26)                               // IFLA_AF_SPEC, 16 bytes
                + u16(12) + u16(nested | 10)                               //   AF_INET6, 12 bytes
                + u16(5) + u16(8) + [raw, 0, 0, 0]                         //     IFLA_INET6_ADDR_GEN_MODE u8 + 3 pad
            XCTAssertEqual(try LinkCodec.setAddrGenModeRequest(index: 6, mode: mode, sequence: 3), expected, "\(mode)")
        }
    }

    // MARK: qdiscs

    func testAddClsactRequest() throws {
        let expected: [UInt8] =
            u32(48) + u16(36) + u16(0x0605) + u32(11) + u32(0)   // RTM_NEWQDISC, REQUEST|ACK|EXCL|CREATE
            + u8(0) + u8(0) + u16(0) + i32(2)                    // tcmsg: AF_UNSPEC, pads, ifindex 2
            + u32(0xFFFF_0000)                                   //   tcm_handle ffff:0
            + u32(0xFFFF_FFF1)                                   //   tcm_parent TC_H_CLSACT
            + u32(0)                                             //   tcm_info
            + u16(11) + u16(1) + cString("clsact") + [0]         // TCA_KIND "clsact\0" + 1 pad
        XCTAssertEqual(try TrafficControlCodec.addClsactRequest(device: 2, sequence: 11), expected)
    }

    func testAddClsactMatchesIproute2Exactly() throws {
        let captured = Captured.tcQdiscAddClsact
        let ours = try TrafficControlCodec.addClsactRequest(device: InterfaceIndex(Int32(readU32(captured, 20))),
                                                            sequence: readU32(captured, 8))
        XCTAssertEqual(ours, captured)
    }

    func testDeleteClsactRequest() throws {
        // As `tc qdisc del dev hn0 clsact` sends it.
        let expected: [UInt8] =
            u32(48) + u16(37) + u16(0x0005) + u32(12) + u32(0)   // RTM_DELQDISC, REQUEST|ACK
            + u8(0) + u8(0) + u16(0) + i32(3)                    // ifindex 3
            + u32(0xFFFF_0000) + u32(0xFFFF_FFF1) + u32(0)       // handle ffff:0, parent clsact, info
            + u16(11) + u16(1) + cString("clsact") + [0]         // TCA_KIND "clsact"
        XCTAssertEqual(try TrafficControlCodec.deleteClsactRequest(device: 3, sequence: 12), expected)
    }

    func testDumpQdiscsRequest() throws {
        let expected: [UInt8] = u32(36) + u16(38) + u16(0x0301) + u32(13) + u32(0)  // RTM_GETQDISC, REQUEST|DUMP
            + zeros(20)                                                              // tcmsg all zero
        XCTAssertEqual(try TrafficControlCodec.dumpQdiscsRequest(sequence: 13), expected)
    }

    // MARK: filters

    /// The agent's relay filter, spelled out: u32 match-all with one mirred action and the cookie.
    private func expectedRedirect(device: Int32, parent: UInt32, eaction: Int32, target: UInt32, seq: UInt32) -> [UInt8] {
        let selector: [UInt8] =
            [1, 0, 1, 0]                        // tc_u32_sel: flags TC_U32_TERMINAL, offshift 0, nkeys 1, pad
            + u16(0) + u16(0) + u16(0) + u16(0) //   offmask, off, offoff, hoff
            + u32(0)                            //   hmask
            + u32(0) + u32(0) + i32(0) + i32(0) //   key: mask 0, val 0, off 0, offmask 0 -> matches everything
        let parms: [UInt8] =
            u32(0) + u32(0)                     // tc_mirred: index, capab
            + i32(4)                            //   action TC_ACT_STOLEN
            + i32(0) + i32(0)                   //   refcnt, bindcnt
            + i32(eaction)                      //   eaction
            + u32(target)                       //   ifindex
        let action: [UInt8] =
            u16(11) + u16(1) + cString("mirred") + [0]      // TCA_ACT_KIND "mirred\0" + pad
            + u16(36) + u16(nested | 2)                     // TCA_ACT_OPTIONS
            + u16(32) + u16(2) + parms                      //   TCA_MIRRED_PARMS
            + u16(12) + u16(6) + Array("hnagent1".utf8)     // TCA_ACT_COOKIE
        let options: [UInt8] =
            u16(36) + u16(5) + selector                     // TCA_U32_SEL
            + u16(68) + u16(nested | 7)                     // TCA_U32_ACT
            + u16(64) + u16(nested | 1) + action            //   action #1
        return u32(152) + u16(44) + u16(0x0605) + u32(seq) + u32(0)   // RTM_NEWTFILTER, REQUEST|ACK|EXCL|CREATE
            + u8(0) + u8(0) + u16(0) + i32(device)                   // tcmsg: ifindex
            + u32(0)                                                 //   handle: kernel picks
            + u32(parent)                                            //   parent: clsact hook
            + u32(0x4E48_0300)                                       //   info: prio 20040 << 16 | htons(ETH_P_ALL)
            + u16(8) + u16(1) + cString("u32")                       // TCA_KIND "u32"
            + u16(108) + u16(nested | 2) + options                   // TCA_OPTIONS
    }

    func testAddRedirectRequests() throws {
        XCTAssertEqual(try TrafficControlCodec.addRedirectRequest(device: 2, hook: .ingress, kind: .toIngress, target: 3, sequence: 21),
                       expectedRedirect(device: 2, parent: 0xFFFF_FFF2, eaction: 3, target: 3, seq: 21),
                       "vf0 ingress -> mirred ingress redirect to hn0")
        XCTAssertEqual(try TrafficControlCodec.addRedirectRequest(device: 3, hook: .egress, kind: .toEgress, target: 2, sequence: 22),
                       expectedRedirect(device: 3, parent: 0xFFFF_FFF3, eaction: 1, target: 2, seq: 22),
                       "hn0 egress -> mirred egress redirect to vf0")
    }

    /// The matchall relay: the same mirred action and cookie as u32's, under TCA_MATCHALL_ACT,
    /// without a selector. `tc filter add dev D HOOK prio 20040 protocol all matchall action
    /// mirred ... redirect dev T cookie 686e6167656e7431`.
    private func expectedMatchallRedirect(device: Int32, parent: UInt32, eaction: Int32, target: UInt32, seq: UInt32) -> [UInt8] {
        let parms: [UInt8] = u32(0) + u32(0) + i32(4) + i32(0) + i32(0) + i32(eaction) + u32(target)
        let action: [UInt8] =
            u16(11) + u16(1) + cString("mirred") + [0]      // TCA_ACT_KIND "mirred\0" + pad
            + u16(36) + u16(nested | 2)                     // TCA_ACT_OPTIONS
            + u16(32) + u16(2) + parms                      //   TCA_MIRRED_PARMS
            + u16(12) + u16(6) + Array("hnagent1".utf8)     // TCA_ACT_COOKIE
        return u32(124) + u16(44) + u16(0x0605) + u32(seq) + u32(0)   // RTM_NEWTFILTER, REQUEST|ACK|EXCL|CREATE
            + u8(0) + u8(0) + u16(0) + i32(device) + u32(0) + u32(parent) + u32(0x4E48_0300)
            + u16(13) + u16(1) + cString("matchall") + zeros(3)      // TCA_KIND "matchall" + pad
            + u16(72) + u16(nested | 2)                              // TCA_OPTIONS
            + u16(68) + u16(nested | 2)                              //   TCA_MATCHALL_ACT
            + u16(64) + u16(nested | 1) + action                     //     action #1
    }

    func testAddMatchallRedirectRequests() throws {
        XCTAssertEqual(try TrafficControlCodec.addRedirectRequest(device: 2, hook: .ingress, kind: .toIngress, target: 3,
                                                                  classifier: .matchall, sequence: 23),
                       expectedMatchallRedirect(device: 2, parent: 0xFFFF_FFF2, eaction: 3, target: 3, seq: 23))
        XCTAssertEqual(try TrafficControlCodec.addRedirectRequest(device: 3, hook: .egress, kind: .toEgress, target: 2,
                                                                  classifier: .matchall, sequence: 24),
                       expectedMatchallRedirect(device: 3, parent: 0xFFFF_FFF3, eaction: 1, target: 2, seq: 24))
        XCTAssertEqual(try TrafficControlCodec.addRedirectRequest(device: 3, hook: .egress, kind: .toEgress, target: 2,
                                                                  classifier: .u32, sequence: 22),
                       expectedRedirect(device: 3, parent: 0xFFFF_FFF3, eaction: 1, target: 2, seq: 22), "u32 unchanged")
    }

    /// `tc filter del dev hn0 egress prio 20040 protocol all handle 1 matchall`: kind and priority
    /// named, so tc_del_tfilter takes no RTNL (clsact is DOIT_UNLOCKED, matchall is unlocked).
    func testDeleteMatchallFilterRequest() throws {
        let expected: [UInt8] =
            u32(52) + u16(45) + u16(0x0005) + u32(43) + u32(0)    // RTM_DELTFILTER, REQUEST|ACK
            + u8(0) + u8(0) + u16(0) + i32(3)
            + u32(1) + u32(0xFFFF_FFF3) + u32(0x4E48_0300)        // handle 1, egress, prio 20040 / all
            + u16(13) + u16(1) + cString("matchall") + zeros(3)   // TCA_KIND "matchall"
        let filter = DumpedFilter(device: 3, hook: .egress, priority: 20040, handle: 1, protocolNumber: 0x0300, kind: "matchall")
        XCTAssertEqual(try TrafficControlCodec.deleteFilterRequest(filter, sequence: 43), expected)
    }

    /// The start-up probe: a matchall filter without action in chain 0x484E of lo's ingress
    /// (nothing jumps there), and its delete by chain, kind and priority.
    func testMatchallProbeRequests() throws {
        let head: (UInt16, UInt16, UInt32) -> [UInt8] = { type, flags, length in
            u32(length) + u16(type) + u16(flags) + u32(7) + u32(0)
                + u8(0) + u8(0) + u16(0) + i32(1) + u32(0) + u32(0xFFFF_FFF2) + u32(0x4E48_0300)
                + u16(13) + u16(1) + cString("matchall") + zeros(3)
                + u16(8) + u16(11) + u32(0x484E)                  // TCA_CHAIN
        }
        XCTAssertEqual(try TrafficControlCodec.addProbeFilterRequest(device: 1, classifier: .matchall, sequence: 7),
                       head(44, 0x0605, 64) + u16(4) + u16(nested | 2))   // empty TCA_OPTIONS
        XCTAssertEqual(try TrafficControlCodec.deleteProbeFilterRequest(device: 1, classifier: .matchall, sequence: 7),
                       head(45, 0x0005, 60))
    }

    /// Same meaning as iproute2's request: identical headers and attribute values; only the
    /// order of TCA_U32_SEL/TCA_U32_ACT and iproute2's NLA_F_NESTED on TCA_ACT_OPTIONS differ.
    func testAddRedirectMeansWhatIproute2Sends() throws {
        let isNest: ([UInt16]) -> Bool = { path in
            switch path.count {
            case 1: return path == [2]                                  // TCA_OPTIONS
            case 2: return path == [2, 7]                               // TCA_U32_ACT
            case 3: return path.starts(with: [2, 7])                    // action slot
            case 4: return path.starts(with: [2, 7]) && path[3] == 2    // TCA_ACT_OPTIONS
            default: return false
            }
        }
        let cases: [([UInt8], Int32, Hook, RedirectKind, Int32)] = [
            (Captured.tcFilterAddIngress, 2, .ingress, .toIngress, 3),
            (Captured.tcFilterAddEgress, 3, .egress, .toEgress, 2),
        ]
        for (captured, device, hook, kind, target) in cases {
            let ours = try TrafficControlCodec.addRedirectRequest(device: InterfaceIndex(device), hook: hook, kind: kind,
                                                                  target: InterfaceIndex(target), sequence: readU32(captured, 8))
            XCTAssertEqual(ours.count, captured.count, "\(hook)")
            XCTAssertEqual(Array(ours[0..<16]), Array(captured[0..<16]), "nlmsghdr, \(hook)")
            XCTAssertEqual(Array(ours[16..<36]), Array(captured[16..<36]), "tcmsg, \(hook)")
            let oursTree = AttributeTree.parse(ours[36...], isNest: isNest)
            let theirs = AttributeTree.parse(captured[36...], isNest: isNest)
            XCTAssertEqual(oursTree, theirs, "\(hook)")
            // Sanity of the comparison itself: the trees really contain the mirred parameters.
            XCTAssertTrue(oursTree.description.contains("mirred".utf8.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()))
        }
    }

    func testDumpFiltersRequest() throws {
        // As `tc filter show dev vf0 ingress`.
        for (hook, parent) in [(Hook.ingress, UInt32(0xFFFF_FFF2)), (.egress, 0xFFFF_FFF3)] {
            let expected: [UInt8] =
                u32(36) + u16(46) + u16(0x0301) + u32(31) + u32(0)   // RTM_GETTFILTER, REQUEST|DUMP
                + u8(0) + u8(0) + u16(0) + i32(2)                    // ifindex 2
                + u32(0) + u32(parent) + u32(0)                      // handle, hook, info 0 (all)
            XCTAssertEqual(try TrafficControlCodec.dumpFiltersRequest(device: 2, hook: hook, sequence: 31), expected, "\(hook)")
        }
    }

    /// Issue 11 item 4: one filter, named by handle, kind and priority (never the whole priority).
    /// Byte for byte what iproute2 sends for
    /// `tc filter del dev hn0 egress prio 20040 protocol all handle 800::800 u32` (hn0 = ifindex 3).
    func testDeleteOwnFilterRequestMatchesIproute2() throws {
        let iproute2 = hexBytes(
            "2c0000002d0005001a51146b00000000000000000300000000080080f3ffffff",
            "0003484e0800010075333200")
        let filter = DumpedFilter(device: 3, hook: .egress, priority: 20040, handle: 0x8000_0800, protocolNumber: 0x0300,
                                  kind: "u32")
        XCTAssertEqual(try TrafficControlCodec.deleteFilterRequest(filter, sequence: 0x6b14_511a), iproute2)
        let spelled: [UInt8] =
            u32(44) + u16(45) + u16(0x0005) + u32(41) + u32(0)    // RTM_DELTFILTER, REQUEST|ACK
            + u8(0) + u8(0) + u16(0) + i32(2)                     // ifindex 2
            + u32(0x8000_0801)                                    //   handle 800::801 (as observed)
            + u32(0xFFFF_FFF2)                                    //   parent: clsact ingress
            + u32(0x4E48_0300)                                    //   info: prio 20040 << 16 | htons(ETH_P_ALL)
            + u16(8) + u16(1) + cString("u32")                    // TCA_KIND "u32": the kernel checks it
        let other = DumpedFilter(device: 2, hook: .ingress, priority: 20040, handle: 0x8000_0801, protocolNumber: 0x0300,
                                 kind: "u32")
        XCTAssertEqual(try TrafficControlCodec.deleteFilterRequest(other, sequence: 41), spelled)
        XCTAssertThrowsError(try TrafficControlCodec.deleteFilterRequest(
            DumpedFilter(device: 2, hook: nil, priority: 20040, handle: 0x8000_0801, protocolNumber: 0x0300, kind: "u32"),
            sequence: 1), "a filter on no clsact hook is not the agent's to delete")
    }

    /// The empty u32 container the kernel leaves at the agent's priority when another u32
    /// priority shares the hook: handle 0, kind u32, protocol all.
    func testDeleteEmptyRelayPriorityRequest() throws {
        let expected: [UInt8] =
            u32(44) + u16(45) + u16(0x0005) + u32(42) + u32(0)
            + u8(0) + u8(0) + u16(0) + i32(3)
            + u32(0) + u32(0xFFFF_FFF3) + u32(0x4E48_0300)
            + u16(8) + u16(1) + cString("u32")
        XCTAssertEqual(try TrafficControlCodec.deleteEmptyRelayPriorityRequest(device: 3, hook: .egress, sequence: 42), expected)
    }

    func testRelayIdentity() {
        XCTAssertEqual(RelayIdentity.priority, 0x4E48, "ASCII NH")
        XCTAssertEqual(RelayIdentity.cookie, [0x68, 0x6e, 0x61, 0x67, 0x65, 0x6e, 0x74, 0x31])
        XCTAssertEqual(TrafficControlCodec.relayInfo, 0x4E48_0300)
    }
}
