# shellcheck shell=bash
# bench/phases/status.sh: the agent's CPU time per status and per metrics request with N
# steering pairs, for two agent binaries (A, B: before and after a change) interleaved in
# rounds on one testbed (A, B, B, A, ...), so machine noise falls on both alike.
#
# Each block starts the binary, waits for every pair to steer, reads the agent's CPU time
# (schedstat), sends REQS status requests then REQS metrics requests (each a separate
# `hnagent status --json` / `hnagent metrics` client, whose own CPU is not counted), reads the
# CPU time again, and stops the agent. The 5 s counter timer may fall into a window: it costs
# what one request does, and falls on A and B alike.
#
#   phase_status OUT N ROUNDS REQS LABEL BIN [LABEL BIN ...]
status_cpu_ns() { footprint "$1" | cut -d' ' -f2; }

status_block() { # OUT LABEL BIN N REQS ROUND
    local out=$1 label=$2 bin=$3 n=$4 reqs=$5 round=$6 kind i
    local log=$out/$label-$round.log
    HNAGENT_BIN=$bin impl_start hnagent "$TB_GUEST" 0 "$log"
    local pid=$IMPL_PID
    wait_for --timeout 120 egress_on_is "$STATUS_NL" "$n" || { blog "$label: $n pairs never all steering"; return 1; }
    wait_for --timeout 15 -- impl_ready "$log" || return 1
    wait_for --timeout 15 -- ip netns exec "$TB_GUEST" "$bin" status --socket "$log.sock" --json >/dev/null || return 1
    for kind in status metrics; do
        local args=(status --json)
        [[ $kind == metrics ]] && args=(metrics)
        local c0 c1 t0 t1
        c0=$(status_cpu_ns "$pid"); t0=$(mono_now)
        for ((i = 0; i < reqs; i++)); do
            ip netns exec "$TB_GUEST" "$bin" "${args[@]}" --socket "$log.sock" >/dev/null || return 1
        done
        c1=$(status_cpu_ns "$pid"); t1=$(mono_now)
        echo "$label $round $kind $reqs $((c1 - c0)) $((t1 - t0))" >>"$out/samples.txt"
    done
    impl_stop "$pid"
    wait_for --timeout 60 egress_on_is "$STATUS_NL" 0 || { blog "$label: relay not removed at stop"; return 1; }
}

phase_status() {
    local out=$1 n=$2 rounds=$3 reqs=$4 r i
    shift 4
    local labels=() bins=()
    while (($# >= 2)); do labels+=("$1"); bins+=("$2"); shift 2; done
    mkdir -p "$out"
    SCALE_DIR=$out
    local m=$out/meta
    meta "$m" pairs "$n"; meta "$m" rounds "$rounds"; meta "$m" requests "$reqs"
    meta "$m" labels "${labels[*]}"; meta "$m" load_before "$(loadavg)"
    : >"$out/samples.txt"
    tb_create
    scale_pairs_add "$n" || return 1
    STATUS_NL=$out/nl.txt
    watch_start "$TB_GUEST" "$STATUS_NL"
    local k=${#labels[@]}
    for ((r = 0; r < rounds; r++)); do
        # Forwards in even rounds, backwards in odd ones: no binary always runs first.
        for ((i = 0; i < k; i++)); do
            local j=$(( r % 2 == 0 ? i : k - 1 - i ))
            status_block "$out" "${labels[j]}" "${bins[j]}" "$n" "$reqs" "$r" || return 1
        done
    done
    kill -TERM "$WATCH_PID" 2>/dev/null
    meta "$m" load_after "$(loadavg)"
}
