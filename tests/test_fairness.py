"""Fairness across groups (issue 15 item 5): metrics by group, match-rate floors, fair objectives.

Every solve is compared with an independent reference on small problems: brute force over
every set of allowed pairs (lexicographic objectives, exact fractions for the rates) and
scipy's MILP (floors with the default objective).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from scipy.optimize import Bounds, LinearConstraint, milp

import pairwise
from pairwise import rules
from pairwise.errors import InfeasibleError, ValidationError
from pairwise.fairness import MISSING, groups_of, with_match_rate

FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def small(draw, max_n=4, max_m=3):
    """A small problem with integer scores, and a group label (0-2 or None) per mentee."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    scores = np.array(
        draw(st.lists(st.integers(0, 9), min_size=n * m, max_size=n * m)), dtype=float
    ).reshape(n, m)
    forbidden = np.array(
        draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)), dtype=bool
    ).reshape(n, m)
    capacity = draw(st.lists(st.integers(0, 2), min_size=m, max_size=m))
    demand = draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))
    labels = draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    return scores, forbidden, capacity, demand, labels


def _problem(case, objective="matched-then-total"):
    scores, forbidden, capacity, demand, _ = case
    return pairwise.PairProblem.from_scores(
        scores, forbidden=forbidden, capacity=capacity, demand=demand, objective=objective
    )


def _feasible_sets(p):
    """Every set of allowed pairs within demands and capacities (brute force)."""
    cells = [tuple(c) for c in np.argwhere(p.allowed).tolist()]
    for r in range(len(cells) + 1):
        for chosen in itertools.combinations(cells, r):
            per_a = np.bincount([i for i, _ in chosen], minlength=p.shape[0])
            per_b = np.bincount([j for _, j in chosen], minlength=p.shape[1])
            if (per_a <= p.demand).all() and (per_b <= p.capacity).all():
                yield chosen


def _floors_hold(p, chosen):
    has = {i for i, _ in chosen}
    return all(sum(i in has for i in f.members.tolist()) >= f.at_least for f in p.group_floors)


def _rates(p, chosen):
    has = {i for i, _ in chosen}
    out = [
        Fraction(sum(i in has for i in f.members.tolist()), len(f.members)) for f in p.group_floors
    ]
    return sorted(out)


def _total(p, chosen):
    return round(sum(p.scores[i, j] for i, j in chosen))


def _mentee_floor(p, chosen):
    totals = {}
    for i, j in chosen:
        totals[i] = totals.get(i, 0.0) + p.scores[i, j]
    return round(min(totals.values())) if totals else 0


def _value(p, chosen, objective):
    """The lexicographic value the objective maximises, as a comparable tuple."""
    if objective == "maxmin-group":
        return (*_rates(p, chosen), _total(p, chosen))
    if objective == "maxmin-mentee":
        return (len(chosen), _mentee_floor(p, chosen), _total(p, chosen))
    return (len(chosen), _total(p, chosen))


def _pairs(m):
    return [tuple(r) for r in m.assignment.tolist()]


@FEW
@given(small(), st.sampled_from([0.0, 0.34, 0.5, 1.0]))
def test_floors_match_brute_force(case, rate):
    """Floors are never violated, infeasible exactly when no set of pairs meets them, and
    the answer is the best (count, total) among sets that meet them."""
    p = with_match_rate(_problem(case), case[4], at_least=rate)
    best = max(
        (_value(p, c, "matched-then-total") for c in _feasible_sets(p) if _floors_hold(p, c)),
        default=None,
    )
    if best is None:
        with pytest.raises(InfeasibleError):
            pairwise.solve(p, time_limit=5)
        return
    m = pairwise.solve(p, time_limit=5)
    assert pairwise.check(p, m) == []
    assert _floors_hold(p, _pairs(m))
    assert m.status == "optimal"
    assert _value(p, _pairs(m), "matched-then-total") == best


@FEW
@given(small(), st.sampled_from(["maxmin-group", "maxmin-mentee"]))
def test_fair_objectives_match_brute_force(case, objective):
    p = with_match_rate(_problem(case, objective), case[4], at_least=0.0)
    best = max(_value(p, c, objective) for c in _feasible_sets(p))
    m = pairwise.solve(p, time_limit=5)
    assert pairwise.check(p, m) == []
    assert m.status == "optimal"
    assert _value(p, _pairs(m), objective) == best


def _milp_best(p):
    """Most pairs, then the most total, under the floors, by scipy's MILP (None: infeasible)."""
    n, m = p.shape
    cells = np.argwhere(p.allowed)
    k = len(cells)
    weight = 1000.0  # above any total (scores 0-9, at most 40 pairs)
    c = np.concatenate([-(weight + p.scores[cells[:, 0], cells[:, 1]]), np.zeros(n)])
    rows, lo, hi = [], [], []
    for i in range(n):
        row = np.zeros(k + n)
        row[:k] = cells[:, 0] == i
        rows.append(row.copy())
        lo.append(0)
        hi.append(p.demand[i])
        row[k + i] = -1  # y_i <= sum of her pairs
        rows.append(row)
        lo.append(0)
        hi.append(np.inf)
    for j in range(m):
        rows.append(np.concatenate([cells[:, 1] == j, np.zeros(n)]).astype(float))
        lo.append(0)
        hi.append(p.capacity[j])
    for f in p.group_floors:
        row = np.zeros(k + n)
        row[k + f.members] = 1
        rows.append(row)
        lo.append(f.at_least)
        hi.append(np.inf)
    res = milp(
        c,
        constraints=LinearConstraint(np.array(rows), lo, hi),
        integrality=np.ones(k + n),
        bounds=Bounds(0, 1),
    )
    if res.status == 2:
        return None
    x = np.rint(res.x[:k]).astype(bool)
    return int(x.sum()), round(float(p.scores[cells[x, 0], cells[x, 1]].sum()))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small(max_n=8, max_m=4), st.sampled_from([0.25, 0.5, 0.75]))
def test_floors_match_the_milp(case, rate):
    p = with_match_rate(_problem(case), case[4], at_least=rate)
    best = _milp_best(p)
    if best is None:
        with pytest.raises(InfeasibleError):
            pairwise.solve(p, time_limit=5)
        return
    m = pairwise.solve(p, time_limit=5)
    assert pairwise.check(p, m) == []
    assert (len(m.assignment), round(m.objective)) == best


def test_metrics_by_region_and_a_list_column():
    compat = pairwise.score(pairwise.make_cohort(60, 10, seed=2))
    p = pairwise.PairProblem.from_compatibility(compat, [rules.SharedLanguage()])
    m = pairwise.solve(p)
    table = m.metrics(by="region")
    assert list(table.columns) == ["mentees", "matched", "match_rate", "mean_score", "min_score"]
    assert table.mentees.sum() == 60
    assert table.matched.sum() == m.metrics()["matched"]
    region = np.asarray(compat.mentees.region, dtype=object)
    has = np.zeros(60, dtype=bool)
    has[m.assignment[:, 0]] = True
    for value, row in table.iterrows():
        inside = region == value
        assert row.mentees == inside.sum() and row.matched == has[inside].sum()
    langs = m.metrics(by="languages")
    assert langs.mentees.sum() >= 60  # a mentee counts in each of her languages
    assert isinstance(m.metrics(), dict)  # without by: today's dict


def test_metrics_by_an_extra_column_and_missing_values():
    cohort = pairwise.make_cohort(12, 4, seed=3)
    frame = cohort.to_frame()
    frame["track"] = ["x", "y", None, np.nan] * 4
    compat = pairwise.score(pairwise.Cohort.from_frame(frame))
    m = pairwise.solve(pairwise.PairProblem.from_compatibility(compat))
    table = m.metrics(by="track")
    assert MISSING in table.index
    assert table.mentees.sum() == 12


def test_metrics_by_labels_on_a_plain_matrix():
    p = pairwise.PairProblem.from_scores(np.array([[0.9], [0.8], [0.1]]))
    m = pairwise.solve(p)
    table = m.metrics(by=["a", "a", "b"])
    assert table.match_rate.to_dict() == {"a": 0.5, "b": 0.0}


@pytest.mark.parametrize("by", ["regoin", "", ["a", "b"], [["a"], ["b"], ["c"]]])
def test_bad_group_column_is_a_validation_error(by):
    compat = pairwise.score(pairwise.make_cohort(3, 1, seed=1))
    m = pairwise.solve(pairwise.PairProblem.from_compatibility(compat))
    with pytest.raises(ValidationError) as err:
        m.metrics(by=by)
    if by == "regoin":
        assert "regoin" in str(err.value) and "region" in str(err.value)


def test_unknown_column_on_a_plain_matrix_says_what_to_pass():
    m = pairwise.solve(pairwise.PairProblem.from_scores([[1.0]]))
    with pytest.raises(ValidationError, match="one per mentee"):
        m.metrics(by="region")


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan"), True, "half", None, {"zz": 0.5}])
def test_bad_rates_are_validation_errors(rate):
    compat = pairwise.score(pairwise.make_cohort(20, 5, seed=1))
    with pytest.raises(ValidationError):
        pairwise.PairProblem.from_compatibility(compat, [rules.MatchRate("region", at_least=rate)])


def test_bad_rate_for_a_value_and_unknown_column():
    compat = pairwise.score(pairwise.make_cohort(20, 5, seed=1))
    value = str(compat.mentees.region[0])
    with pytest.raises(ValidationError):
        pairwise.PairProblem.from_compatibility(
            compat, [rules.MatchRate("region", at_least={value: 2.0})]
        )
    with pytest.raises(ValidationError, match="nowhere"):
        pairwise.PairProblem.from_compatibility(compat, [rules.MatchRate("nowhere", 0.5)])


def test_infeasible_floor_is_explained_per_group():
    scores = np.ones((6, 2))
    scores[:3, :] = np.nan  # group n's mentees have no allowed mentor
    p = with_match_rate(
        pairwise.PairProblem.from_scores(scores, capacity=3), ["n"] * 3 + ["s"] * 3, 0.6
    )
    with pytest.raises(InfeasibleError) as err:
        pairwise.solve(p, time_limit=5)
    assert (
        "group n: 3 mentees, at least 2 must be matched, but only 0 have an allowed mentor "
        "with room" in str(err.value)
    )


def test_floors_beyond_capacity_are_proved_at_once():
    p = with_match_rate(
        pairwise.PairProblem.from_scores(np.ones((10, 2))), ["a"] * 5 + ["b"] * 5, 0.6
    )
    with pytest.raises(InfeasibleError, match="room for 2"):
        pairwise.solve(p, time_limit=5)


def test_a_small_group_is_not_named():
    p = with_match_rate(
        pairwise.PairProblem.from_scores([[np.nan], [1.0], [1.0], [1.0]]),
        ["secret", "x", "x", "x"],
        1.0,
    )
    with pytest.raises(InfeasibleError) as err:
        pairwise.solve(p, time_limit=5)
    assert "secret" not in str(err.value)


def test_check_reports_a_broken_floor():
    p = pairwise.PairProblem.from_scores(np.array([[0.9], [0.8], [0.1]]))
    plain = pairwise.solve(p)
    fair = with_match_rate(p, ["a", "a", "b"], at_least={"b": 1.0})
    assert pairwise.check(fair, plain) == [
        "a group of 1 (group): 0 of 1 mentees matched, at least 1 must be"
    ]
    assert pairwise.check(fair, pairwise.solve(fair)) == []


@pytest.mark.parametrize("method", ["flow", "sparse", "assignment"])
def test_methods_without_floors_refuse(method):
    p = with_match_rate(pairwise.PairProblem.from_scores(np.ones((3, 3))), ["a", "b", "b"], 0.5)
    with pytest.raises(ValidationError):
        pairwise.solve(p, method=method)


def test_maxmin_group_needs_groups():
    p = pairwise.PairProblem.from_scores(np.ones((3, 3)), objective="maxmin-group")
    with pytest.raises(ValidationError, match="needs groups"):
        pairwise.solve(p)


def test_groups_of_counts_a_mentee_in_each_of_her_languages():
    compat = pairwise.score(pairwise.make_cohort(30, 5, seed=1))
    p = pairwise.PairProblem.from_compatibility(compat)
    groups = dict(groups_of(p, "languages"))
    langs = compat.mentees.languages
    for k, word in enumerate(langs.vocab):
        if not langs.matrix[:, k].any():  # a mentor's language: no mentee group
            assert word not in groups
            continue
        assert groups[word].tolist() == np.flatnonzero(langs.matrix[:, k]).tolist()


def test_metrics_table_is_a_dataframe_indexed_by_the_column():
    m = pairwise.solve(pairwise.PairProblem.from_scores([[1.0], [2.0]]))
    table = m.metrics(by=[1, 2])
    assert isinstance(table, pd.DataFrame) and table.index.name == "group"


def test_rematch_refuses_group_floors_rather_than_break_them() -> None:
    compat = pairwise.score(pairwise.make_cohort(30, 8, seed=2))
    p = pairwise.PairProblem.from_compatibility(compat, [rules.MatchRate("cluster", 0.3)])
    m = pairwise.solve(p, time_limit=5)
    with pytest.raises(ValidationError, match="group match-rate floors"):
        pairwise.rematch(m, p, leaving=[p.mentor_ids[0]])
