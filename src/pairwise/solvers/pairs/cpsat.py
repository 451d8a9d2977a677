"""Pairing with CP-SAT (OR-Tools): any objective, under a time limit, with unsat cores.

Every rule pairwise ships today compiles to the flow structure, so :mod:`.flow` is exact
and faster; this model is the place for rules that break that structure, an independent
second solver in the tests, and the source of *conflict explanations*: each hard
constraint family is switched on by an assumption literal, and an infeasible solve returns
a small set of them (``sufficient_assumptions_for_infeasibility``).

Lexicographic objectives are solved in phases (each later phase fixes the earlier
optimum): ``matched-then-total`` = most pairs, then total; ``maxmin`` = most pairs, then
the highest floor, then total. Every phase runs under the one CP-SAT policy of
:mod:`pairwise.solvers._cpsat`: the phases share a deterministic-time budget planned from
the caller's limit (each gets what the earlier phases left, as CP-SAT counts it), so a
solve with a fixed seed and workers is reproducible on any machine load, and the clock is
only a safety net.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from pairwise.errors import SolverError
from pairwise.problem import PairProblem
from pairwise.solvers._cpsat import DETERMINISTIC_SHARE, integer_scale, make_solver, raise_core
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.answer import Answer

__all__ = ["solve_cpsat"]

IntArray = npt.NDArray[np.int64]


class _Model:
    """A boolean per allowed pair; demand, capacity and required pairs under assumptions."""

    def __init__(self, problem: PairProblem, deadline: float = float("inf")) -> None:
        self.problem = problem
        n, m = problem.shape
        self.rows, self.cols = (a.astype(np.int64) for a in np.nonzero(problem.allowed))
        s = problem.scores[self.rows, self.cols]
        self.scale = integer_scale(float(np.abs(s).max()) if len(s) else 0.0)
        self.s_int = np.rint(s * self.scale).astype(np.int64)
        self.model = cp_model.CpModel()
        self.x: list[cp_model.IntVar] = []
        for start in range(0, len(self.rows), 4096):  # the plan's safety net while building
            if time.perf_counter() > deadline:
                raise SolverError("CP-SAT: the model is too large to build within the time limit")
            stop = min(start + 4096, len(self.rows))
            self.x.extend(self.model.new_bool_var(f"x{k}") for k in range(start, stop))
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
                lit = self.assume(f"every mentee matched: {ids_a[i]}")
                self.model.add(sum(terms) >= int(problem.demand[i])).only_enforce_if(lit)
        for j in range(m):
            terms = [self.x[k] for k in by_mentor[j]]
            if terms:
                lit = self.assume(f"capacity {problem.capacity[j]} of mentor {ids_b[j]}")
                self.model.add(sum(terms) <= int(problem.capacity[j])).only_enforce_if(lit)
            if problem.minimum[j] > 0:
                lit = self.assume(f"minimum {problem.minimum[j]} of mentor {ids_b[j]}")
                self.model.add(sum(terms) >= int(problem.minimum[j])).only_enforce_if(lit)
        index = {
            (i, j): k
            for k, (i, j) in enumerate(zip(self.rows.tolist(), self.cols.tolist(), strict=True))
        }
        for i, j in problem.required:
            lit = self.assume(f"required pair ({ids_a[i]}, {ids_b[j]})")
            if (i, j) in index:
                self.model.add(self.x[index[(i, j)]] == 1).only_enforce_if(lit)
            else:
                self.model.add_bool_or([lit.Not()])
        self.count = sum(self.x)
        self.total = cp_model.LinearExpr.weighted_sum(self.x, self.s_int.tolist())

    def assume(self, name: str) -> cp_model.IntVar:
        lit = self.model.new_bool_var(name)
        self.assumptions[lit.index] = name
        self.literals.append(lit)
        return lit


@dataclass(frozen=True)
class Keep:
    """Re-matching: previous pairs to keep (see :func:`solve_cpsat`)."""

    pairs: IntArray  # (k, 2) positions
    min_kept: int = 0
    weight: float | None = None
    #: mentees (positions) matched first after the kept pairs, before the total ("waiting")
    first: IntArray | None = None


def solve_cpsat(
    problem: PairProblem,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None = None,
    *,
    keep: Keep | None = None,
    deterministic: bool = True,
) -> Answer:
    """Solve ``problem`` with CP-SAT; see the module docstring.

    ``keep`` adds a first phase: keep as many of ``keep.pairs`` as the hard rules allow
    (re-matching), at least ``keep.min_kept`` of them (a hard rule). With ``keep.weight``
    there is no such phase: each kept pair adds ``keep.weight`` (in score units) to the
    total instead. ``keep.first`` adds the next phase: as many pairs of those mentees (the
    ones waiting) as possible, before the problem's own objective.

    Raises
    ------
    InfeasibleError
        Naming a small set of conflicting constraints (from the solver's unsat core).
    SolverError
        When no solution was found within the time limit.
    """
    mdl = _Model(problem, deadline=plan.deadline())
    model = mdl.model
    model.add_assumptions(mdl.literals)
    phases = _phases(problem)
    targets = {"count": mdl.count, "total": mdl.total}
    if keep is not None and keep.first is not None and len(keep.first):
        waiting = set(keep.first.tolist())
        targets["waiting"] = cp_model.LinearExpr.sum(
            [lit for lit, i in zip(mdl.x, mdl.rows.tolist(), strict=True) if i in waiting]
        )
        phases = ["waiting", *phases]
    if keep is not None and len(keep.pairs):
        kept = _keep(mdl, keep)
        targets["keep"] = kept
        if keep.weight is None:
            phases = ["keep", *phases]
        else:
            bonus = round(float(keep.weight) * mdl.scale)
            targets["total"] = cp_model.LinearExpr.weighted_sum([mdl.total, kept], [1, bonus])
    if "floor" in phases:
        lo, hi = int(mdl.s_int.min(initial=0)), int(mdl.s_int.max(initial=0))
        floor = model.new_int_var(lo, hi, "floor")
        for k, lit in enumerate(mdl.x):
            model.add(floor <= int(mdl.s_int[k])).only_enforce_if(lit)
        targets["floor"] = floor
    budget = DETERMINISTIC_SHARE * plan.limit
    optimal = True
    chosen: list[bool] = []
    bound: float | None = None
    for phase in phases:
        solver = make_solver(plan, budget, seeds, workers, deterministic=deterministic)
        model.maximize(targets[phase])
        status = solver.solve(model)
        if status == cp_model.INFEASIBLE:
            raise_core(solver, mdl.assumptions)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if not chosen:
                raise SolverError(f"CP-SAT found no solution within the time limit ({phase} phase)")
            optimal, bound = False, None  # out of time: the earlier phase's answer stands
            break
        optimal &= status == cp_model.OPTIMAL
        budget -= solver.response_proto.deterministic_time
        chosen = [bool(solver.value(lit)) for lit in mdl.x]
        bound = float(solver.best_objective_bound) if phase == phases[-1] else None
        # later phases keep this phase's best value and start from its solution
        model.clear_hints()  # type: ignore[no-untyped-call]
        for lit, value in zip(mdl.x, chosen, strict=True):
            model.add_hint(lit, value)
        if phase != phases[-1]:
            model.add(targets[phase] >= round(solver.objective_value))
    return _answer(mdl, np.array(chosen, dtype=bool), optimal, bound)


def _phases(problem: PairProblem) -> list[str]:
    """The lexicographic phases of the problem's objective."""
    if problem.objective == "total" and not problem.all_matched:
        return ["total"]
    if problem.objective == "maxmin":
        return ["count", "floor", "total"]
    return ["count", "total"]


def _keep(mdl: _Model, keep: Keep) -> cp_model.LinearExpr:
    """The number of kept pairs; at least ``keep.min_kept`` of them, under an assumption."""
    cells = zip(mdl.rows.tolist(), mdl.cols.tolist(), strict=True)
    index = {(i, j): k for k, (i, j) in enumerate(cells)}
    kept_at = {index[(i, j)] for i, j in keep.pairs.tolist() if (i, j) in index}
    keep_vars = [mdl.x[k] for k in sorted(kept_at)]
    kept = cp_model.LinearExpr.sum(keep_vars)
    # the kept pairs are a feasible start (they held before, within the capacities)
    for k, lit in enumerate(mdl.x):
        mdl.model.add_hint(lit, k in kept_at)
    if keep.min_kept > 0:
        lit = mdl.assume(f"at most {len(keep_vars) - keep.min_kept} changes")
        mdl.model.add_assumptions([lit])
        mdl.model.add(kept >= keep.min_kept).only_enforce_if(lit)
    return kept


def _answer(
    mdl: _Model, chosen: npt.NDArray[np.bool_], optimal: bool, bound: float | None
) -> Answer:
    """The chosen pairs, sorted; ``bound``: the last phase's proven bound, integer units."""
    pairs = np.stack([mdl.rows[chosen], mdl.cols[chosen]], axis=1).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)
    slack = len(pairs) / mdl.scale
    proved = None if optimal or bound is None else bound / mdl.scale + slack
    return Answer(pairs, optimal=optimal, method="cpsat", bound=proved, slack=slack)
