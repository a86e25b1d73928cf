# shellcheck shell=bash
# bench/phases/soak.sh: one TCP stream (GUEST -> PEER, iperf3) across CYCLES hot-plug cycles.
#
# TCP counters (resets, retransmissions, segments) come from nstat in both namespaces, read
# before and after the cycles, so the stream's own start and end are not counted. The
# implementation's footprint is read after the cycles (resident memory after the soak).
#
#   phase_soak IMPL OUT CYCLES DWELL_S
soak_counters() { # NS: the TCP counters we report, as "name value" lines
    ip netns exec "$1" nstat -asz TcpEstabResets TcpOutRsts TcpAttemptFails TcpRetransSegs \
        TcpOutSegs TcpExtTCPAbortOnData TcpExtTCPAbortOnClose TcpExtTCPAbortOnTimeout \
        TcpExtTCPAbortOnLinger TcpExtTCPAbortFailed TcpExtTCPLostRetransmit 2>/dev/null |
        awk '!/^#/ {print $1, $2}'
}

phase_soak() {
    local impl=$1 out=$2 cycles=$3 hold=$4 i done=0
    mkdir -p "$out"
    local m=$out/meta
    meta "$m" impl "$impl"; meta "$m" dwell_s "$hold"; meta "$m" load_before "$(loadavg)"
    steered_testbed "$impl" "$out" "$m" || return 1
    local pid=$IMPL_PID
    peer_iperf_server || return 1
    tb_bg "$TB_GUEST" iperf3 -c "$TB_PEER_IP" -t 900 -i 0.1 -J --logfile "$out/iperf3.json"
    local client=$TB_LAST_PID
    dwell 1   # let the stream leave slow start before the first cycle
    soak_counters "$TB_GUEST" >"$out/guest.before"; soak_counters "$TB_PEER" >"$out/peer.before"
    for ((i = 0; i < cycles; i++)); do
        vf_cycle vf_del vf_add "$hold" || break
        done=$((done + 1))
    done
    soak_counters "$TB_GUEST" >"$out/guest.after"; soak_counters "$TB_PEER" >"$out/peer.after"
    meta "$m" cycles_end_ns "$(mono_now)"
    meta "$m" cycles "$done"
    meta "$m" footprint_end "$(footprint "$pid")"
    kill -INT "$client" 2>/dev/null
    wait_for --timeout 10 -- bash -c "! kill -0 $client 2>/dev/null"
    impl_stop "$pid"
    kill -TERM "$WATCH_PID" 2>/dev/null
    meta "$m" load_after "$(loadavg)"
    [[ $done == "$cycles" ]]
}
