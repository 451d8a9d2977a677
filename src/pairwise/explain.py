"""Explanations that need a solve: what switching a mentee's mentor would cost.

:meth:`Matching.explain <pairwise.results.Matching.explain>` calls this module: the problem
is solved again with the alternative pair required (by the exact pair methods, the same
dispatch as :func:`pairwise.solve`), and the switching cost is the drop in the total. It
uses the trusting solver cores and the problem's own total, never the result builder, so
results do not depend on the stage that made them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pairwise._validate import seed_problems, time_limit_problems
from pairwise.errors import InfeasibleError, ValidationError
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.pairs import solve_pairs

if TYPE_CHECKING:
    from pairwise.results import Matching

__all__ = ["pair_explanation"]


def pair_explanation(
    matching: Matching, i: int, k: int = 3, *, time_limit: float | None = None, seed: int = 0
) -> pd.DataFrame:
    """Mentee ``i``'s mentors and best ``k`` alternatives with exact switching costs.

    See :meth:`pairwise.results.Matching.explain` for the columns.
    """
    problems = [*time_limit_problems(time_limit), *seed_problems(seed)]
    if problems:
        raise ValidationError(problems)
    p = matching.problem
    mine = matching.assignment[matching.assignment[:, 0] == i, 1].tolist()
    load = np.bincount(matching.assignment[:, 1], minlength=p.shape[1])
    row = p.scores[i]
    ranked = np.lexsort((np.arange(len(row)), -np.where(p.allowed[i], row, -np.inf)))
    alternatives = [int(j) for j in ranked if p.allowed[i, j] and int(j) not in mine][:k]
    best = float(row[mine].max()) if mine else 0.0
    matched = len(matching.assignment)
    records = []
    locked = sum(a == i for a, _ in p.required) >= int(p.demand[i])
    for j in [*mine, *alternatives]:
        if j in mine:
            after, cost = matched, 0.0
        elif locked:  # her pairs are required: no switch keeps every hard rule
            after, cost = -1, float("nan")
        else:
            forced = replace(p, required=(*p.required, (i, j)))
            try:
                other = solve_pairs(forced, "auto", TimePlan.of(time_limit), Seeds(seed))
                after, cost = len(other.rows), matching.objective - forced.total(other.rows)
            except InfeasibleError:
                after, cost = -1, float("nan")
        records.append(
            (
                p.mentor_ids[j],
                float(row[j]),
                j in mine,
                bool(load[j] >= p.capacity[j]),
                float(row[j]) - best,
                after,
                cost,
            )
        )
    return pd.DataFrame(
        records,
        columns=[
            "mentor_id",
            "score",
            "assigned",
            "full",
            "score_difference",
            "matched_if_switched",
            "switch_cost",
        ],
    )
