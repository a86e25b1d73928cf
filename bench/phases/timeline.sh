# shellcheck shell=bash
# bench/phases/timeline.sh: TCP throughput and retransmissions over time across one hot-plug,
# for the plot.
#
# One unpaced TCP stream GUEST -> PEER (iperf3, 100 ms intervals: its minimum) while the VF is
# deleted and re-added once. The UDP loss profile in the same plot comes from the removal phase.
#
#   phase_timeline IMPL OUT
phase_timeline() {
    local impl=$1 out=$2
    mkdir -p "$out"
    local m=$out/meta
    meta "$m" impl "$impl"; meta "$m" load_before "$(loadavg)"
    steered_testbed "$impl" "$out" "$m" || return 1
    local pid=$IMPL_PID
    peer_iperf_server || return 1
    meta "$m" t0_ns "$(mono_now)"
    tb_bg "$TB_GUEST" iperf3 -c "$TB_PEER_IP" -t 60 -i 0.1 -J --logfile "$out/iperf3.json"
    local client=$TB_LAST_PID
    dwell 1.5
    vf_del
    wait_for --timeout 5 tb_fallen_back || return 1
    dwell 1.5
    vf_add
    wait_for --timeout 5 tb_steering_on || return 1
    dwell 1.5
    meta "$m" cycles_end_ns "$(mono_now)"
    kill -INT "$client" 2>/dev/null
    wait_for --timeout 10 -- bash -c "! kill -0 $client 2>/dev/null"
    impl_stop "$pid"
    kill -TERM "$WATCH_PID" 2>/dev/null
    meta "$m" load_after "$(loadavg)"
}
