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
    "chosen_pairs",
    "cost_network",
    "free_arcs",
    "low_after_required",
    "max_count",
    "max_then_total",
    "minimum_bonus",
    "solved_max_flow",
]

IntArray = npt.NDArray[np.int64]


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
) -> tuple[min_cost_flow.SimpleMinCostFlow, IntArray]:
    """Source -> mentee (demand) -> mentor (one unit per pair, ``costs``) -> sink (capacity).

    Node numbers: source 0, mentees ``1..n``, mentors ``n+1..n+m``, sink ``n+m+1``. Returns
    the network and the indices of the pair arcs. With ``low`` (minimum loads), each mentor's
    first ``low[j]`` units to the sink earn a bonus larger than any difference in pair costs,
    so a min-cost flow fills every minimum it can before it looks at scores (an augmenting
    path never lowers a mentor's load, so a maximum flow keeps every minimum some flow meets).
    """
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
    base = np.zeros(m, dtype=np.int64)
    if low is not None and low.any():
        big = minimum_bonus(dem, costs)
        first = np.minimum(low, cap)
        smcf.add_arcs_with_capacity_and_unit_cost(
            mentor_nodes, np.full(m, sink, dtype=np.int64), first, np.full(m, -big, np.int64)
        )
        cap = cap - first
    smcf.add_arcs_with_capacity_and_unit_cost(
        mentor_nodes, np.full(m, sink, dtype=np.int64), cap, base
    )
    supply = int(dem.sum())
    smcf.set_node_supply(source, supply)
    smcf.set_node_supply(sink, -supply)
    return smcf, np.asarray(pair_arcs, dtype=np.int64)


def minimum_bonus(dem: IntArray, costs: IntArray) -> int:
    """A per-unit bonus above the largest difference in pair costs any two flows can have."""
    top = int(np.abs(costs).max(initial=0))
    big = 2 * top * max(int(dem.sum()), 1) + 1
    if big * max(int(dem.sum()), 1) >= 2**62:
        raise SolverError("minimum loads: the integer costs would overflow; lower the sizes")
    return big


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
) -> IntArray:
    """Most pairs, then every minimum load it can meet, then the largest total among those."""
    smcf, arcs = cost_network(n, m, dem, cap, rows, cols, costs, low)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    return chosen_pairs(smcf, arcs, rows, cols)
