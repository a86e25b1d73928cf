# vmtest_tests_datapath.sh: the data-path VM tests of scripts/vmtest (sourced after
# vmtest_tests.sh): a refused MTU, a TCP stream across PCI hot-plug cycles, counter totals
# across a hot-remove, the kernel-config preflight. They run after steer, on a steering pair.

# json EXPR: evaluates a Python expression over the JSON document on stdin (as d).
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
guest_status() { vm "hnagent status --json"; }
# The guest's clock, for journalctl --since (whole seconds: the journal is read a little wide).
guest_now() { vm "date +%s"; }
agent_journal() { vm "journalctl -u hnagent --no-pager -o cat --since @$1"; }

# guest_setting KEY VALUE: sets KEY (as written in hnagent.toml) and reloads the agent; returns
# once the agent logged the change.
guest_setting() {
    local since; since=$(guest_now)
    vm "sed -i 's/^$1 = .*/$1 = $2/' /etc/hnagent/hnagent.toml && grep -qx '$1 = $2' /etc/hnagent/hnagent.toml && systemctl reload hnagent" >/dev/null &&
        vm_wait 15 "journalctl -u hnagent --no-pager -o cat --since @$since | grep -q 'reload: .*$1'"
}

# (d) An MTU the VF refuses (e1000e: max_mtu 9212) keeps the pair on the synthetic path with
# the kernel's reason, retried with back-off; an MTU the VF takes steers again.
test_mtu_refused() {
    local mtu0 vf_max syn_max big since
    mtu0=$(vm "cat /sys/class/net/$vm_syn/mtu")
    vf_max=$(vm "ip -d -j link show $vm_vf" | json 'd[0]["max_mtu"]')
    syn_max=$(vm "ip -d -j link show $vm_syn" | json 'd[0]["max_mtu"]')
    big=$((vf_max + 88))
    ((syn_max >= big)) || { fail "mtu-refused: $vm_syn takes at most MTU $syn_max, not above $vm_vf's $vf_max"; return; }
    # Retries after the first are logged at debug level only.
    guest_setting level '"debug"' || { fail "mtu-refused: could not set logging.level debug"; diagnose; return; }
    since=$(guest_now)
    mtu_refused_steps "$mtu0" "$vf_max" "$big" "$since"
    vm "ip link set $vm_syn mtu $mtu0" >/dev/null
    vm_wait 60 "$(status_is steering)" && vm_wait 10 "$(egress_redirect)" &&
        vm_wait 10 "[[ \$(cat /sys/class/net/$vm_vf/mtu) == $mtu0 ]]" ||
        { fail "mtu-refused: not steering with MTU $mtu0 on both NICs after restoring it (state $(guest_status | json 'd["pairs"][0]["state"]'), $vm_vf mtu $(vm "cat /sys/class/net/$vm_vf/mtu"))"
          vm "journalctl -u hnagent --no-pager -o cat --since @$since | tail -30" | sed 's/^/     /'; }
    guest_setting level '"info"' || fail "mtu-refused: could not set logging.level back to info"
}

mtu_refused_steps() {
    local mtu0=$1 vf_max=$2 big=$3 since=$4 log status reason retries gaps ok=9000 started rx0
    vm "ip link set $vm_syn mtu $big" || { fail "mtu-refused: ip link set $vm_syn mtu $big failed"; return; }
    vm_wait 10 "! $(egress_redirect)" || { fail "mtu-refused: egress redirect still there with MTU $big on $vm_syn"; diagnose; return; }
    status=$(guest_status)
    [[ $(json 'd["pairs"][0]["state"]' <<<"$status") == held-back ]] ||
        { fail "mtu-refused: status says $(json 'd["pairs"][0]["state"]' <<<"$status"), not held-back"; return; }
    [[ $(vm "cat /sys/class/net/$vm_vf/mtu") == "$mtu0" ]] || { fail "mtu-refused: $vm_vf's MTU changed though refused"; return; }
    # Three retries after the first failure: 1 + 2 + 4 s of back-off; the next is 8 s away.
    vm_wait 30 "journalctl -u hnagent --no-pager -o cat --since @$since | grep -q 'refused MTU $big.*(again, failure 4)'" ||
        { fail "mtu-refused: no third retry of MTU $big in the journal within 30 s"; diagnose; return; }
    started=$EPOCHREALTIME
    vm "ip link set $vm_syn mtu $ok" >/dev/null
    # At once, not when that back-off runs out: a new MTU is a new request.
    vm_wait 4 "[[ \$(cat /sys/class/net/$vm_vf/mtu) == $ok ]]" ||
        { fail "mtu-refused: $vm_vf's MTU not $ok within 4 s of $vm_syn's (waiting out the back-off?)"; diagnose; return; }
    local followed; followed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    # e1000e resets itself on an MTU change: its carrier comes back some seconds later.
    vm_wait 30 "$(status_is steering)" && vm_wait 5 "$(egress_redirect)" ||
        { fail "mtu-refused: not steering within 30 s after $vm_syn's MTU went to $ok"; diagnose; return; }
    local back; back=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    rx0=$(vf_counter rx_packets)
    peer_ping 5 || { fail "mtu-refused: ping lost packets steering at MTU $ok"; diagnose; return; }
    (($(vf_counter rx_packets) - rx0 >= 5)) || { fail "mtu-refused: $vm_vf did not count the ping at MTU $ok"; return; }
    log=$(VM_TIMEOUT=20 vm "journalctl -u hnagent --no-pager -o short-unix --since @$since | grep 'refused MTU $big'")
    reason=$(grep -m1 -v 'again, failure' <<<"$log" | sed 's/.*not steering through it: //')
    [[ $reason == *"greater than device maximum"* ]] ||
        { fail "mtu-refused: the error does not carry the kernel's reason: $reason"; diagnose; return; }
    retries=$(grep -c 'again, failure' <<<"$log")
    # Seconds between the first failure and each retry: the back-off (1 s, doubling).
    gaps=$(awk '{ t[NR] = $1 } END { for (i = 2; i <= NR; i++) printf "%s%.1f", (i > 2 ? " " : ""), t[i] - t[i - 1] }' <<<"$log")
    pass "mtu-refused: MTU $big (> $vm_vf's max $vf_max): no egress redirect, held-back, kernel's reason '$reason', $retries retries $gaps s apart; MTU $ok: $vm_vf follows in $followed s, steering again in $back s (e1000e's reset), ping 5/5 through $vm_vf"
}

# (e) status totals across a hot-remove of the e1000e equal what the peer sent and received:
# its own interface counters, with the test bed made quiet so that it sends nothing but the
# pings (no ARP, no IPv6) and the taps do not reflect the guest's broadcasts to each other.
test_counters() {
    counters_quiet on || { counters_quiet off; fail "counters: could not quiet the test bed"; return; }
    counters_steps
    counters_quiet off
}

counters_quiet() {
    local on=$1 dev sysctl=1 neigh=replace isolated=on
    [[ $on == on ]] || sysctl=0 neigh=del isolated=off
    local peer_mac; peer_mac=$(ip -n "$vm_peerns" -j link show eth0 | json 'd[0]["address"]')
    ip netns exec "$vm_peerns" sysctl -qw "net.ipv6.conf.eth0.disable_ipv6=$sysctl" &&
    for dev in br0 peer tap-syn tap-vf; do
        ip netns exec "$vm_hostns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=$sysctl" || return 1
    done &&
    bridge -n "$vm_hostns" link set dev tap-syn isolated "$isolated" &&
    bridge -n "$vm_hostns" link set dev tap-vf isolated "$isolated" &&
    if [[ $on == on ]]; then
        ip -n "$vm_peerns" neigh replace "${VM_GUEST_ADDR%/*}" lladdr "$VM_MAC" dev eth0 nud permanent &&
        vm "ip neigh replace ${VM_PEER_ADDR%/*} lladdr $peer_mac dev $vm_syn nud permanent" >/dev/null
    else
        ip -n "$vm_peerns" neigh del "${VM_GUEST_ADDR%/*}" dev eth0 2>/dev/null
        vm "ip neigh del ${VM_PEER_ADDR%/*} dev $vm_syn" >/dev/null 2>&1
        true
    fi
}

# rx_packets tx_packets of the pair's total in hnagent status, and of the peer's eth0.
pair_totals() { guest_status | json '"%d %d" % (d["pairs"][0]["traffic"]["total"]["rx_packets"], d["pairs"][0]["traffic"]["total"]["tx_packets"])'; }
peer_counters() { echo "$(ip netns exec "$vm_peerns" cat /sys/class/net/eth0/statistics/rx_packets) $(ip netns exec "$vm_peerns" cat /sys/class/net/eth0/statistics/tx_packets)"; }

counters_steps() {
    local vf_error="" p0 p1 a0 a1 recovered
    read -r a0_rx a0_tx <<<"$(pair_totals)" && read -r p0_rx p0_tx <<<"$(peer_counters)" ||
        { fail "counters: could not read the starting counters"; return; }
    peer_ping 20 || { fail "counters: ping lost packets while steering"; diagnose; return; }
    # Removed right after the pings: the relay's last reading may miss some of them, which the
    # agent recovers from the e1000e's own counters in its removal events.
    vf_unplug || { fail "counters: $vf_error"; diagnose; return; }
    peer_ping 20 || { fail "counters: ping lost packets on the synthetic path"; diagnose; return; }
    vf_replug || { fail "counters: $vf_error"; diagnose; return; }
    peer_ping 20 || { fail "counters: ping lost packets after the re-add"; diagnose; return; }
    local status; status=$(guest_status)
    read -r a1_rx a1_tx <<<"$(json '"%d %d" % (d["pairs"][0]["traffic"]["total"]["rx_packets"], d["pairs"][0]["traffic"]["total"]["tx_packets"])' <<<"$status")"
    recovered=$(json '"%d/%d" % (d["pairs"][0]["traffic"]["recovered_at_vf_removal"]["rx_packets"], d["pairs"][0]["traffic"]["recovered_at_vf_removal"]["tx_packets"])' <<<"$status")
    read -r p1_rx p1_tx <<<"$(peer_counters)"
    local guest_rx=$((a1_rx - a0_rx)) guest_tx=$((a1_tx - a0_tx)) peer_rx=$((p1_rx - p0_rx)) peer_tx=$((p1_tx - p0_tx))
    local what="pair total rx +$guest_rx tx +$guest_tx, peer sent $peer_tx received $peer_rx (60 pings; recovered at removal rx/tx $recovered)"
    if ((guest_rx == peer_tx && guest_tx == peer_rx)); then
        pass "counters: across a hot-remove of $vm_vf: $what"
    else
        fail "counters: totals differ from the peer's: $what"
    fi
}

# (f) An iperf3 TCP stream from the peer to the guest survives 5 PCI hot-remove/re-add cycles
# of the e1000e: iperf3 exits 0 (no reset), bytes arrive in every second, and the timeline
# shows each fallback and each steering-on. Flap damping is off meanwhile: 5 detaches within a
# minute is what it exists to hold back.
VMTEST_TCP_CYCLES=5
test_tcp_hotplug() {
    local seconds=${VMTEST_TCP_SECONDS:-75} client="" seq0 out=$vm_run/iperf3.json
    guest_setting flap-threshold 0 || { fail "tcp-hotplug: could not turn flap damping off"; diagnose; return; }
    seq0=$(vm "hnagent events --json | tail -1" | json 'd["seq"]')
    vm "iperf3 -s -1 -D -J -B ${VM_GUEST_ADDR%/*} -i 0.2 --pidfile /run/vmtest-iperf3.pid" >/dev/null &&
        vm_wait 30 "ss -Hltn 'sport = 5201' | grep -q ." ||
        { fail "tcp-hotplug: iperf3 -s did not start in the guest"; tcp_hotplug_cleanup; return; }
    ip netns exec "$vm_peerns" iperf3 -c "${VM_GUEST_ADDR%/*}" -t "$seconds" -b 20M -i 1 -J --get-server-output >"$out" 2>&1 &
    client=$!
    vm_test_pids+=("$client")
    local cycle vf_error="" started=$SECONDS times=()
    for ((cycle = 1; cycle <= VMTEST_TCP_CYCLES; cycle++)); do
        local t0=$SECONDS
        vf_unplug && vf_replug || { fail "tcp-hotplug: cycle $cycle: $vf_error"; diagnose; tcp_hotplug_cleanup "$client"; return; }
        times+=("$((SECONDS - t0))")
        kill -0 "$client" 2>/dev/null ||
            { fail "tcp-hotplug: the stream ended during cycle $cycle ($((SECONDS - started)) s of $seconds): $(tail -c 300 "$out")"; tcp_hotplug_cleanup; return; }
    done
    local rc=0
    wait "$client" || rc=$?
    client=""
    local report; report=$(tcp_hotplug_report "$out" "$seq0") || { fail "tcp-hotplug: iperf3 exit $rc: $report"; tcp_hotplug_cleanup; return; }
    if ((rc == 0)); then
        pass "tcp-hotplug: $VMTEST_TCP_CYCLES cycles (${times[*]} s each) under a ${seconds} s iperf3 stream: $report"
    else
        fail "tcp-hotplug: iperf3 exit $rc: $report"
    fi
    tcp_hotplug_cleanup
}

tcp_hotplug_cleanup() {
    [[ -n ${1:-} ]] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null
    vm "[[ -f /run/vmtest-iperf3.pid ]] && kill \$(cat /run/vmtest-iperf3.pid); rm -f /run/vmtest-iperf3.pid" >/dev/null
    guest_setting flap-threshold 5 || echo "     (could not set flap-threshold back to 5)"
}

# tcp_hotplug_report IPERF3_JSON SEQ0: one line (retransmits, longest stall, switches in the
# timeline); fails when an interval had no bytes, iperf3 reported an error or a switch is missing.
tcp_hotplug_report() {
    local timeline; timeline=$(vm "hnagent events --json")
    TIMELINE=$timeline SEQ0=$2 CYCLES=$VMTEST_TCP_CYCLES python3 - "$1" <<'PY'
import json, os, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    print("no JSON from iperf3: %s" % e); sys.exit(1)
if "error" in d:
    print("iperf3: %s" % d["error"]); sys.exit(1)
sent = d["end"]["sum_sent"]
client = [i["sum"]["bytes"] for i in d["intervals"]]
server = d.get("server_output_json", {}).get("intervals", [])
# The longest run of receiver intervals without a byte, from the first byte on: how long the
# stream stalled.
stall = run = 0.0
while server and server[0]["sum"]["bytes"] == 0:
    server = server[1:]
for i in server:
    run = run + i["sum"]["seconds"] if i["sum"]["bytes"] == 0 else 0.0
    stall = max(stall, run)
step = server[0]["sum"]["seconds"] if server else 0
kinds = [json.loads(l)["kind"] for l in os.environ["TIMELINE"].splitlines()
         if l.strip() and json.loads(l)["seq"] > int(os.environ["SEQ0"])]
falls, steers = kinds.count("fallback"), kinds.count("steering-on")
print("%.1f s, %d MB received, %d retransmits, %d/%d 1-s intervals with bytes, longest stall %.1f s (receiver, %.1f s intervals), timeline: %d fallback, %d steering-on"
      % (sent["seconds"], d["end"]["sum_received"]["bytes"] // 1000000, sent.get("retransmits", -1),
         sum(1 for b in client if b > 0), len(client), stall, step, falls, steers))
cycles = int(os.environ["CYCLES"])
ok = all(b > 0 for b in client) and falls == cycles and steers == cycles and server
sys.exit(0 if ok else 1)
PY
}

# (g) The kernel-config preflight: the agent under its unit read /boot/config-$(uname -r); a
# config without CONFIG_NET_CLS_U32 makes `hnagent run` exit 69 naming it, with no NIC touched.
test_preflight() {
    local line; line=$(vm "journalctl -u hnagent -b --no-pager -o cat | grep -m1 'kernel config'")
    if [[ $line != *"/boot/config-"*"CONFIG_NET_CLS_U32"* || $line == *"not readable"* ]]; then
        fail "preflight: the agent did not say it read /boot/config-*: '$line'"; return
    fi
    vm "systemctl stop hnagent" >/dev/null || { fail "preflight: systemctl stop hnagent failed"; return; }
    preflight_steps "$line"
    vm "rm -f /run/vmtest-config-no-u32; systemctl start hnagent" >/dev/null
    vm_wait 60 "$(status_is steering)" && vm_wait 10 "$(egress_redirect)" ||
        { fail "preflight: not steering again after systemctl start hnagent"; diagnose; }
}

preflight_steps() {
    local snapshot="ip -d -j link show $vm_syn; ip -d -j link show $vm_vf; tc -j qdisc show dev $vm_syn; tc -j qdisc show dev $vm_vf; ethtool -k $vm_syn; ethtool -k $vm_vf"
    local before after output rc
    before=$(vm "$snapshot")
    vm "grep -v '^CONFIG_NET_CLS_U32=' /boot/config-\$(uname -r) >/run/vmtest-config-no-u32" >/dev/null
    output=$(vm "HNAGENT_KERNEL_CONFIG=/run/vmtest-config-no-u32 timeout 20 hnagent run --settle 0 --state-file /run/vmtest-preflight/state --control-socket ''")
    rc=$?
    after=$(vm "$snapshot")
    if ((rc != 69)) || [[ $output != *"lacks the u32 classifier (CONFIG_NET_CLS_U32, module cls_u32)"* ]]; then
        fail "preflight: without CONFIG_NET_CLS_U32 hnagent run exited $rc (want 69): ${output:0:300}"; return
    fi
    [[ $before == "$after" ]] || { fail "preflight: the refused start changed the NICs: $(diff <(echo "$before") <(echo "$after") | head -5 | tr '\n' ' ')"; return; }
    pass "preflight: journal '${1:0:120}'; without CONFIG_NET_CLS_U32: exit 69 '$(grep -o 'the kernel lacks[^;]*' <<<"$output")', NICs unchanged"
}
