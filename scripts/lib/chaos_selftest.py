#!/usr/bin/env python3
"""Table tests of the two analysis helpers of scripts/chaos (no root, no network, < 1 s):
which lost packets are excused (chaos_report.py) and what counts as "as before"
(chaos_snapshot.py). scripts/chaos runs this before it builds anything.

    python3 scripts/lib/chaos_selftest.py
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MS = 1_000_000


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def run_report(gaps, excuses, events):
    """gaps: [(first, last, t_first_ms, t_last_ms)] on p2g (g2p loses nothing)."""
    with tempfile.TemporaryDirectory() as work:
        write(f"{work}/meta", "seed=1\nseconds=10\ngap_ms=50\nrate=500\nsettle=0.3\nkinds=vf-delete\n"
                              f"t0_ns={1000 * MS}\nt_end_ns={11000 * MS}\n")
        lines = [f"event {i} {k} {s * MS} {e * MS}" for i, k, s, e in events]
        lines += [f"excuse {i} {k} {a * MS} {b * MS}" for i, k, a, b in excuses]
        write(f"{work}/events.tsv", "\n".join(lines) + "\n")
        write(f"{work}/violations.tsv", "")
        lost = sum(last - first + 1 for first, last, _, _ in gaps)
        write(f"{work}/p2g.txt", f"# udpseq rate=500 sent=5000 received={5000 - lost} lost={lost} duplicates=0 late_ns=0\n"
              + "".join(f"gap {a} {b} {ta * MS} {tb * MS}\n" for a, b, ta, tb in gaps))
        write(f"{work}/g2p.txt", "# udpseq rate=500 sent=5000 received=5000 lost=0 duplicates=0 late_ns=0\n")
        out = f"{work}/summary.json"
        rc = subprocess.run([sys.executable, f"{HERE}/chaos_report.py", work, out],
                            stdout=subprocess.DEVNULL).returncode
        with open(out) as f:
            return rc, json.load(f)


def test_report():
    events = [(1, "vf-delete", 2000, 3000), (2, "sigterm", 4000, 5000)]
    excuse = [(1, "vf-delete", 1980, 2060)]
    cases = [
        # (name, gaps, expected exit, expected unexcused packets)
        ("no loss", [], 0, 0),
        ("loss inside the removal window", [(1000, 1010, 2000, 2020)], 0, 0),
        ("loss running past the window", [(1000, 1059, 2000, 2118)], 1, 29),
        ("loss in an event with no excuse", [(2000, 2001, 4100, 4102)], 1, 2),
        ("loss before the first event", [(10, 10, 1500, 1500)], 1, 1),
    ]
    for name, gaps, rc_want, bad_want in cases:
        rc, summary = run_report(gaps, excuse, events)
        bad = summary["streams"]["p2g"]["lost_unexcused"]
        assert (rc, bad) == (rc_want, bad_want), f"report, {name}: exit {rc} unexcused {bad}, want {rc_want} {bad_want}"
    rc, summary = run_report([(1000, 1010, 2000, 2020)], excuse, events)
    assert summary["longest_gap"]["event_kind"] == "vf-delete", "report: longest gap names its event"


def snapshot_dir(root, name, qdiscs, filters):
    d = f"{root}/{name}"
    os.mkdir(d)
    write(f"{d}/link-hn0.json", json.dumps([{"ifindex": 2, "ifname": "hn0", "mtu": 1500}]))
    write(f"{d}/ethtool-hn0.txt", "Features for hn0:\ntx-checksumming: on\n")
    write(f"{d}/qdisc-hn0.json", json.dumps(qdiscs))
    write(f"{d}/filter-hn0-ingress.json", "")
    write(f"{d}/filter-hn0-egress.json", json.dumps(filters))
    return d


def u32(pref, fh, value=None, actions=False):
    entries = [{"protocol": "all", "pref": pref, "kind": "u32", "chain": 0},
               {"protocol": "all", "pref": pref, "kind": "u32", "chain": 0, "options": {"fh": fh.split(":")[0] + ":"}}]
    opts = {"fh": fh, "match": {"value": value or "0", "mask": "ffffffff" if value else "0"}}
    if actions:
        opts["actions"] = [{"kind": "mirred", "to_dev": "vf0"}]
    entries.append({"protocol": "all", "pref": pref, "kind": "u32", "chain": 0, "options": opts})
    return entries


def test_snapshot():
    noqueue = [{"kind": "noqueue", "handle": "0:", "root": True}]
    clsact = noqueue + [{"kind": "clsact", "handle": "ffff:", "parent": "ffff:fff1"}]
    foreign = u32(20040, "801::800", "c613fff2")
    agent = u32(20040, "801::801", actions=True)[2:]
    cases = [
        # (name, post qdiscs, post filters, markers, expected exit)
        ("untouched", noqueue, [], [], 0),
        ("foreign filter and its clsact stay", clsact, foreign, ["c613fff2:hn0"], 0),
        ("agent filter left beside a foreign one", clsact, foreign + agent, ["c613fff2:hn0"], 1),
        ("clsact left without foreign filters", clsact, [], [], 1),
        ("unknown filter left", clsact, u32(100, "800::800", "c613ffff"), ["c613fff2:hn0"], 1),
    ]
    with tempfile.TemporaryDirectory() as root:
        pre = snapshot_dir(root, "pre", noqueue, [])
        for i, (name, qdiscs, filters, markers, rc_want) in enumerate(cases):
            post = snapshot_dir(root, f"post{i}", qdiscs, filters)
            rc = subprocess.run([sys.executable, f"{HERE}/chaos_snapshot.py", pre, post, *markers],
                                stdout=subprocess.DEVNULL).returncode
            assert rc == rc_want, f"snapshot, {name}: exit {rc}, want {rc_want}"
        post = snapshot_dir(root, "reindexed", noqueue, [])
        write(f"{post}/link-hn0.json", json.dumps([{"ifindex": 9, "ifname": "hn0", "mtu": 1500}]))
        rc = subprocess.run([sys.executable, f"{HERE}/chaos_snapshot.py", pre, post], stdout=subprocess.DEVNULL).returncode
        assert rc == 0, "snapshot: a new ifindex alone is no difference"
        write(f"{post}/link-hn0.json", json.dumps([{"ifindex": 9, "ifname": "hn0", "mtu": 1400}]))
        rc = subprocess.run([sys.executable, f"{HERE}/chaos_snapshot.py", pre, post], stdout=subprocess.DEVNULL).returncode
        assert rc == 1, "snapshot: an MTU left changed is a difference"


if __name__ == "__main__":
    try:
        test_report()
        test_snapshot()
    except AssertionError as e:
        print(f"chaos selftest FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    print("chaos selftest: ok")
