"""Re-matching keeps minimum loads (issue 15 item 1): against brute force, and by hand.

The brute force works from the original scores and the drawn events alone (who left,
which pair broke, whose capacity changed), not from the re-match's problem: every
assignment of each mentee to a mentor or nobody, the best by fewest changes, then most
pairs, then the total. A mentor who left owes no minimum; a capacity lowered below a
minimum lowers the minimum to it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pairwise
from pairwise import InfeasibleError, PairProblem, check


def problem(
    scores: Any,
    capacity: Any,
    minimum: Any,
    forbidden: Any = None,
    objective: str = "matched-then-total",
) -> PairProblem:
    s = np.asarray(scores, dtype=float)
    n, m = s.shape
    return PairProblem.from_scores(
        s,
        capacity=capacity,
        minimum=minimum,
        forbidden=forbidden,
        objective=objective,  # type: ignore[arg-type]
        mentee_ids=[f"e{i}" for i in range(n)],
        mentor_ids=[f"m{j}" for j in range(m)],
    )


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 4))
    m = draw(st.integers(1, 3))
    scores = np.array(
        draw(st.lists(st.sampled_from([0.1, 0.3, 0.5, 0.8]), min_size=n * m, max_size=n * m))
    )
    forbidden = np.array(
        draw(st.lists(st.sampled_from([False, False, True]), min_size=n * m, max_size=n * m))
    )
    cap = draw(st.lists(st.integers(0, 2), min_size=m, max_size=m))
    low = [draw(st.integers(0, c)) for c in cap]
    people = [f"e{i}" for i in range(n)] + [f"m{j}" for j in range(m)]
    return {
        "scores": scores.reshape(n, m),
        "forbidden": forbidden.reshape(n, m),
        "cap": cap,
        "low": low,
        "before_has_minimum": draw(st.booleans()),
        "leaving": draw(st.lists(st.sampled_from(people), max_size=1)),
        "capacity": draw(
            st.dictionaries(
                st.sampled_from([f"m{j}" for j in range(m)]), st.integers(0, 2), max_size=1
            )
        ),
        "max_changes": draw(st.one_of(st.none(), st.integers(0, 1))),
        "pick_broken": draw(st.integers(0, 3)),
        "objective": draw(st.sampled_from(["matched-then-total", "total"])),
    }


def brute_force(
    case: dict[str, Any], old: list[tuple[int, int]], broken: set[tuple[int, int]]
) -> tuple | None:
    """The best (kept, pairs, total) from the case's own numbers, or None if nothing fits."""
    s, n, m = case["scores"], *case["scores"].shape
    gone = set(case["leaving"])
    cap = [case["capacity"].get(f"m{j}", case["cap"][j]) for j in range(m)]
    low = [min(case["low"][j], cap[j]) for j in range(m)]
    for j in range(m):
        if f"m{j}" in gone:
            cap[j] = low[j] = 0

    def ok(i: int, j: int) -> bool:
        here = f"e{i}" not in gone and f"m{j}" not in gone
        return here and not case["forbidden"][i, j] and (i, j) not in broken

    keep = {(i, j) for i, j in old if ok(i, j)}
    best = None
    for choice in itertools.product(range(-1, m), repeat=n):
        pairs = [(i, j) for i, j in enumerate(choice) if j >= 0]
        if not all(ok(i, j) for i, j in pairs):
            continue
        load = np.bincount([j for _, j in pairs], minlength=m)
        if (load > cap).any() or (load < low).any():
            continue
        kept = sum(1 for q in pairs if q in keep)
        if case["max_changes"] is not None and kept < len(keep) - case["max_changes"]:
            continue
        total = round(sum(float(s[i, j]) for i, j in pairs), 6)
        key = (kept, len(pairs) if case["objective"] != "total" else 0, total)
        best = key if best is None or key > best else best
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_a_rematch_with_minimum_loads_is_the_best_by_brute_force(case: dict[str, Any]) -> None:
    p = problem(case["scores"], case["cap"], case["low"], case["forbidden"], case["objective"])
    loose = problem(case["scores"], case["cap"], 0, case["forbidden"], case["objective"])
    try:
        before = pairwise.solve(p if case["before_has_minimum"] else loose, time_limit=5)
    except InfeasibleError:
        before = pairwise.solve(loose, time_limit=5)
    old = [(int(i), int(j)) for i, j in before.assignment]
    broken = {old[case["pick_broken"]]} if case["pick_broken"] < len(old) else set()
    kwargs: dict[str, Any] = {
        "broken": [(f"e{i}", f"m{j}") for i, j in broken],
        "leaving": case["leaving"],
        "capacity": case["capacity"],
        "max_changes": case["max_changes"],
        "time_limit": 5,
    }
    best = brute_force(case, old, broken)
    if best is None:
        with pytest.raises(InfeasibleError):
            pairwise.rematch(before, p, **kwargs)
        return
    after = pairwise.rematch(before, p, **kwargs)
    got = [(int(i), int(j)) for i, j in after.result.assignment]
    key = (after.kept, len(got) if case["objective"] != "total" else 0)
    assert key == best[:2]
    assert after.result.objective == pytest.approx(best[2], abs=1e-5)
    assert check(after.result.problem, after.result) == []
    assert check(p, after.result) == []  # the programme's problem, with the result's events
    load = np.bincount([j for _, j in got], minlength=p.shape[1])
    for j in range(p.shape[1]):
        cap = case["capacity"].get(f"m{j}", case["cap"][j])
        if f"m{j}" not in case["leaving"]:
            assert load[j] >= min(case["low"][j], cap)


# ---------------------------------------------------------------- by hand


def test_a_mentor_whose_minimum_cannot_be_met_after_a_leaver_is_named() -> None:
    # m0 needs 2: e0 and e1 are hers; e2 and e3 cannot go to her
    forbidden = [[False, True], [False, True], [True, False], [True, False]]
    p = problem(np.ones((4, 2)), [2, 2], [2, 0], forbidden)
    before = pairwise.solve(p)
    with pytest.raises(InfeasibleError) as err:
        pairwise.rematch(before, p, leaving=["e0"])
    assert "mentor m0 must get 2 mentees but only 1 may go to her" in str(err.value)
    with pytest.raises(InfeasibleError, match="mentor m0 must get 2 mentees but only 1"):
        pairwise.rematch(before, p, broken=[("e1", "m0")])


def test_keeping_every_pair_would_leave_a_minimum_unmet_so_one_moves() -> None:
    # before the minimum: e0, e1 with m1, e2 with m0; e2 leaves and m0 needs one
    loose = problem([[0.1, 0.9], [0.2, 0.8], [0.9, 0.1]], [2, 2], 0)
    before = pairwise.solve(loose)
    assert before.pairs[["mentee_id", "mentor_id"]].values.tolist() == [
        ["e0", "m1"],
        ["e1", "m1"],
        ["e2", "m0"],
    ]
    p = problem([[0.1, 0.9], [0.2, 0.8], [0.9, 0.1]], [2, 2], [1, 0])
    after = pairwise.rematch(before, p, leaving=["e2"])
    assert (after.kept, after.keepable) == (1, 2)
    assert after.result.pairs[["mentee_id", "mentor_id"]].values.tolist() == [
        ["e0", "m1"],
        ["e1", "m0"],
    ]  # the cheaper move: 0.8 -> 0.2 costs less than 0.9 -> 0.1
    assert check(p, after.result) == []
    moved = after.changes[after.changes.change == "changed"]
    assert moved.mentee_id.tolist() == ["e1"]


def test_all_pairs_kept_count_towards_the_minimum() -> None:
    p = problem(np.ones((3, 2)), [2, 2], [2, 1])
    before = pairwise.solve(p)
    after = pairwise.rematch(before, p, leaving=[])
    assert after.kept == after.keepable == 3
    assert after.result.method.endswith("(rematch)")
    assert check(p, after.result) == []


def test_a_mentor_who_leaves_owes_no_minimum() -> None:
    p = problem(np.ones((4, 2)), [2, 2], [2, 2])
    before = pairwise.solve(p)
    after = pairwise.rematch(before, p, leaving=["m0"])
    assert after.result.problem.minimum.tolist() == [0, 2]
    assert check(p, after.result) == []
    assert (np.bincount(after.result.assignment[:, 1], minlength=2) == [0, 2]).all()


def test_a_capacity_lowered_below_the_minimum_lowers_the_minimum() -> None:
    p = problem(np.ones((4, 2)), [2, 2], [2, 2])
    before = pairwise.solve(p)
    after = pairwise.rematch(before, p, capacity={"m0": 1})
    assert after.result.problem.minimum.tolist() == [1, 2]
    assert check(p, after.result) == []
    again = pairwise.rematch(after.result, p)  # the change holds in later rounds
    assert again.result.problem.minimum.tolist() == [1, 2]


def test_the_cohort_column_holds_through_a_rematch() -> None:
    frame = pairwise.make_cohort(10, 4, seed=2).to_frame()
    frame["capacity"] = [1] * 10 + [3, 3, 3, 3]
    frame["minimum"] = [0] * 10 + [2, 2, 0, 0]
    compat = pairwise.score(pairwise.Cohort.from_frame(frame))
    p = PairProblem.from_compatibility(compat)
    before = pairwise.solve(p)
    leaver = str(before.pairs.mentee_id[0])
    after = pairwise.rematch(before, p, leaving=[leaver])
    load = np.bincount(after.result.assignment[:, 1], minlength=4)
    assert (load >= [2, 2, 0, 0]).all()
    assert check(p, after.result) == []
