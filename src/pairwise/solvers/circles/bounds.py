"""A proven upper bound on the total of any circle solution, by counting.

For each unit, the best her circle can give her is her ``min_size - 1`` best partners plus
the positive part of the next ``max_size - min_size`` (kept-apart units excluded); half the
sum over units bounds the total (each within-circle pair is counted from both ends).
CP-SAT's or the set-partitioning LP's bound replaces it when they run.
"""

from __future__ import annotations

import numpy as np

from pairwise.circles import CircleProblem
from pairwise.solvers.circles.units import Units

__all__ = ["simple_bound"]


def simple_bound(p: CircleProblem, units: Units) -> float:
    """Half the sum over units of the best their circle can give them (see the module docstring).

    For the ``"mean"`` objective: the sum over people of the mean of their ``min_size - 1``
    best partners (a mean over more partners is never higher).
    """
    if p.objective == "mean":
        return _mean_bound(p)
    U = units.size
    lo, hi = int(p.min_size.min()), int(p.max_size.max())
    D = np.where(units.apart, -np.inf, units.affinity)
    total = 0.0
    for u in range(U):
        row = np.delete(D[u], u)
        row = np.sort(row[np.isfinite(row)])[::-1]
        room = hi - int(units.weight[u])
        need = max(0, lo - int(units.weight[u]))
        # units weigh >= 1, so at most ``room`` others share her circle, at least ... may
        # weigh more than one; the floor is only safe for single-person units
        forced = row[:need].sum() if need and units.weight.max() == 1 else 0.0
        rest = row[need if forced else 0 : room]
        gain = forced + rest[rest > 0].sum()
        if units.is_place[u]:
            gain = max(gain, 0.0)
        total += gain + 2 * float(units.intra[u])
    return 0.5 * total


def _mean_bound(p: CircleProblem) -> float:
    """Each person's mean affinity to circle-mates is at most that of her best partners."""
    lo = max(int(p.min_size.min()), 2)
    D = np.where(p.apart, -np.inf, p.affinity.astype(np.float64))
    np.fill_diagonal(D, -np.inf)
    leaders = np.zeros(p.n, dtype=bool)
    leaders[p.leaders] = True
    total = 0.0
    for i in range(p.n):
        row = np.sort(D[i][np.isfinite(D[i])])[::-1][: lo - 1]
        best = float(row.mean()) if len(row) else 0.0
        # a possible leader may stay out of every circle; so may someone with too few partners
        total += max(best, 0.0) if leaders[i] or len(row) < lo - 1 else best
    return total
