# shellcheck shell=bash
# scripts/lib/chaos_events.sh: the events and checks of scripts/chaos (sourced after
# scripts/lib/testbed.sh). Expects: work, tools, bin, settle, gap_ms, rate, seconds, TB_AWAY.
#
# Every event is applied and undone before the next one starts (the world is back in its base
# state between events, except for the foreign filters, which stay), so each lost packet has
# exactly one event window and each wait below has one condition to wait for.

# Packets sent this long before a removal may still be in flight (a round trip through three
# namespaces on a loaded machine) when the VF goes; they are excused with the removal.
INFLIGHT_MS=20
MCAST_GROUP=239.18.0.7          # an IP group joined by a process on hn0 (no traffic is sent to it)
MCAST_LL=01:00:5e:12:00:07      # a link-layer group added with ip maddr
HN_MTU_CHAOS=1400

agent_log=$work/agent.log
AGENT_PID=""
AGENT_RC=""
T0_NS=""

now_ns() { "$tools/nlwatch" --now; }   # CLOCK_MONOTONIC, the clock udpseq stamps packets with
since_start() { awk -v n="$(now_ns)" -v t="${T0_NS:-0}" 'BEGIN{printf "%.1f", (n-t)/1e9}'; }
say() { printf 'chaos: [%7s s] %s\n' "$(since_start)" "$*" >&2; }

# --- seeded generator: its own state, so nothing else that draws $RANDOM shifts the sequence ---
RNG_STATE=0
R=0
rng_seed() { RNG_STATE=$(($1 * 2654435761 + 12345)); }
rng() { # N: R = a number in [0, N)
    RNG_STATE=$((RNG_STATE * 6364136223846793005 + 1442695040888963407))
    R=$((((RNG_STATE >> 33) & 0x7fffffff) % $1))
}
# The deliberate random pacing between and inside events (0.2 to 2 s); never a synchronisation.
pace() {
    rng 1801
    local ms=$((200 + R))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

# --- bookkeeping read by chaos_report.py ---
violation() { # IDX KIND INVARIANT DETAIL
    local detail=${4//$'\t'/ }
    detail=${detail//$'\n'/; }
    printf '%s\t%s\t%s\t%s\t%s\n' "$(now_ns)" "$3" "$1" "$2" "${detail:0:2000}" >>"$work/violations.tsv"
    say "VIOLATION $3 (event #$1 $2): ${detail:0:400}"
}
record_event() { printf 'event %s %s %s %s\n' "$@" >>"$work/events.tsv"; }   # IDX KIND START END
excuse() { printf 'excuse %s %s %s %s\n' "$@" >>"$work/events.tsv"; }        # IDX KIND FROM TO
ms_ns() { echo $(($1 * 1000000)); }

# removal IDX KIND CMD...: a VF removal, admin-down or carrier loss; loss is excused from
# INFLIGHT_MS before the command until gap_ms after it returned.
removal() {
    local idx=$1 kind=$2 a b rc
    shift 2
    a=$(now_ns)
    "$@"
    rc=$?
    b=$(now_ns)
    excuse "$idx" "$kind" $((a - $(ms_ns $INFLIGHT_MS))) $((b + $(ms_ns "$gap_ms")))
    return $rc
}

# --- the agent ---
agent_alive() {
    [[ -n $AGENT_PID ]] || return 1
    local st
    st=$(awk '{print $3}' "/proc/$AGENT_PID/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z ]]
}
agent_gone() { ! agent_alive; }
forget_pid() {
    local i
    for i in "${!TB_PIDS[@]}"; do
        [[ ${TB_PIDS[$i]} == "$1" ]] && unset 'TB_PIDS[i]'
    done
    TB_PIDS=("${TB_PIDS[@]}")
}
agent_reap() { # sets AGENT_RC; the PID is forgotten so cleanup never signals a reused PID
    AGENT_RC=""
    [[ -n $AGENT_PID ]] || return 0
    wait "$AGENT_PID" 2>/dev/null
    AGENT_RC=$?
    forget_pid "$AGENT_PID"
    AGENT_PID=""
}
log_lines() { wc -l <"$agent_log" 2>/dev/null || echo 0; }
# out_has PATTERN CMD...: CMD's output matches PATTERN (grep -E). Not "CMD | grep -q": under
# pipefail, grep -q leaving early makes CMD die of SIGPIPE and the match reads as a failure.
out_has() {
    local pattern=$1 out
    shift
    out=$("$@" 2>/dev/null)
    grep -qE -- "$pattern" <<<"$out"
}
log_has_since() { out_has "$2" tail -n "+$(($1 + 1))" "$agent_log"; }
log_tail() { tail -n "${1:-5}" "$agent_log" 2>/dev/null | tr '\n' '|'; }
agent_ready_or_gone() { log_has_since "$1" 'ready:' || agent_gone; }

# agent_start: run the agent in the guest; returns once it logged "ready" (1 if it did not).
agent_start() {
    local mark
    echo "--- chaos: agent start at $(date -u +%H:%M:%S.%N)" >>"$agent_log"
    mark=$(log_lines)
    # Flap damping off: the test detaches the VF far more often than any host would.
    ip netns exec "$TB_GUEST" "$bin" run --synthetic "$TB_HN" --vf "$TB_VF" --settle "$settle" \
        --flap-threshold 0 --state-file "$work/state" --control-socket "$work/agent.sock" \
        --log-level info >/dev/null 2>>"$agent_log" </dev/null &
    AGENT_PID=$!
    TB_PIDS+=("$AGENT_PID")
    wait_for --quiet --timeout 20 -- agent_ready_or_gone "$mark" && agent_alive
}
agent_start_or_violate() { # IDX KIND
    agent_start && return 0
    if agent_alive; then
        violation "$1" "$2" agent-start "not ready 20 s after start: $(log_tail)"
    else
        agent_reap
        violation "$1" "$2" agent-start "exited with status $AGENT_RC at start: $(log_tail)"
    fi
    return 1
}
# Adding or deleting a clsact qdisc on a running device makes the kernel swap its TX queues to
# noop for an RCU grace period (qdisc_graft -> dev_deactivate), dropping what is sent just then:
# measured without any agent, 40 add+del cycles on hn0 under a 500 packets/s stream lost 3
# packets. The agent does that when it stops (its clsact on hn0 removed, to restore hn0 as it
# was) and when it first attaches; both are excused like a removal. A restart after SIGKILL
# adopts the relay without touching qdiscs and is not excused.
#
# agent_term IDX KIND: SIGTERM, wait for the exit, check the exit status.
agent_term() {
    agent_alive || return 0
    local a
    a=$(now_ns)
    kill -TERM "$AGENT_PID"
    if ! wait_for --quiet --timeout 15 -- agent_gone; then
        violation "$1" "$2" exit-code "still running 15 s after SIGTERM; SIGKILL: $(log_tail)"
        kill -KILL "$AGENT_PID" 2>/dev/null
    fi
    agent_reap
    excuse "$1" "$2" $((a - $(ms_ns $INFLIGHT_MS))) $(($(now_ns) + $(ms_ns "$gap_ms")))
    [[ $AGENT_RC == 0 ]] ||
        violation "$1" "$2" exit-code "exit status $AGENT_RC after SIGTERM (expected 0): $(log_tail)"
}
# agent_restart IDX KIND WHAT: a fresh start that creates its qdiscs (see above), until steering.
agent_restart() {
    local a
    a=$(now_ns)
    agent_start_or_violate "$1" "$2" && expect_steering "$1" "$2" "$3"
    excuse "$1" "$2" $((a - $(ms_ns $INFLIGHT_MS))) $(($(now_ns) + $(ms_ns "$gap_ms")))
}
agent_kill() { # SIGKILL, as a crash would
    agent_alive || return 0
    {   # bash reports a job killed by a signal on stderr: expected here, not news
        kill -KILL "$AGENT_PID"
        wait_for --quiet --timeout 10 -- agent_gone
        agent_reap
    } 2>/dev/null
}

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
testbed_step() { # IDX KIND CMD...: a step of the test itself; its failure is reported too
    local idx=$1 kind=$2
    shift 2
    "$@" && return 0
    violation "$idx" "$kind" testbed "the test's own step failed: $*"
    return 1
}

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
# A status answer after the signal: the loop turned with the signal pending (a default-action
# SIGHUP has killed the process before that).
gone_or_answers() { agent_gone || "$bin" status --socket "$work/agent.sock" >/dev/null 2>&1; }
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
