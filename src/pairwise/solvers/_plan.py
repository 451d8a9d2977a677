"""One time and seed policy for every solve: :class:`TimePlan` and :class:`Seeds`.

Time. A solve gets ``time_limit`` seconds (``None``: :data:`DEFAULT_TIME_LIMIT`). Anytime
methods (CP-SAT, the circles' local search) plan their work from that number alone, never
from the clock: CP-SAT stops on *deterministic* time (a share of the limit), the local
search on a work budget (evaluations per second of the limit). The same input, seed and
workers therefore give the same answer on any machine load. The wall clock is only a safety
net: :meth:`TimePlan.left` is what remains of ``limit * (1 + SAFETY)`` seconds from the
start, and every CP-SAT call also gets it as ``max_time_in_seconds``, so a solve keeps to
its limit plus 10% whatever the number of workers. Exact polynomial methods (assignment,
flows) take no time limit.

Seeds. One :class:`numpy.random.SeedSequence` per solve; its spawned children seed the
greedy starts, each parallel search thread and CP-SAT (STYLE: one generator, passed down).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DEFAULT_TIME_LIMIT", "SAFETY", "Seeds", "TimePlan"]

#: Seconds an anytime solve may take when ``time_limit`` is ``None``.
DEFAULT_TIME_LIMIT = 10.0
#: The wall clock stops a solve at ``limit * (1 + SAFETY)`` whatever the plan says.
SAFETY = 0.1


@dataclass(frozen=True)
class TimePlan:
    """The seconds a solve was given, and when it started.

    Attributes
    ----------
    limit : float
        The caller's limit (or :data:`DEFAULT_TIME_LIMIT`), the only input of any planned
        budget.
    given : bool
        Whether the caller gave the limit (``False``: the default applies).
    start : float
        ``time.perf_counter()`` at the start of the solve.
    """

    limit: float
    given: bool = True
    start: float = field(default_factory=time.perf_counter)

    @classmethod
    def of(cls, time_limit: float | None) -> TimePlan:
        """The plan for a solve with ``time_limit`` seconds (``None``: the default)."""
        if time_limit is None:
            return cls(DEFAULT_TIME_LIMIT, given=False)
        return cls(float(time_limit))

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.start

    def left(self, *, net: bool = True) -> float:
        """Clock seconds left (at least 0.01) before the safety net (``net=False``: the limit)."""
        end = self.limit * (1.0 + SAFETY) if net else self.limit
        return max(0.01, end - self.elapsed())

    def deadline(self, *, net: bool = True) -> float:
        """``time.perf_counter()`` value of the safety net (or, ``net=False``, of the limit)."""
        return self.start + (self.limit * (1.0 + SAFETY) if net else self.limit)


class Seeds:
    """Every random stream of one solve, spawned from one seed.

    Examples
    --------
    >>> s = Seeds(0)
    >>> s.cpsat() == Seeds(0).cpsat(), s.cpsat() == Seeds(1).cpsat()
    (True, False)

    A thread's seed does not depend on how many threads run (so one worker's search is
    the first of two workers' searches):

    >>> s.ints("threads", 2)[0] == s.ints("threads", 1)[0]
    True
    """

    _NAMES = ("cpsat", "starts", "construct", "threads")

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        children = np.random.SeedSequence(self.seed).spawn(len(self._NAMES))
        self._child = dict(zip(self._NAMES, children, strict=True))

    def cpsat(self) -> int:
        """CP-SAT's ``random_seed`` (an int in ``[0, 2**31)``)."""
        return int(self._child["cpsat"].generate_state(1)[0] >> 1)

    def stream(self, name: str) -> np.random.Generator:
        """A fresh generator of a named stream: ``"starts"``, ``"construct"``, ``"threads"``."""
        return np.random.default_rng(self._child[name])

    def ints(self, name: str, count: int) -> list[int]:
        """``count`` ints in ``[0, 2**31)`` of the named stream (seeds for compiled kernels)."""
        return [int(x >> 1) for x in self._child[name].generate_state(count)]
