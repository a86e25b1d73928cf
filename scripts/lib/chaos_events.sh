# shellcheck shell=bash
# scripts/lib/chaos_events.sh: the UDP streams and the events of scripts/chaos.
# Expects: work, tools, bin, rate, seconds, TB_AWAY; testbed.sh, chaos_{record,agent,state}.sh.
#
# Every event is applied and undone before the next one starts (the world is back in its base
# state between events, except for the foreign filters, which stay), so each lost packet has
# exactly one event window and each wait below has one condition to wait for.

MCAST_GROUP=239.18.0.7          # an IP group joined by a process on hn0 (no traffic is sent to it)
MCAST_LL=01:00:5e:12:00:07      # a link-layer group added with ip maddr
HN_MTU_CHAOS=1400

# --- the streams: udpseq both ways, echoed on the other side ---
SEND_P2G="" SEND_G2P="" ECHO_G="" ECHO_P="" MCAST_PID=""
streams_start() {
    local cap=$((seconds + 600))   # capacity only (memory); the senders are stopped with SIGINT
    tb_bg "$TB_GUEST" "$tools/udpseq" echo "$TB_GUEST_IP" 9000 "$work/echo-g.ready"
    ECHO_G=$TB_LAST_PID
    tb_bg "$TB_PEER" "$tools/udpseq" echo "$TB_PEER_IP" 9001 "$work/echo-p.ready"
    ECHO_P=$TB_LAST_PID
    wait_for --timeout 5 -- test -s "$work/echo-g.ready" || return 1
    wait_for --timeout 5 -- test -s "$work/echo-p.ready" || return 1
    tb_bg "$TB_PEER" "$tools/udpseq" send "$TB_GUEST_IP" 9000 "$rate" "$cap" "$work/p2g.txt"
    SEND_P2G=$TB_LAST_PID
    tb_bg "$TB_GUEST" "$tools/udpseq" send "$TB_PEER_IP" 9001 "$rate" "$cap" "$work/g2p.txt"
    SEND_G2P=$TB_LAST_PID
}
stop_pid() { # SIG PID
    [[ -n $2 ]] || return 0
    kill "-$1" "$2" 2>/dev/null
    wait "$2" 2>/dev/null
    forget_pid "$2"
}
streams_stop() {
    kill -INT "$SEND_P2G" "$SEND_G2P" 2>/dev/null
    wait_for --timeout 10 -- test -s "$work/p2g.txt"
    wait_for --timeout 10 -- test -s "$work/g2p.txt"
    stop_pid INT "$SEND_P2G"; stop_pid INT "$SEND_G2P"
    stop_pid TERM "$ECHO_G"; stop_pid TERM "$ECHO_P"
    SEND_P2G="" SEND_G2P="" ECHO_G="" ECHO_P=""
}

# Cleanup hook: the agent gets SIGTERM and time to restore before tb_cleanup removes the rest.
chaos_stop_all() {
    if agent_alive; then
        kill -TERM "$AGENT_PID" 2>/dev/null
        wait_for --quiet --timeout 10 -- agent_gone || kill -KILL "$AGENT_PID" 2>/dev/null
        agent_reap
    fi
}

# --- the events: each applies its fault, waits for the agent's reaction, undoes the fault ---
ev_vf_delete() {
    removal "$1" "$2" vf_del || return
    ff_forget_vf
    expect_fallback "$1" "$2" "the VF was deleted"
    pace
    testbed_step "$1" "$2" vf_add || return
    expect_steering "$1" "$2" "the VF was added again"
}
ev_vf_down() {
    removal "$1" "$2" vf_down || return
    expect_fallback "$1" "$2" "the VF was set down"
    pace
    testbed_step "$1" "$2" vf_up || return
    wait_for --quiet --timeout 5 -- link_has_carrier "$TB_GUEST" "$TB_VF"
    expect_steering "$1" "$2" "the VF was set up"
}
ev_vf_carrier() {
    removal "$1" "$2" ip -n "$TB_HOST" link set "$TB_VF_PORT" down || return
    expect_fallback "$1" "$2" "the VF lost its carrier"
    pace
    testbed_step "$1" "$2" ip -n "$TB_HOST" link set "$TB_VF_PORT" up || return
    wait_for --quiet --timeout 5 -- link_has_carrier "$TB_GUEST" "$TB_VF"
    expect_steering "$1" "$2" "the VF's carrier returned"
}
ev_hn_mtu() { # hn0's MTU changes: the VF must follow it; the whole change is excused
    local a b
    a=$(now_ns)
    testbed_step "$1" "$2" in_guest ip link set "$TB_HN" mtu "$HN_MTU_CHAOS" || return
    agent_alive && { wait_for --quiet --timeout "$(deadline_steer)" -- steering_with_vf_mtu "$HN_MTU_CHAOS" ||
        violation "$1" "$2" steering "not steering with VF MTU $HN_MTU_CHAOS $(deadline_steer) s after hn0's MTU changed: $(log_tail 3)"; }
    pace
    testbed_step "$1" "$2" in_guest ip link set "$TB_HN" mtu 1500
    agent_alive && { wait_for --quiet --timeout "$(deadline_steer)" -- steering_with_vf_mtu 1500 ||
        violation "$1" "$2" steering "not steering with VF MTU 1500 $(deadline_steer) s after hn0's MTU changed back: $(log_tail 3)"; }
    b=$(now_ns)
    excuse "$1" "$2" $((a - $(ms_ns $INFLIGHT_MS))) $((b + $(ms_ns "$gap_ms")))
}
ev_vf_rename() { # renamed away from --vf: the VF leaves the pair; renamed back: it returns
    testbed_step "$1" "$2" in_guest ip link set "$TB_VF" name vfx0 || return
    expect_fallback "$1" "$2" "the VF was renamed away"
    pace
    testbed_step "$1" "$2" in_guest ip link set vfx0 name "$TB_VF" || return
    expect_steering "$1" "$2" "the VF got its name back"
}
ev_vf_netns() {
    removal "$1" "$2" ip -n "$TB_GUEST" link set "$TB_VF" netns "$TB_AWAY" || return
    ff_forget_vf
    expect_fallback "$1" "$2" "the VF moved to another namespace"
    pace
    testbed_step "$1" "$2" ip -n "$TB_AWAY" link set "$TB_VF" netns "$TB_GUEST" || return
    testbed_step "$1" "$2" ip -n "$TB_GUEST" link set "$TB_VF" up || return   # a move sets it down
    wait_for --quiet --timeout 5 -- link_has_carrier "$TB_GUEST" "$TB_VF"
    expect_steering "$1" "$2" "the VF came back from another namespace"
}
# The synthetic path is back end to end: hn0 has its carrier, the switch port forwards again,
# and the guest has resolved the peer again. Setting hn0 down flushes its ARP entries, and the
# first ARP request after "up" can meet a switch port that the kernel's link watcher has not
# enabled yet; the kernel then retries after 1 s (retrans_time), dropping what it queued: that
# loss is the kernel's, not the agent's. An agent that blackholed TX would keep ARP unresolved:
# that fails the deadline below instead of being excused.
synthetic_path_back() {
    link_has_carrier "$TB_GUEST" "$TB_HN" &&
        out_has 'state forwarding' bridge -n "$TB_HOST" link show dev "$TB_HN_PORT" &&
        out_has 'REACHABLE|STALE|DELAY|PROBE' ip -n "$TB_GUEST" neigh show "$TB_PEER_IP" dev "$TB_HN"
}
ev_hn_down() { # traffic stops with hn0 itself: excused until the synthetic path is back
    local a b
    a=$(now_ns)
    testbed_step "$1" "$2" in_guest ip link set "$TB_HN" down || return
    expect_fallback "$1" "$2" "hn0 was set down"
    pace
    testbed_step "$1" "$2" in_guest ip link set "$TB_HN" up
    wait_for --quiet --timeout 5 -- synthetic_path_back ||
        violation "$1" "$2" reachability "the guest has not resolved the peer 5 s after hn0 was set up (TX blackholed?): $(ip -n "$TB_GUEST" neigh show dev "$TB_HN" | tr '\n' ' ')"
    b=$(now_ns)
    excuse "$1" "$2" $((a - $(ms_ns $INFLIGHT_MS))) $((b + $(ms_ns "$gap_ms")))
    expect_steering "$1" "$2" "hn0 was set up"
}
mcast_joined() { out_has "$MCAST_GROUP" ip -n "$TB_GUEST" maddr show dev "$TB_HN"; }
mcast_left() { ! mcast_joined; }
ev_mcast_join() { # a process joins an IP group on hn0, then leaves by exiting
    tb_bg "$TB_GUEST" python3 -c "import socket, signal
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton('$MCAST_GROUP') + socket.inet_aton('$TB_GUEST_IP'))
signal.pause()"
    MCAST_PID=$TB_LAST_PID
    wait_for --quiet --timeout 5 -- mcast_joined || violation "$1" "$2" testbed "the join of $MCAST_GROUP did not show on hn0"
    pace
    stop_pid TERM "$MCAST_PID"
    MCAST_PID=""
    wait_for --quiet --timeout 5 -- mcast_left
}
ev_mcast_maddr() {
    testbed_step "$1" "$2" in_guest ip maddr add "$MCAST_LL" dev "$TB_HN" || return
    pace
    testbed_step "$1" "$2" in_guest ip maddr del "$MCAST_LL" dev "$TB_HN"
}
ev_foreign_filter() { # on hn0 egress at another priority, or on vf0 ingress
    local pick=(hn-egress-100 vf-ingress-100)
    rng 2
    [[ -n ${FF_ON[${pick[$R]}]:-} ]] && R=$((1 - R))
    ff_add "$1" "$2" "${pick[$R]}"
}
ev_foreign_filter_20040() { ff_add "$1" "$2" hn-egress-20040; }   # hn0 egress, the agent's priority
ev_sigterm() {
    agent_term "$1" "$2"
    snapshot_check "$1" "$2" "after SIGTERM"
    agent_restart "$1" "$2" "a restart"
}
ev_sigkill() { # crash, restart (recovery from the state file), then SIGTERM must restore all
    agent_kill
    agent_start_or_violate "$1" "$2" || return
    expect_steering "$1" "$2" "a restart after SIGKILL"
    agent_term "$1" "$2"
    snapshot_check "$1" "$2" "after SIGKILL + restart + SIGTERM"
    agent_restart "$1" "$2" "a restart"
}
ev_sighup() { # must not kill the agent; the loop must still answer afterwards
    agent_alive || return 0
    kill -HUP "$AGENT_PID"
    wait_for --quiet --timeout 5 -- gone_or_answers
}

# run_event IDX KIND: apply one event and record its window.
run_event() {
    local idx=$1 kind=$2 start
    say "#$idx $kind"
    start=$(now_ns)
    "ev_${kind//-/_}" "$idx" "$kind"
    record_event "$idx" "$kind" "$start" "$(now_ns)"
}
# check_after_event IDX KIND: the agent alive (restarted if not), every foreign filter there.
check_after_event() {
    if [[ -n $AGENT_PID ]] && agent_gone; then
        agent_reap
        violation "$1" "$2" agent-alive "the agent died (exit status $AGENT_RC; 128+N is signal N) without being killed by the test: $(log_tail 3)"
    fi
    [[ -n $AGENT_PID ]] || agent_restart "$1" "$2" "a restart"
    ff_check_all "$1" "$2"
}
# final_stop IDX: the last SIGTERM and restore check, recorded as an event of its own.
final_stop() {
    local start
    start=$(now_ns)
    say "#$1 final-sigterm"
    ff_check_all "$1" final-sigterm
    agent_term "$1" final-sigterm
    snapshot_check "$1" final-sigterm "after the final SIGTERM"
    ff_check_all "$1" final-sigterm
    record_event "$1" final-sigterm "$start" "$(now_ns)"
}
