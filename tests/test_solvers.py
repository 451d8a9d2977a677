"""Every exact method agrees with the plain min-cost flow on the problems it accepts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linear_sum_assignment

import pairwise
from pairwise.solvers import SPARSE_FROM
from pairwise.solvers._cpsat import SCALE
from pairwise.solvers.pairs import sparse


def _tolerance(problem, result):
    top = float(np.abs(problem.scores[problem.allowed]).max(initial=1.0))
    return 2 * len(result.assignment) * top / SCALE + 1e-9


@st.composite
def capacitated(draw):
    n = draw(st.integers(1, 25))
    m = draw(st.integers(1, 12))
    scores = draw(
        arrays(np.float64, (n, m), elements=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 0.1]))
    )
    holes = draw(arrays(np.bool_, (n, m)))
    scores = np.where(holes & draw(st.booleans()), np.nan, scores)
    capacity = draw(arrays(np.int64, (m,), elements=st.integers(0, 4)))
    demand = draw(arrays(np.int64, (n,), elements=st.integers(1, 2)))
    objective = draw(st.sampled_from(["matched-then-total", "total"]))
    return pairwise.PairProblem.from_scores(
        scores, capacity=capacity, demand=demand, objective=objective
    )


@settings(max_examples=150, deadline=None)
@given(capacitated(), st.integers(1, 4))
def test_sparse_equals_dense_flow_even_with_heavy_ties(problem, k):
    dense = pairwise.solve(problem, method="flow")
    found = sparse.solve_sparse(problem, k=k)
    result = pairwise.solve(problem, method="sparse")
    assert pairwise.check(problem, result) == []
    if problem.objective == "matched-then-total":  # under "total", zero-score pairs are ties
        assert len(found.rows) == len(dense.assignment)
    total = float(problem.scores[found.rows[:, 0], found.rows[:, 1]].sum())
    assert total == pytest.approx(dense.objective, abs=_tolerance(problem, dense))
    assert result.objective == pytest.approx(dense.objective, abs=_tolerance(problem, dense))


@settings(max_examples=80, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 9), st.integers(1, 9)),
        elements=st.floats(0, 1, allow_subnormal=False),
    )
)
def test_assignment_method_matches_scipy_and_flow(scores):
    problem = pairwise.PairProblem.from_scores(scores)
    result = pairwise.solve(problem)
    assert result.method == "assignment"
    assert pairwise.check(problem, result) == []
    r, c = linear_sum_assignment(scores, maximize=True)
    assert result.objective == pytest.approx(scores[r, c].sum(), abs=1e-9)
    flow = pairwise.solve(problem, method="flow")
    assert flow.objective == pytest.approx(result.objective, abs=_tolerance(problem, flow))


def test_auto_picks_sparse_for_large_capacitated_problems_and_it_is_exact():
    compat = pairwise.score(pairwise.make_cohort(700, 400, seed=5))
    assert compat.matrix.size >= SPARSE_FROM
    problem = pairwise.PairProblem.from_compatibility(compat)
    result = pairwise.solve(problem)
    assert result.method == "sparse"
    assert pairwise.check(problem, result) == []
    dense = pairwise.solve(problem, method="flow")
    assert len(result.assignment) == len(dense.assignment)
    assert result.objective == pytest.approx(dense.objective, abs=_tolerance(problem, dense))


def test_named_methods_refuse_problems_they_cannot_solve():
    problem = pairwise.PairProblem.from_scores([[1.0, np.nan], [0.5, 0.2]])
    with pytest.raises(pairwise.ValidationError, match="assignment"):
        pairwise.solve(problem, method="assignment")
    maxmin = pairwise.PairProblem.from_scores([[1.0, 0.3]], objective="maxmin")
    with pytest.raises(pairwise.ValidationError, match="maxmin"):
        pairwise.solve(maxmin, method="sparse")


@st.composite
def small_problems(draw):
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 5))
    scores = draw(arrays(np.float64, (n, m), elements=st.sampled_from([0.0, 0.2, 0.5, 0.7, 1.0])))
    holes = draw(arrays(np.bool_, (n, m)))
    scores = np.where(holes, np.nan, scores)
    capacity = draw(arrays(np.int64, (m,), elements=st.integers(0, 3)))
    objective = draw(st.sampled_from(["matched-then-total", "total", "maxmin"]))
    return pairwise.PairProblem.from_scores(scores, capacity=capacity, objective=objective)


@settings(max_examples=60, deadline=None)
@given(small_problems())
def test_cpsat_agrees_with_flow_on_every_objective(problem):
    flow = pairwise.solve(problem, method="flow")
    sat = pairwise.solve(problem, method="cpsat", time_limit=20)
    assert sat.status == "optimal"
    assert pairwise.check(problem, sat) == []
    tol = _tolerance(problem, flow)
    assert sat.objective == pytest.approx(flow.objective, abs=tol)
    if problem.objective != "total":
        assert len(sat.assignment) == len(flow.assignment)
    if problem.objective == "maxmin" and len(flow.assignment):
        floor = lambda r: problem.scores[r.assignment[:, 0], r.assignment[:, 1]].min()  # noqa: E731
        assert floor(sat) == pytest.approx(floor(flow), abs=tol)
    assert sat.bound >= sat.objective


def test_cpsat_names_conflicting_rules_from_its_unsat_core():
    # three mentees who must all be matched, one mentor of capacity 2 allowed for them
    problem = pairwise.PairProblem.from_scores(
        [[0.5], [0.6], [0.7]], capacity=2, all_matched=True, mentor_ids=["mentor-A"]
    )
    with pytest.raises(pairwise.InfeasibleError) as err:
        pairwise.solve(problem, method="cpsat", time_limit=10)
    text = str(err.value)
    assert "every mentee matched (3 mentees) and the capacity of 1 mentor(s): mentor-A (2)" in text
    assert len(err.value.conflicts) == 2  # the count and the rules, as the flow says it


@settings(max_examples=40, deadline=None)
@given(capacitated())
def test_metrics_load_distribution_adds_up(problem):
    result = pairwise.solve(problem)
    metrics = result.metrics()
    counts = {
        int(k.rsplit("_", 1)[1]): v
        for k, v in metrics.items()
        if k.startswith("mentors_with_load_")
    }
    assert sum(counts.values()) == problem.shape[1]
    assert sum(k * v for k, v in counts.items()) == metrics["pairs"]
    assert max(counts, default=0) == metrics["max_load"]
    load = np.bincount(result.assignment[:, 1], minlength=problem.shape[1])
    for k, v in counts.items():
        assert v == int((load == k).sum())


def test_a_cpsat_model_too_large_for_the_limit_stops_at_the_safety_net() -> None:
    # building the model is under the plan's clock too: a limit far too short to build it
    # ends in a SolverError, not in a solve that runs past its limit
    rng = np.random.default_rng(0)
    p = pairwise.PairProblem.from_scores(rng.random((300, 300)), capacity=2)
    with pytest.raises(pairwise.SolverError, match="too large to build"):
        pairwise.solve(p, method="cpsat", time_limit=1e-6)
    d = rng.random((60, 60))
    c = pairwise.CircleProblem.from_affinity(d + d.T, min_size=4, max_size=6)
    with pytest.raises(pairwise.SolverError, match="too large to build"):
        pairwise.solve(c, method="cpsat", time_limit=1e-6)


@st.composite
def with_minimum(draw):
    """A capacitated problem with minimum loads (some infeasible), on tied scores."""
    p = draw(capacitated())
    low = np.array([draw(st.integers(0, int(c))) for c in p.capacity], dtype=np.int64)
    scores = np.where(p.allowed, p.scores, np.nan)
    return pairwise.PairProblem.from_scores(
        scores, capacity=p.capacity, demand=p.demand, objective=p.objective, minimum=low
    )


@settings(max_examples=150, deadline=None)
@given(with_minimum(), st.integers(1, 4))
def test_sparse_meets_minimum_loads_as_the_dense_flow_does(problem, k):
    try:
        dense = pairwise.solve(problem, method="flow")
    except pairwise.errors.InfeasibleError:
        with pytest.raises(pairwise.errors.InfeasibleError):
            pairwise.solve(problem, method="sparse")
        return
    found = sparse.solve_sparse(problem, k=k)
    load = np.bincount(found.rows[:, 1], minlength=problem.shape[1])
    assert (load >= problem.minimum).all()
    result = pairwise.solve(problem, method="sparse")
    assert result.method == "sparse"
    assert pairwise.check(problem, result) == []
    if problem.objective == "matched-then-total":
        assert len(found.rows) == len(dense.assignment)
    total = float(problem.scores[found.rows[:, 0], found.rows[:, 1]].sum())
    assert total == pytest.approx(dense.objective, abs=_tolerance(problem, dense))
