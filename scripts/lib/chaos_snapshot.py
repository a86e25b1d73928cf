#!/usr/bin/env python3
"""Compare two NIC snapshots taken by scripts/chaos (snapshot_take): the one before hnagent
first started, and one after it stopped. Prints each difference on its own line and exits 1
if there is any, 0 if the NICs are as they were.

    chaos_snapshot.py PRE_DIR POST_DIR [FOREIGN_MARKER:DEV ...]

A snapshot directory holds, per device DEV (hn0, vf0):
  link-DEV.json          ip -d -j link show dev DEV
  ethtool-DEV.txt        ethtool -k DEV
  qdisc-DEV.json         tc -j qdisc show dev DEV
  filter-DEV-HOOK.json   tc -j filter show dev DEV HOOK   (HOOK: ingress, egress)

FOREIGN_MARKER is the hex u32 key value (e.g. c613fff1) of a filter the test itself added on
DEV; those filters, and the clsact qdisc that holds them, are expected after the agent stops
and are left out of the comparison (their presence is checked on its own).
"""
import json
import os
import sys

# Fields of `ip -d -j link` left out, each with why:
LINK_VOLATILE = {
    # The VF is deleted and created again, and moved between namespaces: the kernel gives it
    # a new ifindex, and its veth peer's index ("link_index") changes with it. Nothing the
    # agent restores is an index.
    "ifindex",
    "link_index",
    # Counters (only with -s, dropped in case a caller adds it): traffic, not configuration.
    "stats64",
    "stats",
}


def load_json(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    if not text:
        return []
    try:
        return json.loads(text)
    except ValueError:
        return {"unparsable": text}


def load_text(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def normalise_link(doc):
    if not isinstance(doc, list):
        return doc
    return [{k: v for k, v in entry.items() if k not in LINK_VOLATILE} for entry in doc]


def is_foreign(entry, markers):
    match = (entry.get("options") or {}).get("match") or {}
    return match.get("value") in markers


def normalise_filters(doc, markers):
    """Drop the test's own filters; drop a priority's header and hash-table entries when
    nothing else is left at that priority (u32 lists them separately from the filters)."""
    if not isinstance(doc, list):
        return doc
    key = lambda e: (e.get("pref"), e.get("protocol"), e.get("kind"), e.get("chain"))
    others = {}
    for entry in doc:
        leaf = "match" in (entry.get("options") or {}) or "actions" in (entry.get("options") or {})
        if leaf and not is_foreign(entry, markers):
            others[key(entry)] = True
    kept = []
    for entry in doc:
        if is_foreign(entry, markers):
            continue
        if key(entry) not in others and "match" not in (entry.get("options") or {}):
            continue
        kept.append(entry)
    return kept


def normalise_qdiscs(doc, has_foreign):
    if not isinstance(doc, list):
        return doc
    # The clsact holding the test's own filters stays after the agent stops (its filters are
    # on it); everything else must be as before.
    return [q for q in doc if not (has_foreign and q.get("kind") == "clsact")]


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    pre, post = argv[1], argv[2]
    foreign = {}
    for spec in argv[3:]:
        marker, dev = spec.split(":", 1)
        foreign.setdefault(dev, set()).add(marker)
    devices = sorted({f.split("-")[1].split(".")[0] for f in os.listdir(pre) if f.startswith("link-")})
    problems = []

    def differ(what, before, after):
        if before != after:
            problems.append(f"{what}: before {json.dumps(before, sort_keys=True)} after {json.dumps(after, sort_keys=True)}")

    for dev in devices:
        markers = foreign.get(dev, set())
        differ(f"{dev} link", normalise_link(load_json(f"{pre}/link-{dev}.json")),
               normalise_link(load_json(f"{post}/link-{dev}.json")))
        before, after = load_text(f"{pre}/ethtool-{dev}.txt"), load_text(f"{post}/ethtool-{dev}.txt")
        if before != after:
            changed = sorted(set((after or "").splitlines()) ^ set((before or "").splitlines()))
            problems.append(f"{dev} ethtool -k: lines that differ: {changed}")
        differ(f"{dev} qdiscs", normalise_qdiscs(load_json(f"{pre}/qdisc-{dev}.json"), False),
               normalise_qdiscs(load_json(f"{post}/qdisc-{dev}.json"), bool(markers)))
        for hook in ("ingress", "egress"):
            differ(f"{dev} {hook} filters",
                   normalise_filters(load_json(f"{pre}/filter-{dev}-{hook}.json"), set()),
                   normalise_filters(load_json(f"{post}/filter-{dev}-{hook}.json"), markers))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
