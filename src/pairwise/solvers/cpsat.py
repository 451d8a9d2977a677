"""Pairing with CP-SAT (OR-Tools): any objective, under a time limit, with unsat cores.

Every rule pairwise ships today compiles to the flow structure, so :mod:`.flow` is exact
and faster; this model is the place for rules that break that structure, an independent
second solver in the tests, and the source of *conflict explanations*: each hard
constraint family is switched on by an assumption literal, and an infeasible solve returns
a small set of them (``sufficient_assumptions_for_infeasibility``).

Lexicographic objectives are solved in phases (each later phase fixes the earlier
optimum): ``matched-then-total`` = most pairs, then total; ``maxmin`` = most pairs, then
the highest floor, then total. Reproducibility: one worker by default; with several, the
search interleaves workers deterministically and stops on deterministic time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from pairwise.errors import InfeasibleError, SolverError
from pairwise.problem import PairProblem
from pairwise.solvers.flow import integer_scale

__all__ = ["CpSatResult", "solve_cpsat"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CpSatResult:
    """Chosen pairs, whether every phase was proven optimal, and a proven bound."""

    pairs: IntArray
    optimal: bool
    bound: float
    rounding_slack: float


class _Model:
    def __init__(self, problem: PairProblem) -> None:
        self.problem = problem
        n, m = problem.shape
        self.rows, self.cols = (a.astype(np.int64) for a in np.nonzero(problem.allowed))
        s = problem.scores[self.rows, self.cols]
        self.scale = integer_scale(float(np.abs(s).max()) if len(s) else 0.0)
        self.s_int = np.rint(s * self.scale).astype(np.int64)
        self.model = cp_model.CpModel()
        self.x = [self.model.new_bool_var(f"x{k}") for k in range(len(self.rows))]
        self.assumptions: dict[int, str] = {}
        self.literals: list[cp_model.IntVar] = []
        by_mentee: list[list[int]] = [[] for _ in range(n)]
        by_mentor: list[list[int]] = [[] for _ in range(m)]
        for k, (i, j) in enumerate(zip(self.rows.tolist(), self.cols.tolist(), strict=True)):
            by_mentee[i].append(k)
            by_mentor[j].append(k)
        ids_a, ids_b = problem.mentee_ids, problem.mentor_ids
        for i in range(n):
            terms = [self.x[k] for k in by_mentee[i]]
            self.model.add(sum(terms) <= int(problem.demand[i]))
            if problem.all_matched and problem.demand[i] > 0:
                lit = self._assume(f"every mentee matched: {ids_a[i]}")
                self.model.add(sum(terms) >= int(problem.demand[i])).only_enforce_if(lit)
        for j in range(m):
            terms = [self.x[k] for k in by_mentor[j]]
            if terms:
                lit = self._assume(f"capacity {problem.capacity[j]} of mentor {ids_b[j]}")
                self.model.add(sum(terms) <= int(problem.capacity[j])).only_enforce_if(lit)
        index = {
            (i, j): k
            for k, (i, j) in enumerate(zip(self.rows.tolist(), self.cols.tolist(), strict=True))
        }
        for i, j in problem.required:
            lit = self._assume(f"required pair ({ids_a[i]}, {ids_b[j]})")
            if (i, j) in index:
                self.model.add(self.x[index[(i, j)]] == 1).only_enforce_if(lit)
            else:
                self.model.add_bool_or([lit.Not()])
        self.count = sum(self.x)
        self.total = cp_model.LinearExpr.weighted_sum(self.x, self.s_int.tolist())

    def _assume(self, name: str) -> cp_model.IntVar:
        lit = self.model.new_bool_var(name)
        self.assumptions[lit.index] = name
        self.literals.append(lit)
        return lit


def _solver(time_limit: float | None, seed: int, workers: int | None) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    w = 1 if workers is None else int(workers)
    solver.parameters.num_workers = w
    solver.parameters.random_seed = int(seed)
    if w > 1:
        solver.parameters.interleave_search = True
        if time_limit is not None:
            solver.parameters.max_deterministic_time = float(time_limit)
    elif time_limit is not None:
        solver.parameters.max_time_in_seconds = float(time_limit)
    return solver


def solve_cpsat(
    problem: PairProblem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    workers: int | None = None,
    keep: IntArray | None = None,
    min_kept: int = 0,
    keep_weight: float | None = None,
) -> CpSatResult:
    """Solve ``problem`` with CP-SAT; see the module docstring.

    ``keep`` ((k, 2) positions) adds a first phase: keep as many of these pairs as the hard
    rules allow (re-matching), at least ``min_kept`` of them (a hard rule). With
    ``keep_weight`` there is no such phase: each kept pair adds ``keep_weight`` (in score
    units) to the total instead.

    Raises
    ------
    InfeasibleError
        Naming a small set of conflicting constraints (from the solver's unsat core).
    SolverError
        When no solution was found within the time limit.
    """
    start = time.perf_counter()
    mdl = _Model(problem)
    model = mdl.model
    model.add_assumptions(mdl.literals)
    phases: list[str] = []
    objective = problem.objective
    if objective == "total" and not problem.all_matched:
        phases = ["total"]
    elif objective == "maxmin":
        phases = ["count", "floor", "total"]
    else:
        phases = ["count", "total"]
    kept: cp_model.LinearExprT = 0
    if keep is not None and len(keep):
        cells = zip(mdl.rows.tolist(), mdl.cols.tolist(), strict=True)
        index = {(i, j): k for k, (i, j) in enumerate(cells)}
        keep_vars = [mdl.x[index[(i, j)]] for i, j in keep.tolist() if (i, j) in index]
        kept = cp_model.LinearExpr.sum(keep_vars)
        if keep_weight is None:
            phases = ["keep", *phases]
        if min_kept > 0:
            lit = mdl._assume(f"at most {len(keep_vars) - min_kept} changes")
            model.add_assumptions([lit])
            model.add(kept >= min_kept).only_enforce_if(lit)
    lo, hi = int(mdl.s_int.min(initial=0)), int(mdl.s_int.max(initial=0))
    floor = model.new_int_var(lo, hi, "floor")
    if "floor" in phases:
        for k, lit in enumerate(mdl.x):
            model.add(floor <= int(mdl.s_int[k])).only_enforce_if(lit)
    optimal = True
    solver = _solver(time_limit, seed, workers)
    bound_int = 0.0
    for phase in phases:
        left = None if time_limit is None else max(0.01, time_limit - (time.perf_counter() - start))
        solver = _solver(left, seed, workers)
        total = mdl.total
        if keep_weight is not None:
            bonus = round(float(keep_weight) * mdl.scale)
            total = cp_model.LinearExpr.weighted_sum([mdl.total, kept], [1, bonus])
        target = {"count": mdl.count, "floor": floor, "total": total, "keep": kept}[phase]
        model.maximize(target)
        status = solver.solve(model)
        if status == cp_model.INFEASIBLE:
            core = solver.sufficient_assumptions_for_infeasibility()
            names = sorted(mdl.assumptions[v] for v in core if v in mdl.assumptions)
            raise InfeasibleError(
                ["these rules cannot all hold together: " + "; ".join(names[:20])]
                if names
                else ["the hard rules cannot all hold"]
            )
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise SolverError(f"CP-SAT found no solution within the time limit ({phase} phase)")
        optimal &= status == cp_model.OPTIMAL
        value = round(solver.objective_value)
        bound_int = solver.best_objective_bound
        # later phases keep this phase's best value and start from its solution
        model.clear_hints()  # type: ignore[no-untyped-call]
        for lit in mdl.x:
            model.add_hint(lit, bool(solver.value(lit)))
        if phase != phases[-1]:
            model.add(target >= value)
    chosen = np.array([solver.value(v) for v in mdl.x], dtype=bool) if mdl.x else np.zeros(0, bool)
    pairs = np.stack([mdl.rows[chosen], mdl.cols[chosen]], axis=1).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)
    slack = len(pairs) / mdl.scale
    objective_value = float(problem.scores[pairs[:, 0], pairs[:, 1]].sum()) if len(pairs) else 0.0
    bound = objective_value + slack if optimal else float(bound_int) / mdl.scale + slack
    return CpSatResult(
        pairs=pairs, optimal=optimal, bound=max(bound, objective_value), rounding_slack=slack
    )
