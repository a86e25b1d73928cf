// Thin C shim for hnagent: the kernel uapi headers it needs, and small inline
// functions for what Swift cannot import (function-like macros, unions, variadic ioctl).
// No logic lives here: every function is one expression that exists only for Swift.
#ifndef HNAGENT_CNETLINK_SHIM_H
#define HNAGENT_CNETLINK_SHIM_H

// net/if.h before the uapi headers: glibc then tells linux/if.h not to redefine IFF_*.
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_arp.h>
#include <linux/if_addr.h>
#include <linux/pkt_sched.h>
#include <linux/pkt_cls.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/gen_stats.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/ethtool_netlink.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// ppoll(2) is declared only under _GNU_SOURCE, which Swift's Glibc module does not define; the
// system call is the same. poll() takes whole milliseconds, so a settle deadline would pass up to
// 1 ms late; ppoll takes a timespec (and, as the raw call, writes back the time left, which an
// EINTR retry then uses).
static inline int hn_ppoll(struct pollfd *fds, nfds_t count, struct timespec *timeout) {
    return (int)syscall(SYS_ppoll, fds, count, timeout, NULL, (size_t)8);
}

// TC_H_MAKE is a macro: builds a 32-bit tc handle from major and minor halves.
static inline uint32_t hn_tc_h_make(uint32_t major, uint32_t minor) {
    return TC_H_MAKE(major, minor);
}

// SIOCETHTOOL takes a struct ifreq whose ifr_data is a union member; Swift cannot name it
// portably, and ioctl is variadic, which Swift cannot call.
static inline int hn_ethtool_ioctl(int fd, const char *ifname, void *data) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    ifr.ifr_data = data;
    return ioctl(fd, SIOCETHTOOL, &ifr);
}

#endif
