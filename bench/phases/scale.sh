# shellcheck shell=bash
# bench/phases/scale.sh: N pairs (hn0..hnN-1 with vf0..vfN-1), settle 0.
#
#   start    all pairs present; time from starting IMPL to every hn egress redirect in place
#   storm    all VFs deleted in one batch, then all re-created in one batch: time from the
#            first VF event to the last pair changed, for each batch
# Every implementation gets a fresh testbed. nlwatch counts hn egress redirects
# (egress_on_count); marks are CLOCK_MONOTONIC, like nlwatch's timestamps.
#
#   phase_scale IMPL OUT N
scale_mac() { printf '02:00:5e:13:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
scale_vfs_add() { # N: create vf0..vfN-1 (HOST ends s-vfI) and bring both ends up, in batches
    local n=$1 i
    for ((i = 0; i < n; i++)); do
        local mac=$TB_HN_MAC
        ((i)) && mac=$(scale_mac "$i")
        echo "link add s-vf$i type veth peer name vf$i address $mac netns $TB_GUEST"
        echo "link set s-vf$i up"
    done >"$SCALE_DIR/host-vf.batch"
    for ((i = 0; i < n; i++)); do echo "link set vf$i up"; done >"$SCALE_DIR/guest-vf.batch"
    ip -n "$TB_HOST" -batch "$SCALE_DIR/host-vf.batch" && ip -n "$TB_GUEST" -batch "$SCALE_DIR/guest-vf.batch"
}
scale_vfs_del() {
    local i
    for ((i = 0; i < $1; i++)); do echo "link del vf$i"; done >"$SCALE_DIR/guest-del.batch"
    ip -n "$TB_GUEST" -batch "$SCALE_DIR/guest-del.batch"
}
scale_vfs_usable() { # N: all VFs up with carrier
    [[ $(ip -n "$TB_GUEST" -o link show up 2>/dev/null | grep -c ': vf[0-9]*@.*LOWER_UP' ) == "$1" ]] &&
        ! ip -n "$TB_GUEST" -o link show 2>/dev/null | grep ': vf[0-9]*@' | grep -q NO-CARRIER
}

scale_pairs_add() { # N: after tb_create, N synthetic NICs (hn0 is tb_create's) and N VFs, usable
    local n=$1 i
    # Add hn1..hnN-1, up, HOST ends up (no bridge: carrier is enough).
    for ((i = 1; i < n; i++)); do
        echo "link add s-hn$i type veth peer name hn$i address $(scale_mac "$i") netns $TB_GUEST"
        echo "link set s-hn$i up"
    done >"$SCALE_DIR/host-hn.batch"
    for ((i = 1; i < n; i++)); do echo "link set hn$i up"; done >"$SCALE_DIR/guest-hn.batch"
    if ((n > 1)); then
        ip -n "$TB_HOST" -batch "$SCALE_DIR/host-hn.batch" && ip -n "$TB_GUEST" -batch "$SCALE_DIR/guest-hn.batch" || return 1
    fi
    scale_vfs_add "$n" || return 1
    wait_for --timeout 60 scale_vfs_usable "$n"
}

phase_scale() {
    local impl=$1 out=$2 n=$3 i
    mkdir -p "$out"
    SCALE_DIR=$out
    local m=$out/meta
    meta "$m" impl "$impl"; meta "$m" pairs "$n"; meta "$m" load_before "$(loadavg)"
    tb_create
    scale_pairs_add "$n" || return 1

    local nl=$out/nl.txt
    watch_start "$TB_GUEST" "$nl"
    meta "$m" start_ns "$(mono_now)"
    impl_start "$impl" "$TB_GUEST" 0 "$out/impl.log"
    local pid=$IMPL_PID
    wait_for --timeout 120 egress_on_is "$nl" "$n" || { blog "$impl: $n pairs never all steering"; return 1; }
    meta "$m" footprint_steady "$(footprint "$pid")"

    meta "$m" storm_del_ns "$(mono_now)"
    scale_vfs_del "$n" || return 1
    wait_for --timeout 60 egress_on_is "$nl" 0 || { blog "$impl: storm removal did not converge"; return 1; }
    meta "$m" storm_add_ns "$(mono_now)"
    scale_vfs_add "$n" || return 1
    wait_for --timeout 120 egress_on_is "$nl" "$n" || { blog "$impl: storm re-add did not converge"; return 1; }
    meta "$m" storm_done_ns "$(mono_now)"
    meta "$m" footprint_end "$(footprint "$pid")"
    impl_stop "$pid"
    kill -TERM "$WATCH_PID" 2>/dev/null
    meta "$m" load_after "$(loadavg)"
}
