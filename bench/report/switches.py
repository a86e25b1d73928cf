"""Turns nlwatch events into switch records, and attributes UDP losses to them.

A removal starts at the first event that shows the VF unusable (not up, no carrier, or
deleted; a deleted veth is first reported down) and ends at the next removal of hn's egress
redirect. An attach starts when the VF appears (a new ifindex) or turns usable again, and
ends at the next egress redirect added. The removal kind is "delete" when the VF's ifindex is
deleted before it is usable again, else "admin-down".
"""
from rawfiles import EGRESS, usable


def is_vf(event, prefix="vf"):
    return event["what"] == "link" and event["name"].startswith(prefix)


def switches(events, initial_usable=()):
    """(removals, attaches) from nlwatch events; initial_usable: VF ifindexes that were up with
    carrier before the watcher started."""
    state = {i: True for i in initial_usable}  # ifindex -> usable; absent = not present
    removals, attaches = [], []
    cur_r = cur_a = None
    for e in events:
        if e["what"] == "link" and (e["name"].startswith("vf") or e["ifindex"] in state):
            idx, was = e["ifindex"], state.get(e["ifindex"])
            if e["op"] == "del":
                state.pop(idx, None)
                if cur_r is not None and cur_r["ifindex"] == idx:
                    cur_r["kind"] = "delete"  # reported down first, then deleted
                    cur_r["t_del"] = e["t"]
                elif was:
                    cur_r = {"kind": "delete", "ifindex": idx, "t_event": e["t"], "t_relay": None}
                    removals.append(cur_r)
                continue
            now = bool(usable(e))
            if was is None:  # a new ifindex: the VF appeared
                cur_a = {"ifindex": idx, "t_appear": e["t"], "t_usable": None, "t_relay": None}
                attaches.append(cur_a)
            state[idx] = now
            if was and not now:
                cur_r = {"kind": "admin-down", "ifindex": idx, "t_event": e["t"], "t_relay": None}
                removals.append(cur_r)
            if now and not was:
                if cur_a is None or cur_a["ifindex"] != idx or cur_a["t_usable"] is not None:
                    cur_a = {"ifindex": idx, "t_appear": None, "t_usable": None, "t_relay": None}
                    attaches.append(cur_a)
                cur_a["t_usable"] = e["t"]
                cur_r = None
        elif e["what"] == "filter" and e.get("parent") == EGRESS:
            if e["op"] == "del" and cur_r is not None and cur_r["t_relay"] is None:
                cur_r["t_relay"] = e["t"]
            if e["op"] == "new" and cur_a is not None and cur_a["t_relay"] is None:
                cur_a["t_relay"] = e["t"]
    return removals, [a for a in attaches if a["t_usable"] is not None]


def attach_ms(attach, settle_s):
    """Steering on minus the moment the VF was both settled and usable, in ms."""
    if attach["t_relay"] is None:
        return None
    ready = attach["t_usable"]
    if attach["t_appear"] is not None:
        ready = max(ready, attach["t_appear"] + int(settle_s * 1e9))
    return (attach["t_relay"] - ready) / 1e6


def attribute_losses(removals, attaches, gaps, lead_ns=20_000_000):
    """Lost packets per removal and per attach: each gap goes to the switch window holding the
    send time of its first packet. Windows: removal = [event - lead, next attach start), attach
    = [attach start, next removal - lead). Returns (per_removal, per_attach, outside)."""
    marks = []
    for i, r in enumerate(removals):
        marks.append((r["t_event"] - lead_ns, "r", i))
    for i, a in enumerate(attaches):
        start = a["t_appear"] if a["t_appear"] is not None else a["t_usable"]
        marks.append((start, "a", i))
    marks.sort()
    per_removal = [0] * len(removals)
    per_attach = [0] * len(attaches)
    outside = 0
    for first, last, t_first, _ in gaps:
        owner = None
        for t, kind, i in marks:
            if t <= t_first:
                owner = (kind, i)
            else:
                break
        n = last - first + 1
        if owner is None:
            outside += n
        elif owner[0] == "r":
            per_removal[owner[1]] += n
        else:
            per_attach[owner[1]] += n
    return per_removal, per_attach, outside
