"""Compiled deferred acceptance for :func:`pairwise.stability.deferred_acceptance` (numba)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["propose"]


@njit(cache=True)
def propose(prefs, count, rank, quota, room):
    """Deferred acceptance over padded preference rows; the held (proposer, receiver) pairs.

    ``prefs[p, :count[p]]``: proposer ``p``'s receivers, best first; ``rank[q, p]``:
    receiver ``q``'s rank of ``p`` (lower is better); ``quota[p]`` proposals held at once,
    ``room[q]`` places. Receiver ``q``'s held proposers are a max-heap (by rank) in
    ``heap[start[q] : start[q] + size[q]]``.
    """
    n_p = prefs.shape[0]
    n_q = rank.shape[0]
    start = np.zeros(n_q + 1, np.int64)
    for q in range(n_q):
        start[q + 1] = start[q] + room[q]
    heap = np.empty(start[n_q], np.int64)
    size = np.zeros(n_q, np.int64)
    nxt = np.zeros(n_p, np.int64)
    free = np.empty(quota.sum(), np.int64)
    top = 0
    for p in range(n_p - 1, -1, -1):  # the first proposer first, as before
        for _ in range(quota[p]):
            free[top] = p
            top += 1
    while top > 0:
        top -= 1
        p = free[top]
        while p >= 0 and nxt[p] < count[p]:
            q = prefs[p, nxt[p]]
            nxt[p] += 1
            if room[q] == 0:
                continue
            base = start[q]
            r = rank[q, p]
            if size[q] < room[q]:  # room: hold p (sift up)
                k = size[q]
                size[q] += 1
                while k > 0:
                    parent = (k - 1) // 2
                    if rank[q, heap[base + parent]] >= r:
                        break
                    heap[base + k] = heap[base + parent]
                    k = parent
                heap[base + k] = p
                p = -1
            elif r < rank[q, heap[base]]:  # full, p beats the worst held: swap, sift down
                out = heap[base]
                k = 0
                s = size[q]
                while True:
                    c = 2 * k + 1
                    if c >= s:
                        break
                    if c + 1 < s and rank[q, heap[base + c + 1]] > rank[q, heap[base + c]]:
                        c += 1
                    if rank[q, heap[base + c]] <= r:
                        break
                    heap[base + k] = heap[base + c]
                    k = c
                heap[base + k] = p
                p = out  # the one let go proposes on
    total = size.sum()
    held_p = np.empty(total, np.int64)
    held_q = np.empty(total, np.int64)
    t = 0
    for q in range(n_q):
        for k in range(size[q]):
            held_p[t] = heap[start[q] + k]
            held_q[t] = q
            t += 1
    return held_p, held_q
