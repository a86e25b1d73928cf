# shellcheck shell=bash
# bench/phases/interleaved.sh: loss per VF deletion of several implementations, interleaved.
#
# On these shared 2-core machines the same measurement swings by 3-10x between runs a minute
# apart, so implementations are compared within one run: one testbed, one UDP sequence stream
# and one nlwatch for the whole phase, and the implementations take turns in short blocks
# (each block: start it, DEL delete/re-add cycles of the VF, stop it), in an order rotated
# every round (ABC, BCA, CAB, ...), so slow minutes hit all of them alike. The collector
# attributes each loss by send time and each removal, by its time, to the block it fell in.
# With LOADED=1 two kinds of load run throughout: one busy loop per CPU and a second veth
# pair in namespaces of its own carrying an unpaced iperf3 stream (bench/lib/load.sh).
#
#   phase_interleaved OUT ROUNDS DEL RATE DWELL_S LOADED IMPL...
phase_interleaved() {
    local out=$1 rounds=$2 ndel=$3 rate=$4 hold=$5 loaded=$6; shift 6
    local impls=("$@") m=$out/meta r k i impl n=$#
    blocks_testbed "$out" "$rate" "$hold" "$rounds" "$ndel" "$loaded" || return 1
    meta "$m" impls "${impls[*]}"
    # The stream must outlast the phase: room for 2 s per cycle plus the blocks' starts and stops.
    udp_stream_start "$out" "$rate" $((rounds * n * (2 * ndel + 10) + 60)) || return 1
    dwell "$hold"

    for ((r = 0; r < rounds; r++)); do
        for ((k = 0; k < n; k++)); do
            impl=${impls[(r + k) % n]}
            impl_start "$impl" "$TB_GUEST" 0 "$out/block-$r-$impl.log" "$TB_HN" "$TB_VF"
            wait_for --timeout 15 tb_steering_on || { blog "$impl never steered (round $r)"; return 1; }
            dwell "$hold"
            local t_start; t_start=$(mono_now)
            for ((i = 0; i < ndel; i++)); do
                vf_cycle vf_del vf_add "$hold" || { blog "$impl: cycle $i of round $r failed"; return 1; }
            done
            # One line per block: the collector gives each removal to the block it fell in.
            echo "$r $impl $t_start $(mono_now)" >>"$out/blocks"
            impl_stop "$IMPL_PID"
            # Each takes its relay away when stopped; the next starts from the bare testbed.
            wait_for --timeout 10 relay_gone || { blog "$impl left its relay behind"; return 1; }
            # hnagent gives back the admin state it found: DOWN if it saw the re-added VF before
            # the testbed set it up. The next block starts with the VF up, as every block does.
            tb_link_is_up "$TB_GUEST" "$TB_VF" || { vf_up && wait_for --timeout 5 tb_link_is_up "$TB_GUEST" "$TB_VF"; } ||
                { blog "vf0 not up after $impl"; return 1; }
        done
    done
    meta "$m" cycles_end_ns "$(mono_now)"
    udp_stream_stop "$out"
    kill -TERM "$WATCH_PID" 2>/dev/null
    ((loaded)) && load_stop "$out"
    meta "$m" load_after "$(loadavg)"
    return 0
}

relay_gone() {
    ! tb_has_pref_filter "$TB_GUEST" "$TB_HN" egress && ! tb_has_pref_filter "$TB_GUEST" "$TB_VF" ingress
}
