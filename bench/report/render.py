#!/usr/bin/env python3
"""render.py RESULTS.json OUT.md [--plot OUT.png]: docs/BENCHMARKS.md from a results JSON.

Everything in the markdown comes from the JSON (and the fixed method text below); rerun this
after a new scripts/bench run instead of editing the markdown.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targets import TARGETS, UNRESOLVED, WHY  # noqa: E402
from collect import FOOTPRINT_BUILDS  # noqa: E402

IMPLS = ("hnagent", "baseline")


def f(x, digits=2, unit=""):
    if x is None:
        return "n/a"
    if isinstance(x, int):
        return f"{x}{unit}"
    return f"{x:.{digits}f}{unit}"


def get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def dist(s, digits=2, unit=""):
    if not s or not s.get("n"):
        return ["n/a"] * 3
    return [f(s["p50"], digits, unit), f(s["p99"], digits, unit), f(s["max"], digits, unit)]


def section_targets(r):
    rows, notes = [], []
    for tid, text, check in TARGETS:
        measured, met = check(r)
        # UNRESOLVED: the medians meet the target, but an interval reaches past it.
        verdict = {None: "not measured", True: "met", False: "**missed**",
                   UNRESOLVED: "met by the medians; not resolved by the intervals"}[met]
        rows.append([text, measured, verdict])
        if met is False or met == UNRESOLVED:
            notes.append(f"- **{text}: {verdict.strip('*')}** ({measured}). {WHY[tid]}")
    out = "## Targets\n\nReported, never asserted. hnagent's numbers; the baseline is in the tables below.\n\n"
    out += table(["target", "measured (hnagent)", "verdict"], rows) + "\n"
    if notes:
        out += "\nWhere a target is missed or not resolved, and why:\n\n" + "\n".join(notes) + "\n"
    return out


def section_removal(r):
    rem = r.get("removal") or {}
    if not rem:
        return ""
    rows = []
    for impl in IMPLS:
        s = get(rem, impl, "summary")
        if not s:
            continue
        for kind in ("delete", "admin-down"):
            k = s.get(kind, {})
            rows.append([impl, kind, get(k, "reaction_ms", "n") or 0] + dist(k.get("reaction_ms"), 3)
                        + dist(k.get("lost"), 0) + [f(get(k, "lost", "mean"), 1),
                                                     f(get(k, "down_to_dellink_ms", "p50"), 3) if kind == "delete" else "-"])
    out = "## 1. Removal: reaction and loss per switch\n\n"
    out += ("Reaction: from the first kernel notification that the VF is unusable to the "
            "notification that hn's egress redirect is gone, both seen by the independent "
            "watcher `nlwatch`. Loss: packets of the UDP echo stream (PEER -> GUEST -> PEER) "
            "that never came back, attributed to the switch they were sent around.\n\n")
    out += table(["impl", "VF", "switches", "reaction p50 ms", "p99 ms", "max ms",
                  "lost p50", "lost p99", "lost max", "lost mean", "kernel: down -> DELLINK p50 ms"], rows) + "\n\n"
    rows = []
    for impl in IMPLS:
        s = get(rem, impl, "summary", "self_fallback_ms")
        u = get(rem, impl, "udp") or {}
        if s is None:
            continue
        rows.append([impl] + dist(s, 3) + [f(u.get("sent"), 0), f(u.get("lost"), 0),
                                           f(u.get("lost_outside_switches"), 0),
                                           get(rem, impl, "watcher_overruns")])
    parts = []
    for impl in IMPLS:
        after = get(rem, impl, "lost_after_relay_change", "delete", "mean")
        att = get(rem, impl, "summary", "attach-recreated", "lost", "mean")
        if after is None:
            continue
        parts.append(f"{impl}: {f(after, 1)} packets lost after the relay change per deletion, "
                     f"{f(att, 1)} per re-attach, {get(rem, impl, 'hn_clsact_changes')} clsact "
                     f"qdisc additions/deletions on hn0")
    if parts:
        out += ("Loss that is not the reaction time: packets sent more than 0.1 ms after hn's egress "
                "redirect was removed, and packets lost when the VF is steered again. Adding or "
                "deleting a clsact qdisc makes the kernel deactivate the device's TX "
                "(dev_deactivate()) for a moment: " + "; ".join(parts) + ".\n\n")
    q = r.get("qdisc")
    if q and q.get("control"):
        out += (f"Control experiment (no VF, no relay, the stream on the synthetic path only): "
                f"{q['meta'].get('changes')} clsact additions/deletions on hn0, one every "
                f"{q['meta'].get('dwell_s')} s, lost {f(q['churn']['lost'], 0)} of "
                f"{f(q['churn']['sent'], 0)} packets in {q['churn']['gaps']} gaps "
                f"({f(q['lost_per_change'], 1)} per change); the same time without them lost "
                f"{f(q['control']['lost'], 0)} of {f(q['control']['sent'], 0)}.\n\n")
    out += ("The implementations' own view (`switch_ms` in their logs; hnagent from its monotonic "
            "clock, starting at the reconcile that saw the event, so without the time the event "
            "spent reaching it), and the stream as a whole:\n\n")
    out += table(["impl", "self-reported p50 ms", "p99 ms", "max ms", "UDP sent", "UDP lost",
                  "lost outside switches", "watcher overruns"], rows) + "\n"
    return out


def ci(x, digits=1):
    """"12.0 [10.5, 14.0]": a median and its bootstrap interval."""
    if not x or x.get("median") is None and x.get("value") is None:
        return "n/a"
    value = x.get("median", x.get("value"))
    iv = x.get("interval")
    return f(float(value), digits) + (f" [{f(float(iv[0]), digits)}, {f(float(iv[1]), digits)}]" if iv else "")


def section_interleaved(r):
    il = r.get("interleaved") or {}
    if not il:
        return ""
    out = "## 0. Removal loss against the floor, interleaved\n\n"
    out += ("hnagent, the floor (`bench/floor/floor.c`: the least a user-space relay can do, one "
            "pre-built `RTM_DELTFILTER` sent on the first event that says the VF is down or gone) and "
            "the baseline take turns in short blocks within one run, on one testbed with one UDP "
            "sequence stream (PEER -> GUEST -> PEER, loss by send time): each block starts the "
            "implementation, deletes and re-adds the VF a few times, and stops it; the order rotates "
            "every round. Medians of the packets lost per VF deletion and of the reaction (first VF "
            "event to hn's egress redirect gone, seen by `nlwatch`), each with a 95% bootstrap interval "
            "drawn by round (a round holds one block of each, so a slow minute of the shared machine "
            "hits all three alike). Loaded: a busy loop on every CPU and an unpaced iperf3 stream over "
            "a second veth pair in namespaces of its own, for the whole run.\n\n")
    scenarios = [(name, il[name]) for name in ("idle", "loaded") if il.get(name)]
    rows = []
    for name, x in scenarios:
        near, lost, react = x["lost_near"], x["lost"], x["reaction_ms"]
        for impl in sorted(lost["impls"], key=lambda i: ("hnagent", "floor", "baseline").index(i)
                           if i in ("hnagent", "floor", "baseline") else 9):
            rows.append([name, impl, near["impls"][impl]["n"], ci(near["impls"][impl], 1),
                         ci(lost["impls"][impl], 1), ci(react["impls"].get(impl), 3)])
        rows.append([name, "**hnagent / floor**", "-", ci(near["ratio"], 2), ci(lost["ratio"], 2),
                     ci(react["ratio"], 2)])
    out += table(["load", "impl", "removals", "lost near the switch, median [95% CI]",
                  "lost, wide window", "reaction ms, median [95% CI]"], rows) + "\n\n"
    out += ("Lost near the switch: packets sent from 5 ms before the VF event to 5 ms after hn's "
            "egress redirect was gone, counted one by one by send time; these are the packets the relay "
            "decides about. Wide window: the collector of section 1 (each run of lost packets goes to "
            "the switch whose window, 20 ms before the VF event to the VF's return, holds its first "
            "send time). On a loaded machine that window also holds the stream's background loss "
            "(rate below), and a run of losses that began more than 20 ms before the event (the "
            "kernel stops the VF's TX before it reports it down, and on a loaded machine that can "
            "take tens of ms) counts for no removal at all: it is shown for comparison with "
            "section 1, the near window is the measure.\n\n")
    parts = []
    for name, x in scenarios:
        m = x["meta"]
        parts.append(f"{name}: {x['lost']['rounds']} rounds of {m.get('cycles_per_block')} deletions per "
                     f"block, order {m.get('impls')} rotated; UDP sent {f(x['udp'].get('sent'), 0)}, lost "
                     f"{f(x['udp'].get('lost'), 0)}, of it outside the removal and attach windows "
                     f"{x['udp'].get('lost_outside_switches')}; background loss outside the near windows "
                     f"{f(100 * (x.get('background_loss_rate') or 0), 3, '%')}; watcher overruns {x['watcher_overruns']}; "
                     f"load average {m.get('load_before')} before, {m.get('load_after')} after")
    out += "Runs: " + "; ".join(parts) + ".\n"
    return out


def section_attach(r):
    rem, att = r.get("removal") or {}, r.get("attach") or {}
    rows = []
    for impl in IMPLS:
        for kind, label in (("attach-recreated", "0 s, VF recreated"), ("attach-admin-up", "0 s, VF set up")):
            s = get(rem, impl, "summary", kind)
            if s:
                rows.append([impl, label, s["attach_ms"].get("n", 0)] + dist(s["attach_ms"], 3)
                            + [f(get(s, "lost", "mean"), 1)])
        s = get(att, impl)
        if s:
            rows.append([impl, f"{s['settle_s']:g} s, VF recreated", s["summary"].get("n", 0)]
                        + dist(s["summary"], 3) + ["-"])
    if not rows:
        return ""
    out = "## 2. Attach latency\n\n"
    out += ("Steering on (hn's egress redirect added) minus the moment the VF was both settled "
            "(its appearance + settle time) and usable (admin up with carrier, IFF_LOWER_UP). "
            "The baseline starts its settle timer only when it sees the VF usable, and waits "
            "for IFF_RUNNING (no NO-CARRIER), which the kernel reports a little after carrier.\n\n")
    return out + table(["impl", "settle", "n", "p50 ms", "p99 ms", "max ms", "lost mean (UDP)"], rows) + "\n"


def section_throughput(r):
    t = r.get("throughput")
    if not t:
        return ""
    rows = []
    for path in ("synthetic", "direct", "steered-hnagent", "steered-baseline"):
        g = get(t, "gbps", path) or {}
        m = get(t, "median_gbps", path) or {}
        rows.append([path] + [f(m.get(d), 2) + " (" + ", ".join(f(x, 2) for x in g.get(d, [])) + ")"
                              for d in ("rx", "tx")])
    out = "## 3. Throughput (TCP, iperf3)\n\n"
    out += ("Gbit/s, median (all runs, in the order run). rx: PEER sends to GUEST; tx: GUEST sends to PEER. `direct` has "
            "the address on the VF and no relay; `steered-*` has the address on hn0 and the relay.\n\n")
    out += table(["path", "rx Gbit/s", "tx Gbit/s"], rows) + "\n\n"
    rows = [[impl] + [f(100 * v, 1, "%") if v else "n/a" for v in
                      (get(t, "steered_over_direct", impl, "rx"), get(t, "steered_over_direct", impl, "tx"))]
            for impl in IMPLS]
    return out + "Steered / direct:\n\n" + table(["relay", "rx", "tx"], rows) + "\n"


def section_soak(r):
    s = r.get("soak") or {}
    rows = []
    for impl in IMPLS:
        x = s.get(impl)
        if not x:
            continue
        rows.append([impl, x["cycles"], x["resets"], x["retransmitted_segments"], x["segments_out"],
                     f(100 * x["retransmit_ratio"], 3, "%") if x["retransmit_ratio"] is not None else "n/a",
                     f(x["mean_mbps"] / 1000, 2), x["zero_intervals"], x["iperf_error"] or "-"])
    if not rows:
        return ""
    out = "## 4. Soak: one TCP stream across hot-plug cycles\n\n"
    out += ("GUEST -> PEER, unpaced iperf3; the VF is deleted and recreated each cycle. Counters "
            "from `nstat` in both namespaces, read before the first and after the last cycle. "
            "Resets = TcpEstabResets + TcpOutRsts + TCPAbortOn{Data,Timeout,Linger} + "
            "TCPAbortFailed. Stalled = 100 ms intervals under 1 Mbit/s. iperf3 ends with "
            "\"interrupt\" because the driver stops it.\n\n")
    return out + table(["impl", "cycles", "resets", "retransmitted segs", "segs out", "retransmit ratio",
                        "mean Gbit/s", "stalled 100 ms intervals", "iperf3 end"], rows) + "\n"


def section_footprint(r):
    fp = r.get("footprint") or {}
    rows = []
    for impl in IMPLS + FOOTPRINT_BUILDS:
        x = fp.get(impl)
        if not x:
            continue
        after = get(r, "soak", impl, "footprint_after", "rss_kb")
        rows.append([impl, f(x["rss_start_kb"] / 1024, 1),
                     f(x["rss_start_anon_kb"] / 1024, 1) + " / " + f(x["rss_start_file_kb"] / 1024, 1),
                     f(after / 1024, 1) if after else "n/a",
                     f(x["idle_s"], 0), f(x["idle_cpu_ns"] / 1e6, 2), f(x["idle_cpu_percent"], 4, "%"),
                     x["idle_wakeups"]])
    out = "## 5. Footprint\n\n"
    out += ("Resident memory (VmRSS, summed over the process tree: the baseline is bash plus "
            "`ip monitor`), CPU time (schedstat, all threads) and context switches (voluntary + "
            "involuntary, all threads) over an idle window with one pair steering, all "
            "implementations idle at the same time in separate testbeds. `hnagent-installed` is the "
            "build `scripts/install` installs (`-Xswiftc -static-executable`: one static executable, "
            "measured as a copy made by install(1)); `hnagent` is the dynamic release build the other "
            "sections measure; `hnagent-static`, in runs that measured it, the `-Xswiftc -static-stdlib` "
            "build scripts/install installed before. RSS after soak is read at the end of the soak phase (dynamic build).\n\n")
    out += table(["impl", "RSS after start MiB", "of it anon / file MiB", "RSS after soak MiB", "idle window s", "CPU ms",
                  "CPU %", "wake-ups"], rows) + "\n\n"
    b = fp.get("binary") or {}
    rows = [["release (`swift build -c release`)", f(b.get("release_bytes", 0) / 2**20, 1),
             f(b.get("release_stripped_bytes", 0) / 2**20, 1)],
            ["installed (`-Xswiftc -static-executable`)",
             f(b["installed_bytes"] / 2**20, 1) if "installed_bytes" in b else "not built",
             f(b["installed_stripped_bytes"] / 2**20, 1) if "installed_stripped_bytes" in b else "-"]]
    if "static_bytes" in b:
        rows.append(["release, `-Xswiftc -static-stdlib`", f(b["static_bytes"] / 2**20, 1),
                     f(b.get("static_stripped_bytes", 0) / 2**20, 1)])
    for impl in ("hnagent",) + FOOTPRINT_BUILDS:
        top = get(fp, impl, "rss_by_mapping_kb")
        if top:
            out += (f"Largest resident mappings of {impl} after start: "
                    + ", ".join(f"{name} {kb / 1024:.1f} MiB" for kb, name in top if kb >= 52) + ".\n\n")
    if fp.get("hnagent-installed"):
        out += WHY["footprint"] + "\n\n"
    out += "Binary size (MiB):\n\n" + table(["build", "as built", "stripped"], rows) + "\n"
    if "linked" in b:
        out += f"\nThe dynamic release binary links {b['linked']} shared libraries (`ldd`); the installed one none.\n"
    return out


def section_scale(r):
    sc = r.get("scale") or {}
    rows = []
    sizes = sorted({int(n) for impl in sc for n in sc[impl]})
    for n in sizes:
        row = [n]
        for impl in IMPLS:
            x = get(sc, impl, str(n)) or {}
            row += [f(x.get("start_to_all_steering_ms"), 1),
                    f(x.get("storm_remove_ms"), 1) + " (" + f(x.get("storm_remove_kernel_ms"), 1) + ")",
                    f(x.get("storm_readd_ms"), 1) + " (" + f(x.get("storm_readd_kernel_ms"), 1) + ")"]
        rows.append(row)
    if not rows:
        return ""
    out = "## 6. Scale\n\n"
    out += ("Settle 0. start: from launching the implementation to every pair's hn egress "
            "redirect in place. storm: all VFs deleted in one `ip -batch`, then all recreated in "
            "one; time from the first VF event to the last pair changed, and in brackets how long the "
            "kernel itself took (first VF event to the last VF deleted, or to the last VF up with "
            "carrier): the implementation cannot finish before that. All in ms.\n\n")
    head = ["pairs"]
    for impl in IMPLS:
        head += [f"{impl} start", f"{impl} storm remove", f"{impl} storm re-add"]
    return out + table(head, rows) + "\n"


def section_status(r):
    sc = r.get("status_cost") or {}
    if not sc:
        return ""
    labels = []
    for n in sc:
        labels += [x for x in sc[n].get("labels", []) if x not in labels]
    rows = []
    for n in sorted(sc, key=int):
        row = [n]
        for label in labels:
            for kind in ("status", "metrics"):
                s = get(sc, n, "cpu_ms_per_request", label, kind) or {}
                row.append(f(s.get("median"), 2) + (f" ({f(s.get('min'), 2)}-{f(s.get('max'), 2)})" if s.get("n") else ""))
        meta = sc[n].get("meta", {})
        row.append(f"{meta.get('rounds', '?')} x {meta.get('requests', '?')}")
        rows.append(row)
    head = ["pairs"] + [f"{label} {kind}" for label in labels for kind in ("status", "metrics")] + ["rounds x requests"]
    out = "## 7. Status and metrics at scale\n\n"
    out += ("The agent's CPU time (schedstat) per `hnagent status --json` and per `hnagent metrics` "
            "request with every pair steering, in ms: median over blocks (min-max in brackets). "
            "Each block starts the binary, waits until every pair steers, sends the requests one "
            "client at a time and stops it; the binaries alternate within one run (A B, B A, ...). "
            "The 5 s counter timer may fall into a block and costs what one request does. "
            "`before`/`after`: the release builds before and after the request's own work was cut "
            "down. Before: JSONEncoder with snake_case key conversion, the relay's filters dumped "
            "per hook and device (1,024 dumps at 256 pairs) and a full link dump for the counters, "
            "a dictionary per metrics sample. After: the status JSON and the metrics text written "
            "by hand into one buffer (the same bytes: golden and JSONEncoder-differential tests), "
            "the relay's counters from one mirred action dump (RTM_GETACTION, each filter found by "
            "its action index; any doubt falls back to the filter dumps), the link counters from "
            "one RTM_GETSTATS dump, and no reflection in the change report. The step before "
            "(one link dump instead of a request per NIC) measured 41.6 -> 33.8 ms for status at "
            "256 pairs in its own run (`bench/results/status-20261205T214546Z.json`); its `after` is "
            "the same code as this run's `before`. Compare the columns of one run, not numbers "
            "across runs: on this shared machine the CPU time of a request moves with the load "
            "between runs, which is why the binaries alternate within one.\n\n"
            "Where the rest goes (perf, 40 `status --json` at 256 pairs, final build): reading the "
            "counters about a third (the action dump and its decoding a fifth, the stats dump 4%), "
            "writing the JSON a fifth, building the report a fifth (the change report of each NIC "
            "half of that); the rest is the control socket and the event loop. `metrics` spends "
            "about 30% formatting its text (23 lines per pair).\n\n")
    return out + table(head, rows) + "\n"


def section_drain(r):
    dr = r.get("drain") or {}
    scenarios = [(name, dr[name]) for name in ("idle", "loaded") if dr.get(name)]
    if not scenarios:
        return ""
    out = "## 9. Planned removal: drain first\n\n"
    out += ("Packets lost per VF deletion with `hnagent drain hn0` before it (and `hnagent undrain hn0` "
            "after the VF is back) and without, in alternating blocks of one run: one testbed, one "
            "hnagent (settle 0), one UDP sequence stream (PEER -> GUEST -> PEER, "
            f"{f(float(scenarios[0][1]['meta'].get('rate', 0)), 0)} packets/s), the "
            "order of the two blocks swapped every round. A drain cycle: drain (it answers once hn's "
            "egress redirect is gone, read back from the kernel), a dwell on the synthetic path, delete "
            "the VF, dwell, re-add it, undrain, wait for steering, dwell; a no-drain cycle is the same "
            "without the two commands. Lost per removal: packets sent from 20 ms before the VF was "
            "deleted until it was re-added, counted by send time, with the median's 95% bootstrap "
            "interval drawn by round. The rest of each cycle in two parts: before the removal (the "
            "drain itself in drain mode) and the return (from the VF's re-add to steering back and a "
            "dwell; the undrain in drain mode). The last column is the independent watcher's "
            "(`nlwatch`) view: hn's egress redirect was already gone when the VF was deleted.\n\n")
    rows = []
    for name, x in scenarios:
        for mode in ("drain", "no-drain"):
            s = x["summary"][mode]
            rows.append([name, mode, s["removals"], ci(x["lost"]["impls"][mode], 1), s["lost_total"],
                         f(s["lost_max"], 0), f"{s['without_loss']} of {s['removals']}",
                         s.get("before_lost_total", "n/a"),
                         f"{s.get('return_lost_total', 'n/a')} (in {s.get('returns_with_loss', '?')} cycles)",
                         f"{s['redirect_off_at_removal']} of {s['removals']}"])
    out += table(["load", "mode", "removals", "lost per removal, median [95% CI]", "lost, all removals",
                  "max", "removals without loss", "lost before the removals", "lost at the returns",
                  "redirect gone at the deletion"], rows) + "\n\n"
    parts = []
    for name, x in scenarios:
        m, u = x["meta"], x["udp"]
        parts.append(f"{name}: {x['lost']['rounds']} rounds of {m.get('cycles_per_block')} removals per block and "
                     f"mode; UDP sent {f(u.get('sent'), 0)}, lost {f(u.get('lost'), 0)}, of it outside the cycles "
                     f"{f(u.get('lost_outside_cycles'), 0)} (background loss "
                     f"{f(100 * (x.get('background_loss_rate') or 0), 4, '%')}); watcher overruns "
                     f"{x['watcher_overruns']}; load average {m.get('load_before')} before, {m.get('load_after')} after")
    out += "Runs: " + "; ".join(parts) + ".\n"
    returns = [(name, mode, x["summary"][mode]) for name, x in scenarios for mode in ("drain", "no-drain")
               if x["summary"][mode].get("returns_with_loss")]
    if returns:
        out += ("\nLoss at the returns, by the watcher's clock: of the returns that lost packets, "
                + "; ".join(f"{name} {mode} {s.get('returns_losing_at_steering_on', '?')} of {s['returns_with_loss']}"
                            for name, mode, s in returns)
                + " began within 1 ms of hn's egress redirect being added (steering on, with settle 0 right "
                "after the VF's return; after undrain in drain mode): the attach, not the removal that drain "
                "is for. The others began later, while the stream ran on the VF path.\n")
    if any(name == "loaded" for name, _ in scenarios):
        out += ("\nLoaded: a busy loop on every CPU and an unpaced iperf3 stream over a second veth pair "
                "(as in section 0). The stream loses packets there whatever the relay does (background "
                "rate above): compare the two modes with each other and with that rate.\n")
    return out


METHOD = """## Method

`scripts/bench` builds the testbed of `scripts/lib/testbed.sh` once per measurement
(namespaces `hnb-<pid>-<random>-{guest,host,peer}`): GUEST holds hn0 (198.18.0.1/24) and the
hot-pluggable vf0 (hn0's MAC, no address), both veths into a bridge in HOST; PEER
(198.18.0.2/24) hangs off the same bridge. Hot-unplug deletes vf0's veth, hot-plug recreates
it; admin-down is `ip link set vf0 down`. Traffic only flows between these namespaces.

Both implementations are measured in the same run on the same testbed:

- **hnagent**: `hnagent run --synthetic 'hn*' --vf 'vf*' --settle S --flap-threshold 0 --log-format json`,
  the release build (flap damping off: the benchmark hot-plugs far faster than a host would).
- **baseline**: `bench/baseline/tc-relay-loop`, a bash loop over `ip -o monitor link` that
  runs `tc` (the same relay: clsact, u32 match-all, mirred, pref 20040): what an operator
  would write by hand. It deletes hn's egress redirect when the VF is deleted or loses UP or
  carrier, and installs both redirects when the VF is up with carrier (after `sleep settle`).
- **floor** (section 0 only): `bench/floor/floor.c`, the same relay installed with `tc`; it
  waits on rtnetlink link events and, on the first one that shows the VF without UP or
  carrier or deleted, sends one `RTM_DELTFILTER` built at start (kind u32, pref 20040),
  reading nothing of the event but its ifinfomsg header. No user-space relay can remove
  the redirect sooner after the kernel's event; what it loses is the kernel's part.

Section 0 interleaves the implementations within one run (short blocks, order rotated each
round) because sequential runs of the same measurement a minute apart differ by 3-10x on
this machine; sections 1-6 run one implementation after the other and are only comparable
within that noise.

Measurement tools, in `bench/tools/` (C, built by the script with gcc):

- `nlwatch` subscribes to link and tc notifications in GUEST (SCHED_FIFO when allowed) and
  timestamps each with CLOCK_MONOTONIC. The same multicast wakes the implementation under
  test, so "kernel event -> relay changed" is measured identically for both, independent of
  their logs.
- `udpseq` sends a fixed-rate UDP sequence stream from PEER to an echo in GUEST and counts
  the echoes; lost sequence numbers and their send times let the collector attribute each
  loss to the switch window it was sent in (from 20 ms before a VF event to the next attach).

The driver waits for conditions (relay state read back with `tc filter show`) by polling
with a deadline (`wait_for`, 50 ms interval); it never sleeps to synchronise. Fixed
"dwell" periods keep traffic flowing on each path between switches. Raw samples, machine
description and the load average before and after each phase are in the results JSON;
`bench/report/render.py` generates this file from it.

**Noise.** The machine has 2 cores and is shared with other engineers' builds and tests while
the benchmark runs; the load averages below show how busy it was. Latencies of a few hundred
microseconds and throughput differences of a few percent are within that noise.
"""


def section_machine(r):
    m = r.get("machine", {})
    p = r.get("parameters", {})
    lines = [f"- date: {r.get('date')}, mode: `{r.get('mode')}`, commit {m.get('git_commit', '')[:12]}"
             + (" (with uncommitted changes)" if m.get("git_dirty") not in (None, "0") else ""),
             f"- machine: {m.get('cpus')} CPUs ({m.get('cpu_model')}), {int(m.get('mem_kb', 0)) // 1024 // 1024} GiB, "
             f"kernel {m.get('kernel')}, {m.get('os')}",
             f"- {m.get('swift')}; {m.get('iperf3')}",
             f"- load average (1/5/15 min) at start {m.get('load_start')}, at end {m.get('load_end')}",
             "- parameters: " + ", ".join(f"{k}={v}" for k, v in sorted(p.items()))]
    phases = r.get("phases", {})
    rows = []
    for name in sorted(phases):
        meta = None
        for part in ("removal", "attach", "soak", "timeline", "footprint"):
            if name.startswith(part + "-"):
                meta = get(r, part, name[len(part) + 1:], "meta")
        if name == "throughput":
            meta = get(r, "throughput", "meta")
        if name.startswith("interleaved"):
            meta = get(r, "interleaved", "loaded" if name.endswith("-loaded") else "idle", "meta")
        if name.startswith("scale-"):
            _, impl, n = name.split("-")
            meta = get(r, "scale", impl, n, "meta")
        if name.startswith("status-"):
            meta = get(r, "status_cost", name[len("status-"):], "meta")
        if name.startswith("drain"):
            meta = get(r, "drain", "loaded" if name.endswith("-loaded") else "idle", "meta")
        rows.append([name, "ok" if phases[name]["rc"] == 0 else f"failed (rc {phases[name]['rc']})",
                     phases[name]["seconds"], (meta or {}).get("load_before", "-"), (meta or {}).get("load_after", "-")])
    out = "## Run\n\n" + "\n".join(lines) + "\n\n"
    return out + table(["phase", "status", "s", "load before", "load after"], rows) + "\n"


# Keys of a results file that describe the run, not a phase: never taken from an overlay.
RUN_KEYS = ("date", "machine", "mode", "parameters", "schema", "phases", "sources")
# A results key is taken from an overlay only when the overlay ran its phase (named by this prefix).
PHASE_OF_KEY = {"status_cost": "status"}
# Taken whole from an overlay: a footprint run measures every build it names, and a build of the
# full run it does not name (say an earlier install build) would be stale beside it.
WHOLE_KEYS = ("footprint",)


# Sections measured outside scripts/bench, next to OUT.md, appended before the method.
HAND_WRITTEN = ("benchmarks-vm-relay.md",)


def main():
    args = sys.argv[1:]
    plot = None
    if "--plot" in args:
        i = args.index("--plot")
        plot = args[i + 1]
        del args[i:i + 2]
    # --overlay FILE (repeatable; --status is the older name): a run of some phases
    # (scripts/bench --phases ...) replaces those phases' results of the full run SRC.
    overlays = []
    while "--overlay" in args or "--status" in args:
        i = args.index("--overlay") if "--overlay" in args else args.index("--status")
        overlays.append(args[i + 1])
        del args[i:i + 2]
    src, out = args
    with open(src) as fh:
        r = json.load(fh)
    r["sources"] = []
    for path in overlays:
        with open(path) as fh:
            o = json.load(fh)
        ran = list(o.get("phases") or {})
        for key, value in o.items():
            prefix = PHASE_OF_KEY.get(key, key)
            if key in RUN_KEYS or not any(name.startswith(prefix) for name in ran):
                continue
            if isinstance(value, dict) and isinstance(r.get(key), dict) and key not in WHOLE_KEYS:
                r[key].update(value)  # one scenario (say interleaved idle) keeps the others
            else:
                r[key] = value
        r.setdefault("phases", {}).update(o.get("phases") or {})
        r["sources"].append(os.path.relpath(path, os.path.dirname(out) or "."))
    parts = [f"# Benchmarks\n\n<!-- generated by bench/report/render.py from {os.path.relpath(src, os.path.dirname(out) or '.')}; "
             "do not edit by hand: rerun `scripts/bench` -->\n"
             + "".join(f"<!-- and from {x} (phases run on their own) -->\n" for x in r.get("sources", [])) + "\n"
             "hnagent against the baseline an operator would write by hand and against the floor of a user-space relay, measured in one run "
             "on the same namespace testbed. Regenerate with `sudo scripts/bench` (full, ~30 min) "
             "or check the pipeline with `sudo scripts/bench --quick`.\n"]
    parts.append(section_targets(r))
    if plot:
        try:
            from plot import plot_timeline
            if plot_timeline(r, plot):
                parts.append("## Throughput and loss across a hot-plug\n\n"
                             "Top two rows: one unpaced TCP stream GUEST -> PEER while the VF is deleted "
                             "(red) and comes back (purple); orange and green mark hn's egress redirect "
                             "removed and added (iperf3 reports every 100 ms, its minimum, so a gap of a "
                             "few ms shows as retransmissions rather than as a dip). Bottom two rows: "
                             "the UDP echo stream's loss around a VF deletion and an admin-down, by "
                             "send time relative to the VF event, averaged over all switches of "
                             "section 1.\n\n"
                             f"![timeline]({os.path.relpath(plot, os.path.dirname(out) or '.')})\n")
        except ImportError:
            print("render: matplotlib missing; no plot", file=sys.stderr)
    for section in (section_interleaved, section_removal, section_attach, section_throughput, section_soak,
                    section_footprint, section_scale, section_status):
        text = section(r)
        if text:
            parts.append(text)
    # Measured elsewhere (the VM tier), written by hand: kept when this file is regenerated.
    for name in HAND_WRITTEN:
        path = os.path.join(os.path.dirname(os.path.abspath(out)), name)
        if os.path.exists(path):
            with open(path) as fh:
                parts.append(fh.read())
    # Numbered after the hand-written section 8.
    for section in (section_drain,):
        text = section(r)
        if text:
            parts.append(text)
    parts.append(METHOD)
    parts.append(section_machine(r))
    with open(out, "w") as fh:
        fh.write("\n".join(parts))


if __name__ == "__main__":
    main()
