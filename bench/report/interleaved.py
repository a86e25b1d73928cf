"""The interleaved phase: removals given to the block (implementation) they fell in, loss per
removal by send time, medians and the hnagent/floor ratio with bootstrap intervals."""
import os

from bootstrap import by_round
from rawfiles import read_meta, read_nlwatch, read_udpseq
from switches import attribute_losses, switches


def read_blocks(path):
    """[(round, impl, start_ns, end_ns)] from the phase's blocks file."""
    blocks = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 4:
                    blocks.append((int(parts[0]), parts[1], int(parts[2]), int(parts[3])))
    except FileNotFoundError:
        pass
    return blocks


def scenario(d):
    meta = read_meta(os.path.join(d, "meta"))
    if not os.path.exists(os.path.join(d, "nl.txt")):
        return None
    events, overruns = read_nlwatch(os.path.join(d, "nl.txt"))
    end = int(meta.get("cycles_end_ns", 0)) or None
    events = [e for e in events if end is None or e["t"] <= end]
    initial = [int(meta["vf_ifindex"])] if meta.get("vf_ifindex") else []
    rems, atts = switches(events, initial)
    udp, gaps = {}, []
    if os.path.exists(os.path.join(d, "udp.txt")):
        udp, gaps, _ = read_udpseq(os.path.join(d, "udp.txt"))
    lost, _, outside = attribute_losses(rems, atts, gaps)
    blocks = read_blocks(os.path.join(d, "blocks"))
    impls = meta.get("impls", "").split()
    samples = []
    for i, r in enumerate(rems):
        owner = next((b for b in blocks if b[2] <= r["t_event"] <= b[3]), None)
        if owner is None:
            continue  # outside every block: not one of the measured cycles
        samples.append({"round": owner[0], "impl": owner[1], "kind": r["kind"], "lost": lost[i],
                        "reaction_ms": None if r["t_relay"] is None else (r["t_relay"] - r["t_event"]) / 1e6})
    rounds = {}
    for s in samples:
        rounds.setdefault(s["round"], {}).setdefault(s["impl"], []).append(s["lost"])
    reaction = {}
    for s in samples:
        if s["reaction_ms"] is not None:
            reaction.setdefault(s["round"], {}).setdefault(s["impl"], []).append(s["reaction_ms"])
    return {"meta": meta, "watcher_overruns": overruns, "blocks": [list(b) for b in blocks],
            "udp": {**udp, "lost_outside_switches": outside}, "removals": samples,
            "lost": by_round(rounds, impls, "hnagent", "floor"),
            "reaction_ms": by_round(reaction, impls, "hnagent", "floor")}


def interleaved(raw):
    out = {}
    for name in ("idle", "loaded"):
        d = os.path.join(raw, "interleaved", name)
        if os.path.isdir(d):
            res = scenario(d)
            if res:
                out[name] = res
    return out
