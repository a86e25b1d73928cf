# shellcheck shell=bash
# scripts/lib/chaos_state.sh: the kernel state scripts/chaos checks: relay, links, NIC snapshots
# ("exactly as before the agent first started"), the test's own foreign filters.
# Expects: work, repo, settle; testbed.sh, chaos_record.sh, chaos_agent.sh.


# --- kernel state the invariants read ---
# hn0's egress no longer redirects (the agent's filter is gone, whatever else is at its priority).
fallen_back() { ! out_has 'Redirect to device' in_guest tc filter show dev "$TB_HN" egress; }
deadline_steer() { awk -v s="$settle" 'BEGIN{printf "%.1f", s + 10}'; }
expect_fallback() { # IDX KIND WHAT
    agent_alive || return 0
    wait_for --quiet --timeout 5 -- fallen_back ||
        violation "$1" "$2" fallback "hn0 egress still redirects to the VF 5 s after $3"
}
expect_steering() { # IDX KIND WHAT
    agent_alive || return 0
    wait_for --quiet --timeout "$(deadline_steer)" -- tb_steering_on ||
        violation "$1" "$2" steering "not steering $(deadline_steer) s after $3: $(log_tail 3)"
}
link_has_carrier() { [[ $(ip netns exec "$1" cat "/sys/class/net/$2/carrier" 2>/dev/null) == 1 ]]; }
vf_mtu_is() { [[ $(ip netns exec "$TB_GUEST" cat "/sys/class/net/$TB_VF/mtu" 2>/dev/null) == "$1" ]]; }
steering_with_vf_mtu() { vf_mtu_is "$1" && tb_steering_on; }

# --- snapshots: "exactly as before the agent first started" ---
snapshot_take() { # DIR
    local d=$1 dev hook
    mkdir -p "$d"
    for dev in "$TB_HN" "$TB_VF"; do
        ip -n "$TB_GUEST" -d -j link show dev "$dev" >"$d/link-$dev.json" 2>&1
        in_guest ethtool -k "$dev" >"$d/ethtool-$dev.txt" 2>&1
        tc -n "$TB_GUEST" -j qdisc show dev "$dev" >"$d/qdisc-$dev.json" 2>&1
        for hook in ingress egress; do
            tc -n "$TB_GUEST" -j filter show dev "$dev" "$hook" >"$d/filter-$dev-$hook.json" 2>/dev/null
        done
    done
}
snapshot_check() { # IDX KIND WHAT
    local d=$work/snap-$1 diff
    snapshot_take "$d"
    # shellcheck disable=SC2046
    diff=$(python3 "$repo/scripts/lib/chaos_snapshot.py" "$work/snap-pre" "$d" $(ff_markers)) ||
        violation "$1" "$2" restore "$3, the NICs differ from before the agent first started: $diff"
}

# --- foreign filters: match nothing (IPv4 destinations 198.19.255.241-243, never used), so
# they leave the agent's relay alone; each is identified by its u32 key ---
declare -A FF_DEV=([hn-egress-100]=$TB_HN [vf-ingress-100]=$TB_VF [hn-egress-20040]=$TB_HN)
declare -A FF_HOOK=([hn-egress-100]=egress [vf-ingress-100]=ingress [hn-egress-20040]=egress)
declare -A FF_PREF=([hn-egress-100]=100 [vf-ingress-100]=100 [hn-egress-20040]=20040)
declare -A FF_KEY=([hn-egress-100]=c613fff1 [vf-ingress-100]=c613fff3 [hn-egress-20040]=c613fff2)
declare -A FF_ON=()
ff_present() { out_has "match ${FF_KEY[$1]}/ffffffff at 16" in_guest tc filter show dev "${FF_DEV[$1]}" "${FF_HOOK[$1]}"; }
ff_add() { # IDX KIND NAME
    local n=$3 dev=${FF_DEV[$3]} try
    [[ -n ${FF_ON[$n]:-} ]] && return 0
    for try in 1 2; do   # the agent may remove its own clsact between the check and the add
        tb_has_clsact "$TB_GUEST" "$dev" || in_guest tc qdisc add dev "$dev" clsact 2>/dev/null
        if in_guest tc filter add dev "$dev" "${FF_HOOK[$n]}" pref "${FF_PREF[$n]}" protocol all \
            u32 match u32 "0x${FF_KEY[$n]}" 0xffffffff at 16 2>/dev/null; then
            FF_ON[$n]=1
            say "  foreign filter $n added (pref ${FF_PREF[$n]}, key ${FF_KEY[$n]})"
            return 0
        fi
    done
    violation "$1" "$2" testbed "could not add foreign filter $n on $dev"
}
ff_forget_vf() { unset 'FF_ON[vf-ingress-100]'; }   # the kernel drops a VF's filters with it
ff_check_all() { # IDX KIND
    local n
    for n in "${!FF_ON[@]}"; do
        ff_present "$n" && continue
        violation "$1" "$2" foreign-filter "foreign filter $n (${FF_DEV[$n]} ${FF_HOOK[$n]} pref ${FF_PREF[$n]}) was deleted"
        unset 'FF_ON[$n]'
    done
}
ff_markers() { local n; for n in "${!FF_ON[@]}"; do echo "${FF_KEY[$n]}:${FF_DEV[$n]}"; done; }
