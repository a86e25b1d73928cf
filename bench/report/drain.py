"""The drain phase: packets lost per VF removal with `hnagent drain` first and without, counted
by send time, with medians and bootstrap intervals drawn by round (a round holds one block of
each mode)."""
import bisect
import os

from bootstrap import by_round
from rawfiles import EGRESS, read_meta, read_nlwatch, read_rows, read_udpseq, scenarios

MODES = ("drain", "no-drain")
LEAD_NS = 20_000_000  # a removal's window opens 20 ms before the VF is deleted, as in section 1


def read_cycles(path):
    """[(round, mode, t_start, t_remove, t_return, t_end)] from the phase's cycles file."""
    return read_rows(path, int, str, int, int, int, int)


def lost_sent_between(gaps, lo, hi):
    """Lost packets sent in [lo, hi): a gap's packets spread evenly over its send times."""
    n = 0
    ends = [g[3] for g in gaps]
    for first, last, t_first, t_last in gaps[bisect.bisect_left(ends, lo):]:
        if t_first >= hi:
            break
        count = last - first + 1
        step = (t_last - t_first) / (count - 1) if count > 1 else 0
        n += sum(1 for k in range(count) if lo <= t_first + step * k < hi)
    return n


def redirect_at(events, t):
    """Whether hn's egress redirect was in place at time t, as nlwatch saw it (on before the
    first filter event: the agent steered before the watcher's stream of cycles began)."""
    on = True
    for e in events:
        if e["t"] >= t:
            break
        if e["what"] == "filter" and e.get("parent") == EGRESS:
            on = e["op"] == "new"
    return on


def steering_on_at(events, lo, hi):
    """When hn's egress redirect was added in [lo, hi) (the return's steering on), or None."""
    return next((e["t"] for e in events if lo <= e["t"] < hi and e["what"] == "filter"
                 and e.get("parent") == EGRESS and e["op"] == "new"), None)


def first_loss_after(gaps, lo, hi, t):
    """ms from t to the send time of the first packet lost in [lo, hi), or None."""
    first = next((g[2] for g in gaps if lo <= g[2] < hi), None)
    return None if first is None or t is None else (first - t) / 1e6


def sent_between(bins, lo, hi):
    return sum(sent for t, sent, _ in bins if lo <= t < hi)


def scenario(d):
    meta = read_meta(os.path.join(d, "meta"))
    cycles = read_cycles(os.path.join(d, "cycles"))
    if not cycles or not os.path.exists(os.path.join(d, "udp.txt")):
        return None
    udp, gaps, bins = read_udpseq(os.path.join(d, "udp.txt"))
    events, overruns = ([], 0)
    if os.path.exists(os.path.join(d, "nl.txt")):
        events, overruns = read_nlwatch(os.path.join(d, "nl.txt"))
    samples = []
    for rnd, mode, t_start, t_remove, t_return, t_end in cycles:
        samples.append({"round": rnd, "mode": mode,
                        "lost": lost_sent_between(gaps, t_remove - LEAD_NS, t_return),
                        "lost_cycle": lost_sent_between(gaps, t_start, t_end),
                        # The cycle's other two parts: the drain (or its dwell), and the VF's
                        # return until steering is back (undrain in drain mode).
                        "lost_before": lost_sent_between(gaps, t_start, t_remove - LEAD_NS),
                        "lost_return": lost_sent_between(gaps, t_return, t_end),
                        "return_loss_from_steering_on_ms": first_loss_after(
                            gaps, t_return, t_end, steering_on_at(events, t_return, t_end)),
                        "redirect_at_removal": redirect_at(events, t_remove) if events else None,
                        "removal_window_ms": (t_return - t_remove + LEAD_NS) / 1e6})
    rounds, whole = {}, {}
    for s in samples:
        rounds.setdefault(s["round"], {}).setdefault(s["mode"], []).append(s["lost"])
        whole.setdefault(s["round"], {}).setdefault(s["mode"], []).append(s["lost_cycle"])
    summary = {}
    for mode in MODES:
        sel = [s for s in samples if s["mode"] == mode]
        summary[mode] = {"removals": len(sel), "lost_total": sum(s["lost"] for s in sel),
                         "lost_max": max((s["lost"] for s in sel), default=None),
                         "without_loss": sum(1 for s in sel if s["lost"] == 0),
                         "cycle_lost_total": sum(s["lost_cycle"] for s in sel),
                         "before_lost_total": sum(s["lost_before"] for s in sel),
                         "return_lost_total": sum(s["lost_return"] for s in sel),
                         "returns_with_loss": sum(1 for s in sel if s["lost_return"]),
                         # Of those, the ones whose loss began within 1 ms of steering on.
                         "returns_losing_at_steering_on": sum(
                             1 for s in sel if s["lost_return"] and s["return_loss_from_steering_on_ms"] is not None
                             and -1 <= s["return_loss_from_steering_on_ms"] <= 1),
                         "redirect_off_at_removal": sum(1 for s in sel if s["redirect_at_removal"] is False)}
    # What the machine loses anyway: the stream's loss outside every cycle, per packet sent.
    spans = [(c[2], c[5]) for c in cycles]
    lost_in = sum(lost_sent_between(gaps, lo, hi) for lo, hi in spans)
    sent_in = sum(sent_between(bins, lo, hi) for lo, hi in spans)
    sent_out, lost_out = udp.get("sent", 0) - sent_in, udp.get("lost", 0) - lost_in
    return {"meta": meta, "watcher_overruns": overruns, "cycles": samples,
            "udp": {**udp, "lost_outside_cycles": lost_out, "sent_outside_cycles": sent_out},
            "removal_window": [-LEAD_NS / 1e6, "VF re-added"],
            "background_loss_rate": lost_out / sent_out if sent_out > 0 else None,
            "summary": summary,
            "lost": by_round(rounds, MODES, "drain", "no-drain"),
            "lost_cycle": by_round(whole, MODES, "drain", "no-drain")}


def drain(raw):
    return scenarios(raw, "drain", scenario)
