# ruff: noqa: NPY002
"""Compiled local search for circle problems (numba).

The search works on *units*: a person, a keep-together group contracted into one, or one
leading place of a mentor (a mentor who may lead ``L`` circles has ``L`` places; places she
does not use wait on a *bench*, circle index ``m``). Every rule is a per-circle quantity
kept up to date incrementally:

- sizes (sum of unit weights) within ``min_size[g]..max_size[g]``;
- keep-apart: ``apart_count[u, g]``, how many units in circle ``g`` must stay apart from
  ``u``;
- shared labels (language, slot): ``label_count[g, k]``, units of ``g`` having label ``k``;
  a circle is fine when, for every shared rule, some label is held by all its units;
- counts (chapter caps, balance, one leader): ``circle_counts[g, c]`` within
  ``count_min[c]..count_max[c]``, a floor that may also be met by 0 when
  ``count_or_none[c]`` ("2 or none").

``to_circle[u, g]`` is the affinity of unit ``u`` to the units of circle ``g``, so a move or
swap is scored in O(1) and checked in O(labels + categories of the units involved).

The improvement method is an iterated tabu search over the move and swap neighbourhoods
(in the spirit of [1]_ and of the "iterated maxima search" of [2]_): best admissible move
each iteration, tabu on returning a unit to the circle it left, aspiration on a new best,
and a perturbation of the best solution after a stall: random swaps, and where circle sizes
may vary, half of the times first a change of the size mix (one circle pushed by greedy
moves to its other size bound; local optima sit near the bounds, where every single move
is uphill, as in the size-changing perturbations of [3]_). Under the total objective
without leading places, swap partners are scanned circle by circle and a circle is passed
over whole when a bound on its best swap (the unit's move gain, plus the most any unit of
that circle gains by moving to the unit's circle, less twice the least affinity) cannot
beat the pick so far; a neighbour worse than the pick is dropped before its tabu checks.
Work is counted in neighbour evaluations (a circle's bound counts one, its upkeep a
quarter per circle and unit), so a run with the same seed and the same work budget is
reproducible whatever the machine's speed.

The kernels carry their state in named tuples, which numba compiles in nopython mode as
arguments and return values:

- :class:`UnitData`, the problem in units, which no move changes (affinity, weights,
  places, size bounds, keep-apart, labels and counts with their compressed rows); built
  once per solve by :func:`pairwise.solvers.circles.local.unit_data`.
- :class:`CircleState`, an assignment and the per-circle aggregates every move updates
  (sizes, unit counts, label counts, count-rule counts, keep-apart counts, affinity to each
  circle, circle scores); built from the assignment by :func:`circle_state` when a kernel
  starts, kept up to date by :func:`apply_move`.
- :class:`SearchParams`, a tabu search's fixed settings, and :class:`SearchCounters`, what
  it carries from one call of :func:`search` to the next (the call returns the new ones).

References
----------
.. [1] M. Gallego, M. Laguna, R. Martí and A. Duarte, "Tabu search with strategic
   oscillation for the maximally diverse grouping problem", *Journal of the Operational
   Research Society* 64 (2013) 724-734.
.. [2] X. Lai and J.-K. Hao, "Iterated maxima search for the maximally diverse grouping
   problem", *European Journal of Operational Research* 254(3) (2016) 780-800.
.. [3] X. Yang et al., "A three-phase search approach with
   dynamic population size for solving the maximally diverse grouping problem", *European
   Journal of Operational Research* 302(3) (2022) 925-953.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_NEG = -1.0e300

# The helpers that allocate nothing are compiled without numba's reference counting
# (``_nrt=False``, a numba option its documentation and type stubs do not list): they take
# the structures whole, and counting every array of them in and out of every call (an
# atomic increment and decrement each) costs more than the checks themselves. The kernels
# that allocate (circle_state, construct, search) keep it.
_no_refcount = njit(cache=True, _nrt=False)  # type: ignore[call-overload]


class UnitData(NamedTuple):
    """The problem in units as the kernels read it; no move changes it.

    ``U`` units, ``m`` circles (index ``m`` is the bench), ``L`` shared-label columns and
    ``K`` count columns (see :class:`pairwise.solvers.circles.units.Units`).

    Attributes
    ----------
    affinity : ndarray of float64, shape (U, U)
        Affinity between two units, zero diagonal.
    intra : ndarray of float64, shape (U,)
        Affinity inside a unit (a keep-together group's own pairs).
    weight : ndarray of int64, shape (U,)
        People per unit (a circle's size counts weights).
    is_place : ndarray of bool, shape (U,)
        A mentor's leading place: optional (it may stay on the bench); every other unit
        must be placed.
    n_circles : int
        ``m``, the number of circles, which is also the bench's index.
    min_size, max_size : ndarray of int64, shape (m,)
        Size bounds of each circle.
    apart : ndarray of bool, shape (U, U)
        Units that never share a circle.
    apart_ptr, apart_idx : ndarray of int64, shapes (U + 1,) and (number of true cells,)
        ``apart`` in compressed rows: the units kept apart from ``u`` are
        ``apart_idx[apart_ptr[u]:apart_ptr[u + 1]]``.
    has_label : ndarray of int64 (0/1), shape (U, L)
        Shared-label rules (language, slot), every rule's labels side by side: whether the
        unit has the label.
    label_ptr, label_idx : ndarray of int64, shapes (U + 1,) and (number of ones,)
        ``has_label`` in compressed rows (the labels each unit has).
    label_rule : ndarray of int64, shape (L,)
        Which shared rule each label column belongs to.
    n_shared : int
        Number of shared-label rules.
    unit_counts : ndarray of int64, shape (U, K)
        Count rules: members of the unit with each count column's label.
    count_ptr, count_idx : ndarray of int64, shapes (U + 1,) and (number of nonzeros,)
        ``unit_counts > 0`` in compressed rows (the count columns each unit adds to).
    count_min, count_max : ndarray of int64, shape (K,)
        Bounds per circle of each count column.
    count_or_none : ndarray of bool, shape (K,)
        The floor ``count_min`` also holds with 0 ("2 or none").
    """

    affinity: FloatArray
    intra: FloatArray
    weight: IntArray
    is_place: BoolArray
    n_circles: int
    min_size: IntArray
    max_size: IntArray
    apart: BoolArray
    apart_ptr: IntArray
    apart_idx: IntArray
    has_label: IntArray
    label_ptr: IntArray
    label_idx: IntArray
    label_rule: IntArray
    n_shared: int
    unit_counts: IntArray
    count_ptr: IntArray
    count_idx: IntArray
    count_min: IntArray
    count_max: IntArray
    count_or_none: BoolArray


class CircleState(NamedTuple):
    """An assignment of the units and the per-circle aggregates that moves keep up to date.

    Built by :func:`circle_state`, updated by :func:`apply_move`. The per-circle arrays
    have ``m + 1`` entries: the last one is the bench.

    Attributes
    ----------
    circle_of : ndarray of int64, shape (U,)
        The circle of each unit (``m``: the bench); the caller's array, updated in place.
    size : ndarray of int64, shape (m + 1,)
        People in each circle (the sum of its units' weights).
    n_units : ndarray of int64, shape (m + 1,)
        Units in each circle.
    label_count : ndarray of int64, shape (m + 1, L)
        Units of each circle that have each shared label.
    circle_counts : ndarray of int64, shape (m + 1, K)
        Members of each circle counted in each count column.
    apart_count : ndarray of int64, shape (U, m + 1)
        Units of each circle that must stay apart from each unit.
    to_circle : ndarray of float64, shape (U, m + 1)
        Affinity of each unit to the units of each circle (itself excluded).
    score : ndarray of float64, shape (m + 1,)
        Score of each circle: the affinity of its pairs of units plus their ``intra``.
    """

    circle_of: IntArray
    size: IntArray
    n_units: IntArray
    label_count: IntArray
    circle_counts: IntArray
    apart_count: IntArray
    to_circle: FloatArray
    score: FloatArray


#: Objective modes of :class:`SearchParams`: the total of within-circle affinities (the
#: MDGP's objective); the sum over members of their mean affinity to their circle-mates
#: (a circle of ``k`` people and within-circle total ``S`` counts ``2 S / (k - 1)``);
#: the worst-off member's mean first, then the total.
TOTAL, MEAN, MAXMIN = 0, 1, 2


class SearchParams(NamedTuple):
    """The fixed settings of one tabu search.

    Attributes
    ----------
    mode : int
        The objective: :data:`TOTAL`, :data:`MEAN` or :data:`MAXMIN`. Under ``MAXMIN`` a
        keep-together group counts as one member whose mean is the group's average (its
        members' own means are not tracked by the search).
    stall : int
        Iterations without a new best before a perturbation.
    tenure : int
        Range of the random tabu tenure, per mille of the units.
    strength : int
        Range of the random perturbation strength (swaps), per mille of the units.
    sample : int
        Units whose moves and swaps one iteration scans: all when ``sample >= U``, else a
        rotating random window (a candidate list that keeps iterations cheap on large
        cohorts).
    """

    mode: int
    stall: int
    tenure: int
    strength: int
    sample: int


class SearchCounters(NamedTuple):
    """What a tabu search carries from one call of :func:`search` to the next.

    Attributes
    ----------
    iteration : int
        Tabu iterations so far (a perturbation adds ``U``, voiding older tabu entries).
    last_improvement : int
        Iteration of the last new best or perturbation.
    seed : int
        Seed of the random state of the next call.
    evaluations : int
        Neighbour evaluations so far, every call included.
    best_worst : float
        The best solution's worst-off member's mean (``MAXMIN``; 0 otherwise).
    best_total : float
        The best solution's total (``TOTAL``, ``MAXMIN``) or sum of member means (``MEAN``).
    """

    iteration: int
    last_improvement: int
    seed: int
    evaluations: int
    best_worst: float
    best_total: float


@njit(cache=True)
def circle_state(data, circle_of):
    """The :class:`CircleState` of the assignment ``circle_of`` (``m`` = bench)."""
    U = data.affinity.shape[0]
    m = data.n_circles
    n_labels = data.has_label.shape[1]
    n_counts = data.unit_counts.shape[1]
    to_circle = np.zeros((U, m + 1))
    size = np.zeros(m + 1, np.int64)
    n_units = np.zeros(m + 1, np.int64)
    label_count = np.zeros((m + 1, n_labels), np.int64)
    circle_counts = np.zeros((m + 1, n_counts), np.int64)
    apart_count = np.zeros((U, m + 1), np.int64)
    score = np.zeros(m + 1)
    for u in range(U):
        g = circle_of[u]
        size[g] += data.weight[u]
        n_units[g] += 1
        for k in range(n_labels):
            label_count[g, k] += data.has_label[u, k]
        for c in range(n_counts):
            circle_counts[g, c] += data.unit_counts[u, c]
        for k in range(data.apart_ptr[u], data.apart_ptr[u + 1]):
            apart_count[data.apart_idx[k], g] += 1
        score[g] += data.intra[u]
    for u in range(U):
        for v in range(U):
            if v != u:
                to_circle[u, circle_of[v]] += data.affinity[u, v]
    for u in range(U):
        score[circle_of[u]] += 0.5 * to_circle[u, circle_of[u]]
    return CircleState(
        circle_of, size, n_units, label_count, circle_counts, apart_count, to_circle, score
    )


@_no_refcount
def _below_floor(data, c, n):
    """Whether ``n`` members break the floor of count column ``c`` (0 may do, "or none")."""
    return n < data.count_min[c] and not (data.count_or_none[c] and n == 0)


@_no_refcount
def can_add(data, state, u, b, leaving, floors):
    """Whether unit ``u`` may join circle ``b`` while unit ``leaving`` (or -1) leaves it.

    ``floors``: the count floors must hold too (the greedy start fills them later).
    """
    if b == data.n_circles:
        return data.is_place[u]
    size = state.size[b] + data.weight[u]
    if leaving >= 0:
        size -= data.weight[leaving]
    if size > data.max_size[b]:
        return False
    n_apart = state.apart_count[u, b]
    if leaving >= 0 and data.apart[u, leaving]:
        n_apart -= 1
    if n_apart > 0:
        return False
    others = state.n_units[b] - (1 if leaving >= 0 else 0)
    if others > 0 and data.n_shared > 0:
        for rule in range(data.n_shared):
            ok = False
            for k in range(data.label_ptr[u], data.label_ptr[u + 1]):
                label = data.label_idx[k]
                if data.label_rule[label] != rule:
                    continue
                have = state.label_count[b, label]
                if leaving >= 0:
                    have -= data.has_label[leaving, label]
                if have == others:
                    ok = True
                    break
            if not ok:
                return False
    for k in range(data.count_ptr[u], data.count_ptr[u + 1]):
        c = data.count_idx[k]
        n = state.circle_counts[b, c] + data.unit_counts[u, c]
        if leaving >= 0:
            n -= data.unit_counts[leaving, c]
        if n > data.count_max[c]:
            return False
        if floors and _below_floor(data, c, n):
            return False
    return True


@_no_refcount
def can_remove(data, state, u, a, joining):
    """Whether circle ``a`` keeps its floors when ``u`` leaves and ``joining`` (or -1) joins."""
    if a == data.n_circles:
        return True
    size = state.size[a] - data.weight[u]
    if joining >= 0:
        size += data.weight[joining]
    if size < data.min_size[a]:
        return False
    for k in range(data.count_ptr[u], data.count_ptr[u + 1]):
        c = data.count_idx[k]
        n = state.circle_counts[a, c] - data.unit_counts[u, c]
        if joining >= 0:
            n += data.unit_counts[joining, c]
        if _below_floor(data, c, n):
            return False
    return True


@_no_refcount
def _can_swap(data, state, u, v, a, b):
    """Whether ``u`` (in circle ``a``) and ``v`` (in ``b``) may trade places, floors kept."""
    return (
        can_add(data, state, u, b, v, True)
        and can_add(data, state, v, a, u, True)
        and can_remove(data, state, u, a, v)
        and can_remove(data, state, v, b, u)
    )


@_no_refcount
def apply_move(data, state, u, b):
    """Move unit ``u`` to circle ``b``, updating every aggregate of ``state``."""
    circle_of, to_circle, score = state.circle_of, state.to_circle, state.score
    a = circle_of[u]
    if a == b:
        return
    score[a] -= to_circle[u, a] + data.intra[u]
    score[b] += to_circle[u, b] + data.intra[u]
    affinity = data.affinity
    for v in range(affinity.shape[0]):
        d = affinity[v, u]
        to_circle[v, a] -= d
        to_circle[v, b] += d
    state.size[a] -= data.weight[u]
    state.size[b] += data.weight[u]
    state.n_units[a] -= 1
    state.n_units[b] += 1
    for k in range(data.label_ptr[u], data.label_ptr[u + 1]):
        state.label_count[a, data.label_idx[k]] -= 1
        state.label_count[b, data.label_idx[k]] += 1
    for k in range(data.count_ptr[u], data.count_ptr[u + 1]):
        c = data.count_idx[k]
        state.circle_counts[a, c] -= data.unit_counts[u, c]
        state.circle_counts[b, c] += data.unit_counts[u, c]
    for k in range(data.apart_ptr[u], data.apart_ptr[u + 1]):
        v = data.apart_idx[k]
        state.apart_count[v, a] -= 1
        state.apart_count[v, b] += 1
    circle_of[u] = b


@_no_refcount
def _shortfall(data, state, g):
    """How far circle ``g`` is below its size floor and its count floors (0 on the bench)."""
    if g == data.n_circles:
        return 0
    short = 0
    if state.size[g] < data.min_size[g]:
        short += data.min_size[g] - state.size[g]
    for c in range(state.circle_counts.shape[1]):
        n = state.circle_counts[g, c]
        if _below_floor(data, c, n):
            short += data.count_min[c] - n
    return short


@_no_refcount
def _total_shortfall(data, state, shortfall):
    """Fill ``shortfall`` (per circle); the total, plus 1000 a person left on the bench."""
    m = data.n_circles
    total = 0
    for g in range(m):
        shortfall[g] = _shortfall(data, state, g)
        total += shortfall[g]
    for u in range(data.affinity.shape[0]):
        if state.circle_of[u] == m and not data.is_place[u]:
            total += 1000 * data.weight[u]
    return total


@_no_refcount
def _shortfall_change(data, state, shortfall, a, b):
    """The change of circles ``a`` and ``b``'s shortfall since ``shortfall`` was filled."""
    return _shortfall(data, state, a) + _shortfall(data, state, b) - shortfall[a] - shortfall[b]


@_no_refcount
def _eject(data, state, shortfall, u):
    """Place the benched unit ``u`` by an ejection chain; the work done.

    ``u`` takes the place of a unit ``v`` in circle ``b`` and ``v`` moves to a circle
    ``c`` with room, every ceiling kept (the chain with the least shortfall wins, if it
    lowers the total): where every circle is full but the ones ``u`` cannot join (a count
    at which all circles are at their ceiling), no single move or swap places ``u``.
    """
    m = data.n_circles
    circle_of = state.circle_of
    work = 0
    pick_v, pick_c, pick_change = -1, -1, -1000 * data.weight[u] + 1
    for v in range(data.affinity.shape[0]):
        b = circle_of[v]
        work += 1
        if b == m or not can_add(data, state, u, b, v, False):
            continue
        for c in range(m):
            work += 1
            if c == b or not can_add(data, state, v, c, -1, False):
                continue
            apply_move(data, state, v, c)
            apply_move(data, state, u, b)
            change = _shortfall_change(data, state, shortfall, b, c) - 1000 * data.weight[u]
            apply_move(data, state, u, m)
            apply_move(data, state, v, b)
            if change < pick_change:
                pick_v, pick_c, pick_change = v, c, change
    if pick_v >= 0:
        b = circle_of[pick_v]
        apply_move(data, state, pick_v, pick_c)
        apply_move(data, state, u, b)
    return work


@njit(cache=True)
def construct(data, circle_of, order, flex, target, seed, budget):
    """Greedy placement from the bench, then a shortfall-driven repair.

    Circles are filled one by one up to their planned size ``target``, each time with the
    least flexible unit that still fits (``flex``: fewest shared labels, fewest partners),
    so that people with rare slots or languages are grouped before the common ones run out.
    ``circle_of`` (all on the bench, ``m``) is filled in place; ``order`` is the order in
    which units are offered a circle.

    Returns the remaining shortfall (0 = every rule holds) and the work done.
    """
    np.random.seed(seed)
    U = data.affinity.shape[0]
    m = data.n_circles
    state = circle_state(data, circle_of)
    weight, is_place = data.weight, data.is_place
    size, to_circle, circle_counts = state.size, state.to_circle, state.circle_counts
    work = 0
    # 1. floors that every circle needs (one leader, "at least k" balance): fill them first
    for g in range(m):
        for c in range(data.unit_counts.shape[1]):
            if data.count_min[c] == 0 or data.count_or_none[c]:
                continue
            for u in order:
                if circle_counts[g, c] >= data.count_min[c]:
                    break
                if circle_of[u] != m or data.unit_counts[u, c] == 0:
                    continue
                if can_add(data, state, u, g, -1, False):
                    apply_move(data, state, u, g)
    # 2. circle by circle up to the planned size, least flexible units first
    for g in range(m):
        while size[g] < target[g]:
            pick, pick_key = -1, _NEG
            for u in range(U):
                if circle_of[u] != m or is_place[u] or size[g] + weight[u] > target[g]:
                    continue
                work += 1
                if not can_add(data, state, u, g, -1, False):
                    continue
                key = -1.0e6 * flex[u] + to_circle[u, g] + 1e-9 * np.random.random()
                if key > pick_key:
                    pick, pick_key = u, key
            if pick < 0:
                break
            apply_move(data, state, pick, g)
    # 3. anyone left: the emptiest allowed circle, best affinity on ties
    for u in order:
        if circle_of[u] != m or is_place[u]:
            continue
        pick, pick_key = -1, _NEG
        for g in range(m):
            work += 1
            if not can_add(data, state, u, g, -1, False):
                continue
            key = (
                -1.0e6 * (size[g] / data.min_size[g]) + to_circle[u, g] + 1e-9 * np.random.random()
            )
            if key > pick_key:
                pick, pick_key = g, key
        if pick >= 0:
            apply_move(data, state, u, pick)
    # 4. repair: moves and swaps that keep every ceiling and lower the total shortfall
    shortfall = np.zeros(m + 1, np.int64)
    total = _total_shortfall(data, state, shortfall)
    tabu = np.zeros((U, m + 1), np.int64)
    it = 0
    while total > 0 and work < budget:
        it += 1
        if total >= 1000:  # someone on the bench: an ejection chain may place them
            for u in range(U):
                if circle_of[u] == m and not is_place[u]:
                    work += _eject(data, state, shortfall, u)
            placed = _total_shortfall(data, state, shortfall)
            if placed < total:
                total = placed
                continue
        pick_u, pick_v, pick_b, pick_change = -1, -1, -1, 1 << 60
        for u in range(U):
            a = circle_of[u]
            benched = a == m and not is_place[u]  # on the bench but must be placed
            for b in range(m + 1):
                if b == a or (shortfall[a] == 0 and shortfall[b] == 0 and not benched):
                    continue
                if tabu[u, b] > it:
                    continue
                work += 1
                if not can_add(data, state, u, b, -1, False):
                    continue
                apply_move(data, state, u, b)
                change = _shortfall_change(data, state, shortfall, a, b)
                if benched:
                    change -= 1000 * weight[u]
                if b == m and not is_place[u]:
                    change += 1000 * weight[u]
                apply_move(data, state, u, a)
                if change < pick_change or (change == pick_change and np.random.random() < 0.3):
                    pick_u, pick_v, pick_b, pick_change = u, -1, b, change
            for v in range(u + 1, U):
                b = circle_of[v]
                if b == a or (shortfall[a] == 0 and shortfall[b] == 0 and not benched):
                    continue
                if tabu[u, b] > it or tabu[v, a] > it:
                    continue
                work += 1
                if not (
                    can_add(data, state, u, b, v, False) and can_add(data, state, v, a, u, False)
                ):
                    continue
                if (a == m and not is_place[u]) or (b == m and not is_place[v]):
                    continue
                apply_move(data, state, u, b)
                apply_move(data, state, v, a)
                change = _shortfall_change(data, state, shortfall, a, b)
                apply_move(data, state, u, a)
                apply_move(data, state, v, b)
                if change < pick_change or (change == pick_change and np.random.random() < 0.3):
                    pick_u, pick_v, pick_b, pick_change = u, v, b, change
        if pick_u < 0:
            break
        a = circle_of[pick_u]
        tabu[pick_u, a] = it + 3 + np.random.randint(0, 8)
        apply_move(data, state, pick_u, pick_b)
        if pick_v >= 0:
            tabu[pick_v, pick_b] = it + 3 + np.random.randint(0, 8)
            apply_move(data, state, pick_v, a)
        total = _total_shortfall(data, state, shortfall)
    return total, work


@_no_refcount
def _mean_value(score, size):
    """A circle's sum of member means: ``2 S / (k - 1)`` (0 for fewer than two people)."""
    if size < 2:
        return 0.0
    return 2.0 * score / (size - 1)


@_no_refcount
def _member_floor(data, state, members, ptr, c, leave, join, size):
    """The worst member mean of circle ``c`` once ``leave`` leaves and ``join`` joins (or -1).

    ``members[ptr[c]:ptr[c + 1]]`` are the units of ``c`` now; ``size`` its size after the
    change. A unit weighing ``w`` counts as one member with its members' average. The bench
    (and an empty circle) has no floor (``1e300``).
    """
    if c == data.n_circles:
        return 1.0e300
    affinity, to_circle, intra, weight = data.affinity, state.to_circle, data.intra, data.weight
    worst = 1.0e300
    mates = max(size - 1, 1)
    for k in range(ptr[c], ptr[c + 1]):
        x = members[k]
        if x == leave:
            continue
        t = to_circle[x, c] + 2.0 * intra[x]
        if leave >= 0:
            t -= affinity[x, leave]
        if join >= 0:
            t += affinity[x, join]
        t /= weight[x] * mates
        if t < worst:
            worst = t
    if join >= 0:
        t = to_circle[join, c] + 2.0 * intra[join]
        if leave >= 0:
            t -= affinity[join, leave]
        t /= weight[join] * mates
        if t < worst:
            worst = t
    return worst


@njit(cache=True)
def group_members(circle_of, m):
    """The units grouped by circle: (``members``, ``ptr`` of ``m + 2`` offsets)."""
    ptr = np.zeros(m + 2, np.int64)
    for u in range(circle_of.shape[0]):
        ptr[circle_of[u] + 1] += 1
    for g in range(m + 1):
        ptr[g + 1] += ptr[g]
    at = ptr.copy()
    members = np.empty(circle_of.shape[0], np.int64)
    for u in range(circle_of.shape[0]):
        members[at[circle_of[u]]] = u
        at[circle_of[u]] += 1
    return members, ptr


@njit(cache=True)
def objective(data, state, mode):
    """(primary, secondary) objective of circles ``0..m-1`` under ``mode``.

    ``TOTAL``: (0, total); ``MEAN``: (0, sum of member means); ``MAXMIN``: (worst member's
    mean, total).
    """
    m = data.n_circles
    score, size = state.score, state.size
    total = 0.0
    for g in range(m):
        total += _mean_value(score[g], size[g]) if mode == MEAN else score[g]
    if mode != MAXMIN:
        return 0.0, total
    members, ptr = group_members(state.circle_of, m)
    worst = 1.0e300
    for g in range(m):
        if ptr[g + 1] > ptr[g]:
            worst = min(worst, _member_floor(data, state, members, ptr, g, -1, -1, size[g]))
    return worst, total


@njit(cache=True)
def evaluate(data, circle_of, mode):
    """(primary, secondary) objective of the assignment ``circle_of`` (see :func:`objective`)."""
    return objective(data, circle_state(data, circle_of), mode)


@_no_refcount
def _total(score, m):
    """The total score of circles ``0..m-1``."""
    total = 0.0
    for g in range(m):
        total += score[g]
    return total


@_no_refcount
def _mean_gain(data, state, a, b, change_a, change_b, moved):
    """Change of the sum of member means as circles ``a`` and ``b`` change.

    Circle ``a``'s score changes by ``change_a`` and its size by ``moved`` people, ``b``'s
    by ``change_b`` and ``-moved``; the bench (index ``m``) counts nothing.
    """
    m = data.n_circles
    score, size = state.score, state.size
    gain = 0.0
    if a < m:
        gain += _mean_value(score[a] + change_a, size[a] + moved) - _mean_value(score[a], size[a])
    if b < m:
        gain += _mean_value(score[b] + change_b, size[b] - moved) - _mean_value(score[b], size[b])
    return gain


# the fixed cost of one tabu iteration in candidate evaluations, counted so that small
# cohorts do not outrun the budget's clock
_ITERATION_WORK = 256


# an applied move's cost per unit of the cohort, in candidate evaluations: it updates
# every unit's affinity to the two circles (the divisor: updates per candidate's time)
_MOVE_DIV = 4

# a member floor's cost per member scanned, in candidate evaluations (maxmin)
_FLOOR_WORK = 3

# a rule check's cost per shared label a unit holds, in candidate evaluations
_LABEL_WORK = 3

# a random swap tried by a perturbation: four rule checks
_SWAP_CHECK_WORK = 4

# the bound's upkeep per tabu iteration, in candidate evaluations per circle and unit
# (a subtraction and a comparison each: several of them take one candidate's time)
_UPKEEP = 4


@_no_refcount
def _group_into(circle_of, m, members, ptr):
    """:func:`group_members` into the given arrays (``ptr`` of ``m + 2`` offsets)."""
    for g in range(m + 2):
        ptr[g] = 0
    for u in range(circle_of.shape[0]):
        ptr[circle_of[u] + 1] += 1
    for g in range(m + 1):
        ptr[g + 1] += ptr[g]
    for u in range(circle_of.shape[0]):
        g = circle_of[u]
        members[ptr[g]] = u
        ptr[g] += 1
    for g in range(m, 0, -1):
        ptr[g] = ptr[g - 1]
    ptr[0] = 0


@_no_refcount
def _best_arrivals(to_circle, members, ptr, m, best_in):
    """``best_in[b, a]``: the most a unit of circle ``b`` gains by its move to circle ``a``."""
    for b in range(m):
        for a in range(m):
            best_in[b, a] = _NEG
        for k in range(ptr[b], ptr[b + 1]):
            v = members[k]
            own = to_circle[v, b]
            for a in range(m):
                if to_circle[v, a] - own > best_in[b, a]:
                    best_in[b, a] = to_circle[v, a] - own


@_no_refcount
def _swap_partners(to_circle, members, ptr, best_in, u, a, low, bar, cand):
    """The swap partners of ``u`` (in circle ``a``) that may reach ``bar``: their count.

    A swap of ``u`` with ``v`` of circle ``b`` gains ``to_circle[u, b] - to_circle[u, a]
    + to_circle[v, a] - to_circle[v, b] - 2 affinity[u, v]``, at most ``to_circle[u, b] -
    to_circle[u, a] + best_in[b, a]`` less twice the least affinity (the caller's ``bar``
    has it): circles whose bound is below ``bar`` are passed over whole. Fills ``cand``
    with the units of the others of index ``low`` or more.
    """
    m = best_in.shape[0]
    n = 0
    for b in range(m):
        if b == a or to_circle[u, b] - to_circle[u, a] + best_in[b, a] < bar:
            continue
        for k in range(ptr[b], ptr[b + 1]):
            if members[k] >= low:
                cand[n] = members[k]
                n += 1
    return n


@_no_refcount
def _other_worst(score, worst1, worst2, worst3, a, b):
    """The worst score among circles other than ``a`` and ``b``.

    ``worst1``, ``worst2``, ``worst3``: the three worst circles, worst first (-1 where there
    are fewer).
    """
    if worst1 >= 0 and worst1 != a and worst1 != b:
        return score[worst1]
    if worst2 >= 0 and worst2 != a and worst2 != b:
        return score[worst2]
    if worst3 >= 0 and worst3 != a and worst3 != b:
        return score[worst3]
    return 1.0e300


@_no_refcount
def _rank(new_worst, gain, pick_worst, pick_gain, eps):
    """A neighbour against the pick so far: -1 worse, 0 as good (within ``eps``), 1 better.

    Neighbours compare by their worst circle (0 for the total objective), then their gain.
    """
    if new_worst < pick_worst - eps or (new_worst <= pick_worst + eps and gain < pick_gain - eps):
        return -1
    if new_worst <= pick_worst + eps and gain <= pick_gain + eps:
        return 0
    return 1


@njit(cache=True)
def _take(tie, n_ties):
    """Whether an admissible neighbour becomes the pick, and the count of tied picks.

    A better one always does (and starts a new count); the ``n``-th of equally good ones
    with probability ``1 / n``, so each of them is kept with the same chance.
    """
    if tie:
        n_ties += 1
        return np.random.randint(0, n_ties) == 0, n_ties
    return True, 1


# the cost of one candidate of a size-mix change in evaluations (its full rule checks
# cost several plain candidates)
_RESIZE_WORK = 4


@_no_refcount
def _resize(data, state, g, grow):
    """Push circle ``g`` to its size ceiling (``grow``) or floor by greedy single moves.

    Each step takes the best-scoring admissible move of one unit into ``g`` (from a circle
    that keeps its floors) or out of it (into a circle with room), every rule kept. Changes
    the size mix where one-element moves from a local optimum are all uphill, as the
    size-changing perturbations of [3]_ do. Returns the candidate evaluations done.
    """
    m = data.n_circles
    U = data.affinity.shape[0]
    circle_of, to_circle = state.circle_of, state.to_circle
    work = 0
    while (state.size[g] < data.max_size[g]) if grow else (state.size[g] > data.min_size[g]):
        pick_u, pick_b, pick_gain = -1, -1, _NEG
        for u in range(U):
            a = circle_of[u]
            if a == m or (a == g) == grow:
                continue
            if grow:
                work += _RESIZE_WORK
                gain = to_circle[u, g] - to_circle[u, a]
                if gain > pick_gain and (
                    can_add(data, state, u, g, -1, True) and can_remove(data, state, u, a, -1)
                ):
                    pick_u, pick_b, pick_gain = u, g, gain
            else:
                for b in range(m):
                    if b == g:
                        continue
                    work += _RESIZE_WORK
                    gain = to_circle[u, b] - to_circle[u, g]
                    if gain > pick_gain and (
                        can_add(data, state, u, b, -1, True) and can_remove(data, state, u, g, -1)
                    ):
                        pick_u, pick_b, pick_gain = u, b, gain
        if pick_u < 0:
            break
        apply_move(data, state, pick_u, pick_b)
    return work


@njit(cache=True, nogil=True)
def search(data, circle_of, best_circle_of, tabu, params, counters, budget):
    """Iterated tabu search from the feasible ``circle_of``, for ``budget`` evaluations.

    ``circle_of`` (the current assignment), ``best_circle_of`` (the best one) and ``tabu``
    (shape (U, m + 1): the iteration until which a unit may not return to a circle) are
    updated in place; returns the new :class:`SearchCounters`. Resumable: call again with
    the same arrays and the returned counters to go on. Each iteration scans the moves and
    swaps of ``params.sample`` units.
    """
    np.random.seed(counters.seed)
    U = data.affinity.shape[0]
    m = data.n_circles
    state = circle_state(data, circle_of)
    affinity, intra, weight, is_place = data.affinity, data.intra, data.weight, data.is_place
    min_size, max_size = data.min_size, data.max_size
    size, to_circle, score = state.size, state.to_circle, state.score
    mode = params.mode
    maxmin = mode == MAXMIN
    mean = mode == MEAN
    # a candidate under the mean objective (its gain re-reads both circles' sizes and
    # scores) costs about two plain ones
    per_cand = 2 if mean else 1
    # a rule check reads the unit's shared labels (a few per unit: slots, languages)
    # (without shared rules a check is a few reads, part of the candidate's unit)
    check = (_LABEL_WORK * data.label_ptr[U]) // max(U, 1) if data.n_shared > 0 else 0
    floor = np.full(m + 1, 1.0e300)  # each circle's worst member mean (MAXMIN)
    members, ptr = group_members(circle_of, m)
    it = counters.iteration
    last = counters.last_improvement
    record_worst, record_total = counters.best_worst, counters.best_total
    work = 0
    eps = 1e-9 * (1.0 + abs(record_total))
    full = params.sample >= U
    perm = np.random.permutation(U)
    pos = 0
    ranged_circles = np.flatnonzero(min_size < max_size)
    ranged = ranged_circles.shape[0] > 0
    # swap partners by circle, whole circles passed over by a bound on their gain (the
    # total objective, no bench; where the bound's upkeep costs less than the scan)
    scanned = U * (U - 1) // 2 if full else params.sample * U
    prune = mode == TOTAL and not is_place.any() and m * U <= scanned
    least = affinity.min() if prune else 0.0
    by_circle = np.empty(U, np.int64)
    circle_ptr = np.zeros(m + 2, np.int64)
    best_in = np.empty((m, m))
    cand = np.empty(U, np.int64)
    while work < budget:
        it += 1
        if prune:
            _group_into(circle_of, m, by_circle, circle_ptr)
            _best_arrivals(to_circle, by_circle, circle_ptr, m, best_in)
            work += m * U // _UPKEEP
        total = objective(data, state, mode)[1] if mean else _total(score, m)
        # the three worst circles, to score the worst circle after a move in O(1)
        worst1, worst2, worst3 = -1, -1, -1
        if maxmin:
            members, ptr = group_members(circle_of, m)
            work += _FLOOR_WORK * U  # every circle's floor: each member over her mates
            for g in range(m):
                floor[g] = _member_floor(data, state, members, ptr, g, -1, -1, size[g])
                if worst1 < 0 or floor[g] < floor[worst1]:
                    worst3, worst2, worst1 = worst2, worst1, g
                elif worst2 < 0 or floor[g] < floor[worst2]:
                    worst3, worst2 = worst2, g
                elif worst3 < 0 or floor[g] < floor[worst3]:
                    worst3 = g
        # the pick so far: u moves to b (and v, when >= 0, to u's circle)
        pick_u, pick_v, pick_b = -1, -1, -1
        pick_worst, pick_gain = _NEG, _NEG
        n_ties = 0
        for t in range(U if full else params.sample):
            if full:
                u = t
            else:
                u = perm[pos]
                pos += 1
                if pos == U:
                    pos = 0
                    perm = np.random.permutation(U)
            a = circle_of[u]
            u_in_a = to_circle[u, a] if a < m else 0.0
            # moves
            for b in range(m + 1):
                work += per_cand  # every candidate counts: the budget tracks time on any size
                if b == a:
                    continue
                if b == m and not is_place[u]:
                    continue
                if b < m and size[b] + weight[u] > max_size[b]:
                    continue
                if a < m and size[a] - weight[u] < min_size[a]:
                    continue
                u_in_b = to_circle[u, b] if b < m else 0.0
                gain = u_in_b - u_in_a + intra[u] * (int(b < m) - int(a < m))
                new_worst = 0.0
                if mean:
                    gain = _mean_gain(
                        data, state, a, b, -u_in_a - intra[u], u_in_b + intra[u], -weight[u]
                    )
                if not maxmin and pick_u >= 0 and gain < pick_gain - eps:
                    continue  # worse than the pick, tabu or not (what _rank would say)
                if maxmin:
                    others = _other_worst(floor, worst1, worst2, worst3, a, b)
                    fa = _member_floor(data, state, members, ptr, a, u, -1, size[a] - weight[u])
                    fb = _member_floor(data, state, members, ptr, b, -1, u, size[b] + weight[u])
                    new_worst = min(others, fa, fb)
                    # the floors scan both circles: count it, so the budget tracks time
                    work += _FLOOR_WORK * (
                        ptr[min(a, m) + 1] - ptr[min(a, m)] + ptr[min(b, m) + 1] - ptr[min(b, m)]
                    )
                aspire = (new_worst > record_worst + eps) or (
                    new_worst >= record_worst - eps and total + gain > record_total + eps
                )
                if tabu[u, b] > it and not aspire:
                    continue
                rank = _rank(new_worst, gain, pick_worst, pick_gain, eps)
                if rank < 0:
                    continue
                work += check
                if not (can_add(data, state, u, b, -1, True) and can_remove(data, state, u, a, -1)):
                    continue
                take, n_ties = _take(rank == 0, n_ties)
                if take:
                    pick_u, pick_v, pick_b, pick_worst, pick_gain = u, -1, b, new_worst, gain
            # swaps
            low = u + 1 if full else 0
            n_cand = U - low
            if prune:
                bar = pick_gain - eps + 2.0 * least if pick_u >= 0 else _NEG
                n_cand = _swap_partners(
                    to_circle, by_circle, circle_ptr, best_in, u, a, low, bar, cand
                )
                work += m  # a bound per circle, then the candidates scanned
            work += n_cand * per_cand
            for k in range(n_cand):
                v = cand[k] if prune else low + k
                b = circle_of[v]
                if b == a:
                    continue
                if (a == m and not is_place[v]) or (b == m and not is_place[u]):
                    continue
                d_uv = affinity[u, v]
                u_in_b = to_circle[u, b] - d_uv if b < m else 0.0
                v_in_b = to_circle[v, b] if b < m else 0.0
                v_in_a = to_circle[v, a] - d_uv if a < m else 0.0
                gain_u = u_in_b - u_in_a + intra[u] * (int(b < m) - int(a < m))
                gain_v = v_in_a - v_in_b + intra[v] * (int(a < m) - int(b < m))
                gain = gain_u + gain_v
                new_worst = 0.0
                if mean:
                    gain = _mean_gain(
                        data,
                        state,
                        a,
                        b,
                        v_in_a + intra[v] - u_in_a - intra[u],
                        u_in_b + intra[u] - v_in_b - intra[v],
                        weight[v] - weight[u],
                    )
                if not maxmin and pick_u >= 0 and gain < pick_gain - eps:
                    continue
                if maxmin:
                    others = _other_worst(floor, worst1, worst2, worst3, a, b)
                    grown = weight[v] - weight[u]
                    fa = _member_floor(data, state, members, ptr, a, u, v, size[a] + grown)
                    fb = _member_floor(data, state, members, ptr, b, v, u, size[b] - grown)
                    new_worst = min(others, fa, fb)
                    work += _FLOOR_WORK * (
                        ptr[min(a, m) + 1] - ptr[min(a, m)] + ptr[min(b, m) + 1] - ptr[min(b, m)]
                    )
                aspire = (new_worst > record_worst + eps) or (
                    new_worst >= record_worst - eps and total + gain > record_total + eps
                )
                if (tabu[u, b] > it or tabu[v, a] > it) and not aspire:
                    continue
                rank = _rank(new_worst, gain, pick_worst, pick_gain, eps)
                if rank < 0:
                    continue
                work += 2 * check
                if not _can_swap(data, state, u, v, a, b):
                    continue
                take, n_ties = _take(rank == 0, n_ties)
                if take:
                    pick_u, pick_v, pick_b, pick_worst, pick_gain = u, v, b, new_worst, gain
        # an iteration's fixed cost (choosing, applying, bookkeeping), in candidate units
        work += _ITERATION_WORK
        if pick_u < 0:
            break  # no admissible neighbour at all (a rigid problem)
        a = circle_of[pick_u]
        tenure = 2 + np.random.randint(0, max(2, int(U * params.tenure / 1000)))
        tabu[pick_u, a] = it + tenure
        apply_move(data, state, pick_u, pick_b)
        work += U // _MOVE_DIV  # a move updates every unit's affinity to two circles
        if pick_v >= 0:
            tabu[pick_v, pick_b] = it + tenure
            apply_move(data, state, pick_v, a)
            work += U // _MOVE_DIV
        worst, total = objective(data, state, mode) if mode != TOTAL else (0.0, _total(score, m))
        if worst > record_worst + eps or (
            worst >= record_worst - eps and total > record_total + eps
        ):
            record_worst, record_total = worst, total
            eps = 1e-9 * (1.0 + abs(total))
            best_circle_of[:] = circle_of
            last = it
        elif it - last > params.stall:
            # perturb: restart from the best with random feasible swaps (after a change of
            # the size mix, half of the times, where sizes may vary)
            for u in range(U):
                if circle_of[u] != best_circle_of[u]:
                    apply_move(data, state, u, best_circle_of[u])
                    work += U // _MOVE_DIV
            strength = 2 + np.random.randint(0, max(2, int(U * params.strength / 1000)))
            if ranged and np.random.random() < 0.5:
                # change the size mix: one circle with a size range to its other bound
                # (a local optimum sits near the bounds: moving one unit is uphill), then
                # fewer random swaps
                g = ranged_circles[np.random.randint(0, ranged_circles.shape[0])]
                grow = 2 * size[g] < min_size[g] + max_size[g]
                work += _resize(data, state, g, grow)
                strength = 1 + strength // 2
            tries = 0
            done = 0
            while done < strength and tries < 50 * strength:
                tries += 1
                u = np.random.randint(0, U)
                v = np.random.randint(0, U)
                a, b = circle_of[u], circle_of[v]
                if a == b or (a == m and not is_place[v]) or (b == m and not is_place[u]):
                    continue
                work += _SWAP_CHECK_WORK
                if _can_swap(data, state, u, v, a, b):
                    apply_move(data, state, u, b)
                    apply_move(data, state, v, a)
                    work += 2 * (U // _MOVE_DIV)
                    done += 1
            tabu[:, :] = 0
            work += U * (m + 1) // _UPKEEP
            it += U  # tabu entries from before the restart are void
            last = it
    seed = np.random.randint(0, 2**31 - 1)
    return SearchCounters(it, last, seed, counters.evaluations + work, record_worst, record_total)
