"""Many solves at once: weight grids, seeds, or many programmes for a platform.

:func:`sweep` runs one scenario per grid point on any :class:`concurrent.futures.Executor`:
local processes by default, or a Dask cluster for more than one machine
(``pip install 'pairwise[dask]'``)::

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")          # or Client(LocalCluster())
    frame = pairwise.sweep(build, grid, executor=client.get_executor())

Results come back as one tidy DataFrame; a failed scenario is a row with its error, never
the end of the sweep.
"""

from __future__ import annotations

import itertools
import pickle
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import pandas as pd

from pairwise.errors import Problem, ValidationError

__all__ = ["sweep"]

#: Metrics copied from each result into the sweep's row (when the result has them).
METRICS = (
    "matched",
    "matched_share",
    "mean_score",
    "min_score",
    "min_circle_score",
    "mean_circle_score",
)


def _points(
    grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    if isinstance(grid, Mapping):
        keys = list(grid)
        return [
            dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())
        ]
    return [dict(point) for point in grid]


def run_scenario(
    build: Callable[..., Any], params: Mapping[str, Any], options: Mapping[str, Any]
) -> dict[str, Any]:
    """Build, solve and summarise one scenario; errors become the row's ``error``."""
    from pairwise.programme import Programme
    from pairwise.solvers import solve

    row: dict[str, Any] = dict(params)
    start = time.perf_counter()
    try:
        built = build(**params)
        result = built.run(write=False) if isinstance(built, Programme) else solve(built, **options)
        found: dict[str, Any] = {
            "status": result.status,
            "objective": result.objective,
            "bound": result.bound,
            "gap": result.gap,
            "method": result.method,
            "total_score": result.objective,
        }
        metrics = result.metrics()
        found.update({key: metrics[key] for key in METRICS if key in metrics})
        found["error"] = None
    except Exception as exc:  # a failed scenario is reported, not fatal
        found = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    found["seconds"] = time.perf_counter() - start
    # a parameter keeps its name; a result field of the same name gets a "result_" prefix
    for key, value in found.items():
        row[f"result_{key}" if key in params else key] = value
    return row


def _collect(future: Future[dict[str, Any]], point: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's row; a scenario lost in transport (a worker died) is reported too."""
    try:
        return future.result()
    except Exception as exc:
        row = dict(point)
        row.update({"status": "error", "error": f"{type(exc).__name__}: {exc}"})
        return row


def sweep(
    build: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]],
    *,
    executor: Executor | None = None,
    max_workers: int | None = None,
    **solve_options: Any,
) -> pd.DataFrame:
    """Solve one scenario per grid point, in parallel.

    Parameters
    ----------
    build : callable
        ``build(**params)`` returns a problem (solved with ``solve_options``) or a
        :class:`~pairwise.programme.Programme` (run as configured). Must be picklable for
        process or Dask executors (a module-level function).
    grid : mapping of name to values, or iterable of mappings
        A mapping is expanded to every combination; an iterable lists the points.
    executor : concurrent.futures.Executor, optional
        Where scenarios run: by default a :class:`~concurrent.futures.ProcessPoolExecutor`
        (closed at the end); ``client.get_executor()`` for a Dask cluster.
    max_workers : int, optional
        For the default executor.
    **solve_options
        Passed to :func:`pairwise.solve` (``time_limit``, ``seed``, ...).

    Raises
    ------
    ValidationError
        When ``build`` cannot be pickled for a process or cluster executor (a lambda or a
        local function: use a module-level function, or a ``ThreadPoolExecutor``).

    Returns
    -------
    pandas.DataFrame
        One row per point, in grid order: the parameters, ``status`` (``"error"`` for a
        failed scenario), ``objective``, ``bound``, ``gap``, ``method``, ``total_score``, the
        result's summary metrics (``matched_share``, ``min_score``, ...), ``error`` and
        ``seconds``. A result field named like a parameter gets a ``result_`` prefix.

    Examples
    --------
    >>> import numpy as np, pairwise
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> def build(shift):
    ...     return pairwise.PairProblem.from_scores(np.eye(3) + shift)
    >>> with ThreadPoolExecutor(2) as pool:
    ...     frame = pairwise.sweep(build, {"shift": [0.0, 1.0, "bad"]}, executor=pool)
    >>> frame[["shift", "status", "objective"]]
      shift   status  objective
    0   0.0  optimal        3.0
    1   1.0  optimal        6.0
    2   bad    error        NaN
    """
    points = _points(grid)
    if not isinstance(executor, ThreadPoolExecutor):
        try:
            pickle.dumps(build)
        except Exception:
            raise ValidationError(
                [
                    Problem(
                        "build cannot be sent to worker processes",
                        value=getattr(build, "__qualname__", type(build).__name__),
                        expected="a module-level function, or a ThreadPoolExecutor",
                    )
                ]
            ) from None
    own = executor is None
    pool: Executor = executor if executor is not None else ProcessPoolExecutor(max_workers)
    try:
        futures = [pool.submit(run_scenario, build, point, solve_options) for point in points]
        rows = [_collect(future, point) for future, point in zip(futures, points, strict=True)]
    finally:
        if own:
            pool.shutdown()
    frame = pd.DataFrame(rows)
    if "error" not in frame:
        frame["error"] = None
    return frame
