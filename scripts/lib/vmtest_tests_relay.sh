# vmtest_tests_relay.sh: the relay's classifier in the VM (sourced after vmtest_tests_datapath.sh).
# The guest's Debian kernel has cls_matchall, so the agent relays with matchall filters, whose
# delete (naming kind and priority) runs without RTNL; u32 is the fallback (issue 14).

# relay_filters DEV HOOK: "KIND:PREF:TO_DEV:ACTION_INDEX" for each filter with a mirred action.
relay_filters() {
    vm "tc -j filter show dev $1 $2" | python3 -c '
import json, sys
for f in json.load(sys.stdin):
    for a in f.get("options", {}).get("actions", []):
        if a.get("kind") == "mirred":
            print("%s:%s:%s:%s" % (f["kind"], f["pref"], a.get("to_dev"), a.get("index")))'
}
# Filters of any kind still at the agent's priority 20040 on DEV HOOK (containers included).
at_agent_priority() { vm "tc -j filter show dev $1 $2" | json 'len([f for f in d if f.get("pref") == 20040])'; }

# (h) matchall chosen and reported; the relay is matchall on both hooks; a restart with
# keep-on-exit adopts it (same filter, same action: no re-add); a hot-remove deletes it and
# leaves nothing at the agent's priority; the re-add steers through matchall again.
test_relay() {
    local status classifier egress ingress
    status=$(guest_status)
    classifier=$(json 'd["agent"].get("relay_classifier")' <<<"$status")
    [[ $classifier == matchall ]] || { fail "relay: status says relay_classifier '$classifier', not matchall"; diagnose; return; }
    vm "journalctl -u hnagent -b --no-pager -o cat | grep -q 'relay classifier matchall: cls_matchall present'" ||
        { fail "relay: the journal does not say 'relay classifier matchall'"; diagnose; return; }
    egress=$(relay_filters "$vm_syn" egress) ingress=$(relay_filters "$vm_vf" ingress)
    [[ $egress == "matchall:20040:$vm_vf:"* && $ingress == "matchall:20040:$vm_syn:"* ]] ||
        { fail "relay: filters are not matchall at 20040: $vm_syn egress '$egress', $vm_vf ingress '$ingress'"; diagnose; return; }
    relay_adoption "$egress" "$ingress" || return
    local vf_error=""
    vf_unplug || { fail "relay: $vf_error"; diagnose; return; }
    local left; left=$(at_agent_priority "$vm_syn" egress)
    [[ $left == 0 ]] || { fail "relay: $left filter(s) left at priority 20040 on $vm_syn egress after the hot-remove"; diagnose; return; }
    vf_replug || { fail "relay: $vf_error"; diagnose; return; }
    local again; again=$(relay_filters "$vm_syn" egress)
    [[ $again == "matchall:20040:$vm_vf:"* ]] || { fail "relay: after the re-add $vm_syn egress holds '$again'"; diagnose; return; }
    pass "relay: matchall chosen and in status; $egress / $ingress adopted across systemctl restart unchanged; hot-remove left nothing at 20040; re-add: $again"
}

# relay_adoption EGRESS INGRESS: restart under keep-on-exit; the new agent adopts both filters
# as they were (same kind, handle's action index, target).
relay_adoption() {
    guest_setting keep-on-exit true || { fail "relay: could not set keep-on-exit"; diagnose; return 1; }
    local since ok=1; since=$(guest_now)
    vm "systemctl restart hnagent" >/dev/null &&
        vm_wait 30 "journalctl -u hnagent --no-pager -o cat --since @$since | grep -q 'adopted relay'" &&
        vm_wait 30 "$(status_is steering)" || ok=0
    local egress ingress; egress=$(relay_filters "$vm_syn" egress) ingress=$(relay_filters "$vm_vf" ingress)
    guest_setting keep-on-exit false || echo "     (could not set keep-on-exit back to false)"
    ((ok)) || { fail "relay: no 'adopted relay' and steering within 30 s of systemctl restart"; diagnose; return 1; }
    [[ $egress == "$1" && $ingress == "$2" ]] ||
        { fail "relay: the restart replaced the relay: before $1 / $2, after $egress / $ingress"; diagnose; return 1; }
}

# relay-ratio (on request: VMTEST_ONLY=relay-ratio): TX loss per hot-remove with the relay
# forced to u32 (HNAGENT_RELAY_CLASSIFIER=u32 in a runtime drop-in) against matchall,
# interleaved u32, matchall, u32, ... VMTEST_RELAY_ROUNDS rounds each. Each sample: a UDP
# stream from the guest (iperf3 -R, 1000 packets/s) with the VF hot-removed ~1.5 s in; the lost
# datagrams the peer counts, the agent's fallback switch_ms, and the reaction as independent
# watchers in the guest saw it (the VF's down notification -> hn's egress filter deleted).
# Prints the medians and the u32/matchall ratios.
test_relay_ratio() {
    local rounds=${VMTEST_RELAY_ROUNDS:-5} round mode samples=$vm_run/relay-ratio.txt
    guest_setting flap-threshold 0 || { fail "relay-ratio: could not turn flap damping off"; return; }
    : >"$samples"
    for ((round = 1; round <= rounds; round++)); do
        for mode in u32 matchall; do
            relay_ratio_sample "$mode" >>"$samples" || { relay_ratio_cleanup; fail "relay-ratio: round $round ($mode): $(tail -1 "$samples")"; return; }
            echo "     round $round $(tail -1 "$samples")"
        done
    done
    relay_ratio_cleanup
    local summary; summary=$(python3 - "$samples" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def med(mode, col): return statistics.median(float(r[col]) for r in rows if r[0] == mode)
def ratio(a, b): return "%.2f" % (a / b) if b else ("inf" if a else "1 (both 0)")
lu, lm, su, sm, ru, rm = (med(m, c) for c in (1, 2, 3) for m in ("u32", "matchall"))
print("%d samples each; medians u32 / matchall: lost per removal %g / %g (ratio %s), VF down -> filter deleted %g / %g ms (ratio %s), fallback switch_ms %g / %g"
      % (len(rows) // 2, lu, lm, ratio(lu, lm), ru, rm, ratio(ru, rm), su, sm))
PY
)
    pass "relay-ratio: $summary"
}

# relay_ratio_sample MODE: prints "MODE LOST SWITCH_MS REACTION_MS" (or an error line, returning 1).
relay_ratio_sample() {
    local mode=$1 vf_error="" out=$vm_run/relay-ratio-$1.json since
    vm "mkdir -p /run/systemd/system/hnagent.service.d && printf '[Service]\nEnvironment=HNAGENT_RELAY_CLASSIFIER=$mode\n' >/run/systemd/system/hnagent.service.d/vmtest-classifier.conf && systemctl daemon-reload" >/dev/null
    since=$(guest_now)
    # keep-on-exit is false: the stop removes the relay, the new agent installs it with MODE.
    vm "systemctl restart hnagent" >/dev/null
    vm_wait 60 "$(status_is steering)" && vm_wait 10 "$(egress_redirect)" || { echo "error: not steering after the restart"; return 1; }
    [[ $(relay_filters "$vm_syn" egress) == "$mode:"* ]] || { echo "error: relay is $(relay_filters "$vm_syn" egress), not $mode"; return 1; }
    # Independent watchers in the guest, started well before the removal: the VF's first
    # notification that it is down or gone, and the notification that hn's egress filter is deleted.
    vm "rm -f /run/vmtest-mon-*; setsid ip -ts monitor link >/run/vmtest-mon-link.txt 2>&1 </dev/null & echo \$! >/run/vmtest-mon-link.pid; setsid tc -ts monitor >/run/vmtest-mon-tc.txt 2>&1 </dev/null & echo \$! >/run/vmtest-mon-tc.pid" >/dev/null
    vm "iperf3 -s -1 -D -B ${VM_GUEST_ADDR%/*} --pidfile /run/vmtest-iperf3.pid" >/dev/null &&
        vm_wait 30 "ss -Hltn 'sport = 5201' | grep -q ." || { echo "error: iperf3 -s did not start in the guest"; return 1; }
    ip netns exec "$vm_peerns" iperf3 -c "${VM_GUEST_ADDR%/*}" -R -u -b 4M -l 500 -t 8 -J >"$out" 2>&1 &
    local client=$!
    vm_test_pids+=("$client")
    # The removal falls inside the stream, not at its edge: about 1.5 s of it through the VF first.
    local tx0; tx0=$(vf_counter tx_packets)
    vm_wait 15 "((\$(cat /sys/class/net/$vm_vf/statistics/tx_packets) > $tx0 + 1500))" ||
        { wait "$client"; echo "error: the stream did not go through $vm_vf"; return 1; }
    vf_unplug || { wait "$client"; echo "error: $vf_error"; return 1; }
    wait "$client"
    local switch_ms lost reaction
    switch_ms=$(guest_status | json 'd["pairs"][0]["last_switch"]["switch_ms"]')
    lost=$(json 'd["end"]["sum"]["lost_packets"]' <"$out") || { echo "error: iperf3: $(tail -c 200 "$out")"; return 1; }
    vm "kill \$(cat /run/vmtest-mon-link.pid) \$(cat /run/vmtest-mon-tc.pid)" >/dev/null
    reaction=$(relay_reaction_ms) || { echo "error: watchers: $reaction"; return 1; }
    vf_replug || { echo "error: $vf_error"; return 1; }
    echo "$mode $lost $switch_ms $reaction"
}

# Milliseconds from the VF's first down-or-gone link notification to the deletion of hn's
# egress filter, as the watchers' timestamps (ip/tc -ts monitor, microseconds) saw them.
relay_reaction_ms() {
    local link tc; link=$(vm "cat /run/vmtest-mon-link.txt") tc=$(vm "cat /run/vmtest-mon-tc.txt")
    LINK=$link TC=$tc VF=$vm_vf SYN=$vm_syn python3 - <<'PY'
import datetime, os, re, sys
def ts(line): return datetime.datetime.fromisoformat(line[1:line.index("]")]).timestamp()
vf, syn = os.environ["VF"], os.environ["SYN"]
down = next((ts(l) for l in os.environ["LINK"].splitlines()
             if re.match(r"\[[^]]+\] (Deleted )?\d+: %s[:@]" % re.escape(vf), l)
             and ("Deleted" in l or not re.search(r"[<,]UP[,>]", l))), None)
gone = next((ts(l) for l in os.environ["TC"].splitlines() if "deleted filter dev %s egress" % syn in l), None)
if down is None or gone is None:
    print("no %s" % ("VF down notification" if down is None else "egress filter deletion")); sys.exit(1)
print("%.3f" % ((gone - down) * 1000))
PY
}

relay_ratio_cleanup() {
    vm "rm -f /run/systemd/system/hnagent.service.d/vmtest-classifier.conf; systemctl daemon-reload; systemctl restart hnagent" >/dev/null
    vm_wait 60 "$(status_is steering)" >/dev/null
    guest_setting flap-threshold 5 || echo "     (could not set flap-threshold back to 5)"
}
