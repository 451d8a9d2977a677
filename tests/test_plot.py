"""Plots render headless, return Axes and never show()."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import pairwise
from pairwise import plot
from pairwise.errors import ValidationError


@pytest.fixture(scope="module")
def matching() -> pairwise.Matching:
    compat = pairwise.score(pairwise.make_cohort(40, 12, seed=3))
    return pairwise.solve(pairwise.PairProblem.from_compatibility(compat))


@pytest.fixture(autouse=True)
def _no_show(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("plots must not call show()")

    monkeypatch.setattr(plt, "show", fail)
    yield
    plt.close("all")


def test_pair_plots(matching) -> None:
    ax = plot.score_distribution(matching)
    assert ax.get_title() == "Scores: matched vs allowed"
    assert len(ax.patches) > 0
    first = str(matching.pairs.mentee_id.iloc[0])
    ax = plot.contributions(matching, first)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(matching.problem.compat.weights)
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == pytest.approx(float(matching.pairs.score.iloc[0]))
    ax = plot.mentor_load(matching)
    labels = [int(t.get_text()) for t in ax.texts]
    assert sum(labels) == 12  # every mentor in one bubble (capacity, load)
    bubbles = ax.collections[0].get_offsets()
    load = matching.load()
    assert {(float(c), float(m)) for c, m in bubbles} == set(
        zip(load.capacity.astype(float), load.mentees.astype(float), strict=True)
    )
    ax = plot.region_flow(matching)
    assert ax.images[0].get_array().sum() == len(matching.pairs)


def test_circle_and_sweep_plots() -> None:
    aff = pairwise.affinity(pairwise.make_peers(30, seed=2))
    circles = pairwise.solve(pairwise.CircleProblem.from_compatibility(aff), time_limit=1)
    ax = plot.circle_composition(circles, "chapter")
    assert sum(p.get_height() for p in ax.patches) == 30
    frame = pairwise.sweep(
        lambda w: pairwise.PairProblem.from_scores(np.eye(3) * w),
        {"w": [1.0, 2.0]},
        executor=__import__("concurrent.futures").futures.ThreadPoolExecutor(2),
    )
    ax = plot.tradeoff(frame, x="objective", y="total_score", label="w")
    assert len(ax.lines) == 0 and len(ax.collections[0].get_offsets()) == 2  # points, no line
    assert sorted(t.get_text() for t in ax.texts) == ["1.0", "2.0"]
    # many categories: the legend keeps the largest and draws the rest as "other"
    ax = plot.circle_composition(circles, "region")
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(names) == plot.LEGEND_ENTRIES and names[-1] == "other"  # 11 regions here
    assert sum(p.get_height() for p in ax.patches) == 30
    assert ax.get_legend().get_title().get_text() == "region"


def test_plot_errors_are_clear(matching) -> None:
    with pytest.raises(ValidationError, match="no pair"):
        plot.contributions(matching, "nobody")
    with pytest.raises(ValidationError, match="unknown column"):
        plot.region_flow(matching, "shoe size")
    plain = pairwise.solve(pairwise.PairProblem.from_scores(np.eye(2)))
    with pytest.raises(ValidationError, match="plain matrix"):
        plot.region_flow(plain)
