"""Re-matching: broken pairs never return, leavers are gone, unaffected pairs are kept."""

from __future__ import annotations

import itertools
from dataclasses import replace

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

import pairwise
from pairwise import CircleProblem, InfeasibleError, PairProblem, ValidationError, check

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pair_cases(draw: st.DrawFn) -> tuple[PairProblem, pairwise.Matching]:
    n = draw(st.integers(2, 7))
    m = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    s = rng.random((n, m)).round(2)
    s[rng.random((n, m)) < 0.2] = np.nan
    cap = rng.integers(1, 3, m)
    p = PairProblem.from_scores(
        s,
        capacity=cap,
        mentee_ids=[f"a{i}" for i in range(n)],
        mentor_ids=[f"b{j}" for j in range(m)],
    )
    return p, pairwise.solve(p)


@FAST
@given(pair_cases(), st.data())
def test_pairs_broken_never_return_and_unaffected_pairs_stay(case, data) -> None:
    p, before = case
    old = before.pairs[["mentee_id", "mentor_id"]].values.tolist()
    broken = (
        [tuple(x) for x in data.draw(st.lists(st.sampled_from(old), max_size=2))] if old else []
    )
    leaving = data.draw(st.lists(st.sampled_from(list(p.mentor_ids)), max_size=1))
    after = pairwise.rematch(before, p, broken=broken, leaving=leaving)
    assert check(after.result.problem, after.result) == []
    new = after.result.pairs[["mentee_id", "mentor_id"]].values.tolist()
    assert not [pair for pair in new if tuple(pair) in set(broken)]
    assert not [pair for pair in new if pair[1] in leaving]
    # nothing else changed, so every other previous pair is still allowed and has room
    untouched = [pair for pair in old if tuple(pair) not in set(broken) and pair[1] not in leaving]
    assert all(pair in new for pair in untouched)
    assert after.kept == after.keepable == len(untouched)
    changed = set(after.changes.mentee_id)
    assert {a for a, _ in broken} <= changed | {a for a, b in new if (a, b) not in broken}


def test_nothing_changed_keeps_everything() -> None:
    cohort = pairwise.make_cohort(30, 10, seed=2)
    p = PairProblem.from_compatibility(pairwise.score(cohort))
    before = pairwise.solve(p)
    after = pairwise.rematch(before, p)
    assert np.array_equal(after.result.assignment, before.assignment)
    assert after.changes.empty
    assert after.n_changes == 0
    assert after.result.objective == pytest.approx(before.objective)


def test_lower_capacity_forces_a_change_and_max_changes_can_refuse_it() -> None:
    s = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]])
    p = PairProblem.from_scores(s, capacity=[2, 1], mentee_ids=list("abc"), mentor_ids=list("xy"))
    before = pairwise.solve(p)
    tighter = replace(p, capacity=np.array([1, 1]))
    after = pairwise.rematch(before, tighter)
    assert after.n_changes == 1
    assert after.changes.change.tolist() == ["unmatched"]
    with pytest.raises(InfeasibleError, match="at most 0 changes"):
        pairwise.rematch(before, tighter, max_changes=0)


def test_joining_mentee_is_matched_without_moving_anyone() -> None:
    s = np.array([[0.9, 0.5], [0.4, 0.8]])
    p = PairProblem.from_scores(s, capacity=[2, 1], mentee_ids=["a", "b"], mentor_ids=["x", "y"])
    before = pairwise.solve(p)
    # the newcomer would be best with y, but y is taken: keeping b-y wins
    bigger = PairProblem.from_scores(
        np.array([[0.9, 0.5], [0.4, 0.8], [0.1, 1.0]]),
        capacity=[2, 1],
        mentee_ids=["a", "b", "c"],
        mentor_ids=["x", "y"],
    )
    after = pairwise.rematch(before, bigger)
    assert after.result.pairs[["mentee_id", "mentor_id"]].values.tolist() == [
        ["a", "x"],
        ["b", "y"],
        ["c", "x"],
    ]
    assert after.changes[["mentee_id", "change"]].values.tolist() == [["c", "joined"]]
    # a joiner no mentor has room for is listed too, with why
    full = PairProblem.from_scores(
        np.array([[0.9, 0.5], [0.4, 0.8], [0.1, 1.0]]),
        capacity=[1, 1],
        mentee_ids=["a", "b", "c"],
        mentor_ids=["x", "y"],
    )
    first = PairProblem.from_scores(s, mentee_ids=["a", "b"], mentor_ids=["x", "y"])
    late = pairwise.rematch(pairwise.solve(first), full)
    row = late.changes.set_index("mentee_id").loc["c"]
    assert row.change == "joined" and row.after is None
    assert row.reason.startswith("new in the programme, unmatched: ") and "full" in row.reason


def test_bad_input_is_listed() -> None:
    p = PairProblem.from_scores([[0.5]], mentee_ids=["a"], mentor_ids=["x"])
    before = pairwise.solve(p)
    with pytest.raises(ValidationError) as err:
        pairwise.rematch(before, p, broken=[("a", "nobody")], leaving=["ghost"], max_changes=-1)
    text = str(err.value)
    assert "nobody" in text and "ghost" in text and "max_changes" in text
    circles = CircleProblem.from_affinity(np.ones((6, 6)), min_size=3, max_size=3)
    with pytest.raises(ValidationError, match="different kinds"):
        pairwise.rematch(before, circles)


# --------------------------------------------------------------------------- circles


def _planted(n_groups: int = 4, k: int = 4) -> CircleProblem:
    n = n_groups * k
    d = np.full((n, n), 0.1)
    for g in range(n_groups):
        d[g * k : (g + 1) * k, g * k : (g + 1) * k] = 1.0
    np.fill_diagonal(d, 0.0)
    return CircleProblem.from_affinity(
        d, min_size=k - 1, max_size=k + 1, person_ids=[f"p{i}" for i in range(n)]
    )


def test_circles_break_a_pair_and_move_as_few_as_possible() -> None:
    p = _planted()
    before = pairwise.solve(p)
    after = pairwise.rematch(before, p, broken=[("p0", "p1")])
    c = after.result
    assert check(c.problem, c) == []
    assert c.circle_of[0] != c.circle_of[1]
    assert after.n_changes == 1  # one of the two moves, everyone else stays
    assert after.changes.change.tolist() == ["moved"]


def test_circles_leavers_are_gone_and_joiners_placed() -> None:
    p = _planted()
    before = pairwise.solve(p)
    after = pairwise.rematch(before, p, leaving=["p5"])
    c = after.result
    assert "p5" not in set(c.problem.person_ids)
    assert check(c.problem, c) == []
    assert after.n_changes == 0
    assert after.changes[["person_id", "change"]].values.tolist() == [["p5", "left"]]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 1000))
def test_circles_rematch_never_breaks_a_rule(seed: int) -> None:
    people = pairwise.make_peers(24, seed=seed)
    p = CircleProblem.from_compatibility(pairwise.affinity(people), min_size=3, max_size=5)
    before = pairwise.solve(p, time_limit=1)
    ids = [str(x) for x in p.person_ids]
    g0 = before.members(0).tolist()
    broken = [(ids[g0[0]], ids[g0[1]])]
    after = pairwise.rematch(before, p, broken=broken, leaving=[ids[-1]], time_limit=1)
    c = after.result
    assert check(c.problem, c) == []
    i, j = (int(np.flatnonzero(c.problem.person_ids == x)[0]) for x in broken[0])
    assert c.circle_of[i] != c.circle_of[j]
    assert after.n_changes <= 4


def test_a_change_penalty_trades_changes_for_score() -> None:
    before_scores = np.array([[0.9, 0.1], [0.1, 0.9]])
    p = PairProblem.from_scores(before_scores, mentee_ids=["a", "b"], mentor_ids=["x", "y"])
    before = pairwise.solve(p)
    # the programme's scores changed: swapping now gains 1.2 - 0.2 = 1.0
    now = PairProblem.from_scores(
        np.array([[0.1, 0.6], [0.6, 0.1]]), mentee_ids=["a", "b"], mentor_ids=["x", "y"]
    )
    kept = pairwise.rematch(before, now)  # lexicographic: fewest changes first
    assert kept.n_changes == 0
    cheap = pairwise.rematch(before, now, penalty=0.1)  # 2 changes cost 0.2 < 1.0 gained
    assert cheap.n_changes == 2
    assert cheap.result.objective == pytest.approx(1.2)
    dear = pairwise.rematch(before, now, penalty=0.6)  # 2 changes cost 1.2 > 1.0 gained
    assert dear.n_changes == 0
    with pytest.raises(ValidationError, match="bad penalty"):
        pairwise.rematch(before, now, penalty=-1)


def test_bad_penalty_broken_pairs_and_seed_are_listed_together() -> None:
    p = PairProblem.from_scores([[0.5]], mentee_ids=["a"], mentor_ids=["x"])
    before = pairwise.solve(p)
    with pytest.raises(ValidationError) as err:
        pairwise.rematch(before, p, broken=[("a",), "ax"], penalty=float("inf"), seed=-3)  # type: ignore[list-item]
    messages = [q.message for q in err.value.problems]
    assert messages.count("broken: bad pair") == 2
    assert "bad penalty" in messages and "bad seed" in messages


def test_one_leaver_given_as_a_plain_id() -> None:
    ids = ["12", "1", "2"]
    p = PairProblem.from_scores(np.eye(3) + 0.1, mentee_ids=ids, mentor_ids=["x", "y", "z"])
    before = pairwise.solve(p)
    after = pairwise.rematch(before, p, leaving="12")
    assert after.changes.mentee_id.tolist() == ["12"]
    assert after.result.mentor_of.tolist() == [-1, 1, 2]


def test_circles_after_a_leaver_keep_the_labels_and_roles() -> None:
    cohort = pairwise.make_cohort(30, 6, seed=4)
    aff = pairwise.affinity(cohort, roles=("mentee", "mentor"))
    p = CircleProblem.from_compatibility(
        aff, [pairwise.rules.SharedSlot()], mentors="one-per-circle"
    )
    before = pairwise.solve(p, time_limit=1)
    leaver = str(p.person_ids[0])
    after = pairwise.rematch(before, p, leaving=[leaver], time_limit=1).result
    q = after.problem
    assert leaver not in q.person_ids.tolist()
    assert q.labels is not None and len(q.labels) == q.n == p.n - 1
    assert p.labels is not None
    kept = [r for x, r in zip(p.person_ids, p.labels.region, strict=True) if x != leaver]
    assert q.labels.region.tolist() == kept
    assert q.mentor_mask.sum() == p.mentor_mask.sum() - int(p.mentor_mask[0])
    assert "max_same_chapter" in after.circles  # the mix columns read the labels
    assert check(q, after) == []


def _draw_events(data: st.DataObject, before: pairwise.Matching, p: PairProblem) -> tuple:
    """The previous pairs, at most one of them broken, at most one mentor leaving."""
    old = before.pairs[["mentee_id", "mentor_id"]].values.tolist()
    broken = (
        [tuple(x) for x in data.draw(st.lists(st.sampled_from(old), max_size=1))] if old else []
    )
    leaving = data.draw(st.lists(st.sampled_from(list(p.mentor_ids)), max_size=1))
    return old, broken, leaving


def _keepable(q: PairProblem, old: list, broken: list, leaving: list) -> set:
    """Positions in ``q`` of the previous pairs neither broken nor left."""
    ids, mentors = [str(x) for x in q.mentee_ids], [str(x) for x in q.mentor_ids]
    return {
        (ids.index(a), mentors.index(b))
        for a, b in old
        if (a, b) not in set(broken) and b not in leaving
    }


def _best_by_brute_force(p: PairProblem, keep: set, waiting: set) -> tuple:
    """The lexicographic best (kept, waiting matched, matched, total) over every matching."""
    n, m = p.shape
    best = None
    for choice in itertools.product(range(-1, m), repeat=n):
        load = np.bincount([j for j in choice if j >= 0], minlength=m)
        if (load > p.capacity).any():
            continue
        if any(j >= 0 and not p.allowed[i, j] for i, j in enumerate(choice)):
            continue
        pairs = [(i, j) for i, j in enumerate(choice) if j >= 0]
        key = (
            sum(1 for q in pairs if q in keep),
            sum(1 for i, _ in pairs if i in waiting),
            len(pairs),
            round(sum(float(p.scores[i, j]) for i, j in pairs), 6),
        )
        best = key if best is None or key > best else best
    return best


@FAST
@given(pair_cases(), st.data())
def test_waiting_mentees_are_matched_first(case, data) -> None:
    p, before = case
    assume(int(p.demand.max()) == 1 and p.shape[0] <= 6)
    old, broken, leaving = _draw_events(data, before, p)
    first = pairwise.rematch(before, p, broken=broken, leaving=leaving, priority="waiting")
    plain = pairwise.rematch(before, p, broken=broken, leaving=leaving)
    q = first.result.problem
    ids = [str(x) for x in q.mentee_ids]
    matched_before = {a for a, _ in old}
    hit = {a for a, b in old if (a, b) in set(broken) or b in leaving}
    waiting = {i for i, x in enumerate(ids) if x not in matched_before or x in hit}
    keep = _keepable(q, old, broken, leaving)
    got = [tuple(x) for x in first.result.assignment.tolist()]
    key = (
        sum(1 for x in got if x in keep),
        sum(1 for i, _ in got if i in waiting),
        len(got),
        round(first.result.objective, 6),
    )
    best = _best_by_brute_force(q, keep, waiting)
    assert key[:3] == best[:3]
    assert key[3] == pytest.approx(best[3], abs=1e-5)
    assert check(q, first.result) == []
    plain_waiting = sum(1 for i, _ in plain.result.assignment.tolist() if i in waiting)
    assert key[1] >= plain_waiting and first.kept == plain.kept


def test_priority_is_for_pairs_only() -> None:
    people = pairwise.make_peers(12, seed=0)
    p = CircleProblem.from_compatibility(pairwise.affinity(people), min_size=3, max_size=4)
    c = pairwise.solve(p, time_limit=2)
    with pytest.raises(ValidationError, match="bad priority"):
        pairwise.rematch(c, p, priority="waiting")  # type: ignore[arg-type]


@FAST
@given(pair_cases(), st.data())
def test_a_rematch_is_the_lexicographic_best_by_brute_force(case, data) -> None:
    # fewest changes first, then the problem's objective (matched, then total): whichever
    # method runs (keeping every keepable pair and solving the rest, or CP-SAT)
    p, before = case
    assume(int(p.demand.max()) == 1 and p.shape[0] <= 6)
    old, broken, leaving = _draw_events(data, before, p)
    after = pairwise.rematch(before, p, broken=broken, leaving=leaving)
    q = after.result.problem
    keep = _keepable(q, old, broken, leaving)
    got = [tuple(x) for x in after.result.assignment.tolist()]
    best = _best_by_brute_force(q, keep, set())
    assert (sum(1 for x in got if x in keep), 0, len(got)) == best[:3]
    assert after.result.objective == pytest.approx(best[3], abs=1e-5)
    assert check(q, after.result) == []


def test_circles_rematch_changes_the_count_only_when_it_no_longer_fits() -> None:
    # 24 people in six circles of 4-6; one leaves: 23 cannot fill six (was InfeasibleError)
    aff = pairwise.affinity(pairwise.make_peers(24, seed=0))
    p = pairwise.CircleProblem.from_compatibility(aff, n_circles=6, min_size=4, max_size=6)
    v1 = pairwise.solve(p, time_limit=2)
    ids = [str(x) for x in p.person_ids]
    done = pairwise.rematch(v1, p, leaving=[ids[0]], time_limit=2)
    assert done.result.problem.n_circles == 5
    assert check(p, done.result) == []
    moved = done.changes[done.changes.change == "moved"]
    assert len(moved) >= 1 and moved.reason.str.contains("5 circles now").all()
    # the count stays where it still fits: one more person leaves a circle of five
    again = pairwise.rematch(done.result, p, leaving=[ids[1]], time_limit=2)
    assert again.result.problem.n_circles == 5 and check(p, again.result) == []
    # check refuses a count change a first solve had no reason for
    short = replace(done.result, events=pairwise.events.Events())
    assert any("has 0 members" in x for x in check(p, short))
