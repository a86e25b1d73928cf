# shellcheck shell=bash
# bench/lib/common.sh: helpers shared by the benchmark phases (sourced by scripts/bench).
#
# Expects: BENCH_TOOLS (built nlwatch/udpseq), HNAGENT_BIN, BENCH_REPO, BENCH_RAW (raw output
# root). Each phase runs in its own subshell that sources scripts/lib/testbed.sh, so every
# namespace, interface and process it makes is removed by tb_cleanup when the subshell exits,
# also on failure.

BASELINE_BIN="$BENCH_REPO/bench/baseline/tc-relay-loop"
IMPLS=(hnagent baseline)
source "$BENCH_REPO/bench/lib/load.sh"

blog() { printf '[bench] %s\n' "$*" >&2; }

# Fixed-length measurement window or traffic dwell: the stream keeps running on the current
# path for this long. Never used to wait for a condition (wait_for does that, with deadlines).
dwell() { sleep "$1"; }

mono_now() { "$BENCH_TOOLS/nlwatch" --now; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# meta FILE KEY VALUE: one "key=value" line of phase metadata for the collector.
meta() { printf '%s=%s\n' "$2" "$3" >>"$1"; }

# impl_start IMPL NS SETTLE LOG [SYN_GLOB VF_GLOB]: start hnagent or the baseline in NS in the
# background; its PID (the process itself: ip netns exec execs it) is left in IMPL_PID.
IMPL_PID=""
impl_start() {
    local impl=$1 ns=$2 settle=$3 log=$4 syn=${5:-hn*} vf=${6:-vf*}
    case $impl in
        hnagent|hnagent-installed)
            local bin=$HNAGENT_BIN
            [[ $impl == hnagent-installed ]] && bin=$HNAGENT_INSTALLED_BIN
            # Flap damping off: the benchmark hot-plugs far faster than any host would. The
            # state file goes next to the log, never into a real agent's /run/hnagent.
            # Own control socket too: agents of concurrent phases (and a real service) never meet.
            ip netns exec "$ns" "$bin" run --synthetic "$syn" --vf "$vf" --settle "$settle" \
                --flap-threshold 0 --state-file "$log.state" --control-socket "$log.sock" \
                --log-format json >/dev/null 2>"$log" </dev/null &
            ;;
        baseline)
            ip netns exec "$ns" "$BASELINE_BIN" --synthetic "$syn" --vf "$vf" --settle "$settle" \
                >/dev/null 2>"$log" </dev/null &
            ;;
        floor)
            # Names, not patterns, and no settle time: the least a relay can do (bench/floor/floor.c).
            ip netns exec "$ns" "$BENCH_TOOLS/floor" --synthetic "$syn" --vf "$vf" >/dev/null 2>"$log" </dev/null &
            ;;
        *) blog "unknown implementation $impl"; return 1 ;;
    esac
    IMPL_PID=$!
    TB_PIDS+=("$IMPL_PID")
}

# impl_ready LOG: the implementation logged that it finished its start-up pass.
impl_ready() { grep -q 'ready' "$1"; }

# impl_stop PID: SIGTERM (both restore the synthetic path), wait with a deadline, then KILL.
impl_stop() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_for --quiet --timeout 15 -- bash -c "! kill -0 $pid 2>/dev/null" ||
        { blog "pid $pid did not exit in 15 s; SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
    wait "$pid" 2>/dev/null || true
}

# proc_tree PID: PID and all its descendants (the baseline is bash + ip monitor + tc children).
proc_tree() {
    local pid=$1 child
    echo "$pid"
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do proc_tree "$child"; done
}

# footprint PID: "rss_kb cpu_ns voluntary_switches involuntary_switches rss_anon_kb
# rss_file_kb" summed over the process tree. CPU time and context switches are per task
# (thread), from schedstat/status.
footprint() {
    local rss=0 cpu=0 vol=0 invol=0 anon=0 file=0 p task s
    for p in $(proc_tree "$1"); do
        [[ -r /proc/$p/status ]] || continue
        s=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null); rss=$((rss + ${s:-0}))
        s=$(awk '/^RssAnon:/ {print $2}' "/proc/$p/status" 2>/dev/null); anon=$((anon + ${s:-0}))
        s=$(awk '/^RssFile:/ {print $2}' "/proc/$p/status" 2>/dev/null); file=$((file + ${s:-0}))
        for task in /proc/"$p"/task/*; do
            s=$(awk '{print $1}' "$task/schedstat" 2>/dev/null); cpu=$((cpu + ${s:-0}))
            s=$(awk '/^voluntary_ctxt_switches:/ {print $2}' "$task/status" 2>/dev/null); vol=$((vol + ${s:-0}))
            s=$(awk '/^nonvoluntary_ctxt_switches:/ {print $2}' "$task/status" 2>/dev/null); invol=$((invol + ${s:-0}))
        done
    done
    echo "$rss $cpu $vol $invol $anon $file"
}

# watch_start NS OUT: start nlwatch in NS and wait until it is subscribed.
WATCH_PID=""
watch_start() {
    TB_BG_OUT=/dev/null tb_bg "$1" "$BENCH_TOOLS/nlwatch" "$2"
    WATCH_PID=$TB_LAST_PID
    wait_for --timeout 5 -- grep -q '^# ready' "$2"
}

# Counts of hn egress redirects ("steering pairs") as nlwatch saw them: the last filter event
# per ifindex on the egress hook (parent ffff:fff3, where only synthetic NICs get filters).
egress_on_count() {
    awk '$2 == "filter" && $5 == "fffffff3" { on[$4] = ($3 == "new") }
         END { n = 0; for (i in on) n += on[i]; print n }' "$1"
}
egress_on_is() { [[ $(egress_on_count "$1") == "$2" ]]; }

# udp_stream_start DIR RATE [MAX_S]: echo in GUEST, sender in PEER; sender PID in UDP_SEND_PID.
UDP_SEND_PID=""
UDP_PORT=9000
udp_stream_start() {
    local dir=$1 rate=$2 max_s=${3:-600}
    rm -f "$dir/echo.ready"
    tb_bg "$TB_GUEST" "$BENCH_TOOLS/udpseq" echo "$TB_GUEST_IP" "$UDP_PORT" "$dir/echo.ready"
    local echo_pid=$TB_LAST_PID
    wait_for --timeout 5 -- test -s "$dir/echo.ready" || return 1
    # The cap only bounds memory; the driver stops the sender with SIGINT.
    tb_bg "$TB_PEER" "$BENCH_TOOLS/udpseq" send "$TB_GUEST_IP" "$UDP_PORT" "$rate" "$max_s" "$dir/udp.txt" 1
    UDP_SEND_PID=$TB_LAST_PID
    TB_LAST_PID=$echo_pid   # callers that run several streams stop the echo by this PID
}
udp_stream_stop() {
    kill -INT "$UDP_SEND_PID" 2>/dev/null || true
    wait_for --timeout 10 -- test -s "$1/udp.txt"
}

# A testbed with vf0 hot-plugged, nlwatch recording in GUEST, and IMPL started with settle 0 and
# steering (the common start of the removal, soak and timeline phases). Sets IMPL_PID.
#   steered_testbed IMPL OUT META
steered_testbed() {
    local impl=$1 out=$2 m=$3
    tb_create || return 1
    vf_add || return 1
    watch_start "$TB_GUEST" "$out/nl.txt" || return 1
    meta "$m" vf_ifindex "$(tb_ifindex "$TB_GUEST" "$TB_VF")"
    impl_start "$impl" "$TB_GUEST" 0 "$out/impl.log"
    wait_for --timeout 15 tb_steering_on || { blog "$impl never steered"; return 1; }
}

# The start of a phase of alternating blocks (interleaved, drain): its parameters in OUT/meta,
# a testbed with vf0 hot-plugged, nlwatch recording in GUEST and, with LOADED=1, the loaded
# scenario's load (bench/lib/load.sh) for the whole phase.
#   blocks_testbed OUT RATE DWELL_S ROUNDS DEL LOADED
blocks_testbed() {
    local out=$1 m=$1/meta loaded=$6
    mkdir -p "$out"
    meta "$m" rate "$2"; meta "$m" dwell_s "$3"; meta "$m" rounds "$4"
    meta "$m" cycles_per_block "$5"; meta "$m" loaded "$loaded"; meta "$m" load_before "$(loadavg)"
    tb_create || return 1
    vf_add || return 1
    watch_start "$TB_GUEST" "$out/nl.txt" || return 1
    meta "$m" vf_ifindex "$(tb_ifindex "$TB_GUEST" "$TB_VF")"
    if ((loaded)); then load_start "$out" || { blog "load did not start"; return 1; }; fi
}

# One hot-plug cycle: take the VF away (AWAY: vf_del or vf_down), wait for the fallback, bring
# it back (BACK: vf_add or vf_up), wait for steering; DWELL_S of traffic on each path.
#   vf_cycle AWAY BACK DWELL_S
vf_cycle() {
    local away=$1 back=$2 hold=$3
    "$away"
    wait_for --timeout 5 tb_fallen_back || return 1
    dwell "$hold"
    "$back"
    wait_for --timeout 5 tb_steering_on || return 1
    dwell "$hold"
}

# iperf3 server in PEER, listening before this returns.
peer_iperf_server() {
    tb_bg "$TB_PEER" iperf3 -s -B "$TB_PEER_IP"
    wait_for --timeout 5 -- bash -c "ip netns exec '$TB_PEER' ss -ltn | grep -q '$TB_PEER_IP:5201'"
}
