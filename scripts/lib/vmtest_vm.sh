# vmtest_vm.sh: boot, control and tear down the scripts/vmtest guest (sourced).
#
# Network: a host namespace (vm_hostns) holds bridge br0, QEMU's taps tap-syn (virtio-net,
# the synthetic NIC) and tap-vf (e1000e, the "VF"), and a veth to a peer namespace (vm_peerns)
# with 198.18.0.2/24. QEMU runs inside the host namespace, so the guest reaches nothing else.
# Control: virtio-serial port vmtest.ctl (guest: vmtest-ctl), QMP on a unix socket.

VM_MAC=52:54:00:48:4e:01
VM_GUEST_ADDR=198.18.0.1/24
VM_PEER_ADDR=198.18.0.2/24
VM_VF_ID=vf0

vm_pid="" vm_socat_pid="" vm_run="" vm_hostns="" vm_peerns=""
vm_test_pids=()  # host processes a test started (iperf3 in the peer namespace): ended with the rest

# Everything a run made goes, even after a failure: QEMU by its PID (SIGTERM, then SIGKILL:
# a hung QEMU ignores SIGTERM), socat, dnsmasq, both namespaces (and with them the taps and the bridge),
# the run folder with the overlay unless VMTEST_KEEP=1.
vm_cleanup() {
    local pid
    for pid in "${vm_test_pids[@]}" "$vm_pid" "$vm_socat_pid" "${vm_dnsmasq_pid:-}"; do
        [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || continue
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    vm_pid="" vm_socat_pid="" vm_dnsmasq_pid="" vm_test_pids=()
    exec 7>&- 8<&- 2>/dev/null
    [[ -n $vm_hostns ]] && ip netns del "$vm_hostns" 2>/dev/null
    [[ -n $vm_peerns ]] && ip netns del "$vm_peerns" 2>/dev/null
    vm_hostns="" vm_peerns=""
    if [[ -n $vm_run && -d $vm_run ]]; then
        if [[ ${VMTEST_KEEP:-0} == 1 ]]; then
            rm -f "$vm_run/overlay.qcow2" "$vm_run/payload.img"
            echo "vmtest: kept $vm_run (console.log)" >&2
        else
            rm -rf "$vm_run"
        fi
    fi
    vm_run=""
}

vm_network_up() {
    vm_hostns=vmt-host-$$ vm_peerns=vmt-peer-$$
    ip netns add "$vm_hostns" && ip netns add "$vm_peerns" || return 1
    local h=(ip -n "$vm_hostns")
    "${h[@]}" link set lo up &&
    "${h[@]}" link add br0 type bridge &&
    "${h[@]}" link set br0 up &&
    "${h[@]}" tuntap add dev tap-syn mode tap &&
    "${h[@]}" tuntap add dev tap-vf mode tap &&
    "${h[@]}" link set tap-syn master br0 up &&
    "${h[@]}" link set tap-vf master br0 up &&
    "${h[@]}" link add peer type veth peer name eth0 netns "$vm_peerns" &&
    "${h[@]}" link set peer master br0 up &&
    ip -n "$vm_peerns" link set lo up &&
    ip -n "$vm_peerns" addr add "$VM_PEER_ADDR" dev eth0 &&
    ip -n "$vm_peerns" link set eth0 up
}

# kvm_works IMAGE_DIR: boots the guest kernel under KVM without a root file system; a working
# KVM reaches the kernel's "VFS: Unable to mount root" panic in a second or two. On the
# project's machines nested KVM hangs right after the decompression instead, and the hung
# QEMU ignores SIGTERM: timeout sends SIGKILL to it (its own child) after 10 s.
kvm_works() {
    [[ -r /dev/kvm && -w /dev/kvm ]] || return 1
    timeout -s KILL 10 qemu-system-x86_64 -accel kvm -M q35 -m 256 -nodefaults -display none -no-reboot \
        -kernel "$1/vmlinuz" -append "console=ttyS0 panic=-1" -serial stdio </dev/null 2>/dev/null |
        grep -q -m1 'Unable to mount root'
}

# vm_choose_accel IMAGE_DIR: sets VM_ACCEL from VMTEST_ACCEL (auto: KVM if kvm_works, else TCG).
vm_choose_accel() {
    case ${VMTEST_ACCEL:-auto} in
        auto) if kvm_works "$1"; then VM_ACCEL=kvm; else VM_ACCEL=tcg; fi ;;
        kvm) kvm_works "$1" || { echo "vmtest: VMTEST_ACCEL=kvm, but KVM did not boot the guest kernel within 10 s" >&2; return 1; }
             VM_ACCEL=kvm ;;
        tcg) VM_ACCEL=tcg ;;
        *) echo "vmtest: VMTEST_ACCEL must be auto, tcg or kvm" >&2; return 1 ;;
    esac
}

# vm_boot IMAGE_DIR PAYLOAD_IMG: starts QEMU in the host namespace; returns once the guest's
# control channel answers (VM_BOOT_SECONDS: how long that took).
vm_boot() {
    local image=$1 payload=$2
    vm_choose_accel "$image" || return 1
    qemu-img create -q -f qcow2 -b "$(realpath "$image/root.img")" -F raw "$vm_run/overlay.qcow2" || return 1
    local started=$SECONDS
    ip netns exec "$vm_hostns" qemu-system-x86_64 \
        -name vmtest -accel "$VM_ACCEL" -M q35 -smp 2 -m 1024 -nodefaults -display none -no-reboot \
        -kernel "$image/vmlinuz" -initrd "$image/initrd" \
        -append "root=/dev/vda rw console=ttyS0 net.ifnames=1 panic=-1 systemd.show_status=0" \
        -serial "file:$vm_run/console.log" \
        -qmp "unix:$vm_run/qmp.sock,server=on,wait=off" \
        -drive "file=$vm_run/overlay.qcow2,if=none,id=root,format=qcow2" \
        -device virtio-blk-pci,drive=root,bus=pcie.0,addr=0x4 \
        -drive "file=$payload,if=none,id=payload,format=raw,readonly=on" \
        -device virtio-blk-pci,drive=payload,bus=pcie.0,addr=0x5 \
        -device virtio-serial-pci,bus=pcie.0,addr=0x6 \
        -chardev "socket,id=ctl,path=$vm_run/ctl.sock,server=on,wait=off" \
        -device virtserialport,chardev=ctl,name=vmtest.ctl \
        -netdev tap,id=nsyn,ifname=tap-syn,script=no,downscript=no \
        -device "virtio-net-pci,netdev=nsyn,mac=$VM_MAC,bus=pcie.0,addr=0x2" \
        -device pcie-root-port,id=rp1,bus=pcie.0,addr=0x3,chassis=1 \
        -netdev tap,id=nvf,ifname=tap-vf,script=no,downscript=no \
        -device "e1000e,netdev=nvf,mac=$VM_MAC,bus=rp1,id=$VM_VF_ID" \
        >"$vm_run/qemu.log" 2>&1 &
    vm_pid=$!
    local deadline=$((SECONDS + 20))
    until [[ -S $vm_run/ctl.sock ]]; do
        if ! kill -0 "$vm_pid" 2>/dev/null || ((SECONDS > deadline)); then
            echo "vmtest: QEMU did not start: $(tail -3 "$vm_run/qemu.log")" >&2; return 1
        fi
        sleep 0.1
    done
    mkfifo "$vm_run/ctl.in" "$vm_run/ctl.out" || return 1
    exec 7<>"$vm_run/ctl.in" 8<>"$vm_run/ctl.out"
    socat "UNIX-CONNECT:$vm_run/ctl.sock" - <"$vm_run/ctl.in" >"$vm_run/ctl.out" 2>"$vm_run/socat.log" &
    vm_socat_pid=$!
    # The guest's agent says hello when it has opened its end of the port.
    local line=""
    deadline=$((SECONDS + ${VMTEST_BOOT_TIMEOUT:-240}))
    until [[ $line == hello ]]; do
        if ! kill -0 "$vm_pid" 2>/dev/null; then
            echo "vmtest: QEMU exited during boot; console: $(tail -5 "$vm_run/console.log")" >&2; return 1
        fi
        if ((SECONDS > deadline)); then
            echo "vmtest: the guest's control channel did not answer within ${VMTEST_BOOT_TIMEOUT:-240} s; console: $(tail -5 "$vm_run/console.log")" >&2
            return 1
        fi
        IFS= read -r -t 1 line <&8 || line=""
    done
    [[ $(vm echo ready) == ready ]] || { echo "vmtest: the guest's control channel said hello but does not answer" >&2; return 1; }
    VM_BOOT_SECONDS=$((SECONDS - started))
}

# vm COMMAND...: runs COMMAND (one bash line) in the guest; prints its output, returns its exit
# code (124 when no answer came within VM_TIMEOUT seconds, default 130).
vm() {
    local id rid rc out
    id=${BASHPID}x$(date +%s%N)  # unique in subshells too: stale answers are skipped
    printf '%s %s\n' "$id" "$(printf '%s' "$*" | base64 -w0)" >&7
    local deadline=$((SECONDS + ${VM_TIMEOUT:-130}))
    while ((SECONDS <= deadline)) && IFS=' ' read -r -t "${VM_TIMEOUT:-130}" rid rc out <&8; do
        [[ $rid == "$id" ]] || continue
        [[ -n $out ]] && printf '%s\n' "$(printf '%s' "$out" | base64 -d)"
        return "$rc"
    done
    echo "vmtest: no answer from the guest to: $*" >&2
    return 124
}

# qmp JSON: one QMP command; prints QEMU's answers.
qmp() {
    printf '{"execute":"qmp_capabilities"}\n%s\n' "$1" | socat -t 1 - "UNIX-CONNECT:$vm_run/qmp.sock"
}

# vm_wait SECONDS COMMAND...: runs COMMAND in the guest until it succeeds (every 0.5 s).
vm_wait() {
    local seconds=$1; shift
    local deadline=$((SECONDS + seconds))
    until VM_TIMEOUT=$seconds vm "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}
