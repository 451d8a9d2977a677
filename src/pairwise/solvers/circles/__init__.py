"""Solving circle problems: an exact CP-SAT model and a compiled iterated tabu search.

``cpsat`` states every hard rule of a :class:`~pairwise.circles.CircleProblem` in one
model (assignment booleans, a "same circle" boolean per pair with non-zero affinity, one
chosen label per circle and shared rule, count bounds) and proves optimality for small
cohorts. On infeasible rules it returns a small conflicting set of rules from assumption
literals.

``local`` is the iterated tabu search of :mod:`.local` and :mod:`.kernels` (moves and swaps
with incremental evaluation): it starts from a greedy placement repaired until every rule holds
(CP-SAT finds the start when the repair cannot) and improves until its work budget or the
time limit is spent.

``auto``: when every admissible circle can be listed within the limit (total or mean objective,
see :data:`COLUMNS_PER_SECOND`), the local search runs for a quarter of the time (at most a
second) and :mod:`.columns` proves its answer optimal or finds the optimum
(``local+exact``: set-partitioning LP bound, reduced-cost fixing, CP-SAT over the columns
left). Otherwise, up to :data:`EXACT_UP_TO` people, the local search's answer is the hint of
the CP-SAT model (``local+cpsat``), which proves it optimal or improves it; above, ``local``.
CP-SAT stops on deterministic time planned from the caller's limit (the clock as a safety
net), so its answers are reproducible too.

Bounds: every result carries a proven upper bound (:mod:`.bounds`; CP-SAT's or the
set-partitioning LP's bound replaces it when they ran).

| module | one idea |
|---|---|
| :mod:`.units` | the problem in units (people, keep-together groups, leading places) |
| :mod:`.diagnose` | conflicts found by counting, before any search |
| :mod:`.unplaced` | people no circle can take, left out (``Circles.unplaced``) |
| :mod:`.bounds` | the per-person upper bound |
| :mod:`.cpsat` | the CP-SAT assignment model |
| :mod:`.columns` | every admissible circle as a column: LP bound, fixing, CP-SAT |
| :mod:`.local` | greedy starts and the threaded tabu search (:mod:`.kernels`, compiled) |

The published methods each module implements are cited in its own References (the tabu
search in :mod:`.kernels`, set partitioning and Lagrangian bounds in :mod:`.columns`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from pairwise.circles import CircleProblem, fitting_counts
from pairwise.errors import InfeasibleError, SolverError
from pairwise.solvers._cpsat import DETERMINISTIC_SHARE
from pairwise.solvers._plan import SAFETY, Seeds, TimePlan
from pairwise.solvers.answer import Answer
from pairwise.solvers.circles import columns
from pairwise.solvers.circles.bounds import simple_bound
from pairwise.solvers.circles.columns import COLUMNS_PER_SECOND
from pairwise.solvers.circles.cpsat import solve_model, unit_scale
from pairwise.solvers.circles.diagnose import diagnose
from pairwise.solvers.circles.lagrange import best_bound, count_range_bound
from pairwise.solvers.circles.local import (
    SearchSettings,
    compile_kernels,
    local_search,
)
from pairwise.solvers.circles.units import Units, build_units
from pairwise.solvers.circles.unplaced import leave_out

__all__ = [
    "CIRCLE_METHODS",
    "COLUMNS_PER_SECOND",
    "EXACT_UP_TO",
    "SearchSettings",
    "compile_kernels",
    "solve_circles",
]

IntArray = npt.NDArray[np.int64]
Progress = Callable[[dict[str, float]], None]

#: Circle methods ``solve`` accepts.
CIRCLE_METHODS: tuple[str, ...] = ("auto", "cpsat", "local")
#: ``auto`` proves optimality with CP-SAT up to this many people.
EXACT_UP_TO = 30


def solve_circles(
    p: CircleProblem,
    method: str,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None = None,
    *,
    settings: SearchSettings | None = None,
    progress: Progress | None = None,
) -> Answer:
    """Solve a circle problem (a trusting core); see the module docstring.

    ``progress``, when given, is called during the local search with ``elapsed`` seconds,
    the best ``objective`` so far and the proven ``bound``. Unless ``p.all_placed``, the
    people :func:`.unplaced.leave_out` finds are left out first (``Answer.left_out``) and
    the others solved.
    """
    if not p.all_placed:
        out = leave_out(p)
        if out.reasons and not len(out.rest):  # nobody can be placed: nothing to solve
            raise InfeasibleError([f"{p.person_ids[i]} {why}" for i, why in out.reasons.items()])
        if out.reasons:
            inner = _solve(out.problem, method, plan, seeds, workers, settings, progress)
            rest = out.rest
            rows = (
                np.column_stack([inner.rows[:, 0], rest[inner.rows[:, 1]]])
                if len(inner.rows)
                else inner.rows
            )
            order = np.lexsort((rows[:, 1], rows[:, 0]))
            sizes = inner.sizes or (out.problem.min_size, out.problem.max_size)
            return replace(inner, rows=rows[order], left_out=out.reasons, sizes=sizes)
    return _solve(p, method, plan, seeds, workers, settings, progress)


#: Share of the limit the count search spends screening counts before the final run.
SCREEN_SHARE = 0.15
#: Share of the limit past which the count screening stops (a safety net, not the plan).
SCREEN_NET = 0.5
#: Counts screened at most (evenly spread over the feasible range, both ends included).
SCREEN_COUNTS = 5
#: A screened count's clock: this many times its share (its work budget ends it first).
SCREEN_SLACK = 3.0


def _solve(
    p: CircleProblem,
    method: str,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None,
    settings: SearchSettings | None,
    progress: Progress | None,
) -> Answer:
    """Solve with everyone placed, searching the circle count when it is free."""
    counts = feasible_counts(p)
    if p.n_circles not in counts:
        counts = []
    if len(counts) <= 1:
        q = p if not counts or counts[0] == p.n_circles else p.with_count(counts[0])
        answer = _solve_fixed(q, method, plan, seeds, workers, settings, progress)
        return answer if q is p else replace(answer, sizes=(q.min_size, q.max_size))
    return _search_counts(p, counts, method, plan, seeds, workers, settings, progress)


def feasible_counts(p: CircleProblem) -> list[int]:
    """Circle counts the sizes allow when the count is free (``[]`` when it is fixed)."""
    if not p.count_free or p.size_range is None:
        return []
    low, high = p.size_range
    if p.mentor_led:  # one leader per circle: the others fill the rest, places cap the count
        return fitting_counts(p.n_members, low - 1, high - 1, int(p.leads.sum()))
    return fitting_counts(p.n, low, high)


def _search_counts(
    p: CircleProblem,
    counts: list[int],
    method: str,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None,
    settings: SearchSettings | None,
    progress: Progress | None,
) -> Answer:
    """The count searched: a few counts screened briefly, then the best one solved at length.

    Where the circles can be listed once for every count (the counts share their size
    bounds) and the listing and each count's pricing fit half the limit, planned from
    the listing's counts (:func:`.columns.listing_seconds`,
    :func:`.columns.pricing_seconds`), or where each count's circles can be listed in its
    share of the limit (or with ``method="cpsat"`` and at most ``SCREEN_COUNTS`` counts),
    every count is solved in an equal share and the best wins: the answer is optimal over
    every count when each is. Otherwise ``SCREEN_COUNTS`` counts spread over the range
    share ``SCREEN_SHARE`` of the limit, and the best count is solved with the caller's
    plan (the local search's work budget of a solve at that count alone, CP-SAT's planned
    for what the screening left, the clock of the caller's limit), so the answer is the
    fixed-count answer at that count whenever the budgets, not the clock, end the
    search. Ties go to the fewer circles. The bound is the largest over every count (each
    count's per-person bound where it was not solved).
    """
    step = (len(counts) - 1) / max(SCREEN_COUNTS - 1, 1)
    screen = sorted({counts[round(t * step)] for t in range(min(SCREEN_COUNTS, len(counts)))})
    problems = {k: p.with_count(k) for k in counts}
    units = build_units(p)  # the units do not depend on the sizes
    # the counts share one listing of circles where their size bounds are the same
    types = {tuple(columns.circle_types(q)[0]) for q in problems.values()}
    listing: dict[object, columns.Columns] | None = {} if len(types) == 1 else None
    list_limit = plan.limit if listing is not None else plan.limit / len(counts)
    listed = method == "auto" and p.n <= 2 * EXACT_UP_TO
    listed = listed and all(_columns_fit(problems[k], units, list_limit) for k in counts)
    if listed and listing is not None:
        # one listing for every count: listed now (its size and the work it took are
        # counts, so the choice stays reproducible); it and every count's pricing must
        # fit half the limit, the rest is the counts' searches and proofs
        cols = columns.listed(problems[counts[0]], units, listing)
        cost = columns.listing_seconds(cols) + len(counts) * columns.pricing_seconds(cols)
        listed = cost <= plan.limit / 2
    # every count solved in an equal share: listed columns, or CP-SAT asked for by name
    exact = listed or (method == "cpsat" and len(counts) <= SCREEN_COUNTS)
    if exact:
        screen = counts
    share = plan.limit / len(screen) if exact else SCREEN_SHARE * plan.limit / len(screen)
    screen = sorted(screen, key=lambda k: (abs(k - p.n_circles), k))
    shared = _Listing(listing, len(counts)) if listed and listing is not None else None
    clock: list[int] = []  # counts the clock cut from the screening
    found = _screen(
        problems, screen, share, exact, method, plan, seeds, workers, settings, shared, clock
    )
    if not found:
        # no count works: the conflicts of the count the constructor chose
        return _solve_fixed(p, method, plan, seeds, workers, settings, progress)
    best = max(found, key=lambda k: (_answer_key(problems[k], found[k]), -k))
    answer = found[best]
    # mentor-led: one Lagrangian bound over the whole range (the per-count per-person
    # bounds of unsolved counts are weak), before the final run so it keeps the limit
    span = count_range_bound(p, units, (counts[0], counts[-1]), plan.limit, plan)
    if not exact:
        # the caller's own plan: the same local search budget as a solve at this count
        # alone (the searches are reproducible, so the same answer, unless the clock ends
        # it); CP-SAT plans for the limit the screening left
        final = _solve_fixed(
            problems[best],
            method,
            plan,
            seeds,
            workers,
            settings,
            progress,
            cp_seconds=(1.0 - SCREEN_SHARE) * plan.limit,
            # circles listed to choose the path are not listed again (and are paid for)
            shared=_Listing(listing, 1) if listing else None,
        )
        if _answer_key(problems[best], final) >= _answer_key(problems[best], answer):
            answer = final
    bound = _count_bound(problems, found, units)
    if span is not None:
        bound = min(bound, span)
    q = problems[best]
    optimal = exact and len(found) == len(counts) and all(a.optimal for a in found.values())
    timings = dict(answer.timings)
    timings["counts_screened"] = float(len(screen) - len(clock))
    # the clock, not the plan, chose which counts were tried or how far one went
    if clock or any(a.timings.get("stopped_by_clock", 0.0) for a in found.values()):
        timings["stopped_by_clock"] = 1.0
    timings["solve"] = plan.elapsed()
    return replace(
        answer, optimal=optimal, bound=bound, sizes=(q.min_size, q.max_size), timings=timings
    )


def _screen(
    problems: dict[int, CircleProblem],
    screen: list[int],
    share: float,
    exact: bool,
    method: str,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None,
    settings: SearchSettings | None,
    shared: _Listing | None = None,
    clock: list[int] | None = None,
) -> dict[int, Answer]:
    """Each count of ``screen`` (in order) solved for the work planned for ``share`` seconds.

    Reproducible: the work budgets end the runs. On cohorts of more than
    :data:`EXACT_UP_TO` a count whose greedy start fails is dropped at once (its CP-SAT
    start ran on: 850 mentees and 150 mentors, two counts of five, 5.4 s each of a 60 s
    limit). The clock is only a safety net: each count's ends :data:`SCREEN_SLACK` times
    its share after it starts, and the screening's at :data:`SCREEN_NET` of the limit
    (the counts it cuts are added to ``clock``). ``exact``: every count is tried, on the
    caller's plan. Counts without an answer are left out.
    """
    found: dict[int, Answer] = {}
    for t, k in enumerate(screen):
        if not exact and found and plan.elapsed() > SCREEN_NET * plan.limit:
            if clock is not None:
                clock.extend(screen[t:])
            break
        end = min(SCREEN_NET * plan.limit, plan.elapsed() + SCREEN_SLACK * share)
        net = plan if exact else TimePlan(end / (1.0 + SAFETY), plan.given, plan.start)
        try:
            found[k] = _solve_fixed(
                problems[k],
                method,
                net,
                seeds,
                workers,
                settings,
                None,
                seconds=share,
                screening=not exact,
                shared=shared,
            )
        except (InfeasibleError, SolverError):
            continue
    return found


def _count_bound(
    problems: dict[int, CircleProblem], found: dict[int, Answer], units: Units
) -> float:
    """The largest bound over every count: proven where solved, else the per-person one."""
    # the per-person bound reads only the smallest and largest size: one per pair of them
    per_sizes: dict[tuple[int, int], float] = {}
    for k, q in problems.items():
        if k in found and found[k].bound is not None:
            continue
        key = (int(q.min_size.min()), int(q.max_size.max()))
        if key not in per_sizes:
            per_sizes[key] = simple_bound(q, units)
    proven = [float(a.bound) for a in found.values() if a.bound is not None]
    return max([*proven, *per_sizes.values()])


def _answer_key(p: CircleProblem, a: Answer) -> tuple[float, float]:
    """The objective of an answer's rows as (first, then) criteria (``CircleProblem.key``)."""
    return p.key(a.rows)


def _solve_fixed(
    p: CircleProblem,
    method: str,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None,
    settings: SearchSettings | None,
    progress: Progress | None,
    *,
    seconds: float | None = None,
    screening: bool = False,
    shared: _Listing | None = None,
    cp_seconds: float | None = None,
) -> Answer:
    """Solve with everyone placed (InfeasibleError when the rules cannot all hold).

    ``seconds`` (default: the plan's limit) is what the work budgets and the method are
    planned for; the plan's clock stays the safety net. ``screening`` (a count screened on
    a large cohort): no CP-SAT start when the greedy one fails (SolverError instead).
    ``shared``: the circles listed once for every count of a count search (the search
    chose the listing and planned its time; ``auto`` then proves by columns, each solve
    paying its share of the listing). ``cp_seconds`` (default ``seconds``): what the
    CP-SAT steps after the local search plan for.
    """
    limit = plan.limit if seconds is None else float(seconds)
    settings = SearchSettings() if settings is None else settings
    units = build_units(p)
    conflicts = diagnose(p, units)
    if not conflicts and p.all_placed:
        ids = p.person_ids
        conflicts = [f"{ids[i]} {why}" for i, why in leave_out(p).reasons.items()]
    if conflicts:
        raise InfeasibleError(conflicts)
    bound = best_bound(p, units, limit, plan)
    timings: dict[str, float] = {"prepare": plan.elapsed()}
    run = _Run(p, units, plan, seeds, workers, settings, progress, timings, bound)
    run.seconds = limit
    run.cp_seconds = limit if cp_seconds is None else min(limit, float(cp_seconds))
    run.cpsat_start = not (screening and p.n > EXACT_UP_TO)
    if shared is not None:
        run.listing, run.listing_share = shared.cache, 1.0 / shared.solves
    if method == "cpsat":
        chosen, (g_of, optimal, bound) = "cpsat", run.cpsat(limit, None)
    elif method == "auto" and (shared is not None or _columns_fit(p, units, limit)):
        chosen, (g_of, optimal, bound) = "local+exact", run.local_then_columns()
    elif method == "local" or p.n > EXACT_UP_TO:
        chosen, optimal = "local", False
        g_of = run.local(limit)
    else:
        chosen, (g_of, optimal, bound) = "local+cpsat", run.local_then_cpsat()
    arr = _rows(p, units, g_of)
    timings["solve"] = plan.elapsed()
    return Answer(arr, optimal=optimal, method=chosen, bound=bound, timings=timings)


@dataclass
class _Listing:
    """Circle listings a count search shares, and how many solves share the one listing."""

    cache: dict[object, columns.Columns]
    solves: int  # how many solves the one listing serves


class _Run:
    """One circles solve: the methods ``auto`` combines, sharing the plan and the bound."""

    def __init__(
        self,
        p: CircleProblem,
        units: Units,
        plan: TimePlan,
        seeds: Seeds,
        workers: int | None,
        settings: SearchSettings,
        progress: Progress | None,
        timings: dict[str, float],
        bound: float,
    ) -> None:
        self.p, self.units, self.plan, self.seeds = p, units, plan, seeds
        self.workers, self.settings, self.progress = workers, settings, progress
        self.timings, self.bound = timings, bound
        self.seconds = plan.limit  # what the methods plan their work for
        self.cp_seconds = plan.limit  # what the CP-SAT steps after the local search plan for
        self.listing_share = 1.0  # the share of the listing's planned time this solve pays
        self.cpsat_start = True  # CP-SAT may give the local search its start
        self.listing: dict[object, columns.Columns] | None = None  # shared circle listings

    def local(self, seconds: float) -> IntArray:
        """The local search's answer, planned for ``seconds`` of the limit."""
        return local_search(
            self.p,
            self.units,
            self.plan,
            seconds,
            self.seeds,
            self.workers,
            self.timings,
            settings=self.settings,
            progress=self.progress,
            bound=self.bound,
            cpsat_start=self.cpsat_start,
        )

    def cpsat(self, seconds: float, hint: IntArray | None) -> tuple[IntArray, bool, float]:
        """The CP-SAT model's answer, planned for ``seconds`` of the limit."""
        t1 = time.perf_counter()
        g_of, optimal, cp_bound = solve_model(
            self.p,
            self.units,
            self.plan,
            DETERMINISTIC_SHARE * seconds,
            self.seeds,
            self.workers,
            hint=hint,
            deterministic=self.settings.deterministic,
            timings=self.timings,
        )
        self.timings["cpsat"] = time.perf_counter() - t1
        return g_of, optimal, min(self.bound, cp_bound)

    def local_then_columns(self) -> tuple[IntArray, bool, float]:
        """Small enough to list every admissible circle: local answer, then the column proof."""
        first = min(self.seconds / 4, 1.0)
        g_local = self.local(first)
        t1 = time.perf_counter()
        exact = columns.solve_exact(
            self.p,
            self.units,
            g_local,
            plan=self.plan,
            seconds=self.cp_seconds - first,
            listing_share=self.listing_share,
            seeds=self.seeds,
            workers=self.workers,
            scale=unit_scale(self.units),
            deterministic=self.settings.deterministic,
            cache=self.listing,
            timings=self.timings,
        )
        self.timings["exact"] = time.perf_counter() - t1
        self.timings["columns"] = float(exact.columns)
        self.timings["columns_kept"] = float(exact.kept)
        return exact.g_of, exact.optimal, min(self.bound, exact.bound)

    def local_then_cpsat(self) -> tuple[IntArray, bool, float]:
        """Small: the local answer (a quarter of the time) is CP-SAT's hint and floor."""
        first = min(self.seconds / 4, 1.0)
        g_local = self.local(first)
        try:
            g_cp, optimal, bound = self.cpsat(max(self.cp_seconds - first, 0.0), g_local)
        except SolverError:  # no better answer in time: the local search's stands (feasible)
            return g_local, False, self.bound
        if _key(self.p, self.units, g_cp) >= _key(self.p, self.units, g_local):
            return g_cp, optimal, bound
        return g_local, False, bound


def _columns_fit(p: CircleProblem, units: Units, limit: float) -> bool:
    """Whether ``auto`` lists every admissible circle (not maxmin, few enough sets).

    Decided from the problem and the planned limit only (never the clock), so the choice
    is reproducible (the listing rate is measured in benchmarks/README.md).
    """
    if p.objective == "maxmin":
        return False
    sets = columns.candidate_sets(p, units.weight)
    return sets is not None and sets <= COLUMNS_PER_SECOND * limit / 4


def _key(p: CircleProblem, units: Units, g_of: IntArray) -> tuple[float, float]:
    """The objective of a unit assignment as (first, then) criteria (``CircleProblem.key``)."""
    return p.key(_rows(p, units, g_of))


def _rows(p: CircleProblem, units: Units, g_of: IntArray) -> IntArray:
    """The sorted (circle, person) rows of a unit assignment (the bench left out)."""
    m = p.n_circles
    rows = [(int(g), i) for u, g in enumerate(g_of.tolist()) if g < m for i in units.members[u]]
    return np.array(sorted(rows), dtype=np.int64).reshape(-1, 2)
