"""The greedy start's repair: ejection chains place the last people when circles are full."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import pairwise
from pairwise.solvers.circles import kernels
from pairwise.solvers.circles.local import unit_data
from pairwise.solvers.circles.units import build_units


def _problem(
    n: int, sizes: list[int], apart: list[tuple[int, int]], seed: int
) -> pairwise.CircleProblem:
    rng = np.random.default_rng(seed)
    a = rng.random((n, n))
    keep_apart = np.zeros((n, n), dtype=bool)
    for i, j in apart:
        keep_apart[i, j] = keep_apart[j, i] = True
    return pairwise.CircleProblem.from_affinity(
        a + a.T, n_circles=len(sizes), min_size=sizes, max_size=sizes, apart=keep_apart
    )


def test_a_chain_places_the_one_left_on_the_bench() -> None:
    # 0 may join only circle 1, which is full: 0 takes 5's or 6's place (4 cannot go to
    # circle 2, which has the one free place), no single move or swap does it
    apart = [(0, 1), (0, 2), (0, 3), (0, 7), (0, 8), (4, 7)]
    p = _problem(9, [3, 3, 3], apart, seed=0)
    data = unit_data(p, build_units(p))
    circle_of = np.array([3, 0, 0, 0, 1, 1, 1, 2, 2], dtype=np.int64)
    state = kernels.circle_state(data, circle_of)
    shortfall = np.zeros(4, dtype=np.int64)
    assert kernels._total_shortfall(data, state, shortfall) == 1001
    assert kernels._eject(data, state, shortfall, 0) > 0
    assert circle_of[0] == 1
    assert circle_of[4] == 1  # 4 stays: it may not join 7 and 8
    assert sorted(np.flatnonzero(circle_of == 2).tolist()) in ([5, 7, 8], [6, 7, 8])
    assert kernels._total_shortfall(data, state, shortfall) == 0


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(3, 5), min_size=2, max_size=4),
    pairs=st.lists(st.tuples(st.integers(0, 19), st.integers(0, 19)), max_size=25),
    seed=st.integers(0, 2**16),
)
def test_a_repaired_start_keeps_every_rule(
    sizes: list[int], pairs: list[tuple[int, int]], seed: int
) -> None:
    """Every circle at its ceiling (the count with the fewest circles): a start of
    shortfall 0 places everyone, each circle at its size, nobody beside someone kept apart."""
    n = sum(sizes)
    apart = [(i, j) for i, j in pairs if i < n and j < n and i != j]
    p = _problem(n, sizes, apart, seed)
    units = build_units(p)
    data = unit_data(p, units)
    rng = np.random.default_rng(seed)
    circle_of = np.full(units.size, len(sizes), dtype=np.int64)
    order = rng.permutation(units.size).astype(np.int64)
    flex = np.zeros(units.size)
    target = np.asarray(sizes, dtype=np.int64)
    shortfall, work = kernels.construct(data, circle_of, order, flex, target, seed, 10**6)
    assert work >= 0
    if shortfall == 0:
        assert np.all(circle_of < len(sizes))
        assert np.bincount(circle_of, minlength=len(sizes)).tolist() == sizes
        for i, j in apart:
            assert circle_of[i] != circle_of[j]
    else:  # someone left out, or a circle short: never a ceiling broken
        placed = circle_of[circle_of < len(sizes)]
        assert np.all(np.bincount(placed, minlength=len(sizes)) <= np.asarray(sizes))
