"""MDGPLIB: pairwise's evaluator against the published best assignments (issue 12, part 5).

Reads ``../shared/data/mdgp`` relative to the repository root (never copied into the
repository) and skips when that folder is absent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import pairwise

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
