"""Rules on any column (issue 15 item 7): Same, Different, Range, AtMost, Diversify.

Hard forms are checked on tiny generated cohorts against a checker written here from each
rule's definition (reading the cohort's columns, not the compiled masks) and against brute
force over every assignment / every partition; soft forms against brute force of the
penalised objective, also computed here from the definitions.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import pairwise
from pairwise.errors import InfeasibleError, ValidationError
from pairwise.results import build
from pairwise.rules import AtMost, Different, Diversify, Range, Same, diversity_terms
from strategies import assert_listed

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SENTINEL = "Zebedee-Quartermaine-SENTINEL"


def with_extra(cohort: pairwise.Cohort, **columns: list[Any]) -> pairwise.Cohort:
    """``cohort`` with these extra columns (one cell per row, cohort order)."""
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    return pairwise.Cohort(**{**vars(cohort), "extra": frame})


# --- the independent checker: each rule's definition on the raw cells -----------------


def blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, float) and math.isnan(cell))


def pair_breaks(rule: Any, x: Any, y: Any) -> bool:
    """Whether the pair (or two circle members) with cells ``x``, ``y`` break ``rule``."""
    if isinstance(rule, Same):
        return blank(x) or blank(y) or x != y
    if isinstance(rule, Different):
        return not blank(x) and not blank(y) and x == y
    if isinstance(rule, Range):
        return not blank(x) and not blank(y) and abs(float(x) - float(y)) > rule.max_spread
    raise AssertionError(rule)


def circle_breaks(rule: Any, cells: list[Any], everyone: list[Any]) -> bool:
    """Whether a circle whose members have ``cells`` breaks the hard ``rule``."""
    if isinstance(rule, Same | Different | Range):
        return any(pair_breaks(rule, a, b) for a, b in itertools.combinations(cells, 2))
    counts: dict[Any, int] = {}
    for c in cells:
        if not blank(c):
            counts[c] = counts.get(c, 0) + 1
    if isinstance(rule, AtMost):
        return any(v > rule.k for v in counts.values())
    if isinstance(rule, Diversify):
        values = {v for v in everyone if not blank(v)}
        for v in values:
            share = sum(1 for c in everyone if c == v) / len(everyone)
            lo, hi = math.floor(rule.sizes[0] * share), math.ceil(rule.sizes[1] * share)
            if not lo <= counts.get(v, 0) <= hi:
                return True
        return False
    raise AssertionError(rule)


def deviation(cells: list[Any], everyone: list[Any]) -> float:
    """``sum_v (c_v - s p_v)^2`` for a circle with ``cells`` (blank: no value)."""
    values = sorted({v for v in everyone if not blank(v)})
    s = len(cells)
    out = 0.0
    for v in values:
        p = sum(1 for c in everyone if c == v) / len(everyone)
        out += (sum(1 for c in cells if c == v) - s * p) ** 2
    return out


# --- drawn tiny cohorts -----------------------------------------------------------------

_team = st.sampled_from(["a", "b", "c", None])
_age = st.one_of(st.integers(18, 30), st.just(float("nan")))


@st.composite
def pair_cases(draw: st.DrawFn) -> tuple[pairwise.Cohort, Any]:
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    cohort = pairwise.make_cohort(n, m, seed=draw(st.integers(0, 50)))
    col = draw(st.sampled_from(["team", "age"]))
    cells = draw(st.lists(_team if col == "team" else _age, min_size=n + m, max_size=n + m))
    cohort = with_extra(cohort, **{col: cells})
    weight = draw(st.one_of(st.none(), st.sampled_from([0.05, 0.3, 2.0])))
    if col == "team":
        rule = draw(st.sampled_from([Same, Different]))(col, weight=weight)
    else:
        rule = Range(col, draw(st.sampled_from([0, 2, 5])), weight=weight)
    return cohort, rule


def brute_pairs(scores: np.ndarray, ok: np.ndarray, cap: np.ndarray, lexi: bool) -> float:
    """Best (matched, total) or total over every assignment of mentees to one mentor or none."""
    n, m = scores.shape
    best: tuple[float, float] | None = None
    for choice in itertools.product(range(-1, m), repeat=n):
        if any(j >= 0 and not ok[i, j] for i, j in enumerate(choice)):
            continue
        if any(choice.count(j) > cap[j] for j in range(m)):
            continue
        total = sum(scores[i, j] for i, j in enumerate(choice) if j >= 0)
        key = (sum(j >= 0 for j in choice) if lexi else 0, total)
        if best is None or key > best:
            best = key
    assert best is not None
    return best[1]


@SETTINGS
@given(pair_cases(), st.sampled_from(["total", "matched-then-total"]))
def test_pairs_keep_hard_rules_and_reach_the_brute_force_optimum(
    case: tuple[pairwise.Cohort, Any], objective: str
) -> None:
    cohort, rule = case
    compat = pairwise.score(cohort)
    p = pairwise.PairProblem.from_compatibility(compat, [rule], objective=objective)  # type: ignore[arg-type]
    cells_a = compat.mentees.extra[rule.column].tolist()
    cells_b = compat.mentors.extra[rule.column].tolist()
    breaks = np.array([[pair_breaks(rule, x, y) for y in cells_b] for x in cells_a])
    raw = np.array(compat.matrix, dtype=np.float64)
    base_ok = np.ones_like(breaks)
    for name in ("avoid",):  # the cohort's avoid lists always apply
        for i, xs in enumerate(getattr(compat.mentees, name)):
            base_ok[i] &= ~np.isin(compat.mentor_ids, list(xs))
        for j, xs in enumerate(getattr(compat.mentors, name)):
            base_ok[:, j] &= ~np.isin(compat.mentee_ids, list(xs))
    if rule.weight is None:
        ok, scores = base_ok & ~breaks, raw
    else:
        ok, scores = base_ok, raw - rule.weight * breaks
    m = pairwise.solve(p, time_limit=5)
    assert pairwise.check(p, m) == []
    for i, j in m.assignment.tolist():
        assert ok[i, j], (i, j)
    want = brute_pairs(
        scores, ok, np.asarray(cohort.capacity)[cohort.role == "mentor"], objective != "total"
    )
    got = sum(scores[i, j] for i, j in m.assignment.tolist())
    assert got == pytest.approx(want, abs=1e-6)
    assert m.objective == pytest.approx(want, abs=1e-6)
    if rule.weight is not None:  # the penalty is a criterion of weight -w, per pair
        col = f"{rule.name} (soft)"
        pairs = m.pairs
        expect = [-rule.weight * breaks[i, j] for i, j in m.assignment.tolist()]
        assert pairs[col].tolist() == pytest.approx(expect)


def test_check_reports_a_pair_that_breaks_a_column_rule() -> None:
    cohort = with_extra(pairwise.make_cohort(2, 2, seed=0), team=list("abab"))
    p = pairwise.PairProblem.from_compatibility(pairwise.score(cohort), [Same("team")])
    good = pairwise.solve(p, time_limit=5)
    assert pairwise.check(p, good) == []
    free = pairwise.PairProblem.from_compatibility(pairwise.score(cohort), [Different("team")])
    bad = pairwise.solve(free, time_limit=5)
    assert len(bad.assignment)
    forged = build(p, _answer_of(bad))
    assert any("not allowed" in v for v in pairwise.check(p, forged))


def _answer_of(m: Any) -> Any:
    from pairwise.solvers.answer import Answer

    return Answer(rows=m.assignment, optimal=False, method="forged")


@st.composite
def circle_cases(draw: st.DrawFn) -> tuple[pairwise.Cohort, Any, int]:
    n = draw(st.integers(4, 6))
    peers = pairwise.make_peers(n, seed=draw(st.integers(0, 50)))
    kind = draw(st.sampled_from(["same", "different", "range", "atmost", "diversify"]))
    if kind == "range":
        cells = draw(st.lists(_age, min_size=n, max_size=n))
        rule: Any = Range("age", draw(st.sampled_from([0, 3, 6])))
        col = "age"
    else:
        cells = draw(st.lists(_team, min_size=n, max_size=n))
        col = "team"
        rule = {
            "same": lambda: Same(col),
            "different": lambda: Different(col),
            "atmost": lambda: AtMost(col, draw(st.integers(1, 2))),
            "diversify": lambda: Diversify(col, sizes=(2, 3)),
        }[kind]()
    return with_extra(peers, **{col: cells}), rule, draw(st.integers(2, 3))


def partitions(n: int, k: int, lo: int, hi: int) -> Any:
    """Every split of ``range(n)`` into ``k`` unlabelled circles of ``lo``..``hi`` people."""
    seen = set()
    for labels in itertools.product(range(k), repeat=n):
        groups = [tuple(i for i in range(n) if labels[i] == g) for g in range(k)]
        if all(lo <= len(g) <= hi for g in groups):
            key = tuple(sorted(groups))
            if key not in seen:
                seen.add(key)
                yield [list(g) for g in key]


def affinity_and_avoid(
    cohort: pairwise.Cohort, aff: Any
) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """The symmetric affinity the circle objective sums, and the avoid pairs by position."""
    raw = np.array(aff.matrix, dtype=np.float64)
    raw = (raw + raw.T) / 2
    np.fill_diagonal(raw, 0.0)
    avoid = {
        (i, j) for i, xs in enumerate(cohort.avoid) for j, y in enumerate(cohort.ids) if y in xs
    }
    return raw, avoid


def within(a: np.ndarray, groups: list[list[int]]) -> float:
    return sum(a[i, j] for g in groups for i, j in itertools.combinations(g, 2))


@SETTINGS
@given(circle_cases())
def test_circles_keep_hard_rules_and_reach_the_brute_force_optimum(
    case: tuple[pairwise.Cohort, Any, int],
) -> None:
    cohort, rule, k = case
    n = len(cohort)
    if k * 3 < n or k * 2 > n:
        k = 2
    aff = pairwise.affinity(cohort)
    cells = cohort.extra[rule.column].tolist()
    raw, avoid = affinity_and_avoid(cohort, aff)
    feasible = [
        g
        for g in partitions(n, k, 2, 3)
        if not any(circle_breaks(rule, [cells[i] for i in c], cells) for c in g)
        and not any((i, j) in avoid or (j, i) in avoid for c in g for i in c for j in c)
    ]
    p = pairwise.CircleProblem.from_compatibility(
        aff, [rule], n_circles=k, min_size=2, max_size=3, objective="total", all_placed=True
    )
    if not feasible:
        with pytest.raises(InfeasibleError):
            pairwise.solve(p, time_limit=5)
        return
    c = pairwise.solve(p, time_limit=5)
    assert pairwise.check(p, c) == []
    groups = [c.members(g).tolist() for g in range(p.n_circles)]
    for g in groups:
        assert not circle_breaks(rule, [cells[i] for i in g], cells), (rule, g)
    best = max(within(raw, g) for g in feasible)
    assert c.status == "optimal"
    assert within(raw, groups) == pytest.approx(best, abs=1e-6)


@st.composite
def soft_circle_cases(draw: st.DrawFn) -> tuple[pairwise.Cohort, Any]:
    n = draw(st.integers(4, 6))
    peers = pairwise.make_peers(n, seed=draw(st.integers(0, 50)))
    weight = draw(st.sampled_from([0.1, 1.0, 5.0]))
    kind = draw(st.sampled_from(["same", "different", "range", "diversify"]))
    if kind == "range":
        cells = draw(st.lists(_age, min_size=n, max_size=n))
        return with_extra(peers, age=cells), Range("age", 3, weight=weight)
    cells = draw(st.lists(_team, min_size=n, max_size=n))
    rule = {"same": Same, "different": Different, "diversify": Diversify}[kind]
    return with_extra(peers, team=cells), rule("team", weight=weight)


def soft_penalty(rule: Any, cells: list[Any], groups: list[list[int]]) -> float:
    """The soft rule's penalty on these circles, from its definition."""
    if isinstance(rule, Diversify):  # deviation minus the member terms (a constant here)
        values = sorted({v for v in cells if not blank(v)})
        member = np.array([[c == v for v in values] for c in cells], dtype=bool)
        _, m = diversity_terms(member.reshape(len(cells), len(values)))
        return rule.weight * sum(
            deviation([cells[i] for i in g], cells) - sum(m[i] for i in g) for g in groups
        )
    broken = sum(
        pair_breaks(rule, cells[i], cells[j])
        for g in groups
        for i, j in itertools.combinations(g, 2)
    )
    return float(rule.weight * broken)


@SETTINGS
@given(soft_circle_cases())
def test_soft_circle_rules_reach_the_brute_force_optimum_of_the_penalised_objective(
    case: tuple[pairwise.Cohort, Any],
) -> None:
    cohort, rule = case
    n = len(cohort)
    aff = pairwise.affinity(cohort)
    cells = cohort.extra[rule.column].tolist()
    raw, avoid = affinity_and_avoid(cohort, aff)
    feasible = [
        g
        for g in partitions(n, 2, 2, 3)
        if not any((i, j) in avoid or (j, i) in avoid for c in g for i in c for j in c)
    ]
    if not feasible:
        return
    p = pairwise.CircleProblem.from_compatibility(
        aff, [rule], n_circles=2, min_size=2, max_size=3, objective="total", all_placed=True
    )
    c = pairwise.solve(p, time_limit=5)
    groups = [c.members(g).tolist() for g in range(p.n_circles)]
    best = max(within(raw, g) - soft_penalty(rule, cells, g) for g in feasible)
    got = within(raw, groups) - soft_penalty(rule, cells, groups)
    assert got == pytest.approx(best, abs=1e-6)
    assert c.objective == pytest.approx(best, abs=1e-6)
    assert c.bound is not None and c.bound >= best - 1e-6
    for g, members in enumerate(groups):  # explain reports the penalty per circle
        e = c.explain(circle=g)
        assert e.penalties[rule.name] == pytest.approx(soft_penalty(rule, cells, [members]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=1, max_size=9),
    st.data(),
)
def test_diversify_deviation_is_pair_terms_plus_member_terms(
    rows: list[list[bool]], data: st.DataObject
) -> None:
    member = np.array(rows, dtype=bool)
    n = len(member)
    circle = data.draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=n))
    t, m = diversity_terms(member)
    p = member.mean(axis=0)
    s = len(circle)
    counts = member[circle].sum(axis=0)
    direct = float(((counts - s * p) ** 2).sum())
    pairs = sum(t[i, j] for i, j in itertools.combinations(circle, 2))
    assert pairs + sum(m[i] for i in circle) == pytest.approx(direct, abs=1e-9)


# --- adversarial input --------------------------------------------------------------------


def test_an_unknown_column_names_the_columns_there_are() -> None:
    cohort = with_extra(pairwise.make_cohort(2, 2, seed=0), team=list("abab"))
    with pytest.raises(ValidationError) as e:
        pairwise.PairProblem.from_compatibility(pairwise.score(cohort), [Same("tema")])
    assert_listed(e.value, [(None, "tema", "unknown column")])
    assert "team" in str(e.value)
    with pytest.raises(ValidationError) as e:
        pairwise.CircleProblem.from_compatibility(
            pairwise.affinity(with_extra(pairwise.make_peers(4, seed=0), team=list("abab"))),
            [AtMost("tema", 1)],
        )
    assert_listed(e.value, [(None, "tema", "unknown column")])


def test_cells_that_are_not_numbers_are_listed_by_id_on_both_sides_without_their_text() -> None:
    cohort = pairwise.make_cohort(2, 2, seed=0)
    cohort = with_extra(cohort, age=[30, SENTINEL, float("nan"), "abc" + SENTINEL])
    with pytest.raises(ValidationError) as e:
        pairwise.PairProblem.from_compatibility(pairwise.score(cohort), [Range("age", 3)])
    assert_listed(
        e.value, [("mentee-0002", "age", "not a number"), ("mentor-0002", "age", "not a number")]
    )
    assert "Zebedee" not in str(e.value)
    inf = with_extra(pairwise.make_peers(3, seed=0), age=[1, math.inf, True])
    with pytest.raises(ValidationError) as e:
        pairwise.CircleProblem.from_compatibility(
            pairwise.affinity(inf), [Range("age", 3)], min_size=3, max_size=3
        )
    assert_listed(
        e.value, [("peer-0002", "age", "not a finite number"), ("peer-0003", "age", "not a number")]
    )


def test_blank_cells_never_break_different_or_range_and_never_meet_same() -> None:
    cohort = with_extra(
        pairwise.make_cohort(1, 2, seed=0), team=[None, float("nan"), "a"], age=[1, "  ", 99]
    )
    compat = pairwise.score(cohort)
    assert Different("team").compile(compat).forbidden.tolist() == [[False, False]]
    assert Same("team").compile(compat).forbidden.tolist() == [[True, True]]
    assert Range("age", 0).compile(compat).forbidden.tolist() == [[False, True]]


@pytest.mark.parametrize(
    ("make", "problems"),
    [
        (lambda: AtMost("team", 0), ["bad k"]),
        (lambda: AtMost("team", 1.5), ["bad k"]),
        (lambda: AtMost("team", True), ["bad k"]),
        (lambda: AtMost("", 0), ["bad column", "bad k"]),
        (lambda: AtMost("team", 2, weight=1.0), ["hard only"]),
        (lambda: Range("age", -1), ["bad max_spread"]),
        (lambda: Range("age", float("nan")), ["bad max_spread"]),
        (lambda: Range("age", "3"), ["bad max_spread"]),
        (lambda: Range(3, -1, weight=0), ["bad column", "bad weight", "bad max_spread"]),
        (lambda: Same("team", weight=-1), ["bad weight"]),
        (lambda: Same("team", weight=math.inf), ["bad weight"]),
        (lambda: Different(None), ["bad column"]),
        (lambda: Diversify("team", sizes=(3, 2)), ["bad sizes"]),
        (lambda: Diversify("team", sizes=(0, 2), weight="x"), ["bad weight", "bad sizes"]),
    ],
)
def test_bad_options_list_every_problem(make: Any, problems: list[str]) -> None:
    with pytest.raises(ValidationError) as e:
        make()
    assert_listed(e.value, [(None, None, part) for part in problems])


def test_pairs_refuse_diversify_with_a_validation_error() -> None:
    cohort = with_extra(pairwise.make_cohort(2, 2, seed=0), team=list("abab"))
    compat = pairwise.score(cohort)
    with pytest.raises(ValidationError, match="not a pair rule"):
        pairwise.PairProblem.from_compatibility(compat, [Diversify("team")])  # type: ignore[list-item]


def test_standard_columns_work_and_range_refuses_a_text_column() -> None:
    cohort = pairwise.make_cohort(3, 2, seed=1)
    compat = pairwise.score(cohort)
    same = Same("region").compile(compat).forbidden
    regions_a, regions_b = compat.mentees.region, compat.mentors.region
    assert same.tolist() == [[a is None or a != b for b in regions_b] for a in regions_a]
    with pytest.raises(ValidationError) as e:
        Range("region", 1).compile(compat)
    assert_listed(e.value, [(None, "region", "not a numeric column")])


def test_diversify_takes_the_problems_sizes_when_given_none() -> None:
    cohort = with_extra(pairwise.make_peers(9, seed=3), team=list("aaabbbccd"))
    aff = pairwise.affinity(cohort)

    def bounds(rule: Any, **sizes: Any) -> list[tuple[int, int]]:
        p = pairwise.CircleProblem.from_compatibility(aff, [rule], **sizes)
        return [(c.at_least, c.at_most) for c in p.counts]

    # shares 1/3, 1/3, 2/9, 1/9: floor(2 p) .. ceil(3 p) for circles of 2-3
    assert bounds(Diversify("team"), min_size=2, max_size=3) == [(0, 1), (0, 1), (0, 1), (0, 1)]
    assert bounds(Diversify("team"), min_size=2, max_size=3) == bounds(
        Diversify("team", sizes=(2, 3)), min_size=2, max_size=3
    )
    assert bounds(Diversify("team"), min_size=[3, 3, 3], max_size=[3, 3, 3]) == [
        (1, 1),
        (1, 1),
        (0, 1),
        (0, 1),
    ]
    assert bounds(Diversify("team", sizes=(4, 6))) == bounds(Diversify("team"))  # 4-6 default


def test_everyone_matched_names_the_rule_that_rules_out_the_other_mentors() -> None:
    cohort = with_extra(pairwise.make_cohort(4, 3, seed=0), team=list("aaababc"))
    compat = pairwise.score(cohort)
    p = pairwise.PairProblem.from_compatibility(
        compat, [Same("team"), pairwise.rules.AllMatched(), pairwise.rules.Capacity(override=1)]
    )
    with pytest.raises(InfeasibleError) as err:
        pairwise.solve(p)
    text = str(err.value)
    # three mentees of team a, one mentor of team a with one place; the other two mentors
    # (teams b and c) are ruled out by the rule (the avoid lists may add to it)
    assert "3 mentees need 3 mentor places" in text, text
    assert "the other 2 mentors are ruled out for them by: " in text, text
    assert "same team (2)" in text, text
