"""Stability of pairings: preferences, blocking pairs, deferred acceptance.

Each side's preferences: a person's ranked list first (:attr:`PairProblem.ranks
<pairwise.problem.PairProblem.ranks>`, rank 1 best), then the partners she did not rank,
by score descending (``score[i, j]`` for both sides), ties to the lower position. With no
ranked lists every order comes from the scores. Only allowed pairs are acceptable (a
forbidden pair never blocks); everyone prefers an acceptable partner to none.

A pair ``(i, j)`` that is not matched *blocks* a matching when ``i`` has room (fewer
partners than her demand) or prefers ``j`` to her worst partner, and ``j`` has room
(fewer mentees than his capacity) or prefers ``i`` to his worst mentee.

References
----------
Gale, D. and Shapley, L. S. (1962). College admissions and the stability of marriage.
*The American Mathematical Monthly* 69(1), 9-15.

Roth, A. E. (1984). The evolution of the labor market for medical interns and residents:
a case study in game theory. *Journal of Political Economy* 92(6), 991-1016.

Baiou, M. and Balinski, M. (2000). The stable admissions polytope. *Mathematical
Programming* 87, 427-439.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise._stability_kernels import propose

if TYPE_CHECKING:
    from pairwise.problem import PairProblem

__all__ = [
    "blocking_mask",
    "blocking_pairs",
    "deferred_acceptance",
    "preference_keys",
    "preference_order",
    "stable_ends",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


Keys = tuple[npt.NDArray[np.float64], ...]


def preference_keys(problem: PairProblem, side: str) -> Keys:
    """Each cell's preference key for ``side``, most significant first (larger = preferred).

    ``(ranked, -rank, score, -position)``, each of shape (n_mentees, n_mentors): a ranked
    partner before any unranked one, then the better rank, the higher score, the lower
    position (of the mentor for ``side="mentee"``, of the mentee for ``"mentor"``).
    """
    n, m = problem.shape
    rank = np.zeros((n, m)) if problem.ranks is None else problem.ranks[side == "mentor"]
    rank = rank.astype(np.float64)
    pos = np.arange(m, dtype=np.float64)[None, :] if side == "mentee" else np.arange(n)[:, None]
    return (
        (rank > 0).astype(np.float64),
        -rank,
        problem.scores.astype(np.float64),
        np.broadcast_to(-pos.astype(np.float64), (n, m)),
    )


def preference_order(problem: PairProblem, side: str) -> list[IntArray]:
    """Each person's acceptable partners, most preferred first (see the module notes).

    Examples
    --------
    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.5, 0.9], [0.5, 0.5]])
    >>> [o.tolist() for o in preference_order(p, "mentee")]
    [[1, 0], [0, 1]]
    >>> p = pairwise.PairProblem.from_scores(
    ...     [[0.5, 0.9], [0.5, 0.5]], mentee_ranks=[[1, 0], [0, 0]])
    >>> [o.tolist() for o in preference_order(p, "mentee")]
    [[0, 1], [0, 1]]
    """
    order, count = _order_matrix(problem, side)
    return [order[r, : count[r]].astype(np.int64) for r in range(len(order))]


def _order_matrix(problem: PairProblem, side: str) -> tuple[IntArray, IntArray]:
    """Every row's partners best first (acceptable ones, then the rest), and how many are ok.

    Rows are mentees for ``side="mentee"``, mentors for ``"mentor"``. One stable sort per
    row over the keys of :func:`preference_keys` (a stable sort keeps the lower position
    first among equal keys, which is the last key), the forbidden partners last.
    """
    ok = problem.allowed if side == "mentee" else problem.allowed.T
    if problem.ranks is None:  # the ranked keys are constant: one stable sort on the scores
        scores = problem.scores if side == "mentee" else problem.scores.T
        cost = np.ascontiguousarray(np.where(ok, -scores, np.inf))
        order = np.argsort(cost, axis=1, kind="stable")
    else:
        keys = preference_keys(problem, side)[:3]
        if side == "mentor":
            keys = tuple(k.T for k in keys)
        order = np.lexsort((*(-k for k in reversed(keys)), ~ok), axis=1)
    return order.astype(np.int64, copy=False), ok.sum(axis=1).astype(np.int64)


def _greater(a: Keys, b: Keys) -> npt.NDArray[np.bool_]:
    """Where key tuple ``a`` is lexicographically greater than ``b`` (broadcast)."""
    out = np.zeros(np.broadcast_shapes(a[0].shape, b[0].shape), dtype=bool)
    tied = np.ones_like(out)
    for x, y in zip(a, b, strict=True):
        out |= tied & (x > y)
        tied &= x == y
    return out


def _worst(keys: Keys, owner: IntArray, i: IntArray, j: IntArray, count: int) -> Keys:
    """Per owner, the key tuple of its least preferred partner (-inf: none)."""
    at = tuple(k[i, j] for k in keys)
    order = np.lexsort((*reversed(at), owner))  # by owner, then least preferred first
    first, idx = np.unique(owner[order], return_index=True)
    out = tuple(np.full(count, -np.inf) for _ in keys)
    for o, v in zip(out, at, strict=True):
        o[first] = v[order[idx]]
    return out


def blocking_mask(problem: PairProblem, assignment: npt.ArrayLike) -> BoolArray:
    """The (n_mentees, n_mentors) cells that block ``assignment`` (see the module notes).

    Examples
    --------
    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.9, 0.1], [0.8, 0.7]])
    >>> blocking_mask(p, [[0, 1], [1, 0]]).astype(int).tolist()
    [[1, 0], [0, 0]]
    """
    rows = np.asarray(assignment, dtype=np.int64).reshape(-1, 2)
    n, m = problem.shape
    i, j = rows[:, 0], rows[:, 1]
    ka, kb = preference_keys(problem, "mentee"), preference_keys(problem, "mentor")
    worst_a = tuple(w[:, None] for w in _worst(ka, i, i, j, n))
    worst_b = tuple(w[None, :] for w in _worst(kb, j, i, j, m))
    room_a = (np.bincount(i, minlength=n) < problem.demand)[:, None]
    room_b = (np.bincount(j, minlength=m) < problem.capacity)[None, :]
    paired = np.zeros((n, m), dtype=bool)
    paired[i, j] = True
    out: BoolArray = (
        problem.allowed
        & ~paired
        & (room_a | _greater(ka, worst_a))
        & (room_b | _greater(kb, worst_b))
    )
    return out


def blocking_pairs(problem: PairProblem, assignment: npt.ArrayLike) -> pd.DataFrame:
    """The pairs that block ``assignment``, with the scores involved.

    Columns ``mentee_id``, ``mentor_id``, ``score`` (of the blocking pair),
    ``mentee_score`` (of her worst partner; NaN when she has room) and ``mentor_score``
    (of his worst mentee; NaN when he has room).

    Examples
    --------
    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.9, 0.1], [0.8, 0.7]])
    >>> blocking_pairs(p, [[0, 1], [1, 0]]).values.tolist()
    [['0', '0', 0.9, 0.1, 0.8]]
    """
    rows = np.asarray(assignment, dtype=np.int64).reshape(-1, 2)
    n, m = problem.shape
    bi, bj = np.nonzero(blocking_mask(problem, rows))
    s = problem.scores
    i, j = rows[:, 0], rows[:, 1]
    ka, kb = preference_keys(problem, "mentee"), preference_keys(problem, "mentor")
    low_a = _worst((*ka, s), i, i, j, n)[-1]
    low_b = _worst((*kb, s), j, i, j, m)[-1]
    room_a = np.bincount(i, minlength=n) < problem.demand
    room_b = np.bincount(j, minlength=m) < problem.capacity
    return pd.DataFrame(
        {
            "mentee_id": problem.mentee_ids[bi],
            "mentor_id": problem.mentor_ids[bj],
            "score": s[bi, bj],
            "mentee_score": np.where(room_a[bi], np.nan, low_a[bi]),
            "mentor_score": np.where(room_b[bj], np.nan, low_b[bj]),
        }
    )


def deferred_acceptance(problem: PairProblem, proposer: str = "mentee") -> IntArray:
    """Gale-Shapley deferred acceptance with capacities; the (k, 2) sorted pairs.

    ``proposer="mentee"`` gives the mentee-optimal stable matching (each mentee demands
    one mentor; mentors hold up to their capacity), ``"mentor"`` the mentor-optimal one.
    The proposals run compiled (:func:`pairwise._stability_kernels.propose`); each
    receiver keeps the proposers it holds in a heap, worst on top.

    References
    ----------
    Gale, D. and Shapley, L. S. (1962). College admissions and the stability of marriage.
    *The American Mathematical Monthly* 69(1), 9-15.

    Examples
    --------
    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.9, 0.1], [0.8, 0.7]])
    >>> deferred_acceptance(p).tolist(), deferred_acceptance(p, "mentor").tolist()
    ([[0, 0], [1, 1]], [[0, 0], [1, 1]])
    """
    orders = {side: _order_matrix(problem, side) for side in ("mentee", "mentor")}
    return _deferred(problem, proposer, orders)


def stable_ends(problem: PairProblem) -> tuple[IntArray, IntArray]:
    """The mentee-optimal and the mentor-optimal stable matchings, sorting preferences once.

    Every stable matching lies between them (the lattice of stable matchings); when they
    are equal it is the only one.

    Examples
    --------
    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.9, 0.1], [0.8, 0.7]])
    >>> [a.tolist() for a in stable_ends(p)]
    [[[0, 0], [1, 1]], [[0, 0], [1, 1]]]
    """
    orders = {side: _order_matrix(problem, side) for side in ("mentee", "mentor")}
    return _deferred(problem, "mentee", orders), _deferred(problem, "mentor", orders)


def _deferred(
    problem: PairProblem, proposer: str, orders: dict[str, tuple[IntArray, IntArray]]
) -> IntArray:
    """Deferred acceptance with ``proposer`` proposing, from both sides' sorted preferences."""
    mentee_side = proposer == "mentee"
    prefs, count = orders["mentee" if mentee_side else "mentor"]
    other, _ = orders["mentor" if mentee_side else "mentee"]
    n_p, n_q = prefs.shape[0], other.shape[0]
    quota = np.ones(n_p, np.int64) if mentee_side else problem.capacity.astype(np.int64)
    room = problem.capacity.astype(np.int64) if mentee_side else np.ones(n_q, np.int64)
    rank = np.empty((n_q, n_p), dtype=np.int64)  # receiver q's rank of proposer p
    np.put_along_axis(rank, other, np.arange(n_p, dtype=np.int64)[None, :], axis=1)
    held_p, held_q = propose(prefs, count, rank, quota, room)
    pairs = np.stack([held_p, held_q] if mentee_side else [held_q, held_p], axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))].astype(np.int64).reshape(-1, 2)
