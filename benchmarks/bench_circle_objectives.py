"""Benchmark: what each circle objective gives the members of a cohort's circles.

Evidence for the default objective of cohort circles (issue 12, part 2): synthetic peer
cohorts (``make_peers``) of 20, 40, 60 and 120 people, three seeds each, circles of 4-6 with
keep-apart and at most two per chapter, the count left to the solver, 3 s each, solved once
per objective (``"total"``, ``"mean"``, ``"maxmin"``). Reported per cohort size and
objective, averaged over the seeds: circles formed, the spread of circle sizes (standard
deviation), the worst-off member's mean affinity to her circle-mates, the 10th percentile
and the average of the member means, and the total within-circle affinity.

Usage::

    .venv/bin/python benchmarks/bench_circle_objectives.py     # about 2 minutes
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import pairwise
from pairwise.rules import KeepApart, MaxPerChapter
from pairwise.solvers.circles import compile_kernels

SIZES = (20, 40, 60, 120)
SEEDS = (0, 1, 2)
OBJECTIVES = ("total", "mean", "maxmin")


def run() -> pd.DataFrame:
    """One row per (cohort size, seed, objective)."""
    compile_kernels()
    rows = []
    for n in SIZES:
        for seed in SEEDS:
            aff = pairwise.affinity(pairwise.make_peers(n, seed=seed))
            for objective in OBJECTIVES:
                p = pairwise.CircleProblem.from_compatibility(
                    aff,
                    [KeepApart(), MaxPerChapter(2)],
                    objective=objective,  # type: ignore[arg-type]
                )
                c = pairwise.solve(p, time_limit=3, seed=0)
                q = c.problem
                means = q.member_means(c.assignment)
                means = means[~np.isnan(means)]
                sizes = np.bincount(c.assignment[:, 0])
                rows.append(
                    {
                        "people": n,
                        "seed": seed,
                        "objective": objective,
                        "circles": len(sizes),
                        "size_sd": float(np.std(sizes)),
                        "worst_member": float(means.min()),
                        "p10_member": float(np.percentile(means, 10)),
                        "mean_member": float(means.mean()),
                        "total": q.total(c.assignment),
                    }
                )
    return pd.DataFrame(rows)


def main() -> None:
    frame = run()
    cols = ["circles", "size_sd", "worst_member", "p10_member", "mean_member", "total"]
    table = frame.groupby(["people", "objective"], sort=False)[cols].mean()
    header = "| people | objective | " + " | ".join(cols) + " |"
    print(header)
    print("|" + "---|" * (len(cols) + 2))
    for row in table.reset_index().to_dict("records"):
        cells = " | ".join(f"{row[c]:.3f}" if c != "circles" else f"{row[c]:.0f}" for c in cols)
        print(f"| {row['people']} | {row['objective']} | {cells} |")


if __name__ == "__main__":
    main()
