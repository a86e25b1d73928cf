#!/usr/bin/env python3
"""check.py RESULTS.json: exit 0 when the results hold at least one measured phase.

This is the smoke test's only condition (CI): timings are never asserted.
"""
import json
import sys


def measured(results):
    return [name for name in ("removal", "attach", "throughput", "soak", "timeline", "qdisc", "footprint", "scale",
                              "interleaved", "status_cost", "drain")
            if results.get(name) and (name != "footprint" or set(results[name]) - {"binary"})]


def main():
    try:
        with open(sys.argv[1]) as f:
            results = json.load(f)
    except (OSError, ValueError) as error:
        print(f"bench: no results: {error}", file=sys.stderr)
        return 1
    found = measured(results)
    failed = [name for name, s in results.get("phases", {}).items() if s["rc"] != 0]
    print(f"bench: results {sys.argv[1]}: measured {' '.join(found) or 'nothing'}"
          + (f"; phases that failed: {' '.join(failed)}" if failed else ""))
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
