"""The Lagrangian bound of large circle problems: never below a solution, and on time.

The bound holds for any multipliers; these tests check it against the optimum of tiny
problems (the exact column solver, which the brute-force tests of test_circles check) and
against the best answer found on larger ones, with every kind of rule it reads (mentors,
keep-apart, keep-together, a shared slot, count rules), and that a solve with it keeps its
time limit.
"""

from __future__ import annotations

import time
from dataclasses import replace

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import pairwise
from pairwise import CircleProblem, InfeasibleError, SolverError
from pairwise.rules import CountRule, KeepApart, MaxPerChapter, SetRule, SharedSlot
from pairwise.solvers._plan import TimePlan
from pairwise.solvers.circles import lagrange
from pairwise.solvers.circles.bounds import simple_bound
from pairwise.solvers.circles.units import build_units

TINY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sym(rng: np.random.Generator, n: int, low: float) -> np.ndarray:
    a = rng.uniform(low, 1.0, (n, n)).round(3)
    a = (a + a.T) / 2
    np.fill_diagonal(a, 0.0)
    return a


@st.composite
def tiny_problems(draw: st.DrawFn) -> CircleProblem:
    """Circle problems of 4-12 people, mentor-led or not, with rules drawn at random.

    The count fits the sizes (each mentor-led circle: one mentor and ``lo - 1`` to
    ``hi - 1`` others), so most are feasible; the rules may still make one infeasible.
    """
    mentors = draw(st.integers(0, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    lo = int(rng.integers(2, 4))
    hi = lo + int(rng.integers(0, 3))
    leads = rng.integers(1, 3, mentors).astype(np.int64)
    if mentors:
        others = draw(st.integers(lo - 1, min(9, int(leads.sum()) * (hi - 1))))
        n = mentors + others
        top = int(leads.sum())
        fits = [k for k in range(1, top + 1) if k * (lo - 1) <= others <= k * (hi - 1)] or [1]
    else:
        n = draw(st.integers(max(4, lo), 10))
        fits = [k for k in range(1, 4) if k * lo <= n <= k * hi] or [1]
    m = fits[draw(st.integers(0, len(fits) - 1))]
    a = _sym(rng, n, draw(st.sampled_from([-1.0, 0.0])))
    apart = np.zeros((n, n), dtype=bool)
    for _ in range(draw(st.integers(0, 3))):
        i, j = rng.choice(n, 2, replace=False)
        apart[i, j] = apart[j, i] = True
    together: tuple[tuple[int, ...], ...] = ()
    if draw(st.booleans()):
        i, j = sorted(rng.choice(n, 2, replace=False).tolist())
        if not apart[i, j] and j >= mentors:  # not two mentors (one leads a circle)
            together = ((i, j),)
    shared: tuple[SetRule, ...] = ()
    if draw(st.booleans()):
        shared = (SetRule("shared slot", ("mon", "tue", "wed"), rng.random((n, 3)) < 0.8),)
    counts: tuple[CountRule, ...] = ()
    if draw(st.booleans()):
        member = np.zeros((n, 3), dtype=bool)
        member[np.arange(n), rng.integers(0, 3, n)] = True
        at_least = int(rng.integers(0, 2))
        at_most = int(rng.integers(1, 3))
        counts = (
            CountRule("chapter", ("a", "b", "c"), member, at_least=at_least, at_most=at_most),
        )
    leaders = np.arange(mentors, dtype=np.int64)
    is_mentor = np.arange(n) < mentors
    return CircleProblem(
        affinity=a,
        person_ids=np.array([f"p{i}" for i in range(n)], dtype=object),
        min_size=np.full(m, lo, dtype=np.int64),
        max_size=np.full(m, hi, dtype=np.int64),
        apart=apart,
        together=together,
        shared=shared,
        counts=counts,
        leaders=leaders,
        leads=leads,
        is_mentor=is_mentor if mentors else None,
        all_placed=True,
    )


@TINY
@given(tiny_problems())
def test_the_bound_is_never_below_the_optimum_of_tiny_problems(p: CircleProblem) -> None:
    try:
        c = pairwise.solve(p, time_limit=5, seed=0)
    except (InfeasibleError, SolverError):
        return
    units = build_units(p)
    bound = lagrange.lagrangian_bound(p, units, 0.05)
    if bound is None:  # nothing to relax: one unit, or circles of one unit only
        assert units.size < 2 or int(p.max_size.max()) - int(units.weight.max()) < 1
        return
    assert bound >= c.objective - 1e-6 * (1 + abs(c.objective))
    # never above the per-person bound by more than rounding on these sizes either way:
    # what is checked is validity, the strength is checked on larger cohorts below
    assert np.isfinite(bound)


def test_tiny_problems_are_solved_to_optimality_so_the_check_above_is_sharp() -> None:
    # the property above compares with the optimum: the exact path proves these
    rng = np.random.default_rng(3)
    a = _sym(rng, 10, -1.0)
    p = CircleProblem.from_affinity(a, n_circles=2, min_size=4, max_size=6)
    c = pairwise.solve(p, time_limit=5, seed=0)
    assert c.status == "optimal"
    bound = lagrange.lagrangian_bound(p, build_units(p), 0.05)
    assert bound is not None and bound >= c.objective - 1e-9


@pytest.fixture(scope="module")
def cohort_problems() -> list[CircleProblem]:
    out = []
    for seed, (mentees, mentors) in enumerate([(60, 14), (110, 24), (160, 30)]):
        cohort = pairwise.make_cohort(mentees, mentors, seed=seed)
        aff = pairwise.affinity(cohort, roles=("mentee", "mentor"))
        rules = [KeepApart(), SharedSlot(), MaxPerChapter(2)][: 1 + seed]
        out.append(
            CircleProblem.from_compatibility(
                aff,
                rules,
                mentors="one-per-circle",
                fit=pairwise.score(cohort),
                leads=2,
                objective="total",
            )
        )
    return out


def test_the_bound_is_above_every_answer_and_below_the_per_person_bound(
    cohort_problems: list[CircleProblem],
) -> None:
    for p in cohort_problems:
        c = pairwise.solve(p, time_limit=2, seed=0)
        assert len(c.unplaced) == 0  # the bound is for everyone placed
        units = build_units(c.problem)
        bound = lagrange.lagrangian_bound(c.problem, units, 0.5)
        assert bound is not None
        assert bound >= c.objective
        assert c.bound is not None and c.bound >= c.objective
        # the point of it: well below the per-person bound on a mentor-led cohort
        assert bound < 0.85 * simple_bound(c.problem, units)


def test_the_bound_holds_for_any_work_and_is_reproducible(
    cohort_problems: list[CircleProblem],
) -> None:
    p = cohort_problems[1]
    units = build_units(p)
    c = pairwise.solve(p, time_limit=2, seed=1)
    bounds = [lagrange.lagrangian_bound(p, units, s) for s in (0.0001, 0.05, 0.5)]
    assert all(b is not None and b >= c.objective for b in bounds)
    assert lagrange.lagrangian_bound(p, units, 0.5) == bounds[2]


def test_one_bound_over_a_range_of_counts_holds_at_every_count(
    cohort_problems: list[CircleProblem],
) -> None:
    p = cohort_problems[0]
    units = build_units(p)
    lo, hi = p.n_circles - 2, p.n_circles + 1
    over = lagrange.lagrangian_bound(p, units, 0.5, counts=(lo, hi))
    assert over is not None
    for k in range(lo, hi + 1):
        q = replace(p.with_count(k), all_placed=True, count_free=False)
        c = pairwise.solve(q, time_limit=1, seed=0)
        assert over >= c.objective
        fixed = lagrange.lagrangian_bound(q, units, 0.5)
        assert fixed is not None and fixed >= c.objective


def test_other_objectives_and_small_cohorts_keep_the_per_person_bound() -> None:
    rng = np.random.default_rng(0)
    a = _sym(rng, 40, -1.0)
    for objective in ("mean", "maxmin"):
        p = CircleProblem.from_affinity(a, objective=objective)
        assert lagrange.lagrangian_bound(p, build_units(p), 1.0) is None
    p = CircleProblem.from_affinity(a)
    plan = TimePlan(1.0)
    assert lagrange.best_bound(p, build_units(p), 1.0, plan) == simple_bound(p, build_units(p))


def test_a_solve_with_the_bound_keeps_its_time_limit() -> None:
    cohort = pairwise.make_cohort(255, 45, seed=4)
    aff = pairwise.affinity(cohort, roles=("mentee", "mentor"))
    p = CircleProblem.from_compatibility(
        aff,
        [KeepApart(), SharedSlot(), MaxPerChapter(2)],
        mentors="one-per-circle",
        leads=2,
        objective="total",
    )
    lagrange.compile_kernels()
    pairwise.solvers.circles.compile_kernels()
    for limit in (0.5, 2.0):
        t = time.perf_counter()
        c = pairwise.solve(p, time_limit=limit, seed=0)
        assert time.perf_counter() - t <= 1.1 * limit + 0.1
        assert c.bound is not None and c.objective <= c.bound


def test_a_fixed_count_solve_reports_the_lagrangian_bound_reproducibly() -> None:
    cohort = pairwise.make_cohort(170, 30, seed=5)
    aff = pairwise.affinity(cohort, roles=("mentee", "mentor"))
    p = CircleProblem.from_compatibility(
        aff, [KeepApart(), SharedSlot()], mentors="one-per-circle", leads=2, objective="total"
    )
    p = replace(p, count_free=False)
    lagrange.compile_kernels()
    one, two = (pairwise.solve(p, time_limit=2, seed=0) for _ in range(2))
    assert one.bound == two.bound
    assert one.bound is not None and one.objective <= one.bound
    assert one.bound < simple_bound(p, build_units(p))  # the solve took the Lagrangian bound
