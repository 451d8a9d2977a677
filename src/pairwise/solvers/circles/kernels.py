# ruff: noqa: NPY002
"""Compiled local search for circle problems (numba).

The search works on *units*: a person, a keep-together group contracted into one, or one
leading place of a mentor (a mentor who may lead ``L`` circles has ``L`` places; places she
does not use wait on a *bench*, circle index ``m``). Every rule is a per-circle quantity
kept up to date incrementally:

- sizes (sum of unit weights) within ``lo[g]..hi[g]``;
- keep-apart: ``apc[u, g]``, how many units in circle ``g`` must stay apart from ``u``;
- shared labels (language, slot): ``bitcnt[g, b]``, members of ``g`` having label ``b``; a
  circle is fine when, for every shared rule, some label is held by all its units;
- counts (chapter caps, balance, one leader): ``catcnt[g, c]`` within ``clo[c]..chi[c]``,
  a floor that may also be met by 0 when ``corn[c]`` ("2 or none").

``C[u, g]`` is the affinity of unit ``u`` to the units of circle ``g``, so a move or swap is
scored in O(1) and checked in O(labels + categories of the units involved).

The improvement method is an iterated tabu search over the move and swap neighbourhoods
(in the spirit of Gallego et al. 2013 and Lai & Hao 2016, "iterated maxima search"): best
admissible move each iteration, tabu on returning a unit to the circle it left, aspiration
on a new best, and a random perturbation of the best solution after a stall. Work is
counted in neighbour evaluations, so a run with the same seed and the same work budget is
reproducible whatever the machine's speed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_NEG = -1.0e300


@njit(cache=True)
def init_state(g_of, D, intra, w, m, ap_ptr, ap_idx, ub, uc):
    """Per-circle aggregates for the assignment ``g_of`` (``m`` = bench)."""
    U = D.shape[0]
    TB = ub.shape[1]
    TC = uc.shape[1]
    C = np.zeros((U, m + 1))
    size = np.zeros(m + 1, np.int64)
    nun = np.zeros(m + 1, np.int64)
    bitcnt = np.zeros((m + 1, TB), np.int64)
    catcnt = np.zeros((m + 1, TC), np.int64)
    apc = np.zeros((U, m + 1), np.int64)
    cs = np.zeros(m + 1)
    for u in range(U):
        g = g_of[u]
        size[g] += w[u]
        nun[g] += 1
        for b in range(TB):
            bitcnt[g, b] += ub[u, b]
        for c in range(TC):
            catcnt[g, c] += uc[u, c]
        for k in range(ap_ptr[u], ap_ptr[u + 1]):
            apc[ap_idx[k], g] += 1
        cs[g] += intra[u]
    for u in range(U):
        for v in range(U):
            if v != u:
                C[u, g_of[v]] += D[u, v]
    for u in range(U):
        cs[g_of[u]] += 0.5 * C[u, g_of[u]]
    return C, size, nun, bitcnt, catcnt, apc, cs


@njit(cache=True)
def can_add(u, b, skip, m, lower, A):
    """Whether unit ``u`` may join circle ``b`` while unit ``skip`` (or -1) leaves it.

    ``A`` = ``(g_of, w, opt, hi, apart, apc, ub, ubp, ubi, bit_rule, n_rules, bitcnt, nun,
    size, uc, ucp, uci, clo, chi, corn, catcnt)``.
    """
    (
        _g_of,
        w,
        opt,
        hi,
        apart,
        apc,
        ub,
        ubp,
        ubi,
        bit_rule,
        n_rules,
        bitcnt,
        nun,
        size,
        uc,
        ucp,
        uci,
        clo,
        chi,
        corn,
        catcnt,
    ) = A
    if b == m:
        return opt[u]
    sz = size[b] + w[u]
    if skip >= 0:
        sz -= w[skip]
    if sz > hi[b]:
        return False
    c = apc[u, b]
    if skip >= 0 and apart[u, skip]:
        c -= 1
    if c > 0:
        return False
    others = nun[b] - (1 if skip >= 0 else 0)
    if others > 0 and n_rules > 0:
        for r in range(n_rules):
            ok = False
            for k in range(ubp[u], ubp[u + 1]):
                bit = ubi[k]
                if bit_rule[bit] != r:
                    continue
                have = bitcnt[b, bit]
                if skip >= 0:
                    have -= ub[skip, bit]
                if have == others:
                    ok = True
                    break
            if not ok:
                return False
    for k in range(ucp[u], ucp[u + 1]):
        cat = uci[k]
        n = catcnt[b, cat] + uc[u, cat]
        if skip >= 0:
            n -= uc[skip, cat]
        if n > chi[cat]:
            return False
        if lower and n < clo[cat] and not (corn[cat] and n == 0):
            return False
    return True


@njit(cache=True)
def can_remove(u, a, add, m, R):
    """Whether circle ``a`` keeps its floors when ``u`` leaves and ``add`` (or -1) joins.

    ``R`` = ``(w, lo, size, uc, ucp, uci, clo, corn, catcnt)``.
    """
    w, lo, size, uc, ucp, uci, clo, corn, catcnt = R
    if a == m:
        return True
    sz = size[a] - w[u]
    if add >= 0:
        sz += w[add]
    if sz < lo[a]:
        return False
    for k in range(ucp[u], ucp[u + 1]):
        cat = uci[k]
        n = catcnt[a, cat] - uc[u, cat]
        if add >= 0:
            n += uc[add, cat]
        if n < clo[cat] and not (corn[cat] and n == 0):
            return False
    return True


@njit(cache=True)
def apply_move(u, b, M):
    """Move unit ``u`` to circle ``b``, updating every aggregate.

    ``M`` = ``(g_of, D, intra, w, m, ap_ptr, ap_idx, ub, ubp, ubi, uc, ucp, uci, C, size, nun,
    bitcnt, catcnt, apc, cs)``.
    """
    (
        g_of,
        D,
        intra,
        w,
        _m,
        ap_ptr,
        ap_idx,
        _ub,
        ubp,
        ubi,
        uc,
        ucp,
        uci,
        C,
        size,
        nun,
        bitcnt,
        catcnt,
        apc,
        cs,
    ) = M
    a = g_of[u]
    if a == b:
        return
    cs[a] -= C[u, a] + intra[u]
    cs[b] += C[u, b] + intra[u]
    U = D.shape[0]
    for v in range(U):
        d = D[v, u]
        C[v, a] -= d
        C[v, b] += d
    size[a] -= w[u]
    size[b] += w[u]
    nun[a] -= 1
    nun[b] += 1
    for k in range(ubp[u], ubp[u + 1]):
        bitcnt[a, ubi[k]] -= 1
        bitcnt[b, ubi[k]] += 1
    for k in range(ucp[u], ucp[u + 1]):
        cat = uci[k]
        catcnt[a, cat] -= uc[u, cat]
        catcnt[b, cat] += uc[u, cat]
    for k in range(ap_ptr[u], ap_ptr[u + 1]):
        v = ap_idx[k]
        apc[v, a] -= 1
        apc[v, b] += 1
    g_of[u] = b


@njit(cache=True)
def _violation_circle(g, m, lo, size, catcnt, clo, corn):
    if g == m:
        return 0
    v = 0
    if size[g] < lo[g]:
        v += lo[g] - size[g]
    for c in range(catcnt.shape[1]):
        n = catcnt[g, c]
        if n < clo[c] and not (corn[c] and n == 0):
            v += clo[c] - n
    return v


@njit(cache=True)
def construct(
    g_of,
    order,
    D,
    intra,
    w,
    opt,
    m,
    lo,
    hi,
    apart,
    ap_ptr,
    ap_idx,
    ub,
    ubp,
    ubi,
    bit_rule,
    n_rules,
    uc,
    ucp,
    uci,
    clo,
    chi,
    corn,
    seed,
    budget,
    flex,
    target,
):
    """Greedy placement from the bench, then a violation-driven repair.

    Circles are filled one by one up to their planned size ``target``, each time with the
    least flexible unit that still fits (``flex``: fewest shared labels, fewest partners),
    so that people with rare slots or languages are grouped before the common ones run out.

    Returns the remaining violation (0 = every rule holds) and the work done.
    """
    np.random.seed(seed)
    U = D.shape[0]
    C, size, nun, bitcnt, catcnt, apc, cs = init_state(g_of, D, intra, w, m, ap_ptr, ap_idx, ub, uc)
    A = (
        g_of,
        w,
        opt,
        hi,
        apart,
        apc,
        ub,
        ubp,
        ubi,
        bit_rule,
        n_rules,
        bitcnt,
        nun,
        size,
        uc,
        ucp,
        uci,
        clo,
        chi,
        corn,
        catcnt,
    )
    M = (
        g_of,
        D,
        intra,
        w,
        m,
        ap_ptr,
        ap_idx,
        ub,
        ubp,
        ubi,
        uc,
        ucp,
        uci,
        C,
        size,
        nun,
        bitcnt,
        catcnt,
        apc,
        cs,
    )
    TC = uc.shape[1]
    work = 0
    # 1. floors that every circle needs (one leader, "at least k" balance): fill them first
    for g in range(m):
        for c in range(TC):
            if clo[c] == 0 or corn[c]:
                continue
            for u in order:
                if catcnt[g, c] >= clo[c]:
                    break
                if g_of[u] != m or uc[u, c] == 0:
                    continue
                if can_add(u, g, -1, m, False, A):
                    apply_move(u, g, M)
    # 2. circle by circle up to the planned size, least flexible units first
    for g in range(m):
        while size[g] < target[g]:
            pick, pick_key = -1, _NEG
            for u in range(U):
                if g_of[u] != m or opt[u] or size[g] + w[u] > target[g]:
                    continue
                work += 1
                if not can_add(u, g, -1, m, False, A):
                    continue
                key = -1.0e6 * flex[u] + C[u, g] + 1e-9 * np.random.random()
                if key > pick_key:
                    pick, pick_key = u, key
            if pick < 0:
                break
            apply_move(pick, g, M)
    # 3. anyone left: the emptiest allowed circle, best affinity on ties
    for u in order:
        if g_of[u] != m or opt[u]:
            continue
        best, best_key = -1, _NEG
        for g in range(m):
            work += 1
            if not can_add(u, g, -1, m, False, A):
                continue
            key = -1.0e6 * (size[g] / lo[g]) + C[u, g] + 1e-9 * np.random.random()
            if key > best_key:
                best, best_key = g, key
        if best >= 0:
            apply_move(u, best, M)
    # 4. repair: moves and swaps that keep every ceiling and lower the total shortfall
    viol = np.zeros(m + 1, np.int64)
    total = 0
    for g in range(m):
        viol[g] = _violation_circle(g, m, lo, size, catcnt, clo, corn)
        total += viol[g]
    for u in range(U):
        if g_of[u] == m and not opt[u]:
            total += 1000 * w[u]
    tabu = np.zeros((U, m + 1), np.int64)
    it = 0
    while total > 0 and work < budget:
        it += 1
        best_u, best_v, best_b, best_d = -1, -1, -1, 1 << 60
        for u in range(U):
            a = g_of[u]
            stuck = a == m and not opt[u]
            for b in range(m + 1):
                if b == a or (viol[a] == 0 and viol[b] == 0 and not stuck):
                    continue
                if tabu[u, b] > it:
                    continue
                work += 1
                if not can_add(u, b, -1, m, False, A):
                    continue
                apply_move(u, b, M)
                d = (
                    _violation_circle(a, m, lo, size, catcnt, clo, corn)
                    + _violation_circle(b, m, lo, size, catcnt, clo, corn)
                    - viol[a]
                    - viol[b]
                )
                if stuck:
                    d -= 1000 * w[u]
                if b == m and not opt[u]:
                    d += 1000 * w[u]
                apply_move(u, a, M)
                if d < best_d or (d == best_d and np.random.random() < 0.3):
                    best_u, best_v, best_b, best_d = u, -1, b, d
            for v in range(u + 1, U):
                b = g_of[v]
                if b == a or (viol[a] == 0 and viol[b] == 0 and not stuck):
                    continue
                if tabu[u, b] > it or tabu[v, a] > it:
                    continue
                work += 1
                if not (can_add(u, b, v, m, False, A) and can_add(v, a, u, m, False, A)):
                    continue
                if (a == m and not opt[u]) or (b == m and not opt[v]):
                    continue
                apply_move(u, b, M)
                apply_move(v, a, M)
                d = (
                    _violation_circle(a, m, lo, size, catcnt, clo, corn)
                    + _violation_circle(b, m, lo, size, catcnt, clo, corn)
                    - viol[a]
                    - viol[b]
                )
                apply_move(u, a, M)
                apply_move(v, b, M)
                if d < best_d or (d == best_d and np.random.random() < 0.3):
                    best_u, best_v, best_b, best_d = u, v, b, d
        if best_u < 0:
            break
        a = g_of[best_u]
        tabu[best_u, a] = it + 3 + np.random.randint(0, 8)
        apply_move(best_u, best_b, M)
        if best_v >= 0:
            tabu[best_v, best_b] = it + 3 + np.random.randint(0, 8)
            apply_move(best_v, a, M)
        total = 0
        for g in range(m):
            viol[g] = _violation_circle(g, m, lo, size, catcnt, clo, corn)
            total += viol[g]
        for u in range(U):
            if g_of[u] == m and not opt[u]:
                total += 1000 * w[u]
    return total, work


@njit(cache=True)
def _objective(cs, m, mode):
    tot = 0.0
    low = 1.0e300
    for g in range(m):
        tot += cs[g]
        if cs[g] < low:
            low = cs[g]
    if mode == 1:
        return low, tot
    return 0.0, tot


# the fixed cost of one tabu iteration in candidate evaluations (measured: about 3 us, or
# some 250 evaluations); counted so that small cohorts do not outrun the budget's clock
_ITERATION_WORK = 256


@njit(cache=True)
def _other_worst(cs, w1, w2, w3, a, b):
    """The worst score among circles other than ``a`` and ``b`` (w1-w3: the three worst)."""
    if w1 >= 0 and w1 != a and w1 != b:
        return cs[w1]
    if w2 >= 0 and w2 != a and w2 != b:
        return cs[w2]
    if w3 >= 0 and w3 != a and w3 != b:
        return cs[w3]
    return 1.0e300


@njit(cache=True, nogil=True)
def search(
    g_of,
    best_g,
    D,
    intra,
    w,
    opt,
    m,
    lo,
    hi,
    apart,
    ap_ptr,
    ap_idx,
    ub,
    ubp,
    ubi,
    bit_rule,
    n_rules,
    uc,
    ucp,
    uci,
    clo,
    chi,
    corn,
    mode,
    tabu,
    ctr,
    fbest,
    budget,
    sample,
):
    """Iterated tabu search from the feasible ``g_of``, for ``budget`` neighbour evaluations.

    ``ctr`` = [iteration, last improvement, random state seed, stall limit, evaluations,
    tabu tenure range per mille of units, perturbation strength range per mille of units];
    ``fbest`` = [best key 1 (worst circle, maxmin only), best total]. Resumable: call again
    with the same arrays to go on. Each iteration scans the moves and swaps of ``sample``
    units (all when ``sample >= U``; a rotating random window otherwise: a candidate list
    that keeps iterations cheap on large cohorts).
    """
    np.random.seed(ctr[2])
    U = D.shape[0]
    C, size, nun, bitcnt, catcnt, apc, cs = init_state(g_of, D, intra, w, m, ap_ptr, ap_idx, ub, uc)
    A = (
        g_of,
        w,
        opt,
        hi,
        apart,
        apc,
        ub,
        ubp,
        ubi,
        bit_rule,
        n_rules,
        bitcnt,
        nun,
        size,
        uc,
        ucp,
        uci,
        clo,
        chi,
        corn,
        catcnt,
    )
    R = (w, lo, size, uc, ucp, uci, clo, corn, catcnt)
    M = (
        g_of,
        D,
        intra,
        w,
        m,
        ap_ptr,
        ap_idx,
        ub,
        ubp,
        ubi,
        uc,
        ucp,
        uci,
        C,
        size,
        nun,
        bitcnt,
        catcnt,
        apc,
        cs,
    )
    it = ctr[0]
    last = ctr[1]
    stall = ctr[3]
    work = 0
    eps = 1e-9 * (1.0 + abs(fbest[1]))
    full = sample >= U
    perm = np.random.permutation(U)
    pos = 0
    while work < budget:
        it += 1
        k1, k0 = _objective(cs, m, mode)
        # the three worst circles, to score the worst circle after a move in O(1)
        w1, w2, w3 = -1, -1, -1
        if mode == 1:
            for g in range(m):
                if w1 < 0 or cs[g] < cs[w1]:
                    w3, w2, w1 = w2, w1, g
                elif w2 < 0 or cs[g] < cs[w2]:
                    w3, w2 = w2, g
                elif w3 < 0 or cs[g] < cs[w3]:
                    w3 = g
        best_u, best_v, best_b = -1, -1, -1
        best1, best0 = _NEG, _NEG
        n_best = 0
        for t in range(U if full else sample):
            if full:
                u = t
            else:
                u = perm[pos]
                pos += 1
                if pos == U:
                    pos = 0
                    perm = np.random.permutation(U)
            a = g_of[u]
            in_a = C[u, a] if a < m else 0.0
            # moves
            for b in range(m + 1):
                work += 1  # every candidate counts, so the budget tracks time on any size
                if b == a:
                    continue
                if b == m and not opt[u]:
                    continue
                if b < m and size[b] + w[u] > hi[b]:
                    continue
                if a < m and size[a] - w[u] < lo[a]:
                    continue
                in_b = C[u, b] if b < m else 0.0
                d = in_b - in_a + intra[u] * (int(b < m) - int(a < m))
                n1 = 0.0
                if mode == 1:
                    na = cs[a] - in_a - intra[u] if a < m else 1.0e300
                    nb = cs[b] + in_b + intra[u] if b < m else 1.0e300
                    o = _other_worst(cs, w1, w2, w3, a, b)
                    n1 = min(o, na, nb)
                aspire = (n1 > fbest[0] + eps) or (n1 >= fbest[0] - eps and k0 + d > fbest[1] + eps)
                if tabu[u, b] > it and not aspire:
                    continue
                if n1 < best1 - eps or (n1 <= best1 + eps and d < best0 - eps):
                    continue
                tie = n1 <= best1 + eps and d <= best0 + eps
                if not (can_add(u, b, -1, m, True, A) and can_remove(u, a, -1, m, R)):
                    continue
                if tie:
                    n_best += 1
                    if np.random.randint(0, n_best) != 0:
                        continue
                else:
                    n_best = 1
                best_u, best_v, best_b, best1, best0 = u, -1, b, n1, d
            # swaps
            for v in range(u + 1 if full else 0, U):
                work += 1
                b = g_of[v]
                if b == a:
                    continue
                if (a == m and not opt[v]) or (b == m and not opt[u]):
                    continue
                duv = D[u, v]
                in_b = C[u, b] - duv if b < m else 0.0
                out_b = C[v, b] if b < m else 0.0
                in_va = C[v, a] - duv if a < m else 0.0
                du = in_b - in_a + intra[u] * (int(b < m) - int(a < m))
                dv = in_va - out_b + intra[v] * (int(a < m) - int(b < m))
                d = du + dv
                n1 = 0.0
                if mode == 1:
                    na = cs[a] - in_a - intra[u] + in_va + intra[v] if a < m else 1.0e300
                    nb = cs[b] - out_b - intra[v] + in_b + intra[u] if b < m else 1.0e300
                    o = _other_worst(cs, w1, w2, w3, a, b)
                    n1 = min(o, na, nb)
                aspire = (n1 > fbest[0] + eps) or (n1 >= fbest[0] - eps and k0 + d > fbest[1] + eps)
                if (tabu[u, b] > it or tabu[v, a] > it) and not aspire:
                    continue
                if n1 < best1 - eps or (n1 <= best1 + eps and d < best0 - eps):
                    continue
                tie = n1 <= best1 + eps and d <= best0 + eps
                if not (
                    can_add(u, b, v, m, True, A)
                    and can_add(v, a, u, m, True, A)
                    and can_remove(u, a, v, m, R)
                    and can_remove(v, b, u, m, R)
                ):
                    continue
                if tie:
                    n_best += 1
                    if np.random.randint(0, n_best) != 0:
                        continue
                else:
                    n_best = 1
                best_u, best_v, best_b, best1, best0 = u, v, b, n1, d
        # an iteration's fixed cost (choosing, applying, bookkeeping), in candidate units
        work += _ITERATION_WORK
        if best_u < 0:
            break  # no admissible neighbour at all (a rigid problem)
        a = g_of[best_u]
        tenure = 2 + np.random.randint(0, max(2, int(U * ctr[5] / 1000)))
        tabu[best_u, a] = it + tenure
        apply_move(best_u, best_b, M)
        if best_v >= 0:
            tabu[best_v, best_b] = it + tenure
            apply_move(best_v, a, M)
        k1, k0 = _objective(cs, m, mode)
        if k1 > fbest[0] + eps or (k1 >= fbest[0] - eps and k0 > fbest[1] + eps):
            fbest[0], fbest[1] = k1, k0
            eps = 1e-9 * (1.0 + abs(k0))
            best_g[:] = g_of
            last = it
        elif it - last > stall:
            # perturb: restart from the best with random feasible swaps
            for u in range(U):
                if g_of[u] != best_g[u]:
                    apply_move(u, best_g[u], M)
            strength = 2 + np.random.randint(0, max(2, int(U * ctr[6] / 1000)))
            tries = 0
            done = 0
            while done < strength and tries < 50 * strength:
                tries += 1
                u = np.random.randint(0, U)
                v = np.random.randint(0, U)
                a, b = g_of[u], g_of[v]
                if a == b or (a == m and not opt[v]) or (b == m and not opt[u]):
                    continue
                if (
                    can_add(u, b, v, m, True, A)
                    and can_add(v, a, u, m, True, A)
                    and can_remove(u, a, v, m, R)
                    and can_remove(v, b, u, m, R)
                ):
                    apply_move(u, b, M)
                    apply_move(v, a, M)
                    done += 1
            tabu[:, :] = 0
            it += U  # tabu entries from before the restart are void
            last = it
    ctr[0] = it
    ctr[1] = last
    ctr[2] = np.random.randint(0, 2**31 - 1)
    ctr[4] += work
    return work
