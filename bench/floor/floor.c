/*
 * floor: the least a user-space relay can do when its VF goes away. A comparison for
 * scripts/bench, not part of hnagent.
 *
 *   floor --synthetic HN --vf VF
 *
 * It installs the same relay as bench/baseline/tc-relay-loop (clsact, u32 match-all, mirred,
 * pref 20040) with `tc`, then waits on rtnetlink link events. On the first sign that the VF
 * is down, lost carrier or is gone, it sends ONE request built at start: RTM_DELTFILTER of
 * HN's egress priority 20040 (kind u32, protocol all). Nothing is parsed beyond the
 * ifinfomsg header of each event until that request is sent; nothing is logged before it.
 * When a VF of that name is back, up with carrier, it installs the relay again, so the
 * benchmark can repeat the cycle. SIGTERM/SIGINT remove both filters.
 *
 * Log lines on stderr, in the baseline's format (scripts/bench reads switch_ms from them):
 *   ready: synthetic=hn0 vf=vf0 steering=1
 *   fallback synthetic=hn0 vf=vf0 switch_ms=0.052
 *   steering on synthetic=hn0 vf=vf0 switch_ms=6.3
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PREF 20040
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; net/if.h does not define it */
#endif

static const char *hn, *vf;
static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The one request of the fast path, built once: `tc filter del dev HN egress pref 20040
 * protocol all u32`. Kind and priority are named, as a careful relay would. */
static struct {
    struct nlmsghdr nh;
    struct tcmsg tc;
    struct rtattr kind_attr;
    char kind[4];
} del_req;

static void build_delete(int hn_index)
{
    del_req.nh.nlmsg_len = sizeof del_req;
    del_req.nh.nlmsg_type = RTM_DELTFILTER;
    del_req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    del_req.tc.tcm_family = AF_UNSPEC;
    del_req.tc.tcm_ifindex = hn_index;
    del_req.tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS);
    del_req.tc.tcm_info = TC_H_MAKE((uint32_t)PREF << 16, htons(ETH_P_ALL));
    del_req.kind_attr.rta_len = RTA_LENGTH(sizeof del_req.kind);
    del_req.kind_attr.rta_type = TCA_KIND;
    memcpy(del_req.kind, "u32", 4);
}

/* Installing is not the measured path: plain tc, exactly the baseline's commands. */
static int install(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "tc qdisc add dev %1$s clsact 2>/dev/null;"
             "tc filter replace dev %1$s ingress pref %3$d protocol all u32 match u32 0 0"
             " action mirred ingress redirect dev %2$s &&"
             "{ tc qdisc add dev %2$s clsact 2>/dev/null;"
             "  tc filter replace dev %2$s egress pref %3$d protocol all u32 match u32 0 0"
             " action mirred egress redirect dev %1$s; }",
             vf, hn, PREF);
    return system(cmd) == 0;
}

static void uninstall(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "tc filter del dev %s egress pref %d 2>/dev/null; tc filter del dev %s ingress pref %d 2>/dev/null",
             hn, PREF, vf, PREF);
    if (system(cmd) != 0) { /* already gone: nothing to undo */ }
}

/* Admin up and carrier, from the ifinfomsg flags alone. */
static int usable(unsigned flags) { return (flags & IFF_UP) && (flags & IFF_LOWER_UP); }

/* The VF's name from IFLA_IFNAME: needed only to recognise a VF that came back. */
static int is_vf(struct nlmsghdr *nh)
{
    struct ifinfomsg *ifi = NLMSG_DATA(nh);
    int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifi);
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFLA_IFNAME) return strcmp(RTA_DATA(a), vf) == 0;
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--synthetic") == 0) hn = argv[i + 1];
        else if (strcmp(argv[i], "--vf") == 0) vf = argv[i + 1];
    }
    if (!hn || !vf) {
        fprintf(stderr, "usage: floor --synthetic HN --vf VF (interface names)\n");
        return 64;
    }
    int hn_index = (int)if_nametoindex(hn);
    if (!hn_index) { fprintf(stderr, "floor: no interface %s: %s\n", hn, strerror(errno)); return 1; }
    build_delete(hn_index);

    /* Subscribe before looking at the VF, so no event falls between the look and the join. */
    int ev = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    int req = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (ev < 0 || req < 0 || bind(ev, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        connect(req, (struct sockaddr *)&kernel, sizeof kernel) != 0) {
        perror("floor: netlink");
        return 1;
    }

    /* Without SA_RESTART, so recv() returns on a signal. */
    struct sigaction act = { .sa_handler = on_signal };
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);

    int vf_index = (int)if_nametoindex(vf), steering = 0;
    if (vf_index) {
        struct ifreq ifr = { 0 };
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", vf);
        /* SIOCGIFFLAGS has no IFF_LOWER_UP; IFF_RUNNING is the carrier seen from here. */
        if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING))
            steering = install();
        if (s >= 0) close(s);
    }
    fprintf(stderr, "ready: synthetic=%s vf=%s steering=%d\n", hn, vf, steering);

    static char buf[1 << 16];
    char ack[256];
    while (!stop) {
        ssize_t n = recv(ev, buf, sizeof buf, 0);
        double t0 = now_ms();
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) { /* events lost: the VF may be gone; delete to be safe */
                if (steering && send(req, &del_req, sizeof del_req, 0) > 0) steering = 0;
                continue;
            }
            perror("floor: recv");
            break;
        }
        int len = (int)n;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
            if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK) continue;
            struct ifinfomsg *ifi = NLMSG_DATA(nh);
            if (steering && ifi->ifi_index == vf_index &&
                (nh->nlmsg_type == RTM_DELLINK || !usable(ifi->ifi_flags))) {
                /* The fast path: the pre-built delete, then everything else. */
                send(req, &del_req, sizeof del_req, 0);
                steering = 0;
                if (recv(req, ack, sizeof ack, 0) < 0) { /* the relay state is read back by the benchmark */ }
                fprintf(stderr, "fallback synthetic=%s vf=%s switch_ms=%.3f\n", hn, vf, now_ms() - t0);
            } else if (!steering && nh->nlmsg_type == RTM_NEWLINK && usable(ifi->ifi_flags) && is_vf(nh)) {
                vf_index = ifi->ifi_index;
                steering = install();
                fprintf(stderr, "steering on synthetic=%s vf=%s switch_ms=%.3f\n", hn, vf, now_ms() - t0);
            }
        }
    }
    uninstall();
    return 0;
}
