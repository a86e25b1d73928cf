/// rtnetlink numbers from the uapi headers (linux/rtnetlink.h, if_link.h, pkt_cls.h, ...).
/// Spelled out here so codecs read as data and golden tests can check them against the headers
/// (AgentTests/ConstantsTests compares each with CNetlink's import). Newer than Debian 12's
/// headers are marked so.
public enum RT {
    static let newLink: UInt16 = 16, delLink: UInt16 = 17, getLink: UInt16 = 18, setLink: UInt16 = 19
    static let newQdisc: UInt16 = 36, delQdisc: UInt16 = 37, getQdisc: UInt16 = 38
    static let newFilter: UInt16 = 44, delFilter: UInt16 = 45, getFilter: UInt16 = 46
    static let newAction: UInt16 = 48, getAction: UInt16 = 50
    static let newStats: UInt16 = 92, getStats: UInt16 = 94
    /// RTM_NEWMULTICAST / RTM_DELMULTICAST notifications (kernel 6.11+): newer than Debian 12's headers.
    public static let newMulticast: UInt16 = 56, delMulticast: UInt16 = 57

    /// What RTNLGRP_TC carries: qdiscs, classes, filters (36-47), actions (48-51), chains (100-102).
    public static func isTrafficControl(_ type: UInt16) -> Bool {
        (36...51).contains(type) || (100...102).contains(type)
    }
}

/// rtnetlink multicast groups (enum rtnetlink_groups). The MCADDR groups (kernel 6.11+) are
/// newer than Debian 12's headers.
public enum RTNLGroup {
    static let link: UInt32 = 1
    /// RTNLGRP_TC: qdisc, filter and action changes (another tool's filter before the relay's).
    public static let trafficControl: UInt32 = 4
    public static let ipv4MulticastAddress: UInt32 = 37
    public static let ipv6MulticastAddress: UInt32 = 38
}

enum NLM {
    static let request: UInt16 = 0x1, multi: UInt16 = 0x2, ack: UInt16 = 0x4
    static let root: UInt16 = 0x100, match: UInt16 = 0x200
    static let dump: UInt16 = root | match
    static let replace: UInt16 = 0x100, excl: UInt16 = 0x200, create: UInt16 = 0x400
}

enum IFLA {
    static let address: UInt16 = 1, ifname: UInt16 = 3, mtu: UInt16 = 4, link: UInt16 = 5
    static let master: UInt16 = 10, operstate: UInt16 = 16, linkmode: UInt16 = 17
    static let stats64: UInt16 = 23
    static let linkinfo: UInt16 = 18, afSpec: UInt16 = 26, carrier: UInt16 = 33
    static let gsoMaxSegs: UInt16 = 40, gsoMaxSize: UInt16 = 41
    static let tsoMaxSize: UInt16 = 59, tsoMaxSegs: UInt16 = 60
    /// IFLA_GSO_IPV4_MAX_SIZE (kernel 6.3): newer than Debian 12's headers.
    static let gsoIPv4MaxSize: UInt16 = 63
    static let newNetnsID: UInt16 = 45, newIfindex: UInt16 = 49
    static let infoKind: UInt16 = 1, infoSlaveKind: UInt16 = 4
    static let inet6AddrGenMode: UInt16 = 8
}

enum AF {
    static let unspec: UInt8 = 0
    static let inet6: UInt16 = 10
}

enum TCA {
    static let kind: UInt16 = 1, options: UInt16 = 2, stats: UInt16 = 3, chain: UInt16 = 11
    static let matchallAct: UInt16 = 2 // TCA_MATCHALL_ACT
    static let u32Sel: UInt16 = 5, u32Act: UInt16 = 7
    static let actKind: UInt16 = 1, actOptions: UInt16 = 2, actStats: UInt16 = 4, actCookie: UInt16 = 6
    static let mirredParms: UInt16 = 2
    static let statsBasic: UInt16 = 1, statsPackets64: UInt16 = 8
    /// Action dumps (RTM_GETACTION): TCA_ACT_TAB, TCA_ROOT_FLAGS and its TCA_FLAG_LARGE_DUMP_ON.
    static let actTab: UInt16 = 1, rootFlags: UInt16 = 2
    static let flagLargeDump: UInt32 = 1
}

enum TCHandle {
    /// TC_H_CLSACT (== TC_H_INGRESS): the clsact qdisc's parent and major handle.
    static let clsact: UInt32 = 0xFFFF_FFF1
    static let clsactHandle: UInt32 = 0xFFFF_0000
    /// TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS) and (.., TC_H_MIN_EGRESS).
    static let ingressHook: UInt32 = 0xFFFF_FFF2
    static let egressHook: UInt32 = 0xFFFF_FFF3
}

enum Mirred {
    static let egressRedirect: Int32 = 1   // TCA_EGRESS_REDIR
    static let ingressRedirect: Int32 = 3  // TCA_INGRESS_REDIR
    static let actionStolen: Int32 = 4     // TC_ACT_STOLEN
}

/// ETH_P_ALL in network byte order, as tcm_info's low 16 bits carry it.
let ethPAllNetworkOrder: UInt16 = UInt16(0x0003).bigEndian
