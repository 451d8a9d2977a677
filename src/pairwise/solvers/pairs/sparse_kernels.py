"""Compiled passes over the full score matrix for :mod:`.sparse` (numba).

Each function makes one pass over an ``(n, m)`` matrix in row order, so the memory traffic
is one read of the matrix; numpy would need several temporaries of the same size
(``argpartition`` on rows and, for the mentor side, on a transposed copy).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def max_abs(scores, free):
    """Largest ``|score|`` over the cells in question (0 if none), in one pass."""
    top = 0.0
    n, m = scores.shape
    for i in range(n):
        for j in range(m):
            if free[i, j]:
                v = abs(scores[i, j])
                if v > top:
                    top = v
    return top


@njit(cache=True)
def price_and_rank(scores, free, scale, out_value, kk, depth):
    """Integer prices of every cell and the candidates of both sides, in one pass.

    Parameters
    ----------
    scores : float64 (n, m)
    free : bool (n, m)
        Cells in question (allowed, not fixed).
    scale : float
        Integer units per unit of score.
    out_value : int
        Price of cells not in question.
    kk : int
        Best mentors kept per mentee.
    depth : int64 (m,)
        Best mentees kept per mentor.

    Returns
    -------
    priced : int64 (n, m)
    row_idx : int64 (n, kk)
        Each mentee's best free mentors, best first (ties: lower index first), -1 = none.
    col_idx : int64 (m, max(depth))
        Each mentor's best free mentees, best first, -1 = none.
    """
    n, m = scores.shape
    dmax = 0
    for j in range(m):
        dmax = max(dmax, depth[j])
    priced = np.empty((n, m), np.int64)
    row_idx = np.full((n, kk), -1, np.int64)
    row_val = np.full((n, kk), -np.inf)
    col_idx = np.full((m, max(dmax, 1)), -1, np.int64)
    col_val = np.full((m, max(dmax, 1)), -np.inf)
    for i in range(n):
        for j in range(m):
            if not free[i, j]:
                priced[i, j] = out_value
                continue
            v = scores[i, j]
            priced[i, j] = np.int64(np.rint(v * scale))
            if kk > 0 and v > row_val[i, kk - 1]:
                pos = kk - 1
                while pos > 0 and row_val[i, pos - 1] < v:
                    row_val[i, pos] = row_val[i, pos - 1]
                    row_idx[i, pos] = row_idx[i, pos - 1]
                    pos -= 1
                row_val[i, pos] = v
                row_idx[i, pos] = j
            d = depth[j]
            if d > 0 and v > col_val[j, d - 1]:
                pos = d - 1
                while pos > 0 and col_val[j, pos - 1] < v:
                    col_val[j, pos] = col_val[j, pos - 1]
                    col_idx[j, pos] = col_idx[j, pos - 1]
                    pos -= 1
                col_val[j, pos] = v
                col_idx[j, pos] = i
    return priced, row_idx, col_idx


@njit(cache=True)
def violations(priced, big, pi_mentee, pi_mentor, margin, per_row):
    """Count cells with a negative reduced cost, and pick the cells to add.

    Per row, the ``per_row`` most negative reduced costs among those below ``margin``, as
    flat codes ``i * m + j``.
    """
    n, m = priced.shape
    codes = np.empty(n * per_row, np.int64)
    count = 0
    strict = 0
    best_rc = np.empty(per_row, np.int64)
    best_j = np.empty(per_row, np.int64)
    for i in range(n):
        base = pi_mentee[i] - big
        kept = 0
        for j in range(m):
            rc = base - priced[i, j] - pi_mentor[j]
            if rc >= margin:
                continue
            if rc < 0:
                strict += 1
            if kept < per_row:
                pos = kept
                kept += 1
            elif rc < best_rc[per_row - 1]:
                pos = per_row - 1
            else:
                continue
            while pos > 0 and best_rc[pos - 1] > rc:
                best_rc[pos] = best_rc[pos - 1]
                best_j[pos] = best_j[pos - 1]
                pos -= 1
            best_rc[pos] = rc
            best_j[pos] = j
        for k in range(kept):
            codes[count] = i * m + best_j[k]
            count += 1
    return strict, codes[:count]


@njit(cache=True)
def potentials(tails, heads, weights, n_nodes):
    """Shortest distances from a virtual root joined to every node by 0-cost arcs.

    Queue-based Bellman-Ford (SPFA). Returns ``(d, ok)``; ``ok`` is False on a negative
    cycle (which an optimal residual graph cannot have).
    """
    order = np.argsort(tails, kind="mergesort")
    ptr = np.zeros(n_nodes + 1, np.int64)
    for t in tails:
        ptr[t + 1] += 1
    for v in range(n_nodes):
        ptr[v + 1] += ptr[v]
    d = np.zeros(n_nodes, np.int64)
    queue = np.empty(n_nodes + 1, np.int64)
    inq = np.ones(n_nodes, np.bool_)
    pushes = np.zeros(n_nodes, np.int64)
    head, size = 0, n_nodes
    for v in range(n_nodes):
        queue[v] = v
    cap = n_nodes + 1
    while size > 0:
        u = queue[head]
        head = (head + 1) % cap
        size -= 1
        inq[u] = False
        du = d[u]
        for k in range(ptr[u], ptr[u + 1]):
            e = order[k]
            v = heads[e]
            nd = du + weights[e]
            if nd < d[v]:
                d[v] = nd
                if not inq[v]:
                    pushes[v] += 1
                    if pushes[v] > n_nodes:
                        return d, False
                    inq[v] = True
                    queue[(head + size) % cap] = v
                    size += 1
    return d, True
