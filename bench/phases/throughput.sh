# shellcheck shell=bash
# bench/phases/throughput.sh: TCP throughput (iperf3) on one testbed, all paths in the same run.
#
#   synthetic   no VF, no relay: hn0 <-> bridge
#   direct      VF present, no relay, hn0 down and hn0's address on vf0 (what steering replaces)
#   steered-*   the relay of hnagent or of the baseline, address on hn0
# Each is measured in both directions (rx: PEER sends to GUEST; tx: GUEST sends to PEER),
# REPS rounds interleaved so slow drift of the machine's load hits every path alike.
#
#   phase_throughput OUT REPS SECONDS
tp_run() { # OUT NAME REP: one iperf3 run per direction against the server in GUEST
    local out=$1 name=$2 rep=$3 dir
    for dir in rx tx; do
        local -a rev=()
        [[ $dir == tx ]] && rev=(-R)
        in_peer iperf3 -c "$TB_GUEST_IP" -t "$TP_SECONDS" -J "${rev[@]}" \
            >"$out/$name.$dir.$rep.json" 2>/dev/null || blog "iperf3 $name $dir failed"
    done
}
tp_server_restart() { # the server is bound to the guest address, wherever it lives now
    [[ -n ${TP_SERVER:-} ]] && { kill "$TP_SERVER" 2>/dev/null; wait "$TP_SERVER" 2>/dev/null; }
    tb_bg "$TB_GUEST" iperf3 -s -B "$TB_GUEST_IP"
    TP_SERVER=$TB_LAST_PID
    wait_for --timeout 5 -- bash -c "ip netns exec '$TB_GUEST' ss -ltn | grep -q '$TB_GUEST_IP:5201'"
}

phase_throughput() {
    local out=$1 reps=$2 r impl
    TP_SECONDS=$3
    mkdir -p "$out"
    local m=$out/meta
    meta "$m" reps "$reps"; meta "$m" seconds "$TP_SECONDS"; meta "$m" load_before "$(loadavg)"
    tb_create
    tp_server_restart || return 1
    for ((r = 1; r <= reps; r++)); do
        # synthetic: no VF at all
        tb_link_exists "$TB_GUEST" "$TB_VF" && vf_del
        tp_run "$out" synthetic "$r"

        # direct: the address on the VF, hn0 down (same MAC: it must not answer too)
        vf_add
        in_guest ip link set "$TB_HN" down
        in_guest ip addr add "$TB_GUEST_IP/$TB_PREFIXLEN" dev "$TB_VF"
        tp_server_restart || return 1
        tp_run "$out" direct "$r"
        in_guest ip addr del "$TB_GUEST_IP/$TB_PREFIXLEN" dev "$TB_VF"
        in_guest ip link set "$TB_HN" up
        wait_for --timeout 5 tb_link_is_up "$TB_GUEST" "$TB_HN" || return 1
        tp_server_restart || return 1

        for impl in "${IMPLS[@]}"; do
            impl_start "$impl" "$TB_GUEST" 0 "$out/$impl.$r.log"
            local pid=$IMPL_PID
            wait_for --timeout 15 tb_steering_on || { blog "$impl never steered"; return 1; }
            tp_run "$out" "steered-$impl" "$r"
            impl_stop "$pid"
            wait_for --timeout 5 tb_fallen_back || return 1
        done
    done
    meta "$m" load_after "$(loadavg)"
}
