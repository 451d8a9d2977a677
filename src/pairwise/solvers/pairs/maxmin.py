"""The one threshold search of the ``maxmin`` objective (flows and panels).

Lexicographic max-min: the largest floor *t* such that pairs scoring at least *t* still
reach the best count (of pairs, or panel seats), then the best total above that floor.
Keeping a floor is monotone in *t*, so a binary search over the distinct allowed scores
finds it with ``O(log k)`` feasibility checks (one max-flow each).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt

__all__ = ["floor_levels", "largest_floor"]

FloatArray = npt.NDArray[np.float64]


def floor_levels(scores: FloatArray, required: Iterable[float]) -> FloatArray:
    """Candidate floors: the distinct scores, capped by the worst required pair's score.

    No floor above a required pair's score can raise the minimum, so that score is the
    largest candidate.

    Examples
    --------
    >>> floor_levels(np.array([0.5, 0.2, 0.9, 0.5]), [0.7]).tolist()
    [0.2, 0.5, 0.7]
    """
    ceiling = min(required, default=np.inf)
    levels = np.unique(scores[scores <= ceiling])
    if np.isfinite(ceiling):
        levels = np.union1d(levels, [ceiling])
    return np.asarray(levels, dtype=np.float64)


def largest_floor(levels: FloatArray, keeps: Callable[[float], bool]) -> int:
    """Index of the largest level ``t`` with ``keeps(t)``, given ``keeps(levels[0])``.

    ``keeps`` must be monotone (true up to some level, false above).

    Examples
    --------
    >>> largest_floor(np.array([1.0, 2.0, 3.0, 4.0]), lambda t: t <= 3)
    2
    """
    lo, hi = 0, len(levels) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if keeps(float(levels[mid])):
            lo = mid
        else:
            hi = mid - 1
    return lo
