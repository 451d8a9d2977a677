"""Stability: blocking pairs, stable / stable-mentee / stable-mentor against brute force.

Tiny games (2-5 per side, capacities 1-2) with random scores, forbidden cells and
optional ranked lists on either side. The brute-force reference enumerates every
matching (each mentee one allowed mentor or none, capacities kept) and tests each pair
with its own definition of blocking, written from the preference lists rather than from
the library's key tuples. The properties follow those of daffidwilde/matching's
hospital-resident tests (stability, each side's optimality, capacities), in our own code.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pairwise
from pairwise.stability import blocking_mask, deferred_acceptance, stable_ends

SETTINGS = settings(max_examples=40, deadline=None)


def _ranks(rng: np.random.Generator, rows: int, cols: int, share: float) -> np.ndarray:
    out = np.zeros((rows, cols), dtype=np.int64)
    for r in range(rows):
        if rng.random() < share:
            k = int(rng.integers(1, cols + 1))
            pick = rng.permutation(cols)[:k]
            out[r, pick] = np.arange(1, k + 1)
    return out


@st.composite
def games(draw: st.DrawFn) -> pairwise.PairProblem:
    n = draw(st.integers(2, 5))
    m = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((n, m)), 1)  # ties on purpose
    forbidden = rng.random((n, m)) < draw(st.sampled_from([0.0, 0.2]))
    ranked = draw(st.booleans())
    return pairwise.PairProblem.from_scores(
        scores,
        capacity=rng.integers(1, 3, m),
        forbidden=forbidden,
        mentee_ranks=_ranks(rng, n, m, 0.7) if ranked else None,
        mentor_ranks=_ranks(rng, m, n, 0.7).T if ranked else None,
    )


def _order(p: pairwise.PairProblem, person: int, side: str) -> list[int]:
    """Independent preference list: ranked first by rank, then score desc, position asc."""
    n, m = p.shape
    others = range(m) if side == "mentee" else range(n)
    rank = None if p.ranks is None else p.ranks[0 if side == "mentee" else 1]

    def cell(o: int) -> tuple[int, int]:
        return (person, o) if side == "mentee" else (o, person)

    def key(o: int) -> tuple[int, float, float, int]:
        r = 0 if rank is None else int(rank[cell(o)])
        return (0 if r else 1, r, -float(p.scores[cell(o)]), o)

    return sorted((o for o in others if p.allowed[cell(o)]), key=key)


def _all_matchings(p: pairwise.PairProblem) -> list[list[tuple[int, int]]]:
    n, m = p.shape
    choices = [[None] + [j for j in range(m) if p.allowed[i, j]] for i in range(n)]
    out = []
    for pick in itertools.product(*choices):
        load = np.bincount([j for j in pick if j is not None], minlength=m)
        if (load <= p.capacity).all():
            out.append([(i, j) for i, j in enumerate(pick) if j is not None])
    return out


def _blocking(p: pairwise.PairProblem, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    n, m = p.shape
    mentor_of = {i: j for i, j in pairs}
    mentees_of: dict[int, list[int]] = {j: [] for j in range(m)}
    for i, j in pairs:
        mentees_of[j].append(i)
    prefs_a = [_order(p, i, "mentee") for i in range(n)]
    prefs_b = [_order(p, j, "mentor") for j in range(m)]
    out = set()
    for i in range(n):
        for j in prefs_a[i]:
            if mentor_of.get(i) == j:
                continue
            wants_a = i not in mentor_of or prefs_a[i].index(j) < prefs_a[i].index(mentor_of[i])
            held = mentees_of[j]
            wants_b = len(held) < p.capacity[j] or any(
                prefs_b[j].index(i) < prefs_b[j].index(h) for h in held
            )
            if wants_a and wants_b:
                out.add((i, j))
    return out


def _stable(p: pairwise.PairProblem) -> list[list[tuple[int, int]]]:
    return [x for x in _all_matchings(p) if not _blocking(p, x)]


def _pairs(m: pairwise.Matching) -> list[tuple[int, int]]:
    return [(int(i), int(j)) for i, j in m.assignment.tolist()]


@SETTINGS
@given(games(), st.integers(0, 2**16))
def test_blocking_mask_agrees_with_brute_force(p: pairwise.PairProblem, pick: int) -> None:
    every = _all_matchings(p)
    pairs = every[pick % len(every)]
    mask = blocking_mask(p, np.array(pairs, dtype=np.int64).reshape(-1, 2))
    assert set(map(tuple, np.argwhere(mask).tolist())) == _blocking(p, pairs)


@SETTINGS
@given(games())
def test_stable_is_the_best_stable_matching(p: pairwise.PairProblem) -> None:
    stable = _stable(p)
    assert stable  # Gale and Shapley: a stable matching always exists
    got = pairwise.solve(replace(p, objective="stable"))
    assert not _blocking(p, _pairs(got))
    assert got.metrics()["blocking_pairs"] == 0
    assert pairwise.check(got.problem, got) == []
    best = max(p.total(np.array(x, dtype=np.int64).reshape(-1, 2)) for x in stable)
    assert abs(got.objective - best) <= 1e-9


def _prefers(order: list[int], a: int | None, b: int | None) -> bool:
    """Weakly: ``a`` at least as good as ``b`` in ``order`` (None = nobody, worst)."""
    if a == b:
        return True
    if a is None:
        return False
    return b is None or order.index(a) < order.index(b)


@SETTINGS
@given(games())
def test_deferred_acceptance_is_side_optimal(p: pairwise.PairProblem) -> None:
    stable = _stable(p)
    n, m = p.shape
    for side in ("mentee", "mentor"):
        rows = deferred_acceptance(p, side)
        pairs = [(int(i), int(j)) for i, j in rows.tolist()]
        assert not _blocking(p, pairs)
        load = np.bincount(rows[:, 1], minlength=m)
        assert (load <= p.capacity).all() and len(set(rows[:, 0].tolist())) == len(rows)
        assert pairs in [sorted(x) for x in stable]
        for other in stable:
            if side == "mentee":
                mine, theirs = dict(pairs), dict(other)
                assert all(
                    _prefers(_order(p, i, "mentee"), mine.get(i), theirs.get(i)) for i in range(n)
                )
            else:  # responsive: every mentor's k-th best mentee is weakly better
                for j in range(m):
                    order = _order(p, j, "mentor")
                    a = sorted((i for i, jj in pairs if jj == j), key=order.index)
                    b = sorted((i for i, jj in other if jj == j), key=order.index)
                    assert len(a) == len(b)  # rural hospitals: same loads
                    assert all(_prefers(order, x, y) for x, y in zip(a, b, strict=True))


@SETTINGS
@given(games())
def test_objectives_match_deferred_acceptance(p: pairwise.PairProblem) -> None:
    for side in ("mentee", "mentor"):
        q = replace(p, objective=f"stable-{side}")
        got = pairwise.solve(q)
        assert got.assignment.tolist() == deferred_acceptance(p, side).tolist()
        assert got.metrics()["blocking_pairs"] == 0


def test_forbidden_pair_cannot_block() -> None:
    scores = [[0.9, 0.1], [0.8, 0.7]]
    p = pairwise.PairProblem.from_scores(scores, forbidden=[[True, False], [False, False]])
    assert not blocking_mask(p, [[0, 1], [1, 0]]).any()
    q = pairwise.PairProblem.from_scores(scores)
    assert blocking_mask(q, [[0, 1], [1, 0]])[0, 0]


def test_welfare_against_stability() -> None:
    """The welfare optimum has a blocking pair; the stable answer gives up total for none."""
    scores = [[0.9, 0.8], [0.85, 0.1]]
    best = pairwise.solve(pairwise.PairProblem.from_scores(scores, objective="total"))
    stable = pairwise.solve(pairwise.PairProblem.from_scores(scores, objective="stable"))
    assert best.metrics()["blocking_pairs"] == 1 and stable.metrics()["blocking_pairs"] == 0
    assert best.objective > stable.objective


def test_stable_refuses_panels() -> None:
    p = pairwise.PairProblem.from_scores(np.ones((2, 3)), demand=2, objective="stable")
    try:
        pairwise.solve(p)
    except pairwise.ValidationError as err:
        assert "demand 1" in str(err)
    else:
        raise AssertionError("demand 2 accepted")


@SETTINGS
@given(games())
def test_the_milp_is_skipped_exactly_when_there_is_one_stable_matching(
    p: pairwise.PairProblem,
) -> None:
    stable = _stable(p)
    got = pairwise.solve(replace(p, objective="stable"))
    assert (got.method == "stable-unique") == (len(stable) == 1)


def test_scores_alone_give_one_stable_matching_without_the_milp() -> None:
    rng = np.random.default_rng(5)
    p = pairwise.PairProblem.from_scores(rng.random((30, 8)), capacity=3, objective="stable")
    got = pairwise.solve(p)
    assert got.method == "stable-unique" and got.status == "optimal"
    assert got.assignment.tolist() == deferred_acceptance(p, "mentee").tolist()
    assert got.metrics()["blocking_pairs"] == 0 and pairwise.check(p, got) == []


def test_the_only_stable_matching_names_a_required_pair_it_does_not_hold() -> None:
    scores = [[0.9, 0.1], [0.8, 0.7]]  # one stable matching: (0, 0), (1, 1)
    p = pairwise.PairProblem.from_scores(scores, required=[(0, 1)], objective="stable")
    try:
        pairwise.solve(p)
    except pairwise.InfeasibleError as err:
        assert "the only stable matching does not hold them" in str(err)
        assert "required pair 0 - 1" in str(err)
    else:
        raise AssertionError("a required pair outside the only stable matching was accepted")


@SETTINGS
@given(
    games(), st.integers(0, 2**16), st.sampled_from(["stable", "stable-mentee", "stable-mentor"])
)
def test_check_names_every_blocking_pair_under_a_stable_objective(
    p: pairwise.PairProblem, pick: int, objective: str
) -> None:
    from pairwise.results import build
    from pairwise.solvers.answer import Answer

    q = replace(p, objective=objective)
    every = _all_matchings(q)
    pairs = sorted(every[pick % len(every)])
    rows = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    forged = build(q, Answer(rows=rows, optimal=False, method="forged"))
    found = [v for v in pairwise.check(q, forged) if "block" in v]
    ids_a, ids_b = q.mentee_ids, q.mentor_ids
    blocking = sorted(_blocking(q, pairs))
    want = [f"pair ({ids_a[i]}, {ids_b[j]}) blocks the {objective} matching" for i, j in blocking]
    named = [v for v in found if v.startswith("pair (")]
    assert sorted(named) == sorted(want[:10])  # the first ten, row by row
    count = [v for v in found if "in all" in v]
    assert count == (
        [f"{len(want)} blocking pairs in all under objective {objective}"] if len(want) > 10 else []
    )
    plain = build(replace(q, objective="total"), Answer(rows=rows, optimal=False, method="x"))
    assert not [v for v in pairwise.check(plain.problem, plain) if "block" in v]


def test_check_counts_blocking_pairs_beyond_ten() -> None:
    from pairwise.results import build
    from pairwise.solvers.answer import Answer

    p = pairwise.PairProblem.from_scores(np.eye(12) + 0.1, objective="stable")
    rows = np.array([[i, (i + 1) % 12] for i in range(12)], dtype=np.int64)
    found = pairwise.check(p, build(p, Answer(rows=rows, optimal=False, method="forged")))
    every = len(_blocking(p, [tuple(r) for r in rows.tolist()]))
    assert every > 10
    assert f"{every} blocking pairs in all under objective stable" in found
    assert sum("blocks the stable matching" in v for v in found) == 10
    assert pairwise.check(p, pairwise.solve(p)) == []


@SETTINGS
@given(games(), st.integers(0, 2**16))
def test_stable_with_a_required_pair_is_the_best_stable_matching_holding_it(
    p: pairwise.PairProblem, pick: int
) -> None:
    # the MILP's variables are bounded to the cells some stable matching may use (between
    # the two lattice ends): the best stable matching holding a required pair is still
    # found, and a required pair no stable matching holds is named, never searched for
    stable = _stable(p)
    cells = sorted({c for x in stable for c in x} | set(map(tuple, np.argwhere(p.allowed))))
    pair = cells[pick % len(cells)]
    q = replace(p, objective="stable", required=(pair,))
    holding = [x for x in stable if pair in x]
    if not holding:
        with pytest.raises(pairwise.InfeasibleError):
            pairwise.solve(q)
        return
    got = pairwise.solve(q)
    assert pair in _pairs(got) and not _blocking(p, _pairs(got))
    best = max(p.total(np.array(x, dtype=np.int64).reshape(-1, 2)) for x in holding)
    assert abs(got.objective - best) <= 1e-9


def test_a_stable_milp_out_of_time_keeps_the_better_lattice_end(monkeypatch) -> None:
    # two stable matchings (the mentee- and mentor-optimal ends differ); the MILP finding
    # nothing in time leaves the end of higher total, unproven, not an error
    from scipy.optimize import OptimizeResult

    import pairwise.solvers.pairs.stable as stable_mod

    p = pairwise.PairProblem.from_scores(
        [[0.9, 0.1], [0.2, 0.8]],
        mentee_ranks=[[2, 1], [1, 2]],
        mentor_ranks=[[1, 2], [2, 1]],
        objective="stable",
    )
    ends = [set(map(tuple, e.tolist())) for e in stable_ends(p)]
    assert ends[0] != ends[1]
    monkeypatch.setattr(
        stable_mod, "milp", lambda *a, **k: OptimizeResult(x=None, status=1, mip_dual_bound=-2.0)
    )
    got = pairwise.solve(p)
    assert got.status == "feasible"
    best = max(ends, key=lambda e: sum(p.scores[i, j] for i, j in e))
    assert set(_pairs(got)) == best
