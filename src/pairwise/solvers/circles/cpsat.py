"""The exact CP-SAT assignment model of a circle problem (OR-Tools), with unsat cores.

Variables: ``x[u][g]``, unit ``u`` in circle ``g``; a "same circle" boolean per pair with
non-zero affinity and circle; one chosen label per circle and shared rule. One helper per
constraint family (OR-Tools' ``assignment_groups_sat.py`` layout); each family is switched
on by an assumption literal keyed by the rule it comes from, so an infeasible model names a
small set of conflicting rules (``sufficient_assumptions_for_infeasibility``). Star cuts
(the partners of ``u`` in ``g`` fit the room ``g`` leaves her) make the LP bound about the
per-person bound of :mod:`.bounds`; circles with equal bounds are ordered by their
smallest member (symmetry breaking).
"""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from pairwise.circles import CircleProblem
from pairwise.errors import SolverError
from pairwise.solvers._cpsat import clock_stopped, integer_scale, make_solver, raise_core
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.circles.units import Units

__all__ = ["CircleModel", "solve_model", "unit_scale"]

IntArray = npt.NDArray[np.int64]
Terms = list[tuple[cp_model.IntVar, int]]

#: Name, in explanations, of the rule that gives each mentor-led circle one leader.
ONE_LEADER = "one mentor per circle"


def unit_scale(units: Units) -> float:
    """Integer units per unit of affinity for CP-SAT objectives (both exact models)."""
    return integer_scale(float(np.abs(units.affinity).max(initial=0.0)) or 1.0)


class CircleModel:
    """The exact model on units (see the module docstring).

    Parameters
    ----------
    p, units : the problem and its units
    assumptions : bool
        Switch each rule on by an assumption literal (for unsat cores).
    objective : bool, default True
        ``False``: a first feasible answer only (no pair variables, no cuts).
    deadline : float, optional
        ``time.perf_counter()`` value past which building stops with a SolverError (the
        plan's safety net: a model too large to build within the limit never runs over it).
    """

    def __init__(
        self,
        p: CircleProblem,
        units: Units,
        assumptions: bool,
        objective: bool = True,
        deadline: float = float("inf"),
    ) -> None:
        m, U = p.n_circles, units.size
        self.p, self.units, self.assumptions = p, units, assumptions
        self.model = cp_model.CpModel()
        self.lits: list[cp_model.IntVar] = []
        self.names: dict[int, str] = {}
        self._by_name: dict[str, cp_model.IntVar] = {}
        self.deadline = deadline
        self.x: list[list[cp_model.IntVar]] = []
        for u in range(U):
            self._on_time()
            self.x.append([self.model.new_bool_var(f"x{u}_{g}") for g in range(m)])
        self._each_unit_once()
        self._sizes()
        self._apart()
        self._shared_labels()
        self._counts()
        self.scale = unit_scale(units)
        self._objective(objective)
        self._symmetry()

    def _on_time(self) -> None:
        """Stop building past the deadline: a model too large for the limit never runs."""
        if time.perf_counter() > self.deadline:
            raise SolverError(
                "no circles within the time limit: the CP-SAT model is too large to build"
            )

    def _add(self, ct: cp_model.Constraint, rule: str) -> None:
        """Enforce ``ct`` under the assumption literal of ``rule`` (one per rule)."""
        if not self.assumptions:
            return
        if rule not in self._by_name:
            v = self.model.new_bool_var(rule)
            self.names[v.index] = rule
            self.lits.append(v)
            self._by_name[rule] = v
        ct.only_enforce_if(self._by_name[rule])

    def _each_unit_once(self) -> None:
        for u, row in enumerate(self.x):
            if self.units.is_place[u]:
                self.model.add(sum(row) <= 1)  # a leading place may stay on the bench
            else:
                self.model.add_exactly_one(row)

    def _sizes(self) -> None:
        p, units = self.p, self.units
        for g in range(p.n_circles):
            self._on_time()
            size = sum(int(units.weight[u]) * self.x[u][g] for u in range(units.size))
            self._add(self.model.add(size >= int(p.min_size[g])), "circle sizes")
            self._add(self.model.add(size <= int(p.max_size[g])), "circle sizes")

    def _apart(self) -> None:
        for k, (u, v) in enumerate(np.argwhere(np.triu(self.units.apart, 1)).tolist()):
            if k % 64 == 0:
                self._on_time()
            rule = _apart_rule(self.p, self.units, u, v)
            for g in range(self.p.n_circles):
                self._add(self.model.add_bool_or([self.x[u][g].Not(), self.x[v][g].Not()]), rule)

    def _shared_labels(self) -> None:
        units, model = self.units, self.model
        for r, rule in enumerate(self.p.shared):
            bits = np.flatnonzero(units.label_rule == r)
            for g in range(self.p.n_circles):
                self._on_time()
                s = [model.new_bool_var(f"s{r}_{g}_{b}") for b in bits]
                model.add_exactly_one(s)
                for u in range(units.size):
                    for k, b in enumerate(bits):
                        if not units.has_label[u, b]:
                            self._add(model.add_implication(self.x[u][g], s[k].Not()), rule.name)

    def _counts(self) -> None:
        units, model = self.units, self.model
        for c in range(len(units.count_names)):
            r = int(units.count_rule[c])
            rule = ONE_LEADER if r < 0 else self.p.counts[r].name
            who = np.flatnonzero(units.count[:, c])
            lo, hi = int(units.count_min[c]), int(units.count_max[c])
            for g in range(self.p.n_circles):
                self._on_time()
                cnt = sum(int(units.count[u, c]) * self.x[u][g] for u in who)
                self._add(model.add(cnt <= hi), rule)
                if lo > 0 and units.count_or_none[c]:
                    e = model.new_bool_var(f"e{c}_{g}")
                    self._add(model.add(cnt >= lo).only_enforce_if(e), units.count_names[c])
                    model.add(cnt == 0).only_enforce_if(e.Not())
                elif lo > 0:
                    self._add(model.add(cnt >= lo), rule)

    def _objective(self, objective: bool) -> None:
        """``total`` and ``score_g`` (each circle's terms): a boolean per scored pair."""
        p, units, model, m = self.p, self.units, self.model, self.p.n_circles
        terms: Terms = []
        self.score_g: list[Terms] = [[] for _ in range(m)]
        star: list[list[Terms]] = [[[] for _ in range(m)] for _ in range(units.size)]
        # each unit's pair terms per circle (its affinity to the circle, for "maxmin")
        self.mates: list[list[Terms]] = [[[] for _ in range(m)] for _ in range(units.size)]
        scored = np.triu(units.affinity != 0, 1) & ~np.triu(units.apart, 1)
        if not objective:
            scored[:] = False
        for k, (u, v) in enumerate(np.argwhere(scored).tolist()):
            if k % 256 == 0:
                self._on_time()
            c = int(np.rint(units.affinity[u, v] * self.scale))
            if c == 0:
                continue
            for g in range(m):
                y = model.new_bool_var(f"y{u}_{v}_{g}")
                if c > 0:
                    model.add_implication(y, self.x[u][g])
                    model.add_implication(y, self.x[v][g])
                else:
                    model.add_bool_or([self.x[u][g].Not(), self.x[v][g].Not(), y])
                terms.append((y, c))
                self.score_g[g].append((y, c))
                star[u][g].append((y, int(units.weight[v])))
                star[v][g].append((y, int(units.weight[u])))
                self.mates[u][g].append((y, c))
                self.mates[v][g].append((y, c))
        for u in range(units.size):  # star cuts, valid for every integer solution
            for g in range(m):
                if star[u][g]:
                    room = int(p.max_size[g]) - int(units.weight[u])
                    load = cp_model.LinearExpr.weighted_sum(*zip(*star[u][g], strict=True))
                    model.add(load <= room * self.x[u][g])
        self.intra_int = np.rint(units.intra * self.scale).astype(np.int64)
        if not objective:
            self.intra_int[:] = 0
        for u in np.flatnonzero(self.intra_int).tolist():
            for g in range(m):
                if units.is_place[u]:
                    terms.append((self.x[u][g], int(self.intra_int[u])))
                self.score_g[g].append((self.x[u][g], int(self.intra_int[u])))
        self.n_pairs = len(terms)
        self.constant = int(self.intra_int[~units.is_place].sum())
        self.total = cp_model.LinearExpr.weighted_sum([t for t, _ in terms], [k for _, k in terms])

    def size_choice(self, g: int) -> list[tuple[int, cp_model.IntVar | None]]:
        """Circle ``g``'s possible sizes, each with the boolean that it has that size.

        ``None`` for a circle of one fixed size (no boolean needed).
        """
        p, units, model = self.p, self.units, self.model
        lo, hi = int(p.min_size[g]), int(p.max_size[g])
        if lo == hi:
            return [(lo, None)]
        z = [model.new_bool_var(f"k{g}_{k}") for k in range(lo, hi + 1)]
        model.add_exactly_one(z)
        size = sum(int(units.weight[u]) * self.x[u][g] for u in range(units.size))
        model.add(size == sum(k * zk for k, zk in zip(range(lo, hi + 1), z, strict=True)))
        return list(zip(range(lo, hi + 1), z, strict=True))

    def _symmetry(self) -> None:
        """Circles with equal bounds are interchangeable: order them by smallest member."""
        p, units = self.p, self.units
        for g in range(p.n_circles - 1):
            if p.min_size[g] == p.min_size[g + 1] and p.max_size[g] == p.max_size[g + 1]:
                for u in range(units.size):
                    if units.is_place[u]:
                        continue
                    earlier = [self.x[v][g] for v in range(u) if not units.is_place[v]]
                    self.model.add_bool_or([self.x[u][g + 1].Not(), *earlier])

    def hint(self, g_of: IntArray) -> None:
        """Start CP-SAT from the unit assignment ``g_of``."""
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        m = self.p.n_circles
        for u, g in enumerate(g_of.tolist()):
            for h in range(m):
                self.model.add_hint(self.x[u][h], h == g)

    def g_of(self, solver: cp_model.CpSolver) -> IntArray:
        """The circle of every unit in the solver's solution (``m``: on the bench)."""
        m = self.p.n_circles
        out = np.full(self.units.size, m, dtype=np.int64)
        for u, row in enumerate(self.x):
            for g, var in enumerate(row):
                if solver.value(var):
                    out[u] = g
        return out


def _apart_rule(p: CircleProblem, units: Units, u: int, v: int) -> str:
    """The rule that keeps units ``u`` and ``v`` apart (its name, for the unsat core)."""
    for i in units.members[u]:
        for j in units.members[v]:
            names = [k for k, f in p.removed_by.items() if f[i, j]]
            if names:
                return names[0]
    return ONE_LEADER if units.is_place[u] and units.is_place[v] else "keep apart"


def solve_model(
    p: CircleProblem,
    units: Units,
    plan: TimePlan,
    budget: float,
    seeds: Seeds,
    workers: int | None,
    *,
    hint: IntArray | None = None,
    feasibility_only: bool = False,
    deterministic: bool = True,
    timings: dict[str, float] | None = None,
) -> tuple[IntArray, bool, float]:
    """Solve the model; returns (units' circles, proven optimal, proven bound on the total).

    ``budget`` is the deterministic time planned from the caller's limit (never the clock);
    ``timings["stopped_by_clock"]`` is set to 1 when the clock ended a solve first.

    Raises
    ------
    InfeasibleError
        Naming the circle rules of the unsat core.
    SolverError
        When no answer was found in time.
    """
    mdl = CircleModel(
        p, units, assumptions=True, objective=not feasibility_only, deadline=plan.deadline()
    )
    model = mdl.model
    model.add_assumptions(mdl.lits)
    if hint is not None:
        mdl.hint(hint)
    floor = None
    per = 1  # objective units per scaled unit of the reported objective
    if feasibility_only:
        pass
    elif p.objective == "maxmin":
        floor = _member_floor(mdl)
        model.maximize(floor)
    elif p.objective == "mean":
        expr, per, top = _mean_objective(mdl)
        model.maximize(expr)
    else:
        model.maximize(mdl.total)
    solver = make_solver(plan, budget, seeds, workers, deterministic=deterministic)
    status = solver.solve(model)
    if timings is not None and clock_stopped(solver, status):
        timings["stopped_by_clock"] = 1.0
    if status == cp_model.INFEASIBLE:
        raise_core(solver, mdl.names, "circle rules")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError("no circles satisfying every rule were found within the time limit")
    g_of = mdl.g_of(solver)
    if feasibility_only:
        return g_of, False, float("inf")
    optimal = status == cp_model.OPTIMAL
    if p.objective == "mean":
        bound = solver.best_objective_bound / (mdl.scale * per)
        slack = (mdl.n_pairs + units.size) * 0.5 / mdl.scale * top / per
        return g_of, optimal, bound + slack
    bound = (solver.best_objective_bound + mdl.constant) / mdl.scale
    if floor is not None:  # second phase: the best total with the worst circle at its best
        model.add(floor >= int(solver.value(floor)))
        model.maximize(mdl.total)
        mdl.hint(g_of)
        left = budget - solver.response_proto.deterministic_time
        solver = make_solver(plan, left, seeds, workers, deterministic=deterministic)
        status = solver.solve(model)
        if timings is not None and clock_stopped(solver, status):
            timings["stopped_by_clock"] = 1.0
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            g_of = mdl.g_of(solver)
            optimal = optimal and status == cp_model.OPTIMAL
            bound = (solver.best_objective_bound + mdl.constant) / mdl.scale
        else:
            bound = float("inf")
    slack = (mdl.n_pairs + units.size) * 0.5 / mdl.scale
    return g_of, optimal, bound + slack


def _mean_objective(mdl: CircleModel) -> tuple[cp_model.LinearExpr, int, int]:
    """The sum of member means, scaled: (expression, divisor, largest coefficient).

    A circle of ``k`` people with within-circle score ``S`` counts ``2 S / (k - 1)``; with
    ``L`` the least common multiple of the possible ``k - 1``, the coefficient ``2 L / (k - 1)``
    is an integer and the expression is ``L`` times the objective (in scaled units). A
    circle whose size varies gets one score variable per size, equal to its score at that
    size and 0 at the others (maximised, so upper bounds suffice).
    """
    p, model = mdl.p, mdl.model
    spans = {k - 1 for g in range(p.n_circles) for k in range(p.min_size[g], p.max_size[g] + 1)}
    per = math.lcm(*(max(d, 1) for d in spans))
    top = sum(abs(c) for row in mdl.score_g for _, c in row) + 1
    terms: list[cp_model.LinearExpr] = []
    for g, row in enumerate(mdl.score_g):
        score = cp_model.LinearExpr.weighted_sum([y for y, _ in row], [c for _, c in row])
        for k, z in mdl.size_choice(g):
            coef = 2 * per // (k - 1) if k > 1 else 0
            if z is None:
                terms.append(coef * score)
                continue
            at_k = model.new_int_var(-top, top, f"s{g}_{k}")
            model.add(at_k <= score).only_enforce_if(z)
            model.add(at_k <= 0).only_enforce_if(z.Not())
            terms.append(coef * at_k)
    return cp_model.LinearExpr.sum(terms), per, 2 * per


def _member_floor(mdl: CircleModel) -> cp_model.IntVar:
    """The worst-off member's mean (scaled), for "maxmin"; a group counts as its average.

    For unit ``u`` of weight ``w`` in circle ``g`` of ``k`` people: its affinity to the
    circle plus twice its own pairs is at least ``floor * w * (k - 1)``.
    """
    p, units, model = mdl.p, mdl.units, mdl.model
    top = sum(abs(c) for row in mdl.score_g for _, c in row) + 1
    floor = model.new_int_var(-top, top, "floor")
    for g in range(p.n_circles):
        sizes = mdl.size_choice(g)
        for u in range(units.size):
            own = 2 * int(mdl.intra_int[u]) * mdl.x[u][g]
            gets = sum(c * y for y, c in mdl.mates[u][g]) + own
            for k, z in sizes:
                need = int(units.weight[u]) * max(k - 1, 1)
                enforce = [mdl.x[u][g]] if z is None else [mdl.x[u][g], z]
                model.add(gets >= need * floor).only_enforce_if(enforce)
    return floor
