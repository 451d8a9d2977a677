"""Exact pairing by min-cost flow (OR-Tools), for every objective.

The network is :mod:`.network`'s. Required pairs are placed first and taken out of demands
and capacities.

* ``matched-then-total``: maximum flow of minimum cost, i.e. as many pairs as the rules
  allow, then the largest total score among those.
* ``total``: a zero-cost source -> sink bypass lets mentees stay unmatched, and a min-cost
  flow of the full supply keeps only pairs that add score.
* ``covered-then-total``: the same bypass, and each mentee's first unit from the source
  and each mentor's first unit to the sink carry a bonus (convex arc costs, weights in
  strict lexicographic order: :func:`.network.cover_weights`), so the flow covers the most
  mentees, then the most mentors, then has the largest total; a mentee or mentor with a
  required pair is covered already. With every mentee matched: the maximum flow of that
  cost.
* ``maxmin``: the largest floor *t* such that arcs scoring at least *t* still carry the
  maximum matched count (:mod:`.maxmin`, one max-flow per step), then
  ``matched-then-total`` on those arcs.

Integer costs: ``scale = SCALE / max |allowed score|``; a pair's rounding error is at most
``0.5 / scale``, so the float total of the returned pairs is within ``n_pairs / scale`` of the
true float optimum, which is what the reported bound adds (for ``total``, whose optimum may
hold more pairs than the returned solution, ``n_pairs`` is the most pairs any solution holds).

References
----------
.. [1] R. K. Ahuja, T. L. Magnanti and J. B. Orlin, *Network Flows: Theory, Algorithms,
   and Applications*, Prentice Hall, 1993 (min-cost flow; bottleneck assignment by
   threshold search).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pairwise.problem import PairProblem
from pairwise.solvers.answer import Answer
from pairwise.solvers.pairs.maxmin import floor_levels, largest_floor
from pairwise.solvers.pairs.network import (
    after_required,
    best_total,
    free_arcs,
    low_after_required,
    max_count,
    max_then_total,
)

__all__ = ["maxmin_floor", "solve_flow", "uncovered"]

IntArray = npt.NDArray[np.int64]


def solve_flow(problem: PairProblem) -> Answer:
    """Solve ``problem`` exactly for its objective; see the module docstring.

    Trusting core: ``problem`` is valid and its required pairs fit (checked by the caller).
    """
    n, m = problem.shape
    dem, cap, free = after_required(problem)
    rows, cols, costs, scale = free_arcs(problem, free)
    fixed = np.array(problem.required, dtype=np.int64).reshape(-1, 2)
    low = low_after_required(problem)
    objective = problem.objective
    if objective == "total" and problem.all_matched:
        objective = "matched-then-total"  # all must be matched: maximise the total among those
    if objective == "total":
        chosen = best_total(n, m, dem, cap, rows, cols, costs, low)
    elif objective == "covered-then-total":
        cover = uncovered(problem)
        if problem.all_matched:
            chosen = max_then_total(n, m, dem, cap, rows, cols, costs, low, cover)
        else:
            chosen = best_total(n, m, dem, cap, rows, cols, costs, low, cover)
    elif objective == "maxmin":
        chosen = _maxmin(problem, dem, cap, rows, cols, costs, low)
    else:
        chosen = max_then_total(n, m, dem, cap, rows, cols, costs, low)
    pairs = np.concatenate([fixed, chosen]) if len(fixed) else chosen
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    counted = len(pairs)
    if objective in ("total", "covered-then-total"):  # a better one may hold more pairs
        counted = len(fixed) + int(min(dem.sum(), cap.sum(), len(rows)))
    return Answer(pairs, optimal=True, method="flow", slack=max(counted, len(pairs)) / scale)


def uncovered(problem: PairProblem) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Mentees and mentors with no required pair (the ones a coverage bonus is for)."""
    n, m = problem.shape
    a, b = np.ones(n, dtype=bool), np.ones(m, dtype=bool)
    for i, j in problem.required:
        a[i] = b[j] = False
    return a, b


def _maxmin(
    problem: PairProblem,
    dem: IntArray,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    costs: IntArray,
    low: IntArray,
) -> IntArray:
    n, m = problem.shape
    t = _floor(problem, dem, cap, rows, cols, costs, low)
    keep = problem.scores[rows, cols] >= t if t is not None else np.ones(len(rows), dtype=bool)
    return max_then_total(n, m, dem, cap, rows[keep], cols[keep], costs[keep], low)


def maxmin_floor(problem: PairProblem) -> float | None:
    """The ``maxmin`` objective's floor (``None`` when no pair is possible).

    The largest score *t* such that pairs scoring at least *t* still hold the most pairs
    (and minimum loads) any answer holds. CP-SAT's ``maxmin`` takes it from here rather
    than search for it.

    Examples
    --------
    >>> maxmin_floor(PairProblem.from_scores([[0.9, 0.2], [0.8, 0.1]]))
    0.2
    """
    dem, cap, free = after_required(problem)
    rows, cols, costs, _ = free_arcs(problem, free)
    return _floor(problem, dem, cap, rows, cols, costs, low_after_required(problem))


def _floor(
    problem: PairProblem,
    dem: IntArray,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    costs: IntArray,
    low: IntArray,
) -> float | None:
    """:func:`maxmin_floor` on the free arcs (``None``: nothing to raise)."""
    n, m = problem.shape
    s = problem.scores[rows, cols]
    if low.any():  # the target: most pairs with every minimum met that can be
        best = max_then_total(n, m, dem, cap, rows, cols, costs, low)
        target = len(best)
        best_low = _met(best, low, m)
    else:
        target = max_count(n, m, dem, cap, rows, cols)
    if target == 0 or len(s) == 0:
        return None
    levels = floor_levels(s, (float(problem.scores[i, j]) for i, j in problem.required))

    def keeps(t: float) -> bool:
        keep = s >= t
        if not low.any():
            return max_count(n, m, dem, cap, rows[keep], cols[keep]) == target
        got = max_then_total(n, m, dem, cap, rows[keep], cols[keep], costs[keep], low)
        return len(got) == target and _met(got, low, m) == best_low

    return float(levels[largest_floor(levels, keeps)])


def _met(pairs: IntArray, low: IntArray, m: int) -> int:
    """Units of minimum load ``pairs`` meet."""
    return int(np.minimum(np.bincount(pairs[:, 1], minlength=m), low).sum())
