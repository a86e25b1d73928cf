@testable import Netlink
@testable import NetlinkCodecs
import CNetlink
import Glibc
import Policy
import XCTest

/// Every number the codecs spell out, checked against the uapi headers as CNetlink imports them.
final class ConstantsTests: XCTestCase {
    private func same<A: BinaryInteger, B: BinaryInteger>(_ ours: A, _ header: B, _ name: String,
                                                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Int64(ours), Int64(header), name, file: file, line: line)
    }

    func testMessageTypes() {
        same(RT.newLink, RTM_NEWLINK, "RTM_NEWLINK")
        same(RT.delLink, RTM_DELLINK, "RTM_DELLINK")
        same(RT.getLink, RTM_GETLINK, "RTM_GETLINK")
        same(RT.setLink, RTM_SETLINK, "RTM_SETLINK")
        same(RT.newQdisc, RTM_NEWQDISC, "RTM_NEWQDISC")
        same(RT.delQdisc, RTM_DELQDISC, "RTM_DELQDISC")
        same(RT.getQdisc, RTM_GETQDISC, "RTM_GETQDISC")
        same(RT.newFilter, RTM_NEWTFILTER, "RTM_NEWTFILTER")
        same(RT.delFilter, RTM_DELTFILTER, "RTM_DELTFILTER")
        same(RT.getFilter, RTM_GETTFILTER, "RTM_GETTFILTER")
        same(RT.newAction, RTM_NEWACTION, "RTM_NEWACTION")
        same(RT.getAction, RTM_GETACTION, "RTM_GETACTION")
        same(RT.newStats, RTM_NEWSTATS, "RTM_NEWSTATS")
        same(RT.getStats, RTM_GETSTATS, "RTM_GETSTATS")
        same(LinkStatsCodec.link64, IFLA_STATS_LINK_64, "IFLA_STATS_LINK_64")
        same(LinkStatsCodec.headerSize, MemoryLayout<if_stats_msg>.size, "sizeof(struct if_stats_msg)")
        same(NetlinkMessage.typeNoop, NLMSG_NOOP, "NLMSG_NOOP")
        same(NetlinkMessage.typeError, NLMSG_ERROR, "NLMSG_ERROR")
        same(NetlinkMessage.typeDone, NLMSG_DONE, "NLMSG_DONE")
        same(NetlinkMessage.typeOverrun, NLMSG_OVERRUN, "NLMSG_OVERRUN")
    }

    func testFlags() {
        same(NLM.request, NLM_F_REQUEST, "NLM_F_REQUEST")
        same(NLM.multi, NLM_F_MULTI, "NLM_F_MULTI")
        same(NLM.ack, NLM_F_ACK, "NLM_F_ACK")
        same(NLM.root, NLM_F_ROOT, "NLM_F_ROOT")
        same(NLM.match, NLM_F_MATCH, "NLM_F_MATCH")
        same(NLM.dump, NLM_F_DUMP, "NLM_F_DUMP")
        same(NLM.replace, NLM_F_REPLACE, "NLM_F_REPLACE")
        same(NLM.excl, NLM_F_EXCL, "NLM_F_EXCL")
        same(NLM.create, NLM_F_CREATE, "NLM_F_CREATE")
        same(NetlinkMessage.flagMulti, NLM_F_MULTI, "NLM_F_MULTI")
        same(NetlinkMessage.flagDumpInterrupted, NLM_F_DUMP_INTR, "NLM_F_DUMP_INTR")
        same(NetlinkMessage.flagAckTLVs, NLM_F_ACK_TLVS, "NLM_F_ACK_TLVS")
        same(NetlinkAttribute.typeMask, ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF, "NLA_TYPE_MASK")
        same(0x100, NLM_F_CAPPED, "NLM_F_CAPPED (literal in RequestChannel.checkAck)")
        same(1, NLMSGERR_ATTR_MSG.rawValue, "NLMSGERR_ATTR_MSG (literal in RequestChannel.checkAck)")
    }

    func testLinkAttributes() {
        same(IFLA.address, IFLA_ADDRESS, "IFLA_ADDRESS")
        same(IFLA.ifname, IFLA_IFNAME, "IFLA_IFNAME")
        same(IFLA.mtu, IFLA_MTU, "IFLA_MTU")
        same(IFLA.link, IFLA_LINK, "IFLA_LINK")
        same(IFLA.master, IFLA_MASTER, "IFLA_MASTER")
        same(IFLA.operstate, IFLA_OPERSTATE, "IFLA_OPERSTATE")
        same(IFLA.linkmode, IFLA_LINKMODE, "IFLA_LINKMODE")
        same(IFLA.linkinfo, IFLA_LINKINFO, "IFLA_LINKINFO")
        same(IFLA.afSpec, IFLA_AF_SPEC, "IFLA_AF_SPEC")
        same(IFLA.carrier, IFLA_CARRIER, "IFLA_CARRIER")
        same(IFLA.gsoMaxSegs, IFLA_GSO_MAX_SEGS, "IFLA_GSO_MAX_SEGS")
        same(IFLA.gsoMaxSize, IFLA_GSO_MAX_SIZE, "IFLA_GSO_MAX_SIZE")
        same(IFLA.newNetnsID, IFLA_NEW_NETNSID, "IFLA_NEW_NETNSID")
        same(IFLA.newIfindex, IFLA_NEW_IFINDEX, "IFLA_NEW_IFINDEX")
        same(IFLA.infoKind, IFLA_INFO_KIND, "IFLA_INFO_KIND")
        same(IFLA.infoSlaveKind, IFLA_INFO_SLAVE_KIND, "IFLA_INFO_SLAVE_KIND")
        same(IFLA.inet6AddrGenMode, IFLA_INET6_ADDR_GEN_MODE, "IFLA_INET6_ADDR_GEN_MODE")
        same(AF.unspec, AF_UNSPEC, "AF_UNSPEC")
        same(AF.inet6, AF_INET6, "AF_INET6")
    }

    func testPolicyValuesMatchHeaders() {
        same(LinkFlags.up.rawValue, IFF_UP, "IFF_UP")
        same(LinkFlags.broadcast.rawValue, IFF_BROADCAST, "IFF_BROADCAST")
        same(LinkFlags.loopback.rawValue, IFF_LOOPBACK, "IFF_LOOPBACK")
        same(LinkFlags.running.rawValue, IFF_RUNNING, "IFF_RUNNING")
        same(LinkFlags.promiscuous.rawValue, IFF_PROMISC, "IFF_PROMISC")
        same(LinkFlags.allMulticast.rawValue, IFF_ALLMULTI, "IFF_ALLMULTI")
        same(LinkFlags.master.rawValue, IFF_MASTER, "IFF_MASTER")
        same(LinkFlags.slave.rawValue, IFF_SLAVE, "IFF_SLAVE")
        same(LinkFlags.multicast.rawValue, IFF_MULTICAST, "IFF_MULTICAST")
        same(LinkFlags.lowerUp.rawValue, IFF_LOWER_UP.rawValue, "IFF_LOWER_UP")
        same(LinkFlags.dormant.rawValue, IFF_DORMANT.rawValue, "IFF_DORMANT")
        same(hardwareTypeEthernet, ARPHRD_ETHER, "ARPHRD_ETHER")
        same(AddrGenMode.eui64.rawValue, IN6_ADDR_GEN_MODE_EUI64.rawValue, "IN6_ADDR_GEN_MODE_EUI64")
        same(AddrGenMode.none.rawValue, IN6_ADDR_GEN_MODE_NONE.rawValue, "IN6_ADDR_GEN_MODE_NONE")
        same(AddrGenMode.stablePrivacy.rawValue, IN6_ADDR_GEN_MODE_STABLE_PRIVACY.rawValue, "IN6_ADDR_GEN_MODE_STABLE_PRIVACY")
        same(AddrGenMode.random.rawValue, IN6_ADDR_GEN_MODE_RANDOM.rawValue, "IN6_ADDR_GEN_MODE_RANDOM")
        same(OperState.up.rawValue, IF_OPER_UP, "IF_OPER_UP")
        same(OperState.lowerLayerDown.rawValue, IF_OPER_LOWERLAYERDOWN, "IF_OPER_LOWERLAYERDOWN")
        same(OperState.dormant.rawValue, IF_OPER_DORMANT, "IF_OPER_DORMANT")
    }

    func testTrafficControl() {
        same(TCA.kind, TCA_KIND, "TCA_KIND")
        same(TCA.options, TCA_OPTIONS, "TCA_OPTIONS")
        same(TCA.stats, TCA_STATS, "TCA_STATS")
        same(TCA.u32Sel, TCA_U32_SEL, "TCA_U32_SEL")
        same(TCA.u32Act, TCA_U32_ACT, "TCA_U32_ACT")
        same(TCA.actKind, TCA_ACT_KIND, "TCA_ACT_KIND")
        same(TCA.actOptions, TCA_ACT_OPTIONS, "TCA_ACT_OPTIONS")
        same(TCA.actStats, TCA_ACT_STATS, "TCA_ACT_STATS")
        same(TCA.actCookie, TCA_ACT_COOKIE, "TCA_ACT_COOKIE")
        same(TCA.mirredParms, TCA_MIRRED_PARMS, "TCA_MIRRED_PARMS")
        same(TCA.actTab, TCA_ROOT_TAB, "TCA_ACT_TAB (TCA_ROOT_TAB)")
        same(TCA.rootFlags, TCA_ROOT_FLAGS, "TCA_ROOT_FLAGS")
        same(TCA.flagLargeDump, TCA_FLAG_LARGE_DUMP_ON, "TCA_FLAG_LARGE_DUMP_ON")
        same(TCA.statsBasic, TCA_STATS_BASIC, "TCA_STATS_BASIC")
        same(TCHandle.clsact, TC_H_CLSACT, "TC_H_CLSACT")
        same(TCHandle.clsactHandle, hn_tc_h_make(TC_H_CLSACT, 0), "TC_H_MAJ(TC_H_CLSACT)")
        same(TCHandle.ingressHook, hn_tc_h_make(TC_H_CLSACT, UInt32(TC_H_MIN_INGRESS)), "TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)")
        same(TCHandle.egressHook, hn_tc_h_make(TC_H_CLSACT, UInt32(TC_H_MIN_EGRESS)), "TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)")
        same(Mirred.egressRedirect, TCA_EGRESS_REDIR, "TCA_EGRESS_REDIR")
        same(Mirred.ingressRedirect, TCA_INGRESS_REDIR, "TCA_INGRESS_REDIR")
        same(Mirred.actionStolen, TC_ACT_STOLEN, "TC_ACT_STOLEN")
        same(ethPAllNetworkOrder, UInt16(0x0003).bigEndian, "htons(ETH_P_ALL)")
        same(TrafficControlCodec.matchAllSelector[0], TC_U32_TERMINAL, "TC_U32_TERMINAL")
    }

    func testNewerThanTheHeaders() {
        // Not in Debian 12's uapi headers: the numbers follow the last ones those headers have.
        // After IFLA_TSO_MAX_SEGS (60) come IFLA_ALLMULTI (61), IFLA_DEVLINK_PORT (62), IFLA_GSO_IPV4_MAX_SIZE (63).
        same(IFLA.gsoIPv4MaxSize, Int(IFLA_TSO_MAX_SEGS) + 3, "IFLA_GSO_IPV4_MAX_SIZE")
        same(RTNLGroup.ipv4MulticastAddress, Int(RTNLGRP_STATS.rawValue) + 1, "RTNLGRP_IPV4_MCADDR follows RTNLGRP_STATS")
        same(RTNLGroup.ipv6MulticastAddress, Int(RTNLGRP_STATS.rawValue) + 2, "RTNLGRP_IPV6_MCADDR")
        // RTM_NEWMULTICAST / RTM_DELMULTICAST fill the two slots the headers leave before RTM_GETMULTICAST.
        same(RT.newMulticast, Int(RTM_GETMULTICAST) - 2, "RTM_NEWMULTICAST")
        same(RT.delMulticast, Int(RTM_GETMULTICAST) - 1, "RTM_DELMULTICAST")
    }

    func testLinkAttributesOfIssue4() {
        same(IFLA.stats64, IFLA_STATS64, "IFLA_STATS64")
        same(IFLA.tsoMaxSize, IFLA_TSO_MAX_SIZE, "IFLA_TSO_MAX_SIZE")
        same(IFLA.tsoMaxSegs, IFLA_TSO_MAX_SEGS, "IFLA_TSO_MAX_SEGS")
        same(RTNLGroup.link, RTNLGRP_LINK.rawValue, "RTNLGRP_LINK")
    }

    func testGenericNetlinkAndEthtool() {
        same(GENL.controllerID, GENL_ID_CTRL, "GENL_ID_CTRL")
        same(GENL.commandGetFamily, CTRL_CMD_GETFAMILY, "CTRL_CMD_GETFAMILY")
        same(GENL.attributeFamilyID, CTRL_ATTR_FAMILY_ID, "CTRL_ATTR_FAMILY_ID")
        same(GENL.attributeFamilyName, CTRL_ATTR_FAMILY_NAME, "CTRL_ATTR_FAMILY_NAME")
        same(GENL.headerSize, MemoryLayout<genlmsghdr>.size, "sizeof(struct genlmsghdr)")
        XCTAssertEqual(MemoryLayout<GenericHeader>.size, MemoryLayout<genlmsghdr>.size)
        same(ETHTOOL.version, ETHTOOL_GENL_VERSION, "ETHTOOL_GENL_VERSION")
        same(ETHTOOL.featuresGet, ETHTOOL_MSG_FEATURES_GET, "ETHTOOL_MSG_FEATURES_GET")
        same(ETHTOOL.featuresSet, ETHTOOL_MSG_FEATURES_SET, "ETHTOOL_MSG_FEATURES_SET")
        same(ETHTOOL.featuresGet, ETHTOOL_MSG_FEATURES_GET_REPLY, "ETHTOOL_MSG_FEATURES_GET_REPLY")
        same(ETHTOOL.featuresHeader, ETHTOOL_A_FEATURES_HEADER, "ETHTOOL_A_FEATURES_HEADER")
        same(ETHTOOL.featuresHW, ETHTOOL_A_FEATURES_HW, "ETHTOOL_A_FEATURES_HW")
        same(ETHTOOL.featuresWanted, ETHTOOL_A_FEATURES_WANTED, "ETHTOOL_A_FEATURES_WANTED")
        same(ETHTOOL.featuresActive, ETHTOOL_A_FEATURES_ACTIVE, "ETHTOOL_A_FEATURES_ACTIVE")
        same(ETHTOOL.featuresNoChange, ETHTOOL_A_FEATURES_NOCHANGE, "ETHTOOL_A_FEATURES_NOCHANGE")
        same(ETHTOOL.headerDevIndex, ETHTOOL_A_HEADER_DEV_INDEX, "ETHTOOL_A_HEADER_DEV_INDEX")
        same(ETHTOOL.headerFlags, ETHTOOL_A_HEADER_FLAGS, "ETHTOOL_A_HEADER_FLAGS")
        same(ETHTOOL.flagOmitReply, ETHTOOL_FLAG_OMIT_REPLY, "ETHTOOL_FLAG_OMIT_REPLY")
        same(ETHTOOL.bitsetNoMask, ETHTOOL_A_BITSET_NOMASK, "ETHTOOL_A_BITSET_NOMASK")
        same(ETHTOOL.bitsetBits, ETHTOOL_A_BITSET_BITS, "ETHTOOL_A_BITSET_BITS")
        same(ETHTOOL.bitsetValue, ETHTOOL_A_BITSET_VALUE, "ETHTOOL_A_BITSET_VALUE")
        same(ETHTOOL.bitsetBitsBit, ETHTOOL_A_BITSET_BITS_BIT, "ETHTOOL_A_BITSET_BITS_BIT")
        same(ETHTOOL.bitName, ETHTOOL_A_BITSET_BIT_NAME, "ETHTOOL_A_BITSET_BIT_NAME")
        same(ETHTOOL.bitValue, ETHTOOL_A_BITSET_BIT_VALUE, "ETHTOOL_A_BITSET_BIT_VALUE")
    }

    func testStructLayouts() {
        XCTAssertEqual(MemoryLayout<InterfaceInfoHeader>.size, MemoryLayout<ifinfomsg>.size)
        XCTAssertEqual(LinkCodec.headerSize, MemoryLayout<ifinfomsg>.size)
        XCTAssertEqual(MemoryLayout<TrafficControlHeader>.size, MemoryLayout<tcmsg>.size)
        XCTAssertEqual(TrafficControlCodec.headerSize, MemoryLayout<tcmsg>.size)
        XCTAssertEqual(MemoryLayout<MirredParameters>.size, MemoryLayout<tc_mirred>.size)
        XCTAssertEqual(NetlinkMessage.headerSize, MemoryLayout<nlmsghdr>.size)
        XCTAssertEqual(TrafficControlCodec.matchAllSelector.count,
                       MemoryLayout<tc_u32_sel>.size + MemoryLayout<tc_u32_key>.size, "one key")
        // Where decodeFilter reads tc_mirred's fields: fill a C struct and look at its bytes.
        var mirred = tc_mirred()
        mirred.action = 0x0A0B0C0D
        mirred.eaction = 0x11223344
        mirred.ifindex = 0x55667788
        let bytes = withUnsafeBytes(of: &mirred) { Array($0) }
        XCTAssertEqual(readU32(bytes, 8), 0x0A0B0C0D, "action at 8")
        XCTAssertEqual(readU32(bytes, 20), 0x11223344, "eaction at 20")
        XCTAssertEqual(readU32(bytes, 24), 0x55667788, "ifindex at 24")
        XCTAssertEqual(MemoryLayout<tc_u32_sel>.offset(of: \tc_u32_sel.nkeys), 2)
        XCTAssertEqual(MemoryLayout<gnet_stats_basic>.offset(of: \gnet_stats_basic.packets), 8, "packets at 8")
        XCTAssertEqual(MemoryLayout<tcmsg>.offset(of: \tcmsg.tcm_parent), 12)
        XCTAssertEqual(MemoryLayout<tcmsg>.offset(of: \tcmsg.tcm_info), 16)
        XCTAssertEqual(MemoryLayout<ifinfomsg>.offset(of: \ifinfomsg.ifi_index), 4)
    }
}
