# shellcheck shell=bash
# bench/phases/attach.sh: attach latency with a non-zero settle time (the default, 2 s).
#
# IMPL runs with --settle SETTLE; the VF is hot-plugged CYCLES times. nlwatch timestamps the VF
# appearing, becoming usable (up with carrier) and hn's egress redirect being added; the
# collector reports steering-on minus the moment the VF was both settled and usable.
#
#   phase_attach IMPL OUT CYCLES SETTLE
phase_attach() {
    local impl=$1 out=$2 cycles=$3 settle=$4 i done=0
    mkdir -p "$out"
    local m=$out/meta
    meta "$m" impl "$impl"; meta "$m" settle "$settle"; meta "$m" load_before "$(loadavg)"
    tb_create
    watch_start "$TB_GUEST" "$out/nl.txt"
    impl_start "$impl" "$TB_GUEST" "$settle" "$out/impl.log"
    local pid=$IMPL_PID
    wait_for --timeout 15 -- impl_ready "$out/impl.log" || return 1
    local deadline
    deadline=$(awk -v s="$settle" 'BEGIN{print s + 5}')
    for ((i = 0; i < cycles; i++)); do
        vf_add
        wait_for --timeout "$deadline" tb_steering_on || break
        vf_del
        wait_for --timeout 5 tb_fallen_back || break
        done=$((done + 1))
    done
    meta "$m" cycles_end_ns "$(mono_now)"
    meta "$m" cycles "$done"
    impl_stop "$pid"
    kill -TERM "$WATCH_PID" 2>/dev/null
    meta "$m" load_after "$(loadavg)"
    [[ $done == "$cycles" ]]
}
