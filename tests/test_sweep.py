"""Sweeps: tidy results in grid order, failures reported, process and Dask executors."""

from __future__ import annotations

import numpy as np
import pytest

import pairwise


def build_pairs(weight_topics: float, seed: int):
    compat = pairwise.score(pairwise.make_cohort(30, 10, seed=seed), {"topics": weight_topics})
    return pairwise.PairProblem.from_compatibility(compat)


def build_bad(x: int):
    if x == 1:
        return pairwise.PairProblem.from_scores([[1.0, "x"]])
    return pairwise.PairProblem.from_scores(np.eye(2) * x)


def test_local_processes_by_default() -> None:
    frame = pairwise.sweep(
        build_pairs, {"weight_topics": [1.0, 5.0], "seed": [0, 1]}, max_workers=2
    )
    assert frame[["weight_topics", "seed"]].values.tolist() == [
        [1.0, 0],
        [1.0, 1],
        [5.0, 0],
        [5.0, 1],
    ]
    assert (frame.status == "optimal").all()
    assert frame.error.isna().all()
    direct = pairwise.solve(build_pairs(5.0, 1))
    assert frame.objective.iloc[3] == pytest.approx(direct.objective)
    assert {"matched_share", "min_score", "gap", "seconds"} <= set(frame.columns)


def test_a_failed_scenario_is_a_row_not_the_end() -> None:
    frame = pairwise.sweep(build_bad, [{"x": 1}, {"x": 2}], max_workers=1)
    assert frame.status.tolist() == ["error", "optimal"]
    assert frame.error.iloc[0].startswith("ValidationError")
    assert frame.objective.iloc[1] == pytest.approx(4.0)


def test_dask_local_cluster() -> None:
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        frame = pairwise.sweep(
            build_pairs, {"weight_topics": [1.0, 3.0], "seed": [2]}, executor=client.get_executor()
        )
    assert (frame.status == "optimal").all()
    assert frame.objective.iloc[0] == pytest.approx(pairwise.solve(build_pairs(1.0, 2)).objective)


def test_a_build_that_cannot_reach_worker_processes_is_refused_up_front() -> None:
    with pytest.raises(pairwise.ValidationError, match="cannot be sent to worker processes"):
        pairwise.sweep(lambda x: build_bad(x), {"x": [2]}, max_workers=1)
    # threads need no pickling
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        frame = pairwise.sweep(lambda x: build_bad(x), {"x": [2]}, executor=pool)
    assert frame.status.tolist() == ["optimal"]
