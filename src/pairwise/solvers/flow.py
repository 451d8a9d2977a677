"""Exact pairing by min-cost flow (OR-Tools), for every objective.

Network: source -> mentee *i* (capacity = her demand) -> mentor *j* (one arc per allowed
pair, capacity 1, cost ``-rint(score * scale)``) -> sink (capacity = his capacity).
Required pairs are placed first and taken out of demands and capacities.

* ``matched-then-total``: maximum flow of minimum cost, i.e. as many pairs as the rules
  allow, then the largest total score among those.
* ``total``: a zero-cost source -> sink bypass lets mentees stay unmatched, and a min-cost
  flow of the full supply keeps only pairs that add score.
* ``maxmin``: the largest floor *t* such that arcs scoring at least *t* still carry the
  maximum matched count (binary search over the distinct scores, one max-flow each), then
  ``matched-then-total`` on those arcs.

Integer costs: ``scale = SCALE / max |allowed score|``; a pair's rounding error is at most
``0.5 / scale``, so the float total of the returned pairs is within ``n_pairs / scale`` of the
true float optimum, which is what the reported bound adds (for ``total``, whose optimum may
hold more pairs than the returned solution, ``n_pairs`` is the most pairs any solution holds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow, min_cost_flow

from pairwise.errors import InfeasibleError, SolverError
from pairwise.problem import PairProblem

__all__ = ["SCALE", "FlowResult", "PanelResult", "integer_scale", "solve_flow", "solve_panel_flow"]

#: Integer cost units given to the largest absolute allowed score.
SCALE = 1_000_000

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FlowResult:
    """Chosen (mentee, mentor) positions and the proven slack of the integer rounding."""

    pairs: IntArray  # (k, 2)
    rounding_slack: float


def integer_scale(top: float) -> float:
    """Integer cost units per unit of score: ``SCALE / top`` for the largest absolute score.

    Scores below ``1e-12`` in absolute value count as 0, so the scale stays finite.
    """
    return SCALE / max(top, 1e-12)


def _fixed(problem: PairProblem) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Demand and capacity left after required pairs, and the arcs still free to choose."""
    dem = problem.demand.copy()
    cap = problem.capacity.copy()
    free = problem.allowed.copy()
    for i, j in problem.required:
        dem[i] -= 1
        cap[j] -= 1
        free[i, j] = False
    return dem, cap, free


def _arcs(
    problem: PairProblem, free: npt.NDArray[np.bool_]
) -> tuple[IntArray, IntArray, IntArray, float]:
    rows, cols = np.nonzero(free)
    s = problem.scores[rows, cols]
    scale = integer_scale(float(np.abs(s).max()) if len(s) else 0.0)
    costs = -np.rint(s * scale).astype(np.int64)
    return rows.astype(np.int64), cols.astype(np.int64), costs, scale


def _network(
    n: int, m: int, dem: IntArray, cap: IntArray, rows: IntArray, cols: IntArray, costs: IntArray
) -> tuple[min_cost_flow.SimpleMinCostFlow, IntArray]:
    smcf = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, n + m + 1
    mentee_nodes = np.arange(1, n + 1, dtype=np.int64)
    mentor_nodes = np.arange(n + 1, n + m + 1, dtype=np.int64)
    pair_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        rows + 1, cols + n + 1, np.ones(len(rows), dtype=np.int64), costs
    )
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.full(n, source, dtype=np.int64), mentee_nodes, dem, np.zeros(n, dtype=np.int64)
    )
    smcf.add_arcs_with_capacity_and_unit_cost(
        mentor_nodes, np.full(m, sink, dtype=np.int64), cap, np.zeros(m, dtype=np.int64)
    )
    supply = int(dem.sum())
    smcf.set_node_supply(source, supply)
    smcf.set_node_supply(sink, -supply)
    return smcf, np.asarray(pair_arcs, dtype=np.int64)


def _solved_max_flow(
    n: int, m: int, dem: IntArray, cap: IntArray, rows: IntArray, cols: IntArray
) -> max_flow.SimpleMaxFlow:
    """Maximum flow of source -> mentees (demand) -> mentors (one unit per pair) -> sink."""
    mf = max_flow.SimpleMaxFlow()
    source, sink = 0, n + m + 1
    mf.add_arcs_with_capacity(rows + 1, cols + n + 1, np.ones(len(rows), dtype=np.int64))
    mf.add_arcs_with_capacity(np.full(n, source, dtype=np.int64), np.arange(1, n + 1), dem)
    mf.add_arcs_with_capacity(np.arange(n + 1, n + m + 1), np.full(m, sink, dtype=np.int64), cap)
    if mf.solve(source, sink) != mf.OPTIMAL:
        raise SolverError("max-flow did not finish")
    return mf


def _max_count(n: int, m: int, dem: IntArray, cap: IntArray, rows: IntArray, cols: IntArray) -> int:
    return int(_solved_max_flow(n, m, dem, cap, rows, cols).optimal_flow())


def _chosen(
    smcf: min_cost_flow.SimpleMinCostFlow, arcs: IntArray, rows: IntArray, cols: IntArray
) -> IntArray:
    if len(arcs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    used = np.asarray(smcf.flows(arcs)) > 0
    return np.stack([rows[used], cols[used]], axis=1).astype(np.int64)


def _max_then_total(
    n: int, m: int, dem: IntArray, cap: IntArray, rows: IntArray, cols: IntArray, costs: IntArray
) -> IntArray:
    smcf, arcs = _network(n, m, dem, cap, rows, cols, costs)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    return _chosen(smcf, arcs, rows, cols)


def solve_flow(problem: PairProblem) -> FlowResult:
    """Solve ``problem`` exactly for its objective; see the module docstring."""
    n, m = problem.shape
    dem, cap, free = _fixed(problem)
    rows, cols, costs, scale = _arcs(problem, free)
    fixed = np.array(problem.required, dtype=np.int64).reshape(-1, 2)
    objective = problem.objective
    if objective == "total" and problem.all_matched:
        objective = "matched-then-total"  # all must be matched: maximise the total among those
    if objective == "total":
        smcf, arcs = _network(n, m, dem, cap, rows, cols, costs)
        # a free source -> sink bypass: mentees stay unmatched unless a pair adds score
        smcf.add_arc_with_capacity_and_unit_cost(0, n + m + 1, int(dem.sum()), 0)
        status = smcf.solve()
        if status != smcf.OPTIMAL:
            raise SolverError(f"min-cost flow ended with status {status}")
        chosen = _chosen(smcf, arcs, rows, cols)
    elif objective == "maxmin":
        chosen = _maxmin(problem, n, m, dem, cap, rows, cols, costs)
    else:
        chosen = _max_then_total(n, m, dem, cap, rows, cols, costs)
    pairs = np.concatenate([fixed, chosen]) if len(fixed) else chosen
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    pairs = pairs[order]
    counted = len(pairs)
    if objective == "total":  # a better solution may hold more pairs, each rounded too
        counted = len(fixed) + int(min(dem.sum(), cap.sum(), len(rows)))
    return FlowResult(pairs=pairs, rounding_slack=max(counted, len(pairs)) / scale)


def _maxmin(
    problem: PairProblem,
    n: int,
    m: int,
    dem: IntArray,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    costs: IntArray,
) -> IntArray:
    target = _max_count(n, m, dem, cap, rows, cols)
    s = problem.scores[rows, cols]
    if target == 0 or len(s) == 0:
        return _max_then_total(n, m, dem, cap, rows, cols, costs)
    # the worst required pair caps the floor: no threshold above it can raise the minimum
    ceiling = min((float(problem.scores[i, j]) for i, j in problem.required), default=np.inf)
    levels = np.unique(s[s <= ceiling])
    if np.isfinite(ceiling):
        levels = np.union1d(levels, [ceiling])
    # invariant: levels[lo] keeps the maximum matched count (levels[0] keeps every arc that
    # any matching of maximum count can use below the ceiling)
    lo, hi = 0, len(levels) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        keep = s >= levels[mid]
        if _max_count(n, m, dem, cap, rows[keep], cols[keep]) == target:
            lo = mid
        else:
            hi = mid - 1
    keep = s >= levels[lo]
    return _max_then_total(n, m, dem, cap, rows[keep], cols[keep], costs[keep])


def hall_violation(problem: PairProblem) -> tuple[IntArray, IntArray, int, int]:
    """A set of mentees whose demand exceeds what their allowed mentors can still give them.

    Returns the mentees X on the source side of a minimum cut of the network after required
    pairs, the mentors Y allowed for them, X's remaining demand, and the most places Y can
    give X: ``sum over j in Y of min(capacity_j, number of X allowed with j)`` (a mentor takes
    a mentee at most once, which matters for panels). ``demand(X) > places`` whenever not
    every mentee can be fully matched (max-flow / min-cut, i.e. Hall's condition).
    """
    n, m = problem.shape
    dem, cap, free = _fixed(problem)
    rows, cols = np.nonzero(free)
    mf = _solved_max_flow(n, m, dem, cap, rows.astype(np.int64), cols.astype(np.int64))
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


@dataclass(frozen=True)
class PanelResult:
    """Chosen pairs, the topic each pair covers, and the rounding slack."""

    pairs: IntArray  # (k, 2)
    topics: IntArray  # (k,) topic index per pair
    rounding_slack: float


def solve_panel_flow(problem: PairProblem) -> PanelResult:
    """Per-topic expert panels, exactly, for every objective (see :func:`_panel_flow`).

    ``maxmin``: the largest floor such that pairs scoring at least the floor still fill as
    many panel seats as without one (binary search over the distinct scores), then the
    ``matched-then-total`` optimum above that floor.
    """
    if problem.objective != "maxmin":
        return _panel_flow(problem, None)
    best = _panel_flow(problem, None)
    target = len(best.pairs)
    cells = problem.scores[problem.allowed]
    ceiling = min((float(problem.scores[i, j]) for i, j in problem.required), default=np.inf)
    levels = np.unique(cells[cells <= ceiling])
    if np.isfinite(ceiling):
        levels = np.union1d(levels, [ceiling])
    if target == 0 or len(levels) == 0:
        return best
    lo, hi = 0, len(levels) - 1
    found = {0: best}
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            trial = _panel_flow(problem, float(levels[mid]))
        except InfeasibleError:  # a required pair fell below the floor's reach
            hi = mid - 1
            continue
        if len(trial.pairs) == target:
            lo, found[mid] = mid, trial
        else:
            hi = mid - 1
    return found[lo] if lo in found else _panel_flow(problem, float(levels[lo]))


def _panel_flow(problem: PairProblem, floor: float | None) -> PanelResult:
    """Per-topic expert panels by min-cost flow, exactly.

    Network: source -> slot (mentee *i*, topic *t*) -> pair node (*i*, *j*) -> mentor *j* ->
    sink, with capacity 1 everywhere but the mentors' own. A slot reaches the pair node of
    every allowed mentor offering its topic, and a pair node carries one unit, so each
    mentee's panel has a different mentor per topic. The score of (*i*, *j*) is on the
    pair -> mentor arc. Required pairs get a bonus larger than anything else at stake, so
    they are placed first, then as many slots as possible, then the total; a required pair
    left out is reported as infeasible.
    """
    if problem.panel is None:
        raise SolverError("not a panel problem")
    _, needs, offers = problem.panel
    m = problem.shape[1]
    slot_i, slot_t = (a.astype(np.int64) for a in np.nonzero(needs))
    q = len(slot_i)
    slot_of = np.full(needs.shape, -1, dtype=np.int64)
    slot_of[slot_i, slot_t] = np.arange(q)
    usable = problem.allowed.copy()
    if floor is not None:
        usable &= problem.scores >= floor
        for i, j in problem.required:
            usable[i, j] = problem.allowed[i, j]
    cell_i, cell_j = (a.astype(np.int64) for a in np.nonzero(usable))
    p = len(cell_i)
    common = needs[cell_i] & offers[cell_j]  # (p, topics)
    link_p, link_t = (a.astype(np.int64) for a in np.nonzero(common))
    link_slot = slot_of[cell_i[link_p], link_t]
    s = problem.scores[cell_i, cell_j]
    scale = integer_scale(float(np.abs(s).max()) if p else 0.0)
    costs = -np.rint(s * scale).astype(np.int64)
    required = np.zeros(p, dtype=bool)
    if problem.required:
        index = {
            (i, j): k for k, (i, j) in enumerate(zip(cell_i.tolist(), cell_j.tolist(), strict=True))
        }
        for pair in problem.required:
            if pair in index:
                required[index[pair]] = True
    source, first_slot, first_pair = 0, 1, 1 + q
    first_mentor, sink = 1 + q + p, 1 + q + p + m
    smcf = min_cost_flow.SimpleMinCostFlow()
    zeros_q = np.zeros(q, dtype=np.int64)
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.full(q, source, dtype=np.int64), first_slot + np.arange(q), np.ones(q, np.int64), zeros_q
    )
    link_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        first_slot + link_slot,
        first_pair + link_p,
        np.ones(len(link_p), dtype=np.int64),
        np.zeros(len(link_p), dtype=np.int64),
    )
    most_first = problem.objective != "total" or problem.all_matched  # maxmin: per phase
    if required.any():
        # lexicographic by cost magnitudes: required pairs, then (if asked) count, then total
        big = 2 * SCALE * (q + 1) if most_first else 0
        priority = 2 * (big or SCALE) * (q + 1)
        costs = costs - big - np.where(required, priority, 0)
    pair_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        first_pair + np.arange(p), first_mentor + cell_j, np.ones(p, dtype=np.int64), costs
    )
    smcf.add_arcs_with_capacity_and_unit_cost(
        first_mentor + np.arange(m),
        np.full(m, sink, dtype=np.int64),
        problem.capacity,
        np.zeros(m, dtype=np.int64),
    )
    smcf.set_node_supply(source, q)
    smcf.set_node_supply(sink, -q)
    if most_first and not required.any():
        status = smcf.solve_max_flow_with_min_cost()
    else:
        smcf.add_arc_with_capacity_and_unit_cost(source, sink, q, 0)  # slots may stay empty
        status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    used = np.asarray(smcf.flows(pair_arcs), dtype=np.int64) > 0 if p else np.zeros(0, bool)
    topic_flow = (
        np.asarray(smcf.flows(link_arcs), dtype=np.int64) > 0 if len(link_p) else np.zeros(0, bool)
    )
    topic_of_pair = np.full(p, -1, dtype=np.int64)
    topic_of_pair[link_p[topic_flow]] = link_t[topic_flow]
    missing = required & ~used
    if missing.any():
        ids_a, ids_b = problem.mentee_ids, problem.mentor_ids
        raise InfeasibleError(
            [
                f"required pair ({ids_a[cell_i[k]]}, {ids_b[cell_j[k]]}) finds no topic of hers "
                "left for him on her panel"
                for k in np.flatnonzero(missing)
            ]
        )
    pairs = np.stack([cell_i[used], cell_j[used]], axis=1)
    topics = topic_of_pair[used]
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return PanelResult(pairs[order], topics[order], len(pairs) / scale)
