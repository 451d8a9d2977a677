"""Benchmark: a re-match against a first match on the same cohort (issue 13).

``make_cohort(2000, 500, seed=0)`` scored with the default criteria, the default rules:
``pairwise.solve`` (the first match), then ``pairwise.rematch`` with one mentor leaving (the
first mentor of the first pair) and, second row, one pair broken as well. Side by side in the
same run: seconds and peak Python memory (``tracemalloc``: NumPy arrays included) of each
call, and their ratio to the first match. The re-match keeps every pair it can and solves
the room left by the fastest exact method (see ``rematch``); before issue 13 it was one
CP-SAT model over every allowed pair.

Usage::

    .venv/bin/python benchmarks/bench_rematch.py     # about a minute
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pairwise


def _measure(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak MiB) of one call."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = call()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def main() -> None:
    cohort = pairwise.make_cohort(2000, 500, seed=0)
    p = pairwise.PairProblem.from_compatibility(pairwise.score(cohort))
    pairwise.solve(p, time_limit=60)  # warm: imports and caches outside the timings
    first, t_match, m_match = _measure(lambda: pairwise.solve(p, time_limit=60))
    pairs = first.pairs[["mentee_id", "mentor_id"]].astype(str).values.tolist()
    leaver = pairs[0][1]
    broken = next(pair for pair in pairs if pair[1] != leaver)
    cases = {
        "one mentor leaves": {"leaving": [leaver]},
        "one leaves, one pair broken": {"leaving": [leaver], "broken": [tuple(broken)]},
    }
    print("| call | seconds | x match | peak MiB | x match | objective | kept / keepable |")
    print("|---|---|---|---|---|---|---|")
    print(f"| match | {t_match:.3f} | 1.00 | {m_match:.0f} | 1.00 | {first.objective:.3f} | - |")
    for name, kwargs in cases.items():

        def again(kw: dict[str, Any] = kwargs) -> pairwise.Rematch:
            return pairwise.rematch(first, p, time_limit=120, **kw)

        done, t, mem = _measure(again)
        assert pairwise.check(p, done.result) == []
        print(
            f"| rematch, {name} | {t:.3f} | {t / t_match:.2f} | {mem:.0f} | {mem / m_match:.2f} "
            f"| {done.result.objective:.3f} | {done.kept} / {done.keepable} |"
        )


if __name__ == "__main__":
    main()
