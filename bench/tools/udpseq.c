/*
 * udpseq: a fixed-rate UDP sequence stream, echoed back, with per-packet loss bookkeeping.
 *
 *   udpseq echo BIND_ADDR PORT READY_FILE
 *       send every datagram back to where it came from; READY_FILE is written once bound
 *   udpseq send DST_ADDR PORT RATE MAX_SECONDS OUTFILE [BIN_MS]
 *       send RATE packets/s (seq + CLOCK_MONOTONIC send time) until SIGINT/SIGTERM or
 *       MAX_SECONDS, take echoes for 300 ms more, then write OUTFILE:
 *         # udpseq rate=R sent=N received=M lost=L duplicates=D late_ns=MAX_SEND_LATENESS
 *         gap FIRST_SEQ LAST_SEQ T_FIRST_NS T_LAST_NS   one line per run of lost sequence numbers
 *         bin T_START_NS SENT RECEIVED                  per BIN_MS (default 10) of send time
 *
 * A packet counts as received when its echo came back, so a loss anywhere on the round trip
 * (peer -> guest or guest -> peer) is seen. Send times are kept per sequence number, so the
 * driver can attribute each lost packet to the switch event it was sent around.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct packet {
    uint64_t seq;
    int64_t sent_ns;
    char pad[48]; /* 64-byte payload */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int udp_socket(const char *addr, int port, struct sockaddr_in *sin)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    int buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) { fprintf(stderr, "bad address %s\n", addr); exit(2); }
    return fd;
}

static int run_echo(const char *addr, int port, const char *ready)
{
    struct sockaddr_in sin;
    int fd = udp_socket(addr, port, &sin);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) { perror("bind"); return 1; }
    FILE *f = fopen(ready, "w");
    if (f) { fputs("ready\n", f); fclose(f); }
    char buf[2048];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0) { if (errno == EINTR) continue; perror("recvfrom"); return 1; }
        /* A send error (e.g. no route for a moment) is just a loss the sender will count. */
        (void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    }
}

static volatile sig_atomic_t stop_sending;
static volatile int stop_receiving;
static void on_signal(int sig) { (void)sig; stop_sending = 1; }

static int sock;
static uint64_t capacity;
static int64_t *sent_at;  /* send time per seq */
static uint8_t *got;      /* echo count per seq (saturating) */
static uint64_t duplicates;

static void *receiver(void *arg)
{
    (void)arg;
    struct packet p;
    while (!stop_receiving) {
        ssize_t n = recv(sock, &p, sizeof p, 0);
        if (n < (ssize_t)sizeof p) continue; /* timeout (SO_RCVTIMEO) or runt */
        if (p.seq >= capacity) continue;
        if (got[p.seq]) { duplicates++; continue; }
        got[p.seq] = 1;
    }
    return NULL;
}

static int run_send(const char *addr, int port, double rate, double max_seconds, const char *outfile, double bin_ms)
{
    struct sockaddr_in dst;
    sock = udp_socket(addr, port, &dst);
    if (connect(sock, (struct sockaddr *)&dst, sizeof dst) != 0) { perror("connect"); return 1; }
    struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    capacity = (uint64_t)(rate * max_seconds) + 1;
    sent_at = calloc(capacity, sizeof *sent_at);
    got = calloc(capacity, 1);
    if (!sent_at || !got) { fprintf(stderr, "out of memory\n"); return 1; }

    struct sigaction act = { .sa_handler = on_signal };
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    prctl(PR_SET_TIMERSLACK, 1UL); /* pace with microsecond, not 50 us, wake-ups */

    pthread_t rx;
    pthread_create(&rx, NULL, receiver, NULL);

    const int64_t period = (int64_t)(1e9 / rate);
    const int64_t start = now_ns();
    int64_t late_max = 0;
    uint64_t seq = 0;
    struct packet p;
    memset(&p, 0, sizeof p);
    while (!stop_sending && seq < capacity) {
        int64_t due = start + (int64_t)seq * period;
        int64_t t = now_ns();
        if (t < due) {
            struct timespec ts = { .tv_sec = due / 1000000000LL, .tv_nsec = due % 1000000000LL };
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            continue; /* re-check stop and time */
        }
        if (t - due > late_max) late_max = t - due;
        p.seq = seq;
        p.sent_ns = t;
        sent_at[seq] = t;
        /* ECONNREFUSED/ENETUNREACH etc. while paths switch: a loss like any other. */
        (void)send(sock, &p, sizeof p, 0);
        seq++;
    }
    const uint64_t sent = seq;
    /* Echoes of the last packets are still on their way back. */
    struct timespec grace = { .tv_sec = 0, .tv_nsec = 300 * 1000000L };
    nanosleep(&grace, NULL);
    stop_receiving = 1;
    pthread_join(rx, NULL);

    FILE *out = fopen(outfile, "w");
    if (!out) { perror(outfile); return 1; }
    uint64_t received = 0;
    for (uint64_t i = 0; i < sent; i++) received += got[i];
    fprintf(out, "# udpseq rate=%.0f sent=%llu received=%llu lost=%llu duplicates=%llu late_ns=%lld\n", rate,
            (unsigned long long)sent, (unsigned long long)received, (unsigned long long)(sent - received),
            (unsigned long long)duplicates, (long long)late_max);
    for (uint64_t i = 0; i < sent;) {
        if (got[i]) { i++; continue; }
        uint64_t j = i;
        while (j + 1 < sent && !got[j + 1]) j++;
        fprintf(out, "gap %llu %llu %lld %lld\n", (unsigned long long)i, (unsigned long long)j,
                (long long)sent_at[i], (long long)sent_at[j]);
        i = j + 1;
    }
    const int64_t bin = (int64_t)(bin_ms * 1e6);
    for (uint64_t i = 0; i < sent;) {
        int64_t b0 = start + ((sent_at[i] - start) / bin) * bin;
        uint64_t n = 0, r = 0;
        while (i < sent && sent_at[i] < b0 + bin) { n++; r += got[i]; i++; }
        fprintf(out, "bin %lld %llu %llu\n", (long long)b0, (unsigned long long)n, (unsigned long long)r);
    }
    fclose(out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "echo") == 0)
        return run_echo(argv[2], atoi(argv[3]), argv[4]);
    if ((argc == 7 || argc == 8) && strcmp(argv[1], "send") == 0)
        return run_send(argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]), argv[6], argc == 8 ? atof(argv[7]) : 10);
    fprintf(stderr, "usage: udpseq echo BIND_ADDR PORT READY_FILE\n"
                    "       udpseq send DST_ADDR PORT RATE MAX_SECONDS OUTFILE [BIN_MS]\n");
    return 2;
}
