# shellcheck shell=bash
# scripts/lib/chaos_record.sh: clock, seeded generator and bookkeeping of scripts/chaos (what
# chaos_report.py reads), and small helpers the other chaos_*.sh files share.
# Expects: work, tools, gap_ms.

# Packets sent this long before a removal may still be in flight (a round trip through three
# namespaces on a loaded machine) when the VF goes; they are excused with the removal.
INFLIGHT_MS=20
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

# out_has PATTERN CMD...: CMD's output matches PATTERN (grep -E). Not "CMD | grep -q": under
# pipefail, grep -q leaving early makes CMD die of SIGPIPE and the match reads as a failure.
out_has() {
    local pattern=$1 out
    shift
    out=$("$@" 2>/dev/null)
    grep -qE -- "$pattern" <<<"$out"
}
testbed_step() { # IDX KIND CMD...: a step of the test itself; its failure is reported too
    local idx=$1 kind=$2
    shift 2
    "$@" && return 0
    violation "$idx" "$kind" testbed "the test's own step failed: $*"
    return 1
}
