# vmtest_tests_netmgr.sh: the network manager tests of scripts/vmtest (sourced).
#
# The guest image ships the hostile default of cloud images: systemd-networkd with DHCP on every
# Ethernet device (vmtest_guest/10-cloud-dhcp.network); dnsmasq on the host's bridge hands out
# the guest's address. At boot networkd configures the VF as well. The udev rule and .network
# file that scripts/install adds must then keep networkd off the VF (unmanaged: no lease, no
# address, no route), while it still configures the synthetic NIC.

VM_DHCP_SERVER_ADDR=198.18.0.3/24
vm_dnsmasq_pid=""
netmgr_before=""  # what networkd did to the VF before hnagent's rules were installed

# dnsmasq on br0 in the host namespace: the guest's MAC always gets VM_GUEST_ADDR, whichever of
# its two NICs asks (the client id differs per interface; ignored). Stopped by vm_cleanup.
dhcp_server_up() {
    ip -n "$vm_hostns" addr add "$VM_DHCP_SERVER_ADDR" dev br0 || return 1
    ip netns exec "$vm_hostns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
        --interface=br0 --bind-interfaces --dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,10m \
        --dhcp-host="$VM_MAC,${VM_GUEST_ADDR%/*}" --dhcp-ignore-clid --dhcp-authoritative \
        --dhcp-leasefile="$vm_run/dnsmasq.leases" --pid-file="$vm_run/dnsmasq.pid" \
        --log-dhcp --log-facility="$vm_run/dnsmasq.log" &
    vm_dnsmasq_pid=$!
    local deadline=$((SECONDS + 10))
    until [[ -s $vm_run/dnsmasq.pid ]]; do
        kill -0 "$vm_dnsmasq_pid" 2>/dev/null && ((SECONDS < deadline)) ||
            { echo "vmtest: dnsmasq did not start: $(tail -3 "$vm_run/dnsmasq.log" 2>/dev/null)" >&2; return 1; }
        sleep 0.1
    done
}

# Guest commands that succeed when networkd has (not) configured NIC $1.
has_dhcp_address() { echo "ip -4 -o addr show dev $1 | grep -q ' ${VM_GUEST_ADDR%/*}/.* dynamic'"; }
networkd_says() { echo "networkctl status $1 --no-pager | grep -q '^ *State: .*($2)'"; }

# Before guest_install: the hostile default really configures the VF (a negative control: the
# checks below can fail). Records what it saw for test_networkd.
netmgr_record_default() {
    local vf; vf=$(guest_nic_by_driver e1000e)
    # "configuring" counts: the VF's IPv6 link-local address, the synthetic NIC's too, fails DAD.
    if vm_wait 60 "$(has_dhcp_address "$vf") && $(networkd_says "$vf" 'configur[a-z]*')"; then
        netmgr_before="networkd had configured $vf: $(vm "ip -4 -o addr show dev $vf" | awk '{print $4}' | head -1), $(vm "networkctl status $vf --no-pager" | grep -m1 'State:' | xargs)"
    else
        netmgr_before="FAIL: networkd did not configure the VF $vf with DHCP within 60 s at boot ($(vm "networkctl status $vf --no-pager" | grep -m1 'State:' | xargs)): the default is not hostile, so this run proves nothing"
    fi
}

# What the installed rules did, read back in the guest; prints the first problem, nothing if none.
# With "boot-ll", the IPv6 link-local address (and its fe80::/64 route) the kernel gave the VF
# while networkd still managed it is tolerated: unmanaging leaves it (README, Known limits).
vf_left_alone() {
    local vf=$1 leftover=${2:-} index
    index=$(vm "cat /sys/class/net/$vf/ifindex") || { echo "$vf is gone"; return; }
    vm "udevadm info -q property -p /sys/class/net/$vf" | grep -qx 'HNAGENT_ROLE=vf-candidate' ||
        { echo "udevadm info $vf has no HNAGENT_ROLE=vf-candidate: $(vm "udevadm info -q property -p /sys/class/net/$vf" | grep -E 'HNAGENT|NM_' | xargs)"; return; }
    vm "udevadm info -q property -p /sys/class/net/$vf" | grep -qx 'NM_UNMANAGED=1' || { echo "udevadm info $vf has no NM_UNMANAGED=1"; return; }
    vm_wait 20 "$(networkd_says "$vf" unmanaged)" ||
        { echo "networkctl: $(vm "networkctl status $vf --no-pager" | grep -m1 'State:' | xargs) (not unmanaged)"; return; }
    local addrs routes
    local link_local='^$'
    [[ $leftover == boot-ll ]] && link_local='"(local|dst)":"fe80::'
    addrs=$(vm "ip -j addr show dev $vf" | grep -oE '"local":"[^"]*"' | grep -vE "$link_local" | tr '\n' ' ')
    [[ -z $addrs ]] || { echo "ip -j addr: $vf has addresses $addrs"; return; }
    routes=$(vm "ip -j route show dev $vf; ip -j -6 route show dev $vf" | grep -oE '"dst":"[^"]*"' | grep -vE "$link_local" | tr '\n' ' ')
    [[ -z $routes ]] || { echo "ip -j route: routes on $vf: $routes"; return; }
    vm "test ! -e /run/systemd/netif/leases/$index" || { echo "networkd holds a DHCP lease for $vf (/run/systemd/netif/leases/$index)"; return; }
}

# networkd's own view of the synthetic NIC: configured, the lease's address and routes on it.
synthetic_configured() {
    local syn=$1 index
    index=$(vm "cat /sys/class/net/$syn/ifindex")
    vm_wait 30 "$(networkd_says "$syn" configured) && $(has_dhcp_address "$syn")" ||
        { echo "networkctl: $(vm "networkctl status $syn --no-pager" | grep -m1 'State:' | xargs), addresses: $(vm "ip -4 -o addr show dev $syn" | awk '{print $4}' | xargs)"; return; }
    vm "grep -qx 'ADDRESS=${VM_GUEST_ADDR%/*}' /run/systemd/netif/leases/$index" || { echo "no networkd lease for ${VM_GUEST_ADDR%/*} on $syn"; return; }
    vm "ip -j route show dev $syn" | grep -q '"protocol":"dhcp"' || { echo "ip -j route: no DHCP route on $syn"; return; }
}

# (d) the guest's hostile networkd: the synthetic NIC configured by DHCP, the VF left alone
# while hnagent steers through it.
test_networkd() {
    local problem
    [[ $netmgr_before != FAIL:* ]] || { fail "networkd: ${netmgr_before#FAIL: }"; return; }
    problem=$(synthetic_configured "$vm_syn")
    [[ -z $problem ]] || { fail "networkd: synthetic NIC $vm_syn: $problem"; return; }
    problem=$(vf_left_alone "$vm_vf" boot-ll)
    [[ -z $problem ]] || { fail "networkd: VF $vm_vf: $problem ($netmgr_before)"; diagnose; return; }
    local ll; ll=$(vm "ip -6 -o addr show dev $vm_vf scope link" | awk '{print $4}' | xargs)
    vm "$(status_is steering) && $(egress_redirect)" || { fail "networkd: hnagent is not steering through $vm_vf"; diagnose; return; }
    # What the rule runs for every network event, and how long it takes under TCG.
    local answer ms
    answer=$(vm "hnagent udev-role $vm_vf" | tr '\n' ' ')
    [[ $answer == "HNAGENT_ROLE=vf-candidate HNAGENT_SYNTHETIC=$vm_syn " ]] || { fail "networkd: hnagent udev-role $vm_vf said: $answer"; return; }
    ms=$(vm "s=\$(date +%s%N); hnagent udev-role $vm_syn >/dev/null; echo \$(( (\$(date +%s%N) - s) / 1000000 ))")
    pass "networkd: udev-role answers in $ms ms; $vm_syn configured (lease ${VM_GUEST_ADDR%/*}, DHCP route); $vm_vf unmanaged, udev HNAGENT_ROLE=vf-candidate NM_UNMANAGED=1, no IPv4 or global address, no route or lease${ll:+ (link-local $ll left from boot)}, steering (before the rules: $netmgr_before)"
}

# (e) after test_hotplug's PCI hot-remove and re-add, the new VF is left alone as well.
test_networkd_hotplug() {
    local problem
    problem=$(vf_left_alone "$vm_vf")
    [[ -z $problem ]] || { fail "networkd-hotplug: re-added VF $vm_vf: $problem"; diagnose; return; }
    problem=$(synthetic_configured "$vm_syn")
    [[ -z $problem ]] || { fail "networkd-hotplug: synthetic NIC $vm_syn: $problem"; return; }
    vm "$(status_is steering)" || { fail "networkd-hotplug: hnagent is not steering through $vm_vf"; diagnose; return; }
    pass "networkd-hotplug: the re-added $vm_vf unmanaged (udev, networkctl), no address, route or lease; $vm_syn keeps its lease; steering"
}

# (f) the boot enumeration order where the VF registers before its synthetic NIC: with the
# virtio NIC removed (PCI remove in the guest), the re-added e1000e is an ordinary NIC and
# networkd configures it; when the virtio NIC comes back (PCI rescan), the rule re-triggers the
# devices with its MAC and networkd lets go of the VF.
test_networkd_vf_first() {
    local started=$SECONDS syn_pci answer
    # The net device's parent is virtio0, which sits on the PCI device.
    syn_pci=$(vm "basename \$(readlink -f /sys/class/net/$vm_syn/device/..)") || { fail "networkd-vf-first: no PCI device behind $vm_syn"; return; }
    answer=$(qmp "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"$VM_VF_ID\"}}")
    [[ $answer != *'"error"'* ]] || { fail "networkd-vf-first: QMP device_del: $answer"; return; }
    local deadline=$((SECONDS + 30))
    while qemu_has_vf; do ((SECONDS < deadline)) || { fail "networkd-vf-first: QEMU still has $VM_VF_ID 30 s after device_del"; return; }; sleep 0.5; done
    vm "echo 1 > /sys/bus/pci/devices/$syn_pci/remove" && vm_wait 30 "! ip link show $vm_syn" ||
        { fail "networkd-vf-first: could not remove the virtio NIC $syn_pci in the guest"; return; }
    answer=$(qmp "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"e1000e\",\"id\":\"$VM_VF_ID\",\"bus\":\"rp1\",\"netdev\":\"nvf\",\"mac\":\"$VM_MAC\"}}")
    [[ $answer != *'"error"'* ]] || { fail "networkd-vf-first: QMP device_add: $answer"; return; }
    vm_wait 30 "[[ -n \$(ls /sys/bus/pci/drivers/e1000e/*/net 2>/dev/null) ]]" || { fail "networkd-vf-first: no e1000e NIC after device_add"; return; }
    vm_vf=$(guest_nic_by_driver e1000e)
    # Alone, the e1000e is an ordinary NIC: networkd configures it (else this test proves nothing).
    vm_wait 60 "$(has_dhcp_address "$vm_vf")" ||
        { fail "networkd-vf-first: networkd did not configure $vm_vf while no synthetic NIC had its MAC ($(vm "udevadm info -q property -p /sys/class/net/$vm_vf" | grep HNAGENT | xargs))"; return; }
    vm "echo 1 > /sys/bus/pci/rescan" && vm_wait 30 "[[ \$(basename \"\$(readlink /sys/class/net/$vm_syn/device/driver 2>/dev/null)\") == virtio_net ]]" ||
        { fail "networkd-vf-first: the virtio NIC did not come back as $vm_syn after a PCI rescan"; return; }
    local problem
    problem=$(vf_left_alone "$vm_vf" boot-ll)
    [[ -z $problem ]] || { fail "networkd-vf-first: VF $vm_vf, registered before $vm_syn: $problem"; diagnose; return; }
    problem=$(synthetic_configured "$vm_syn")
    [[ -z $problem ]] || { fail "networkd-vf-first: synthetic NIC $vm_syn: $problem"; return; }
    vm_wait 60 "$(status_is steering)" || { fail "networkd-vf-first: hnagent not steering after the virtio NIC came back"; diagnose; return; }
    pass "networkd-vf-first: $vm_vf configured by networkd while alone, unmanaged (no IPv4 address, route or lease) once $vm_syn came back; $vm_syn leased again; steering ($((SECONDS - started)) s)"
}
