"""Conflicts that make a circle problem impossible, found by counting before any search.

Each finding is a sentence in programme terms (sizes against people, mentors against
circles, a keep-together group against a rule, a floor against the cohort's supply); the
solvers raise :class:`~pairwise.errors.InfeasibleError` with them.
"""

from __future__ import annotations

import numpy as np

from pairwise.circles import CircleProblem
from pairwise.solvers.circles.units import Units, grouped_leaders

__all__ = ["diagnose"]


def diagnose(p: CircleProblem, units: Units) -> list[str]:
    """Conflicts that make the rules impossible, found by counting (empty if none found)."""
    out: list[str] = []
    m = p.n_circles
    lo_sum, hi_sum = int(p.min_size.sum()), int(p.max_size.sum())
    ids = p.person_ids
    grouped = grouped_leaders(p, units)
    placed = int(units.weight[~units.is_place].sum()) - grouped  # members besides leaders
    if p.mentor_led:
        places = int(p.leads.sum())
        if places < m:
            out.append(f"{m} circles need a mentor each, but the mentors can lead {places}")
        lo_m, hi_m = lo_sum - m, hi_sum - m
        if not lo_m <= placed <= hi_m:
            out.append(
                f"{placed} members besides mentors, but sizes {int(p.min_size.min())}-"
                f"{int(p.max_size.max())} with {m} mentor-led circles allow {lo_m}-{hi_m}"
            )
    elif not lo_sum <= placed <= hi_sum:
        out.append(
            f"{placed} people but sizes {int(p.min_size.min())}-{int(p.max_size.max())} "
            f"with {m} circles allow {lo_sum}-{hi_sum}"
        )
    biggest = int(p.max_size.max())
    usable = 0  # leading places that every rule lets lead a circle
    for u, ms in enumerate(units.members):
        who = ", ".join(str(ids[i]) for i in ms[:6]) + (" ..." if len(ms) > 6 else "")
        if units.is_place[u]:
            # a leading place may stay unused: it only counts if it can be used
            labelled = all(
                units.has_label[u, units.label_rule == r].any() for r in range(len(p.shared))
            )
            usable += int(labelled and bool((units.count[u] <= units.count_max).all()))
            continue
        if units.weight[u] > biggest:
            out.append(
                f"keep-together group of {units.weight[u]} ({who}) is larger than the largest "
                f"circle ({biggest})"
            )
        if len(ms) > 1:
            sub = p.apart[np.ix_(ms, ms)]
            if sub.any():
                a, b = np.argwhere(sub)[0]
                rules = [k for k, f in p.removed_by.items() if f[ms[a], ms[b]]] or ["keep apart"]
                out.append(
                    f"{ids[ms[a]]} and {ids[ms[b]]} must share a circle (keep together) but "
                    f"{', '.join(rules)} keeps them apart"
                )
        for r, rule in enumerate(p.shared):
            bits = units.label_rule == r
            if not units.has_label[u, bits].any():
                what = "has no" if len(ms) == 1 else "have no common"
                out.append(f"{who} {what} {rule.noun} ({rule.name})")
        for c, name in enumerate(units.count_names):
            if units.count[u, c] > units.count_max[c]:
                out.append(f"keep-together group {who} breaks '{name}' on its own")
    if p.mentor_led and usable + grouped < m and int(p.leads.sum()) >= m:
        out.append(
            f"{m} circles need a mentor each, but only {usable + grouped} leading places fit every "
            f"circle rule ({', '.join(r.name for r in p.shared) or 'counts'})"
        )
    for c, name in enumerate(units.count_names):
        if units.count_min[c] > 0 and not units.count_or_none[c] and not units.is_lead_count[c]:
            # members count fully; of the leading places at most m are used
            lead = np.sort(units.count[units.is_place, c])[::-1][:m]
            have = int(units.count[~units.is_place, c].sum()) + int(lead.sum())
            need = int(units.count_min[c]) * m
            if have < need:
                out.append(
                    f"'{name}' asks {units.count_min[c]} in each of {m} circles ({need}), "
                    f"the cohort has {have}"
                )
    return out
