# shellcheck shell=bash
# bench/phases/drain.sh: packets lost per VF removal with `hnagent drain` first and without.
#
# One testbed, one hnagent (settle 0), one UDP sequence stream and one nlwatch for the whole
# phase; the two modes take turns in blocks within the run, the order alternating every round
# (drain first, then no-drain first, ...), so a slow minute of the shared machine hits both.
# A block is DEL cycles of one mode:
#   drain     hnagent drain hn0 (it answers once hn's egress redirect is gone), dwell, delete the
#             VF, dwell, re-add it, hnagent undrain hn0, wait for steering, dwell
#   no-drain  dwell, delete the VF, wait for the fallback, dwell, re-add it, wait for steering, dwell
# Each cycle writes one line to OUT/cycles: "ROUND MODE T_START T_REMOVE T_RETURN T_END"
# (CLOCK_MONOTONIC ns; T_REMOVE just before the VF is deleted, T_RETURN just before it is
# re-added). The collector counts lost packets by send time per removal and per whole cycle.
# With LOADED=1 the load of the interleaved phase runs throughout (bench/lib/load.sh).
#
#   phase_drain OUT ROUNDS DEL RATE DWELL_S LOADED
phase_drain() {
    local out=$1 rounds=$2 ndel=$3 rate=$4 hold=$5 loaded=$6 m=$1/meta r k i mode
    blocks_testbed "$out" "$rate" "$hold" "$rounds" "$ndel" "$loaded" || return 1
    meta "$m" modes "drain no-drain"
    impl_start hnagent "$TB_GUEST" 0 "$out/hnagent.log" "$TB_HN" "$TB_VF"
    DRAIN_SOCKET=$out/hnagent.log.sock
    wait_for --timeout 15 tb_steering_on || { blog "hnagent never steered"; return 1; }
    # The stream must outlast the phase: room for 3 s per cycle plus a minute.
    udp_stream_start "$out" "$rate" $((rounds * 2 * ndel * 3 + 60)) || return 1
    dwell "$hold"

    local modes=(drain no-drain)
    for ((r = 0; r < rounds; r++)); do
        for ((k = 0; k < 2; k++)); do
            mode=${modes[(r + k) % 2]}
            for ((i = 0; i < ndel; i++)); do
                drain_cycle "$mode" "$r" "$hold" "$out/cycles" || { blog "$mode: cycle $i of round $r failed"; return 1; }
            done
        done
    done
    meta "$m" cycles_end_ns "$(mono_now)"
    udp_stream_stop "$out"
    impl_stop "$IMPL_PID"
    kill -TERM "$WATCH_PID" 2>/dev/null
    ((loaded)) && load_stop "$out"
    meta "$m" load_after "$(loadavg)"
    return 0
}

DRAIN_SOCKET=""
# hnagent drain|undrain hn0 over the phase's control socket; its answer goes to the log.
drain_ctl() { "$HNAGENT_BIN" "$1" "$TB_HN" --socket "$DRAIN_SOCKET" >&2; }

# drain_cycle MODE ROUND DWELL_S CYCLES_FILE: one removal and return of the VF.
drain_cycle() {
    local mode=$1 r=$2 hold=$3 file=$4 t_start t_remove t_return
    t_start=$(mono_now)
    if [[ $mode == drain ]]; then
        drain_ctl drain || return 1
        # The contract says drain answers after the redirect is gone; check it, do not wait.
        tb_fallen_back || { blog "drain answered with hn's egress redirect still in place"; return 1; }
    fi
    dwell "$hold"
    t_remove=$(mono_now)
    vf_del || return 1
    wait_for --timeout 5 tb_fallen_back || return 1
    dwell "$hold"
    t_return=$(mono_now)
    vf_add || return 1
    [[ $mode == drain ]] && { drain_ctl undrain || return 1; }
    wait_for --timeout 5 tb_steering_on || return 1
    dwell "$hold"
    echo "$r $mode $t_start $t_remove $t_return $(mono_now)" >>"$file"
}
