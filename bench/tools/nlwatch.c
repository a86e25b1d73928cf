/*
 * nlwatch: an independent observer of link and tc events in the current network namespace.
 *
 *   nlwatch OUTFILE        print one line per rtnetlink link/qdisc/filter message, forever
 *   nlwatch --now          print CLOCK_MONOTONIC in nanoseconds and exit
 *
 * Both the relay under test and this tool are woken by the same multicast message, so the
 * difference between the time this tool saw a VF event and the time it saw the relay's tc
 * change is "kernel event -> relay changed", measured the same way for hnagent and the
 * baseline. Runs SCHED_FIFO when allowed so its own wake-up delay stays small.
 *
 * Output lines (CLOCK_MONOTONIC ns first):
 *   T link new|del IFINDEX NAME FLAGS_HEX
 *   T filter|qdisc new|del IFINDEX PARENT_HEX PRIO
 *   # clock MONO_NS REAL_NS      (once at start, to map bash's $EPOCHREALTIME)
 *   # overrun                    (ENOBUFS: messages were lost)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void print_link(FILE *out, int64_t t, struct nlmsghdr *nh)
{
    struct ifinfomsg *ifi = NLMSG_DATA(nh);
    const char *name = "?";
    int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFLA_IFNAME) name = RTA_DATA(a);
    fprintf(out, "%lld link %s %d %s %x\n", (long long)t, nh->nlmsg_type == RTM_DELLINK ? "del" : "new",
            ifi->ifi_index, name, ifi->ifi_flags);
}

static void print_tc(FILE *out, int64_t t, struct nlmsghdr *nh)
{
    struct tcmsg *tcm = NLMSG_DATA(nh);
    int filter = nh->nlmsg_type == RTM_NEWTFILTER || nh->nlmsg_type == RTM_DELTFILTER;
    int del = nh->nlmsg_type == RTM_DELTFILTER || nh->nlmsg_type == RTM_DELQDISC;
    fprintf(out, "%lld %s %s %d %x %u\n", (long long)t, filter ? "filter" : "qdisc", del ? "del" : "new",
            tcm->tcm_ifindex, tcm->tcm_parent, filter ? tcm->tcm_info >> 16 : 0);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--now") == 0) {
        printf("%lld\n", (long long)now_ns(CLOCK_MONOTONIC));
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: nlwatch OUTFILE | nlwatch --now\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) { perror(argv[1]); return 1; }

    struct sched_param sp = { .sched_priority = 10 };
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
        fprintf(out, "# sched_fifo unavailable: %s\n", strerror(errno));

    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) { perror("socket"); return 1; }
    int buf = 32 << 20; /* storms of 256 pairs must not overrun us */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK | RTMGRP_TC };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("bind"); return 1; }

    struct sigaction act = { .sa_handler = on_signal };
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);

    fprintf(out, "# clock %lld %lld\n", (long long)now_ns(CLOCK_MONOTONIC), (long long)now_ns(CLOCK_REALTIME));
    /* The driver waits for this line before it starts an experiment. */
    fprintf(out, "# ready\n");
    fflush(out);

    static char msg[1 << 16];
    while (!stop) {
        ssize_t n = recv(fd, msg, sizeof msg, 0);
        int64_t t = now_ns(CLOCK_MONOTONIC);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) { fprintf(out, "# overrun\n"); continue; }
            perror("recv");
            break;
        }
        int len = (int)n;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)msg; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
            switch (nh->nlmsg_type) {
            case RTM_NEWLINK: case RTM_DELLINK: print_link(out, t, nh); break;
            case RTM_NEWTFILTER: case RTM_DELTFILTER: case RTM_NEWQDISC: case RTM_DELQDISC:
                print_tc(out, t, nh); break;
            default: break;
            }
        }
        /* Line-buffered by hand: the driver polls this file for conditions. */
        fflush(out);
    }
    fclose(out);
    return 0;
}
