"""A Lagrangian bound on the total of large cohorts: circles priced per anchor.

The per-person bound of :mod:`.bounds` lets every person have her best partners, and so is
loose on large cohorts (about 40% on 1,000 people). This module bounds the set-partitioning
model of :mod:`.columns` (choose ``m`` admissible circles covering every unit once) by
Lagrangian relaxation, without listing its columns:

- **Anchors.** Every circle has exactly one *anchor*: its leading unit when circles are
  mentor-led (a leading place, or a keep-together group with its leader), otherwise its
  first unit in index order. Each anchor is in at most one circle.
- **Relaxation.** The covering rows of the other units get multipliers ``pi`` and the
  circle count ``m`` a multiplier ``mu``. For any ``pi`` and ``mu``, every solution's total
  is at most ``L = sum(pi) + m * mu + sum_a max(0, g_a - mu)``, where ``g_a`` is an upper
  bound on the best reduced value ``value(S) - pi(S)`` of a circle ``S`` anchored at ``a``
  (weak duality, [1]_ ch. 10): the bound holds whatever the multipliers, whichever way they
  were found, so it does not depend on tolerances or on how far the search got.
- **Pricing bound.** For an anchor, its circle's other units share one of its labels (the
  first shared rule), are not kept apart from it, and respect one count rule whose labels
  partition the units (e.g. at most 2 per chapter). Their reduced value is a linear part
  plus the pairs among them; the pairs are at most half of each unit's best partners among
  the candidates (an upper plane of the quadratic knapsack, [2]_), so the best ``k`` units
  by that estimate bound every set of size ``k`` (a greedy over a partition matroid, exact
  for the separable estimate). Only values above ``mu`` count, so a unit that cannot reach
  ``mu`` with any ``k - 1`` others is dropped, and the partners are recomputed among the
  rest while a round drops enough of them (:data:`MIN_DROP`); when at most
  :data:`EXACT_CANDIDATES` remain, a depth-first search finds the exact maximum.
- **Multipliers.** ``mu`` is optimal for each ``pi`` (the ``m``-th largest ``g_a``); ``pi``
  follows the subgradient (coverage of the units by the anchors' best sets) with
  Polyak's step toward a fraction of the best bound ([3]_), from each unit's best partners.
  The iterations stop on a work count planned from the seconds given (reproducible); the
  clock is only a safety net. The smallest ``L`` seen is the bound.

On the 1,000-person mentor-led cohort of ``benchmarks/bench_circles.py`` (b), 213 circles,
the bound is 1,381.7 in its 3 s (1,374.1 settled) against 2,154 for the per-person bound,
with answers near 1,281: a gap of 7.3% instead of 40.5% (``benchmarks/README.md``). The
same relaxation applies to peers (each circle anchored at its first unit): 1,000 peers
with a shared slot and chapter caps, 200 circles, 1,409.6 against 1,638.5 in 3 s; the
solve uses it for mentor-led cohorts only.

References
----------
.. [1] L. A. Wolsey, *Integer Programming*, Wiley, 1998, ch. 10 (Lagrangian duality: a
   bound valid for any multipliers) and ch. 11 (column generation).
.. [2] G. Gallo, P. L. Hammer and B. Simeone, "Quadratic knapsack problems",
   *Mathematical Programming Study* 12 (1980) 132-149 (upper planes: a linear bound on the
   pairs of a quadratic knapsack).
.. [3] M. Held, P. Wolfe and H. P. Crowder, "Validation of subgradient optimization",
   *Mathematical Programming* 6 (1974) 62-88.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit

from pairwise.circles import CircleProblem
from pairwise.solvers._plan import TimePlan
from pairwise.solvers.circles.bounds import simple_bound
from pairwise.solvers.circles.units import Units

__all__ = [
    "BOUND_CAP",
    "BOUND_SHARE",
    "MIN_PEOPLE",
    "RANGE_CAP",
    "SAFETY_FACTOR",
    "WORK_PER_SECOND",
    "best_bound",
    "compile_kernels",
    "lagrangian_bound",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

F = TypeVar("F", bound=Callable[..., Any])

_NEG = -1.0e300


def _compiled(f: F) -> F:
    """Compile with numba (cached on disk), keeping the function's type for mypy."""
    return cast(F, njit(cache=True, nogil=True)(f))


@_compiled
def _push_top(top: FloatArray, filled: int, width: int, v: float) -> int:
    """Offer ``v`` to ``top[:filled]``, the largest values so far in decreasing order.

    At most ``width`` are kept (the smallest drops out); returns the new ``filled``.
    """
    if filled < width:
        q = filled
        filled += 1
    elif v > top[width - 1]:
        q = width - 1
    else:
        return filled
    while q > 0 and top[q - 1] < v:
        top[q] = top[q - 1]
        q -= 1
    top[q] = v
    return filled


@_compiled
def _topk_capped(w: FloatArray, order: IntArray, k: int, cls: IntArray, cap: IntArray) -> float:
    """Largest sum of ``k`` of ``w`` with at most ``cap[c]`` items of class ``c`` (-1: none).

    Greedy in decreasing ``w`` (``order``): exact, the sets allowed form a (truncated)
    partition matroid. ``_NEG`` when ``k`` items cannot be taken.
    """
    used = np.zeros(len(cap), dtype=np.int64)
    total = 0.0
    taken = 0
    for t in range(len(order)):
        if taken == k:
            break
        i = order[t]
        c = cls[i]
        if c >= 0:
            if used[c] >= cap[c]:
                continue
            used[c] += 1
        total += w[i]
        taken += 1
    return total if taken == k else _NEG


@_compiled
def _partner_tops(items: IntArray, A: FloatArray, apart: BoolArray, width: int) -> FloatArray:
    """``out[t, r]``: sum of the ``r`` largest affinities of ``items[t]`` to the other items.

    Kept-apart items excluded; ``_NEG`` when fewer than ``r`` partners exist.
    """
    n = len(items)
    out = np.full((n, width + 1), _NEG)
    best = np.empty(max(width, 1))
    for t in range(n):
        i = items[t]
        filled = 0
        for s in range(n):
            if s == t or width == 0:
                continue
            j = items[s]
            if apart[i, j]:
                continue
            filled = _push_top(best, filled, width, A[i, j])
        out[t, 0] = 0.0
        acc = 0.0
        for r in range(filled):
            acc += best[r]
            out[t, r + 1] = acc
    return out


@_compiled
def _extension_bound(
    lin: FloatArray,
    cum: FloatArray,
    value: float,
    start: int,
    d: int,
    kmin: int,
    kmax: int,
    top: FloatArray,
) -> float:
    """Best value a set of ``d`` items (``value``) can reach with items from ``start`` on.

    Each added item gains its affinity to the chosen (``lin``) plus half its best partners
    among the added; the best ``r`` such gains, over every number ``r`` still allowed.
    """
    bound = _NEG
    n = len(lin)
    for r in range(max(kmin - d, 1), kmax - d + 1):
        filled = 0
        for j in range(start, n):
            filled = _push_top(top, filled, r, lin[j] + 0.5 * cum[j, r - 1])
        if filled == r:
            s = value
            for q in range(r):
                s += top[q]
            bound = max(bound, s)
    return bound


@_compiled
def _exact(
    C: IntArray,
    c: FloatArray,
    A: FloatArray,
    apart: BoolArray,
    cls_c: IntArray,
    cap: IntArray,
    kmin: int,
    kmax: int,
    cum: FloatArray,
    tau: float,
    T_out: IntArray,
) -> tuple[float, int, int]:
    """Best ``sum(c[T]) + pairs(T)`` over sets of ``kmin..kmax`` items above ``tau``.

    Depth-first with a bound (each item's linear gain to the chosen plus half its best
    partners). Returns (best value or ``_NEG`` when none beats ``tau``, its size, nodes).
    """
    n = len(C)
    best = tau
    best_n = -1
    chosen = np.zeros(kmax + 1, dtype=np.int64)
    pos = np.zeros(kmax + 1, dtype=np.int64)
    val = np.zeros(kmax + 1)
    lin = np.zeros((kmax + 1, n))
    lin[0, :] = c
    used = np.zeros(len(cap), dtype=np.int64)
    top = np.empty(kmax + 1)
    d = 0
    nodes = 0
    enter = True
    while True:
        if enter:
            nodes += 1
            enter = False
            if d >= kmin and val[d] > best:
                best = val[d]
                best_n = d
                for t in range(d):
                    T_out[t] = C[chosen[t]]
            start = chosen[d - 1] + 1 if d > 0 else 0
            pos[d] = start
            full = d == kmax
            if full or _extension_bound(lin[d], cum, val[d], start, d, kmin, kmax, top) <= best:
                pos[d] = n
        moved = False
        while pos[d] < n:
            j = pos[d]
            pos[d] += 1
            k = cls_c[j]
            if k >= 0 and used[k] >= cap[k]:
                continue
            ok = True
            for t in range(d):
                if apart[C[j], C[chosen[t]]]:
                    ok = False
                    break
            if not ok:
                continue
            chosen[d] = j
            val[d + 1] = val[d] + lin[d, j]
            for s in range(n):
                lin[d + 1, s] = lin[d, s] + A[C[j], C[s]]
            if k >= 0:
                used[k] += 1
            d += 1
            enter = True
            moved = True
            break
        if not moved:
            if d == 0:
                break
            d -= 1
            k = cls_c[chosen[d]]
            if k >= 0:
                used[k] -= 1
    return (best if best_n >= 0 else _NEG), max(best_n, 0), nodes


@_compiled
def _bound_round(
    c: FloatArray,
    cum: FloatArray,
    cls_c: IntArray,
    cap: IntArray,
    kmin: int,
    kmax: int,
    tau: float,
) -> tuple[float, int, BoolArray]:
    """One round of the pricing bound: (bound, its size, the items that can beat ``tau``).

    An item stays when, for some size ``k``, its estimate plus the best ``k - 1`` others'
    exceeds ``tau`` (each estimate: its linear part plus half its ``k - 1`` best partners).
    """
    n = len(c)
    ub = 0.0 if kmin == 0 else _NEG
    best_k = 0
    alive = np.zeros(n, dtype=np.bool_)
    order = np.empty(max(n, 1), dtype=np.int64)
    top = np.zeros(n, dtype=np.bool_)
    for k in range(max(kmin, 1), kmax + 1):
        if k > n:
            break
        w = c + 0.5 * cum[:, k - 1]
        # the best 2k by a partial selection; the full order only if the caps need it
        filled = _top_list(w, min(n, 2 * k), order)
        g = _topk_capped(w, order[:filled], k, cls_c, cap)
        if g <= _NEG and filled < n:
            g = _topk_capped(w, np.argsort(-w, kind="mergesort"), k, cls_c, cap)
        if g > ub:
            ub = g
            best_k = k
        s_less = 0.0
        for t in range(k - 1):
            s_less += w[order[t]]
        s_k = s_less + w[order[k - 1]]
        for t in range(k - 1):  # the best k - 1: with the others of the best k
            top[order[t]] = True
        for i in range(n):
            if (s_k if top[i] else w[i] + s_less) > tau:
                alive[i] = True
        for t in range(k - 1):
            top[order[t]] = False
    return ub, best_k, alive


@_compiled
def _top_list(w: FloatArray, size: int, out: IntArray) -> int:
    """The ``size`` largest of ``w`` into ``out``, largest first (ties: lower index first)."""
    filled = 0
    for i in range(len(w)):
        v = w[i]
        if filled < size:
            q = filled
            filled += 1
        elif v > w[out[size - 1]]:
            q = size - 1
        else:
            continue
        while q > 0 and w[out[q - 1]] < v:
            out[q] = out[q - 1]
            q -= 1
        out[q] = i
    return filled


@_compiled
def _greedy_set(
    C: IntArray,
    c: FloatArray,
    cum: FloatArray,
    cls_c: IntArray,
    cap: IntArray,
    k: int,
    T_out: IntArray,
) -> int:
    """The ``k`` items of the separable bound (greedy under the caps) into ``T_out``."""
    w = c + 0.5 * cum[:, k - 1] if k > 0 else c
    order = np.argsort(-w, kind="mergesort")
    used = np.zeros(len(cap), dtype=np.int64)
    taken = 0
    for t in range(len(order)):
        if taken == k:
            break
        i = order[t]
        cl = cls_c[i]
        if cl >= 0:
            if used[cl] >= cap[cl]:
                continue
            used[cl] += 1
        T_out[taken] = C[i]
        taken += 1
    return taken


@_compiled
def _price(
    a: int,
    label: int,
    pi: FloatArray,
    tau: float,
    A: FloatArray,
    intra: FloatArray,
    apart: BoolArray,
    lab: BoolArray,
    member_ok: BoolArray,
    rank: IntArray,
    cls: IntArray,
    cap0: IntArray,
    tops: FloatArray,
    kmin: int,
    kmax: int,
    exact_n: int,
    min_drop: float,
    T_out: IntArray,
) -> tuple[float, int, int, bool]:
    """An upper bound on the best reduced value of the other members of ``a``'s circle.

    Over the members with ``label``, sets ``T`` of ``kmin..kmax`` units: ``sum(A[a, T] +
    intra[T] - pi[T]) + pairs(T)``; only values above ``tau`` matter. Returns (the bound,
    or a value <= ``tau`` when nothing beats it; the size of its set in ``T_out``; work;
    whether the bound is the exact maximum).
    """
    U = len(pi)
    cap = cap0.copy()
    if cls[a] >= 0:
        cap[cls[a]] -= 1
        if cap[cls[a]] < 0:
            return _NEG, 0, 1, True
    mask = np.zeros(U, dtype=np.bool_)
    for i in range(U):
        mask[i] = member_ok[i] and rank[i] > rank[a] and lab[i, label] and not apart[a, i]
    C = np.flatnonzero(mask)
    c = np.empty(len(C))
    for t in range(len(C)):
        i = C[t]
        c[t] = A[a, i] + intra[i] - pi[i]
    cum = tops[label][C]
    work = len(C)
    eps = 1e-9 * (1.0 + abs(tau))
    while True:
        n = len(C)
        cls_c = cls[C]
        ub, best_k, alive = _bound_round(c, cum, cls_c, cap, kmin, kmax, tau - eps)
        work += 2 * n * (kmax - kmin + 1)  # a selection and a scan per size
        if ub <= tau:
            return ub, 0, work, False
        if n <= exact_n:
            best, size, nodes = _exact(C, c, A, apart, cls_c, cap, kmin, kmax, cum, tau, T_out)
            return best, size, work + nodes * n, True
        kept = int(alive.sum())
        if kept == n or (kept > (1.0 - min_drop) * n and kept > exact_n):
            break  # too few dropped to be worth new partners
        C = C[alive]
        c = c[alive]
        cum = _partner_tops(C, A, apart, tops.shape[2] - 1)
        work += len(C) * len(C)
    # the greedy set of the best size, for the subgradient
    taken = _greedy_set(C, c, cum, cls[C], cap, best_k, T_out)
    return ub, taken, work, False


@_compiled
def _evaluate(
    pi: FloatArray,
    mu: float,
    anchors: IntArray,
    kmins: IntArray,
    kmaxs: IntArray,
    A: FloatArray,
    intra: FloatArray,
    apart: BoolArray,
    lab: BoolArray,
    member_ok: BoolArray,
    rank: IntArray,
    cls: IntArray,
    cap0: IntArray,
    tops: FloatArray,
    exact_n: int,
    min_drop: float,
) -> tuple[FloatArray, IntArray, IntArray, int, int]:
    """Per anchor: an upper bound on its best reduced circle value (``mu`` off), its set."""
    R = len(anchors)
    width = tops.shape[2]
    g = np.empty(R)
    sets = np.full((R, width), -1, dtype=np.int64)
    sizes = np.zeros(R, dtype=np.int64)
    T = np.empty(width, dtype=np.int64)
    work = 0
    exact = 0
    for r in range(R):
        a = anchors[r]
        const = intra[a] - pi[a]
        tau = mu - const
        best = _NEG
        for label in range(lab.shape[1]):
            if not lab[a, label]:
                continue
            ub, size, w, is_exact = _price(
                a,
                label,
                pi,
                max(tau, best),
                A,
                intra,
                apart,
                lab,
                member_ok,
                rank,
                cls,
                cap0,
                tops,
                kmins[r],
                kmaxs[r],
                exact_n,
                min_drop,
                T,
            )
            work += w
            if ub > max(tau, best):
                best = ub
                sizes[r] = size
                sets[r, :size] = T[:size]
                exact += int(is_exact)
        g[r] = const + best if best > _NEG else _NEG
    return g, sets, sizes, work, exact


@_compiled
def _label_tops(
    lab: BoolArray, member_ok: BoolArray, A: FloatArray, apart: BoolArray, width: int
) -> FloatArray:
    """``out[l, i, r]``: the ``r`` best partners of ``i`` among the members with label ``l``."""
    U, L = lab.shape
    out = np.full((L, U, width + 1), _NEG)
    for label in range(L):
        items = np.flatnonzero(lab[:, label] & member_ok)
        part = _partner_tops(items, A, apart, width)
        for t in range(len(items)):
            out[label, items[t], :] = part[t]
    return out


#: Share of a solve's limit the Lagrangian bound is planned for (mentor-led cohorts), and
#: the most seconds planned (it runs before the search: the first answer waits for it).
BOUND_SHARE, BOUND_CAP = 0.1, 3.0
#: The most seconds planned for the one bound over a count search's range (the bound the
#: answer is reported with; planned 3 s it ends 1553.6, 6 s 1539.6, 9 s 1537.1 on
#: benchmark (b), 850 mentees and 150 mentors over counts 170-283).
RANGE_CAP = 6.0
#: The clock stops a bound at this many times its planned seconds (a safety net: the work
#: count ends it first unless the machine is that much slower than planned; at 2 a busy
#: machine, load 2.4 on 2 cores, cut it and the bound changed between two runs).
SAFETY_FACTOR = 4.0
#: Mentor-led cohorts of at least this many people get the Lagrangian bound.
MIN_PEOPLE = 31
#: Pricing work (candidates selected and scanned, partner pairs, search nodes) per planned
#: second: this project's 2-core machine does 110-330 million, by the load of the other core.
WORK_PER_SECOND = 100_000_000
#: Partners are recomputed after a filter round that drops at least this share of them.
MIN_DROP = 0.3
#: Above this many candidates the pricing of an anchor uses the bound, not the search.
EXACT_CANDIDATES = 16
#: Subgradient settings: Polyak target (a fraction of the best bound), the step's start,
#: its decay after ``PATIENCE`` iterations without a better bound.
TARGET, DECAY, PATIENCE = 0.8, 0.7, 5
#: Iterations at most, and the step below which the multipliers have settled.
MAX_ITERATIONS, MIN_STEP = 1000, 1e-4


@dataclass(frozen=True)
class _Pricing:
    """The arrays the pricing kernel reads (see the module docstring)."""

    anchors: IntArray  # one anchor per distinct subproblem
    mult: IntArray  # anchors with that same subproblem (a mentor's places)
    kmin: IntArray  # other units in an anchor's circle, at least / at most
    kmax: IntArray
    affinity: FloatArray
    intra: FloatArray
    apart: BoolArray
    label: BoolArray  # labels of the shared rule the circles are split by
    member: BoolArray  # units that can be a circle's non-anchor member
    rank: IntArray  # a member's rank must exceed its anchor's
    cls: IntArray  # class of the partition count rule (-1: none)
    cap: IntArray  # members per class at most
    dual: BoolArray  # units whose covering row is relaxed (pi)
    tops: FloatArray  # best partners per label (kernel _label_tops)


def _pricing(p: CircleProblem, units: Units) -> _Pricing | None:
    """The pricing arrays, or None where the relaxation does not apply."""
    U = units.size
    lo, hi = int(p.min_size.min()), int(p.max_size.max())
    if p.objective != "total" or U < 2 or lo < 1 or hi < 2:
        return None
    if p.mentor_led:
        lead = units.count[:, units.is_lead_count]
        anchor = lead.sum(axis=1) == 1
        member = lead.sum(axis=1) == 0
        rank = np.where(anchor, 0, 1).astype(np.int64)
        dual = member.copy()
    elif units.is_place.any():
        return None
    else:
        anchor = member = dual = np.ones(U, dtype=bool)
        rank = np.arange(U, dtype=np.int64)
    label = units.has_label[:, units.label_rule == 0].astype(bool)
    if label.shape[1] == 0:
        label = np.ones((U, 1), dtype=bool)
    cls, cap = _partition_rule(units)
    reps: dict[tuple[int, ...], list[int]] = {}
    for a in np.flatnonzero(anchor).tolist():
        # a mentor's places are one subproblem (the same person)
        key = tuple(units.members[a]) if units.is_place[a] else (-1 - a,)
        reps.setdefault(key, []).append(a)
    anchors = np.array([v[0] for v in reps.values()], dtype=np.int64)
    w = units.weight
    w_max = int(w[member].max()) if member.any() else 1
    kmin = np.maximum(0, -(-(lo - w[anchors]) // w_max)).astype(np.int64)
    kmax = np.maximum(0, hi - w[anchors]).astype(np.int64)
    width = int(kmax.max(initial=0))
    if width == 0:
        return None
    apart = np.ascontiguousarray(units.apart)
    affinity = np.ascontiguousarray(units.affinity)
    label = np.ascontiguousarray(label)
    tops = _label_tops(label, member, affinity, apart, width - 1)
    return _Pricing(
        anchors=anchors,
        mult=np.array([len(v) for v in reps.values()], dtype=np.int64),
        kmin=kmin,
        kmax=kmax,
        affinity=affinity,
        intra=units.intra.astype(np.float64),
        apart=apart,
        label=label,
        member=member,
        rank=rank,
        cls=cls,
        cap=cap,
        dual=dual,
        tops=tops,
    )


def _partition_rule(units: Units) -> tuple[IntArray, IntArray]:
    """The count rule (caps) whose labels partition the units, tightest first.

    Returns each unit's class (-1: in none) and each class's cap; no classes when no count
    rule qualifies (members counted 0 or 1, at most one label per unit).
    """
    best: tuple[int, IntArray, IntArray] | None = None
    for r in sorted(set(units.count_rule.tolist()) - {-1}):
        cols = np.flatnonzero(units.count_rule == r)
        cnt = units.count[:, cols]
        if cnt.max(initial=0) > 1 or cnt.sum(axis=1).max(initial=0) > 1:
            continue
        cap = units.count_max[cols].astype(np.int64)
        if best is None or int(cap.min()) < best[0]:
            cls = np.where(cnt.sum(axis=1) > 0, cnt.argmax(axis=1), -1).astype(np.int64)
            best = (int(cap.min()), cls, cap)
    if best is None:
        return np.full(units.size, -1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    return best[1], best[2]


def _evaluate_at(
    q: _Pricing, pi: FloatArray, floor: float
) -> tuple[FloatArray, IntArray, IntArray, int]:
    """Anchors' pricing bounds above ``floor`` (``_NEG`` below it), their sets, the work."""
    g, sets, sizes, work, _ = _evaluate(
        pi,
        floor,
        q.anchors,
        q.kmin,
        q.kmax,
        q.affinity,
        q.intra,
        q.apart,
        q.label,
        q.member,
        q.rank,
        q.cls,
        q.cap,
        q.tops,
        EXACT_CANDIDATES,
        MIN_DROP,
    )
    return g, sets, sizes, int(work)


def _value(
    q: _Pricing, counts: tuple[int, int], pi: FloatArray, g: FloatArray, floor: float
) -> tuple[float, float]:
    """The Lagrangian bound at ``pi`` with its best ``mu >= floor``: (bound, mu).

    ``counts`` (lowest, highest): the bound holds for every circle count between them, its
    count term ``m * mu`` taken at the count that makes it largest.
    """
    lo, hi = counts
    ranked = np.sort(np.repeat(g, q.mult))[::-1]
    base = float(pi[q.dual].sum())
    if lo == hi:  # one count: mu is the m-th largest anchor value
        mu = max(floor, float(ranked[lo - 1])) if len(ranked) >= lo else floor
        return base + lo * mu + float((q.mult * np.maximum(0.0, g - mu)).sum()), mu
    # convex and piecewise linear in mu: its least value is at a breakpoint
    mus = np.unique(np.concatenate([[floor, max(0.0, floor)], ranked[ranked > floor]]))
    spare = (q.mult[None, :] * np.maximum(0.0, g[None, :] - mus[:, None])).sum(axis=1)
    values = np.where(mus >= 0.0, hi, lo) * mus + spare
    j = int(np.argmin(values))
    return base + float(values[j]), float(mus[j])


def lagrangian_bound(
    p: CircleProblem,
    units: Units,
    seconds: float,
    plan: TimePlan | None = None,
    *,
    counts: tuple[int, int] | None = None,
) -> float | None:
    """An upper bound on the total of every solution (see the module docstring).

    Planned for ``seconds`` (:data:`WORK_PER_SECOND` of pricing work each), so the same
    problem and seconds give the same bound; the clock stops it at four times ``seconds``
    (and at half of ``plan``'s limit) as a safety net, so only a machine four times slower
    than planned (:data:`WORK_PER_SECOND`) gets another bound. ``counts`` (lowest, highest; default
    ``p.n_circles`` alone): the bound holds for every circle count between them with
    ``p``'s smallest and largest sizes, so one call bounds a count search. None where it
    does not apply (another objective, circles of one, empty circles allowed, optional
    units without mentors).
    """
    if seconds <= 0:
        return None
    start = time.perf_counter()
    q = _pricing(p, units)
    if q is None:
        return None
    stop = start + SAFETY_FACTOR * seconds
    if plan is not None:
        stop = min(stop, plan.start + 0.5 * plan.limit)
    span = (p.n_circles, p.n_circles) if counts is None else (int(counts[0]), int(counts[1]))
    if span[0] < 1 or span[1] < span[0]:
        return None
    found = _descend(q, span, np.where(q.dual, _start(q), 0.0), WORK_PER_SECOND * seconds, stop)
    return None if found is None else found[0]


def _descend(
    q: _Pricing,
    span: tuple[int, int],
    pi: FloatArray,
    budget: float,
    stop: float,
    step: float = 1.0,
) -> tuple[float, FloatArray] | None:
    """Subgradient steps from ``pi``: (the least bound seen, its multipliers), or None.

    Stops when ``budget`` work is spent, the step has settled or the clock passes ``stop``.
    """
    floor = _NEG
    best, best_pi = np.inf, pi
    stall, work = 0, 0
    for _ in range(MAX_ITERATIONS):
        g, sets, sizes, spent = _evaluate_at(q, pi, floor)
        work += spent
        value, mu = _value(q, span, pi, g, floor)
        if mu <= 0.5 * _NEG:
            return None  # fewer anchors with a circle than circles: nothing to bound
        if not np.isfinite(best) or value < best - 1e-9 * (1.0 + abs(best)):
            best, best_pi, stall = value, pi, 0
        else:
            stall += 1
            if stall >= PATIENCE:
                step, stall = step * DECAY, 0
        if work >= budget or step < MIN_STEP or time.perf_counter() >= stop:
            break
        s = _subgradient(q, g, mu, sets, sizes)
        norm = float((s * s).sum())
        if norm == 0.0:
            break  # every unit covered once by the anchors' best sets
        pi = pi - step * (value - TARGET * best) / norm * s
        floor = mu - 0.1 * (abs(mu) + float(np.abs(pi[q.dual]).mean()) + 1e-9)
    if not np.isfinite(best):
        return None
    # a hair above, against rounding in the sums
    return best + 1e-9 * (1.0 + abs(best)), best_pi


def _start(q: _Pricing) -> FloatArray:
    """The first multipliers: each unit's best partners in a full circle."""
    width = int(q.kmax.max()) - 1
    if width <= 0:
        return np.zeros(len(q.dual))
    D = np.where(q.apart | ~q.member[None, :], -np.inf, q.affinity)
    np.fill_diagonal(D, -np.inf)
    top = -np.sort(-D, axis=1)[:, :width]
    out: FloatArray = np.where(np.isfinite(top), top, 0.0).sum(axis=1) + q.intra
    return out


def _subgradient(
    q: _Pricing, g: FloatArray, mu: float, sets: IntArray, sizes: IntArray
) -> FloatArray:
    """1 minus each relaxed unit's coverage by the best sets of the anchors above ``mu``."""
    cover = np.zeros(len(q.dual))
    for r in np.flatnonzero(g > mu).tolist():
        np.add.at(cover, sets[r, : sizes[r]], q.mult[r])
    return np.where(q.dual, 1.0 - cover, 0.0)


def best_bound(p: CircleProblem, units: Units, limit: float, plan: TimePlan) -> float:
    """The per-person bound, or the Lagrangian one where it is lower.

    The Lagrangian bound runs for mentor-led cohorts of at least :data:`MIN_PEOPLE`
    (smaller ones are proven by columns or CP-SAT), total objective, planned for
    :data:`BOUND_SHARE` of ``limit`` (at most :data:`BOUND_CAP` seconds; loading its
    kernels, once per process, a fraction of a second more); that time comes out of the
    solve's limit (the searches after it stop on the same clock). While the kernels are
    still compiling (the first use after installing) the per-person bound stands;
    ``compile_kernels`` before the clock avoids that.
    """
    bound = simple_bound(p, units)
    if not p.mentor_led or p.objective != "total" or p.n < MIN_PEOPLE:
        return bound
    seconds = min(BOUND_SHARE * limit, BOUND_CAP)
    if not _ready(seconds):  # still compiling (first use after installing): not this time
        return bound
    # planned on the seconds alone, not on the loading time, so the bound is reproducible
    lagrange = lagrangian_bound(p, units, seconds, plan)
    return bound if lagrange is None else min(bound, lagrange)


def count_range_bound(
    p: CircleProblem, units: Units, counts: tuple[int, int], limit: float, plan: TimePlan
) -> float | None:
    """One Lagrangian bound for every count in ``counts`` (a count search), or None.

    Where :func:`best_bound` applies (mentor-led, total, at least :data:`MIN_PEOPLE`),
    planned for :data:`BOUND_SHARE` of ``limit``, at most :data:`RANGE_CAP` seconds (it
    runs once per count search, and its value is the answer's bound); None elsewhere, or
    while the kernels are compiling. ``plan`` is the caller's (the clock net is the bound's
    own: twice its seconds).
    """
    if not p.mentor_led or p.objective != "total" or p.n < MIN_PEOPLE:
        return None
    seconds = min(BOUND_SHARE * limit, RANGE_CAP)
    if not _ready(seconds):
        return None
    # its own clock net (twice its seconds): the count screening may have used half the
    # limit already, and the final run after it keeps to the caller's limit
    return lagrangian_bound(p, units, seconds, None, counts=counts)


_loaded: list[float] = []
_loader: list[threading.Thread] = []


def _ready(wait: float) -> bool:
    """Whether the kernels are loaded, waiting at most ``wait`` seconds for them.

    They load in a daemon thread (from the disk cache in a fraction of a second; compiling
    them on first use after installing takes about 10 s, which no solve's limit should pay:
    that solve keeps the per-person bound, the next ones have the kernels).
    """
    if _loaded:
        return True
    if not _loader:
        _loader.append(threading.Thread(target=compile_kernels, name="pairwise-lagrange"))
        _loader[0].daemon = True
        _loader[0].start()
    _loader[0].join(max(wait, 0.0))
    return bool(_loaded)


def _wait_for_loader() -> None:
    """Let a loading thread finish before a fork (a child never inherits numba's lock)."""
    for thread in _loader:
        if thread.is_alive() and thread is not threading.current_thread():
            thread.join()


os.register_at_fork(before=_wait_for_loader)


def compile_kernels() -> float:
    """Load this module's compiled kernels (compiling them on first use); seconds taken.

    Numba caches the machine code on disk: compiling happens once per installation (about
    10 s), loading once per process (a fraction of a second).
    """
    if _loaded:
        return 0.0
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    a = rng.random((8, 8))
    lead = np.zeros(8, dtype=np.int64)
    lead[:2] = 1
    _evaluate(
        np.zeros(8),
        _NEG,
        np.arange(2, dtype=np.int64),
        np.full(2, 2, np.int64),
        np.full(2, 3, np.int64),
        a + a.T,
        np.zeros(8),
        np.zeros((8, 8), dtype=np.bool_),
        np.ones((8, 1), dtype=np.bool_),
        lead == 0,
        lead ^ 1,
        np.full(8, -1, np.int64),
        np.zeros(1, np.int64),
        _label_tops(
            np.ones((8, 1), dtype=np.bool_), lead == 0, a + a.T, np.zeros((8, 8), dtype=np.bool_), 2
        ),
        EXACT_CANDIDATES,
        MIN_DROP,
    )
    _loaded.append(time.perf_counter() - t0)
    return _loaded[0]
