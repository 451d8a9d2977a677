"""The pairing network shared by the flow methods: arcs, costs, min-cost and max-flow builders.

Network: source -> mentee *i* (capacity = her demand) -> mentor *j* (one arc per allowed
pair, capacity 1, cost ``-rint(score * scale)``) -> sink (capacity = his capacity).
Required pairs are placed first and taken out of demands and capacities
(:func:`after_required`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow, min_cost_flow

from pairwise.errors import SolverError
from pairwise.problem import PairProblem
from pairwise.solvers._cpsat import integer_scale

__all__ = [
    "after_required",
    "best_total",
    "bonus_above",
    "chosen_pairs",
    "cost_network",
    "cover_weights",
    "free_arcs",
    "low_after_required",
    "max_count",
    "max_then_total",
    "minimum_bonus",
    "solved_max_flow",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def after_required(problem: PairProblem) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Demand and capacity left after required pairs, and the arcs still free to choose."""
    dem = problem.demand.copy()
    cap = problem.capacity.copy()
    free = problem.allowed.copy()
    for i, j in problem.required:
        dem[i] -= 1
        cap[j] -= 1
        free[i, j] = False
    return dem, cap, free


def low_after_required(problem: PairProblem) -> IntArray:
    """Minimum loads still to meet after required pairs (which count towards them)."""
    low = problem.minimum.copy()
    for _, j in problem.required:
        low[j] -= 1
    return np.maximum(low, 0)


def free_arcs(
    problem: PairProblem, free: npt.NDArray[np.bool_]
) -> tuple[IntArray, IntArray, IntArray, float]:
    """Allowed arcs still free, their integer costs ``-rint(score * scale)`` and the scale."""
    rows, cols = np.nonzero(free)
    s = problem.scores[rows, cols]
    scale = integer_scale(float(np.abs(s).max()) if len(s) else 0.0)
    costs = -np.rint(s * scale).astype(np.int64)
    return rows.astype(np.int64), cols.astype(np.int64), costs, scale


def cost_network(
    n: int,
    m: int,
    dem: IntArray,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    costs: IntArray,
    low: IntArray | None = None,
    cover: tuple[BoolArray, BoolArray] | None = None,
) -> tuple[min_cost_flow.SimpleMinCostFlow, IntArray]:
    """Source -> mentee (demand) -> mentor (one unit per pair, ``costs``) -> sink (capacity).

    Node numbers: source 0, mentees ``1..n``, mentors ``n+1..n+m``, sink ``n+m+1``. Returns
    the network and the indices of the pair arcs. With ``low`` (minimum loads), each mentor's
    first ``low[j]`` units to the sink earn a bonus larger than any difference in pair costs,
    so a min-cost flow fills every minimum it can before it looks at scores (an augmenting
    path never lowers a mentor's load, so a maximum flow keeps every minimum some flow meets).

    With ``cover`` (the mentees and the mentors still to cover, i.e. with no required pair),
    the first unit of each such mentee's source arc earns ``w1`` and the first unit of each
    such mentor's sink arc ``w2`` (the arc costs stay convex: first unit cheapest), with
    ``w2`` above any difference of totals and ``w1`` above any difference of ``w2`` terms
    and totals, so a min-cost flow covers the most mentees, then the most mentors, then
    has the largest total (:func:`cover_weights`); a minimum load's bonus is above all three.
    """
    smcf = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, n + m + 1
    mentee_nodes = np.arange(1, n + 1, dtype=np.int64)
    mentor_nodes = np.arange(n + 1, n + m + 1, dtype=np.int64)
    pair_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        rows + 1, cols + n + 1, np.ones(len(rows), dtype=np.int64), costs
    )
    w1, w2, spread = cover_weights(n, m, dem, costs) if cover is not None else (0, 0, 0)
    lead_a = np.minimum(dem, 1) * cover[0] if cover is not None else np.zeros(n, np.int64)
    lead_b = np.minimum(cap, 1) * cover[1] if cover is not None else np.zeros(m, np.int64)
    to_source = np.full(n, source, dtype=np.int64)
    smcf.add_arcs_with_capacity_and_unit_cost(to_source, mentee_nodes, lead_a, np.full(n, -w1))
    smcf.add_arcs_with_capacity_and_unit_cost(
        to_source, mentee_nodes, dem - lead_a, np.zeros(n, dtype=np.int64)
    )
    first = np.zeros(m, dtype=np.int64)
    big = 0
    if low is not None and low.any():
        big = minimum_bonus(dem, costs, spread, n + m + 2)
        first = np.minimum(low, cap)
    # per mentor: the lead unit (cover bonus, and a minimum's if he has one), the rest of
    # his minimum, then the rest of his capacity; costs -(w2 + big) <= -big <= 0: convex
    to_sink = np.full(m, sink, dtype=np.int64)
    lead_cost = -(w2 * (lead_b > 0) + big * (first > 0))
    smcf.add_arcs_with_capacity_and_unit_cost(mentor_nodes, to_sink, lead_b, lead_cost)
    rest_low = first - np.minimum(first, lead_b)
    smcf.add_arcs_with_capacity_and_unit_cost(mentor_nodes, to_sink, rest_low, np.full(m, -big))
    smcf.add_arcs_with_capacity_and_unit_cost(
        mentor_nodes, to_sink, cap - lead_b - rest_low, np.zeros(m, dtype=np.int64)
    )
    supply = int(dem.sum())
    smcf.set_node_supply(source, supply)
    smcf.set_node_supply(sink, -supply)
    return smcf, np.asarray(pair_arcs, dtype=np.int64)


def bonus_above(spread: int, units: int, what: str, nodes: int = 0) -> int:
    """A per-unit bonus above ``spread``, checked to fit OR-Tools' int64 costs.

    ``units``: how many units of flow may earn it (their sum must fit); ``nodes``: the
    network's nodes (OR-Tools' cost scaling multiplies each arc cost by about that many).

    Examples
    --------
    >>> bonus_above(10, 3, "minimum loads")
    11
    """
    big = int(spread) + 1
    if big * max(int(units), 1) >= 2**62 or big * (int(nodes) + 2) >= 2**62:
        raise SolverError(f"{what}: the integer costs would overflow; lower the sizes")
    return big


def minimum_bonus(dem: IntArray, costs: IntArray, spread: int = 0, nodes: int = 0) -> int:
    """A per-unit bonus above the largest difference in pair costs any two flows can have.

    ``spread``: the largest difference of other bonuses (coverage) the flows can have.
    """
    top = int(np.abs(costs).max(initial=0))
    units = max(int(dem.sum()), 1)
    return bonus_above(2 * top * units + spread, units, "minimum loads", nodes)


def cover_weights(n: int, m: int, dem: IntArray, costs: IntArray) -> tuple[int, int, int]:
    """Coverage bonuses ``w1`` (a mentee), ``w2`` (a mentor) and the spread they leave.

    ``w2`` exceeds any difference of two flows' pair costs; ``w1`` any difference of ``w2``
    terms (at most ``min(m, units)`` mentors are covered) plus pair costs; the spread is the
    largest difference of all three terms, which a minimum load's bonus must exceed. Each
    weight is earned by at most one unit per person, and is checked for the network's
    ``n + m + 2`` nodes.

    Examples
    --------
    >>> cover_weights(2, 1, np.array([1, 1]), np.array([-3, -1]))
    (26, 13, 77)
    """
    top = int(np.abs(costs).max(initial=0))
    units = max(int(dem.sum()), 1)
    nodes = n + m + 2
    totals = 2 * top * units
    w2 = bonus_above(totals, m, "coverage", nodes)
    w1 = bonus_above(totals + min(m, units) * w2, n, "coverage", nodes)
    spread = totals + m * w2 + n * w1
    return w1, w2, spread


def solved_max_flow(
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


def max_count(n: int, m: int, dem: IntArray, cap: IntArray, rows: IntArray, cols: IntArray) -> int:
    """Most pairs any solution on these arcs holds."""
    return int(solved_max_flow(n, m, dem, cap, rows, cols).optimal_flow())


def chosen_pairs(
    smcf: min_cost_flow.SimpleMinCostFlow, arcs: IntArray, rows: IntArray, cols: IntArray
) -> IntArray:
    """The (mentee, mentor) positions of the pair arcs that carry flow."""
    if len(arcs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    used = np.asarray(smcf.flows(arcs)) > 0
    return np.stack([rows[used], cols[used]], axis=1).astype(np.int64)


def max_then_total(
    n: int,
    m: int,
    dem: IntArray,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    costs: IntArray,
    low: IntArray | None = None,
    cover: tuple[BoolArray, BoolArray] | None = None,
) -> IntArray:
    """Most pairs, then every minimum load it can meet, then the largest total among those.

    With ``cover``: most pairs, minimum loads, then most mentees and mentors covered
    (:func:`cost_network`), then the total.
    """
    smcf, arcs = cost_network(n, m, dem, cap, rows, cols, costs, low, cover)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    return chosen_pairs(smcf, arcs, rows, cols)


def best_total(
    n: int,
    m: int,
    dem: IntArray,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    costs: IntArray,
    low: IntArray | None = None,
    cover: tuple[BoolArray, BoolArray] | None = None,
) -> IntArray:
    """The flow of least cost, of any size (its pairs).

    Every minimum load it can meet, then (with ``cover``) most mentees and mentors
    covered, then the largest total.

    A zero-cost source -> sink bypass lets mentees stay unmatched unless a pair adds to
    the objective (:func:`cost_network` gives the costs).
    """
    smcf, arcs = cost_network(n, m, dem, cap, rows, cols, costs, low, cover)
    smcf.add_arc_with_capacity_and_unit_cost(0, n + m + 1, int(dem.sum()), 0)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    return chosen_pairs(smcf, arcs, rows, cols)
