# shellcheck shell=bash
# scripts/lib/testbed.sh: a network-namespace testbed for hnagent.
#
# Source it from bash (needs root, iproute2):
#
#   source scripts/lib/testbed.sh
#   tb_create                 # GUEST/HOST/PEER namespaces, bridge, hn0, peer eth0
#   vf_add                    # hot-plug vf0 (same MAC as hn0) into GUEST
#   in_peer ping -c 3 "$TB_GUEST_IP"
#   vf_del                    # hot-unplug vf0
#   # tb_cleanup runs on EXIT, INT and TERM (installed by tb_create)
#
# Topology (all names below are the namespace-local interface names):
#
#   GUEST ($TB_GUEST)           HOST ($TB_HOST)                PEER ($TB_PEER)
#   hn0  198.18.0.1/24 <-veth-> p-hn0 -+
#   vf0  (hn0's MAC, no IP) <-veth-> p-vf0 -+- br0 (stp off) -+- p-peer <-veth-> eth0 198.18.0.2/24
#
# Names are unique per run: the namespaces are "${TB_PREFIX}-<pid>-<random>-{guest,host,peer}",
# interfaces live only inside them, so parallel or leftover runs never collide. Every
# namespace, interface and background process made through this library is recorded and
# removed by tb_cleanup. Addresses come from 198.18.0.0/15 (benchmarking range) only.
#
# Knobs (set before tb_create):
#   TB_PREFIX      namespace name prefix                  (default: hntb)
#   TB_HN_MAC      MAC of hn0 and vf0                     (default: testbed.env, as every name
#                  and address there, each of which the environment may override likewise)
#   TB_IPV6        1 keeps IPv6 on (DAD off, vf0 addrgenmode none); 0 disables IPv6 in all
#                  three namespaces so no RS/MLD/DAD frames add noise to counters (default: 0)
#   TB_VERBOSE     1 echoes every command the library runs to stderr (default: 0)

TB_PREFIX=${TB_PREFIX:-hntb}
TB_IPV6=${TB_IPV6:-0}
TB_VERBOSE=${TB_VERBOSE:-0}

# Names, addresses and MACs (TB_HN_MAC, TB_GUEST_IP, TB_HN, TB_VF_PORT, ...) come from
# testbed.env, which the Swift integration tests read too; one set in the environment wins.
while IFS='=' read -r tb_key tb_value; do
    [[ $tb_key =~ ^TB_[A-Z_]+$ ]] || continue
    [[ -n ${!tb_key-} ]] || printf -v "$tb_key" '%s' "$tb_value"
done < "$(dirname "${BASH_SOURCE[0]}")/testbed.env"
unset tb_key tb_value

TB_ID=""
TB_GUEST=""
TB_HOST=""
TB_PEER=""
TB_NAMESPACES=()      # namespaces we created, in creation order
TB_LINKS=()           # "NS DEV" for every interface we created (one end of each veth)
TB_PIDS=()            # background processes we started
TB_CLEANUP_HOOKS=()   # commands run first by tb_cleanup (e.g. stop an agent)
TB_CLEANED=0

tb_log() { printf '[testbed] %s\n' "$*" >&2; }
tb_die() { printf '[testbed] ERROR: %s\n' "$*" >&2; exit 1; }

# tb_run CMD...: run a command, echoing it when TB_VERBOSE=1; fails loudly.
tb_run() {
    [[ $TB_VERBOSE == 1 ]] && printf '[testbed] + %s\n' "$*" >&2
    "$@" || { local rc=$?; printf '[testbed] command failed (rc=%d): %s\n' "$rc" "$*" >&2; return "$rc"; }
}

# Run a command inside one of the namespaces.
in_ns()    { local ns=$1; shift; ip netns exec "$ns" "$@"; }
in_guest() { ip netns exec "$TB_GUEST" "$@"; }
in_host()  { ip netns exec "$TB_HOST" "$@"; }
in_peer()  { ip netns exec "$TB_PEER" "$@"; }

# Monotonic-enough clock in seconds with microseconds (bash 5 $EPOCHREALTIME).
tb_now() { printf '%s' "${EPOCHREALTIME/,/.}"; }

# wait_for [--timeout S] [--interval S] [--quiet] [--] CMD...  [--timeout S]
# Polls CMD until it exits 0 or the deadline passes. This is a condition wait with a
# deadline, not a sleep used for synchronisation. Returns 0 on success, 1 on timeout
# (printing what it waited for unless --quiet).
wait_for() {
    local timeout=10 interval=0.05 quiet=0
    local -a cmd=()
    while (($#)); do
        case $1 in
            --timeout) timeout=$2; shift 2 ;;
            --interval) interval=$2; shift 2 ;;
            --quiet) quiet=1; shift ;;
            --) shift; cmd+=("$@"); break ;;
            *) cmd+=("$1"); shift ;;
        esac
    done
    # Options may also trail the command (wait_for CMD... --timeout S); a command that takes
    # its own --timeout/--interval/--quiet must come after "--".
    ((${#cmd[@]})) || tb_die "wait_for: no command"
    local deadline
    deadline=$(awk -v n="$(tb_now)" -v t="$timeout" 'BEGIN{printf "%.6f", n+t}')
    while :; do
        if "${cmd[@]}" >/dev/null 2>&1; then return 0; fi
        if awk -v n="$(tb_now)" -v d="$deadline" 'BEGIN{exit !(n>=d)}'; then
            ((quiet)) || tb_log "timed out after ${timeout}s waiting for: ${cmd[*]}"
            return 1
        fi
        sleep "$interval"
    done
}

# tb_bg NS CMD...: start CMD in the background inside NS and record its PID for tb_cleanup.
# The PID is left in TB_LAST_PID (call it in the current shell, not in $(...)).
# Output goes to $TB_BG_OUT (default /dev/null): TB_BG_OUT=/tmp/x.log tb_bg "$TB_PEER" ping ...
TB_LAST_PID=""
tb_bg() {
    local ns=$1; shift
    local out=${TB_BG_OUT:-/dev/null}
    ip netns exec "$ns" "$@" >"$out" 2>&1 </dev/null &
    TB_LAST_PID=$!
    TB_PIDS+=("$TB_LAST_PID")
}

tb_sysctl() { # NS KEY=VALUE...
    local ns=$1; shift
    local kv
    for kv in "$@"; do
        ip netns exec "$ns" sysctl -qw "$kv" >/dev/null || tb_log "sysctl $kv failed in $ns (ignored)"
    done
}

tb_netns_add() { # NAME
    tb_run ip netns add "$1" || return
    TB_NAMESPACES+=("$1")
    tb_run ip -n "$1" link set lo up
    if [[ $TB_IPV6 == 1 ]]; then
        tb_sysctl "$1" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
    else
        tb_sysctl "$1" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    fi
}

# tb_veth NS_A DEV_A NS_B DEV_B [MAC_B]: a veth pair with one end in each namespace.
tb_veth() {
    local nsa=$1 deva=$2 nsb=$3 devb=$4 macb=${5:-}
    local -a addr=()
    [[ -n $macb ]] && addr=(address "$macb")
    tb_run ip -n "$nsa" link add "$deva" type veth peer name "$devb" "${addr[@]}" netns "$nsb" || return
    TB_LINKS+=("$nsa $deva")
}

# tb_create: build the whole topology and install the cleanup trap.
tb_create() {
    [[ $EUID -eq 0 ]] || tb_die "the testbed needs root (CAP_NET_ADMIN)"
    local cmd
    for cmd in ip tc bridge awk; do
        command -v "$cmd" >/dev/null || tb_die "missing command: $cmd (run scripts/setup)"
    done
    [[ -n $TB_ID ]] && tb_die "tb_create called twice"
    TB_ID="${TB_PREFIX:-hntb}-$$-$(printf '%04x' $((RANDOM)))"
    TB_GUEST="$TB_ID-guest"
    TB_HOST="$TB_ID-host"
    TB_PEER="$TB_ID-peer"
    trap 'tb_cleanup' EXIT
    trap 'tb_cleanup; trap - INT; kill -INT $$' INT
    trap 'tb_cleanup; trap - TERM; kill -TERM $$' TERM

    tb_netns_add "$TB_HOST" || return
    tb_netns_add "$TB_GUEST" || return
    tb_netns_add "$TB_PEER" || return

    # HOST: the switch. STP off and forward delay 0 so ports forward at once.
    tb_run ip -n "$TB_HOST" link add "$TB_BR" type bridge stp_state 0 forward_delay 0 || return
    TB_LINKS+=("$TB_HOST $TB_BR")
    tb_run ip -n "$TB_HOST" link set "$TB_BR" up || return

    # GUEST hn0 <-> HOST p-hn0 (synthetic path).
    tb_veth "$TB_HOST" "$TB_HN_PORT" "$TB_GUEST" "$TB_HN" "$TB_HN_MAC" || return
    tb_run ip -n "$TB_HOST" link set "$TB_HN_PORT" master "$TB_BR" up || return
    tb_run ip -n "$TB_GUEST" addr add "$TB_GUEST_IP/$TB_PREFIXLEN" dev "$TB_HN" || return
    tb_run ip -n "$TB_GUEST" link set "$TB_HN" up || return

    # PEER eth0 <-> HOST p-peer.
    tb_veth "$TB_HOST" "$TB_PEER_PORT" "$TB_PEER" "$TB_PEER_IF" "$TB_PEER_MAC" || return
    tb_run ip -n "$TB_HOST" link set "$TB_PEER_PORT" master "$TB_BR" up || return
    tb_run ip -n "$TB_PEER" addr add "$TB_PEER_IP/$TB_PREFIXLEN" dev "$TB_PEER_IF" || return
    tb_run ip -n "$TB_PEER" link set "$TB_PEER_IF" up || return

    wait_for --timeout 5 tb_link_is_up "$TB_GUEST" "$TB_HN" || return
    wait_for --timeout 5 tb_link_is_up "$TB_PEER" "$TB_PEER_IF" || return
    tb_log "created testbed $TB_ID (namespaces: $TB_GUEST $TB_HOST $TB_PEER)"
}

tb_link_exists() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }
# operstate UP (carrier on both ends of the veth).
tb_link_is_up() { [[ $(ip netns exec "$1" cat "/sys/class/net/$2/operstate" 2>/dev/null) == up ]]; }

# vf_add: hot-plug vf0 into GUEST with hn0's MAC, HOST end on br0, both up.
vf_add() {
    tb_link_exists "$TB_GUEST" "$TB_VF" && { tb_log "vf_add: $TB_VF already exists"; return 1; }
    tb_veth "$TB_HOST" "$TB_VF_PORT" "$TB_GUEST" "$TB_VF" "$TB_HN_MAC" || return
    tb_run ip -n "$TB_HOST" link set "$TB_VF_PORT" master "$TB_BR" up || return
    # A VF carries no address of its own; keep it from making an IPv6 link-local one.
    if [[ $TB_IPV6 == 1 ]]; then
        tb_run ip -n "$TB_GUEST" link set dev "$TB_VF" addrgenmode none || return
    fi
    tb_run ip -n "$TB_GUEST" link set "$TB_VF" up || return
    wait_for --timeout 5 tb_link_is_up "$TB_GUEST" "$TB_VF"
}

# vf_del: hot-unplug vf0 (deleting the GUEST end removes the pair, like a VF going away).
vf_del() {
    tb_run ip -n "$TB_GUEST" link del "$TB_VF" || return
    local i
    for i in "${!TB_LINKS[@]}"; do
        [[ ${TB_LINKS[$i]} == "$TB_HOST $TB_VF_PORT" ]] && unset 'TB_LINKS[i]'
    done
    TB_LINKS=("${TB_LINKS[@]}")
}

vf_down() { tb_run ip -n "$TB_GUEST" link set "$TB_VF" down; }
vf_up()   { tb_run ip -n "$TB_GUEST" link set "$TB_VF" up; }

# tb_counter NS DEV STAT: one counter from /sys/class/net/DEV/statistics (e.g. rx_packets).
tb_counter() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

# tb_ifindex NS DEV
tb_ifindex() { ip netns exec "$1" cat "/sys/class/net/$2/ifindex"; }

# tb_agent_filter NS DEV DIR: prints the mirred target of the pref-20040 filter on DEV's
# clsact hook DIR (ingress|egress) as "DIRECTION TARGET" (e.g. "egress vf0"); fails if none.
TB_AGENT_PREF=20040
tb_agent_filter() {
    local out
    out=$(ip netns exec "$1" tc filter show dev "$2" "$3" 2>/dev/null) || return 1
    awk -v pref="$TB_AGENT_PREF" '
        /^filter/ { inpref = ($0 ~ ("pref " pref " ")) }
        inpref && /mirred \(/ {
            if (match($0, /\((Ingress|Egress) (Redirect|Mirror) to device [^)]*\)/)) {
                s = substr($0, RSTART + 1, RLENGTH - 2); n = split(s, w, " ")
                print tolower(w[1]), w[n]; found = 1; exit
            }
        }
        END { exit !found }' <<<"$out"
}
# The output is read whole before it is searched: `tc ... | grep -q` under pipefail reads a
# match as a miss when grep exits first and tc dies of SIGPIPE.
tb_has_pref_filter() { # NS DEV DIR: any pref 20040 filter at all
    local out; out=$(ip netns exec "$1" tc filter show dev "$2" "$3" 2>/dev/null)
    [[ $out == *"pref $TB_AGENT_PREF "* ]]
}
tb_has_clsact() {
    local out; out=$(ip netns exec "$1" tc qdisc show dev "$2" 2>/dev/null)
    [[ $'\n'$out == *$'\n'"qdisc clsact"* ]]
}

# The steering state as the agent should install it, read back from the kernel.
tb_steering_on() {
    [[ $(tb_agent_filter "$TB_GUEST" "$TB_VF" ingress) == "ingress $TB_HN" ]] &&
        [[ $(tb_agent_filter "$TB_GUEST" "$TB_HN" egress) == "egress $TB_VF" ]]
}
# hn0 has no redirect to the VF any more (fallback to the synthetic path).
tb_fallen_back() { ! tb_has_pref_filter "$TB_GUEST" "$TB_HN" egress; }

# Manual relay (what the agent does), for checking the testbed without the agent.
tb_relay_on() {
    local prio=${1:-$TB_AGENT_PREF}
    tb_has_clsact "$TB_GUEST" "$TB_VF" || tb_run in_guest tc qdisc add dev "$TB_VF" clsact || return
    tb_run in_guest tc filter add dev "$TB_VF" ingress prio "$prio" protocol all u32 match u32 0 0 \
        action mirred ingress redirect dev "$TB_HN" || return
    tb_has_clsact "$TB_GUEST" "$TB_HN" || tb_run in_guest tc qdisc add dev "$TB_HN" clsact || return
    tb_run in_guest tc filter add dev "$TB_HN" egress prio "$prio" protocol all u32 match u32 0 0 \
        action mirred egress redirect dev "$TB_VF"
}
tb_relay_off_hn() { # remove only hn0's egress redirect (the fallback step)
    local prio=${1:-$TB_AGENT_PREF}
    tb_run in_guest tc filter del dev "$TB_HN" egress prio "$prio" protocol all u32
}

tb_fdb() { ip netns exec "$TB_HOST" bridge fdb show br "$TB_BR" | grep -i "$TB_HN_MAC" || true; }

# tb_cleanup: idempotent; hooks, then processes, interfaces, namespaces.
tb_cleanup() {
    ((TB_CLEANED)) && return 0
    TB_CLEANED=1
    local h pid l ns i
    for h in "${TB_CLEANUP_HOOKS[@]}"; do
        eval "$h" || true
    done
    for pid in "${TB_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${TB_PIDS[@]}"; do
        for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    # Anything still running inside our own (uniquely named) namespaces was started by us.
    for ns in "${TB_NAMESPACES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
    for l in "${TB_LINKS[@]}"; do
        # shellcheck disable=SC2086
        set -- $l
        ip -n "$1" link del "$2" 2>/dev/null || true
    done
    for ns in "${TB_NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    [[ ${#TB_NAMESPACES[@]} -gt 0 ]] && tb_log "removed testbed $TB_ID"
    TB_NAMESPACES=() TB_LINKS=() TB_PIDS=()
    return 0
}
