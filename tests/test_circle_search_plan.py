"""The greedy start's size plan: the most pairs where the total objective rewards them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import pairwise
from pairwise.solvers.circles.local import size_plan
from pairwise.solvers.circles.units import build_units, planned_sizes


def _pairs(sizes: np.ndarray) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def _most_pairs(low: np.ndarray, high: np.ndarray, total: int) -> int:
    """The most pairs over every size vector within the bounds that adds up to ``total``."""
    ranges = [range(int(a), int(b) + 1) for a, b in zip(low, high, strict=True)]
    return max(
        _pairs(np.array(sizes)) for sizes in itertools.product(*ranges) if sum(sizes) == total
    )


@pytest.mark.parametrize("seed", range(12))
def test_the_plan_holds_the_most_pairs_any_size_mix_can(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 6))
    low = rng.integers(2, 6, m)
    high = low + rng.integers(0, 5, m)
    if seed % 3 == 0:  # repeated bounds: classes of interchangeable circles
        low[: m // 2 + 1], high[: m // 2 + 1] = low[0], high[0]
    total = int(rng.integers(low.sum(), high.sum() + 1))
    a = rng.random((total, total))
    p = pairwise.CircleProblem.from_affinity(
        a + a.T, n_circles=m, min_size=low, max_size=high, objective="total"
    )
    plan = size_plan(p, build_units(p))
    assert int(plan.sum()) == total
    assert np.all((low <= plan) & (plan <= high))
    assert _pairs(plan) == _most_pairs(low, high, total)


def test_sizes_stay_even_where_pairs_are_not_worth_more() -> None:
    rng = np.random.default_rng(1)
    a = rng.random((20, 20))
    for objective, sign in (("mean", 1.0), ("maxmin", 1.0), ("total", -1.0)):
        p = pairwise.CircleProblem.from_affinity(
            sign * (a + a.T), n_circles=4, min_size=3, max_size=7, objective=objective
        )
        units = build_units(p)
        assert size_plan(p, units).tolist() == planned_sizes(p, units).tolist() == [5, 5, 5, 5]
    p = pairwise.CircleProblem.from_affinity(
        a + a.T, n_circles=4, min_size=3, max_size=7, objective="total"
    )
    assert sorted(size_plan(p, build_units(p)).tolist()) == [3, 3, 7, 7]
