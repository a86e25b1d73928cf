# vmtest_tests_drain.sh: planned maintenance in the VM (sourced after vmtest_tests_relay.sh):
# `hnagent drain` before a real PCI hot-unplug of the e1000e, `undrain` after it is back (issue 14).

VMTEST_DRAIN_RATE=1000  # packets/s of the guest's stream
drain_noise=20          # TX packets an idle path may still carry in a window (ARP and the like)
drain_port=9000
drain_paths="" drain_error="" drain_recorder=""

# (i) A sequence-numbered UDP stream from the guest (udpseq, 1000 packets/s) to the peer, which
# records every sequence number and echoes it back, runs across: steering through the e1000e ->
# `hnagent drain` (answers once the egress redirect is gone: read back at once) -> the e1000e
# hot-unplugged over QMP -> hot-plugged back, settled, still drained -> `hnagent undrain`
# (redirect back: read back) -> steering. Guest TX must lose nothing; the e1000e's and the
# virtio NIC's own tx_packets show which one carried the stream in each stage. The echoes (guest
# RX) must not either: here the host's bridge learns the guest's MAC from its TX, so RX moves to
# the virtio NIC with the first packet after the drain, and what is still in flight to the
# e1000e meets its RX relay, which a drain keeps. (A host switch that does not learn from TX
# would lose RX at the unplug, drain or not: hnagent cannot move it.)
test_drain() {
    local work=$vm_run/drain seq0
    mkdir -p "$work" && : >"$work/marks"
    drain_paths="" drain_error=""
    seq0=$(vm "hnagent events --json | tail -1" | json 'd["seq"]')
    local rcvbuf0; rcvbuf0=$(peer_udp_rcvbuf_errors)
    if drain_streams_start "$work" && drain_steps; then
        drain_report "$work" "$seq0" "$rcvbuf0"
    else
        fail "drain: $drain_error"; diagnose
    fi
    drain_cleanup
}

# The peer's UDP receive-buffer drops: a TX "loss" the recorder itself caused would show here.
peer_udp_rcvbuf_errors() {
    ip netns exec "$vm_peerns" awk '/^Udp:/ { if (n++) { for (i = 1; i <= NF; i++) if (h[i] == "RcvbufErrors") print $i } else for (i = 1; i <= NF; i++) h[i] = $i }' /proc/net/snmp
}

# The guest's CLOCK_MONOTONIC in ns (the clock udpseq stamps each packet with): a stage mark.
drain_mark() { echo "$1 $(vm "awk '/^now at/ { print \$3; exit }' /proc/timer_list")" >>"$work/marks"; }

# The peer's recorder (every sequence number seen, with its send time; each echoed back), then
# udpseq in the guest.
drain_streams_start() {
    local work=$1
    ip netns exec "$vm_peerns" python3 - "${VM_PEER_ADDR%/*}" "$drain_port" "$work/peer.json" "$work/peer.ready" <<'PY' &
import json, signal, socket, struct, sys
addr, port, out, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((addr, port))
s.settimeout(0.2)
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
open(ready, "w").write("ready\n")
sent_ns = {}  # seq -> the guest's send time (udpseq's packet: u64 seq, i64 CLOCK_MONOTONIC ns)
while not stop:
    try:
        data, peer = s.recvfrom(2048)
    except (socket.timeout, InterruptedError):
        continue
    if len(data) >= 16:
        seq, t = struct.unpack_from("<Qq", data)
        sent_ns.setdefault(seq, t)
    s.sendto(data, peer)
json.dump(sent_ns, open(out, "w"))
PY
    drain_recorder=$!
    vm_test_pids+=("$drain_recorder")
    local deadline=$((SECONDS + 30))
    until [[ -f $work/peer.ready ]]; do
        kill -0 "$drain_recorder" 2>/dev/null && ((SECONDS < deadline)) || { drain_error="the peer's recorder did not start"; return 1; }
        sleep 0.2
    done
    # Both ends know each other's MAC before the first sequence number.
    peer_ping 2 || { drain_error="ping to the guest failed before the stream"; return 1; }
    vm "rm -f /run/vmtest-udpseq.*; setsid udpseq send ${VM_PEER_ADDR%/*} $drain_port $VMTEST_DRAIN_RATE 900 /run/vmtest-udpseq.txt 100 </dev/null >/run/vmtest-udpseq.log 2>&1 & echo \$! >/run/vmtest-udpseq.pid" >/dev/null ||
        { drain_error="could not start udpseq in the guest"; return 1; }
}

# drain_window STAGE BUSY IDLE: waits (deadline) until BUSY's own tx_packets grew by a second of
# the stream; IDLE's (none: "-") may grow by drain_noise at most meanwhile.
drain_window() {
    local stage=$1 busy=$2 idle=$3 b0 i0 b1 i1 read
    read="cat /sys/class/net/$busy/statistics/tx_packets; if [[ $idle == - ]]; then echo 0; else cat /sys/class/net/$idle/statistics/tx_packets; fi"
    read -r b0 i0 <<<"$(vm "$read" | tr '\n' ' ')"
    vm_wait 60 "((\$(cat /sys/class/net/$busy/statistics/tx_packets) >= $b0 + $VMTEST_DRAIN_RATE))" ||
        { drain_error="$stage: $busy did not send a second of the stream within 60 s"; return 1; }
    read -r b1 i1 <<<"$(vm "$read" | tr '\n' ' ')"
    drain_paths+="${drain_paths:+; }$stage: TX $busy +$((b1 - b0)), $idle +$((i1 - i0))"
    ((i1 - i0 <= drain_noise)) || { drain_error="$stage: $idle sent $((i1 - i0)) packets while $busy carried the stream ($drain_paths)"; return 1; }
}

# drain_wait_event SECONDS SEQ KIND: until the agent's timeline has a KIND event after SEQ.
drain_wait_event() {
    local deadline=$((SECONDS + $1))
    until vm "hnagent events --json" | python3 -c '
import json, sys
sys.exit(not any(e["seq"] > int(sys.argv[1]) and e["kind"] == sys.argv[2] for e in map(json.loads, filter(str.strip, sys.stdin))))' "$2" "$3"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

drain_state() { guest_status | json 'd["pairs"][0]["state"]'; }

drain_steps() {
    local out vf_error="" old_vf=$vm_vf
    drain_window steering "$vm_vf" "$vm_syn" || return 1
    drain_mark drain
    # The read-back in the same guest command: no time for the agent to catch up after it answered.
    out=$(vm "hnagent drain $vm_syn && echo '-- redirect:' && { $(egress_redirect) && echo present || echo gone; }") ||
        { drain_error="hnagent drain $vm_syn failed: $out"; return 1; }
    [[ $out == *"$vm_syn: drained"* && $out == *"-- redirect:"*gone ]] ||
        { drain_error="after hnagent drain answered: '$(tr '\n' ' ' <<<"$out")' (want drained, egress redirect gone)"; return 1; }
    [[ $(drain_state) == drained ]] || { drain_error="status says $(drain_state) after drain, not drained"; return 1; }
    drain_window drained "$vm_syn" "$vm_vf" || return 1

    drain_mark unplug
    vf_device_del || { drain_error=$vf_error; return 1; }
    drain_window "unplugged" "$vm_syn" - || return 1
    [[ $(drain_state) == drained ]] || { drain_error="status says $(drain_state) after the unplug, not drained"; return 1; }

    drain_mark replug
    local since; since=$(vm "hnagent events --json | tail -1" | json 'd["seq"]')
    vf_device_add || { drain_error=$vf_error; return 1; }
    # Settled (the timeline says so, no settle left in status) and still drained: no redirect.
    drain_wait_event 60 "$since" settled || { drain_error="no 'settled' event for the re-added $vm_vf within 60 s"; return 1; }
    local status; status=$(guest_status)
    [[ $(json 'd["pairs"][0]["state"], d["pairs"][0].get("vf", {}).get("name"), d["pairs"][0].get("settle_remaining_seconds")' <<<"$status") == "('drained', '$vm_vf', None)" ]] ||
        { drain_error="after the settle status says $(json 'd["pairs"][0]["state"], d["pairs"][0].get("vf"), d["pairs"][0].get("settle_remaining_seconds")' <<<"$status"), want drained with $vm_vf settled"; return 1; }
    vm "$(egress_redirect)" && { drain_error="egress redirect back while drained"; return 1; }
    vm "tc -j filter show dev $vm_vf ingress | grep -q '\"to_dev\":\"$vm_syn\"'" ||
        { drain_error="no RX relay $vm_vf -> $vm_syn on the settled, drained VF"; return 1; }
    drain_window "replugged ($vm_vf, was $old_vf), settled" "$vm_syn" "$vm_vf" || return 1

    drain_mark undrain
    out=$(vm "hnagent undrain $vm_syn && echo '-- redirect:' && { $(egress_redirect) && echo present || echo gone; }") ||
        { drain_error="hnagent undrain $vm_syn failed: $out"; return 1; }
    [[ $out == *"$vm_syn: undrained (TX on $vm_vf)"* && $out == *"-- redirect:"*present ]] ||
        { drain_error="after hnagent undrain answered: '$(tr '\n' ' ' <<<"$out")' (want undrained, TX on $vm_vf, redirect present)"; return 1; }
    vm_wait 30 "$(status_is steering)" || { drain_error="status not steering after undrain"; return 1; }
    drain_window undrained "$vm_vf" "$vm_syn" || return 1
    drain_mark end
}

# Stops both ends; passes when the peer saw every sequence number the guest sent, and the guest
# every echo the peer sent back.
drain_report() {
    local work=$1 seq0=$2 rcvbuf0=$3 result
    vm "kill -INT \$(cat /run/vmtest-udpseq.pid)" >/dev/null
    vm_wait 30 "[[ -s /run/vmtest-udpseq.txt ]]" || { fail "drain: udpseq in the guest wrote no result"; return; }
    vm "grep -v '^bin' /run/vmtest-udpseq.txt" >"$work/udpseq.txt"
    kill -TERM "$drain_recorder" 2>/dev/null; wait "$drain_recorder" 2>/dev/null; drain_recorder=""
    [[ -s $work/peer.json ]] || { fail "drain: the peer's recorder wrote no result"; return; }
    local rcvbuf=$(($(peer_udp_rcvbuf_errors) - rcvbuf0))
    local kinds; kinds=$(vm "hnagent events --json" | python3 -c '
import json, sys
print(" ".join(json.loads(l)["kind"] for l in sys.stdin if l.strip() and json.loads(l)["seq"] > int(sys.argv[1])))' "$seq0")
    result=$(python3 - "$work/udpseq.txt" "$work/peer.json" "$work/marks" <<'PY'
import json, sys
head = dict(kv.split("=") for kv in open(sys.argv[1]).readline().split()[2:])
sent, received = int(head["sent"]), int(head["received"])
seen = {int(k): v for k, v in json.load(open(sys.argv[2])).items() if int(k) < sent}
marks = [(l.split()[0], int(l.split()[1])) for l in open(sys.argv[3]) if l.strip()]
echoed = {int(l.split()[1]) for l in open(sys.argv[1]) if l.startswith("gap")}
def stage(t):  # the stage a packet sent at t (guest CLOCK_MONOTONIC ns) was sent in
    name = "steering"
    for m, mt in marks:
        if t >= mt: name = m
    return name
def by_stage(seqs):
    # A lost packet's send time: that of the last packet before it the peer saw.
    times, count = sorted(seen.items()), {}
    import bisect
    keys = [k for k, _ in times]
    for q in seqs:
        i = bisect.bisect_left(keys, q) - 1
        s = stage(times[i][1]) if i >= 0 else "steering"
        count[s] = count.get(s, 0) + 1
    return ", ".join("%s %d" % kv for kv in count.items()) or "none"
tx_lost = [q for q in range(sent) if q not in seen]
# Round-trip gaps of sequence numbers the peer did see: echoes lost on the way back (guest RX).
rx_lost = []
for l in open(sys.argv[1]):
    if l.startswith("gap"):
        a, b = int(l.split()[1]), int(l.split()[2])
        rx_lost += [q for q in range(a, b + 1) if q in seen]
print("%d sent in %.1f s; guest TX lost %d (by stage: %s); guest RX (echoes) lost %d (by stage: %s)"
      % (sent, sent / float(head["rate"]), len(tx_lost), by_stage(tx_lost), len(rx_lost), by_stage(rx_lost)))
sys.exit(0 if sent >= 5 * float(head["rate"]) and not tx_lost and not rx_lost else 1)
PY
    )
    local rc=$?
    local what="$result; peer UDP RcvbufErrors +$rcvbuf; $drain_paths; timeline: $kinds"
    if ((rc == 0)); then
        pass "drain: across drain, PCI unplug, replug and undrain of $vm_vf: $what"
    else
        fail "drain: $what"
    fi
}

# Whatever happened: udpseq and the recorder stopped, the pair undrained and steering through an e1000e.
drain_cleanup() {
    vm "[[ -f /run/vmtest-udpseq.pid ]] && kill -INT \$(cat /run/vmtest-udpseq.pid) 2>/dev/null; rm -f /run/vmtest-udpseq.pid" >/dev/null
    [[ -n $drain_recorder ]] && { kill -TERM "$drain_recorder" 2>/dev/null; wait "$drain_recorder" 2>/dev/null; drain_recorder=""; }
    local vf_error=""
    vm "ip link show $vm_vf" >/dev/null 2>&1 || vf_device_add || echo "     (drain cleanup: $vf_error)"
    vm "hnagent undrain $vm_syn" >/dev/null
    vm_wait 60 "$(status_is steering)" || echo "     (drain cleanup: not steering again)"
}
