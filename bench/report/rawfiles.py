"""Readers for the raw files the benchmark phases write (stdlib only)."""
import json
import os
import re

IFF_UP = 0x1
IFF_LOWER_UP = 0x10000  # carrier: traffic can flow (IFF_RUNNING follows later via linkwatch)
EGRESS = "fffffff3"  # TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS): hn's egress hook


def read_meta(path):
    """key=value lines; repeated keys keep the last value."""
    meta = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line:
                    key, value = line.rstrip("\n").split("=", 1)
                    meta[key] = value
    except FileNotFoundError:
        pass
    return meta


def read_rows(path, *types):
    """Whitespace-separated lines of exactly len(types) fields, each converted by its type;
    [] when the file is missing."""
    rows = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == len(types):
                    rows.append(tuple(t(p) for t, p in zip(types, parts)))
    except FileNotFoundError:
        pass
    return rows


def scenarios(raw, phase, read):
    """{name: read(RAW/PHASE/name)} for the scenarios idle and loaded that ran and gave a result."""
    out = {}
    for name in ("idle", "loaded"):
        d = os.path.join(raw, phase, name)
        if os.path.isdir(d):
            res = read(d)
            if res:
                out[name] = res
    return out


def ints(text):
    return [int(x) for x in text.split()] if text else []


def read_nlwatch(path):
    """Events as dicts: t (ns), what (link|filter|qdisc), op (new|del), ifindex, name, flags, parent."""
    events, overruns = [], 0
    with open(path) as f:
        for line in f:
            if line.startswith("# overrun"):
                overruns += 1
            if line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) < 6:
                continue
            t, what, op, ifindex = int(parts[0]), parts[1], parts[2], int(parts[3])
            event = {"t": t, "what": what, "op": op, "ifindex": ifindex}
            if what == "link":
                event["name"], event["flags"] = parts[4], int(parts[5], 16)
            else:
                event["parent"] = parts[4]
            events.append(event)
    return events, overruns


def usable(event):
    """Admin up with carrier: what both implementations wait for before steering."""
    return event["op"] == "new" and event["flags"] & IFF_UP and event["flags"] & IFF_LOWER_UP


def read_udpseq(path):
    """(summary dict, gaps [(first, last, t_first, t_last)], bins [(t, sent, received)])."""
    summary, gaps, bins = {}, [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if line.startswith("# udpseq"):
                summary = {k: float(v) for k, v in (p.split("=") for p in parts[2:])}
            elif parts and parts[0] == "gap":
                gaps.append(tuple(int(x) for x in parts[1:5]))
            elif parts and parts[0] == "bin":
                bins.append(tuple(int(x) for x in parts[1:4]))
    return summary, gaps, bins


SWITCH_RE = re.compile(r"^(fallback|steering on) .*?switch_ms=([0-9.]+)")


def read_switch_log(path):
    """Self-reported switch times from hnagent's JSON log or the baseline's text log."""
    out = {"fallback": [], "steering on": []}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                try:
                    message = json.loads(line).get("msg", "")
                except ValueError:
                    message = line
                m = SWITCH_RE.match(message)
                if m:
                    out[m.group(1)].append(float(m.group(2)))
    except FileNotFoundError:
        pass
    return out


def read_iperf(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None


def read_counters(path):
    """nstat 'name value' lines."""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    out[parts[0]] = int(parts[1])
    except FileNotFoundError:
        pass
    return out
