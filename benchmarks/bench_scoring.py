"""Benchmark: scoring speed and peak memory, and synthetic-cohort generation speed.

Measures, side by side in one run:

* ``pairwise.score`` on a synthetic cohort of 10,000 mentees x 2,000 mentors with all default
  criteria, against one elementwise pass (``a + 1.0``) over a float64 array of the same shape;
  both as the median of ``--repeat`` runs, and the ratio of the two;
* peak memory: what scoring allocates at its peak (tracemalloc, which numpy reports to) and
  the peak resident size of the whole process, in a fresh child process;
* ``make_cohort`` for 100,000 participants.

Usage::

    .venv/bin/python benchmarks/bench_scoring.py            # full size
    .venv/bin/python benchmarks/bench_scoring.py --quick    # 2,000 x 400, for a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _memory_child(n_mentees: int, n_mentors: int) -> None:
    """Run in a fresh process: print baseline and peak RSS around one scoring call."""
    import pairwise

    cohort = pairwise.make_cohort(n_mentees, n_mentors, seed=0)
    pairwise.score(pairwise.make_cohort(20, 5, seed=1))  # import/warm-up costs out of the way
    tracemalloc.start()
    compat = pairwise.score(cohort)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = compat.matrix.nbytes + sum(v.nbytes for v in compat.components.values())
    print(json.dumps({"rss": _peak_rss_mib(), "traced": peak / 2**20, "result_mib": kept / 2**20}))


def _median_time(fn: object, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--memory-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        _memory_child(*args.memory_child)
        return

    import pairwise

    n_mentees, n_mentors = (2_000, 400) if args.quick else (10_000, 2_000)
    n_synth = 10_000 if args.quick else 100_000
    cohort = pairwise.make_cohort(n_mentees, n_mentors, seed=0)
    pairwise.score(cohort)  # warm-up

    t_score, t_score_min = _median_time(lambda: pairwise.score(cohort), args.repeat)
    a = np.full((n_mentees, n_mentors), 1.5)
    t_pass, t_pass_min = _median_time(lambda: a + 1.0, args.repeat)

    mentees_share = 0.8
    n_te = int(n_synth * mentees_share)
    t_synth, _ = _median_time(
        lambda: pairwise.make_cohort(n_te, n_synth - n_te, seed=0), max(1, args.repeat // 2)
    )

    child = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(n_mentees), str(n_mentors)],
        check=True,
        capture_output=True,
        text=True,
    )
    mem = json.loads(child.stdout)

    rows = [
        ("score, all 7 default criteria", f"{t_score:.3f} s (min {t_score_min:.3f})"),
        ("one elementwise pass a + 1.0 (float64)", f"{t_pass:.4f} s (min {t_pass_min:.4f})"),
        ("ratio score / elementwise pass", f"{t_score / t_pass:.1f}x"),
        ("peak memory allocated during scoring (tracemalloc)", f"{mem['traced']:.0f} MiB"),
        ("peak RSS of the whole scoring process", f"{mem['rss']:.0f} MiB"),
        ("of which the returned Compatibility", f"{mem['result_mib']:.0f} MiB"),
        (f"make_cohort, {n_synth:,} participants", f"{t_synth:.2f} s"),
    ]
    print(
        f"scoring {n_mentees:,} mentees x {n_mentors:,} mentors; median of {args.repeat}; "
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}"
    )
    print("| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
