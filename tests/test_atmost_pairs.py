"""AtMost on pairs (issue 15 item 7): at most ``k`` of a mentor's mentees per value.

The optimum is checked against brute force over every assignment of mentees to one mentor
or none, under every objective the rule combines with, with the cap counted here from the
raw cells (not from the compiled :class:`~pairwise.rules.ValueCap`); ``check`` must catch
a forged answer that breaks it, infeasible caps must name the rule, and re-matching must
keep it.
"""

from __future__ import annotations

import itertools
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import pairwise
from pairwise.errors import InfeasibleError, ValidationError
from pairwise.results import build
from pairwise.rules import AllMatched, AtMost, Capacity
from pairwise.solvers.answer import Answer
from test_column_rules import blank, with_extra

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SENTINEL = "Zebedee-Quartermaine-SENTINEL"
OBJECTIVES = ["total", "matched-then-total", "maxmin", "covered-then-total"]


def values(cell: Any) -> set[str]:
    """The values a cell holds (a list cell holds each of its items)."""
    if isinstance(cell, list):
        return {str(x) for x in cell}
    return set() if blank(cell) else {str(cell)}


def breaks_cap(choice: tuple[int, ...], cells: list[Any], k: int) -> bool:
    """Whether mentees choosing mentors ``choice`` (-1: none) give a mentor > k of a value."""
    count: dict[tuple[int, str], int] = {}
    for i, j in enumerate(choice):
        if j >= 0:
            for v in values(cells[i]):
                count[(j, v)] = count.get((j, v), 0) + 1
    return any(c > k for c in count.values())


def key(objective: str, scores: np.ndarray, choice: tuple[int, ...]) -> tuple[float, ...]:
    """The lexicographic value of an assignment under ``objective`` (demand 1)."""
    on = [(i, j) for i, j in enumerate(choice) if j >= 0]
    total = float(sum(scores[i, j] for i, j in on))
    if objective == "total":
        return (total,)
    if objective == "matched-then-total":
        return (len(on), total)
    if objective == "maxmin":
        return (len(on), min((scores[i, j] for i, j in on), default=0.0), total)
    return (len(on), len({j for _, j in on}), total)  # covered-then-total


def brute(
    scores: np.ndarray,
    ok: np.ndarray,
    cap: np.ndarray,
    low: np.ndarray,
    everyone: bool,
    cells: list[Any],
    k: int,
    objective: str,
) -> tuple[float, ...] | None:
    """The best key over every assignment keeping every rule; ``None``: infeasible."""
    n, m = scores.shape
    best: tuple[float, ...] | None = None
    for choice in itertools.product(range(-1, m), repeat=n):
        if any(j >= 0 and not ok[i, j] for i, j in enumerate(choice)):
            continue
        loads = [choice.count(j) for j in range(m)]
        if any(loads[j] > cap[j] or loads[j] < low[j] for j in range(m)):
            continue
        if everyone and -1 in choice:
            continue
        if breaks_cap(choice, cells, k):
            continue
        value = key(objective, scores, choice)
        if best is None or value > best:
            best = value
    return best


# "a" often, so that caps bind (in about a quarter of the drawn cases; 1 in 40 infeasible)
_cell = st.one_of(
    st.sampled_from(["a", "a", "a", "b", None]), st.lists(st.sampled_from(["a", "b"]), min_size=1)
)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    cohort = pairwise.make_cohort(n, m, seed=draw(st.integers(0, 40)))
    cells = draw(st.lists(_cell, min_size=n, max_size=n)) + [None] * m
    cap = draw(st.lists(st.integers(1, 3), min_size=m, max_size=m))
    low = [min(c, draw(st.integers(0, 1))) for c in cap] if draw(st.booleans()) else [0] * m
    return {
        "cohort": with_extra(cohort, team=cells),
        "cap": np.array(cap),
        "low": np.array(low),
        "k": draw(st.sampled_from([1, 1, 2])),
        "everyone": draw(st.booleans()) and n <= 3,
        "objective": draw(st.sampled_from(OBJECTIVES)),
        "method": draw(st.sampled_from(["auto", "cpsat"])),
    }


def allowed_by_cohort(compat: pairwise.Compatibility) -> np.ndarray:
    """Pairs the cohort's avoid lists allow (they always apply)."""
    ok = np.ones(compat.shape, dtype=bool)
    for i, xs in enumerate(compat.mentees.avoid):
        ok[i] &= ~np.isin(compat.mentor_ids, list(xs))
    for j, xs in enumerate(compat.mentors.avoid):
        ok[:, j] &= ~np.isin(compat.mentee_ids, list(xs))
    return ok


@SETTINGS
@given(cases())
def test_atmost_pairs_reach_the_brute_force_optimum_and_keep_the_cap(case: dict[str, Any]) -> None:
    compat = pairwise.score(case["cohort"])
    rules: list[Any] = [
        Capacity(override=case["cap"].tolist(), minimum=case["low"].tolist()),
        AtMost("team", case["k"]),
    ]
    if case["everyone"]:
        rules.append(AllMatched())
    p = pairwise.PairProblem.from_compatibility(compat, rules, objective=case["objective"])
    scores = np.array(compat.matrix, dtype=np.float64)
    cells = compat.mentees.extra["team"].tolist()
    want = brute(
        scores,
        allowed_by_cohort(compat),
        case["cap"],
        case["low"],
        case["everyone"],
        cells,
        case["k"],
        case["objective"],
    )
    if want is None:
        with pytest.raises(InfeasibleError):
            pairwise.solve(p, method=case["method"], time_limit=5)
        return
    m = pairwise.solve(p, method=case["method"], time_limit=5)
    assert m.status == "optimal"
    assert pairwise.check(p, m) == []
    n = compat.shape[0]
    choice = [-1] * n
    for i, j in m.assignment.tolist():
        choice[i] = j
    assert not breaks_cap(tuple(choice), cells, case["k"])
    assert key(case["objective"], scores, tuple(choice)) == pytest.approx(want, abs=1e-6)


def _teams(n: int, m: int, team: list[Any], seed: int = 3) -> pairwise.Compatibility:
    cohort = with_extra(pairwise.make_cohort(n, m, seed=seed), team=team + [None] * m)
    return pairwise.score(cohort)


def test_the_cap_changes_the_answer_and_check_catches_a_forged_one() -> None:
    compat = _teams(6, 2, list("aaabbb"))
    free = pairwise.PairProblem.from_compatibility(compat, [Capacity(3)])
    capped = pairwise.PairProblem.from_compatibility(compat, [Capacity(3), AtMost("team", 1)])
    m = pairwise.solve(capped, time_limit=5)
    assert pairwise.check(capped, m) == []
    assert len(m.assignment) == 4  # one "a" and one "b" per mentor
    loose = pairwise.solve(free, time_limit=5)
    assert len(loose.assignment) == 6
    forged = build(capped, Answer(rows=loose.assignment, optimal=False, method="forged"))
    found = pairwise.check(capped, forged)
    assert found and all("at most 1 per team: mentor" in v for v in found)
    assert any("has 2 mentees of team a, at most 1 allowed" in v for v in found)


@pytest.mark.parametrize("method", ["flow", "sparse", "assignment"])
def test_methods_without_the_cap_refuse_it(method: str) -> None:
    compat = _teams(4, 4, list("abab"))
    p = pairwise.PairProblem.from_compatibility(compat, [AtMost("team", 1)])
    with pytest.raises(ValidationError, match="does not do at most 1 per team"):
        pairwise.solve(p, method=method, time_limit=5)


def test_auto_says_it_used_cpsat() -> None:
    compat = _teams(4, 2, list("aabb"))
    p = pairwise.PairProblem.from_compatibility(compat, [Capacity(2), AtMost("team", 1)])
    assert pairwise.solve(p, time_limit=5).method == "cpsat"


def test_stable_objectives_refuse_the_cap() -> None:
    compat = _teams(4, 2, list("aabb"))
    p = pairwise.PairProblem.from_compatibility(
        compat, [AtMost("team", 1)], objective="stable-mentee"
    )
    with pytest.raises(ValidationError, match="no value caps"):
        pairwise.solve(p, time_limit=5)


def test_an_infeasible_cap_names_the_rule_never_a_small_groups_value() -> None:
    # two mentees share a value only they hold, one mentor: both cannot be matched
    compat = _teams(2, 1, [SENTINEL, SENTINEL])
    p = pairwise.PairProblem.from_compatibility(
        compat, [Capacity(2), AtMost("team", 1), AllMatched()]
    )
    with pytest.raises(InfeasibleError) as e:
        pairwise.solve(p, time_limit=5)
    text = str(e.value)
    assert "at most 1 per team: mentor" in text
    assert "a group of 2 (team)" in text
    assert SENTINEL not in text


def test_a_missing_column_is_a_validation_error_listing_the_columns() -> None:
    compat = _teams(2, 1, ["a", "b"])
    with pytest.raises(ValidationError, match="unknown column") as e:
        pairwise.PairProblem.from_compatibility(compat, [AtMost("tema", 1)])
    assert "team" in str(e.value)


def test_rematch_keeps_the_cap() -> None:
    compat = _teams(8, 3, list("aabbaabb"), seed=5)
    p = pairwise.PairProblem.from_compatibility(compat, [Capacity(3), AtMost("team", 1)])
    m = pairwise.solve(p, time_limit=5)
    assert pairwise.check(p, m) == []
    a, b = m.pairs[["mentee_id", "mentor_id"]].iloc[0]
    r = pairwise.rematch(m, p, broken=[(a, b)], time_limit=5)
    assert pairwise.check(r.result.problem, r.result) == []
    choice = {i: j for i, j in r.result.assignment.tolist()}
    cells = compat.mentees.extra["team"].tolist()
    assert not breaks_cap(tuple(choice.get(i, -1) for i in range(8)), cells, 1)


def test_a_list_column_counts_each_value() -> None:
    compat = _teams(3, 1, [["a", "b"], ["a"], ["b"]])
    p = pairwise.PairProblem.from_compatibility(compat, [Capacity(3), AtMost("team", 1)])
    m = pairwise.solve(p, time_limit=5)
    # the first mentee holds both values: with her, nobody else; without her, both others
    assert sorted(i for i, _ in m.assignment.tolist()) in ([0], [1, 2])
    assert len(m.assignment) == 2
