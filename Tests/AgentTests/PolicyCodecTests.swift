@testable import Netlink
@testable import NetlinkCodecs
import Policy
import XCTest

/// The requests and replies behind issue 4's policy: GSO limits, link mode, operational state
/// (rtnetlink), offload features (ethtool generic netlink), and the multicast table.
final class PolicyCodecTests: XCTestCase {
    private let nested: UInt16 = 0x8000
    private let ethtoolFamily: UInt16 = 21

    // MARK: rtnetlink

    func testSetGSOLimitsRequest() throws {
        // Same attributes as `ip link set dev hn0 gso_max_size 32768 gso_max_segs 64 gso_ipv4_max_size 32768`.
        let expected: [UInt8] =
            u32(56) + u16(16) + u16(0x0005) + u32(7) + u32(0)              // RTM_NEWLINK, REQUEST|ACK
            + u8(0) + u8(0) + u16(0) + i32(2) + u32(0) + u32(0)            // ifindex 2
            + nla(41, u32(32768))                                          // IFLA_GSO_MAX_SIZE
            + nla(40, u32(64))                                             // IFLA_GSO_MAX_SEGS
            + nla(63, u32(32768))                                          // IFLA_GSO_IPV4_MAX_SIZE
        let limits = GSOLimits(maxSize: 32768, maxSegs: 64, ipv4MaxSize: 32768)
        XCTAssertEqual(try LinkCodec.setGSOLimitsRequest(index: 2, limits: limits, sequence: 7), expected)
        let withoutIPv4 = GSOLimits(maxSize: 32768, maxSegs: 64)
        XCTAssertEqual(try LinkCodec.setGSOLimitsRequest(index: 2, limits: withoutIPv4, sequence: 7).count, 48,
                       "no IFLA_GSO_IPV4_MAX_SIZE where the kernel reports none")
    }

    func testSetLinkModeAndOperStateRequests() throws {
        let header = u8(0) + u8(0) + u16(0) + i32(2) + u32(0) + u32(0)
        XCTAssertEqual(try LinkCodec.setLinkModeRequest(index: 2, mode: .dormant, sequence: 1),
                       nlmsg(type: 16, flags: 0x0005, seq: 1, header + nla(17, [1])))   // IFLA_LINKMODE u8 1
        XCTAssertEqual(try LinkCodec.setOperStateRequest(index: 2, state: .dormant, sequence: 1),
                       nlmsg(type: 16, flags: 0x0005, seq: 1, header + nla(16, [5])))   // IFLA_OPERSTATE u8 5
        XCTAssertEqual(try LinkCodec.setOperStateRequest(index: 2, state: .up, sequence: 1),
                       nlmsg(type: 16, flags: 0x0005, seq: 1, header + nla(16, [6])))
    }

    // MARK: ethtool netlink

    func testFamilyRequestAndReply() throws {
        let expected = nlmsg(type: 0x10, flags: 0x0005, seq: 4,
                             u8(3) + u8(1) + u16(0) + nla(2, cString("ethtool")))  // CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME
        XCTAssertEqual(try EthtoolCodec.familyRequest(name: "ethtool", sequence: 4), expected)
        let reply = try NetlinkMessage.split(nlmsg(type: 0x10, flags: 0, seq: 4,
                                                   u8(1) + u8(2) + u16(0) + nla(2, cString("ethtool")) + nla(1, u16(21))))[0]
        XCTAssertEqual(try EthtoolCodec.decodeFamilyID(reply), 21)
    }

    func testFeaturesGetRequest() throws {
        let expected = nlmsg(type: ethtoolFamily, flags: 0x0005, seq: 9,
                             u8(11) + u8(1) + u16(0)                                 // ETHTOOL_MSG_FEATURES_GET, version 1
                             + nla(nested | 1, nla(1, u32(3))))                      // HEADER { DEV_INDEX 3 }
        XCTAssertEqual(try EthtoolCodec.featuresGetRequest(family: ethtoolFamily, device: 3, sequence: 9), expected)
    }

    func testFeaturesSetRequestListsOnlyTheChangedBitsWithAMask() throws {
        func bit(_ name: String, on: Bool) -> [UInt8] {
            nla(nested | 1, nla(2, cString(name)) + (on ? nla(3, []) : []))          // BITS_BIT { NAME, VALUE flag if on }
        }
        let expected = nlmsg(type: ethtoolFamily, flags: 0x0005, seq: 10,
                             u8(12) + u8(1) + u16(0)                                 // ETHTOOL_MSG_FEATURES_SET
                             + nla(nested | 1, nla(1, u32(3)) + nla(3, u32(2)))      // HEADER { DEV_INDEX 3, FLAGS OMIT_REPLY }
                             + nla(nested | 3,                                       // WANTED, no NOMASK: only these change
                                   nla(nested | 3, bit("rx-checksum", on: true) + bit("tx-tcp-segmentation", on: false))))
        XCTAssertEqual(try EthtoolCodec.featuresSetRequest(family: ethtoolFamily, device: 3,
                                                           changes: ["tx-tcp-segmentation": false, "rx-checksum": true],
                                                           sequence: 10), expected)
    }

    func testDecodeCapturedFeaturesReply() throws {
        let messages = try NetlinkMessage.split(Captured.featuresVf0TSOOff)
        XCTAssertEqual(messages.count, 1)
        let features = try XCTUnwrap(try EthtoolCodec.decodeFeatures(messages[0], family: ethtoolFamily))
        XCTAssertFalse(features.active.contains("tx-tcp-segmentation"), "tso was turned off")
        XCTAssertFalse(features.active.contains("tx-checksum-sctp"))
        XCTAssertFalse(features.wanted.contains("tx-tcp6-segmentation"))
        XCTAssertTrue(features.active.contains("tx-checksum-ip-generic"))
        XCTAssertTrue(features.active.contains("tx-scatter-gather"))
        XCTAssertTrue(features.changeable.contains("tx-tcp-segmentation"))
        XCTAssertFalse(features.changeable.contains("large-receive-offload"), "fixed off on veth")
        XCTAssertFalse(features.active.contains(""), "unused bits with empty names are skipped")
        XCTAssertNil(try EthtoolCodec.decodeFeatures(messages[0], family: ethtoolFamily + 1), "another family's message")
    }

    func testNoMaskBitsetListsOnlySetBits() throws {
        let bitset = NetlinkAttribute(type: 4, payload: ArraySlice(
            nla(1, []) + nla(2, u32(64))                                             // NOMASK, SIZE 64
            + nla(nested | 3, nla(nested | 1, nla(1, u32(0)) + nla(2, cString("tx-scatter-gather"))))))
        XCTAssertEqual(try EthtoolCodec.setBits(of: bitset), ["tx-scatter-gather"])
        let compact = NetlinkAttribute(type: 4, payload: ArraySlice(nla(2, u32(64)) + nla(4, u32(1)) + nla(5, u32(1))))
        XCTAssertThrowsError(try EthtoolCodec.setBits(of: compact), "names are needed; compact form is refused")
    }

    // MARK: multicast table

    func testMulticastTableParsesAndSkipsJunk() {
        let text = """
        2    hx1             1     0     333300000001
        3    hx0             1     0     01005e000001
        3    hx0             2     1     01005e010203
        3    hx0             1     0     3333ff0100zz
        3    hx0             1     0     01005e+1+2+3
        3    hx0             1     0     01005e-0-0-0
        bogus line
        0    lo              1     0     333300000001
        """
        let table = MulticastTableCodec.parse(text)
        XCTAssertEqual(table[3], [MACAddress("01:00:5e:00:00:01")!, MACAddress("01:00:5e:01:02:03")!])
        XCTAssertEqual(table[2], [MACAddress("33:33:00:00:00:01")!])
        XCTAssertNil(table[0])
        XCTAssertEqual(MulticastPolicy.memberships(table[3]!), [MACAddress("01:00:5e:01:02:03")!])
    }
}
