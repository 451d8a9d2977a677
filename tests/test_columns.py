"""The circle listing of the exact path, against a brute-force listing from the definitions."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

import pairwise
from pairwise import CircleProblem
from pairwise.solvers._cpsat import clock_stopped, make_solver
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.circles import build_units, columns
from test_circles import rules_hold, tiny_problems


def _admissible(p: CircleProblem, people: list[int]) -> bool:
    """Whether these people may form one circle of some size bound, from the definitions."""
    sizes = zip(p.min_size, p.max_size, strict=True)
    return any(lo <= len(people) <= hi for lo, hi in sizes) and rules_hold(p, people)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(), st.integers(4, 10))
def test_listing_is_every_admissible_circle_and_only_those(p: CircleProblem, n: int) -> None:
    # grow the drawn problem to n people (more sets than the tiny ones), sizes of 1 or more
    rng = np.random.default_rng(n)
    if p.n < n:
        extra = n - p.n
        a = np.zeros((n, n))
        a[: p.n, : p.n] = p.affinity
        b = rng.uniform(-1, 1, (n, n)).round(3)
        b = (b + b.T) / 2
        a[p.n :, :] = b[p.n :, :]
        a[:, p.n :] = b[:, p.n :]
        np.fill_diagonal(a, 0.0)
        apart = np.zeros((n, n), dtype=bool)
        apart[: p.n, : p.n] = p.apart
        shared = tuple(
            replace(r, member=np.vstack([r.member, rng.random((extra, r.member.shape[1])) < 0.6]))
            for r in p.shared
        )
        grown = []
        for c in p.counts:
            more = np.zeros((extra, c.member.shape[1]), dtype=bool)
            more[np.arange(extra), rng.integers(0, c.member.shape[1], extra)] = True
            grown.append(replace(c, member=np.vstack([c.member, more])))
        p = replace(
            p,
            affinity=a,
            person_ids=np.array([f"p{i}" for i in range(n)], dtype=object),
            apart=apart,
            shared=shared,
            counts=tuple(grown),
        )
    p = replace(p, min_size=np.maximum(p.min_size, 1))
    # a group kept together and apart at once is refused before any listing (diagnose)
    assume(not any(p.apart[i, j] for g in p.together for i, j in itertools.combinations(g, 2)))
    units = build_units(p)
    cols = columns.enumerate_columns(p, units)
    listed = {
        tuple(int(u) for u in row[row >= 0]): (float(v), tuple(f.tolist()))
        for row, v, f in zip(cols.members, cols.value, cols.fits, strict=True)
    }
    assert len(listed) == len(cols.value)  # no set twice
    expected = {}
    U = len(units.members)
    for k in range(1, U + 1):
        for s in itertools.combinations(range(U), k):
            people = sorted(i for u in s for i in units.members[u])
            if not _admissible(p, people):
                continue
            total = sum(float(p.affinity[i, j]) for i, j in itertools.combinations(people, 2))
            if p.objective == "mean":
                total = 2.0 * total / (len(people) - 1) if len(people) > 1 else 0.0
            fits = tuple(lo <= len(people) <= hi for lo, hi in cols.type_bounds)
            expected[s] = (total, fits)
    assert listed.keys() == expected.keys()
    for s, (value, fits) in expected.items():
        assert listed[s][1] == fits
        assert listed[s][0] == pytest.approx(value, abs=1e-9)
    # the work it reports is a count of sets looked at, at least one per column
    assert cols.examined >= len(cols.value)


def test_a_count_search_lists_its_circles_once_for_every_count() -> None:
    # 24 peers, circles of 4-6: three counts share one listing; each count is proven
    aff = pairwise.affinity(pairwise.make_peers(24, seed=5))
    p = pairwise.CircleProblem.from_compatibility(aff, [pairwise.rules.SharedSlot()])
    calls = []
    original = columns.enumerate_columns

    def counting(*args: object) -> columns.Columns:
        calls.append(1)
        return original(*args)  # type: ignore[arg-type]

    columns.enumerate_columns = counting  # type: ignore[assignment]
    try:
        c = pairwise.solve(p, time_limit=2)
    finally:
        columns.enumerate_columns = original  # type: ignore[assignment]
    assert len(calls) == 1
    assert c.method == "local+exact"
    assert c.timings["counts_screened"] == 3.0
    assert c.timings["stopped_by_clock"] == 0.0


def test_a_cpsat_solve_cut_by_the_clock_says_so() -> None:
    # a multi-knapsack CP-SAT cannot close in the 10 ms of clock its plan has left, though
    # its deterministic budget is large: a clock stop; with the clock to spare, a proof
    rng = np.random.default_rng(0)
    model = cp_model.CpModel()
    xs = [model.new_bool_var(f"x{i}") for i in range(300)]
    for _ in range(8):
        w = rng.integers(10, 100, 300).tolist()
        model.add(cp_model.LinearExpr.weighted_sum(xs, w) <= sum(w) // 3)
    model.maximize(cp_model.LinearExpr.weighted_sum(xs, rng.integers(1, 100, 300).tolist()))
    spent = TimePlan.of(1e-9)  # the clock net is already spent
    solver = make_solver(spent, 1000.0, Seeds(0), 1)
    status = solver.solve(model)
    assert status != cp_model.OPTIMAL
    assert clock_stopped(solver, status)
    budgeted = make_solver(TimePlan.of(60.0), 0.05, Seeds(0), 1)  # the budget ends it
    status = budgeted.solve(model)
    assert not clock_stopped(budgeted, status)


def test_too_many_columns_kept_leave_the_local_answer_unproven(monkeypatch) -> None:
    # where the fixing keeps more circles than CP-SAT's budget could model, the local
    # search's answer stands with the LP bound: valid, never claimed optimal
    rng = np.random.default_rng(16)
    a = rng.random((16, 16))
    a = (a + a.T) / 2
    np.fill_diagonal(a, 0.0)
    p = pairwise.CircleProblem.from_affinity(a, min_size=4, max_size=6)
    proven = pairwise.solve(p, time_limit=2)
    assert proven.method == "local+exact" and proven.status == "optimal"
    monkeypatch.setattr(columns, "KEPT_PER_SECOND", 0)
    monkeypatch.setattr(columns, "_bound_and_fixing", _no_fixing)
    built: list[int] = []
    model = columns._partition_model

    def counted(*args: Any) -> Any:
        built.append(1)
        return model(*args)

    monkeypatch.setattr(columns, "_partition_model", counted)
    c = pairwise.solve(p, time_limit=2)
    assert built == []  # no CP-SAT model over the columns: it would not be built in time
    assert c.method == "local+exact" and c.status != "optimal"
    assert pairwise.check(p, c) == []
    assert c.bound is not None and c.bound >= c.objective - 1e-9
    assert c.bound >= proven.objective - 1e-9  # still a bound on the optimum


def _no_fixing(
    cols: columns.Columns, duals: object, inc_value: float, inc_cols: np.ndarray
) -> tuple[float, np.ndarray]:
    """The fixing keeps every column (the bound stays the LP's, above the incumbent)."""
    bound, _ = _real_fixing(cols, duals, inc_value, inc_cols)  # type: ignore[arg-type]
    return max(bound, inc_value + 1.0), np.arange(len(cols.value))


_real_fixing = columns._bound_and_fixing
