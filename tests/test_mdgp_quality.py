"""MDGPLIB: the evaluator against the published best assignments, and the search's quality.

Reads ``../shared/data/mdgp`` relative to the repository root (never copied into the
repository) and skips when that folder is absent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import pairwise
from pairwise.solvers import SearchSettings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mdgp"

pytestmark = pytest.mark.skipif(not (DATA / "bkv.csv").exists(), reason="no MDGPLIB data")


def _names() -> list[str]:
    if not (DATA / "bkv.csv").exists():
        return []
    with (DATA / "bkv.csv").open() as f:
        return [row["instance"] for row in csv.DictReader(f)]


def _load(name: str) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """(d, m, a, b) of an instance: header ``n m ss|ds a_1 b_1 ...``, then ``i j d_ij``."""
    path = DATA / f"{name}.txt"
    head = path.read_text().split("\n", 1)[0].split()
    m = int(head[1])
    lo_hi = np.array(head[3 : 3 + 2 * m], dtype=np.int64)
    pairs = np.loadtxt(path, skiprows=1)
    d = np.zeros((int(head[0]),) * 2)
    d[pairs[:, 0].astype(int), pairs[:, 1].astype(int)] = pairs[:, 2]
    return d + d.T, m, lo_hi[0::2], lo_hi[1::2]


@pytest.mark.parametrize("name", [n for n in _names() if "n120" in n or "n240_ds" in n])
def test_published_best_assignments_score_their_bkv(name: str) -> None:
    with (DATA / "bkv.csv").open() as f:
        bkv = {row["instance"]: float(row["bkv"]) for row in csv.DictReader(f)}[name]
    d, m, a, b = _load(name)
    lines = (DATA / "solutions" / f"{name}.best.txt").read_text().split("\n")
    rows = np.array([ln.split() for ln in lines[2 + m :] if len(ln.split()) == 2], dtype=np.int64)
    assert len(rows) == d.shape[0]
    sizes = np.bincount(rows[:, 1], minlength=m)
    assert np.all((a <= sizes) & (sizes <= b))
    p = pairwise.CircleProblem.from_affinity(d, n_circles=m, min_size=a, max_size=b)
    assert p.total(rows[:, [1, 0]]) == pytest.approx(
        bkv, rel=1e-8
    )  # the files round d to 3 decimals


def _problem(name: str) -> pairwise.CircleProblem:
    d, m, a, b = _load(name)
    return pairwise.CircleProblem.from_affinity(d, n_circles=m, min_size=a, max_size=b)


def _published_sizes(name: str, m: int) -> np.ndarray:
    lines = (DATA / "solutions" / f"{name}.best.txt").read_text().split("\n")
    rows = np.array([ln.split() for ln in lines[2 + m :] if len(ln.split()) == 2], dtype=np.int64)
    return np.bincount(rows[:, 1], minlength=m)


@pytest.mark.parametrize("name", [n for n in _names() if "_ds_" in n])
def test_the_start_aims_at_as_many_pairs_as_the_published_best(name: str) -> None:
    from pairwise.solvers.circles.local import size_plan
    from pairwise.solvers.circles.units import build_units

    p = _problem(name)
    plan = size_plan(p, build_units(p))
    best = _published_sizes(name, p.n_circles)
    assert int(plan.sum()) == p.n
    assert int((plan * (plan - 1) // 2).sum()) == int((best * (best - 1) // 2).sum())


def test_a_fixed_work_search_comes_near_the_published_mean_where_sizes_vary() -> None:
    # 0.3 billion evaluations (1.5-5 s here), stopped by the work budget: reproducible.
    # Seed 0 before the size plan: -0.57%; with it: -0.06% (TPSDP's mean of 20 runs at 3 s)
    name = "RanReal_n120_ds_01"
    with (DATA / "bkv.csv").open() as f:
        mean = {row["instance"]: float(row["bkv_avg"]) for row in csv.DictReader(f)}[name]
    settings = SearchSettings(evals_per_second=5_000_000)
    c = pairwise.solve(_problem(name), method="local", time_limit=60, seed=0, settings=settings)
    assert c.timings["stopped_by_budget"] == 1.0
    assert (c.objective - mean) / mean > -0.003
