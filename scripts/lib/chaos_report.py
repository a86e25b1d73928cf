#!/usr/bin/env python3
"""Summary of one scripts/chaos run: attributes every lost packet of the two UDP sequence
streams to the event window it was SENT in, turns losses outside the excused windows into
violations, adds the violations the driver recorded, writes the JSON summary and prints a
human one. Exit status 1 when there is any violation, 0 otherwise.

    chaos_report.py WORK_DIR OUT_JSON

WORK_DIR (written by scripts/chaos):
  meta           key=value lines: seed, seconds, gap_ms, rate, kinds, t0_ns, t_end_ns, ...
  events.tsv     event IDX KIND T_START_NS T_END_NS        one line per event applied
                 excuse IDX KIND FROM_NS TO_NS             a window in which loss is expected
  violations.tsv T_NS INVARIANT IDX KIND DETAIL            found by the driver while running
  p2g.txt, g2p.txt  udpseq send output (peer->guest->peer, guest->peer->guest)
"""
import json
import statistics
import sys

DIRECTIONS = {"p2g": "peer->guest (echoed by the guest)", "g2p": "guest->peer (echoed by the peer)"}


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def read_events(path):
    events, excuses = [], []
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "event":
                events.append({"index": int(w[1]), "kind": w[2], "start": int(w[3]), "end": int(w[4])})
            elif w[0] == "excuse":
                excuses.append({"index": int(w[1]), "kind": w[2], "from": int(w[3]), "to": int(w[4])})
    events.sort(key=lambda e: e["start"])
    return events, excuses


def read_violations(path, t0):
    found = []
    try:
        with open(path) as f:
            for line in f:
                w = line.rstrip("\n").split("\t")
                if len(w) >= 5:
                    found.append({"at_s": round((int(w[0]) - t0) / 1e9, 3), "invariant": w[1],
                                  "event": int(w[2]), "event_kind": w[3], "detail": w[4]})
    except FileNotFoundError:
        pass
    return found


def read_stream(path):
    """(header dict, list of gaps (first, last, t_first, t_last)) or (None, []) if missing."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None, []
    if not lines or not lines[0].startswith("# udpseq"):
        return None, []
    header = dict(kv.split("=", 1) for kv in lines[0].split()[2:])
    gaps = []
    for line in lines[1:]:
        w = line.split()
        if w and w[0] == "gap":
            gaps.append(tuple(int(x) for x in w[1:5]))
    return header, gaps


def event_at(events, t):
    """The event whose window [start, next event's start) holds t; None before the first."""
    found = None
    for e in events:
        if e["start"] <= t:
            found = e
        else:
            break
    return found


def excused(excuses, t):
    return any(x["from"] <= t <= x["to"] for x in excuses)


def main(argv):
    work, out_json = argv[1], argv[2]
    meta = read_meta(f"{work}/meta")
    t0 = int(meta["t0_ns"])
    events, excuses = read_events(f"{work}/events.tsv")
    violations = read_violations(f"{work}/violations.tsv", t0)
    rate = float(meta.get("rate", "500"))
    period_ns = 1e9 / rate

    per_kind = {}
    for e in events:
        per_kind[e["kind"]] = per_kind.get(e["kind"], 0) + 1

    streams, longest = {}, None
    gap_per_event = {}  # event index -> longest gap (ms) sent in its window
    # event index -> how long loss went on after the fault's command returned (ms; negative:
    # it ended before): the agent's share, the removal's own duration left out
    overhang_per_event = {}
    gap_ns = float(meta["gap_ms"]) * 1e6
    for name, label in DIRECTIONS.items():
        header, gaps = read_stream(f"{work}/{name}.txt")
        if header is None:
            violations.append({"at_s": None, "invariant": "stream", "event": -1, "event_kind": "-",
                               "detail": f"no result from the {label} stream ({name}.txt missing or empty)"})
            continue
        lost_excused = lost_unexcused = 0
        for first, last, t_first, t_last in gaps:
            n = last - first + 1
            step = (t_last - t_first) / (n - 1) if n > 1 else 0
            bad = [t_first + round(i * step) for i in range(n) if not excused(excuses, t_first + i * step)]
            lost_unexcused += len(bad)
            lost_excused += n - len(bad)
            ms = (t_last - t_first + period_ns) / 1e6
            ev = event_at(events, t_first)
            if ev:
                gap_per_event[ev["index"]] = max(gap_per_event.get(ev["index"], 0), ms)
            window = next((x for x in excuses if x["from"] <= t_first <= x["to"]), None)
            if window:
                over = (t_last + period_ns - (window["to"] - gap_ns)) / 1e6
                i = window["index"]
                overhang_per_event[i] = max(overhang_per_event.get(i, over), over)
            where = f"event #{ev['index']} {ev['kind']}" if ev else "before the first event"
            gap = {"direction": name, "ms": round(ms, 3), "packets": n, "at_s": round((t_first - t0) / 1e9, 3),
                   "event": ev["index"] if ev else None, "event_kind": ev["kind"] if ev else None,
                   "unexcused_packets": len(bad)}
            if longest is None or ms > longest["ms"]:
                longest = gap
            if bad:
                since = (t_first - ev["start"]) / 1e6 if ev else None
                violations.append({
                    "at_s": round((bad[0] - t0) / 1e9, 3), "invariant": "tx-gap",
                    "event": ev["index"] if ev else -1, "event_kind": ev["kind"] if ev else "-",
                    "detail": f"{label}: {len(bad)} of {n} lost packets sent outside any excused window "
                              f"(gap {ms:.1f} ms starting {since:.1f} ms after {where} began)" if ev else
                              f"{label}: {len(bad)} of {n} lost packets sent {where}"})
        streams[name] = {"direction": label, "sent": int(header["sent"]), "received": int(header["received"]),
                         "lost": int(header["lost"]), "lost_excused": lost_excused,
                         "lost_unexcused": lost_unexcused, "duplicates": int(header["duplicates"]),
                         "gaps": len(gaps), "max_send_lateness_ms": round(int(header["late_ns"]) / 1e6, 3)}

    # Longest gap per event kind, over all events of that kind (0 when an event lost nothing).
    gaps_by_kind, overhang_by_kind = {}, {}
    for e in events:
        gaps_by_kind.setdefault(e["kind"], []).append(gap_per_event.get(e["index"], 0.0))
        if e["index"] in overhang_per_event:
            overhang_by_kind.setdefault(e["kind"], []).append(overhang_per_event[e["index"]])
    gap_stats = {}
    for k, v in sorted(gaps_by_kind.items()):
        gap_stats[k] = {"events": len(v), "events_with_loss": sum(1 for x in v if x > 0),
                        "max_ms": round(max(v), 3), "median_ms": round(statistics.median(v), 3)}
        if k in overhang_by_kind:
            gap_stats[k]["max_loss_after_fault_ms"] = round(max(overhang_by_kind[k]), 3)

    violations.sort(key=lambda v: (v["at_s"] is None, v["at_s"] or 0))
    summary = {
        "seed": int(meta["seed"]), "seconds": float(meta["seconds"]),
        "elapsed_s": round((int(meta["t_end_ns"]) - t0) / 1e9, 1),
        "gap_ms": float(meta["gap_ms"]), "rate_pps": rate, "settle_s": float(meta["settle"]),
        "kinds": meta["kinds"].split(","), "git_commit": meta.get("git_commit", ""),
        "load_start": meta.get("load_start", ""), "load_end": meta.get("load_end", ""),
        "events_total": len(events), "events": per_kind, "streams": streams,
        "longest_gap": longest, "gap_by_event_kind": gap_stats,
        "violations": violations, "ok": not violations,
    }
    with open(out_json, "w") as f:
        json.dump(summary, f, indent=2, sort_keys=False)
        f.write("\n")

    print(f"chaos: seed {summary['seed']}, {summary['elapsed_s']} s, {len(events)} events, "
          f"load {summary['load_start']} -> {summary['load_end']}")
    print("  events: " + ", ".join(f"{k} {v}" for k, v in sorted(per_kind.items())))
    for name, s in streams.items():
        print(f"  {s['direction']}: sent {s['sent']}, lost {s['lost']} "
              f"({s['lost_excused']} in excused windows, {s['lost_unexcused']} outside)")
    if longest:
        print(f"  longest gap {longest['ms']} ms ({longest['packets']} packets, {longest['direction']}) "
              f"at {longest['at_s']} s in event #{longest['event']} {longest['event_kind']}")
    for k, s in gap_stats.items():
        after = (f", loss ended at most {s['max_loss_after_fault_ms']} ms after the fault's command returned"
                 if "max_loss_after_fault_ms" in s else "")
        print(f"  gap per {k}: max {s['max_ms']} ms, median {s['median_ms']} ms, "
              f"{s['events_with_loss']}/{s['events']} events lost packets{after}")
    if violations:
        print(f"chaos: FAILED, {len(violations)} violation(s) (replay: scripts/chaos --seed {summary['seed']} ...):")
        for v in violations:
            print(f"  [{v['at_s']} s] {v['invariant']} after event #{v['event']} {v['event_kind']}: {v['detail']}")
    else:
        print("chaos: OK, no invariant violated")
    print(f"  summary: {out_json}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
