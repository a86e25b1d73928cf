# shellcheck shell=bash
# bench/phases/footprint.sh: resident memory after start, and CPU time and wake-ups over an
# idle window (VF steering, no events, no traffic). An event-driven relay should use ~0 CPU.
#
#   phase_footprint IMPL OUT IDLE_S
phase_footprint() {
    local impl=$1 out=$2 idle=$3
    mkdir -p "$out"
    local m=$out/meta
    meta "$m" impl "$impl"; meta "$m" idle_s "$idle"; meta "$m" load_before "$(loadavg)"
    tb_create
    vf_add
    impl_start "$impl" "$TB_GUEST" 0 "$out/impl.log"
    local pid=$IMPL_PID
    wait_for --timeout 15 tb_steering_on || return 1
    wait_for --timeout 15 -- impl_ready "$out/impl.log" || return 1
    meta "$m" footprint_start "$(footprint "$pid")"
    # Resident memory per mapping (file name only), to see where it goes.
    awk '/^[0-9a-f]+-[0-9a-f]+ / { n = split($6, p, "/"); name = (NF >= 6 ? p[n] : "[anon]") }
         /^Rss:/ { rss[name] += $2 } END { for (k in rss) print rss[k], k }' "/proc/$pid/smaps" |
        sort -rn >"$out/smaps.txt"
    local t0 t1
    t0=$(mono_now)
    dwell "$idle"
    t1=$(mono_now)
    meta "$m" footprint_idle_end "$(footprint "$pid")"
    meta "$m" idle_ns "$((t1 - t0))"
    impl_stop "$pid"
    meta "$m" load_after "$(loadavg)"
}
