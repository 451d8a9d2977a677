"""Feasibility of pairing problems: required pairs that break a rule, Hall's condition.

References
----------
.. [1] P. Hall, "On representatives of subsets", *J. London Math. Soc.* 10 (1935) 26-30.
.. [2] L. R. Ford and D. R. Fulkerson, "Maximal flow through a network", *Canadian J.
   Math.* 8 (1956) 399-404 (a minimum cut names the mentees who cannot all be served).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pairwise.errors import InfeasibleError
from pairwise.problem import PairProblem
from pairwise.solvers.pairs.network import (
    after_required,
    free_arcs,
    low_after_required,
    max_then_total,
    solved_max_flow,
)

__all__ = [
    "check_required",
    "feasible_pairs",
    "hall_violation",
    "infeasible_all_matched",
    "infeasible_minimum",
]

IntArray = npt.NDArray[np.int64]


def hall_violation(problem: PairProblem) -> tuple[IntArray, IntArray, int, int]:
    """A set of mentees whose demand exceeds what their allowed mentors can still give them.

    Returns the mentees X on the source side of a minimum cut of the network after required
    pairs, the mentors Y allowed for them, X's remaining demand, and the most places Y can
    give X: ``sum over j in Y of min(capacity_j, number of X allowed with j)`` (a mentor takes
    a mentee at most once, which matters for panels). ``demand(X) > places`` whenever not
    every mentee can be fully matched (max-flow / min-cut, i.e. Hall's condition).
    """
    n, m = problem.shape
    dem, cap, free = after_required(problem)
    rows, cols = np.nonzero(free)
    mf = solved_max_flow(n, m, dem, cap, rows.astype(np.int64), cols.astype(np.int64))
    side = np.asarray(mf.get_source_side_min_cut(), dtype=np.int64)
    x = np.sort(side[(side >= 1) & (side <= n)] - 1)
    # for this X the cut takes, per mentor, the cheaper of his capacity and his arcs from X
    degree = free[x].sum(axis=0).astype(np.int64)
    y = np.flatnonzero(degree > 0).astype(np.int64)
    need: int = int(dem[x].sum())
    room: int = int(np.minimum(cap[y], degree[y]).sum())
    return x, y, need, room


def check_required(problem: PairProblem) -> None:
    """Raise InfeasibleError when required pairs alone break a rule."""
    conflicts: list[str] = []
    ids_a, ids_b = problem.mentee_ids, problem.mentor_ids
    for i, j in problem.required:
        if not problem.allowed[i, j]:
            rules = [name for name, mask in problem.removed_by.items() if mask[i, j]]
            conflicts.append(
                f"required pair ({ids_a[i]}, {ids_b[j]}) is forbidden by: {', '.join(rules)}"
            )
    if problem.required:
        req = np.array(problem.required, dtype=np.int64)
        per_mentor = np.bincount(req[:, 1], minlength=problem.shape[1])
        for jj in np.flatnonzero(per_mentor > problem.capacity):
            conflicts.append(
                f"required pairs give mentor {ids_b[jj]} {per_mentor[jj]} mentees "
                f"but capacity is {problem.capacity[jj]}"
            )
        per_mentee = np.bincount(req[:, 0], minlength=problem.shape[0])
        for ii in np.flatnonzero(per_mentee > problem.demand):
            conflicts.append(
                f"required pairs give mentee {ids_a[ii]} {per_mentee[ii]} mentors "
                f"but she asks for {problem.demand[ii]}"
            )
    if conflicts:
        raise InfeasibleError(conflicts)


def infeasible_all_matched(problem: PairProblem) -> InfeasibleError:
    """Name the conflict when not every mentee can be matched."""
    conflicts = []
    ids_a = problem.mentee_ids
    for i in np.flatnonzero(~problem.allowed.any(axis=1) & (problem.demand > 0)).tolist():
        conflicts.append(f"mentee {ids_a[i]} has {problem.why_no_mentor(i)}")
    x, y, need, room = hall_violation(problem)
    # mentees with no allowed mentor at all are named above; the counting is about the rest
    # (they add no mentor to y and no place to room)
    alone = ~problem.allowed[x].any(axis=1)
    need -= int(problem.demand[x][alone].sum())
    x = x[~alone]
    # name every mentor allowed for them, also those a required pair already ties to them
    y = np.flatnonzero(problem.allowed[x].any(axis=0))
    if need > room and len(x):
        shown = ", ".join(str(ids_a[i]) for i in x[:10]) + (" ..." if len(x) > 10 else "")
        who = problem.describe(x)
        conflicts.append(
            f"{len(x)} mentees {who + ' ' if who else ''}need {need} mentor places, but the "
            f"{len(y)} mentors allowed for them have {room} places: {shown}"
        )
        caps = ", ".join(f"{problem.mentor_ids[j]} ({problem.capacity[j]})" for j in y[:10])
        conflicts.append(
            f"the rules in conflict: every mentee matched ({len(x)} mentees) and the capacity "
            f"of {len(y)} mentor(s): {caps}{' ...' if len(y) > 10 else ''}"
        )
        conflicts.extend(_ruled_out(problem, x, y))
    return InfeasibleError(conflicts or ["not every mentee can be matched"])


def _ruled_out(problem: PairProblem, x: IntArray, y: IntArray) -> list[str]:
    """Which rules keep the other mentors from mentees ``x`` (allowed: ``y``), if any.

    Each rule counts the mentors it rules out for at least one of them.
    """
    others = np.setdiff1d(np.arange(problem.shape[1]), y)
    if not len(others) or not len(x):
        return []
    counts = [
        (name, int(mask[np.ix_(x, others)].any(axis=0).sum()))
        for name, mask in problem.removed_by.items()
    ]
    named = [f"{name} ({k})" for name, k in counts if k]
    if not named:
        return []
    return [f"the other {len(others)} mentors are ruled out for them by: {', '.join(named)}"]


def infeasible_minimum(problem: PairProblem) -> InfeasibleError:
    """Name the mentors whose minimum loads cannot all be met, in programme terms.

    A minimum cut of source -> mentor (her remaining minimum) -> mentee (one unit per
    allowed pair) -> sink (remaining demand) gives the mentors Y whose minima exceed what
    the mentees allowed with them can give (Hall's condition, mentor side).
    """
    n, m = problem.shape
    dem, _, free = after_required(problem)
    low = low_after_required(problem)
    rows, cols = (a.astype(np.int64) for a in np.nonzero(free))
    # the same builder with the sides swapped: mentors play "mentees" (demand = minimum)
    mf = solved_max_flow(m, n, low, dem, cols, rows)
    side = np.asarray(mf.get_source_side_min_cut(), dtype=np.int64)
    y = np.sort(side[(side >= 1) & (side <= m)] - 1)
    degree = free[:, y].sum(axis=1).astype(np.int64)
    room = int(np.minimum(dem, degree).sum())
    ids_b = problem.mentor_ids
    shown = ", ".join(str(ids_b[j]) for j in y[:10]) + (" ..." if len(y) > 10 else "")
    conflicts = []
    if len(y) == 1 and int(low[y[0]]) > room:
        k = int(low[y[0]])
        conflicts.append(
            f"mentor {shown} must get {k} mentee{'s' * (k > 1)} but only {room} may go to her"
        )
    elif len(y) and int(low[y].sum()) > room:
        each = np.unique(low[y])
        need = f"each get {int(each[0])}" if len(each) == 1 else f"get {int(low[y].sum())} in all"
        conflicts.append(
            f"{len(y)} mentors must {need} but only {room} mentees may go to them: {shown}"
        )
    else:  # the minima fit alone: the conflict is with every mentee matched
        conflicts.append("the minimum loads of the mentors and every mentee matched")
    return InfeasibleError(conflicts)


def feasible_pairs(problem: PairProblem) -> IntArray:
    """Pairs that keep every flow rule, or InfeasibleError naming the conflict if none do.

    The flow rules: demands, capacities, minimum loads, required pairs and every mentee
    matched; the pairs come from one min-cost maximum flow.

    The flow is exact for these rules (most pairs, then every minimum it can meet: see
    :func:`~.network.cost_network`), so it decides at once what a search would only find
    at its time limit. Required pairs must fit (:func:`check_required`).

    Examples
    --------
    >>> import pairwise
    >>> feasible_pairs(pairwise.PairProblem.from_scores([[0.9, 0.2]], minimum=[0, 1])).tolist()
    [[0, 1]]
    """
    n, m = problem.shape
    dem, cap, free = after_required(problem)
    rows, cols, costs, _ = free_arcs(problem, free)
    chosen = max_then_total(n, m, dem, cap, rows, cols, costs, low_after_required(problem))
    fixed = np.array(problem.required, dtype=np.int64).reshape(-1, 2)
    pairs = np.concatenate([fixed, chosen])
    if problem.all_matched:
        got = np.bincount(pairs[:, 0], minlength=n)
        if (got < problem.demand).any():
            raise infeasible_all_matched(problem)
    if (np.bincount(pairs[:, 1], minlength=m) < problem.minimum).any():
        raise infeasible_minimum(problem)
    return pairs
