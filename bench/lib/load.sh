# shellcheck shell=bash
# bench/lib/load.sh: load for the loaded scenario, started and stopped by PID.
#
# CPU: one busy loop per CPU. Network: a second veth pair between two namespaces of the
# phase's own (198.19.0.1 <-> 198.19.0.2, inside the benchmarking range 198.18.0.0/15) with an
# unpaced iperf3 TCP stream, so the kernel's network path is busy the way a host's is. Every
# process is in TB_PIDS and both namespaces in TB_NAMESPACES: tb_cleanup removes them on any exit.

LOAD_PIDS=()

load_start() {
    local out=$1 i a="$TB_ID-loada" b="$TB_ID-loadb"
    for ((i = 0; i < $(nproc); i++)); do
        bash -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
        LOAD_PIDS+=("$!"); TB_PIDS+=("$!")
    done
    tb_netns_add "$a" && tb_netns_add "$b" || return 1
    tb_veth "$a" ld0 "$b" ld1 || return 1
    tb_run ip -n "$a" addr add 198.19.0.1/24 dev ld0 && tb_run ip -n "$a" link set ld0 up &&
        tb_run ip -n "$b" addr add 198.19.0.2/24 dev ld1 && tb_run ip -n "$b" link set ld1 up || return 1
    tb_bg "$b" iperf3 -s -B 198.19.0.2
    LOAD_PIDS+=("$TB_LAST_PID")
    wait_for --timeout 5 -- bash -c "ip netns exec '$b' ss -ltn | grep -q '198.19.0.2:5201'" || return 1
    # Long enough for any phase; stopped by PID.
    TB_BG_OUT="$out/load-iperf3.json" tb_bg "$a" iperf3 -c 198.19.0.2 -t 86400 -J
    LOAD_PIDS+=("$TB_LAST_PID")
    meta "$out/meta" load_processes "${#LOAD_PIDS[@]}"
}

load_stop() {
    local pid
    for pid in "${LOAD_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    LOAD_PIDS=()
}
