"""pairwise.suggest: short lists within capacity, checked against brute force."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pairwise
from pairwise import CircleProblem, PairProblem, ValidationError
from pairwise.suggest import Suggestions


def lists_hold(p: PairProblem, s: Suggestions, k: int, multiple: float) -> list[str]:
    """Every hard property of the lists, from the problem alone (an independent checker)."""
    out = []
    pairs = [tuple(x) for x in s.assignment.tolist()]
    n, m = p.shape
    if len(set(pairs)) != len(pairs):
        out.append("a mentor suggested twice to one mentee")
    required = set(p.required)
    for i, j in pairs:
        if not p.allowed[i, j]:
            out.append(f"pair {i},{j} not allowed")
    for i, j in required:
        if (i, j) not in pairs:
            out.append(f"required pair {i},{j} not suggested")
    for i in range(n):
        own = sum(1 for a, _ in pairs if a == i)
        if own > max(k, sum(1 for a, _ in required if a == i)):
            out.append(f"mentee {i} has {own} suggestions")
    for j in range(m):
        held = sum(1 for _, b in required if b == j)
        most = max(math.floor(multiple * int(p.capacity[j]) + 1e-9), held)
        if sum(1 for _, b in pairs if b == j) > most:
            out.append(f"mentor {j} over her limit {most}")
    return out


def key(p: PairProblem, pairs: list[tuple[int, int]], k: int) -> tuple[Any, ...]:
    """Brute-force order: most suggestions, then the most even counts, then the total."""
    n = p.shape[0]
    got = sorted(min(sum(1 for a, _ in pairs if a == i), k) for i in range(n))
    return (len(pairs), tuple(got), sum(float(p.scores[i, j]) for i, j in pairs))


def brute(p: PairProblem, k: int, multiple: float) -> tuple[Any, ...]:
    cells = [tuple(int(x) for x in c) for c in np.argwhere(p.allowed)]
    held = np.bincount([j for _, j in p.required], minlength=p.shape[1])
    limit = np.maximum(np.floor(multiple * p.capacity + 1e-9), held)
    best: tuple[Any, ...] | None = None
    for r in range(len(cells) + 1):
        for chosen in itertools.combinations(cells, r):
            if not set(p.required) <= set(chosen):
                continue
            by_mentee = np.bincount([i for i, _ in chosen], minlength=p.shape[0])
            by_mentor = np.bincount([j for _, j in chosen], minlength=p.shape[1])
            if (by_mentee > k).any() or (by_mentor > limit).any():
                continue
            here = key(p, [(a, b) for a, b in chosen], k)
            if best is None or here[:2] > best[:2] or (here[:2] == best[:2] and here[2] > best[2]):
                best = here
    assert best is not None
    return best


@st.composite
def tiny(draw: st.DrawFn) -> tuple[PairProblem, int, float]:
    n = draw(st.integers(1, 3))
    m = draw(st.integers(1, 3))
    scores = np.array(
        draw(
            st.lists(
                st.sampled_from([0.1, 0.3, 0.5, 0.7, 0.9, np.nan]), min_size=n * m, max_size=n * m
            )
        ),
        dtype=float,
    ).reshape(n, m)
    if np.isnan(scores).sum() > 6:
        scores[0, 0] = 0.4
    cap = draw(st.lists(st.integers(0, 2), min_size=m, max_size=m))
    k = draw(st.integers(1, 3))
    multiple = draw(st.sampled_from([0.5, 1.0, 1.5, 2.0]))
    cells = [tuple(int(x) for x in c) for c in np.argwhere(~np.isnan(scores)) if cap[c[1]] > 0]
    required = [draw(st.sampled_from(cells))] if cells and draw(st.booleans()) else []
    return PairProblem.from_scores(scores, capacity=cap, required=required), k, multiple


@settings(max_examples=60, deadline=None)
@given(tiny())
def test_lists_are_optimal_against_brute_force(case: tuple[PairProblem, int, float]) -> None:
    p, k, multiple = case
    s = pairwise.suggest(p, k=k, multiple=multiple)
    assert lists_hold(p, s, k, multiple) == []
    best = brute(p, k, multiple)
    got = key(p, [tuple(x) for x in s.assignment.tolist()], k)
    assert got[:2] == best[:2]
    assert got[2] == pytest.approx(best[2], abs=1e-6)


@st.composite
def medium(draw: st.DrawFn) -> tuple[PairProblem, int, float]:
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    scores = rng.random((n, m))
    scores[rng.random((n, m)) < draw(st.sampled_from([0.0, 0.3, 0.7]))] = np.nan
    cap = rng.integers(0, 4, size=m)
    allowed = ~np.isnan(scores)
    cells = np.argwhere(allowed & (cap[None, :] > 0))
    required: list[tuple[int, int]] = []
    if len(cells) and draw(st.booleans()):
        i, j = cells[rng.integers(len(cells))]
        required = [(int(i), int(j))]
    k = draw(st.integers(1, 4))
    multiple = draw(st.sampled_from([0.0, 1.0, 1.5, 3.0]))
    p = PairProblem.from_scores(scores, capacity=cap, required=required)
    return p, k, multiple


@settings(max_examples=60, deadline=None)
@given(medium())
def test_lists_keep_every_limit_and_leave_nothing_addable(
    case: tuple[PairProblem, int, float],
) -> None:
    p, k, multiple = case
    s = pairwise.suggest(p, k=k, multiple=multiple)
    assert lists_hold(p, s, k, multiple) == []
    got = np.bincount(s.assignment[:, 0], minlength=p.shape[0])
    counts = np.bincount(s.assignment[:, 1], minlength=p.shape[1])
    mine = {tuple(x) for x in s.assignment.tolist()}
    for i, j in np.argwhere(p.allowed).tolist():  # no pair could simply be added
        if (i, j) not in mine and got[i] < k:
            assert counts[j] >= s.limit[j]
    short = s.short
    assert set(short["mentee_id"]) == {p.mentee_ids[i] for i in np.flatnonzero(got < k)}
    assert (short["missing"] == [k - got[np.flatnonzero(got < k)]][0]).all()
    assert s.metrics()["suggestions"] == len(s.assignment)


def test_popular_mentor_is_shown_to_her_limit_only() -> None:
    # every mentee likes mentor 0 best; she takes 1, so with multiple 2 she is on 2 lists
    rng = np.random.default_rng(3)
    scores = rng.random((10, 5)) * 0.5
    scores[:, 0] = 1.0
    p = PairProblem.from_scores(scores, capacity=[1, 3, 3, 3, 3])
    s = pairwise.suggest(p, k=2, multiple=2)
    counts = np.bincount(s.assignment[:, 1], minlength=5)
    assert counts[0] == 2
    assert s.metrics()["mentees_with_k"] == 1.0
    naive = np.argsort(-scores, axis=1)[:, :2]
    assert (naive == 0).sum() == 10  # the naive top-2 shows her to all 10


def test_lists_are_spread_before_they_score() -> None:
    # mentor x may be shown once; a has another option, b does not: b gets x
    p = PairProblem.from_scores(
        [[0.9, 0.8], [0.1, np.nan]], mentee_ids=["a", "b"], mentor_ids=["x", "y"]
    )
    s = pairwise.suggest(p, k=1, multiple=1)
    assert s.suggested("a") == ["y"] and s.suggested("b") == ["x"]
    assert s.short.empty


def test_required_pairs_are_suggested_even_beyond_the_limit() -> None:
    p = PairProblem.from_scores(np.ones((3, 2)), capacity=[2, 1], required=[(0, 0), (1, 0)])
    s = pairwise.suggest(p, k=1, multiple=0.5)
    assert {(0, 0), (1, 0)} <= {tuple(x) for x in s.assignment.tolist()}
    assert s.table.loc[s.table["required"], "mentee_id"].tolist() == ["0", "1"]
    assert s.limit.tolist() == [2, 0]


def test_cohort_lists_carry_criteria_and_reasons() -> None:
    cohort = pairwise.make_cohort(40, 10, seed=5)
    compat = pairwise.score(cohort)
    p = PairProblem.from_compatibility(compat)
    s = pairwise.suggest(p, k=3)
    table = s.table
    crit = list(p.criteria)
    assert crit and set(crit) <= set(table.columns)
    assert np.allclose(table[crit].sum(axis=1), table["score"])
    assert lists_hold(p, s, 3, 2.0) == []
    first = table["mentee_id"].iloc[0]
    e = s.explain(first, k=2)
    assert e["suggested"].sum() == (table["mentee_id"] == first).sum()
    assert e["reason"].str.len().min() > 0
    frame = s.to_frame()
    assert set(frame["mentee_id"]) == set(p.mentee_ids)


def test_short_lists_say_why() -> None:
    p = PairProblem.from_scores(
        [[0.9, np.nan], [np.nan, np.nan], [0.5, 0.4]],
        capacity=[1, 0],
        mentee_ids=["a", "b", "c"],
        mentor_ids=["x", "y"],
    )
    s = pairwise.suggest(p, k=2, multiple=1)
    short = s.short.set_index("mentee_id")
    assert "no allowed mentor" in str(short.loc["b", "reason"]) or "removed" in str(
        short.loc["b", "reason"]
    )
    assert short.loc["a", "missing"] == 1
    assert "only 1 allowed mentor" in str(short.loc["a", "reason"])
    e = s.explain("c")
    assert "no capacity" in str(e.set_index("mentor_id").loc["y", "reason"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": 51}, "k"),
        ({"k": True}, "k"),
        ({"k": 2.5}, "k"),
        ({"k": "3"}, "k"),
        ({"multiple": -1}, "multiple"),
        ({"multiple": float("nan")}, "multiple"),
        ({"multiple": float("inf")}, "multiple"),
        ({"multiple": "2"}, "multiple"),
        ({"multiple": True}, "multiple"),
    ],
)
def test_bad_options_are_listed(kwargs: dict[str, Any], field: str) -> None:
    p = PairProblem.from_scores(np.ones((2, 2)))
    with pytest.raises(ValidationError) as err:
        pairwise.suggest(p, **kwargs)
    assert field in str(err.value)


def test_every_bad_option_at_once_and_wrong_problem() -> None:
    with pytest.raises(ValidationError) as err:
        circles = CircleProblem.from_affinity(np.ones((4, 4)), min_size=2, max_size=2)
        pairwise.suggest(circles, k=0, multiple=-1)  # type: ignore[arg-type]
    text = str(err.value)
    assert "PairProblem" in text and "k must" in text and "multiple" in text


def test_explain_refuses_unknown_mentee_and_bad_k() -> None:
    s = pairwise.suggest(PairProblem.from_scores(np.ones((2, 2))))
    with pytest.raises(ValidationError, match="unknown mentee id"):
        s.explain("nobody")
    with pytest.raises(ValidationError, match="k must"):
        s.explain("0", k=-1)
    with pytest.raises(ValidationError, match="unknown mentee id"):
        s.suggested("nobody")


def test_empty_problem() -> None:
    s = pairwise.suggest(PairProblem.from_scores(np.zeros((0, 3))))
    assert s.table.empty and s.short.empty
    assert s.metrics()["mentees"] == 0


def test_required_pairs_count_in_the_spread() -> None:
    # k=2: a has a required mentor y, b has none; the one free place with x goes to b even
    # though a scores higher with x (counts 1+1 beat 2+0)
    p = PairProblem.from_scores(
        [[0.9, 0.5], [0.1, np.nan]],
        capacity=[1, 1],
        required=[(0, 1)],
        mentee_ids=["a", "b"],
        mentor_ids=["x", "y"],
    )
    s = pairwise.suggest(p, k=2, multiple=1)
    assert s.suggested("a") == ["y"] and s.suggested("b") == ["x"]


def test_a_required_pair_that_breaks_a_rule_is_infeasible() -> None:
    p = PairProblem.from_scores([[np.nan, 0.5], [0.3, 0.2]], required=[(0, 0)])
    with pytest.raises(pairwise.InfeasibleError, match="required pair"):
        pairwise.suggest(p, k=1)
