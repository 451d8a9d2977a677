"""Value caps on pairs (:class:`~pairwise.rules.AtMost`): the CP-SAT rows and a feasible start.

A value cap says that no mentor gets more than ``k`` mentees with one value of a column.
No flow states it when a mentee may hold several values, so the CP-SAT models
(:mod:`.cpsat`, :mod:`.fair`) add one row per (cap, mentor, value) that could break it,
and the flow answer that starts their search is trimmed to keep it (:func:`trim`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from pairwise.problem import PairProblem
from pairwise.rules import ValueCap

__all__ = ["cap_rows", "capped_example", "trim"]

IntArray = npt.NDArray[np.int64]


def capped_example() -> PairProblem:
    """Two mentees of team ``a`` (scores 0.9, 0.2), one mentor of capacity 2, one per team.

    Examples
    --------
    >>> capped_example().value_caps[0].rule
    'at most 1 per team'
    """
    cap = ValueCap("at most 1 per team", "team", ("a",), np.ones((2, 1), dtype=bool), 1)
    p = PairProblem.from_scores([[0.9], [0.2]], capacity=2)
    return replace(p, value_caps=(cap,))


def cap_rows(
    problem: PairProblem, rows: IntArray, cols: IntArray
) -> list[tuple[str, IntArray, int]]:
    """One ``(name, pair indices, k)`` per (cap, mentor, value) whose candidates exceed ``k``.

    ``rows`` and ``cols`` are the mentee and mentor positions of the model's pair
    variables; the row says ``sum(x[indices]) <= k``. Rows that cannot bind are left out.

    Examples
    --------
    >>> import numpy as np
    >>> p = capped_example()  # two mentees of team "a", one mentor who takes two
    >>> [(name, ks.tolist(), k) for name, ks, k in cap_rows(p, np.array([0, 1]), np.array([0, 0]))]
    [('at most 1 per team: mentor 0, a group of 2 (team)', [0, 1], 1)]
    """
    out: list[tuple[str, IntArray, int]] = []
    ids = problem.mentor_ids
    for cap in problem.value_caps:
        held = cap.member[rows]  # (pairs, values)
        for v in range(len(cap.values)):
            ks = np.flatnonzero(held[:, v])
            per_mentor = np.bincount(cols[ks], minlength=problem.shape[1])
            for j in np.flatnonzero(per_mentor > cap.k).tolist():
                mine = ks[cols[ks] == j].astype(np.int64)
                out.append((f"{cap.rule}: mentor {ids[j]}, {cap.group(v)}", mine, cap.k))
    return out


def trim(problem: PairProblem, pairs: IntArray) -> IntArray | None:
    """``pairs`` less the lowest-scored ones a value cap forbids; ``None`` if that breaks a rule.

    Dropping pairs keeps every rule but the ones that ask for pairs (every mentee matched,
    minimum loads), so the trimmed pairs are a feasible answer unless one of those then
    fails. Required pairs are never dropped (they break a cap only if the problem is
    infeasible, which CP-SAT then proves).

    Examples
    --------
    >>> import numpy as np
    >>> trim(capped_example(), np.array([[0, 0], [1, 0]])).tolist()  # scores 0.9 and 0.2
    [[0, 0]]
    """
    keep = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    n, m = problem.shape
    required = {tuple(r) for r in problem.required}
    for cap in problem.value_caps:
        order = np.argsort(-problem.scores[keep[:, 0], keep[:, 1]], kind="stable")
        fixed = np.array([tuple(r) in required for r in keep.tolist()], dtype=bool)
        order = np.concatenate([order[fixed[order]], order[~fixed[order]]])
        load = np.zeros((m, len(cap.values)), dtype=np.int64)
        ok = np.ones(len(keep), dtype=bool)
        for t in order.tolist():
            i, j = keep[t]
            has = cap.member[i]
            if (load[j, has] >= cap.k).any() and not fixed[t]:
                ok[t] = False
                continue
            load[j, has] += 1
        keep = keep[ok]
    if problem.all_matched and (np.bincount(keep[:, 0], minlength=n) < problem.demand).any():
        return None
    if (np.bincount(keep[:, 1], minlength=m) < problem.minimum).any():
        return None
    return keep
