"""CP-SAT for pairs (issue 15 item 8): it keeps what it found, with a proven bound, and tells
an infeasible problem (InfeasibleError at once, naming the rules) from a slow one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

import pairwise
from pairwise import InfeasibleError, PairProblem
from pairwise.cli import EXIT_INFEASIBLE, main
from pairwise.fairness import with_match_rate
from pairwise.results import build
from pairwise.solvers import _cpsat
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.pairs import cpsat, solve_pairs
from pairwise.solvers.pairs.cpsat import relaxed_bound, solve_cpsat
from pairwise.solvers.pairs.feasibility import feasible_pairs

#: Long enough that a search left to find infeasibility on its own would hang the test.
LONG = 60.0


class TinyBudget(TimePlan):
    """A plan whose deterministic budget is that of a tiny limit, with a clock that never
    stops the solve: which phases finish depends on CP-SAT's deterministic time only."""

    def left(self, *, net: bool = True) -> float:
        return 120.0

    def deadline(self, *, net: bool = True) -> float:
        return float("inf")


def _random(objective: Any = "matched-then-total") -> PairProblem:
    rng = np.random.default_rng(0)
    return PairProblem.from_scores(rng.random((200, 20)), capacity=3, objective=objective)


def test_the_issue_example_returns_an_answer_within_its_limit() -> None:
    p = _random()
    m = pairwise.solve(p, method="cpsat", time_limit=2)
    assert m.status in ("optimal", "feasible")
    assert pairwise.check(p, m) == []
    assert m.bound is not None and m.bound >= m.objective
    exact = pairwise.solve(p, method="flow")
    assert len(m.assignment) == len(exact.assignment)  # the flow's start holds the most pairs
    assert m.bound >= exact.objective - 1e-6


@pytest.mark.parametrize("objective", ["matched-then-total", "maxmin", "covered-then-total"])
def test_a_phase_out_of_time_keeps_the_earlier_answer_with_a_valid_bound(objective: Any) -> None:
    p = _random(objective)
    plan = TinyBudget(0.001)  # every phase gets CP-SAT's least budget, 0.01 deterministic s
    answer = solve_pairs(p, "cpsat", plan, Seeds(0))
    result = build(p, answer, plan.limit)
    assert result.status == "feasible"
    assert pairwise.check(p, result) == []
    exact = pairwise.solve(p, method="flow")
    assert result.bound is not None and result.bound >= result.objective
    assert result.bound >= exact.objective - 1e-6  # a bound on the optimum, not only on this
    if objective != "total":
        assert len(result.assignment) == len(exact.assignment)


def test_each_phase_gets_a_share_of_what_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    budgets: list[float] = []
    real = _cpsat.make_solver

    def spy(plan: TimePlan, budget: float, *args: Any, **kw: Any) -> cp_model.CpSolver:
        budgets.append(budget)
        return real(plan, budget, *args, **kw)

    monkeypatch.setattr(cpsat, "make_solver", spy)
    p = _random("covered-then-total")  # three CP-SAT phases (maxmin's floor is a flow's)
    plan = TimePlan.of(3.0)
    solve_cpsat(p, plan, Seeds(0), start=feasible_pairs(p))
    total = _cpsat.DETERMINISTIC_SHARE * plan.limit
    # phase k of 3 may use at most 1/(3 - k) of what is left (at most of the whole budget)
    assert 1 <= len(budgets) <= 3
    assert budgets[0] == pytest.approx(total / 3)
    assert all(b <= total / (3 - k) + 1e-9 for k, b in enumerate(budgets))


def test_the_rules_are_plain_constraints_the_lp_relaxation_sees() -> None:
    p = PairProblem.from_scores(
        np.ones((5, 3)), capacity=2, minimum=1, required=[(0, 0)], all_matched=True, demand=1
    )
    plain = cpsat._Model(p)
    assert all(not c.enforcement_literal for c in plain.model.proto.constraints)
    assumed = cpsat._Model(p, assumed=True)
    assert sum(bool(c.enforcement_literal) for c in assumed.model.proto.constraints) >= 3


def test_an_infeasible_everyone_matched_problem_is_named_at_once() -> None:
    p = PairProblem.from_scores(np.ones((12, 10)), capacity=1, all_matched=True)
    with pytest.raises(InfeasibleError, match="12 mentees need 12 mentor places"):
        pairwise.solve(p, method="cpsat", time_limit=LONG)


def test_infeasible_minimum_loads_are_named_at_once() -> None:
    p = PairProblem.from_scores(np.ones((9, 6)), capacity=3, minimum=2)
    with pytest.raises(InfeasibleError, match="6 mentors must each get 2 but only 9 mentees"):
        pairwise.solve(p, method="cpsat", time_limit=LONG)


def test_required_pairs_that_break_a_rule_are_named_at_once() -> None:
    p = PairProblem.from_scores([[np.nan, 1.0], [1.0, 1.0]], required=[(0, 0)])
    with pytest.raises(InfeasibleError, match="required pair"):
        pairwise.solve(p, method="cpsat", time_limit=LONG)
    q = PairProblem.from_scores(np.ones((2, 1)), capacity=1, required=[(0, 0), (1, 0)])
    with pytest.raises(InfeasibleError, match="capacity is 1"):
        pairwise.solve(q, method="cpsat", time_limit=LONG)


def test_group_floors_that_cannot_hold_together_are_named() -> None:
    # mentee 1 (group a) and both of group b can only go to mentor 0 (capacity 1)
    scores = np.full((5, 2), np.nan)
    scores[:, 0] = 1.0
    scores[[0, 4], 1] = 1.0
    p = PairProblem.from_scores(scores, capacity=[1, 5])
    p = with_match_rate(p, ["a", "a", "b", "b", "c"], at_least={"a": 1.0, "b": 0.5})
    with pytest.raises(InfeasibleError) as err:
        pairwise.solve(p, method="cpsat", time_limit=LONG)
    assert "group" in str(err.value) or "at least" in str(err.value)


def test_the_unsat_core_of_a_model_the_flow_did_not_screen_names_the_rules() -> None:
    # straight to the core (no flow check first): the model with assumptions names them
    p = PairProblem.from_scores(
        [[0.5], [0.6], [0.7]], capacity=2, all_matched=True, mentor_ids=["mentor-A"]
    )
    with pytest.raises(InfeasibleError) as err:
        solve_cpsat(p, TimePlan.of(LONG), Seeds(0))
    assert "capacity 2 of mentor mentor-A" in str(err.value)
    assert "every mentee matched" in str(err.value)


def test_the_cli_exits_1_for_an_infeasible_cpsat_programme(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    pairwise.make_cohort(30, 10, seed=1).to_frame(flat=True).to_csv("answers.csv", index=False)
    (tmp_path / "tight.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n'
        '[[rules]]\ntype = "Capacity"\noverride = 1\n[[rules]]\ntype = "AllMatched"\n'
        f'[solve]\nmethod = "cpsat"\ntime_limit = {LONG}\n'
    )
    assert main(["match", "tight.toml"]) == EXIT_INFEASIBLE
    assert "30 mentees need 30 mentor places" in capsys.readouterr().err


def test_relaxed_bound_is_above_every_objective() -> None:
    rng = np.random.default_rng(5)
    s = rng.normal(size=(6, 4))
    for objective in ("matched-then-total", "total", "maxmin", "covered-then-total"):
        p = PairProblem.from_scores(s, capacity=2, demand=2, objective=objective)  # type: ignore[arg-type]
        assert relaxed_bound(p) >= pairwise.solve(p, method="flow").objective - 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 2**16),
    st.sampled_from(["matched-then-total", "total", "maxmin", "covered-then-total"]),
    st.booleans(),
)
def test_cpsat_tells_infeasible_from_feasible_as_flow_does(
    n: int, m: int, seed: int, objective: Any, everyone: bool
) -> None:
    rng = np.random.default_rng(seed)
    scores = np.where(rng.random((n, m)) < 0.4, np.nan, rng.random((n, m)).round(2))
    cap = rng.integers(0, 3, m)
    p = PairProblem.from_scores(
        scores,
        capacity=cap,
        demand=rng.integers(1, 3, n),
        minimum=np.minimum(rng.integers(0, 2, m), cap),
        all_matched=everyone,
        objective=objective,
    )
    try:
        flow = pairwise.solve(p, method="flow")
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            pairwise.solve(p, method="cpsat", time_limit=LONG)
        return
    sat = pairwise.solve(p, method="cpsat", time_limit=LONG)
    assert pairwise.check(p, sat) == []
    assert sat.status == "optimal"
    assert sat.objective == pytest.approx(flow.objective, abs=1e-4)
