"""Minimum loads per mentor (issue 15 item 1), checked against brute force."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pairwise
from pairwise import InfeasibleError, PairProblem, ValidationError

OBJECTIVES = ("matched-then-total", "total", "maxmin")


def brute(p: PairProblem) -> tuple[Any, ...] | None:
    """The best objective key over every set of pairs that keeps every rule, or None."""
    n, m = p.shape
    cells = [(int(i), int(j)) for i, j in np.argwhere(p.allowed)]
    best: tuple[Any, ...] | None = None
    for r in range(len(cells) + 1):
        for chosen in itertools.combinations(cells, r):
            mentees = np.bincount([i for i, _ in chosen], minlength=n)
            load = np.bincount([j for _, j in chosen], minlength=m)
            if (mentees > 1).any() or (load > p.capacity).any() or (load < p.minimum).any():
                continue
            k = _key(p, list(chosen))
            if best is None or k > best:
                best = k
    return best


def _key(p: PairProblem, pairs: list[tuple[int, int]]) -> tuple[Any, ...]:
    s = [float(p.scores[i, j]) for i, j in pairs]
    total = round(sum(s), 6)
    if p.objective == "total":
        return (total,)
    if p.objective == "maxmin":
        return (len(pairs), round(min(s), 6) if s else 0.0, total)
    return (len(pairs), total)


@st.composite
def problems(draw: st.DrawFn) -> PairProblem:
    n = draw(st.integers(1, 4))
    m = draw(st.integers(1, 3))
    values = st.sampled_from([-0.2, 0.1, 0.4, 0.6, 0.9, np.nan])
    scores = np.array(draw(st.lists(values, min_size=n * m, max_size=n * m))).reshape(n, m)
    cap = np.array(draw(st.lists(st.integers(0, 2), min_size=m, max_size=m)))
    low = np.array([draw(st.integers(0, int(c))) for c in cap])
    objective = draw(st.sampled_from(OBJECTIVES))
    return PairProblem.from_scores(
        scores,
        capacity=cap,
        minimum=low,
        objective=objective,  # type: ignore[arg-type]
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(["auto", "flow", "cpsat"]))
def test_minimum_loads_hold_and_are_optimal(p: PairProblem, method: Any) -> None:
    best = brute(p)
    if best is None:
        with pytest.raises(InfeasibleError):
            pairwise.solve(p, method=method, time_limit=5)
        return
    m = pairwise.solve(p, method=method, time_limit=5)
    assert pairwise.check(p, m) == []
    load = np.bincount(m.assignment[:, 1], minlength=p.shape[1])
    assert (load >= p.minimum).all()
    got = _key(p, [(int(i), int(j)) for i, j in m.assignment])
    assert got == pytest.approx(best, abs=1e-5)


def test_infeasible_minimum_says_who_and_why() -> None:
    p = PairProblem.from_scores(np.ones((9, 6)), capacity=3, minimum=2)
    with pytest.raises(InfeasibleError) as err:
        pairwise.solve(p)
    assert "6 mentors must each get 2 but only 9 mentees may go to them" in str(err.value)


def test_minimum_on_a_large_problem_goes_to_sparse_and_equals_the_flow() -> None:
    rng = np.random.default_rng(1)
    p = PairProblem.from_scores(rng.random((600, 500)), capacity=3, minimum=1)
    m = pairwise.solve(p)  # 300,000 cells: auto picks sparse, minimum-load arcs and all
    assert m.method == "sparse"
    assert (np.bincount(m.assignment[:, 1], minlength=500) >= 1).all()
    assert pairwise.check(p, m) == []
    dense = pairwise.solve(p, method="flow")
    assert len(m.assignment) == len(dense.assignment)
    assert m.objective == pytest.approx(dense.objective, abs=1e-6 * len(m.assignment))


def test_required_pairs_count_towards_the_minimum() -> None:
    p = PairProblem.from_scores(
        [[0.1, 0.9], [0.2, 0.8]], capacity=2, minimum=[1, 0], required=[(0, 0)]
    )
    m = pairwise.solve(p)
    assert sorted(map(tuple, m.assignment.tolist())) == [(0, 0), (1, 1)]


@pytest.mark.parametrize("bad", [-1, 3, [1, 1], 1.5, True, float("nan"), "1"])
def test_bad_minimum_is_a_validation_error(bad: Any) -> None:
    with pytest.raises(ValidationError):
        PairProblem.from_scores(np.ones((3, 3)), capacity=2, minimum=bad)


def test_check_reports_a_mentor_below_her_minimum() -> None:
    p = PairProblem.from_scores(np.ones((2, 2)), capacity=2, minimum=[0, 1])
    loose = PairProblem.from_scores(np.ones((2, 2)), capacity=2)
    m = pairwise.solve(loose, method="flow")
    if (np.bincount(m.assignment[:, 1], minlength=2) >= [0, 1]).all():
        m = pairwise.solve(PairProblem.from_scores([[1.0, 0.5], [1.0, 0.5]], capacity=2))
    assert any("minimum 1" in v for v in pairwise.check(p, m))


def test_minimum_with_fair_objectives_or_rematch_is_refused() -> None:
    p = PairProblem.from_scores(np.ones((3, 2)), capacity=2, minimum=1, objective="maxmin-mentee")
    with pytest.raises(ValidationError, match="minimum loads"):
        pairwise.solve(p)
    q = PairProblem.from_scores(np.ones((3, 2)), capacity=2, minimum=1)
    m = pairwise.solve(q)
    with pytest.raises(ValidationError, match="minimum loads"):
        pairwise.rematch(m, q, leaving=["0"])


@pytest.mark.parametrize("bad", [-1, 4, [1, 1], 1.5, True, float("nan")])
def test_capacity_rule_minimum_is_checked(bad: Any) -> None:
    from pairwise.rules import Capacity

    compat = pairwise.score(pairwise.make_cohort(12, 6, seed=1))
    with pytest.raises(ValidationError, match="minimum"):
        PairProblem.from_compatibility(compat, [Capacity(3, minimum=bad)])


def test_capacity_rule_minimum_reaches_every_method() -> None:
    from pairwise.rules import Capacity

    compat = pairwise.score(pairwise.make_cohort(30, 10, seed=4))
    p = PairProblem.from_compatibility(compat, [Capacity(4, minimum=2)])
    for method in ("auto", "flow", "cpsat"):
        m = pairwise.solve(p, method=method, time_limit=10)  # type: ignore[arg-type]
        assert (np.bincount(m.assignment[:, 1], minlength=10) >= 2).all()
        assert pairwise.check(p, m) == []
