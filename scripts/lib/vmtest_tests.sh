# vmtest_tests.sh: the VM tests of scripts/vmtest (sourced). Every check reads the state back
# inside the guest through the control channel; each test prints one "ok"/"FAIL" line.

vm_syn="" vm_vf=""  # the guest's names for the virtio-net NIC and the e1000e NIC (udev's)
passed=0 failed=0

pass() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

# The interface whose driver is $1, read from sysfs in the guest.
guest_nic_by_driver() {
    vm "for n in /sys/class/net/*; do [[ \$(basename \"\$(readlink \$n/device/driver 2>/dev/null)\") == $1 ]] && basename \$n; done" | head -1
}

# Prints what the guest shows about its NICs and kernel (for the report); never fails.
guest_facts() {
    vm_syn=$(guest_nic_by_driver virtio_net) vm_vf=$(guest_nic_by_driver e1000e)
    echo "guest: kernel $(vm uname -r); virtio_net NIC: ${vm_syn:-none}; e1000e NIC: ${vm_vf:-none}"
    echo "guest: cls_matchall: $(vm 'modinfo -F filename cls_matchall 2>&1 | head -1')"
    echo "guest: config preflight file: $(vm 'ls /boot/config-* 2>&1')"
    [[ -n $vm_syn && -n $vm_vf ]] || return 0
    local nic
    for nic in "$vm_syn" "$vm_vf"; do
        echo "guest: $nic: $(vm "ip -d -j link show $nic" | grep -oE '"(mtu|min_mtu|max_mtu|gso_max_size|gso_max_segs|tso_max_size|tso_max_segs)":[0-9]+' | tr '\n' ' ')"
    done
    echo "guest: ethtool -k differences ($vm_syn | $vm_vf):"
    vm "diff <(ethtool -k $vm_syn | tail -n +2) <(ethtool -k $vm_vf | tail -n +2) | grep '^[<>]' | sort -k2,2 -s" | sed 's/^/guest:   /'
}

# The staged install (scripts/install, DESTDIR) copied from the payload disk into the guest,
# then reloaded as scripts/install does on a running system (systemd, udev, networkd); and the
# test tools the payload carries (vmtest/: udpseq for drain).
guest_install() {
    vm "mount -o ro /dev/vdb /mnt && cp -a /mnt/usr/. /usr/ && cp -a /mnt/etc/. /etc/ && install -m 755 /mnt/vmtest/udpseq /usr/local/bin/udpseq && umount /mnt && systemctl daemon-reload" &&
    vm "udevadm control --reload && udevadm trigger --action=change --subsystem-match=net --settle && networkctl reload"
}

egress_redirect() {  # COMMAND that succeeds while the synthetic NIC's TX is redirected to the VF
    echo "tc -j filter show dev $vm_syn egress | grep -q '\"to_dev\":\"$vm_vf\"'"
}
status_is() { echo "hnagent status --json | tr -d ' \n' | grep -q '\"state\":\"$1\"'"; }
vf_counter() { vm "cat /sys/class/net/$vm_vf/statistics/$1" 2>/dev/null || echo 0; }
peer_ping() { ip netns exec "$vm_peerns" ping -q -c "$1" -i 0.2 -w 15 "${VM_GUEST_ADDR%/*}" >/dev/null; }
diagnose() {
    {
        echo "---- guest: hnagent journal (last 25 lines)"; vm "journalctl -u hnagent -n 25 --no-pager -o cat"
        echo "---- guest: tc filters"; vm "tc filter show dev $vm_syn egress; tc filter show dev $vm_vf ingress 2>&1"
    } 2>&1 | sed 's/^/     /'
}

# (a) hnagent under its real unit pairs the virtio NIC with the e1000e NIC and steers.
test_steer() {
    local started=$SECONDS
    # The address comes from systemd-networkd's DHCP client (dnsmasq on the host's bridge).
    vm_wait 60 "$(has_dhcp_address "$vm_syn")" || { fail "steer: networkd gave $vm_syn no DHCP address ${VM_GUEST_ADDR%/*} within 60 s"; return; }
    if ! vm "systemctl enable --now hnagent" >/dev/null; then
        fail "steer: systemctl enable --now hnagent failed: $(vm 'systemctl status hnagent --no-pager -n 10' | tail -10 | tr '\n' ' ')"; diagnose; return
    fi
    local active type; active=$(vm systemctl is-active hnagent) type=$(vm systemctl show -P Type hnagent)
    [[ $active == active ]] || { fail "steer: systemctl is-active hnagent says '$active'"; diagnose; return; }
    [[ $type == notify ]] || { fail "steer: hnagent.service has Type=$type, not notify (is the installed unit config/hnagent.service?)"; return; }
    if ! vm_wait 60 "$(status_is steering)"; then
        fail "steer: hnagent status --json never showed state steering within 60 s"; diagnose; return
    fi
    vm_wait 10 "$(egress_redirect)" || { fail "steer: no egress redirect $vm_syn -> $vm_vf in tc -j filter show"; diagnose; return; }
    vm "tc -j filter show dev $vm_vf ingress | grep -q '\"to_dev\":\"$vm_syn\"'" ||
        { fail "steer: no ingress redirect $vm_vf -> $vm_syn in tc -j filter show"; diagnose; return; }
    pass "steer: hnagent.service active (Type=notify), status steering, relay $vm_syn <-> $vm_vf in tc ($((SECONDS - started)) s)"
}

# (b) the peer's ping reaches the guest, and the e1000e counts it: traffic really uses the "VF".
test_ping_vf() {
    local rx0 tx0 rx1 tx1
    rx0=$(vf_counter rx_packets) tx0=$(vf_counter tx_packets)
    peer_ping 10 || { fail "ping-vf: ping 198.18.0.2 -> ${VM_GUEST_ADDR%/*} lost packets while steering"; diagnose; return; }
    rx1=$(vf_counter rx_packets) tx1=$(vf_counter tx_packets)
    if ((rx1 - rx0 >= 10 && tx1 - tx0 >= 10)); then
        pass "ping-vf: 10/10 replies; $vm_vf rx +$((rx1 - rx0)) tx +$((tx1 - tx0)) packets"
    else
        fail "ping-vf: 10/10 replies but $vm_vf counted rx +$((rx1 - rx0)) tx +$((tx1 - tx0)) (want >= 10 each)"
    fi
}

qemu_has_vf() { qmp '{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}' | grep -q "\"name\": \"$VM_VF_ID\""; }

# vf_device_del: QMP device_del of the e1000e; returns once the guest has no $vm_vf.
vf_device_del() {
    local answer
    answer=$(qmp "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"$VM_VF_ID\"}}")
    [[ $answer != *'"error"'* ]] || { vf_error="QMP device_del: $answer"; return 1; }
    vm_wait 30 "! ip link show $vm_vf" || { vf_error="$vm_vf still in the guest 30 s after device_del"; return 1; }
}

# vf_unplug: vf_device_del, then the guest's view of it: the egress redirect gone, the pair
# waiting-for-vf. On failure vf_error says what was not seen.
vf_unplug() {
    vf_device_del || return 1
    vm_wait 10 "! $(egress_redirect)" || { vf_error="egress redirect still there after the VF was removed"; return 1; }
    vm_wait 10 "$(status_is waiting-for-vf)" || { vf_error="status not waiting-for-vf after the removal"; return 1; }
}

# vf_device_add: once QEMU has let go of the old device, QMP device_add of a new e1000e with
# the same MAC; returns once the guest has named it (vm_vf follows udev's name).
vf_device_add() {
    local answer deadline=$((SECONDS + 30))
    while qemu_has_vf; do
        ((SECONDS < deadline)) || { vf_error="QEMU still has $VM_VF_ID 30 s after device_del"; return 1; }
        sleep 0.5
    done
    answer=$(qmp "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"e1000e\",\"id\":\"$VM_VF_ID\",\"bus\":\"rp1\",\"netdev\":\"nvf\",\"mac\":\"$VM_MAC\"}}")
    [[ $answer != *'"error"'* ]] || { vf_error="QMP device_add: $answer"; return 1; }
    vm_wait 30 "[[ -n \$(for n in /sys/class/net/*; do [[ \$(basename \"\$(readlink \$n/device/driver 2>/dev/null)\") == e1000e ]] && echo \$n; done) ]]" ||
        { vf_error="no e1000e NIC in the guest 30 s after device_add"; return 1; }
    vm_vf=$(guest_nic_by_driver e1000e)
    [[ -n $vm_vf ]] || { vf_error="the guest named no e1000e NIC after device_add"; return 1; }
}

# vf_replug: vf_device_add, then the pair steers through the new device.
vf_replug() {
    vf_device_add || return 1
    vm_wait 60 "$(status_is steering)" && vm_wait 10 "$(egress_redirect)" ||
        { vf_error="not steering through the re-added $vm_vf within 60 s"; return 1; }
}

# (c) PCI hot-remove of the e1000e: fallback (egress redirect gone), ping on the synthetic
# path; hot-add: steering again through the new device.
test_hotplug() {
    local started=$SECONDS vf_error=""
    vf_unplug || { fail "hotplug: $vf_error"; diagnose; return; }
    local removed=$((SECONDS - started))
    peer_ping 5 || { fail "hotplug: ping lost packets on the synthetic path after the removal"; diagnose; return; }
    local old=$vm_vf
    started=$SECONDS
    vf_replug || { fail "hotplug: $vf_error"; diagnose; return; }
    local added=$((SECONDS - started)) rx0; rx0=$(vf_counter rx_packets)
    peer_ping 5 || { fail "hotplug: ping lost packets after the re-add"; diagnose; return; }
    (($(vf_counter rx_packets) - rx0 >= 5)) || { fail "hotplug: re-added $vm_vf did not count the ping"; return; }
    pass "hotplug: device_del -> fallback in ${removed} s, ping 5/5 on $vm_syn; device_add -> $vm_vf (was $old) steering in ${added} s, ping 5/5 through it"
}

# (last) The unit stayed healthy through every test: systemd's watchdog is armed and fed by the
# agent (WatchdogTimestamp advances: WATCHDOG=1 arrived), and the journal of this boot has no
# watchdog kill, crash or automatic restart of hnagent.
test_unit_health() {
    local interval first bad
    interval=$(vm "systemctl show -P WatchdogUSec hnagent")
    [[ $interval == 20s ]] || { fail "unit-health: WatchdogUSec is '$interval', not 20s (is the installed unit config/hnagent.service?)"; return; }
    first=$(vm "systemctl show -P WatchdogTimestampMonotonic hnagent")
    [[ -n $first && $first != 0 ]] || { fail "unit-health: systemd never got WATCHDOG=1 from hnagent"; diagnose; return; }
    vm_wait 25 "[[ \$(systemctl show -P WatchdogTimestampMonotonic hnagent) != $first ]]" ||
        { fail "unit-health: no WATCHDOG=1 for 25 s (WatchdogSec=20s)"; diagnose; return; }
    bad=$(vm "journalctl -b -u hnagent --no-pager -o cat | grep -E 'Watchdog timeout|Scheduled restart job|dumped core|Failed with result' | head -3")
    [[ -z $bad ]] || { fail "unit-health: the journal of this boot has: $(tr '\n' ' ' <<<"$bad")"; return; }
    pass "unit-health: WatchdogSec=20s armed and fed (WATCHDOG=1 seen advancing), no watchdog kill, crash or automatic restart of hnagent during the run"
}
