"""Load the compiled (numba) kernels in the background, once per process.

Numba's first use in a process costs a fraction of a second (its code generator starts and
the machine code cached on disk is linked); the first use after installing compiles the
kernels (once; both measured in benchmarks/README.md). ``import pairwise`` starts that
work in a daemon thread, so it overlaps whatever the caller does next (reading a
spreadsheet, scoring) instead of adding to the first solve. A solve that needs a kernel
before the thread is done waits for it (numba's compiler lock); nothing is loaded twice.

- ``PAIRWISE_PRELOAD=0`` in the environment turns it off (kernels then load on first use).
- Forking waits for the thread first, so a child process never inherits a lock the loader
  holds (``os.register_at_fork``); children of a fork start with the kernels loaded.
"""

from __future__ import annotations

import os
import threading

__all__ = ["start", "wait"]

_threads: list[threading.Thread] = []


def start() -> None:
    """Start the background load (idempotent; a no-op with ``PAIRWISE_PRELOAD=0``)."""
    if _threads or os.environ.get("PAIRWISE_PRELOAD", "1") == "0":
        return
    thread = threading.Thread(target=_load, name="pairwise-kernels", daemon=True)
    _threads.append(thread)
    thread.start()


def wait() -> None:
    """Block until a background load has finished (returns at once if none runs)."""
    for thread in _threads:
        if thread.is_alive() and thread is not threading.current_thread():
            thread.join()


def _load() -> None:
    import numpy as np

    from pairwise.problem import PairProblem
    from pairwise.solvers.circles import lagrange
    from pairwise.solvers.circles.local import compile_kernels
    from pairwise.solvers.pairs.sparse import solve_sparse
    from pairwise.stability import deferred_acceptance

    try:  # the same specialisations as real solves: tiny real solves
        rng = np.random.default_rng(0)
        solve_sparse(PairProblem.from_scores(rng.random((24, 6)), capacity=4))
        deferred_acceptance(PairProblem.from_scores(rng.random((4, 2)), capacity=2))
        compile_kernels()
        lagrange.compile_kernels()  # the mentor-led bound's, so a first solve has them
    except Exception:  # a real solve loads (and reports) on demand
        return


os.register_at_fork(before=wait)
