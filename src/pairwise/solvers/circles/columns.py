"""Exact circles for small cohorts: every admissible circle is a column (set partitioning).

The assignment model of :mod:`.circles` (a boolean per person and circle, one per pair and
circle for the score) proves optimality only up to about 16 people: its LP bound is weak
and the circles are interchangeable. For small cohorts this module uses the other classic
formulation of grouping problems:

1. **Columns.** Every set of units (people, or keep-together groups, or a mentor's leading
   place) that could form one circle under every hard rule is enumerated, vectorised:
   size within a circle's bounds, nobody kept apart, a common label for every shared rule
   (language, slot, region), every count rule (at most k per chapter, balance, exactly one
   mentor). Its value is its within-circle affinity (for the ``"mean"`` objective, each
   member's mean affinity summed, ``2 S / (k - 1)``). About 760,000 columns for 30 people in
   circles of 4-6, before the rules remove most of them.
2. **Bound.** The LP relaxation of "choose columns that cover every unit once" is solved
   by column generation (HiGHS through SciPy on a few thousand columns, pricing every
   column in NumPy). Its duals give a Lagrangian bound that is valid for any multipliers,
   so it does not rely on the LP's tolerances: ``L + sum(max(r_S, 0))`` with reduced
   values ``r_S``. Set partitioning LPs of grouping problems are tight: usually within a
   fraction of a percent, often exact.
3. **Fixing and CP-SAT.** A column whose best possible solution, ``bound - max(r_S, 0) +
   r_S``, is below the incumbent (the local search's answer) cannot be in a better
   solution, and is removed; usually all but a few hundred go. CP-SAT solves the set
   partitioning model over the rest: optimal there means optimal overall. Where more
   than :data:`KEPT_PER_SECOND` per second of the budget are left (a loose bound), the
   incumbent stands with the bound, unproven: the model would not be built in time.

References
----------
.. [1] E. L. Johnson, A. Mehrotra and G. L. Nemhauser, "Min-cut clustering",
   *Mathematical Programming* 62 (1993) 133-151 (clustering as set partitioning, solved
   by column generation).
.. [2] A. Mehrotra and M. A. Trick, "Cliques and clustering: a combinatorial approach",
   *Operations Research Letters* 22 (1998) 1-12 (set partitioning and column generation
   for clustering with size bounds).
.. [3] L. A. Wolsey, *Integer Programming*, Wiley, 1998, ch. 10 (Lagrangian duality: a
   bound valid for any multipliers) and ch. 11 (column generation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model
from scipy import sparse as sp
from scipy.optimize import linprog

from pairwise.circles import CircleProblem
from pairwise.solvers._cpsat import DETERMINISTIC_SHARE, clock_stopped, make_solver
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.circles.units import Units

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Largest number of candidate unit sets enumerated (before the rules filter them).
MAX_CANDIDATES = 3_000_000
#: Most column-generation rounds of the LP bound.
LP_ROUNDS = 200
#: Candidate circles ``auto`` may list per second of ``time_limit`` / 4 (and sets looked
#: at per planned second of listing); 30 people in circles of 4-6 (764,000 sets) need a
#: limit of 4 s.
COLUMNS_PER_SECOND = 800_000
#: Columns priced per planned second (the LP rounds' reduced values, the fixing).
PRICED_PER_SECOND = 1_000_000
#: Planned seconds of the LP rounds' own overhead, per proof.
PRICING_BASE = 0.05
#: Columns left after the fixing that CP-SAT takes per second of its budget; with more,
#: the incumbent stands with the LP bound (building the model costs about 20,000 columns
#: a second in Python, so the model never takes more than a quarter of the budget).
KEPT_PER_SECOND = 5_000


@dataclass(frozen=True)
class Columns:
    """Admissible circles.

    ``members`` (unit indices, -1 padded), ``value`` (within-circle affinity), ``fits``
    (which circle types, i.e. distinct size bounds, each fits).
    """

    members: IntArray
    value: FloatArray
    fits: BoolArray
    type_bounds: list[tuple[int, int]]
    type_count: IntArray
    examined: int = 0  # unit sets looked at while listing (the listing's work)


@dataclass(frozen=True)
class ExactAnswer:
    """Units' circles (``m`` = not placed), proven optimal or not, a proven bound."""

    g_of: IntArray
    optimal: bool
    bound: float
    columns: int
    kept: int


def _k_range(p: CircleProblem, w: IntArray) -> tuple[int, int]:
    lo, hi = int(p.min_size.min()), int(p.max_size.max())
    return max(1, -(-lo // int(w.max()))), min(hi, len(w))


def candidate_sets(p: CircleProblem, w: IntArray) -> int | None:
    """How many unit sets listing every circle would look at.

    None when listing does not apply (no units, an empty circle allowed) or would look at
    more than :data:`MAX_CANDIDATES`.
    """
    if len(w) == 0 or int(p.min_size.min()) < 1:  # an empty circle is not a column
        return None
    k_lo, k_hi = _k_range(p, w)
    sets = sum(math.comb(len(w), k) for k in range(k_lo, k_hi + 1))
    return sets if sets <= MAX_CANDIDATES else None


def enumerate_columns(p: CircleProblem, units: Units) -> Columns:
    """Every unit set that satisfies every circle rule on its own (see the module doc).

    Grown one unit at a time: each set of ``k`` units extends the sets of ``k - 1`` that
    passed the rules that only get harder with more members (kept apart, a common label,
    the largest size, every count's ceiling), so a rule prunes every superset of a set it
    refuses, never listing them. The columns come in the order of
    ``itertools.combinations`` per size (the extension keeps the lexicographic order).
    """
    U = len(units.weight)
    bounds, count = circle_types(p)
    k_lo, k_hi = _k_range(p, units.weight)
    grow = _Growth(p, units, max(b for _, b in bounds))
    # the sets of the current size that may still grow, with their running totals
    sets = grow.keep(
        _Sets(
            np.arange(U, dtype=np.int64)[:, None],
            units.weight.astype(np.int64).copy(),
            units.intra.astype(np.float64).copy(),
            units.has_label.astype(bool),
            units.count.astype(np.int64).copy(),
        )
    )
    members: list[IntArray] = []
    values: list[FloatArray] = []
    fit_rows: list[BoolArray] = []
    examined = U
    for k in range(1, k_hi + 1):
        if k >= k_lo and len(sets.combo):
            combo, value, fit = grow.columns(sets, bounds)
            padded = np.full((len(combo), k_hi), -1, dtype=np.int64)
            padded[:, :k] = combo
            members.append(padded)
            values.append(value)
            fit_rows.append(fit)
        if k == k_hi or not len(sets.combo):
            break
        examined += int((U - 1 - sets.combo[:, -1]).sum())
        sets = grow.extend(sets)
    return Columns(
        members=np.concatenate(members) if members else np.zeros((0, k_hi), np.int64),
        value=np.concatenate(values) if values else np.zeros(0),
        fits=np.concatenate(fit_rows) if fit_rows else np.zeros((0, len(bounds)), bool),
        type_bounds=bounds,
        type_count=count,
        examined=examined,
    )


def circle_types(p: CircleProblem) -> tuple[list[tuple[int, int]], IntArray]:
    """The distinct (smallest, largest) size bounds of the circles, and circles of each."""
    bounds = sorted({(int(a), int(b)) for a, b in zip(p.min_size, p.max_size, strict=True)})
    count = np.array(
        [int(((p.min_size == a) & (p.max_size == b)).sum()) for a, b in bounds], np.int64
    )
    return bounds, count


def listing_seconds(cols: Columns) -> float:
    """Planned seconds of listing ``cols`` (from the sets looked at, never the clock)."""
    return cols.examined / COLUMNS_PER_SECOND


def pricing_seconds(cols: Columns) -> float:
    """Planned seconds of one proof's LP rounds and fixing over ``cols``."""
    return PRICING_BASE + len(cols.value) / PRICED_PER_SECOND


@dataclass(frozen=True)
class _Sets:
    """Unit sets of one size (rows of ``combo``) with their running totals."""

    combo: IntArray
    weight: IntArray
    value: FloatArray
    common: BoolArray  # labels every member has
    cnt: IntArray  # members per count label


class _Growth:
    """The rules of :func:`enumerate_columns`: which sets may grow, which are columns."""

    def __init__(self, p: CircleProblem, units: Units, high: int) -> None:
        self.p, self.units, self.high = p, units, high
        self.ub = units.has_label.astype(bool)
        self.rules = [np.flatnonzero(units.label_rule == r) for r in range(len(p.shared))]
        self.counted = units.count.shape[1] > 0
        # ceilings prune while growing only where counts never go down with a member
        self.grow_cap = self.counted and bool((units.count >= 0).all())

    def _ok(self, weight: IntArray, common: BoolArray, cnt: IntArray) -> BoolArray:
        ok = weight <= self.high
        for bits in self.rules:
            ok &= common[:, bits].any(axis=1)
        if self.grow_cap:
            ok &= (cnt <= self.units.count_max).all(axis=1)
        return ok

    def keep(self, s: _Sets) -> _Sets:
        """The sets that pass the rules growing cannot repair."""
        ok = self._ok(s.weight, s.common, s.cnt)
        return _Sets(s.combo[ok], s.weight[ok], s.value[ok], s.common[ok], s.cnt[ok])

    def extend(self, s: _Sets) -> _Sets:
        """Every set grown by each unit after its last one (lexicographic order kept)."""
        u = self.units
        last = s.combo[:, -1]
        reps = len(u.weight) - 1 - last
        parent = np.repeat(np.arange(len(s.combo)), reps)
        starts = np.repeat(np.cumsum(reps) - reps, reps)
        j = np.repeat(last + 1, reps) + (np.arange(len(parent)) - starts)
        ok = s.weight[parent] + u.weight[j] <= self.high
        parent, j = parent[ok], j[ok]
        ok = ~u.apart[s.combo[parent], j[:, None]].any(axis=1)
        parent, j = parent[ok], j[ok]
        weight = s.weight[parent] + u.weight[j]
        common = s.common[parent] & self.ub[j]
        cnt = s.cnt[parent] + u.count[j]
        ok = self._ok(weight, common, cnt)
        parent, j = parent[ok], j[ok]
        value = s.value[parent] + u.intra[j] + u.affinity[s.combo[parent], j[:, None]].sum(axis=1)
        combo = np.column_stack([s.combo[parent], j])
        return _Sets(combo, weight[ok], value, common[ok], cnt[ok])

    def columns(
        self, s: _Sets, bounds: list[tuple[int, int]]
    ) -> tuple[IntArray, FloatArray, BoolArray]:
        """The sets that are circles: (members, value, which circle types each fits)."""
        u = self.units
        fit = np.stack([(s.weight >= a) & (s.weight <= b) for a, b in bounds], axis=1)
        ok = fit.any(axis=1)
        if self.counted:
            ok &= (s.cnt <= u.count_max).all(axis=1)
            ok &= ((s.cnt >= u.count_min) | (u.count_or_none & (s.cnt == 0))).all(axis=1)
        value = s.value[ok]
        if self.p.objective == "mean":  # each member's mean summed: 2 S / (people - 1)
            people = s.weight[ok]
            value = np.where(people > 1, 2.0 * value / np.maximum(people - 1, 1), 0.0)
        return s.combo[ok], value, fit[ok]


def _incidence(cols: Columns, idx: IntArray, n_units: int) -> sp.csr_matrix:
    """Unit x (column, type) incidence, types as extra rows."""
    mem = cols.members[idx]
    T = len(cols.type_bounds)
    rows: list[IntArray] = []
    cols_: list[IntArray] = []
    for t in range(T):
        sel = np.flatnonzero(cols.fits[idx, t])
        base = t * len(idx)
        r, c = np.nonzero(mem[sel] >= 0)
        rows.append(mem[sel][r, c])
        cols_.append(base + sel[r])
        rows.append(np.full(len(sel), n_units + t))
        cols_.append(base + sel)
    rr = np.concatenate(rows)
    cc = np.concatenate(cols_)
    data = np.ones(len(rr))
    return sp.csr_matrix((data, (rr, cc)), shape=(n_units + T, T * len(idx)))


def _duals(
    cols: Columns,
    pool: IntArray,
    opt: BoolArray,
    plan: TimePlan,
    timings: dict[str, float] | None = None,
) -> tuple[FloatArray, FloatArray] | None:
    """Column generation for the LP; returns (unit duals, type duals) or None on failure.

    Stops when no column prices out, or after :data:`LP_ROUNDS` rounds: a count, not the
    clock, so the bound and the columns kept are the same on any machine (the clock only
    stops it past the solve's safety net, and says so in ``timings["stopped_by_clock"]``).
    """
    U, T = len(opt), len(cols.type_bounds)
    in_pool = np.zeros(len(cols.value), dtype=bool)
    in_pool[pool] = True
    for _ in range(LP_ROUNDS):
        idx = np.flatnonzero(in_pool)
        A = _incidence(cols, idx, U)
        c = -np.tile(cols.value[idx], T)
        ub_ok = cols.fits[idx].T.ravel()
        eq_rows = np.concatenate([np.flatnonzero(~opt), U + np.arange(T)])
        le_rows = np.flatnonzero(opt)
        b_eq = np.concatenate([np.ones((~opt).sum()), cols.type_count.astype(float)])
        res = linprog(  # type: ignore[call-overload]
            c,
            A_eq=A[eq_rows],
            b_eq=b_eq,
            A_ub=A[le_rows] if len(le_rows) else None,
            b_ub=np.ones(len(le_rows)) if len(le_rows) else None,
            bounds=np.column_stack([np.zeros(len(c)), ub_ok.astype(float)]),
            method="highs",
        )
        if res.status != 0:
            return None
        pi = np.zeros(U + T)
        pi[eq_rows] = -np.asarray(res.eqlin.marginals)
        if len(le_rows):  # "at most once" rows: a multiplier >= 0 keeps the bound valid
            pi[le_rows] = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
        unit_pi, type_mu = pi[:U], pi[U:]
        reduced = _reduced(cols, unit_pi, type_mu)
        best = reduced.max(axis=1)
        tol = 1e-9 * (1.0 + float(np.abs(cols.value).max(initial=0.0)))
        new = np.flatnonzero((best > tol) & ~in_pool)
        if len(new) == 0:
            return unit_pi, type_mu
        if plan.left() <= 0.01:
            _mark_clock(timings)
            return unit_pi, type_mu
        # the most promising columns join the pool
        new = new[np.argsort(-best[new], kind="stable")[: max(200, 20 * U)]]
        in_pool[new] = True
    return unit_pi, type_mu


def _reduced(cols: Columns, unit_pi: FloatArray, type_mu: FloatArray) -> FloatArray:
    """Reduced value of every (column, type); -inf where the column does not fit the type."""
    padded = np.append(unit_pi, 0.0)
    used = padded[cols.members].sum(axis=1)  # -1 pads read the 0 at the end
    r = (cols.value - used)[:, None] - type_mu[None, :]
    return np.where(cols.fits, r, -np.inf)


def listed(p: CircleProblem, units: Units, cache: dict[object, Columns] | None) -> Columns:
    """:func:`enumerate_columns`, listed once per set of circle types in ``cache``.

    A count search solves one cohort at several counts: the admissible circles depend on
    the units and the distinct size bounds only, so the counts share one listing (each
    with its own ``type_count``).
    """
    if cache is None:
        return enumerate_columns(p, units)
    bounds, count = circle_types(p)
    key = tuple(bounds)
    if key not in cache:
        cache[key] = enumerate_columns(p, units)
    return replace(cache[key], type_count=count)


def solve_exact(
    p: CircleProblem,
    units: Units,
    incumbent: IntArray,
    *,
    plan: TimePlan,
    seconds: float,
    seeds: Seeds,
    workers: int | None,
    scale: float,
    deterministic: bool = True,
    cache: dict[object, Columns] | None = None,
    listing_share: float = 1.0,
    timings: dict[str, float] | None = None,
) -> ExactAnswer:
    """Prove ``incumbent`` optimal or find the optimum (see the module docstring).

    ``incumbent`` is a feasible unit assignment (circle per unit, ``m`` = not placed).
    ``seconds`` is this proof's share of the limit: CP-SAT's deterministic budget is
    ``DETERMINISTIC_SHARE`` of what the planned listing (``listing_share`` of it, the
    solves sharing one listing each paying theirs) and pricing leave of it.
    ``cache``: listings shared between the solves of one cohort (:func:`listed`).
    ``timings["stopped_by_clock"]`` is set to 1 when the clock, not the round count or
    the deterministic budget, ended a step (the answer may then differ between runs).
    """
    opt = units.is_place
    U = len(opt)
    cols = listed(p, units, cache)
    planned = listing_share * listing_seconds(cols) + pricing_seconds(cols)
    budget = DETERMINISTIC_SHARE * max(seconds - planned, 0.05 * seconds)
    n_cols = len(cols.value)
    found = _incumbent_columns(cols, incumbent, p.n_circles)
    if found is None:  # cannot happen for a feasible incumbent; never claim a proof then
        return ExactAnswer(incumbent, False, float("inf"), n_cols, 0)
    inc_value, inc_cols = found
    duals = _duals(cols, _start_pool(cols, inc_cols, U), opt, plan, timings)
    if duals is None:
        return ExactAnswer(incumbent, False, float("inf"), n_cols, n_cols)
    bound, keep = _bound_and_fixing(cols, duals, inc_value, inc_cols)
    if bound <= inc_value + 1e-9 * (1.0 + abs(bound)):
        return ExactAnswer(incumbent, True, max(bound, inc_value), n_cols, len(keep))
    if len(keep) > KEPT_PER_SECOND * budget:  # too many to model in the budget: no proof
        return ExactAnswer(incumbent, False, max(bound, inc_value), n_cols, len(keep))
    # CP-SAT on the columns left
    model, xs = _partition_model(p, cols, keep, opt, inc_cols, scale)
    solver = make_solver(plan, budget, seeds, workers, deterministic=deterministic)
    status = solver.solve(model)
    if clock_stopped(solver, status):
        _mark_clock(timings)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactAnswer(incumbent, False, bound, n_cols, len(keep))
    picked = [(j, t) for j, t, x in xs if solver.value(x)]
    g_of = _assign(p, cols, picked, U)
    value = float(sum(cols.value[j] for j, _ in picked))
    slack = p.n_circles * 0.5 / scale
    cp_bound = solver.best_objective_bound / scale + slack
    final_bound = min(bound, max(cp_bound, inc_value))
    if value < inc_value:
        g_of, value = incumbent, inc_value
    optimal = status == cp_model.OPTIMAL
    return ExactAnswer(g_of, optimal, max(final_bound, value), n_cols, len(keep))


def _mark_clock(timings: dict[str, float] | None) -> None:
    if timings is not None:
        timings["stopped_by_clock"] = 1.0


def _start_pool(cols: Columns, inc_cols: IntArray, U: int) -> IntArray:
    """The first LP's columns: the incumbent's, and each unit's best columns."""
    order = np.argsort(-cols.value, kind="stable")
    seen = np.zeros(U, dtype=bool)
    pool = inc_cols.tolist()
    for j in order[: 50 * U].tolist():
        mem = cols.members[j][cols.members[j] >= 0]
        if not seen[mem].all():
            pool.append(j)
            seen[mem] = True
    return np.unique(pool)


def _bound_and_fixing(
    cols: Columns, duals: tuple[FloatArray, FloatArray], inc_value: float, inc_cols: IntArray
) -> tuple[float, IntArray]:
    """The Lagrangian bound of the duals, and the columns that could still improve on it.

    The bound ``L + sum(max(r_S, 0))`` is valid for any multipliers (those of "at most
    once" rows >= 0). Fixing: a column whose best solution, ``bound - max(r_S, 0) + r_S``,
    is below the incumbent cannot improve it; the incumbent's columns always stay.
    """
    unit_pi, type_mu = duals
    reduced = _reduced(cols, unit_pi, type_mu)
    best = reduced.max(axis=1)
    positive = np.maximum(best, 0.0)
    base = float(unit_pi.sum() + type_mu @ cols.type_count)
    bound = base + float(positive.sum())
    tol = 1e-9 * (1.0 + abs(bound))
    with_col = bound - positive + best
    keep = np.flatnonzero(with_col >= inc_value - tol)
    return bound, np.union1d(keep, inc_cols)


def _partition_model(
    p: CircleProblem,
    cols: Columns,
    keep: IntArray,
    opt: BoolArray,
    inc_cols: IntArray,
    scale: float,
) -> tuple[cp_model.CpModel, list[tuple[int, int, cp_model.IntVar]]]:
    """The set-partitioning model over the columns at ``keep``, hinted with the incumbent.

    One boolean per (column, circle type) the column fits; every unit covered once (at
    most once for optional places), each type used by as many circles as it has.
    """
    model = cp_model.CpModel()
    U, T = len(opt), len(cols.type_bounds)
    xs: list[tuple[int, int, cp_model.IntVar]] = []
    by_unit: list[list[cp_model.IntVar]] = [[] for _ in range(U)]
    by_type: list[list[cp_model.IntVar]] = [[] for _ in range(T)]
    obj = []
    for j in keep.tolist():
        mem = cols.members[j][cols.members[j] >= 0]
        for t in np.flatnonzero(cols.fits[j]).tolist():
            x = model.new_bool_var(f"c{j}_{t}")
            xs.append((j, t, x))
            by_type[t].append(x)
            for u in mem.tolist():
                by_unit[u].append(x)
            obj.append((x, int(np.rint(cols.value[j] * scale))))
    for u in range(U):
        if opt[u]:
            model.add_at_most_one(by_unit[u])
        else:
            model.add_exactly_one(by_unit[u])
    for t in range(T):
        model.add(sum(by_type[t]) == int(cols.type_count[t]))
    model.maximize(cp_model.LinearExpr.weighted_sum([x for x, _ in obj], [c for _, c in obj]))
    # the hint: each incumbent circle as a column of its own circle's type
    chosen_inc = {
        (int(j), cols.type_bounds.index((int(p.min_size[g]), int(p.max_size[g]))))
        for g, j in enumerate(inc_cols.tolist())
    }
    for j, t, x in xs:
        model.add_hint(x, (j, t) in chosen_inc)
    return model, xs


def _incumbent_columns(cols: Columns, g_of: IntArray, m: int) -> tuple[float, IntArray] | None:
    """The incumbent's value and the indices of its circles among the columns."""
    width = cols.members.shape[1]
    found = []
    for g in range(m):
        mem = np.flatnonzero(g_of == g)
        if len(mem) > width:
            return None
        key = np.full(width, -1, dtype=np.int64)
        key[: len(mem)] = mem
        hit = np.flatnonzero((cols.members == key).all(axis=1))
        if len(hit) == 0:
            return None
        found.append(int(hit[0]))
    idx = np.array(found, dtype=np.int64)
    return float(cols.value[idx].sum()), idx


def _assign(p: CircleProblem, cols: Columns, picked: list[tuple[int, int]], U: int) -> IntArray:
    """Chosen columns to circle numbers: each type's circles in order, columns sorted."""
    m = p.n_circles
    g_of = np.full(U, m, dtype=np.int64)
    for t, (a, b) in enumerate(cols.type_bounds):
        circles = np.flatnonzero((p.min_size == a) & (p.max_size == b)).tolist()
        mine = sorted(
            (cols.members[j][cols.members[j] >= 0].tolist() for j, tt in picked if tt == t)
        )
        for g, mem in zip(circles, mine, strict=True):
            g_of[mem] = g
    return g_of
