"""The one shape every solver core returns; :func:`pairwise.results.build` makes results."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["Answer"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Answer:
    """What a solver found, before it becomes a Matching or a Circles result.

    Attributes
    ----------
    rows : ndarray of int64, shape (k, 2)
        Pairs: (mentee, mentor) positions. Circles: (circle, person) rows.
    optimal : bool
        Proven optimal for the problem's objective.
    method : str
        The method that found it (``"flow"``, ``"local+exact"``, ...).
    bound : float, optional
        A proven upper bound on the objective (the total) of any solution; ``None`` when
        the method proves optimality up to the integer rounding, which ``slack`` states.
    slack : float
        Largest amount by which the integer rounding may hide a better total: an optimal
        answer's bound is its objective plus ``slack``.
    topics : ndarray of int64, shape (k,), optional
        Per-topic panels: the topic each pair covers.
    left_out : dict of int to str
        Circles: people left out (position -> reason), see :mod:`.circles.unplaced`.
    sizes : (ndarray, ndarray), optional
        Circles: the size bounds of the circles formed when the count was chosen again
        for the people placed (``None``: the problem's own).
    timings : dict of str to float
        Seconds per phase, and work counters.
    """

    rows: IntArray
    optimal: bool
    method: str
    bound: float | None = None
    slack: float = 0.0
    topics: IntArray | None = None
    timings: dict[str, float] = field(default_factory=dict)
    left_out: dict[int, str] = field(default_factory=dict)
    sizes: tuple[IntArray, IntArray] | None = None
