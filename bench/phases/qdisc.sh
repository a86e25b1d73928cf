# shellcheck shell=bash
# bench/phases/qdisc.sh: control experiment, no VF and no relay: does adding and deleting a
# clsact qdisc on hn0 by itself lose traffic on the synthetic path?
#
# The UDP echo stream runs over hn0 while CHANGES clsact additions/deletions are made (one every
# DWELL_S), then for the same time with none (control). The collector compares the losses.
#
#   phase_qdisc OUT CHANGES DWELL_S
phase_qdisc() {
    local out=$1 changes=$2 hold=$3 i v
    mkdir -p "$out/churn" "$out/control"
    local m=$out/meta
    meta "$m" changes "$changes"; meta "$m" dwell_s "$hold"; meta "$m" load_before "$(loadavg)"
    tb_create
    for v in churn control; do
        udp_stream_start "$out/$v" 20000 || return 1
        local echo_pid=$TB_LAST_PID
        dwell "$hold"
        for ((i = 0; i < changes; i += 2)); do
            [[ $v == churn ]] && in_guest tc qdisc add dev "$TB_HN" clsact
            dwell "$hold"
            [[ $v == churn ]] && in_guest tc qdisc del dev "$TB_HN" clsact
            dwell "$hold"
        done
        udp_stream_stop "$out/$v" || return 1
        kill "$echo_pid" 2>/dev/null
    done
    meta "$m" load_after "$(loadavg)"
}
