# shellcheck shell=bash
# scripts/lib/chaos_agent.sh: the agent under test in scripts/chaos: start, stop, crash, the
# checks of its life. Expects: work, bin, settle, gap_ms, TB_GUEST; chaos_record.sh.

agent_log=$work/agent.log
AGENT_PID=""
AGENT_RC=""

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

# A status answer after the signal: the loop turned with the signal pending (a default-action
# SIGHUP has killed the process before that).
gone_or_answers() { agent_gone || "$bin" status --socket "$work/agent.sock" >/dev/null 2>&1; }
