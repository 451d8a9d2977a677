"""Circle count left free against the same solve at each fixed count (issue 12, part 1).

For cohorts of 20, 60, 240 and 1,000 people in circles of 4-6, with random affinities
(uniform in [0, 1], symmetric) and with a synthetic cohort's affinity
(``pairwise.affinity(make_peers(n))``), this solves ``CircleProblem.from_affinity(a,
min_size=4, max_size=6)`` with the count free, and the same problem with ``n_circles=k``
for every feasible ``k`` (``--spread K``: K counts spread over the range, both ends and
the free solve's choice included), all at the same time limit, seed 0, default workers.
It prints one row per cohort: the free answer, the count it chose, the best fixed count
and its answer, the constructor's count and its answer, and the ratio free / best fixed.

Usage::

    .venv/bin/python benchmarks/bench_circle_count.py            # about 15 minutes
    .venv/bin/python benchmarks/bench_circle_count.py --quick    # 20 and 60 people, 1 s
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import pairwise
from pairwise import CircleProblem


def _random(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.random((n, n))
    a = (a + a.T) / 2
    np.fill_diagonal(a, 0.0)
    return a


def _cohort(n: int, seed: int) -> np.ndarray:
    return np.array(pairwise.affinity(pairwise.make_peers(n, seed=seed)).matrix, dtype=float)


def _row(kind: str, a: np.ndarray, limit: float, spread: int | None) -> dict[str, object]:
    n = len(a)
    free = CircleProblem.from_affinity(a, min_size=4, max_size=6)
    t0 = time.perf_counter()
    c = pairwise.solve(free, time_limit=limit)
    seconds = time.perf_counter() - t0
    assert pairwise.check(free, c) == []
    counts = [k for k in range(1, n + 1) if 4 * k <= n <= 6 * k]
    if spread is not None and len(counts) > spread:
        step = (len(counts) - 1) / (spread - 1)
        picked = {counts[round(t * step)] for t in range(spread)}
        counts = sorted(picked | {c.problem.n_circles, free.n_circles})
    fixed = {}
    for k in counts:
        p = CircleProblem.from_affinity(a, n_circles=k, min_size=4, max_size=6)
        fixed[k] = pairwise.solve(p, time_limit=limit).objective
    best = max(fixed, key=lambda k: (fixed[k], -k))
    return {
        "cohort": f"{kind} n={n}",
        "limit": limit,
        "free": c.objective,
        "free_count": c.problem.n_circles,
        "free_seconds": seconds,
        "best_fixed_count": best,
        "best_fixed": fixed[best],
        "at_free_count": fixed[c.problem.n_circles],
        "constructor_count": free.n_circles,
        "at_constructor_count": fixed[free.n_circles],
        "counts_tried": len(fixed),
        "free/best": c.objective / fixed[best],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 and 60 people, 1 s")
    parser.add_argument("--spread", type=int, default=9, help="fixed counts tried at n=1000")
    args = parser.parse_args()
    sizes = (
        [(20, 1.0), (60, 1.0)] if args.quick else [(20, 2.0), (60, 3.0), (240, 5.0), (1000, 5.0)]
    )
    head = [
        "cohort", "limit s", "free", "count", "s", "best fixed count", "best fixed",
        "fixed at free's count", "constructor's count", "fixed at it", "counts tried",
        "free / best",
    ]  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for n, limit in sizes:
        for kind, make in (("random", _random), ("cohort", _cohort)):
            spread = args.spread if n >= 1000 else None
            r = _row(kind, make(n, 0), limit, spread)
            print(
                f"| {r['cohort']} | {limit:g} | {r['free']:.3f} | {r['free_count']} | "
                f"{r['free_seconds']:.2f} | {r['best_fixed_count']} | {r['best_fixed']:.3f} | "
                f"{r['at_free_count']:.3f} | {r['constructor_count']} | "
                f"{r['at_constructor_count']:.3f} | {r['counts_tried']} | {r['free/best']:.4f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
