"""The search's swap bound: circles passed over whole hold no swap that could be picked."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import pairwise
from pairwise.solvers.circles import kernels
from pairwise.solvers.circles.local import unit_data
from pairwise.solvers.circles.units import build_units


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(6, 30),
    m=st.integers(2, 5),
    seed=st.integers(0, 2**16),
    shift=st.floats(-1.0, 1.0),
    bar=st.floats(-3.0, 3.0),
)
def test_no_swap_passed_over_reaches_the_bar(
    n: int, m: int, seed: int, shift: float, bar: float
) -> None:
    rng = np.random.default_rng(seed)
    a = rng.random((n, n)) + shift  # negative affinities too
    a = a + a.T
    p = pairwise.CircleProblem.from_affinity(a, n_circles=m, min_size=1, max_size=n)
    data = unit_data(p, build_units(p))
    circle_of = rng.integers(0, m, n).astype(np.int64)
    state = kernels.circle_state(data, circle_of)
    members, ptr = kernels.group_members(circle_of, m)
    into, into_ptr = np.empty(n, np.int64), np.zeros(m + 2, np.int64)
    kernels._group_into(circle_of, m, into, into_ptr)
    assert into.tolist() == members.tolist() and into_ptr.tolist() == ptr.tolist()
    best_in = np.empty((m, m))
    kernels._best_arrivals(state.to_circle, members, ptr, m, best_in)
    least = float(data.affinity.min())
    to = state.to_circle
    u = int(rng.integers(0, n))
    low = int(rng.integers(0, n))
    cand = np.empty(n, np.int64)
    count = kernels._swap_partners(to, members, ptr, best_in, u, circle_of[u], low, bar, cand)
    kept = set(cand[:count].tolist())
    assert all(v >= low and circle_of[v] != circle_of[u] for v in kept)
    for v in range(low, n):
        g, h = circle_of[u], circle_of[v]
        if g == h or v in kept:
            continue
        gain = to[u, h] - to[u, g] + to[v, g] - to[v, h] - 2 * data.affinity[u, v]
        assert gain + 2 * least < bar + 1e-9
