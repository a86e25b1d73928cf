"""Medians with bootstrap confidence intervals, stdlib only (no numpy on a bare machine).

Resampling is by round of an interleaved run, not by single removal: one round holds one
block of every implementation, close together in time, so a slow minute of the shared
machine moves all of them alike. Drawing whole rounds keeps that pairing and the
correlation of the removals within a block, which resampling single removals would hide
(and so give intervals that are too narrow).
"""
import random

from stats import median


def _interval(values, level):
    values = sorted(values)
    if not values:
        return None
    lo = values[int((1 - level) / 2 * (len(values) - 1))]
    hi = values[int(round((1 + level) / 2 * (len(values) - 1)))]
    return [lo, hi]


def by_round(rounds, impls, numerator, denominator, resamples=4000, level=0.95, seed=14):
    """rounds: {round: {impl: [sample, ...]}}. Returns, per impl, the median of all its samples
    and its interval, and the ratio of the medians numerator/denominator with its interval.
    The seed is fixed so the same results JSON always renders the same numbers."""
    keys = sorted(rounds)
    pooled = {impl: [x for k in keys for x in rounds[k].get(impl, [])] for impl in impls}
    rng = random.Random(seed)
    meds = {impl: [] for impl in impls}
    ratios, undefined = [], 0
    for _ in range(resamples if keys else 0):
        pick = [rng.choice(keys) for _ in keys]
        m = {impl: median([x for k in pick for x in rounds[k].get(impl, [])]) for impl in impls}
        for impl in impls:
            if m[impl] is not None:
                meds[impl].append(m[impl])
        if m.get(numerator) is not None and m.get(denominator):
            ratios.append(m[numerator] / m[denominator])
        else:
            undefined += 1
    out = {"level": level, "resamples": resamples, "resampled_unit": "round", "rounds": len(keys), "impls": {}}
    for impl in impls:
        out["impls"][impl] = {"n": len(pooled[impl]), "median": median(pooled[impl]),
                              "interval": _interval(meds[impl], level)}
    num, den = median(pooled.get(numerator, [])), median(pooled.get(denominator, []))
    out["ratio"] = {"numerator": numerator, "denominator": denominator,
                    "value": num / den if num is not None and den else None,
                    "interval": _interval(ratios, level), "undefined_resamples": undefined}
    return out
