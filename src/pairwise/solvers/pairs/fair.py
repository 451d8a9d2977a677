"""Fair pairing with CP-SAT: floors on groups' match rates, and the two fair objectives.

A boolean per allowed pair and one per mentee ("she has a mentor"), with every rule of a
pairing problem (demand, capacity, required pairs, every mentee matched) and each
:class:`~pairwise.fairness.GroupFloor` switched on by an assumption literal, so an
infeasible solve names the conflicting rules. Objectives, in lexicographic phases (each
later phase keeps the earlier optimum, as in :mod:`.cpsat`):

- ``"maxmin-group"``: the groups' match rates sorted from lowest, maximised
  lexicographically (leximin): phase ``k`` maximises ``z_k`` such that at most ``k - 1``
  groups have a rate below ``z_k``; then the total;
- ``"maxmin-mentee"``: most pairs, then the lowest total score of a matched mentee over
  her mentors (FairFlow's goal, Kobren et al. 2019), then the total;
- the other objectives as :mod:`.cpsat` does them.

Rates are compared exactly in integers: ``matched_g * L >= z * size_g`` with ``L`` the
least common multiple of the group sizes (or ``10**12``, beyond ``n**2``, so no two
distinct rates fall in one step). A phase that runs out of time keeps the earlier
phase's answer (status ``feasible``).

References
----------
Kobren, A., Saha, B., McCallum, A. "Paper Matching with Local Fairness Constraints".
KDD 2019.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from pairwise.errors import InfeasibleError, SolverError
from pairwise.problem import PairProblem
from pairwise.solvers._cpsat import DETERMINISTIC_SHARE, integer_scale, make_solver, raise_core
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.answer import Answer
from pairwise.solvers.pairs.caps import cap_rows

__all__ = ["needs_fair", "solve_fair"]

#: Objectives only this model does.
FAIR_OBJECTIVES = ("maxmin-group", "maxmin-mentee")
#: The rate scale when the group sizes' least common multiple is larger.
RATE_SCALE = 10**12


def needs_fair(problem: PairProblem) -> bool:
    """Whether ``problem`` has group floors or a fair objective (only this model does them).

    Examples
    --------
    >>> import pairwise
    >>> needs_fair(pairwise.PairProblem.from_scores([[1.0]], objective="maxmin-mentee"))
    True
    """
    floors = any(f.at_least > 0 for f in problem.group_floors)
    return floors or problem.objective in FAIR_OBJECTIVES


def explain_floors(problem: PairProblem) -> None:
    """Raise InfeasibleError for each group whose floor exceeds the mentees who could be matched.

    A mentee can be matched only with an allowed mentor of positive capacity.
    """
    reachable = (problem.allowed & (problem.capacity > 0)[None, :]).any(axis=1)
    reachable &= problem.demand > 0
    bad = [
        f.explain(int(reachable[f.members].sum()))
        for f in problem.group_floors
        if f.at_least > int(reachable[f.members].sum())
    ]
    if bad:
        raise InfeasibleError(bad)
    by_column: dict[str, list[int]] = {}
    for f in problem.group_floors:
        by_column.setdefault(f.column, []).append(f.at_least)
    room = int(np.minimum(problem.capacity, problem.allowed.sum(axis=0)).sum())
    for column, needs in by_column.items():
        owners = np.concatenate([f.members for f in problem.group_floors if f.column == column])
        disjoint = len(owners) == len(np.unique(owners))
        if disjoint and sum(needs) > room:  # each mentee counted once: one seat at least
            raise InfeasibleError(
                [
                    f"match rate by {column}: the groups need at least {sum(needs)} matched "
                    f"mentees, but the mentors have room for {room}"
                ]
            )


class _Fair:
    """The model: pairs, 'has a mentor' per mentee, the rules and the group floors."""

    def __init__(self, problem: PairProblem, *, assumed: bool = False) -> None:
        self.problem = problem
        self.assumed = assumed
        n, m = problem.shape
        self.rows, self.cols = (a.astype(np.int64) for a in np.nonzero(problem.allowed))
        s = problem.scores[self.rows, self.cols]
        self.scale = integer_scale(float(np.abs(s).max()) if len(s) else 0.0)
        self.s_int = np.rint(s * self.scale).astype(np.int64)
        md = self.model = cp_model.CpModel()
        self.x = [md.new_bool_var(f"x{k}") for k in range(len(self.rows))]
        self.y = [md.new_bool_var(f"y{i}") for i in range(n)]
        self.has: list[Any] = []  # "she has a mentor", as plain a form as possible
        self.names: dict[int, str] = {}
        self.literals: list[Any] = []
        self.by_mentee: list[list[int]] = [[] for _ in range(n)]
        by_mentor: list[list[int]] = [[] for _ in range(m)]
        for k, (i, j) in enumerate(zip(self.rows.tolist(), self.cols.tolist(), strict=True)):
            self.by_mentee[i].append(k)
            by_mentor[j].append(k)
        ids_a, ids_b = problem.mentee_ids, problem.mentor_ids
        for i in range(n):
            terms = [self.x[k] for k in self.by_mentee[i]]
            md.add(sum(terms) <= int(problem.demand[i]))
            if int(problem.demand[i]) <= 1:  # she has a mentor = her pairs' sum, linear
                md.add(self.y[i] == sum(terms))
                self.has.append(cp_model.LinearExpr.sum(terms))
            else:
                md.add(self.y[i] <= sum(terms))
                for t in terms:
                    md.add_implication(t, self.y[i])
                self.has.append(self.y[i])
            if problem.all_matched and problem.demand[i] > 0:
                lit = self.assume(f"every mentee matched: {ids_a[i]}")
                md.add(sum(terms) >= int(problem.demand[i])).only_enforce_if(lit)
        for j in range(m):
            if by_mentor[j]:
                lit = self.assume(f"capacity {problem.capacity[j]} of mentor {ids_b[j]}")
                terms = [self.x[k] for k in by_mentor[j]]
                md.add(sum(terms) <= int(problem.capacity[j])).only_enforce_if(lit)
        cells = zip(self.rows.tolist(), self.cols.tolist(), strict=True)
        index = {(i, j): k for k, (i, j) in enumerate(cells)}
        for i, j in problem.required:
            lit = self.assume(f"required pair ({ids_a[i]}, {ids_b[j]})")
            if (i, j) in index:
                md.add(self.x[index[(i, j)]] == 1).only_enforce_if(lit)
            else:
                md.add_bool_or([lit.Not()])
        for name, ks, k in cap_rows(problem, self.rows, self.cols):
            lit = self.assume(name)
            md.add(sum(self.x[t] for t in ks.tolist()) <= k).only_enforce_if(lit)
        for f in problem.group_floors:
            if f.at_least > 0:
                lit = self.assume(f"{f.name}: at least {f.at_least} of {len(f.members)} matched")
                matched = sum(self.has[i] for i in f.members.tolist())
                md.add(matched >= f.at_least).only_enforce_if(lit)
        self.count = sum(self.x)
        self.total = cp_model.LinearExpr.weighted_sum(self.x, self.s_int.tolist())

    def assume(self, name: str) -> Any:
        """A literal switching a rule on (assumed), or the constant true (a hard rule).

        Enforced constraints leave CP-SAT's LP relaxation, so the model solved for the
        answer states every rule plainly; only the one rebuilt to explain an infeasible
        problem uses literals.
        """
        if not self.assumed:
            return self.model.new_constant(1)
        lit = self.model.new_bool_var(name)
        self.names[lit.index] = name
        self.literals.append(lit)
        return lit

    def leximin(self) -> list[Any]:
        """One variable per group rank: ``z_k``, at most ``k`` groups below it."""
        groups = [f for f in self.problem.group_floors if len(f.members)]
        lcm = 1
        for f in groups:
            lcm = lcm * len(f.members) // math.gcd(lcm, len(f.members))
        scale = lcm if lcm <= RATE_SCALE else RATE_SCALE
        zs = []
        for k in range(len(groups)):
            z = self.model.new_int_var(0, scale, f"z{k}")
            above = []
            for g, f in enumerate(groups):
                b = self.model.new_bool_var(f"b{k}_{g}")
                matched = sum(self.has[i] for i in f.members.tolist())
                self.model.add(matched * scale >= z * len(f.members)).only_enforce_if(b)
                above.append(b)
            self.model.add(sum(above) >= len(groups) - k)
            zs.append(z)
        return zs

    def mentee_floor(self) -> Any:
        """The lowest total score of a matched mentee over her mentors."""
        top = int(np.maximum(self.s_int, 0).sum()) if len(self.s_int) else 0
        low = int(np.minimum(self.s_int, 0).sum()) if len(self.s_int) else 0
        floor = self.model.new_int_var(low, top, "floor")
        for i, ks in enumerate(self.by_mentee):
            if ks:
                mine = cp_model.LinearExpr.weighted_sum(
                    [self.x[k] for k in ks], [int(self.s_int[k]) for k in ks]
                )
                self.model.add(floor <= mine).only_enforce_if(self.y[i])
        return floor


def _targets(mdl: _Fair) -> list[tuple[str, Any]]:
    """The lexicographic phases of the problem's objective, with what each maximises."""
    p = mdl.problem
    if p.objective == "maxmin-group":
        return [
            *((f"group rate {k + 1}", z) for k, z in enumerate(mdl.leximin())),
            ("total", mdl.total),
        ]
    if p.objective == "maxmin-mentee":
        return [("count", mdl.count), ("mentee floor", mdl.mentee_floor()), ("total", mdl.total)]
    if p.objective == "maxmin":
        floor = mdl.model.new_int_var(
            int(mdl.s_int.min(initial=0)), int(mdl.s_int.max(initial=0)), "f"
        )
        for k, lit in enumerate(mdl.x):
            mdl.model.add(floor <= int(mdl.s_int[k])).only_enforce_if(lit)
        return [("count", mdl.count), ("floor", floor), ("total", mdl.total)]
    if p.objective == "total" and not p.all_matched:
        return [("total", mdl.total)]
    return [("count", mdl.count), ("total", mdl.total)]


def solve_fair(
    problem: PairProblem,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None = None,
    *,
    deterministic: bool = True,
) -> Answer:
    """Solve ``problem`` (group floors, any objective) with CP-SAT; see the module docstring.

    Raises
    ------
    InfeasibleError
        A group whose floor exceeds its mentees with an allowed mentor with room, or the
        solver's unsat core in programme terms.
    SolverError
        When no solution was found within the time limit.
    """
    explain_floors(problem)
    mdl = _Fair(problem)
    phases = _targets(mdl)
    budget = DETERMINISTIC_SHARE * plan.limit
    optimal, chosen, bound = True, list[bool](), None
    for k, (name, target) in enumerate(phases):
        solver = make_solver(plan, budget, seeds, workers, deterministic=deterministic)
        mdl.model.maximize(target)
        status = solver.solve(mdl.model)
        if status == cp_model.INFEASIBLE:
            _explain(problem, plan, seeds, workers)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if not chosen:
                raise SolverError(f"CP-SAT found no solution within the time limit ({name} phase)")
            optimal, bound = False, None
            break
        optimal &= status == cp_model.OPTIMAL
        budget -= solver.response_proto.deterministic_time
        chosen = [bool(solver.value(lit)) for lit in mdl.x]
        last = k == len(phases) - 1
        bound = float(solver.best_objective_bound) if last else None
        mdl.model.clear_hints()  # type: ignore[no-untyped-call]
        for lit, value in zip(mdl.x, chosen, strict=True):
            mdl.model.add_hint(lit, value)
        if not last:
            mdl.model.add(target >= round(solver.objective_value))
    return _answer(mdl, np.array(chosen, dtype=bool), optimal, bound)


def _explain(problem: PairProblem, plan: TimePlan, seeds: Seeds, workers: int | None) -> None:
    """Raise InfeasibleError naming the conflicting rules (the unsat core of a rebuilt model)."""
    mdl = _Fair(problem, assumed=True)
    mdl.model.add_assumptions(mdl.literals)
    solver = make_solver(plan, DETERMINISTIC_SHARE * plan.limit, seeds, workers)
    if solver.solve(mdl.model) == cp_model.INFEASIBLE:
        raise_core(solver, mdl.names)
    floors = [f"{f.name}: at least {f.at_least} matched" for f in problem.group_floors]
    raise InfeasibleError([*floors, "the mentors' capacities"])


def _answer(
    mdl: _Fair, chosen: npt.NDArray[np.bool_], optimal: bool, bound: float | None
) -> Answer:
    """The chosen pairs, sorted, with the last phase's proven bound in score units."""
    pairs = np.stack([mdl.rows[chosen], mdl.cols[chosen]], axis=1).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)
    slack = len(pairs) / mdl.scale
    proved = None if optimal or bound is None else bound / mdl.scale + slack
    return Answer(pairs, optimal=optimal, method="cpsat", bound=proved, slack=slack)
