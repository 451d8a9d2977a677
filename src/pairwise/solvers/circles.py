"""Solving circle problems: an exact CP-SAT model and a compiled iterated tabu search.

``cpsat`` states every hard rule of a :class:`~pairwise.circles.CircleProblem` in one
model (assignment booleans, a "same circle" boolean per pair with non-zero affinity, one
chosen label per circle and shared rule, count bounds) and proves optimality for small
cohorts. On infeasible rules it returns a small conflicting set of rules from assumption
literals.

``local`` is the iterated tabu search of :mod:`.circles_search` (moves and swaps with
incremental evaluation): it starts from a greedy placement repaired until every rule holds
(CP-SAT finds the start when the repair cannot) and improves until its work budget or the
time limit is spent.

``auto``: when every admissible circle can be listed within the limit (total objective,
see :data:`COLUMNS_PER_SECOND`), the local search runs for a quarter of the time (at most a
second) and :mod:`.circles_exact` proves its answer optimal or finds the optimum
(``local+exact``: set-partitioning LP bound, reduced-cost fixing, CP-SAT over the columns
left). Otherwise, up to :data:`EXACT_UP_TO` people, the local search's answer is the hint of
the CP-SAT model (``local+cpsat``), which proves it optimal or improves it; above, ``local``.
CP-SAT stops on deterministic time planned from the caller's limit (the clock as a safety
net), so its answers are reproducible too.

Bounds: every result carries a proven upper bound. For each person, the best her circle
can give her is her ``min_size - 1`` best partners plus the positive part of the next
``max_size - min_size`` (kept-apart people excluded); half the sum over people bounds the
total. CP-SAT's own bound replaces it when CP-SAT ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from pairwise.circles import CircleProblem
from pairwise.errors import InfeasibleError, SolverError
from pairwise.solvers import circles_exact
from pairwise.solvers.cpsat import _solver
from pairwise.solvers.flow import integer_scale

__all__ = ["EVALS_PER_SECOND", "EXACT_UP_TO", "CirclesAnswer", "compile_kernels", "solve_circles"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: ``auto`` proves optimality with CP-SAT up to this many people.
EXACT_UP_TO = 30
#: Candidate circles ``auto`` may list per second of ``time_limit`` / 4 (see
#: :mod:`.circles_exact`); 30 people in circles of 4-6 (764,000 sets) need a limit of 4 s.
COLUMNS_PER_SECOND = 800_000
#: Work budget of the local search per second of ``time_limit`` (neighbour evaluations).
#: Calibrated so that on a 2-core 2020s machine the budget, not the clock, ends the search;
#: then the result depends only on the input and the seed.
EVALS_PER_SECOND = 40_000_000
#: CP-SAT stops on deterministic time (reproducible); ``False``: on the clock only.
CPSAT_DETERMINISTIC = True
_CHUNK = 2_000_000
_STARTS = 20  # greedy starts tried before CP-SAT looks for a first feasible answer
# search settings: stall (iterations without a new best before a perturbation, per unit),
# tabu tenure and perturbation strength ranges (per mille of units), and the neighbour
# units scanned per tabu iteration, ``sample / units**2`` (all of them up to ~240 units, a
# short rotating candidate list for large cohorts, where more, cheaper iterations win)
_TUNING = {"stall": 16, "tenure": 100, "strength": 250, "sample": 14_000_000}
DEFAULT_TIME_LIMIT = 10.0


@dataclass(frozen=True)
class Units:
    """The problem in units (see :mod:`.circles_search`)."""

    members: list[list[int]]
    D: FloatArray
    intra: FloatArray
    w: IntArray
    opt: npt.NDArray[np.bool_]
    apart: npt.NDArray[np.bool_]
    ub: npt.NDArray[np.int64]
    bit_rule: IntArray
    bit_names: list[tuple[int, str]]  # (rule index, label)
    uc: npt.NDArray[np.int64]
    clo: IntArray
    chi: IntArray
    corn: npt.NDArray[np.bool_]
    cat_names: list[str]

    @property
    def size(self) -> int:
        """Number of units."""
        return len(self.members)


@dataclass(frozen=True)
class CirclesAnswer:
    """(circle, person) rows, status, bound and phase timings."""

    rows: IntArray
    optimal: bool
    bound: float
    method: str
    timings: dict[str, float]


def _csr(mask: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    counts = mask.sum(axis=1)
    ptr = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    idx = np.nonzero(mask)[1].astype(np.int64)
    return ptr, idx


def build_units(p: CircleProblem) -> Units:
    """Contract keep-together groups, add leading places, aggregate every rule per unit."""
    n, m = p.n, p.n_circles
    leads = {int(j): int(k) for j, k in zip(p.leaders, p.leads, strict=True)}
    in_group = {i for g in p.together for i in g}
    members: list[list[int]] = [list(g) for g in p.together]
    opt: list[bool] = [False] * len(members)
    for i in range(n):
        if i in in_group:
            continue
        if i in leads:
            for _ in range(leads[i]):
                members.append([i])
                opt.append(True)
        elif p.mentor_led and i not in leads and _is_mentor(p, i):
            continue  # a mentor who may not lead is in no circle
        else:
            members.append([i])
            opt.append(False)
    U = len(members)
    S = np.zeros((n, U), dtype=np.float64)
    for u, ms in enumerate(members):
        S[ms, u] = 1.0
    full = S.T @ p.affinity @ S
    intra = np.diag(full).copy() / 2
    D = full.copy()
    np.fill_diagonal(D, 0.0)
    ap = (S.T @ p.apart.astype(np.float64) @ S) > 0
    same_person = (S.T @ S) > 0  # leading places of one mentor
    ap |= same_person
    np.fill_diagonal(ap, False)
    w = np.array([len(ms) for ms in members], dtype=np.int64)
    # shared labels: a unit has a label when all its members do
    ub_blocks: list[npt.NDArray[np.int64]] = []
    bit_rule: list[int] = []
    bit_names: list[tuple[int, str]] = []
    for r, rule in enumerate(p.shared):
        mem = rule.member.astype(np.int64)
        have = (S.T @ mem) == w[:, None]
        ub_blocks.append(have.astype(np.int64))
        bit_rule.extend([r] * mem.shape[1])
        bit_names.extend((r, lab) for lab in rule.labels)
    ub = np.concatenate(ub_blocks, axis=1) if ub_blocks else np.zeros((U, 0), np.int64)
    # counts: only the labels whose bounds can bind
    uc_blocks: list[npt.NDArray[np.int64]] = []
    clo: list[int] = []
    chi: list[int] = []
    corn: list[bool] = []
    cat_names: list[str] = []
    big = int(p.max_size.max()) + 1
    for count in p.counts:
        cnt = np.rint(S.T @ count.member.astype(np.float64)).astype(np.int64)
        hi = big if count.at_most is None else int(count.at_most)
        for k, lab in enumerate(count.labels):
            if count.at_least == 0 and hi >= big:
                continue
            if not cnt[:, k].any() and (count.at_least == 0 or count.or_none):
                continue
            uc_blocks.append(cnt[:, k : k + 1])
            clo.append(int(count.at_least))
            chi.append(hi)
            corn.append(bool(count.or_none))
            cat_names.append(f"{count.name}: {lab}")
    if p.mentor_led:
        lead_cnt = np.array([sum(1 for i in ms if i in leads) for ms in members], np.int64)
        uc_blocks.append(lead_cnt[:, None])
        clo.append(1)
        chi.append(1)
        corn.append(False)
        cat_names.append("one mentor per circle")
    uc = np.concatenate(uc_blocks, axis=1) if uc_blocks else np.zeros((U, 0), np.int64)
    del m
    return Units(
        members=members,
        D=np.ascontiguousarray(D),
        intra=intra,
        w=w,
        opt=np.array(opt, dtype=bool),
        apart=np.ascontiguousarray(ap),
        ub=np.ascontiguousarray(ub),
        bit_rule=np.array(bit_rule, dtype=np.int64),
        bit_names=bit_names,
        uc=np.ascontiguousarray(uc),
        clo=np.array(clo, dtype=np.int64),
        chi=np.array(chi, dtype=np.int64),
        corn=np.array(corn, dtype=bool),
        cat_names=cat_names,
    )


def _is_mentor(p: CircleProblem, i: int) -> bool:
    return p.compat is not None and p.compat.mentees.role[i] == "mentor"


def diagnose(p: CircleProblem, units: Units) -> list[str]:
    """Conflicts that make the rules impossible, found by counting (empty if none found)."""
    out: list[str] = []
    m = p.n_circles
    lo_sum, hi_sum = int(p.min_size.sum()), int(p.max_size.sum())
    ids = p.ids
    grouped = _grouped_leaders(p, units)
    placed = int(units.w[~units.opt].sum()) - grouped  # members besides leaders
    if p.mentor_led:
        places = int(p.leads.sum())
        if places < m:
            out.append(f"{m} circles need a mentor each, but the mentors can lead {places}")
        lo_m, hi_m = lo_sum - m, hi_sum - m
        if not lo_m <= placed <= hi_m:
            out.append(
                f"{placed} members besides mentors, but sizes {int(p.min_size.min())}-"
                f"{int(p.max_size.max())} with {m} mentor-led circles allow {lo_m}-{hi_m}"
            )
    elif not lo_sum <= placed <= hi_sum:
        out.append(
            f"{placed} people but sizes {int(p.min_size.min())}-{int(p.max_size.max())} "
            f"with {m} circles allow {lo_sum}-{hi_sum}"
        )
    biggest = int(p.max_size.max())
    usable = 0  # leading places that every rule lets lead a circle
    for u, ms in enumerate(units.members):
        who = ", ".join(str(ids[i]) for i in ms[:6]) + (" ..." if len(ms) > 6 else "")
        if units.opt[u]:
            # a leading place may stay unused: it only counts if it can be used
            labelled = all(units.ub[u, units.bit_rule == r].any() for r in range(len(p.shared)))
            usable += int(labelled and bool((units.uc[u] <= units.chi).all()))
            continue
        if units.w[u] > biggest:
            out.append(
                f"keep-together group of {units.w[u]} ({who}) is larger than the largest "
                f"circle ({biggest})"
            )
        if len(ms) > 1:
            sub = p.apart[np.ix_(ms, ms)]
            if sub.any():
                a, b = np.argwhere(sub)[0]
                rules = [k for k, f in p.removed_by.items() if f[ms[a], ms[b]]] or ["keep apart"]
                out.append(
                    f"{ids[ms[a]]} and {ids[ms[b]]} must share a circle (keep together) but "
                    f"{', '.join(rules)} keeps them apart"
                )
        for r, rule in enumerate(p.shared):
            bits = units.bit_rule == r
            if not units.ub[u, bits].any():
                what = "has no" if len(ms) == 1 else "have no common"
                out.append(f"{who} {what} {_label_word(rule.name)} ({rule.name})")
        for c, name in enumerate(units.cat_names):
            if units.uc[u, c] > units.chi[c]:
                out.append(f"keep-together group {who} breaks '{name}' on its own")
    if p.mentor_led and usable + grouped < m and int(p.leads.sum()) >= m:
        out.append(
            f"{m} circles need a mentor each, but only {usable + grouped} leading places fit every "
            f"circle rule ({', '.join(r.name for r in p.shared) or 'counts'})"
        )
    for c, name in enumerate(units.cat_names):
        if units.clo[c] > 0 and not units.corn[c] and name != "one mentor per circle":
            # members count fully; of the leading places at most m are used
            lead = np.sort(units.uc[units.opt, c])[::-1][:m]
            have = int(units.uc[~units.opt, c].sum()) + int(lead.sum())
            need = int(units.clo[c]) * m
            if have < need:
                out.append(
                    f"'{name}' asks {units.clo[c]} in each of {m} circles ({need}), "
                    f"the cohort has {have}"
                )
    return out


def _grouped_leaders(p: CircleProblem, units: Units) -> int:
    """Leaders inside keep-together groups (they fill a circle's leading place)."""
    leaders = set(p.leaders.tolist())
    return sum(
        1 for u, ms in enumerate(units.members) if not units.opt[u] for i in ms if i in leaders
    )


def _label_word(name: str) -> str:
    return {"shared language": "language", "shared slot": "weekly slot"}.get(name, "label")


def simple_bound(p: CircleProblem, units: Units) -> float:
    """Half the sum over units of the best their circle can give them (see module docs)."""
    U = units.size
    lo, hi = int(p.min_size.min()), int(p.max_size.max())
    D = np.where(units.apart, -np.inf, units.D)
    total = 0.0
    for u in range(U):
        row = np.delete(D[u], u)
        row = np.sort(row[np.isfinite(row)])[::-1]
        room = hi - int(units.w[u])
        need = max(0, lo - int(units.w[u]))
        # units weigh >= 1, so at most ``room`` others share her circle, at least ... may
        # weigh more than one; the floor is only safe for single-person units
        forced = row[:need].sum() if need and units.w.max() == 1 else 0.0
        rest = row[need if forced else 0 : room]
        gain = forced + rest[rest > 0].sum()
        if units.opt[u]:
            gain = max(gain, 0.0)
        total += gain + 2 * float(units.intra[u])
    return 0.5 * total


# --------------------------------------------------------------------------- CP-SAT


class _Model:
    """The exact model on units; ``fixed`` pins units to circles (LNS, hints)."""

    def __init__(
        self, p: CircleProblem, units: Units, assumptions: bool, objective: bool = True
    ) -> None:
        m, U = p.n_circles, units.size
        self.p, self.units = p, units
        model = cp_model.CpModel()
        self.model = model
        self.lits: list[cp_model.IntVar] = []
        self.names: dict[int, str] = {}
        self.x = [[model.new_bool_var(f"x{u}_{g}") for g in range(m)] for u in range(U)]

        def lit(name: str) -> cp_model.IntVar | None:
            if not assumptions:
                return None
            if name in self._by_name:
                return self._by_name[name]
            v = model.new_bool_var(name)
            self.names[v.index] = name
            self.lits.append(v)
            self._by_name[name] = v
            return v

        self._by_name: dict[str, cp_model.IntVar] = {}

        def add(ct: cp_model.Constraint, name: str) -> None:
            v = lit(name)
            if v is not None:
                ct.only_enforce_if(v)

        for u in range(U):
            if units.opt[u]:
                model.add(sum(self.x[u]) <= 1)
            else:
                model.add_exactly_one(self.x[u])
        for g in range(m):
            size = sum(int(units.w[u]) * self.x[u][g] for u in range(U))
            add(model.add(size >= int(p.min_size[g])), "circle sizes")
            add(model.add(size <= int(p.max_size[g])), "circle sizes")
        ids = p.ids
        for u, v in np.argwhere(np.triu(units.apart, 1)).tolist():
            names = _apart_names(p, units, u, v)
            for g in range(m):
                add(model.add_bool_or([self.x[u][g].Not(), self.x[v][g].Not()]), names)
        for r, rule in enumerate(p.shared):
            bits = np.flatnonzero(units.bit_rule == r)
            for g in range(m):
                s = [model.new_bool_var(f"s{r}_{g}_{b}") for b in bits]
                model.add_exactly_one(s)
                for u in range(U):
                    for k, b in enumerate(bits):
                        if not units.ub[u, b]:
                            add(model.add_implication(self.x[u][g], s[k].Not()), rule.name)
        for c, name in enumerate(units.cat_names):
            who = np.flatnonzero(units.uc[:, c])
            for g in range(m):
                cnt = sum(int(units.uc[u, c]) * self.x[u][g] for u in who)
                add(model.add(cnt <= int(units.chi[c])), name.split(":")[0])
                if units.clo[c] > 0:
                    if units.corn[c]:
                        e = model.new_bool_var(f"e{c}_{g}")
                        add(model.add(cnt >= int(units.clo[c])).only_enforce_if(e), name)
                        model.add(cnt == 0).only_enforce_if(e.Not())
                    else:
                        add(model.add(cnt >= int(units.clo[c])), name.split(":")[0])
        # objective: a "same circle" boolean per pair with non-zero affinity
        self.scale = _unit_scale(units)
        terms, coefs = [], []
        self.score_g: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in range(m)]
        star: list[list[list[tuple[cp_model.IntVar, int]]]] = [
            [[] for _ in range(m)] for _ in range(U)
        ]
        scored = np.triu(units.D != 0, 1) & ~np.triu(units.apart, 1)
        if not objective:  # a first feasible answer: no pair variables, no cuts
            scored[:] = False
        for u, v in np.argwhere(scored).tolist():
            c = int(np.rint(units.D[u, v] * self.scale))
            if c == 0:
                continue
            for g in range(m):
                y = model.new_bool_var(f"y{u}_{v}_{g}")
                if c > 0:
                    model.add_implication(y, self.x[u][g])
                    model.add_implication(y, self.x[v][g])
                else:
                    model.add_bool_or([self.x[u][g].Not(), self.x[v][g].Not(), y])
                terms.append(y)
                coefs.append(c)
                self.score_g[g].append((y, c))
                star[u][g].append((y, int(units.w[v])))
                star[v][g].append((y, int(units.w[u])))
        # star cuts: the partners of u in circle g fit in the room g leaves her; valid for
        # every integer solution, and they make the LP bound about the per-person bound
        for u in range(U):
            for g in range(m):
                if star[u][g]:
                    room = int(p.max_size[g]) - int(units.w[u])
                    load = cp_model.LinearExpr.weighted_sum(
                        [y for y, _ in star[u][g]], [k for _, k in star[u][g]]
                    )
                    model.add(load <= room * self.x[u][g])
        self.intra_int = np.rint(units.intra * self.scale).astype(np.int64)
        if not objective:
            self.intra_int[:] = 0
        for u in range(U):
            if self.intra_int[u] and units.opt[u]:
                for g in range(m):
                    terms.append(self.x[u][g])
                    coefs.append(int(self.intra_int[u]))
                    self.score_g[g].append((self.x[u][g], int(self.intra_int[u])))
            elif self.intra_int[u]:
                for g in range(m):
                    self.score_g[g].append((self.x[u][g], int(self.intra_int[u])))
        self.n_pairs = len(terms)
        self.constant = int(self.intra_int[~units.opt].sum())
        self.total = cp_model.LinearExpr.weighted_sum(terms, coefs)
        # circles are interchangeable when their bounds are: order them by smallest member
        for g in range(m - 1):
            if p.min_size[g] == p.min_size[g + 1] and p.max_size[g] == p.max_size[g + 1]:
                for u in range(U):
                    if units.opt[u]:
                        continue
                    earlier = [self.x[v][g] for v in range(u) if not units.opt[v]]
                    model.add_bool_or([self.x[u][g + 1].Not(), *earlier])
        del ids

    def hint(self, g_of: IntArray) -> None:
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        m = self.p.n_circles
        for u, g in enumerate(g_of.tolist()):
            for h in range(m):
                self.model.add_hint(self.x[u][h], h == g)

    def g_of(self, solver: cp_model.CpSolver) -> IntArray:
        m = self.p.n_circles
        out = np.full(self.units.size, m, dtype=np.int64)
        for u, row in enumerate(self.x):
            for g, var in enumerate(row):
                if solver.value(var):
                    out[u] = g
        return out


def _unit_scale(units: Units) -> float:
    """Integer units per unit of affinity for CP-SAT objectives (both exact models)."""
    return integer_scale(float(np.abs(units.D).max(initial=0.0)) or 1.0)


def _circle_solver(limit: float, det: float, seed: int, workers: int | None) -> cp_model.CpSolver:
    """CP-SAT stopping on deterministic time ``det``, the clock (``limit``) as a safety net.

    ``det`` must come from the caller's time limit only, never from the clock, so that the
    answer depends on the input and the seed alone.
    """
    solver = _solver(None, seed, workers)
    if CPSAT_DETERMINISTIC:
        solver.parameters.max_deterministic_time = max(det, 0.01)
    solver.parameters.max_time_in_seconds = max(limit, 0.01)
    return solver


def _apart_names(p: CircleProblem, units: Units, u: int, v: int) -> str:
    for i in units.members[u]:
        for j in units.members[v]:
            names = [k for k, f in p.removed_by.items() if f[i, j]]
            if names:
                return names[0]
    return "one mentor per circle" if units.opt[u] and units.opt[v] else "keep apart"


def _cpsat(
    p: CircleProblem,
    units: Units,
    *,
    time_limit: float,
    plan: float,
    seed: int,
    workers: int | None,
    hint: IntArray | None = None,
    feasibility_only: bool = False,
) -> tuple[IntArray, bool, float]:
    """Solve the model; returns (units' circles, proven optimal, integer-scaled bound).

    ``time_limit`` is the clock left; ``plan`` the seconds planned from the caller's limit,
    of which 0.8 become CP-SAT's deterministic time.
    """
    mdl = _Model(p, units, assumptions=True, objective=not feasibility_only)
    model = mdl.model
    model.add_assumptions(mdl.lits)
    if hint is not None:
        mdl.hint(hint)
    floor = None
    if not feasibility_only:
        if p.objective == "maxmin":
            scores = [sum(c * y for y, c in row) for row in mdl.score_g]
            top = sum(abs(c) for row in mdl.score_g for _, c in row) + 1
            floor = model.new_int_var(-top, top, "floor")
            for s in scores:
                model.add(floor <= s)
            model.maximize(floor)
        else:
            model.maximize(mdl.total)
    solver = _circle_solver(time_limit, 0.8 * plan, seed, workers)
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        core = solver.sufficient_assumptions_for_infeasibility()
        names = sorted({mdl.names[v] for v in core if v in mdl.names})
        raise InfeasibleError(
            ["these circle rules cannot all hold together: " + "; ".join(names[:20])]
            if names
            else ["the circle rules cannot all hold"]
        )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError("no circles satisfying every rule were found within the time limit")
    g_of = mdl.g_of(solver)
    if feasibility_only:
        return g_of, False, float("inf")
    optimal = status == cp_model.OPTIMAL
    if floor is not None:
        # second phase: the best total with the worst circle at its maximum
        value = int(solver.value(floor))
        model.add(floor >= value)
        model.maximize(mdl.total)
        mdl.hint(g_of)
        det = 0.8 * plan - solver.response_proto.deterministic_time
        solver2 = _circle_solver(time_limit - solver.wall_time, det, seed, workers)
        status2 = solver2.solve(model)
        if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            g_of = mdl.g_of(solver2)
            optimal = optimal and status2 == cp_model.OPTIMAL
            bound = (solver2.best_objective_bound + mdl.constant) / mdl.scale
        else:
            bound = float("inf")
    else:
        bound = (solver.best_objective_bound + mdl.constant) / mdl.scale
    slack = (mdl.n_pairs + units.size) * 0.5 / mdl.scale
    return g_of, optimal, bound + slack


# --------------------------------------------------------------------------- driver


def _unit_objective(units: Units, g_of: IntArray, m: int) -> float:
    real = g_of < m
    same = (g_of[:, None] == g_of[None, :]) & real[:, None] & real[None, :]
    return float(np.triu(units.D * same, 1).sum() + units.intra[real].sum())


def _kernel_args(p: CircleProblem, u: Units) -> dict[str, object]:
    ap_ptr, ap_idx = _csr(u.apart)
    ubp, ubi = _csr(u.ub > 0)
    ucp, uci = _csr(u.uc > 0)
    return dict(
        D=u.D,
        intra=u.intra,
        w=u.w,
        opt=u.opt,
        m=p.n_circles,
        lo=p.min_size.astype(np.int64),
        hi=p.max_size.astype(np.int64),
        apart=u.apart,
        ap_ptr=ap_ptr,
        ap_idx=ap_idx,
        ub=u.ub,
        ubp=ubp,
        ubi=ubi,
        bit_rule=u.bit_rule,
        n_rules=len(p.shared),
        uc=u.uc,
        ucp=ucp,
        uci=uci,
        clo=u.clo,
        chi=u.chi,
        corn=u.corn,
    )


def solve_circles(
    p: CircleProblem,
    *,
    method: Literal["auto", "cpsat", "local"] = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> CirclesAnswer:
    """Solve a circle problem; see the module docstring.

    ``progress``, when given, is called during the local search with ``elapsed`` seconds,
    the best ``objective`` so far and the proven ``bound``.
    """
    # the compiled kernels load (or, once per installation, compile) outside the limit
    compile_s = compile_kernels() if method != "cpsat" else 0.0
    t0 = time.perf_counter()
    limit = DEFAULT_TIME_LIMIT if time_limit is None else float(time_limit)
    units = build_units(p)
    conflicts = diagnose(p, units)
    if conflicts:
        raise InfeasibleError(conflicts)
    m = p.n_circles
    bound = simple_bound(p, units)
    timings: dict[str, float] = {"prepare": time.perf_counter() - t0}
    if compile_s:
        timings["compile"] = compile_s
    chosen: str = method
    optimal = False
    if method == "cpsat":
        left = limit - (time.perf_counter() - t0)
        g_of, optimal, cp_bound = _cpsat(
            p, units, time_limit=left, plan=limit, seed=seed, workers=workers
        )
        bound = min(bound, cp_bound)
        timings["cpsat"] = time.perf_counter() - t0 - timings["prepare"]
    elif method == "auto" and _columns_fit(p, units, limit):
        # small enough to list every admissible circle: the local search's answer, then a
        # proof (or the optimum) from the set-partitioning LP and CP-SAT over its columns
        chosen = "local+exact"
        first = min(limit / 4, 1.0)
        g_local = _local(p, units, first, t0, seed, workers, timings, progress, bound)
        t1 = time.perf_counter()
        exact = circles_exact.solve_exact(
            p,
            units,
            g_local,
            time_limit=limit - (t1 - t0),
            plan=limit - first,
            seed=seed,
            workers=workers,
            scale=_unit_scale(units),
        )
        g_of, optimal = exact.g_of, exact.optimal
        bound = min(bound, exact.bound)
        timings["exact"] = time.perf_counter() - t1
        timings["columns"] = float(exact.columns)
        timings["columns_kept"] = float(exact.kept)
    elif method == "local" or p.n > EXACT_UP_TO:
        chosen = "local"
        g_of = _local(p, units, limit, t0, seed, workers, timings, progress, bound)
    else:
        # small: the local search's answer (a quarter of the time) is CP-SAT's hint and floor
        chosen = "local+cpsat"
        first = min(limit / 4, 1.0)
        g_local = _local(p, units, first, t0, seed, workers, timings, progress, bound)
        t1 = time.perf_counter()
        g_of, optimal = g_local, False
        try:
            g_cp, cp_optimal, cp_bound = _cpsat(
                p,
                units,
                time_limit=limit - (t1 - t0),
                plan=limit - first,
                seed=seed,
                workers=workers,
                hint=g_local,
            )
        except SolverError:
            pass  # no better answer in time: the local search's stands (feasible)
        else:
            bound = min(bound, cp_bound)
            if _key(p, units, g_cp) >= _key(p, units, g_local):
                g_of, optimal = g_cp, cp_optimal
        timings["cpsat"] = time.perf_counter() - t1
    rows = [(int(g), i) for u, g in enumerate(g_of.tolist()) if g < m for i in units.members[u]]
    arr = np.array(sorted(rows), dtype=np.int64).reshape(-1, 2)
    timings["solve"] = time.perf_counter() - t0
    if p.objective == "maxmin" and not optimal:
        bound = _maxmin_bound(p, units, bound)
    return CirclesAnswer(rows=arr, optimal=optimal, bound=bound, method=chosen, timings=timings)


def _columns_fit(p: CircleProblem, units: Units, limit: float) -> bool:
    """Whether ``auto`` lists every admissible circle (total objective, few enough sets).

    Decided from the problem and the planned limit only (never the clock), so the choice
    is reproducible: listing runs at about a million candidate sets per second here.
    """
    if p.objective != "total":
        return False
    sets = circles_exact.candidate_sets(p, units.w)
    return sets is not None and sets <= COLUMNS_PER_SECOND * limit / 4


def _key(p: CircleProblem, units: Units, g_of: IntArray) -> tuple[float, float]:
    """(worst circle for maxmin else 0, total) of a unit assignment."""
    cs = _circle_scores(units, g_of, p.n_circles)
    return (float(cs.min()) if p.objective == "maxmin" else 0.0, float(cs.sum()))


def _local(
    p: CircleProblem,
    units: Units,
    limit: float,
    t0: float,
    seed: int,
    workers: int | None,
    timings: dict[str, float],
    progress: Callable[[dict[str, float]], None] | None = None,
    bound: float = float("inf"),
    clock: bool = True,
    budget: int | None = None,
) -> IntArray:
    """Greedy start (CP-SAT if the repair fails), then the iterated tabu search.

    ``clock=False`` ignores the clock and ``budget`` replaces the work budget of
    :data:`EVALS_PER_SECOND` x ``limit`` (for warming up).
    """
    from pairwise.solvers import circles_search as ks

    m = p.n_circles
    args = _kernel_args(p, units)
    budget = int(EVALS_PER_SECOND * limit) if budget is None else budget
    flex, target = _flexibility(units), _planned_sizes(p, units)
    used = 0
    # greedy starts from several random orders: cheap, and one usually fits every rule
    for attempt in range(_STARTS):
        rng = np.random.default_rng([seed, attempt])
        order = rng.permutation(units.size).astype(np.int64)
        # places of mentors first, first place of each mentor before second places
        order = order[np.argsort(~units.opt[order], kind="stable")]
        g_of = np.full(units.size, m, dtype=np.int64)
        viol, work = ks.construct(
            g_of,
            order,
            seed=int(seed) + attempt,
            budget=max(budget // (4 * _STARTS), 1),
            flex=flex,
            target=target,
            **args,
        )
        used += int(work)
        if viol == 0 or used > budget // 4:
            break
    t1 = time.perf_counter()
    timings["construct"] = t1 - t0 - timings["prepare"]
    if viol > 0:
        g_of, _, _ = _cpsat(
            p,
            units,
            time_limit=limit - (t1 - t0),
            plan=limit,
            seed=seed,
            workers=workers,
            feasibility_only=True,
        )
        timings["cpsat_start"] = time.perf_counter() - t1
    timings["first_feasible"] = time.perf_counter() - t0
    mode = 1 if p.objective == "maxmin" else 0
    stall = max(200, int(_TUNING["stall"] * units.size))
    remaining = max(0, budget - int(used))
    deadline = t0 + limit if clock else float("inf")
    sample = max(8, int(_TUNING["sample"]) // units.size**2)
    start_g = g_of

    def run(k: int) -> tuple[tuple[float, float], IntArray, int, bool]:
        """One search from the start (seed ``seed + k``); (key, best, evaluations, clock)."""
        g = start_g.copy()
        best_g = g.copy()
        tabu = np.zeros((units.size, m + 1), dtype=np.int64)
        ctr = np.array(
            [0, 0, int(seed) + 1 + 7919 * k, stall, 0, _TUNING["tenure"], _TUNING["strength"]],
            dtype=np.int64,
        )
        cs = _circle_scores(units, g, m)
        fbest = np.array([cs.min() if mode == 1 else 0.0, cs.sum()], dtype=np.float64)
        left = remaining
        while left > 0 and time.perf_counter() < deadline:
            chunk = min(_CHUNK, left)
            done = ks.search(
                g,
                best_g,
                mode=mode,
                tabu=tabu,
                ctr=ctr,
                fbest=fbest,
                budget=chunk,
                sample=sample,
                **args,
            )
            left -= max(int(done), chunk)
            if progress is not None and k == 0:
                elapsed = time.perf_counter() - t0
                progress({"elapsed": elapsed, "objective": float(fbest[1]), "bound": bound})
            if done == 0:
                break
        return (float(fbest[0]), float(fbest[1])), best_g, int(ctr[4]), left > 0

    threads = max(1, int(workers or 1))
    if threads == 1:
        found = [run(0)]
    else:
        # independent searches on the cores (the kernels release the GIL); the best wins,
        # ties to the lowest index, so the answer stays the seed's alone
        with ThreadPoolExecutor(threads) as pool:
            found = list(pool.map(run, range(threads)))
    winner = max(range(len(found)), key=lambda k: (found[k][0], -k))
    timings["search"] = time.perf_counter() - t0 - timings["first_feasible"]
    timings["evaluations"] = float(sum(f[2] for f in found))
    timings["stopped_by_clock"] = float(any(f[3] for f in found))
    return found[winner][1]


_compiled: list[float] = []


def compile_kernels() -> float:
    """Load the local search's compiled kernels, compiling them on first use; seconds taken.

    Numba caches the machine code on disk, so the compilation (several seconds) happens once
    per installation, and loading takes a fraction of a second once per process. ``solve``
    calls this before its clock starts, so the time limit is the search's alone.
    """
    if _compiled:
        return 0.0
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    a = rng.random((8, 8))
    tiny = CircleProblem.from_affinity(a + a.T, n_circles=2, min_size=4, max_size=4)
    tiny_units = build_units(tiny)
    _local(tiny, tiny_units, 1e-4, t0, 0, 1, {"prepare": 0.0}, clock=False, budget=20_000)
    _compiled.append(time.perf_counter() - t0)
    return _compiled[0]


def _flexibility(units: Units) -> FloatArray:
    """How many ways a unit can fit: its shared labels, then its share of allowed partners."""
    labels = units.ub.sum(axis=1).astype(np.float64)
    partners = 1.0 - units.apart.sum(axis=1) / max(units.size, 1)
    return np.asarray(labels + partners, dtype=np.float64)


def _planned_sizes(p: CircleProblem, units: Units) -> IntArray:
    """Circle sizes between the bounds that add up to everyone placed (as even as possible)."""
    # everyone who must be placed, plus a leading place for the circles no grouped leader fills
    grouped = _grouped_leaders(p, units)
    total = int(units.w[~units.opt].sum()) + (p.n_circles - grouped if p.mentor_led else 0)
    target = p.min_size.astype(np.int64).copy()
    left = total - int(target.sum())
    while left > 0:
        room = np.flatnonzero(target < p.max_size)
        if len(room) == 0:
            break
        order = room[np.argsort(target[room], kind="stable")]
        for g in order[:left]:
            target[g] += 1
        left = total - int(target.sum())
    return target


def _circle_scores(units: Units, g_of: IntArray, m: int) -> FloatArray:
    out = np.zeros(m)
    for g in range(m):
        idx = np.flatnonzero(g_of == g)
        out[g] = units.D[np.ix_(idx, idx)].sum() / 2 + units.intra[idx].sum()
    return out


def _maxmin_bound(p: CircleProblem, units: Units, total_bound: float) -> float:
    """For maxmin the reported objective is the total; the total bound still holds."""
    return total_bound
