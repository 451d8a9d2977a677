"""Objective "covered-then-total" (issue 15 item 2): most mentees with a mentor, then most
mentors with a mentee, then the total; checked against brute force over every set of pairs."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pairwise
from pairwise import InfeasibleError, PairProblem, SolverError, ValidationError
from pairwise.rules import MatchRate
from pairwise.solvers.pairs.network import bonus_above, cover_weights

Key = tuple[int, int, float]


def key(p: PairProblem, pairs: list[tuple[int, int]]) -> Key:
    """(mentees covered, mentors covered, total) of ``pairs``."""
    total = round(sum(float(p.scores[i, j]) for i, j in pairs), 6)
    return (len({i for i, _ in pairs}), len({j for _, j in pairs}), total)


def brute(p: PairProblem) -> Key | None:
    """The lexicographic best key over every set of pairs that keeps every rule, or None."""
    n, m = p.shape
    cells = [(int(i), int(j)) for i, j in np.argwhere(p.allowed)]
    required = set(p.required)
    best: Key | None = None
    for r in range(len(cells) + 1):
        for chosen in itertools.combinations(cells, r):
            if not required <= set(chosen):
                continue
            got = np.bincount([i for i, _ in chosen], minlength=n)
            load = np.bincount([j for _, j in chosen], minlength=m)
            if (got > p.demand).any() or (load > p.capacity).any() or (load < p.minimum).any():
                continue
            if p.all_matched and (got < p.demand).any():
                continue
            k = key(p, list(chosen))
            if best is None or k > best:
                best = k
    return best


@st.composite
def problems(draw: st.DrawFn) -> PairProblem:
    """Tiny problems: demand and capacity up to 3, holes, minima, required pairs."""
    n = draw(st.integers(1, 3))
    m = draw(st.integers(1, 3))
    values = st.sampled_from([-0.3, 0.1, 0.4, 0.6, 0.9, np.nan])
    scores = np.array(draw(st.lists(values, min_size=n * m, max_size=n * m))).reshape(n, m)
    cap = np.array(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)))
    dem = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    low = np.array([draw(st.integers(0, min(int(c), 1))) for c in cap])
    cells = [(i, j) for i in range(n) for j in range(m)]
    required = draw(st.lists(st.sampled_from(cells), max_size=2, unique=True))
    return PairProblem.from_scores(
        scores,
        capacity=cap,
        demand=dem,
        minimum=low,
        required=required,
        all_matched=draw(st.booleans()),
        objective="covered-then-total",
    )


def _pairs(m: pairwise.Matching) -> list[tuple[int, int]]:
    return [(int(i), int(j)) for i, j in m.assignment]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_covered_then_total_is_the_lexicographic_optimum(p: PairProblem) -> None:
    best = brute(p)
    for method in ("flow", "sparse", "cpsat"):  # sparse: itself where demands are <= 1
        if best is None:
            with pytest.raises(InfeasibleError):
                pairwise.solve(p, method=method, time_limit=5)
            continue
        m = pairwise.solve(p, method=method, time_limit=5)
        assert pairwise.check(p, m) == []
        assert m.status == "optimal"
        got = key(p, _pairs(m))
        assert got[:2] == best[:2]
        assert got[2] == pytest.approx(best[2], abs=1e-5)
        metrics = m.metrics()
        assert (metrics["mentees_covered"], metrics["mentors_covered"]) == got[:2]
        assert m.bound >= m.objective


def test_coverage_differs_from_most_pairs() -> None:
    # mentee 0 takes up to 3 mentors and scores best with everyone: the most pairs (and the
    # best total) give her all three and leave mentee 1 with nobody
    scores = [[0.9, 0.9, 0.9], [0.1, np.nan, np.nan]]
    base = PairProblem.from_scores(scores, capacity=1, demand=[3, 1])
    cover = PairProblem.from_scores(
        scores, capacity=1, demand=[3, 1], objective="covered-then-total"
    )
    most = pairwise.solve(base)
    both = pairwise.solve(cover)
    assert most.metrics()["mentees_covered"] == 1 and most.metrics()["pairs"] == 3
    assert both.metrics()["mentees_covered"] == 2 and both.metrics()["mentors_covered"] == 3
    assert both.metrics()["mentees_covered_share"] == 1.0
    assert sorted(_pairs(both)) == [(0, 1), (0, 2), (1, 0)]


def test_mentors_are_covered_before_the_total() -> None:
    # mentee 0 takes two mentors, mentee 1 one; mentors take two each. The most pairs with
    # the best total leave mentor 2 (a poor score for mentee 0) with nobody
    scores = [[0.9, 0.8, 0.1], [0.9, 0.95, np.nan]]
    flat = pairwise.solve(PairProblem.from_scores(scores, capacity=2, demand=[2, 1]))
    assert sorted(_pairs(flat)) == [(0, 0), (0, 1), (1, 1)]
    assert flat.metrics()["mentors_covered"] == 2
    p = PairProblem.from_scores(scores, capacity=2, demand=[2, 1], objective="covered-then-total")
    for method in ("flow", "cpsat"):
        m = pairwise.solve(p, method=method, time_limit=5)
        assert sorted(_pairs(m)) == [(0, 0), (0, 2), (1, 1)]
        assert m.metrics()["mentors_covered"] == 3
        assert m.metrics()["mentors_covered_share"] == 1.0


def test_every_method_name_solves_it_and_sparse_hands_it_to_flow() -> None:
    rng = np.random.default_rng(3)
    p = PairProblem.from_scores(
        rng.random((8, 5)), capacity=3, demand=2, objective="covered-then-total"
    )
    results = {
        meth: pairwise.solve(p, method=meth, time_limit=5)
        for meth in ("auto", "flow", "sparse", "cpsat")
    }
    assert results["sparse"].method == "flow"  # demand 2: coverage is not sparse's order
    one = PairProblem.from_scores(rng.random((8, 5)), capacity=3, objective="covered-then-total")
    assert pairwise.solve(one, method="sparse").method == "sparse"
    keys = {meth: key(p, _pairs(r)) for meth, r in results.items()}
    first = keys["flow"]
    for k in keys.values():
        assert k[:2] == first[:2] and k[2] == pytest.approx(first[2], abs=1e-5)


def test_metrics_report_coverage_for_every_objective() -> None:
    p = PairProblem.from_scores(np.ones((3, 2)), capacity=2)
    for objective in pairwise.problem.OBJECTIVES:
        if objective == "maxmin-group":
            continue  # needs groups
        q = PairProblem.from_scores(np.ones((3, 2)), capacity=2, objective=objective)  # type: ignore[arg-type]
        metrics = pairwise.solve(q, time_limit=5).metrics()
        for name in ("mentees_covered", "mentors_covered"):
            assert 0 <= metrics[name] <= max(p.shape)
            assert 0.0 <= metrics[f"{name}_share"] <= 1.0


def test_an_unknown_objective_lists_covered_then_total() -> None:
    with pytest.raises(ValidationError, match="covered-then-total"):
        PairProblem.from_scores(np.ones((2, 2)), objective="covered")  # type: ignore[arg-type]


def test_with_group_match_rates_it_is_refused() -> None:
    compat = pairwise.score(pairwise.make_cohort(12, 4, seed=1))
    p = PairProblem.from_compatibility(
        compat, [MatchRate("cluster", 0.2)], objective="covered-then-total"
    )
    with pytest.raises(ValidationError, match="covered-then-total"):
        pairwise.solve(p, time_limit=5)


def test_the_weights_are_lexicographic_and_guarded() -> None:
    costs = np.array([-1_000_000, -3, 5])
    dem = np.array([3, 2])
    w1, w2, spread = cover_weights(2, 3, dem, costs)
    totals = 2 * 1_000_000 * 5
    assert w2 > totals and w1 > 3 * w2 + totals and spread >= 2 * w1 + 3 * w2 + totals
    with pytest.raises(SolverError, match="overflow"):
        bonus_above(2**62, 1, "coverage")
    with pytest.raises(SolverError, match="overflow"):
        cover_weights(10**6, 10**6, np.full(10**6, 3), costs)


def test_a_programme_file_accepts_the_objective(tmp_path: Any) -> None:
    frame = pairwise.make_cohort(12, 4, seed=1).to_frame(flat=True)
    frame.to_csv(tmp_path / "answers.csv", index=False)
    (tmp_path / "p.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n'
        '[solve]\nobjective = "covered-then-total"\ntime_limit = 5\n'
    )
    programme = pairwise.Programme.from_toml(tmp_path / "p.toml")
    result = programme.run()
    assert result.problem.objective == "covered-then-total"
    assert pairwise.check(result.problem, result) == []


def _random(
    seed: int, n: int, m: int, holes: float, caps: int, demands: tuple[int, int]
) -> PairProblem:
    """A random coverage problem: scores rounded (ties), a share of holes, random sizes."""
    rng = np.random.default_rng(seed)
    scores = np.where(rng.random((n, m)) < holes, np.nan, rng.random((n, m)).round(1))
    return PairProblem.from_scores(
        scores,
        capacity=rng.integers(0, caps + 1, m),
        demand=rng.integers(demands[0], demands[1] + 1, n),
        objective="covered-then-total",
    )


@st.composite
def larger(draw: st.DrawFn) -> PairProblem:
    n, m = draw(st.integers(2, 7)), draw(st.integers(2, 5))
    return _random(draw(st.integers(0, 2**16)), n, m, 0.3, 3, (1, 3))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(larger())
def test_flow_and_cpsat_agree_beyond_brute_force(p: PairProblem) -> None:
    flow = pairwise.solve(p, method="flow")
    sat = pairwise.solve(p, method="cpsat", time_limit=10)
    assert pairwise.check(p, flow) == [] and pairwise.check(p, sat) == []
    assert sat.status == "optimal"
    a, b = key(p, _pairs(flow)), key(p, _pairs(sat))
    assert a[:2] == b[:2] and a[2] == pytest.approx(b[2], abs=1e-5)


@st.composite
def wide(draw: st.DrawFn) -> PairProblem:
    """One mentor per mentee, more mentors than sparse's 12 candidates, ties and holes."""
    n, m = draw(st.integers(5, 60)), draw(st.integers(13, 30))
    return _random(draw(st.integers(0, 2**16)), n, m, 0.4, 2, (0, 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wide())
def test_sparse_covers_as_the_dense_flow_does(p: PairProblem) -> None:
    flow = pairwise.solve(p, method="flow")
    sparse = pairwise.solve(p, method="sparse")
    assert sparse.method == "sparse"
    assert pairwise.check(p, sparse) == []
    a, b = key(p, _pairs(flow)), key(p, _pairs(sparse))
    assert a[:2] == b[:2] and a[2] == pytest.approx(b[2], abs=1e-5)
