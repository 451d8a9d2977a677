"""Per-topic expert panels by min-cost flow, exactly, for every objective.

Network: source -> slot (mentee *i*, topic *t*) -> pair node (*i*, *j*) -> mentor *j* ->
sink, with capacity 1 everywhere but the mentors' own. A slot reaches the pair node of
every allowed mentor offering its topic, and a pair node carries one unit, so each
mentee's panel has a different mentor per topic. The score of (*i*, *j*) is on the
pair -> mentor arc. Required pairs get a bonus larger than anything else at stake, so
they are placed first, then as many slots as possible, then the total; a required pair
left out is reported as infeasible.

``maxmin``: the largest floor such that pairs scoring at least the floor still fill as
many panel seats as without one (:mod:`.maxmin`), then the ``matched-then-total`` optimum
above that floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from pairwise.errors import InfeasibleError, SolverError
from pairwise.problem import PairProblem
from pairwise.solvers._cpsat import SCALE, integer_scale
from pairwise.solvers.answer import Answer
from pairwise.solvers.pairs.maxmin import floor_levels, largest_floor

__all__ = ["solve_panels"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def solve_panels(problem: PairProblem) -> Answer:
    """Per-topic panels for the problem's objective (see the module docstring)."""
    best = _panel_flow(problem, None)
    if problem.objective != "maxmin":
        return best
    target = len(best.rows)
    cells = problem.scores[problem.allowed]
    levels = floor_levels(cells, (float(problem.scores[i, j]) for i, j in problem.required))
    if target == 0 or len(levels) == 0:
        return best
    found = {float(levels[0]): best}

    def keeps(t: float) -> bool:
        try:
            trial = _panel_flow(problem, t)
        except InfeasibleError:  # a required pair fell below the floor's reach
            return False
        found[t] = trial
        return len(trial.rows) == target

    t = float(levels[largest_floor(levels, keeps)])
    return found[t] if t in found else _panel_flow(problem, t)


@dataclass(frozen=True)
class _Network:
    """The panel network's cells (allowed pairs) and the arcs whose flows are read back."""

    smcf: min_cost_flow.SimpleMinCostFlow
    cell_i: IntArray
    cell_j: IntArray
    link_p: IntArray  # pair node of each slot -> pair arc
    link_t: IntArray  # topic of each slot -> pair arc
    link_arcs: IntArray
    pair_arcs: IntArray
    required: BoolArray  # per cell
    scale: float


def _panel_flow(problem: PairProblem, floor: float | None) -> Answer:
    """The panels optimum, with pairs scoring below ``floor`` left out (required kept)."""
    net, q = _network(problem, floor)
    smcf = net.smcf
    most_first = problem.objective != "total" or problem.all_matched  # maxmin: per phase
    if most_first and not net.required.any():
        status = smcf.solve_max_flow_with_min_cost()
    else:
        smcf.add_arc_with_capacity_and_unit_cost(
            0, len(net.cell_i) + q + problem.shape[1] + 1, q, 0
        )
        status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    p = len(net.cell_i)
    used = np.asarray(smcf.flows(net.pair_arcs), dtype=np.int64) > 0 if p else np.zeros(0, bool)
    topic_flow = (
        np.asarray(smcf.flows(net.link_arcs), dtype=np.int64) > 0
        if len(net.link_p)
        else np.zeros(0, bool)
    )
    topic_of_pair = np.full(p, -1, dtype=np.int64)
    topic_of_pair[net.link_p[topic_flow]] = net.link_t[topic_flow]
    missing = net.required & ~used
    if missing.any():
        ids_a, ids_b = problem.mentee_ids, problem.mentor_ids
        raise InfeasibleError(
            [
                f"required pair ({ids_a[net.cell_i[k]]}, {ids_b[net.cell_j[k]]}) finds no topic "
                "of hers left for him on her panel"
                for k in np.flatnonzero(missing)
            ]
        )
    pairs = np.stack([net.cell_i[used], net.cell_j[used]], axis=1)
    topics = topic_of_pair[used]
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return Answer(
        pairs[order],
        optimal=True,
        method="flow",
        slack=len(pairs) / net.scale,
        topics=topics[order],
    )


def _network(problem: PairProblem, floor: float | None) -> tuple[_Network, int]:
    """Build the panel network (see the module docstring); also returns the slot count."""
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
    link_p, link_t = (a.astype(np.int64) for a in np.nonzero(needs[cell_i] & offers[cell_j]))
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
    source, first_slot, first_pair, first_mentor = 0, 1, 1 + q, 1 + q + p
    sink = first_mentor + m
    smcf = min_cost_flow.SimpleMinCostFlow()
    ones, zeros = (
        np.ones(max(q, len(link_p), p), np.int64),
        np.zeros(max(q, len(link_p), m), np.int64),
    )
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.full(q, source, dtype=np.int64), first_slot + np.arange(q), ones[:q], zeros[:q]
    )
    link_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        first_slot + link_slot, first_pair + link_p, ones[: len(link_p)], zeros[: len(link_p)]
    )
    if required.any():
        # lexicographic by cost magnitudes: required pairs, then (if asked) count, then total
        most_first = problem.objective != "total" or problem.all_matched
        big = 2 * SCALE * (q + 1) if most_first else 0
        priority = 2 * (big or SCALE) * (q + 1)
        costs = costs - big - np.where(required, priority, 0)
    pair_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        first_pair + np.arange(p), first_mentor + cell_j, ones[:p], costs
    )
    smcf.add_arcs_with_capacity_and_unit_cost(
        first_mentor + np.arange(m), np.full(m, sink, dtype=np.int64), problem.capacity, zeros[:m]
    )
    smcf.set_node_supply(source, q)
    smcf.set_node_supply(sink, -q)
    arcs = (np.asarray(a, dtype=np.int64) for a in (link_arcs, pair_arcs))
    link_arr, pair_arr = arcs
    net = _Network(smcf, cell_i, cell_j, link_p, link_t, link_arr, pair_arr, required, scale)
    return net, q
