"""Tests of the pairs engine: rules -> PairProblem -> solve -> Matching -> check.

Every solve is compared with references written here, apart from the library: brute force
over all assignments on tiny instances, ``scipy.optimize.linear_sum_assignment`` on
replicated mentor columns, ``scipy.sparse.csgraph.maximum_flow`` for the largest number of
pairs, and plain per-pair Python for each programme rule.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis.extra.numpy import arrays
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

import pairwise
from pairwise import InfeasibleError, Matching, PairProblem, ValidationError, check, solve
from pairwise import rules as R
from pairwise.solvers._cpsat import SCALE
from pairwise.solvers.pairs import assignment, sparse

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Objectives every pair method solves; the fair ones (CP-SAT's fair model only) are tested
#: in test_fairness.py.
EVERY_METHOD_OBJECTIVES = ("matched-then-total", "total", "maxmin")


# ---------------------------------------------------------------------------- references


@dataclass
class Spec:
    """The raw inputs of a generated ``from_scores`` problem, and what they mean."""

    scores: np.ndarray  # raw, with NaN
    capacity: np.ndarray
    demand: np.ndarray
    allowed_in: np.ndarray | None
    min_score: float | None
    required: list[tuple[int, int]]
    all_matched: bool
    objective: str
    mentee_ids: list[str] | None
    mentor_ids: list[str] | None

    def build(self) -> PairProblem:
        return PairProblem.from_scores(
            self.scores,
            capacity=self.capacity,
            forbidden=None if self.allowed_in is None else ~self.allowed_in,
            min_score=self.min_score,
            demand=self.demand,
            required=self.required,
            all_matched=self.all_matched,
            objective=self.objective,  # type: ignore[arg-type]
            mentee_ids=self.mentee_ids,
            mentor_ids=self.mentor_ids,
        )

    @property
    def allowed(self) -> np.ndarray:
        ok = ~np.isnan(self.scores)
        if self.allowed_in is not None:
            ok &= self.allowed_in
        if self.min_score is not None:
            ok &= ~(self.scores < self.min_score)
        return ok

    @property
    def ids_a(self) -> list[str]:
        return self.mentee_ids or [str(i) for i in range(self.scores.shape[0])]

    @property
    def ids_b(self) -> list[str]:
        return self.mentor_ids or [str(j) for j in range(self.scores.shape[1])]


def required_conflicts(
    allowed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    required: Sequence[tuple[int, int]],
) -> bool:
    """Whether the required pairs alone break a rule (forbidden, over capacity or demand)."""
    req = set(required)
    if any(not allowed[i, j] for i, j in req):
        return True
    per_mentor = Counter(j for _, j in req)
    per_mentee = Counter(i for i, _ in req)
    return any(c > capacity[j] for j, c in per_mentor.items()) or any(
        c > demand[i] for i, c in per_mentee.items()
    )


def all_matchings(
    allowed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    required: Sequence[tuple[int, int]],
) -> Iterator[list[tuple[int, int]]]:
    """Every assignment that keeps the hard rules (required pairs must not conflict)."""
    n, m = allowed.shape
    req = set(required)
    options: list[list[tuple[int, ...]]] = []
    for i in range(n):
        fixed = tuple(sorted(j for (a, j) in req if a == i))
        free = [j for j in range(m) if allowed[i, j] and j not in fixed]
        opts = []
        for k in range(int(demand[i]) - len(fixed) + 1):
            opts.extend(fixed + extra for extra in combinations(free, k))
        options.append(opts)
    load = [0] * m

    def rec(i: int, acc: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
        if i == n:
            yield list(acc)
            return
        for opt in options[i]:
            if all(load[j] < capacity[j] for j in opt):
                for j in opt:
                    load[j] += 1
                acc.extend((i, j) for j in opt)
                yield from rec(i + 1, acc)
                del acc[len(acc) - len(opt) :]
                for j in opt:
                    load[j] -= 1

    yield from rec(0, [])


@dataclass
class Reference:
    feasible: bool  # some assignment keeps every hard rule, all_matched included
    count: int  # most pairs
    best_mtt: float  # best total among those with the most pairs
    best_total: float  # best total overall
    floor: float | None  # bottleneck: largest min score among those with the most pairs
    best_maxmin: float  # best total among those with the most pairs and min >= floor


def brute_force(spec: Spec) -> Reference:
    allowed, s = spec.allowed, spec.scores
    if required_conflicts(allowed, spec.capacity, spec.demand, spec.required):
        return Reference(False, 0, 0.0, 0.0, None, 0.0)
    found = []
    for pairs in all_matchings(allowed, spec.capacity, spec.demand, spec.required):
        if spec.all_matched:
            got = Counter(i for i, _ in pairs)
            if any(got[i] < spec.demand[i] for i in range(s.shape[0])):
                continue
        vals = [float(s[i, j]) for i, j in pairs]
        found.append((len(pairs), math.fsum(vals), min(vals) if vals else math.inf))
    if not found:
        return Reference(False, 0, 0.0, 0.0, None, 0.0)
    count = max(c for c, _, _ in found)
    top = [(t, lo) for c, t, lo in found if c == count]
    floor = max(lo for _, lo in top) if count else None
    return Reference(
        feasible=True,
        count=count,
        best_mtt=max(t for t, _ in top),
        best_total=max(t for _, t, _ in found),
        floor=floor,
        best_maxmin=max(t for t, lo in top if floor is None or lo >= floor),
    )


def tolerance(scores: np.ndarray, allowed: np.ndarray, n_pairs: int) -> float:
    """Total rounding error the integer costs may cause (see ``SCALE`` in solvers/_cpsat.py)."""
    top = float(np.abs(scores[allowed]).max()) if allowed.any() else 0.0
    return n_pairs * top / SCALE * 2 + 1e-9


def max_pairs_scipy(
    allowed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    required: Sequence[tuple[int, int]] = (),
) -> int:
    """Most pairs by scipy's max-flow, with the (non-conflicting) required pairs fixed."""
    n, m = allowed.shape
    req = set(required)
    dem = np.asarray(demand, dtype=np.int64).copy()
    cap = np.asarray(capacity, dtype=np.int64).copy()
    free = allowed.copy()
    for i, j in req:
        dem[i] -= 1
        cap[j] -= 1
        free[i, j] = False
    size = n + m + 2
    g = np.zeros((size, size), dtype=np.int32)
    g[0, 1 : n + 1] = dem
    g[1 : n + 1, n + 1 : n + m + 1] = free.astype(np.int32)
    g[n + 1 : n + m + 1, size - 1] = cap
    if size <= 2 or not g.any():
        return len(req)
    return int(maximum_flow(csr_matrix(g), 0, size - 1).flow_value) + len(req)


def max_panel_seats(
    allowed: np.ndarray, capacity: np.ndarray, needs: np.ndarray, offers: np.ndarray
) -> int:
    """Most filled panel seats by scipy's max-flow: source -> (mentee, topic) -> (mentee,
    mentor) -> mentor -> sink, so a mentor covers one topic of hers and she gets one per topic."""
    n, m = allowed.shape
    slots = [(i, t) for i in range(n) for t in np.flatnonzero(needs[i])]
    cells = [(i, j) for i in range(n) for j in range(m) if allowed[i, j]]
    size = 2 + len(slots) + len(cells) + m
    g = np.zeros((size, size), dtype=np.int32)
    slot_node = {st: 1 + k for k, st in enumerate(slots)}
    cell_node = {c: 1 + len(slots) + k for k, c in enumerate(cells)}
    mentor0, sink = 1 + len(slots) + len(cells), size - 1
    for (i, t), u in slot_node.items():
        g[0, u] = 1
        for j in range(m):
            if allowed[i, j] and offers[j, t]:
                g[u, cell_node[(i, j)]] = 1
    for (_, j), v in cell_node.items():
        g[v, mentor0 + j] = 1
    for j in range(m):
        g[mentor0 + j, sink] = capacity[j]
    if not g.any():
        return 0
    return int(maximum_flow(csr_matrix(g), 0, sink).flow_value)


def lsa_reference(
    scores: np.ndarray, allowed: np.ndarray, capacity: np.ndarray, objective: str
) -> tuple[int, float]:
    """(pairs, total) of the best one-to-one-per-mentee matching, by linear sum assignment.

    Each mentor column is repeated ``capacity`` times; forbidden cells get a big negative
    value. ``matched-then-total`` adds a constant larger than any total to allowed cells so
    the cardinality comes first; ``total`` clips scores at 0 (a pair worth <= 0 is dropped).
    """
    cols = np.repeat(np.arange(scores.shape[1]), capacity)
    if len(cols) == 0 or scores.shape[0] == 0:
        return 0, 0.0
    s = np.nan_to_num(scores[:, cols])
    ok = allowed[:, cols]
    top = float(np.abs(s[ok]).max()) if ok.any() else 0.0
    big = 4.0 * (scores.shape[0] + 1) * (top + 1.0)
    if objective == "matched-then-total":
        w = np.where(ok, s + big, -big)
        r, c = linear_sum_assignment(w, maximize=True)
        keep = ok[r, c]
    else:
        w = np.where(ok, np.maximum(s, 0.0), 0.0)
        r, c = linear_sum_assignment(w, maximize=True)
        keep = ok[r, c] & (s[r, c] > 0)
    return int(keep.sum()), math.fsum(s[r[keep], c[keep]].tolist())


def pair_count(result: Matching) -> int:
    return len(result.assignment)


def total_of(scores: np.ndarray, result: Matching) -> float:
    return math.fsum(float(scores[i, j]) for i, j in result.assignment.tolist())


# ---------------------------------------------------------------------------- strategies

_number = st.one_of(
    st.integers(-3, 9).map(float),  # ties
    st.floats(-10, 10, allow_nan=False, allow_subnormal=False),
    st.floats(0, 1, allow_subnormal=False),
    st.sampled_from([1e-7, -1e-7, 1e3, 0.0]),  # scale extremes
)
_cell = st.one_of(st.just(math.nan), _number, _number, _number)  # about 1 in 7 NaN
_mostly_true = st.sampled_from([True, True, True, False])


@st.composite
def specs(
    draw: st.DrawFn,
    *,
    max_n: int = 4,
    max_m: int = 4,
    max_cap: int = 3,
    panels: bool = True,
    with_required: bool = True,
    all_matched: bool | None = None,
    objective: str | None = None,
    masks: bool = True,
) -> Spec:
    """A small random ``from_scores`` problem."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    scores = draw(arrays(np.float64, (n, m), elements=_cell))
    caps = st.sampled_from([0, *range(1, max_cap + 1), *range(1, max_cap + 1)])
    capacity = np.array(draw(st.lists(caps, min_size=m, max_size=m)))
    if panels and draw(st.booleans()):
        demand = np.array(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)))
    else:
        demand = np.ones(n, dtype=np.int64)
    allowed_in = (
        draw(st.none() | arrays(np.bool_, (n, m), elements=_mostly_true)) if masks else None
    )
    min_score = draw(st.sampled_from([None, None, -1.0, 0.0, 2.0])) if masks else None
    required: list[tuple[int, int]] = []
    if with_required and draw(st.integers(0, 2)) == 0:
        required = draw(
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, m - 1)), max_size=2)
        )
    if all_matched is None:
        all_matched = draw(st.integers(0, 2)) == 0
    if objective is None:
        objective = draw(st.sampled_from(EVERY_METHOD_OBJECTIVES))
    ids = draw(st.booleans())
    return Spec(
        scores=scores,
        capacity=capacity,
        demand=demand,
        allowed_in=allowed_in,
        min_score=min_score,
        required=required,
        all_matched=all_matched,
        objective=objective,
        mentee_ids=[f"e{i}" for i in range(n)] if ids else None,
        mentor_ids=[f"r{j}" for j in range(m)] if ids else None,
    )


# ------------------------------------------------------------ 1. validity, infeasibility

# "no allowed mentor: removed by ...", with what she answered when the cohort is known
_NO_MENTOR = re.compile(r"no allowed mentor( \([^)]*\))?: removed by ")

_HALL = re.compile(
    r"(\d+) mentees (?:\([^)]*\) )?need (\d+) mentor places, "
    r"but the (\d+) mentors allowed for them have (\d+) places: ([^\n]*)"
)


def assert_hall_certificate(spec: Spec, err: InfeasibleError) -> None:
    """The all-matched message names every mentee with no allowed mentor, and any counting
    argument it states (mentees X need more places than their mentors give) is genuine."""
    text = str(err)
    allowed = spec.allowed
    ids_a = spec.ids_a
    alone = ~allowed.any(axis=1)
    for i in np.flatnonzero(alone):
        assert f"mentee {ids_a[i]} has no allowed mentor" in text
    found = _HALL.search(text)
    if found is None:
        # a counting argument must be given when it is the only reason; panels may also fail
        # because a mentor takes a mentee at most once, which this message does not count
        assert alone.any() or spec.demand.max() > 1, text
        return
    k, need, n_mentors, room, shown = found.groups()
    assert int(need) > int(room)
    if "..." in shown:
        return
    names = shown.split(", ")
    assert len(names) == int(k)
    rows = [ids_a.index(x) for x in names]
    req = set(spec.required)
    dem = spec.demand.astype(int).copy()
    cap = spec.capacity.astype(int).copy()
    free = allowed.copy()
    for i, j in req:
        dem[i] -= 1
        cap[j] -= 1
        free[i, j] = False
    degree = allowed[rows].sum(axis=0)
    neighbours = np.flatnonzero(degree)
    assert int(need) == int(dem[rows].sum())
    assert int(n_mentors) == len(neighbours)
    # the places stated lie between what the mentors can give X (each of them at most once)
    # and the mentors' whole remaining capacity
    free_degree = free[rows].sum(axis=0)
    assert int(np.minimum(cap, free_degree)[neighbours].sum()) <= int(room)
    assert int(room) <= int(cap[neighbours].sum())
    # and X indeed cannot be fully served: the most pairs X can get is below its need
    sub = np.zeros_like(free)
    sub[rows] = free[rows]
    assert max_pairs_scipy(sub, cap, dem) < int(need)


METHODS = st.sampled_from(["auto", "flow", "sparse", "assignment"])


def usable(problem: PairProblem, method: str) -> str:
    """``method`` if it accepts ``problem``, else ``"auto"``."""
    if method == "assignment" and not assignment.applies(problem):
        return "auto"
    if method == "sparse" and problem.objective == "maxmin":
        return "auto"
    return method


def expect_outcome(spec: Spec, method: str = "auto") -> tuple[Matching | None, Reference]:
    """Solve ``spec``; check validity, and that it raises exactly when it must."""
    problem = spec.build()
    ref = brute_force(spec)
    must_fail = required_conflicts(spec.allowed, spec.capacity, spec.demand, spec.required)
    try:
        result = solve(problem, method=usable(problem, method))  # type: ignore[arg-type]
    except InfeasibleError as err:
        event("infeasible: required" if must_fail else "infeasible: all matched")
        assert must_fail or (spec.all_matched and not ref.feasible), str(err)
        if not must_fail:
            assert_hall_certificate(spec, err)
        return None, ref
    event(f"solved by {result.method}, {'some' if len(result.assignment) else 'no'} pairs")
    assert not must_fail
    assert ref.feasible
    assert check(problem, result) == []
    return result, ref


@SETTINGS
@given(specs(), METHODS)
def test_results_keep_every_hard_rule_or_raise_infeasible(spec: Spec, method: str) -> None:
    problem = spec.build()
    np.testing.assert_array_equal(problem.allowed, spec.allowed)
    result, _ = expect_outcome(spec, method)
    if result is None:
        return
    pairs = [tuple(p) for p in result.assignment.tolist()]
    assert len(set(pairs)) == len(pairs)
    assert set(spec.required) <= set(pairs)
    assert all(spec.allowed[i, j] for i, j in pairs)
    assert result.objective == pytest.approx(total_of(spec.scores, result), rel=1e-12, abs=1e-12)


@SETTINGS
@given(specs(all_matched=True, with_required=False))
def test_all_matched_raises_exactly_when_no_full_matching_exists(spec: Spec) -> None:
    problem = spec.build()
    ref = brute_force(spec)
    if ref.feasible:
        result = solve(problem)
        got = np.bincount(result.assignment[:, 0], minlength=problem.shape[0])
        assert (got == spec.demand).all()
        assert check(problem, result) == []
    else:
        with pytest.raises(InfeasibleError) as info:
            solve(problem)
        assert_hall_certificate(spec, info.value)


def test_hall_violation_is_reported_with_counts() -> None:
    nan = math.nan
    s = [[0.5, nan], [0.6, nan], [0.7, nan], [0.1, 0.9]]
    p = PairProblem.from_scores(
        s,
        capacity=[1, 3],
        all_matched=True,
        mentee_ids=["ann", "bea", "cat", "dot"],
        mentor_ids=["A", "B"],
    )
    with pytest.raises(InfeasibleError) as info:
        solve(p)
    text = str(info.value)
    assert re.search(r"3 mentees need 3 mentor places.*: ann, bea, cat", text), text
    assert "the 1 mentors allowed for them have 1 places" in text
    # without all_matched the same problem is fine: two of the three stay unmatched
    m = solve(PairProblem.from_scores(s, capacity=[1, 3]))
    assert pair_count(m) == 2
    assert len(m.unmatched) == 2


def test_mentee_with_no_allowed_mentor_is_named() -> None:
    nan = math.nan
    p = PairProblem.from_scores(
        [[nan, nan], [0.3, 0.4]], all_matched=True, mentee_ids=["lone", "ok"]
    )
    with pytest.raises(InfeasibleError, match=r"mentee lone has no allowed mentor"):
        solve(p)


# ------------------------------------------------------------------------- 2. optimality


@SETTINGS
@given(specs(objective="matched-then-total", panels=False), METHODS)
def test_matched_then_total_equals_brute_force(spec: Spec, method: str) -> None:
    result, ref = expect_outcome(spec, method)
    if result is None:
        return
    assert pair_count(result) == ref.count
    tol = tolerance(spec.scores, spec.allowed, ref.count)
    assert result.objective == pytest.approx(ref.best_mtt, abs=tol)
    assert result.bound >= ref.best_mtt - 1e-9


@SETTINGS
@given(specs(objective="matched-then-total", panels=True), METHODS)
def test_matched_then_total_panels_equal_brute_force(spec: Spec, method: str) -> None:
    result, ref = expect_outcome(spec, method)
    if result is None:
        return
    assert pair_count(result) == ref.count
    tol = tolerance(spec.scores, spec.allowed, ref.count)
    assert result.objective == pytest.approx(ref.best_mtt, abs=tol)


@SETTINGS
@given(specs(objective="total"), METHODS)
def test_total_equals_brute_force(spec: Spec, method: str) -> None:
    result, ref = expect_outcome(spec, method)
    if result is None:
        return
    n_max = int(min(spec.demand.sum(), spec.capacity.sum()))
    tol = tolerance(spec.scores, spec.allowed, n_max)
    if spec.all_matched:  # every mentee matched: the best total among full matchings
        assert pair_count(result) == ref.count
        assert result.objective == pytest.approx(ref.best_mtt, abs=tol)
    else:
        assert result.objective == pytest.approx(ref.best_total, abs=tol)
        # the bound holds for every solution, those with more pairs included
        assert result.bound >= ref.best_total - 1e-12
    assert result.bound >= result.objective


@SETTINGS
@given(specs(objective="maxmin"), METHODS)
def test_maxmin_equals_brute_force_bottleneck(spec: Spec, method: str) -> None:
    result, ref = expect_outcome(spec, method)
    if result is None:
        return
    assert pair_count(result) == ref.count
    if ref.count == 0:
        assert result.objective == 0.0
        return
    s = spec.scores[result.assignment[:, 0], result.assignment[:, 1]]
    assert ref.floor is not None
    assert float(s.min()) == pytest.approx(ref.floor, abs=1e-12)
    tol = tolerance(spec.scores, spec.allowed, ref.count)
    assert result.objective == pytest.approx(ref.best_maxmin, abs=tol)


@SETTINGS
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.integers(1, 12).flatmap(
            lambda m: st.tuples(
                arrays(np.float64, (n, m), elements=_cell),
                arrays(np.bool_, (n, m), elements=_mostly_true) | st.none(),
                st.lists(st.sampled_from([0, 1, 1, 2, 3]), min_size=m, max_size=m),
                st.sampled_from(["matched-then-total", "total"]),
            )
        )
    ),
    METHODS,
)
def test_one_mentor_each_equals_linear_sum_assignment(args: Any, method: str) -> None:
    scores, allowed_in, capacity, objective = args
    forbidden = None if allowed_in is None else ~allowed_in
    p = PairProblem.from_scores(scores, capacity=capacity, forbidden=forbidden, objective=objective)
    m = solve(p, method=usable(p, method))  # type: ignore[arg-type]
    assert check(p, m) == []
    ok = ~np.isnan(scores) if allowed_in is None else ~np.isnan(scores) & allowed_in
    count, total = lsa_reference(scores, ok, np.array(capacity), objective)
    n_max = min(scores.shape[0], sum(capacity))
    tol = tolerance(scores, ok, n_max)
    if objective == "matched-then-total":
        assert pair_count(m) == count
        assert pair_count(m) == max_pairs_scipy(ok, np.array(capacity), p.demand)
    assert m.objective == pytest.approx(total, abs=tol)


@SETTINGS
@given(specs(max_n=5, max_m=4, objective="matched-then-total") | specs(objective="total"))
def test_sparse_candidates_with_proof_equal_brute_force(spec: Spec) -> None:
    # one candidate per mentee: the reduced-cost proof must add every missing arc it needs
    problem = spec.build()
    ref = brute_force(spec)
    if not ref.feasible:
        return
    if required_conflicts(spec.allowed, spec.capacity, spec.demand, spec.required):
        return
    pairs = sparse.solve_sparse(problem, k=1).rows
    total = math.fsum(float(spec.scores[i, j]) for i, j in pairs.tolist())
    assert check(problem, _forged(problem, [tuple(p) for p in pairs.tolist()], total)) == []
    n_max = int(min(spec.demand.sum(), spec.capacity.sum()))
    tol = tolerance(spec.scores, spec.allowed, n_max)
    if spec.objective == "total" and not spec.all_matched:
        assert total == pytest.approx(ref.best_total, abs=tol)
    else:
        assert len(pairs) == ref.count
        assert total == pytest.approx(ref.best_mtt, abs=tol)


# ------------------------------------------------------------------------ required pairs


@SETTINGS
@given(specs(all_matched=False), METHODS, st.data())
def test_required_pairs_are_kept(spec: Spec, method: str, data: st.DataObject) -> None:
    # plant one required pair on an allowed cell with room left
    n, m = spec.scores.shape
    cells = [(i, j) for i in range(n) for j in range(m) if spec.allowed[i, j]]
    if not cells:
        return
    spec = replace(
        spec, capacity=np.maximum(spec.capacity, 1), required=[data.draw(st.sampled_from(cells))]
    )
    result, ref = expect_outcome(spec, method)
    assert result is not None
    assert spec.required[0] in {tuple(p) for p in result.assignment.tolist()}
    if spec.objective == "matched-then-total":
        assert pair_count(result) == ref.count
        tol = tolerance(spec.scores, spec.allowed, ref.count)
        assert result.objective == pytest.approx(ref.best_mtt, abs=tol)


def test_forbidden_required_pair_is_infeasible_and_named() -> None:
    p = PairProblem.from_scores(
        [[0.1, math.nan], [0.2, 0.3]],
        required=[(0, 1)],
        mentee_ids=["amy", "bo"],
        mentor_ids=["xu", "yan"],
    )
    with pytest.raises(InfeasibleError, match=r"required pair \(amy, yan\) is forbidden by"):
        solve(p)


def test_required_pairs_over_capacity_are_infeasible_and_named() -> None:
    p = PairProblem.from_scores(
        np.ones((3, 2)),
        capacity=[1, 2],
        required=[(0, 0), (1, 0), (2, 1)],
        mentee_ids=["a", "b", "c"],
        mentor_ids=["full", "free"],
    )
    with pytest.raises(InfeasibleError) as info:
        solve(p)
    text = str(info.value)
    assert "mentor full 2 mentees but capacity is 1" in text
    assert "free" not in text


def test_required_pairs_over_demand_are_infeasible_and_named() -> None:
    p = PairProblem.from_scores(
        np.ones((1, 2)), required=[(0, 0), (0, 1)], mentee_ids=["solo"], mentor_ids=["a", "b"]
    )
    with pytest.raises(InfeasibleError, match=r"mentee solo 2 mentors but she asks for 1"):
        solve(p)


def test_duplicate_required_pair_counts_once() -> None:
    p = PairProblem.from_scores([[0.5, 0.9]], required=[(0, 0), (0, 0)])
    m = solve(p)
    assert check(p, m) == []
    assert m.assignment.tolist() == [[0, 0]]


# --------------------------------------------------------------- 3. result invariants


@SETTINGS
@given(specs(max_n=5, max_m=5))
def test_result_invariants(spec: Spec) -> None:
    problem = spec.build()
    try:
        first = solve(problem)
    except InfeasibleError:
        return
    second = solve(problem)
    assert first.status == "optimal"
    assert first.method
    assert first.bound >= first.objective
    assert first.gap >= 0.0
    np.testing.assert_array_equal(first.assignment, second.assignment)
    assert first.objective == second.objective
    assert first.assignment.dtype == np.int64
    assert first.assignment.shape[1] == 2
    rows = first.assignment.tolist()
    assert rows == sorted(rows)
    for arr in (first.assignment, problem.scores, problem.allowed, problem.capacity):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[...] = 0
    if int(problem.demand.max()) <= 1:
        assert not first.mentor_of.flags.writeable
    assert "Matching(" in repr(first)


# ------------------------------------------------------------------------ 4. result views


def assert_views(problem: PairProblem, result: Matching) -> None:
    """mentor_of, pairs, unmatched, explain, metrics and to_frame agree with the pairs."""
    n, _ = problem.shape
    a = result.assignment
    per_mentee: list[list[int]] = [[] for _ in range(n)]
    for i, j in a.tolist():
        per_mentee[i].append(j)

    if int(problem.demand.max()) <= 1:
        mentor_of = result.mentor_of
        assert isinstance(mentor_of, np.ndarray)
        assert mentor_of.tolist() == [js[0] if js else -1 for js in per_mentee]
    assert result.mentors_of == [sorted(js) for js in per_mentee]

    pairs = result.pairs
    assert len(pairs) == len(a)
    assert list(pairs.mentee_id) == [problem.mentee_ids[i] for i in a[:, 0]]
    assert list(pairs.mentor_id) == [problem.mentor_ids[j] for j in a[:, 1]]
    np.testing.assert_array_equal(pairs.score.to_numpy(), problem.scores[a[:, 0], a[:, 1]])
    if problem.compat is not None:
        names = problem.compat.criteria
        assert set(names) <= set(pairs.columns)
        if len(pairs):
            np.testing.assert_allclose(
                pairs[names].sum(axis=1).to_numpy(), pairs.score.to_numpy(), atol=1e-9
            )

    got = np.array([len(js) for js in per_mentee])
    short = [i for i in range(n) if got[i] < problem.demand[i]]
    un = result.unmatched
    assert list(un.mentee_id) == [problem.mentee_ids[i] for i in short]
    assert list(un.missing) == [int(problem.demand[i] - got[i]) for i in short]
    for i, reason in zip(short, un.reason, strict=True):
        if not problem.allowed[i].any():
            assert _NO_MENTOR.match(reason), reason
        else:
            assert "allowed" in reason

    for i in range(n):
        e = result.explain(problem.mentee_ids[i])
        mine = per_mentee[i]
        assert list(e.mentor_id[: len(mine)]) == [problem.mentor_ids[j] for j in mine]
        assert e.assigned.tolist() == [True] * len(mine) + [False] * (len(e) - len(mine))
        cols = {x: j for j, x in enumerate(problem.mentor_ids)}
        listed = [cols[x] for x in e.mentor_id]
        assert all(problem.allowed[i, j] for j in listed)
        np.testing.assert_array_equal(e.score.to_numpy(), problem.scores[i, listed])
        alt = e.score[len(mine) :].to_numpy()
        assert (np.diff(alt) <= 0).all()
        assert len(e) - len(mine) == min(3, int(problem.allowed[i].sum()) - len(mine))
        if "switch_cost" in e.columns:
            assert (e.switch_cost[: len(mine)] == 0).all()
            fixed = any(r == i for r, _ in problem.required)
            if problem.objective == "matched-then-total" and not fixed:
                # the result is optimal: a forced switch neither adds pairs nor, at the same
                # number of pairs, adds score
                for after, cost in zip(
                    e.matched_if_switched[len(mine) :], e.switch_cost[len(mine) :], strict=True
                ):
                    assert after <= len(a)
                    if after == len(a):
                        assert cost >= -tolerance(problem.scores, problem.allowed, len(a))
    with pytest.raises(ValidationError, match="unknown mentee id"):
        result.explain("no such person")

    stats = result.metrics()
    s = problem.scores[a[:, 0], a[:, 1]]
    matched = int((got > 0).sum())
    assert stats["mentees"] == n
    assert stats["matched"] == matched
    assert stats["matched_share"] == pytest.approx(matched / n)
    assert stats["pairs"] == len(a)
    assert stats["total_score"] == pytest.approx(result.objective, abs=1e-9)
    if len(a):
        assert stats["min_score"] == pytest.approx(float(s.min()))
        assert stats["mean_score"] == pytest.approx(float(s.mean()))
        load = np.bincount(a[:, 1], minlength=problem.shape[1])
        assert stats["max_load"] == load.max()
        assert stats["mentors_used"] == (load > 0).sum()
    else:
        assert math.isnan(stats["min_score"])

    frame = result.to_frame()
    assert set(problem.mentee_ids) <= set(frame.mentee_id)
    assert frame.mentor_id.notna().sum() == len(a)


@SETTINGS
@given(specs(max_n=5, max_m=4))
def test_views_agree_with_pairs(spec: Spec) -> None:
    problem = spec.build()
    try:
        result = solve(problem)
    except InfeasibleError:
        return
    assert_views(problem, result)
    for i in np.flatnonzero(~spec.allowed.any(axis=1)):
        row = result.unmatched[result.unmatched.mentee_id == spec.ids_a[i]]
        assert (
            row.reason.item()
            == f"no allowed mentor: removed by not allowed ({spec.scores.shape[1]})"
        )


def test_views_on_a_hand_example() -> None:
    p = PairProblem.from_scores(
        [[0.9, 0.8], [0.7, math.nan], [0.6, 0.2], [math.nan, math.nan]],
        capacity=[2, 1],
        mentee_ids=["a", "b", "c", "d"],
        mentor_ids=["X", "Y"],
    )
    m = solve(p)
    assert m.mentor_of.tolist() == [1, 0, 0, -1]
    assert m.pairs.to_dict("list") == {
        "mentee_id": ["a", "b", "c"],
        "mentor_id": ["Y", "X", "X"],
        "score": [0.8, 0.7, 0.6],
    }
    assert m.unmatched.to_dict("list") == {
        "mentee_id": ["d"],
        "missing": [1],
        "reason": ["no allowed mentor: removed by not allowed (2)"],
    }
    e = m.explain("a")
    assert e.mentor_id.tolist() == ["Y", "X"]
    assert e.score_difference.tolist() == pytest.approx([0.0, 0.1])
    assert e.full.tolist() == [True, True]
    assert m.metrics()["matched_share"] == 0.75
    assert m.to_frame().mentee_id.tolist() == ["a", "b", "c", "d"]


def test_panels_mentors_of_lists() -> None:
    p = PairProblem.from_scores(np.array([[3.0, 2.0, 1.0], [1.0, 5.0, 4.0]]), demand=[2, 1])
    m = solve(p)
    assert m.mentors_of == [[0, 2], [1]]
    assert m.unmatched.empty
    # mentor_of is always an array; on a panel it warns that the panel is in mentors_of
    with pytest.warns(DeprecationWarning, match="mentors_of"):
        assert m.mentor_of.tolist() == [0, 1]


# ------------------------------------------------------------- synthetic cohorts and rules

_MODE = {
    ("online", "online"): "yes",
    ("online", "either"): "yes",
    ("either", "online"): "yes",
    ("either", "either"): "yes",
    ("online", "in-person"): "no",
    ("in-person", "online"): "no",
}


def _eq(x: Any, y: Any) -> bool:
    return x is not None and y is not None and x == y


def rule_ok(rule: Any, compat: pairwise.Compatibility, i: int, j: int) -> bool:
    """Whether pair (i, j) satisfies ``rule``, read straight off the cohort rows."""
    a, b = compat.mentees, compat.mentors
    if isinstance(rule, R.SameRegion):
        return _eq(a.region[i], b.region[j])
    if isinstance(rule, R.SameCluster):
        return _eq(a.cluster[i], b.cluster[j])
    if isinstance(rule, R.SameChapter):
        return _eq(a.chapter[i], b.chapter[j])
    if isinstance(rule, R.DifferentChapter):
        return not _eq(a.chapter[i], b.chapter[j])
    if isinstance(rule, R.SharedLanguage):
        return bool(set(a.languages.row(i)) & set(b.languages.row(j)))
    if isinstance(rule, R.ModeRule):
        verdict = _MODE.get((a.mode[i], b.mode[j]), "region")
        return verdict == "yes" or (verdict == "region" and _eq(a.region[i], b.region[j]))
    if isinstance(rule, R.VettedOnly):
        return bool(b.vetted[j])
    if isinstance(rule, R.NoRepeat):
        return b.ids[j] not in a.previous[i] and a.ids[i] not in b.previous[j]
    if isinstance(rule, R.Forbid):
        linked = rule.use_avoid and (b.ids[j] in a.avoid[i] or a.ids[i] in b.avoid[j])
        return not linked and (a.ids[i], b.ids[j]) not in set(rule.pairs)
    if isinstance(rule, R.MinScore):
        return float(compat.matrix[i, j]) >= rule.score
    if isinstance(rule, R.MentorsPerMentee) and rule.k == "per-topic":
        offered = {t for t, level in b.expertise.row(j).items() if level >= rule.min_level}
        return bool(set(a.needs.row(i)) & offered)
    return True


def expected_capacity(compat: pairwise.Compatibility, rules: Sequence[Any]) -> np.ndarray:
    cap = np.array([int(c) for c in compat.mentors.capacity])
    for r in rules:
        if isinstance(r, R.Capacity) and r.override is not None:
            cap = np.broadcast_to(np.array(r.override), cap.shape).copy()
    return cap


def expected_demand(compat: pairwise.Compatibility, rules: Sequence[Any]) -> np.ndarray:
    n = compat.shape[0]
    dem = np.ones(n, dtype=int)
    for r in rules:
        if isinstance(r, R.MentorsPerMentee):
            if r.k == "per-topic":
                dem = np.array([len(compat.mentees.needs.row(i)) for i in range(n)], dtype=int)
            else:
                dem = np.full(n, r.k)
    return dem


@dataclass
class RuledCase:
    compat: pairwise.Compatibility
    rules: list[Any]
    objective: str

    @property
    def hard(self) -> list[Any]:
        """Rules that remove cells, the always-on avoid lists first."""
        return [R.Forbid(), *self.rules]

    def allowed(self) -> np.ndarray:
        n, m = self.compat.shape
        return np.array(
            [
                [all(rule_ok(r, self.compat, i, j) for r in self.hard) for j in range(m)]
                for i in range(n)
            ]
        )

    def required(self) -> list[tuple[int, int]]:
        rows = {x: i for i, x in enumerate(self.compat.mentee_ids)}
        cols = {x: j for j, x in enumerate(self.compat.mentor_ids)}
        out: list[tuple[int, int]] = []
        for r in self.rules:
            if isinstance(r, R.Require):
                out.extend((rows[a], cols[b]) for a, b in r.pairs)
        return list(dict.fromkeys(out))

    @property
    def all_matched(self) -> bool:
        return any(isinstance(r, R.AllMatched) for r in self.rules)


@st.composite
def ruled_cases(draw: st.DrawFn, *, max_mentees: int = 14, max_mentors: int = 10) -> RuledCase:
    """A synthetic cohort, scored, with a random subset of the programme rules."""
    cohort = pairwise.make_cohort(
        draw(st.integers(1, max_mentees)),
        draw(st.integers(1, max_mentors)),
        seed=draw(st.integers(0, 10_000)),
        avoid_rate=draw(st.sampled_from([0.0, 0.3])),
        previous_rate=draw(st.sampled_from([0.0, 0.3])),
    )
    compat = pairwise.score(cohort)
    a_ids, b_ids = list(compat.mentee_ids), list(compat.mentor_ids)
    pair = st.tuples(st.sampled_from(a_ids), st.sampled_from(b_ids))
    simple = [
        R.SameRegion(),
        R.SameCluster(),
        R.SameChapter(),
        R.DifferentChapter(),
        R.SharedLanguage(),
        R.ModeRule(),
        R.VettedOnly(),
        R.NoRepeat(),
        R.AllMatched(),
    ]
    chosen: list[Any] = [r for r in simple if draw(st.integers(0, 5)) == 0]
    if draw(st.booleans()):
        chosen.append(R.Forbid(pairs=tuple(draw(st.lists(pair, max_size=4))), use_avoid=False))
    if draw(st.integers(0, 3)) == 0:
        chosen.append(R.MinScore(draw(st.sampled_from([0.2, 0.35, 0.5]))))
    if draw(st.booleans()):
        override = draw(
            st.integers(0, 3)
            | st.lists(st.integers(0, 3), min_size=len(b_ids), max_size=len(b_ids))
        )
        chosen.append(R.Capacity(override=override))
    if draw(st.integers(0, 3)) == 0:
        chosen.append(R.MentorsPerMentee(draw(st.sampled_from([2, "per-topic"]))))
    if draw(st.integers(0, 3)) == 0:
        chosen.append(R.Require(tuple(draw(st.lists(pair, max_size=2, unique=True)))))
    chosen = draw(st.permutations(chosen))
    objective = draw(st.sampled_from(EVERY_METHOD_OBJECTIVES))
    return RuledCase(compat, list(chosen), objective)


@SETTINGS
@given(ruled_cases())
def test_rules_hold_in_every_solution(case: RuledCase) -> None:
    compat = case.compat
    problem = PairProblem.from_compatibility(compat, case.rules, objective=case.objective)  # type: ignore[arg-type]
    allowed = case.allowed()
    cap = expected_capacity(compat, case.rules)
    dem = expected_demand(compat, case.rules)
    req = case.required()
    np.testing.assert_array_equal(problem.allowed, allowed)
    np.testing.assert_array_equal(problem.capacity, cap)
    np.testing.assert_array_equal(problem.demand, dem)
    assert set(problem.required) == set(req)
    assert problem.all_matched == case.all_matched

    must_fail = required_conflicts(allowed, cap, dem, req)
    most = None if must_fail else max_pairs_scipy(allowed, cap, dem, req)
    panel = problem.panel is not None
    if panel and most is not None:
        seats = max_panel_seats(allowed, cap, problem.panel[1], problem.panel[2])
        # with required pairs fixed the panel optimum can only be lower; compare exactly
        # when there are none
        most = seats if not req else min(most, seats)
    try:
        result = solve(problem)
    except InfeasibleError as err:
        event("infeasible")
        assert must_fail or (case.all_matched and most is not None and most < dem.sum()), str(err)
        return
    event(f"solved, {'some' if len(result.assignment) else 'no'} pairs")
    assert not must_fail
    assert check(problem, result) == []

    pairs = result.assignment.tolist()
    # each rule, pair by pair, from the cohort rows
    for rule in case.hard:
        bad = [(i, j) for i, j in pairs if not rule_ok(rule, compat, i, j)]
        assert bad == [], rule
    load = Counter(j for _, j in pairs)
    assert all(load[j] <= cap[j] for j in load)
    per = Counter(i for i, _ in pairs)
    assert all(per[i] <= dem[i] for i in per)
    assert set(req) <= {(i, j) for i, j in pairs}
    if case.all_matched:
        assert all(per[i] == dem[i] for i in range(len(dem)))
    if case.objective != "total":
        if panel and req:
            assert len(pairs) <= most
        else:
            assert len(pairs) == most
    assert_views(problem, result)

    # unmatched mentees with no allowed mentor: the reason names exactly the rules that
    # removed her candidates, with how many each removed
    un = result.unmatched
    for i in np.flatnonzero(~allowed.any(axis=1)):
        if dem[i] == 0:
            continue
        reason = un[un.mentee_id == compat.mentee_ids[i]].reason.item()
        assert _NO_MENTOR.match(reason), reason
        named: dict[str, int] = Counter()
        for r in case.hard:
            removed = sum(not rule_ok(r, compat, i, j) for j in range(compat.shape[1]))
            if removed:
                named[r.name] += removed
        listed = reason.split("removed by ", 1)[1]
        found = {k.strip(): v for k, v in re.findall(r"([^,(]+?) \((\d+)\)", listed)}
        assert set(found) == set(named), (found, named)
        for name, count in found.items():
            # two rules of one name (avoid lists and an explicit Forbid) share one mask
            assert 0 < int(count) <= named[name]


@FEW
@given(ruled_cases(max_mentees=8, max_mentors=5))
def test_same_rules_same_result(case: RuledCase) -> None:
    problem = PairProblem.from_compatibility(case.compat, case.rules)
    again = PairProblem.from_compatibility(case.compat, list(reversed(case.rules)))
    try:
        a = solve(problem)
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            solve(again)
        return
    b = solve(again)
    np.testing.assert_array_equal(problem.allowed, again.allowed)
    assert a.objective == pytest.approx(b.objective, abs=1e-9)


def _frame_cohort() -> pairwise.Cohort:
    """A hand-made cohort with missing regions and chapters, avoid and previous links."""
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "X", "Y", "Z"],
            "role": ["mentee"] * 4 + ["mentor"] * 3,
            "region": ["r1", None, "r2", "r3", "r1", None, "r2"],
            "cluster": ["k", None, "k", "q", "k", "k", "k"],
            "chapter": [None, "c1", "c1", "c2", "c1", None, "c2"],
            "languages": [["en"], [], ["fr", "en"], ["es"], ["en"], None, ["fr"]],
            "mode": ["online", "in-person", "either", "in-person", "either", "in-person", "online"],
            "capacity": [None, None, None, None, 2, 1, 1],
            "vetted": [None, None, None, None, True, False, True],
            "avoid": [["X"], [], [], [], [], ["b"], []],
            "previous": [[], ["Y"], [], [], ["c"], [], []],
        }
    )
    return pairwise.Cohort.from_frame(df)


@pytest.mark.parametrize(
    "rule",
    [
        R.SameRegion(),
        R.SameCluster(),
        R.SameChapter(),
        R.DifferentChapter(),
        R.SharedLanguage(),
        R.ModeRule(),
        R.VettedOnly(),
        R.NoRepeat(),
        R.Forbid(pairs=(("d", "Z"),)),
        R.MinScore(0.3),
    ],
    ids=lambda r: type(r).__name__,
)
def test_rule_masks_with_missing_values(rule: Any) -> None:
    compat = pairwise.score(_frame_cohort())
    case = RuledCase(compat, [rule], "matched-then-total")
    p = PairProblem.from_compatibility(compat, [rule])
    np.testing.assert_array_equal(p.allowed, case.allowed())
    mask = p.removed_by.get(rule.name)
    own = np.array(
        [[not rule_ok(rule, compat, i, j) for j in range(3)] for i in range(4)], dtype=bool
    )
    if own.any():
        assert mask is not None
        np.testing.assert_array_equal(mask, own)
    m = solve(p)
    assert check(p, m) == []
    assert all(rule_ok(rule, compat, i, j) for i, j in m.assignment.tolist())


def test_rule_semantics_on_hand_cohort() -> None:
    compat = pairwise.score(_frame_cohort())

    def allowed(rule: Any) -> dict[str, list[str]]:
        p = PairProblem.from_compatibility(compat, [rule])
        return {
            str(a): [str(b) for b, ok in zip(compat.mentor_ids, row, strict=True) if ok]
            for a, row in zip(compat.mentee_ids, p.allowed, strict=True)
        }

    # avoid lists always apply: a avoids X, Y avoids b
    assert allowed(R.SameRegion()) == {"a": [], "b": [], "c": ["Z"], "d": []}
    assert allowed(R.SameChapter()) == {"a": [], "b": ["X"], "c": ["X"], "d": ["Z"]}
    assert allowed(R.DifferentChapter()) == {
        "a": ["Y", "Z"],
        "b": ["Z"],
        "c": ["Y", "Z"],
        "d": ["X", "Y"],
    }
    assert allowed(R.SharedLanguage()) == {"a": [], "b": [], "c": ["X", "Z"], "d": []}
    # a online: X (either) and Z (online); b in person (no region): nobody; c either in r2:
    # X (either, r1) ok online, Y in person without a region no, Z online ok
    assert allowed(R.ModeRule()) == {"a": ["Z"], "b": [], "c": ["X", "Z"], "d": []}
    assert allowed(R.VettedOnly()) == {
        "a": ["Z"],
        "b": ["X", "Z"],
        "c": ["X", "Z"],
        "d": ["X", "Z"],
    }
    assert allowed(R.NoRepeat()) == {
        "a": ["Y", "Z"],
        "b": ["X", "Z"],
        "c": ["Y", "Z"],
        "d": ["X", "Y", "Z"],
    }


def test_all_matched_with_same_region_names_the_stranded_mentee() -> None:
    compat = pairwise.score(_frame_cohort())
    p = PairProblem.from_compatibility(compat, [R.SameRegion(), R.AllMatched()])
    with pytest.raises(InfeasibleError) as info:
        solve(p)
    text = str(info.value)
    for mentee in ("a", "b", "d"):
        assert f"mentee {mentee} has no allowed mentor" in text
    assert "mentee c has" not in text
    assert "same region" in text


def test_all_matched_same_region_synthetic() -> None:
    # find a synthetic cohort where a mentee's region has no mentor
    for seed in range(200):
        cohort = pairwise.make_cohort(20, 4, seed=seed)
        compat = pairwise.score(cohort)
        mentor_regions = set(compat.mentors.region)
        stranded = [
            str(x)
            for x, r in zip(compat.mentee_ids, compat.mentees.region, strict=True)
            if r not in mentor_regions
        ]
        if stranded:
            break
    else:  # pragma: no cover - the generator spreads 20 mentees over many regions
        pytest.fail("no cohort with a stranded mentee")
    p = PairProblem.from_compatibility(compat, [R.SameRegion(), R.AllMatched()])
    with pytest.raises(InfeasibleError) as info:
        solve(p)
    for x in stranded:
        assert f"mentee {x} has no allowed mentor" in str(info.value)
    # without AllMatched the stranded mentees are reported as unmatched with the rule named
    m = solve(PairProblem.from_compatibility(compat, [R.SameRegion()]))
    un = m.unmatched.set_index("mentee_id").reason
    for x in stranded:
        assert _NO_MENTOR.match(un[x]), un[x]
        assert "same region (4)" in un[x]


def test_require_rule_keeps_pair_and_rejects_forbidden() -> None:
    compat = pairwise.score(_frame_cohort())
    m = solve(PairProblem.from_compatibility(compat, [R.Require((("d", "Y"),))]))
    assert ("d", "Y") in set(zip(m.pairs.mentee_id, m.pairs.mentor_id, strict=True))
    p = PairProblem.from_compatibility(compat, [R.Require((("a", "X"),))])
    with pytest.raises(
        InfeasibleError, match=r"required pair \(a, X\) is forbidden by: do-not-pair"
    ):
        solve(p)
    p = PairProblem.from_compatibility(
        compat, [R.Require((("c", "Y"), ("d", "Y"))), R.Capacity(override=1)]
    )
    with pytest.raises(InfeasibleError, match="mentor Y 2 mentees but capacity is 1"):
        solve(p)


def test_unknown_ids_in_rules_are_validation_errors() -> None:
    compat = pairwise.score(_frame_cohort())
    with pytest.raises(ValidationError) as info:
        PairProblem.from_compatibility(compat, [R.Require((("nobody", "X"), ("a", "ghost")))])
    text = str(info.value)
    assert "unknown mentee id" in text and "nobody" in text
    assert "unknown mentor id" in text and "ghost" in text
    with pytest.raises(ValidationError, match="not a pair rule"):
        PairProblem.from_compatibility(compat, ["same region"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="bad mentors per mentee"):
        PairProblem.from_compatibility(compat, [R.MentorsPerMentee(0)])
    with pytest.raises(ValidationError, match="negative capacity"):
        PairProblem.from_compatibility(compat, [R.Capacity(override=-1)])
    for bad in (1.5, [1, 2], "x", math.inf, [[1, 1, 1]]):
        with pytest.raises(ValidationError, match="capacity override must be whole numbers"):
            PairProblem.from_compatibility(compat, [R.Capacity(override=bad)])  # type: ignore[arg-type]
    p = PairProblem.from_compatibility(compat, [R.Capacity(override=(2, 0, 1))])
    assert p.capacity.tolist() == [2, 0, 1]


def test_panels_per_topic_from_cohort() -> None:
    compat = pairwise.score(pairwise.make_cohort(10, 8, seed=5))
    p = PairProblem.from_compatibility(compat, [R.MentorsPerMentee("per-topic")])
    m = solve(p)
    assert check(p, m) == []
    assert isinstance(m.mentors_of, list)
    topics = [len(compat.mentees.needs.row(i)) for i in range(10)]
    assert p.demand.tolist() == topics
    assert all(len(js) <= t for js, t in zip(m.mentors_of, topics, strict=True))
    # every panel seat covers one of her topics that its mentor offers, one mentor per topic
    a, b = compat.mentees, compat.mentors
    seats = list(zip(m.pairs.mentee_id, m.pairs.mentor_id, m.pairs.topic, strict=True))
    for mentee, mentor, topic in seats:
        i, j = int(a.index_of([mentee])[0]), int(b.index_of([mentor])[0])
        assert topic in a.needs.row(i)
        assert b.expertise.row(j).get(topic, 0) >= 1
    assert len({(x, t) for x, _, t in seats}) == len(seats)
    assert_views(p, m)


# ------------------------------------------------------------------------ the checker


def _forged(problem: PairProblem, pairs: list[tuple[int, int]], objective: float) -> Matching:
    return Matching(
        assignment=np.array(pairs, dtype=np.int64).reshape(-1, 2),
        objective=objective,
        bound=objective,
        status="feasible",
        method="forged",
        timings={},
        problem=problem,
    )


def test_check_lists_every_planted_violation() -> None:
    p = PairProblem.from_scores(
        [[1.0, math.nan], [2.0, 3.0], [4.0, 5.0]],
        capacity=[1, 2],
        required=[(2, 1)],
        all_matched=True,
        mentee_ids=["a", "b", "c"],
        mentor_ids=["X", "Y"],
    )
    bad = _forged(p, [(0, 1), (1, 0), (1, 0), (2, 0)], 99.0)
    found = check(p, bad)
    text = "\n".join(found)
    assert "pair (a, Y) is not allowed" in text
    assert "pair (b, X) appears twice" in text
    assert "mentor X has 3 mentees, capacity 1" in text
    assert "mentee b has 2 mentors, asked for 1" in text
    assert "required pair (c, Y) is missing" in text
    assert "reported objective 99.0 differs" in text
    assert found == sorted(found)
    good = solve(p)
    assert check(p, good) == []


# ----------------------------------------------------------------- 6. validation errors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scores": [1.0, 2.0]}, "scores must be 2-D"),
        ({"scores": [[1.0, math.inf]]}, r"scores must be finite or NaN; first bad cell \[0, 1\]"),
        ({"scores": [["a", "b"]]}, "scores are not numbers"),
        ({"forbidden": np.ones((2, 3), bool)}, r"forbidden has shape \(2, 3\)"),
        ({"forbidden": np.ones((2, 2), int)}, "forbidden must be boolean"),
        ({"allowed": np.ones((2, 3), bool)}, r"allowed has shape \(2, 3\)"),
        ({"allowed": np.ones((2, 2), int)}, "allowed must be boolean"),
        ({"capacity": -1}, "capacity must be integers >= 0"),
        ({"capacity": [1, -2]}, "capacity must be integers >= 0"),
        ({"capacity": 1.5}, "capacity must be integers >= 0"),
        ({"capacity": [1, 2, 3]}, r"capacity has shape \(3,\)"),
        ({"capacity": "two"}, "capacity must be integers"),
        ({"capacity": math.nan}, "capacity must be integers >= 0"),
        ({"capacity": math.inf}, "capacity must be integers >= 0"),
        ({"demand": [0.5, 1]}, "demand must be integers >= 0"),
        ({"objective": "best"}, "unknown objective"),
        ({"required": [(5, 0)]}, "required pair out of range"),
        ({"required": [(0,)]}, "required pair must be two integer positions"),
        ({"required": [("a", 0)]}, "required pair must be two integer positions"),
        ({"required": [(0.5, 1)]}, "required pair must be two integer positions"),
        ({"min_score": "high"}, "min_score must be a number"),
        ({"min_score": math.nan}, "min_score must be a number"),
        ({"mentee_ids": ["a"]}, "mentee_ids has 1 entries"),
        ({"mentor_ids": ["x", "x"]}, "mentor_ids are not unique"),
    ],
)
@pytest.mark.filterwarnings("ignore:PairProblem.from_scores\\(allowed:DeprecationWarning")
def test_from_scores_validation(kwargs: dict[str, Any], message: str) -> None:
    args = {"scores": [[1.0, 2.0], [3.0, 4.0]], **kwargs}
    scores = args.pop("scores")
    with pytest.raises(ValidationError, match=message):
        PairProblem.from_scores(scores, **args)


def test_allowed_still_works_with_a_deprecation_warning() -> None:
    s = np.array([[0.9, 0.8], [0.7, 0.6]])
    mask = np.array([[False, True], [True, True]])
    with pytest.warns(DeprecationWarning, match="forbidden=~allowed"):
        old = PairProblem.from_scores(s, allowed=mask)
    new = PairProblem.from_scores(s, forbidden=~mask)
    assert old.allowed.tolist() == new.allowed.tolist() == mask.tolist()
    assert solve(old).assignment.tolist() == solve(new).assignment.tolist()


def test_from_scores_lists_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        PairProblem.from_scores(
            [[1.0, math.inf], [0.0, 1.0]],
            forbidden=np.zeros((3, 3), bool),
            capacity=[-1, 1],
            demand=[1, 1, 1],
            objective="nope",  # type: ignore[arg-type]
        )
    text = str(info.value)
    assert "5 problems found" in text
    for planted in (
        "finite",
        "forbidden has shape",
        "capacity must be",
        "demand has shape",
        "objective",
    ):
        assert planted in text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "simplex"}, "unknown method"),
        ({"time_limit": 0}, "bad time_limit"),
        ({"time_limit": -3.0}, "bad time_limit"),
        ({"time_limit": math.nan}, "bad time_limit"),
        ({"time_limit": "10"}, "bad time_limit"),
        ({"time_limit": math.inf}, "bad time_limit"),
        ({"time_limit": 1e300}, "bad time_limit"),
        ({"time_limit": 31 * 24 * 3600.0}, "bad time_limit"),
        ({"workers": 0}, "workers must be >= 1"),
        ({"workers": "4"}, "workers must be >= 1"),
    ],
)
def test_solve_validation(kwargs: dict[str, Any], message: str) -> None:
    p = PairProblem.from_scores([[1.0]])
    with pytest.raises(ValidationError, match=message):
        solve(p, **kwargs)


def test_solve_rejects_non_problems_and_lists_all() -> None:
    with pytest.raises(ValidationError) as info:
        solve("problem", method="x", time_limit=-1)  # type: ignore[arg-type]
    text = str(info.value)
    assert "3 problems found" in text
    assert "not a problem" in text


def test_solve_accepts_time_limit_and_flow_method() -> None:
    p = PairProblem.from_scores([[1.0, 2.0], [3.0, 1.0]])
    for kw in ({"time_limit": 5}, {"method": "flow"}, {"time_limit": 0.5, "workers": 2}):
        m = solve(p, **kw)  # type: ignore[arg-type]
        assert m.mentor_of.tolist() == [1, 0]


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
def test_empty_sides(shape: tuple[int, int]) -> None:
    p = PairProblem.from_scores(np.zeros(shape))
    m = solve(p)
    assert check(p, m) == []
    assert m.objective == 0.0
    assert len(m.assignment) == 0
    assert len(m.unmatched) == shape[0]


def test_import_loads_the_kernels_in_the_background_unless_turned_off() -> None:
    import subprocess
    import sys

    from pairwise.solvers import warmup

    assert warmup._threads  # started by ``import pairwise``
    warmup.wait()
    assert not warmup._threads[0].is_alive()
    code = (
        "import pairwise; from pairwise.solvers import warmup; "
        "print([t.name for t in warmup._threads])"
    )
    for env, expected in (({"PAIRWISE_PRELOAD": "0"}, "[]"), ({}, "['pairwise-kernels']")):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert out == expected
    rng = np.random.default_rng(0)
    p = PairProblem.from_scores(rng.random((600, 500)), capacity=2)
    m = pairwise.solve(p)
    assert m.method == "sparse"
    assert pairwise.check(p, m) == []


@pytest.mark.parametrize("limit", [math.inf, 1e300, -1.0])
def test_every_solve_entry_refuses_unusable_time_limits(limit: float) -> None:
    p = PairProblem.from_scores(
        [[1.0, 2.0], [3.0, 1.0]], mentee_ids=["a", "b"], mentor_ids=["x", "y"]
    )
    m = solve(p)
    with pytest.raises(ValidationError, match="bad time_limit"):
        pairwise.rematch(m, p, time_limit=limit)
    with pytest.raises(ValidationError, match="bad time_limit"):
        m.explain("a", time_limit=limit)


def test_cpsat_names_an_infeasible_all_matched_problem_at_once() -> None:
    # issue 15 part 8: CP-SAT searched until its limit and raised SolverError (exit 3);
    # a max flow proves it (Hall's condition) before any search, as flow does
    p = PairProblem.from_scores(np.ones((12, 10)), capacity=1, all_matched=True)
    for method in ("cpsat", "flow"):
        with pytest.raises(InfeasibleError, match="12 mentees need 12 mentor places"):
            pairwise.solve(p, method=method, time_limit=30)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_cpsat_and_flow_agree_on_whether_everyone_can_be_matched(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 7)), int(rng.integers(1, 5))
    s = np.where(rng.random((n, m)) < 0.6, rng.random((n, m)), np.nan)
    p = PairProblem.from_scores(s, capacity=rng.integers(0, 3, m), all_matched=True)
    outcomes = []
    for method in ("flow", "cpsat"):
        try:
            outcomes.append(pairwise.solve(p, method=method, time_limit=10).objective)
        except InfeasibleError:
            outcomes.append(None)
    assert (outcomes[0] is None) == (outcomes[1] is None)
    if outcomes[0] is not None:
        assert outcomes[1] == pytest.approx(outcomes[0], abs=1e-6)
