"""Solvers and :func:`solve`, which picks one for a problem.

``solve`` validates its options once (:mod:`pairwise._validate`), makes the solve's
:class:`~pairwise.solvers._plan.TimePlan` and :class:`~pairwise.solvers._plan.Seeds`,
dispatches to a trusting core (:mod:`.pairs` or :mod:`.circles`, each returning one
:class:`~pairwise.solvers.answer.Answer`), and :func:`pairwise.results.build` makes the
result (objective recomputed there, once).

| method | solves | how |
|---|---|---|
| ``assignment`` | dense one-to-one, all pairs allowed | SciPy linear sum assignment |
| ``flow`` | every pairing problem and objective | OR-Tools min-cost flow, all arcs |
| ``sparse`` | ``matched-then-total``, ``total`` | candidate arcs + reduced-cost proof |
| ``cpsat`` | every pairing problem and objective | OR-Tools CP-SAT, phases, unsat cores |
| ``cpsat`` | circle problems, exact for small cohorts | OR-Tools CP-SAT, unsat cores |
| ``local`` | circle problems of any size | compiled iterated tabu search |

``auto`` picks ``assignment`` when it applies, ``sparse`` for problems of more than
:data:`~pairwise.solvers.pairs.SPARSE_FROM` cells, else ``flow``; these three are exact
and polynomial. ``cpsat`` keeps to ``time_limit`` and may return a ``feasible`` answer with
a proven bound. For circle problems ``auto`` proves small cohorts optimal (the local
search's answer, then every admissible circle as a column: ``local+exact``; or the CP-SAT
model: ``local+cpsat``) and runs ``local`` on larger ones (see :mod:`.circles`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, overload

from pairwise._validate import seed_problems, time_limit_problems, workers_problems
from pairwise.circles import CircleProblem
from pairwise.errors import Problem, ValidationError
from pairwise.problem import PairProblem
from pairwise.results import Circles, Matching, build
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.circles import CIRCLE_METHODS, SearchSettings, compile_kernels, solve_circles
from pairwise.solvers.pairs import METHODS, SPARSE_FROM, solve_pairs

__all__ = ["CIRCLE_METHODS", "METHODS", "SPARSE_FROM", "SearchSettings", "solve"]

PairMethod = Literal["auto", "assignment", "flow", "sparse", "cpsat"]
CircleMethod = Literal["auto", "cpsat", "local"]


@overload
def solve(
    problem: PairProblem,
    *,
    method: PairMethod = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
    settings: SearchSettings | None = None,
) -> Matching: ...


@overload
def solve(
    problem: CircleProblem,
    *,
    method: PairMethod | CircleMethod = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
    settings: SearchSettings | None = None,
) -> Circles: ...


def solve(
    problem: PairProblem | CircleProblem,
    *,
    method: PairMethod | CircleMethod = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
    settings: SearchSettings | None = None,
) -> Matching | Circles:
    """Solve a pairing or a circle problem.

    Parameters
    ----------
    problem : PairProblem or CircleProblem
        From :meth:`PairProblem.from_scores`, :meth:`PairProblem.from_compatibility`,
        :meth:`CircleProblem.from_affinity` or :meth:`CircleProblem.from_compatibility`.
    method : str, default "auto"
        Pairs: ``"auto"``, ``"assignment"``, ``"flow"``, ``"sparse"``, ``"cpsat"``; circles:
        ``"auto"``, ``"cpsat"``, ``"local"``. See the table in :mod:`pairwise.solvers`;
        ``"auto"`` picks the fastest exact method the problem allows.
    time_limit : float, optional
        Seconds for the anytime methods (``cpsat`` for pairs and circles, the circles'
        ``local`` search and ``auto`` for circles); ``None`` means
        :data:`~pairwise.solvers._plan.DEFAULT_TIME_LIMIT` (10 s) for both, and
        ``result.timings["time_limit"]`` states the limit that applied. The exact
        polynomial pair methods (``assignment``, ``flow``, ``sparse``) need no limit.
        Anytime methods plan their work from this number only (CP-SAT's deterministic
        time, the local search's work budget), so the answer is reproducible; the clock
        stops any solve at the limit plus 10%. Loading the compiled search kernels
        (compiling them, once per installation) comes before the clock starts.
    seed : int, default 0
        Random seed in ``[0, 2**31)``; one :class:`numpy.random.SeedSequence` spawns the
        seeds of CP-SAT, the greedy starts and each search thread. The exact pair methods
        are deterministic.
    workers : int, optional
        CP-SAT workers (default 1; with more, the search is interleaved deterministically).
        For the circles' local search, that many independent searches run in parallel
        threads from the same start and the best is kept: the answer depends on
        ``workers`` and ``seed``, not on the machine, and is never worse than with one
        worker.
    progress : callable, optional
        Called now and then during long searches (the circles' local search) with a dict
        of ``elapsed`` seconds, best ``objective`` so far and proven ``bound``; the pair
        methods are exact and fast, and report nothing.
    settings : SearchSettings, optional
        How the circles' searches spend their time (work budget per second, CP-SAT on
        deterministic time or on the clock, tabu parameters); the defaults suit most uses.

    Returns
    -------
    Matching or Circles
        ``check(problem, result) == []``; ``objective`` is the float total, recomputed.

    Raises
    ------
    InfeasibleError
        When hard rules cannot all hold (required pairs that break a rule, or mentees that
        must all be matched but cannot be), naming the conflict.
    ValidationError
        For unknown methods or bad options (all of them listed).

    Examples
    --------
    >>> import numpy as np, pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.9, 0.8], [0.7, np.nan], [0.6, 0.2]],
    ...                                      capacity=[2, 1])
    >>> m = pairwise.solve(p)
    >>> m.mentor_of.tolist(), round(m.objective, 6), m.status
    ([1, 0, 0], 2.1, 'optimal')
    """
    problems = []
    is_circles = isinstance(problem, CircleProblem)
    known = CIRCLE_METHODS if is_circles else METHODS
    if method not in known:
        problems.append(Problem("unknown method", value=method, expected=", ".join(known)))
    problems.extend(time_limit_problems(time_limit))
    problems.extend(workers_problems(workers))
    problems.extend(seed_problems(seed))
    given: object = problem
    if not isinstance(given, PairProblem | CircleProblem):
        problems.append(Problem("not a problem", value=type(given).__name__))
    given_settings: object = settings
    if given_settings is not None and not isinstance(given_settings, SearchSettings):
        problems.append(
            Problem("settings must be a SearchSettings", value=type(given_settings).__name__)
        )
    if problems:
        raise ValidationError(problems)
    seeds = Seeds(seed)
    if isinstance(problem, CircleProblem):
        # the compiled kernels load (or, once per installation, compile) outside the limit
        compiled = compile_kernels() if method != "cpsat" else 0.0
        plan = TimePlan.of(time_limit)
        answer = solve_circles(
            problem, method, plan, seeds, workers, settings=settings, progress=progress
        )
        if compiled:
            answer.timings["compile"] = compiled
        return build(problem, answer, plan.limit)
    plan = TimePlan.of(time_limit)
    deterministic = True if settings is None else settings.deterministic
    answer = solve_pairs(problem, method, plan, seeds, workers, deterministic=deterministic)
    answer.timings["solve"] = plan.elapsed()
    return build(problem, answer, plan.limit)
