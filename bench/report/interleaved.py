"""The interleaved phase: removals given to the block (implementation) they fell in, loss per
removal by send time, medians and the hnagent/floor ratio with bootstrap intervals."""
import bisect
import os

from bootstrap import by_round
from rawfiles import read_meta, read_nlwatch, read_rows, read_udpseq, scenarios
from switches import attribute_losses, switches


def read_blocks(path):
    """[(round, impl, start_ns, end_ns)] from the phase's blocks file."""
    return read_rows(path, int, str, int, int)


NEAR_NS = 5_000_000  # the near window: 5 ms before the VF event to 5 ms after the relay change


def near_losses(removals, gaps):
    """Per removal, packets lost that were sent from 5 ms before the VF event to 5 ms after
    hn's egress redirect was gone (a gap's packets spread evenly over its send times; None
    without a relay change). Those are the packets whose fate the relay decided: under load
    the wide window (to the VF's return) also counts the stream's background loss."""
    ends = [g[3] for g in gaps]
    out = []
    for r in removals:
        if r["t_relay"] is None:
            out.append(None)
            continue
        lo, hi = r["t_event"] - NEAR_NS, r["t_relay"] + NEAR_NS
        n = 0
        for first, last, t_first, t_last in gaps[bisect.bisect_left(ends, lo):]:
            if t_first > hi:
                break
            count = last - first + 1
            step = (t_last - t_first) / (count - 1) if count > 1 else 0
            n += sum(1 for k in range(count) if lo <= t_first + step * k <= hi)
        out.append(n)
    return out


def background(udp, bins, removals, near):
    """Loss rate of the stream outside the near windows: what the machine loses anyway."""
    windows = sorted((r["t_event"] - NEAR_NS, r["t_relay"] + NEAR_NS) for r in removals if r["t_relay"])
    starts = [w[0] for w in windows]
    sent_near = 0
    for t, sent, _ in bins:
        i = bisect.bisect_right(starts, t) - 1
        if i >= 0 and t <= windows[i][1]:
            sent_near += sent
    sent, lost = udp.get("sent", 0), udp.get("lost", 0)
    lost_near = sum(x for x in near if x)
    return (lost - lost_near) / (sent - sent_near) if sent > sent_near else None


def scenario(d):
    meta = read_meta(os.path.join(d, "meta"))
    if not os.path.exists(os.path.join(d, "nl.txt")):
        return None
    events, overruns = read_nlwatch(os.path.join(d, "nl.txt"))
    end = int(meta.get("cycles_end_ns", 0)) or None
    events = [e for e in events if end is None or e["t"] <= end]
    initial = [int(meta["vf_ifindex"])] if meta.get("vf_ifindex") else []
    rems, atts = switches(events, initial)
    udp, gaps, bins = {}, [], []
    if os.path.exists(os.path.join(d, "udp.txt")):
        udp, gaps, bins = read_udpseq(os.path.join(d, "udp.txt"))
    lost, _, outside = attribute_losses(rems, atts, gaps)
    near = near_losses(rems, gaps)
    blocks = read_blocks(os.path.join(d, "blocks"))
    impls = meta.get("impls", "").split()
    samples = []
    for i, r in enumerate(rems):
        owner = next((b for b in blocks if b[2] <= r["t_event"] <= b[3]), None)
        if owner is None:
            continue  # outside every block: not one of the measured cycles
        samples.append({"round": owner[0], "impl": owner[1], "kind": r["kind"], "lost": lost[i], "lost_near": near[i],
                        "reaction_ms": None if r["t_relay"] is None else (r["t_relay"] - r["t_event"]) / 1e6})
    rounds = {}
    for s in samples:
        rounds.setdefault(s["round"], {}).setdefault(s["impl"], []).append(s["lost"])
    reaction, lost_near = {}, {}
    for s in samples:
        if s["reaction_ms"] is not None:
            reaction.setdefault(s["round"], {}).setdefault(s["impl"], []).append(s["reaction_ms"])
        if s["lost_near"] is not None:
            lost_near.setdefault(s["round"], {}).setdefault(s["impl"], []).append(s["lost_near"])
    return {"meta": meta, "watcher_overruns": overruns, "blocks": [list(b) for b in blocks],
            "udp": {**udp, "lost_outside_switches": outside}, "removals": samples,
            "near_window_ms": [-NEAR_NS / 1e6, NEAR_NS / 1e6],
            "background_loss_rate": background(udp, bins, rems, near),
            "lost_near": by_round(lost_near, impls, "hnagent", "floor"),
            "lost": by_round(rounds, impls, "hnagent", "floor"),
            "reaction_ms": by_round(reaction, impls, "hnagent", "floor")}


def interleaved(raw):
    return scenarios(raw, "interleaved", scenario)
