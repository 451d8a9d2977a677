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
from typing import NoReturn

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from pairwise.errors import InfeasibleError, SolverError
from pairwise.problem import PairProblem
from pairwise.solvers._cpsat import DETERMINISTIC_SHARE, integer_scale, make_solver, raise_core
from pairwise.solvers._plan import SAFETY, Seeds, TimePlan
from pairwise.solvers.answer import Answer
from pairwise.solvers.pairs.caps import cap_rows
from pairwise.solvers.pairs.flow import maxmin_floor
from pairwise.solvers.pairs.network import after_required, best_total, free_arcs

__all__ = ["Keep", "relaxed_bound", "solve_cpsat"]

IntArray = npt.NDArray[np.int64]


class _Model:
    """A boolean per allowed pair; demand, capacity, minimum loads, value caps, required pairs.

    The rules are plain linear constraints, so CP-SAT's LP relaxation sees them (a
    flow-like model is then solved fast); ``assumed=True`` puts each rule family under an
    assumption literal instead, for the unsat core of a model found infeasible.
    """

    def __init__(
        self, problem: PairProblem, deadline: float = float("inf"), *, assumed: bool = False
    ) -> None:
        self.problem = problem
        self.assumed = assumed
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
        self.by_mentee: list[list[int]] = [[] for _ in range(n)]
        self.by_mentor: list[list[int]] = [[] for _ in range(m)]
        for k, (i, j) in enumerate(zip(self.rows.tolist(), self.cols.tolist(), strict=True)):
            self.by_mentee[i].append(k)
            self.by_mentor[j].append(k)
        ids_a, ids_b = problem.mentee_ids, problem.mentor_ids
        for i in range(n):
            terms = [self.x[k] for k in self.by_mentee[i]]
            self.model.add(sum(terms) <= int(problem.demand[i]))
            if problem.all_matched and problem.demand[i] > 0:
                self.hold(sum(terms) >= int(problem.demand[i]), f"every mentee matched: {ids_a[i]}")
        for j in range(m):
            terms = [self.x[k] for k in self.by_mentor[j]]
            if terms:
                cap = int(problem.capacity[j])
                self.hold(sum(terms) <= cap, f"capacity {cap} of mentor {ids_b[j]}")
            if problem.minimum[j] > 0:
                low = int(problem.minimum[j])
                self.hold(sum(terms) >= low, f"minimum {low} of mentor {ids_b[j]}")
        for name, ks, k in cap_rows(problem, self.rows, self.cols):
            self.hold(sum(self.x[t] for t in ks.tolist()) <= k, name)
        index = {
            (i, j): k
            for k, (i, j) in enumerate(zip(self.rows.tolist(), self.cols.tolist(), strict=True))
        }
        for i, j in problem.required:
            name = f"required pair ({ids_a[i]}, {ids_b[j]})"
            if (i, j) in index:
                self.hold(self.x[index[(i, j)]] == 1, name)
            elif self.assumed:
                self.model.add_bool_or([self.assume(name).Not()])
            else:
                self.model.add_bool_or([])  # a required pair no rule allows: infeasible
        self.count = sum(self.x)
        self.total = cp_model.LinearExpr.weighted_sum(self.x, self.s_int.tolist())
        #: variables a phase adds, with the pairs that decide them (covered), and the floor
        self.aux: list[tuple[cp_model.IntVar, list[int]]] = []
        self.floor: cp_model.IntVar | None = None
        self.hinted: list[bool] = []
        self.top = int(self.s_int.max(initial=0))

    def hold(self, constraint: cp_model.BoundedLinearExpression | bool, name: str) -> None:
        """Add a rule: plain, or (``assumed``) switched on by a literal named ``name``."""
        ct = self.model.add(constraint)
        if self.assumed:
            ct.only_enforce_if(self.assume(name))

    def assume(self, name: str) -> cp_model.IntVar:
        lit = self.model.new_bool_var(name)
        self.assumptions[lit.index] = name
        self.literals.append(lit)
        return lit

    def covered(self, side: list[list[int]], what: str) -> cp_model.LinearExpr:
        """How many of ``side`` (pair indices per person) have at least one pair."""
        has = []
        for ks in side:
            if ks:
                y = self.model.new_bool_var(what)
                self.model.add(y <= sum(self.x[k] for k in ks))
                has.append(y)
                self.aux.append((y, ks))
        return cp_model.LinearExpr.sum(has)

    def hint(self, chosen: list[bool]) -> None:
        """A complete hint (pairs, and what they imply for the other variables)."""
        self.hinted = chosen
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        index = [lit.index for lit in self.x] + [y.index for y, _ in self.aux]
        value = [int(v) for v in chosen] + [int(any(chosen[k] for k in ks)) for _, ks in self.aux]
        if self.floor is not None:
            on = self.s_int[np.array(chosen, dtype=bool)] if len(chosen) else self.s_int[:0]
            index.append(self.floor.index)
            value.append(int(on.min()) if len(on) else self.top)
        hint = self.model.proto.solution_hint  # one call, not one add_hint per variable
        hint.vars.extend(index)
        hint.values.extend(value)


@dataclass(frozen=True)
class Keep:
    """Re-matching: previous pairs to keep (see :func:`solve_cpsat`)."""

    pairs: IntArray  # (k, 2) positions
    min_kept: int = 0
    weight: float | None = None
    #: mentees (positions) matched first after the kept pairs, before the total ("waiting")
    first: IntArray | None = None


#: A phase starts only with at least this share of the limit left on the clock.
_LEAST_SHARE = 0.1


def _reserve(plan: TimePlan) -> float:
    """Seconds kept back from CP-SAT's clock: half the safety margin.

    For CP-SAT's overrun and the answer's assembly (without it a 200 x 20 solve with
    ``time_limit=2`` took up to 2.33 s).
    """
    return SAFETY / 2 * plan.limit


def solve_cpsat(
    problem: PairProblem,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None = None,
    *,
    keep: Keep | None = None,
    deterministic: bool = True,
    start: IntArray | None = None,
) -> Answer:
    """Solve ``problem`` with CP-SAT; see the module docstring.

    ``keep`` adds a first phase: keep as many of ``keep.pairs`` as the hard rules allow
    (re-matching), at least ``keep.min_kept`` of them (a hard rule). With ``keep.weight``
    there is no such phase: each kept pair adds ``keep.weight`` (in score units) to the
    total instead. ``keep.first`` adds the next phase: as many pairs of those mentees (the
    ones waiting) as possible, before the problem's own objective.

    ``start``: (mentee, mentor) positions of a solution that keeps every hard rule (the
    caller's flow proved it, :func:`~.feasibility.feasible_pairs`): the first phase's hint,
    and the answer if even the first phase finds nothing in its time (without ``keep``).

    Time: phase ``k`` of ``K`` may use ``1 / (K - k)`` of the deterministic budget still
    left (what it does not use passes on), and the clock left as the safety net. A phase
    out of time keeps the earlier phase's answer, status ``feasible``, with a proven bound
    on the total: the smaller of the last phase's bound (when it ran) and the largest total
    under demands and capacities alone (:func:`relaxed_bound`).

    Raises
    ------
    InfeasibleError
        Naming a small set of conflicting constraints (from the solver's unsat core).
    SolverError
        When no solution was found within the time limit.
    """
    mdl = _Model(problem, deadline=plan.deadline())
    phases, targets = _targets(mdl, keep)
    fallback = start is not None and (keep is None or keep.min_kept == 0)
    chosen = _hint(mdl, start) if fallback and start is not None else []
    if keep is None and start is not None:
        mdl.hint(chosen)
    budget = DETERMINISTIC_SHARE * plan.limit
    optimal = True
    bound: float | None = None
    # the flows' threshold search finds the floor exactly and fast, where the flows state
    # every rule (not with kept pairs or value caps)
    by_flow = keep is None and not problem.value_caps
    for k, phase in enumerate(phases):
        if phase == "floor" and by_flow:
            _forbid_below(mdl, problem, maxmin_floor(problem))
            continue
        if plan.left(net=False) < _LEAST_SHARE * plan.limit:
            # under a tenth of the limit left: a phase's set-up and presolve alone (the
            # floor's took over a second at 200 x 20 under load) would overrun the limit
            status = cp_model.UNKNOWN
        else:
            if phase == "floor" and mdl.floor is None:  # added when needed: it slows presolve
                targets["floor"] = _floor(mdl)
            mdl.model.maximize(targets[phase])
            # this phase and the later ones CP-SAT solves share what is left; the clock
            # left is read after the set-up
            share = budget / sum(1 for q in phases[k:] if not (q == "floor" and by_flow))
            solver = make_solver(
                plan, share, seeds, workers, deterministic=deterministic, reserve=_reserve(plan)
            )
            status = solver.solve(mdl.model)
        if status == cp_model.INFEASIBLE:
            _core(problem, keep, plan, seeds, workers)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if not chosen:
                raise SolverError(f"CP-SAT found no solution within the time limit ({phase} phase)")
            optimal = False  # out of time: the earlier phase's answer stands
            break
        optimal &= status == cp_model.OPTIMAL
        budget -= solver.response_proto.deterministic_time
        chosen = [bool(solver.value(lit)) for lit in mdl.x]
        bound = float(solver.best_objective_bound) if phase == phases[-1] else None
        mdl.hint(chosen)  # later phases keep this phase's best value and start from it
        if phase != phases[-1]:
            mdl.model.add(targets[phase] >= round(solver.objective_value))
    return _answer(mdl, np.array(chosen, dtype=bool), optimal, bound)


def _targets(mdl: _Model, keep: Keep | None) -> tuple[list[str], dict[str, cp_model.LinearExprT]]:
    """The phases in order and what each maximises (``keep`` adds its phases first)."""
    model, problem = mdl.model, mdl.problem
    phases = _phases(problem)
    targets: dict[str, cp_model.LinearExprT] = {"count": mdl.count, "total": mdl.total}
    if "mentees covered" in phases:
        targets["mentees covered"] = mdl.covered(mdl.by_mentee, "mentee has a mentor")
        targets["mentors covered"] = mdl.covered(mdl.by_mentor, "mentor has a mentee")
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
    if mdl.assumed:
        model.add_assumptions(mdl.literals)
    return phases, targets


def _forbid_below(mdl: _Model, problem: PairProblem, floor: float | None) -> None:
    """No pair scoring below ``floor`` (the ``maxmin`` floor of :func:`.flow.maxmin_floor`).

    The same lexicographic optimum as a CP-SAT floor phase (most pairs, then the highest
    floor), found by max-flows: CP-SAT took over a second to load that phase's rows at
    200 x 20, past a one-second limit.
    """
    if floor is None:
        return
    low = problem.scores[mdl.rows, mdl.cols] < floor
    for k in np.flatnonzero(low).tolist():
        mdl.model.add(mdl.x[k] == 0)


def _floor(mdl: _Model) -> cp_model.IntVar:
    """The lowest score of a chosen pair (at most ``s_k`` for every chosen pair ``k``)."""
    lo, hi = int(mdl.s_int.min(initial=0)), int(mdl.s_int.max(initial=0))
    floor = mdl.floor = mdl.model.new_int_var(lo, hi, "floor")
    for k, lit in enumerate(mdl.x):  # floor <= s_k when pair k is chosen, as a linear row
        mdl.model.add(floor + (hi - int(mdl.s_int[k])) * lit <= hi)
    if mdl.hinted:
        mdl.hint(mdl.hinted)
    return floor


def _hint(mdl: _Model, start: IntArray) -> list[bool]:
    """``start``'s pairs as one value per pair variable."""
    cells = zip(mdl.rows.tolist(), mdl.cols.tolist(), strict=True)
    index = {(i, j): k for k, (i, j) in enumerate(cells)}
    on = [False] * len(mdl.x)
    for i, j in np.asarray(start, dtype=np.int64).reshape(-1, 2).tolist():
        on[index[(i, j)]] = True
    return on


def _core(
    problem: PairProblem, keep: Keep | None, plan: TimePlan, seeds: Seeds, workers: int | None
) -> NoReturn:
    """Raise InfeasibleError naming the rules of the unsat core of the model with assumptions."""
    mdl = _Model(problem, deadline=plan.deadline(), assumed=True)
    _targets(mdl, keep)
    solver = make_solver(plan, DETERMINISTIC_SHARE * plan.limit, seeds, workers)
    if solver.solve(mdl.model) == cp_model.INFEASIBLE:
        raise_core(solver, mdl.assumptions)
    raise InfeasibleError(["the rules cannot all hold (CP-SAT named no smaller set in time)"])


def relaxed_bound(problem: PairProblem) -> float:
    """The largest total under demands, capacities and required pairs alone, plus rounding.

    No other rule or lexicographic goal can raise it, so it bounds the total of any
    solution (of the lexicographic optimum too).

    Examples
    --------
    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.9, 0.2], [0.8, 0.5]], all_matched=True)
    >>> round(relaxed_bound(p), 4)  # 0.9 + 0.5, and the rounding of 2 pairs
    1.4
    """
    n, m = problem.shape
    dem, cap, free = after_required(problem)
    rows, cols, costs, scale = free_arcs(problem, free)
    pairs = best_total(n, m, dem, cap, rows, cols, costs)
    fixed = np.array(problem.required, dtype=np.int64).reshape(-1, 2)
    most = len(fixed) + min(int(dem.sum()), int(cap.sum()), len(rows))
    return problem.total(np.concatenate([fixed, pairs])) + most / scale


def _phases(problem: PairProblem) -> list[str]:
    """The lexicographic phases of the problem's objective."""
    if problem.objective == "total" and not problem.all_matched:
        return ["total"]
    if problem.objective == "maxmin":
        return ["count", "floor", "total"]
    if problem.objective == "covered-then-total":
        return ["mentees covered", "mentors covered", "total"]
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
        mdl.hold(kept >= keep.min_kept, f"at most {len(keep_vars) - keep.min_kept} changes")
    return kept


def _answer(
    mdl: _Model, chosen: npt.NDArray[np.bool_], optimal: bool, bound: float | None
) -> Answer:
    """The chosen pairs, sorted; not optimal: the bound in score units (see solve_cpsat)."""
    pairs = np.stack([mdl.rows[chosen], mdl.cols[chosen]], axis=1).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)
    slack = len(pairs) / mdl.scale
    proved: float | None = None
    if not optimal:
        proved = relaxed_bound(mdl.problem)
        if bound is not None:
            proved = min(proved, bound / mdl.scale + slack)
    return Answer(pairs, optimal=optimal, method="cpsat", bound=proved, slack=slack)
