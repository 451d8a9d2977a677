"""Large capacitated pairing without the dense graph: candidate arcs, then a dual proof.

1. **Candidates.** Each mentee keeps her ``k`` best allowed mentors, and each mentor keeps
   his best ``2 * capacity + k`` allowed mentees, so a popular mentor cannot crowd out the
   only mentors of other mentees (both sides propose).
2. **Solve** the candidate graph exactly by min-cost flow, as a min-cost circulation:
   ``matched-then-total`` gives every pair a bonus ``BIG`` larger than any difference of
   totals, so more pairs always win, then the total decides; ``total`` has no bonus. A free
   source -> sink arc lets mentees stay unmatched.
3. **Prove** it optimal for the *full* problem: node potentials ``pi`` are shortest-path
   distances in the residual graph of the optimal flow (Bellman-Ford from a virtual root;
   no negative cycle exists at an optimum). The potentials certify every arc of the dense
   graph with reduced cost ``c_ij + pi_i - pi_j >= 0``. Every allowed cell left out of the
   candidates is checked in integer arithmetic; violating cells join the candidates and
   the graph is solved again, until none is left.

The passes over the full matrix (prices and candidates of both sides in one pass, the
pricing of every cell, the potentials) are compiled with numba
(:mod:`.sparse_kernels`): one read of the matrix each, no temporaries of its size.

The result is exactly the optimum of the dense integer-cost problem (same ``scale`` as
:mod:`.flow`), while the solver only ever sees a small fraction of the arcs.

References
----------
.. [1] R. K. Ahuja, T. L. Magnanti and J. B. Orlin, *Network Flows: Theory, Algorithms,
   and Applications*, Prentice Hall, 1993, ch. 9 (reduced-cost optimality conditions of
   minimum-cost flows; node potentials from shortest paths in the residual network).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from pairwise.errors import SolverError
from pairwise.problem import PairProblem
from pairwise.solvers._cpsat import SCALE, integer_scale
from pairwise.solvers.answer import Answer
from pairwise.solvers.pairs import sparse_kernels as kernels
from pairwise.solvers.pairs.network import after_required, low_after_required

__all__ = ["fits", "solve_sparse"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_MARGIN = SCALE // 50  # "nearly violated": reduced cost below 2% of the largest score
_OUT = -(2**62)  # score of cells the proof does not price: reduced cost ~ +2**62, no overflow


def _scale(problem: PairProblem, free: BoolArray) -> float:
    scores = np.ascontiguousarray(problem.scores, dtype=np.float64)
    return integer_scale(float(kernels.max_abs(scores, np.ascontiguousarray(free))))


def _price_and_candidates(
    problem: PairProblem, free: BoolArray, cap: IntArray, k: int, scale: float
) -> tuple[IntArray, IntArray]:
    """Integer prices of every cell, and the flat codes ``i * m + j`` of the candidate arcs.

    One compiled pass (:func:`.sparse_kernels.price_and_rank`) finds each mentee's best
    ``k`` mentors and each mentor's best ``2 * cap_j + k`` mentees; a greedy matching joins
    them (see the module docstring).
    """
    n, m = problem.shape
    kk = min(k, m)
    depth = np.minimum(2 * cap.astype(np.int64) + k, n).astype(np.int64)
    priced, best, by_mentor = kernels.price_and_rank(
        np.ascontiguousarray(problem.scores, dtype=np.float64),
        np.ascontiguousarray(free),
        float(scale),
        _OUT,
        kk,
        depth,
    )
    rows = np.repeat(np.arange(n, dtype=np.int64), kk)
    cols = best.ravel()
    codes = [rows[cols >= 0] * m + cols[cols >= 0]]
    mentees = by_mentor.ravel()
    mentors = np.repeat(np.arange(m, dtype=np.int64), by_mentor.shape[1])
    codes.append(mentees[mentees >= 0] * m + mentors[mentees >= 0])
    codes.append(_greedy(problem, free, cap, best))
    return priced, np.unique(np.concatenate(codes))


def _greedy(problem: PairProblem, free: BoolArray, cap: IntArray, best: IntArray) -> IntArray:
    """Cells of a greedy matching over all allowed cells.

    Mentees with the fewest allowed mentors go first, each taking her best mentors that
    still have room: first from her short list ``best`` (plain Python, cheap), then, if
    those are full, from her whole row. Its pairs join the candidates so the first
    candidate graph already holds a matching of (nearly) maximum size; without one, the
    proof rounds would have to discover the cardinality first.
    """
    m = problem.shape[1]
    dem = after_required(problem)[0]
    room = cap.astype(np.int64).tolist()
    has_room = np.array([r > 0 for r in room], dtype=bool)
    short = best.tolist()
    cells: list[int] = []
    for i in np.argsort(free.sum(axis=1), kind="stable").tolist():
        need = int(dem[i])
        taken: set[int] = set()
        for j in short[i]:
            if need == 0 or j < 0:
                break
            if room[j] > 0:
                cells.append(i * m + j)
                taken.add(j)
                room[j] -= 1
                has_room[j] = room[j] > 0
                need -= 1
        if need <= 0:
            continue
        row = np.where(free[i] & has_room, problem.scores[i], -np.inf)
        row[list(taken)] = -np.inf
        for _ in range(need):
            j = int(row.argmax())
            if not np.isfinite(row[j]):
                break
            cells.append(i * m + j)
            row[j] = -np.inf  # one seat per mentor for her
            room[j] -= 1
            has_room[j] = room[j] > 0
    return np.unique(np.array(cells, dtype=np.int64))


def _solve_circulation(
    n: int,
    m: int,
    dem: IntArray,
    sink: tuple[IntArray, IntArray, int],
    rows: IntArray,
    cols: IntArray,
    costs: IntArray,
    most_pairs_first: bool,
) -> tuple[IntArray, IntArray, IntArray, IntArray, int]:
    """Min-cost flow on the candidate arcs.

    ``sink``: each mentor's minimum-load units (cost ``-bonus``), the rest of his capacity
    (cost 0), and ``bonus``. With ``most_pairs_first`` a maximum flow of minimum cost (the
    same optimum as the ``BIG``-bonus circulation, with small costs the solver handles
    faster); otherwise a circulation with a free bypass. Returns the pair flows,
    source->mentee flows, both kinds of mentor->sink flows and the bypass flow.
    """
    first, rest, bonus = sink
    smcf = min_cost_flow.SimpleMinCostFlow()
    t = n + m + 1
    pair_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        rows + 1, cols + n + 1, np.ones(len(rows), dtype=np.int64), costs
    )
    src_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        np.zeros(n, dtype=np.int64), np.arange(1, n + 1), dem, np.zeros(n, dtype=np.int64)
    )
    mentors, to_sink = np.arange(n + 1, n + m + 1), np.full(m, t, dtype=np.int64)
    low_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        mentors, to_sink, first, np.full(m, -bonus, dtype=np.int64)
    )
    rest_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        mentors, to_sink, rest, np.zeros(m, dtype=np.int64)
    )
    supply = int(dem.sum())
    smcf.set_node_supply(0, supply)
    smcf.set_node_supply(t, -supply)
    if most_pairs_first:
        status = smcf.solve_max_flow_with_min_cost()
    else:
        smcf.add_arc_with_capacity_and_unit_cost(0, t, supply, 0)
        status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    fs = np.asarray(smcf.flows(src_arcs), dtype=np.int64)
    return (
        np.asarray(smcf.flows(pair_arcs), dtype=np.int64) if len(rows) else np.zeros(0, np.int64),
        fs,
        np.asarray(smcf.flows(low_arcs), dtype=np.int64),
        np.asarray(smcf.flows(rest_arcs), dtype=np.int64),
        supply - int(fs.sum()),
    )


def _potentials(tails: IntArray, heads: IntArray, weights: IntArray, n_nodes: int) -> IntArray:
    """Shortest distances from a virtual root joined to every node by 0-cost arcs.

    At a min-cost optimum the residual graph has no negative cycle, so they exist; see
    :func:`.sparse_kernels.potentials`.
    """
    d, ok = kernels.potentials(tails, heads, weights, n_nodes)
    if not ok:
        raise SolverError("negative cycle in an optimal residual graph (internal error)")
    out: IntArray = d
    return out


def _sink_arcs(
    problem: PairProblem, dem: IntArray, cap: IntArray, objective: str
) -> tuple[tuple[IntArray, IntArray, int], int]:
    """Each mentor's sink arcs (minimum-load units with a bonus, the rest) and the pair bonus.

    The minimum's ``bonus`` exceeds any difference of two flows' totals, so the flow meets
    every minimum it can before it looks at scores; the pair bonus ``big`` (most pairs
    first, ``matched-then-total``) exceeds any difference of bonuses and totals.
    """
    pairs_max = int(min(dem.sum(), cap.sum()))
    spread = 2 * SCALE * (pairs_max + 1)
    first = np.minimum(low_after_required(problem), cap).astype(np.int64)
    bonus = spread if first.any() else 0
    big = spread + bonus * int(first.sum()) if objective == "matched-then-total" else 0
    return (first, cap - first, bonus), big


def fits(problem: PairProblem) -> bool:
    """Whether the sparse method's integer costs fit int64 for ``problem`` (else: ``flow``).

    The potentials are path lengths of up to ``n + m + 2`` arcs of cost up to the pair
    bonus plus a minimum's bonus.
    """
    dem, cap, _ = after_required(problem)
    sink, big = _sink_arcs(problem, dem, cap, problem.objective)
    n, m = problem.shape
    return (big + sink[2] + SCALE) * (n + m + 2) < 2**62


def solve_sparse(problem: PairProblem, *, k: int = 12, max_rounds: int = 100) -> Answer:
    """Exact ``matched-then-total`` or ``total`` optimum via candidate arcs and a dual check.

    Parameters
    ----------
    problem : PairProblem
        Objective ``"matched-then-total"`` or ``"total"``.
    k : int, default 12
        Candidate mentors per mentee (and the slack added to each mentor's ``2 * capacity``).
    max_rounds : int, default 100
        Re-solves allowed before giving up with a SolverError.
    """
    n, m = problem.shape
    dem, cap, free = after_required(problem)
    scale = _scale(problem, free)
    objective = "matched-then-total" if problem.all_matched else problem.objective
    sink, big = _sink_arcs(problem, dem, cap, objective)
    # integer scores once for all proof rounds. Cells the proof need not price (not free,
    # or already arcs of the graph) hold _OUT, so their reduced cost is hugely positive
    # and one comparison finds the violations.
    priced, codes = _price_and_candidates(problem, free, cap, k, scale)
    s_arc = priced.ravel()[codes]
    priced.ravel()[codes] = _OUT
    added = 0
    for rounds in range(1, max_rounds + 1):
        rows, cols = np.divmod(codes, m)
        flows = _solve_circulation(
            n, m, dem, sink, rows, cols, -s_arc, objective == "matched-then-total"
        )
        x = flows[0]
        pi = _residual_potentials(n, dem, sink, rows, cols, -(big + s_arc), flows)
        strict, violating = _violations(priced, big, pi, k)
        if strict == 0:
            chosen = np.stack([rows[x > 0], cols[x > 0]], axis=1)
            fixed = np.array(problem.required, dtype=np.int64).reshape(-1, 2)
            pairs = np.concatenate([fixed, chosen]) if len(fixed) else chosen
            pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))].astype(np.int64)
            # with "total" a better solution may hold more pairs, each rounded too
            pairs_max = int(min(dem.sum(), cap.sum()))
            counted = len(fixed) + pairs_max if objective == "total" else len(pairs)
            slack = max(counted, len(pairs)) / scale
            work = {"rounds": float(rounds), "arcs": float(len(codes)), "added": float(added)}
            return Answer(pairs, optimal=True, method="sparse", slack=slack, timings=work)
        added += len(violating)
        new_scores = priced.ravel()[violating]
        priced.ravel()[violating] = _OUT
        order = np.argsort(np.concatenate([codes, violating]), kind="stable")
        codes = np.concatenate([codes, violating])[order]
        s_arc = np.concatenate([s_arc, new_scores])[order]
    raise SolverError(f"sparse pairing did not converge in {max_rounds} rounds")


def _residual(
    tails: IntArray, heads: IntArray, room: IntArray, flow: IntArray, cost: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """The residual arcs of arcs with capacities ``room`` carrying ``flow``."""
    fwd, back = flow < room, flow > 0
    return (
        np.concatenate([tails[fwd], heads[back]]),
        np.concatenate([heads[fwd], tails[back]]),
        np.concatenate([cost[fwd], -cost[back]]),
    )


def _residual_potentials(
    n: int,
    dem: IntArray,
    sink: tuple[IntArray, IntArray, int],
    rows: IntArray,
    cols: IntArray,
    costs: IntArray,
    flows: tuple[IntArray, IntArray, IntArray, IntArray, int],
) -> IntArray:
    """Potentials of the residual graph of the candidate graph's optimal flow."""
    first, rest, bonus = sink
    x, fs, f_low, f_rest, fb = flows
    m = len(first)
    source, t = 0, n + m + 1
    mentee = np.arange(1, n + 1, dtype=np.int64)
    mentor = np.arange(n + 1, n + m + 1, dtype=np.int64)
    zeros_a, zeros_b = np.zeros(n, dtype=np.int64), np.zeros(m, dtype=np.int64)
    to_sink = np.full(m, t, dtype=np.int64)
    supply = int(dem.sum())
    parts = [
        _residual(rows + 1, cols + n + 1, np.ones(len(rows), dtype=np.int64), x, costs),
        _residual(zeros_a + source, mentee, dem, fs, zeros_a),
        _residual(mentor, to_sink, first, f_low, zeros_b - bonus),
        _residual(mentor, to_sink, rest, f_rest, zeros_b),
        _residual(
            np.array([source]),
            np.array([t]),
            np.array([supply]),
            np.array([fb]),
            np.zeros(1, np.int64),
        ),
    ]
    return _potentials(
        np.concatenate([p[0] for p in parts]).astype(np.int64),
        np.concatenate([p[1] for p in parts]).astype(np.int64),
        np.concatenate([p[2] for p in parts]).astype(np.int64),
        n + m + 2,
    )


def _violations(
    priced: IntArray,
    big: int,
    pi: IntArray,
    per_row: int,
) -> tuple[int, IntArray]:
    """Count the violated cells outside the candidates, and pick the cells to add.

    An arc (i, j) absent from the graph would be forward with cost ``-(big + s_ij)``; its
    reduced cost ``pi_i + cost - pi_j`` must not be negative: the count is the proof. When
    it is not zero, partial pricing picks per mentee at most ``per_row`` cells with the most
    negative reduced costs, including nearly violated ones (below :data:`_MARGIN`): prices
    move when arcs join, and those are next round's violations (fewer proof rounds; see
    benchmarks/README.md). Cells outside the question hold :data:`_OUT` in ``priced`` and
    never qualify.
    """
    n, m = priced.shape
    strict, codes = kernels.violations(
        priced,
        int(big),
        np.ascontiguousarray(pi[1 : n + 1]),
        np.ascontiguousarray(pi[n + 1 : n + m + 1]),
        _MARGIN,
        per_row,
    )
    return int(strict), codes
