#!/usr/bin/env python3
"""collect.py RAW_DIR OUT.json: turn the raw output of scripts/bench into one results JSON.

The JSON keeps the raw samples (per switch, per run, per interval) next to the summaries, so
render.py and anyone else can recompute every number in docs/BENCHMARKS.md.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawfiles import (read_counters, read_iperf, read_meta, read_nlwatch,  # noqa: E402
                      read_switch_log, read_udpseq, usable)
from stats import median, summary  # noqa: E402
from switches import attach_ms, attribute_losses, switches  # noqa: E402
from interleaved import interleaved  # noqa: E402
from statuscost import status_cost  # noqa: E402
from drain import drain  # noqa: E402

IMPLS = ("hnagent", "baseline")


def ms(a, b):
    return None if a is None or b is None else (b - a) / 1e6


def loads(meta):
    return {k: meta[k] for k in ("load_before", "load_after") if k in meta}


def footprint_fields(text):
    rss, cpu_ns, vol, invol, anon, file = (int(x) for x in text.split())
    return {"rss_kb": rss, "cpu_ns": cpu_ns, "voluntary_switches": vol, "involuntary_switches": invol,
            "rss_anon_kb": anon, "rss_file_kb": file}


def within_cycles(events, meta):
    """Events up to the end of the hot-plug cycles (what follows is the implementation's exit)."""
    end = int(meta.get("cycles_end_ns", 0)) or None
    return [e for e in events if end is None or e["t"] <= end]


def removal(raw):
    out = {}
    for impl in IMPLS:
        d = os.path.join(raw, "removal", impl)
        if not os.path.exists(os.path.join(d, "nl.txt")):
            continue
        meta = read_meta(os.path.join(d, "meta"))
        events, overruns = read_nlwatch(os.path.join(d, "nl.txt"))
        events = within_cycles(events, meta)
        initial = [int(meta["vf_ifindex"])] if meta.get("vf_ifindex") else []
        rems, atts = switches(events, initial)
        udp, gaps, _ = ({}, [], [])
        if os.path.exists(os.path.join(d, "udp.txt")):
            udp, gaps, _ = read_udpseq(os.path.join(d, "udp.txt"))
        lost_r, lost_a, outside = attribute_losses(rems, atts, gaps)
        samples = [{"kind": r["kind"], "reaction_ms": ms(r["t_event"], r["t_relay"]), "lost": lost_r[i],
                    "down_to_dellink_ms": ms(r["t_event"], r.get("t_del"))} for i, r in enumerate(rems)]
        attach = [{"kind": "recreated" if a["t_appear"] is not None else "admin-up",
                   "attach_ms": attach_ms(a, 0.0), "lost": lost_a[i]} for i, a in enumerate(atts)]
        own = read_switch_log(os.path.join(d, "impl.log"))
        res = {"meta": meta, "watcher_overruns": overruns, "removals": samples, "attaches": attach,
               "udp": {**udp, "lost_outside_switches": outside},
               "self_reported_ms": {"fallback": own["fallback"], "steering_on": own["steering on"]},
               "summary": {}}
        for kind in ("delete", "admin-down"):
            sel = [s for s in samples if s["kind"] == kind]
            res["summary"][kind] = {"reaction_ms": summary([s["reaction_ms"] for s in sel]),
                                    "lost": summary([s["lost"] for s in sel]),
                                    "down_to_dellink_ms": summary([s["down_to_dellink_ms"] for s in sel])}
        res["summary"]["all"] = {"reaction_ms": summary([s["reaction_ms"] for s in samples]),
                                 "lost": summary([s["lost"] for s in samples])}
        for kind in ("recreated", "admin-up"):
            sel = [a for a in attach if a["kind"] == kind]
            res["summary"]["attach-" + kind] = {"attach_ms": summary([a["attach_ms"] for a in sel]),
                                                "lost": summary([a["lost"] for a in sel])}
        res["summary"]["self_fallback_ms"] = summary(own["fallback"])
        hn = {e["ifindex"] for e in events if e["what"] == "filter" and e.get("parent") == "fffffff3"}
        res["hn_clsact_changes"] = sum(1 for e in events if e["what"] == "qdisc" and e["ifindex"] in hn)
        res["loss_profile"] = {kind: loss_profile(rems, gaps, kind) for kind in ("delete", "admin-down")}
        res["lost_after_relay_change"] = {
            kind: summary([sum(g[1] - g[0] + 1 for g in gaps
                               if r["t_relay"] and r["t_relay"] + 1e5 < g[2] <= r["t_relay"] + 20e6)
                           for r in rems if r["kind"] == kind and r["t_relay"]])
            for kind in ("delete", "admin-down")}
        out[impl] = res
    return out


def attach(raw):
    out = {}
    for impl in IMPLS:
        d = os.path.join(raw, "attach", impl)
        if not os.path.exists(os.path.join(d, "nl.txt")):
            continue
        meta = read_meta(os.path.join(d, "meta"))
        settle = float(meta.get("settle", 0))
        events, _ = read_nlwatch(os.path.join(d, "nl.txt"))
        _, atts = switches(within_cycles(events, meta))
        samples = [{"appear_to_relay_ms": ms(a["t_appear"], a["t_relay"]),
                    "usable_after_appear_ms": ms(a["t_appear"], a["t_usable"]),
                    "attach_ms": attach_ms(a, settle)} for a in atts]
        out[impl] = {"meta": meta, "settle_s": settle, "samples": samples,
                     "summary": summary([s["attach_ms"] for s in samples])}
    return out


def throughput(raw):
    d = os.path.join(raw, "throughput")
    if not os.path.isdir(d):
        return None
    runs = {}
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json"):
            continue
        path, direction, rep = name[:-5].rsplit(".", 2)
        data = read_iperf(os.path.join(d, name))
        if not data or "end" not in data or data.get("error"):
            runs.setdefault(path, {}).setdefault(direction, []).append(None)
            continue
        gbps = data["end"]["sum_received"]["bits_per_second"] / 1e9
        runs.setdefault(path, {}).setdefault(direction, []).append(round(gbps, 3))
    # Median of the runs: one run slowed down by other work on the machine does not move it.
    means = {p: {dr: median([v for v in vals if v]) for dr, vals in dirs.items()} for p, dirs in runs.items()}
    ratio = {}
    for impl in IMPLS:
        s = means.get("steered-" + impl, {})
        ratio[impl] = {dr: (s[dr] / means["direct"][dr]) if s.get(dr) and means.get("direct", {}).get(dr) else None
                       for dr in ("rx", "tx")}
    return {"meta": read_meta(os.path.join(d, "meta")), "gbps": runs, "median_gbps": means,
            "steered_over_direct": ratio}


def soak(raw):
    out = {}
    for impl in IMPLS:
        d = os.path.join(raw, "soak", impl)
        if not os.path.exists(os.path.join(d, "meta")):
            continue
        meta = read_meta(os.path.join(d, "meta"))
        delta = {}
        for side in ("guest", "peer"):
            before = read_counters(os.path.join(d, side + ".before"))
            after = read_counters(os.path.join(d, side + ".after"))
            delta[side] = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        resets = sum(delta[s].get(k, 0) for s in delta for k in
                     ("TcpEstabResets", "TcpOutRsts", "TcpExtTCPAbortOnData", "TcpExtTCPAbortOnTimeout",
                      "TcpExtTCPAbortOnLinger", "TcpExtTCPAbortFailed"))
        ip = read_iperf(os.path.join(d, "iperf3.json")) or {}
        intervals = [i["sum"]["bits_per_second"] / 1e6 for i in ip.get("intervals", [])]
        end = ip.get("end", {}).get("sum_sent", {})
        retrans = delta["guest"].get("TcpRetransSegs", 0)
        segs = delta["guest"].get("TcpOutSegs", 0)
        events, _ = read_nlwatch(os.path.join(d, "nl.txt")) if os.path.exists(os.path.join(d, "nl.txt")) else ([], 0)
        events = within_cycles(events, meta)
        initial = [int(meta["vf_ifindex"])] if meta.get("vf_ifindex") else []
        rems, _ = switches(events, initial)
        out[impl] = {
            "meta": meta, "cycles": int(meta.get("cycles", 0)), "tcp_counter_delta": delta,
            "resets": resets, "retransmitted_segments": retrans, "segments_out": segs,
            "retransmit_ratio": retrans / segs if segs else None,
            "iperf_error": ip.get("error"), "bytes_sent": end.get("bytes"),
            "mean_mbps": (end.get("bits_per_second") or 0) / 1e6,
            "interval_mbps_100ms": [round(x, 1) for x in intervals],
            "zero_intervals": sum(1 for x in intervals if x < 1),
            "reaction_ms": summary([ms(r["t_event"], r["t_relay"]) for r in rems]),
        }
        if "footprint_end" in meta:
            out[impl]["footprint_after"] = footprint_fields(meta["footprint_end"])
    return out


def timeline(raw):
    out = {}
    for impl in IMPLS:
        d = os.path.join(raw, "timeline", impl)
        meta = read_meta(os.path.join(d, "meta"))
        if "t0_ns" not in meta:
            continue
        t0 = int(meta["t0_ns"])
        ip = read_iperf(os.path.join(d, "iperf3.json")) or {}
        tcp = [[round(i["sum"]["end"], 3), round(i["sum"]["bits_per_second"] / 1e9, 3), i["sum"].get("retransmits")]
               for i in ip.get("intervals", [])]
        events, _ = read_nlwatch(os.path.join(d, "nl.txt"))
        events = within_cycles(events, meta)
        initial = [int(meta["vf_ifindex"])] if meta.get("vf_ifindex") else []
        rems, atts = switches(events, initial)
        marks = []
        for r in rems:
            marks.append({"what": "VF " + r["kind"], "t_s": (r["t_event"] - t0) / 1e9})
            if r["t_relay"]:
                marks.append({"what": "relay off", "t_s": (r["t_relay"] - t0) / 1e9})
        for a in atts:
            marks.append({"what": "VF back", "t_s": ((a["t_appear"] or a["t_usable"]) - t0) / 1e9})
            if a["t_relay"]:
                marks.append({"what": "relay on", "t_s": (a["t_relay"] - t0) / 1e9})
        out[impl] = {"meta": meta, "tcp_interval_end_s_gbps_retransmits": tcp, "events": marks,
                     "removal_ms": [ms(r["t_event"], r["t_relay"]) for r in rems]}
    return out


def loss_profile(rems, gaps, kind, lo_ms=-2.0, hi_ms=12.0, step_ms=0.25):
    """Mean lost packets per step_ms bin of send time relative to the VF event, over all
    removals of one kind (a gap's packets are spread evenly over its send-time span)."""
    sel = [r for r in rems if r["kind"] == kind]
    nbins = int(round((hi_ms - lo_ms) / step_ms))
    acc = [0.0] * nbins
    for r in sel:
        for first, last, t_first, t_last in gaps:
            n = last - first + 1
            if not (r["t_event"] + lo_ms * 1e6 <= t_first <= r["t_event"] + hi_ms * 1e6):
                continue
            for k in range(n):
                t = t_first + (t_last - t_first) * (k / (n - 1) if n > 1 else 0)
                b = int(((t - r["t_event"]) / 1e6 - lo_ms) // step_ms)
                if 0 <= b < nbins:
                    acc[b] += 1
    return {"from_ms": lo_ms, "step_ms": step_ms, "removals": len(sel),
            "mean_lost": [round(x / len(sel), 3) if sel else 0 for x in acc]}


def qdisc(raw):
    d = os.path.join(raw, "qdisc")
    meta = read_meta(os.path.join(d, "meta"))
    out = {"meta": meta}
    for v in ("churn", "control"):
        path = os.path.join(d, v, "udp.txt")
        if os.path.exists(path):
            s, gaps, _ = read_udpseq(path)
            out[v] = {"sent": s.get("sent"), "lost": s.get("lost"), "gaps": len(gaps)}
    if "churn" not in out:
        return None
    changes = int(meta.get("changes", 0))
    out["lost_per_change"] = out["churn"]["lost"] / changes if changes else None
    return out


# Builds measured in the footprint phase only: what scripts/install installs (hnagent-installed),
# and the -static-stdlib build that runs before it measured (hnagent-static).
FOOTPRINT_BUILDS = ("hnagent-installed", "hnagent-static")


def footprint(raw, build):
    out = {}
    for impl in IMPLS + FOOTPRINT_BUILDS:
        meta = read_meta(os.path.join(raw, "footprint", impl, "meta"))
        if "footprint_idle_end" not in meta:
            continue
        a, b = footprint_fields(meta["footprint_start"]), footprint_fields(meta["footprint_idle_end"])
        idle_ns = int(meta["idle_ns"])
        out[impl] = {
            "meta": meta, "rss_start_kb": a["rss_kb"], "rss_idle_end_kb": b["rss_kb"],
            "rss_start_anon_kb": a["rss_anon_kb"], "rss_start_file_kb": a["rss_file_kb"],
            "idle_s": idle_ns / 1e9, "idle_cpu_ns": b["cpu_ns"] - a["cpu_ns"],
            "idle_cpu_percent": 100 * (b["cpu_ns"] - a["cpu_ns"]) / idle_ns,
            "idle_wakeups": (b["voluntary_switches"] + b["involuntary_switches"])
            - (a["voluntary_switches"] + a["involuntary_switches"]),
            "rss_by_mapping_kb": read_smaps(os.path.join(raw, "footprint", impl, "smaps.txt")),
        }
    out["binary"] = {k: int(v) for k, v in build.items() if k.endswith("bytes") or k == "linked"}
    return out


def read_smaps(path, top=8):
    """The largest resident mappings of the main process: [[kB, file name], ...]."""
    try:
        with open(path) as fh:
            rows = [line.split(None, 1) for line in fh if line.strip()]
    except FileNotFoundError:
        return []
    return [[int(kb), name.strip()] for kb, name in rows[:top]]


def scale(raw):
    out = {}
    d = os.path.join(raw, "scale")
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d)):
        impl, n = name.rsplit("-", 1)
        meta = read_meta(os.path.join(d, name, "meta"))
        res = {"meta": meta}
        nl = os.path.join(d, name, "nl.txt")
        if os.path.exists(nl) and "start_ns" in meta:
            events, overruns = read_nlwatch(nl)
            res["watcher_overruns"] = overruns
            res["start_to_all_steering_ms"] = converge(events, int(meta["start_ns"]), int(n), None)
            if "storm_del_ns" in meta:
                res["storm_remove_ms"] = converge(events, int(meta["storm_del_ns"]), 0, "link")
                res["storm_remove_kernel_ms"] = kernel_span(events, int(meta["storm_del_ns"]),
                                                            int(meta.get("storm_add_ns", 0)) or None, "del")
            if "storm_add_ns" in meta:
                res["storm_readd_ms"] = converge(events, int(meta["storm_add_ns"]), int(n), "link")
                res["storm_readd_kernel_ms"] = kernel_span(events, int(meta["storm_add_ns"]),
                                                           int(meta.get("storm_done_ns", 0)) or None, "usable")
        if "footprint_end" in meta:
            res["footprint_end"] = footprint_fields(meta["footprint_end"])
        out.setdefault(impl, {})[n] = res
    return out


def kernel_span(events, start, end, last):
    """ms from the first VF event after start to the last VF deletion (last="del") or the last
    VF turning usable (last="usable") before end: how long the kernel itself took."""
    first = final = None
    for e in events:
        if e["t"] < start or (end is not None and e["t"] > end) or e["what"] != "link":
            continue
        if not e["name"].startswith("vf"):
            continue
        first = e["t"] if first is None else first
        if (last == "del" and e["op"] == "del") or (last == "usable" and usable(e)):
            final = e["t"]
    return None if first is None or final is None else (final - first) / 1e6


def converge(events, mark, target, first_kind):
    """ms from the mark (or the first event of first_kind after it) until the number of hn
    egress redirects equals target."""
    on = {}
    for e in events:
        if e["t"] < mark and e["what"] == "filter" and e.get("parent") == "fffffff3":
            on[e["ifindex"]] = e["op"] == "new"
    start = mark if first_kind is None else None
    for e in events:
        if e["t"] < mark:
            continue
        if start is None and e["what"] == first_kind:
            start = e["t"]
        if e["what"] == "filter" and e.get("parent") == "fffffff3":
            on[e["ifindex"]] = e["op"] == "new"
            if sum(on.values()) == target and start is not None:
                return (e["t"] - start) / 1e6
    return None


def main():
    raw, out_path = sys.argv[1], sys.argv[2]
    machine = read_meta(os.path.join(raw, "machine.meta"))
    build = read_meta(os.path.join(raw, "build.meta"))
    status = {}
    try:
        with open(os.path.join(raw, "status")) as f:
            for line in f:
                name, rc, secs = line.split()
                status[name] = {"rc": int(rc), "seconds": int(secs)}
    except FileNotFoundError:
        pass
    params = {k[len("param_P_"):].lower(): v for k, v in machine.items() if k.startswith("param_")}
    results = {
        "schema": 1,
        "mode": machine.get("mode"),
        "date": machine.get("date"),
        "machine": {k: v for k, v in machine.items() if not k.startswith("param_") and k not in ("mode", "date")},
        "parameters": params,
        "phases": status,
        "removal": removal(raw),
        "attach": attach(raw),
        "throughput": throughput(raw),
        "soak": soak(raw),
        "timeline": timeline(raw),
        "qdisc": qdisc(raw),
        "footprint": footprint(raw, build),
        "scale": scale(raw),
        "interleaved": interleaved(raw),
        "status_cost": status_cost(raw),
        "drain": drain(raw),
    }
    with open(out_path, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
