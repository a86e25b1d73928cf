"""The status phase (bench/phases/status.sh): the agent's CPU time per status and per metrics
request, per block of REQS requests, for each labelled binary, by number of pairs."""
import os

from rawfiles import read_meta
from stats import median, summary


def status_cost(raw):
    out = {}
    root = os.path.join(raw, "status-cost")
    if not os.path.isdir(root):
        return out
    for n in sorted(os.listdir(root), key=int):
        d = os.path.join(root, n)
        meta = read_meta(os.path.join(d, "meta"))
        blocks = []
        try:
            with open(os.path.join(d, "samples.txt")) as f:
                for line in f:
                    label, rnd, kind, reqs, cpu_ns, wall_ns = line.split()
                    blocks.append({"label": label, "round": int(rnd), "kind": kind, "requests": int(reqs),
                                   "cpu_ms_per_request": int(cpu_ns) / int(reqs) / 1e6,
                                   "wall_ms_per_request": int(wall_ns) / int(reqs) / 1e6})
        except FileNotFoundError:
            pass
        labels = meta.get("labels", "").split()
        res = {"meta": meta, "blocks": blocks, "labels": labels, "cpu_ms_per_request": {}}
        for label in labels:
            res["cpu_ms_per_request"][label] = {}
            for kind in ("status", "metrics"):
                vals = [b["cpu_ms_per_request"] for b in blocks if b["label"] == label and b["kind"] == kind]
                res["cpu_ms_per_request"][label][kind] = {**summary(vals), "median": median(vals),
                                                      "min": min(vals) if vals else None}
        out[n] = res
    return out


def measured_label(res):
    """The binary the targets judge: "after" in a before/after run, else the only one."""
    labels = res.get("labels") or []
    return "after" if "after" in labels else (labels[0] if labels else None)
