# shellcheck shell=bash
# bench/phases/removal.sh: removal gap and loss per switch, plus attach latency with settle 0.
#
# One testbed; IMPL steers vf0 with settle 0 while a UDP sequence stream runs PEER -> GUEST ->
# PEER at RATE packets/s. DEL cycles delete and recreate the VF, DOWN cycles set it admin-down
# and up. nlwatch in GUEST timestamps the VF events and the relay changes; udpseq records which
# packets never came back. The collector pairs them up.
#
#   phase_removal IMPL OUT DEL_CYCLES DOWN_CYCLES RATE DWELL_S
phase_removal() {
    local impl=$1 out=$2 ndel=$3 ndown=$4 rate=$5 hold=$6 i
    mkdir -p "$out"
    local m=$out/meta
    meta "$m" impl "$impl"; meta "$m" settle 0; meta "$m" rate "$rate"; meta "$m" dwell_s "$hold"
    meta "$m" load_before "$(loadavg)"
    steered_testbed "$impl" "$out" "$m" || return 1
    local pid=$IMPL_PID
    udp_stream_start "$out" "$rate" || return 1
    dwell "$hold"

    local done_del=0 done_down=0
    for ((i = 0; i < ndel; i++)); do
        vf_cycle vf_del vf_add "$hold" || break
        done_del=$((done_del + 1))
    done
    for ((i = 0; i < ndown; i++)); do
        vf_cycle vf_down vf_up "$hold" || break
        done_down=$((done_down + 1))
    done
    meta "$m" cycles_end_ns "$(mono_now)"
    meta "$m" cycles_del "$done_del"; meta "$m" cycles_down "$done_down"
    udp_stream_stop "$out"
    meta "$m" footprint_end "$(footprint "$pid")"
    impl_stop "$pid"
    kill -TERM "$WATCH_PID" 2>/dev/null
    meta "$m" load_after "$(loadavg)"
    [[ $done_del == "$ndel" && $done_down == "$ndown" ]] || { blog "$impl: removal cycles stopped early"; return 1; }
}
