"""Solvers and :func:`solve`, which picks one for a problem.

| method | solves | how |
|---|---|---|
| ``assignment`` | dense one-to-one, all pairs allowed | SciPy linear sum assignment |
| ``flow`` | every pairing problem and objective | OR-Tools min-cost flow, all arcs |
| ``sparse`` | ``matched-then-total``, ``total`` | candidate arcs + reduced-cost proof |
| ``cpsat`` | every pairing problem and objective | OR-Tools CP-SAT, phases, unsat cores |
| ``cpsat`` | circle problems, exact for small cohorts | OR-Tools CP-SAT, unsat cores |
| ``local`` | circle problems of any size | compiled iterated tabu search |

``auto`` picks ``assignment`` when it applies, ``sparse`` for problems of more than
:data:`SPARSE_FROM` cells, else ``flow``; these three are exact and polynomial. ``cpsat``
keeps to ``time_limit`` and may return a ``feasible`` answer with a proven bound.
For circle problems ``auto`` proves small cohorts optimal (the local search's answer, then
every admissible circle as a column: ``local+exact``; or the CP-SAT model: ``local+cpsat``)
and runs ``local`` on larger ones (see :mod:`pairwise.solvers.circles`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, overload

import numpy as np

from pairwise._validate import seed_problems, time_limit_problems, workers_problems
from pairwise.circles import CircleProblem
from pairwise.errors import InfeasibleError, Problem, ValidationError
from pairwise.problem import PairProblem
from pairwise.results import Circles, Matching
from pairwise.solvers import assignment, cpsat, sparse
from pairwise.solvers.circles import solve_circles
from pairwise.solvers.flow import check_required, hall_violation, solve_flow, solve_panel_flow

__all__ = ["METHODS", "solve"]

Method = Literal["auto", "assignment", "flow", "sparse", "cpsat", "local"]
METHODS: tuple[str, ...] = ("auto", "assignment", "flow", "sparse", "cpsat")
CIRCLE_METHODS: tuple[str, ...] = ("auto", "cpsat", "local")
#: ``auto`` uses the sparse candidate method from this many (mentee x mentor) cells on.
SPARSE_FROM = 250_000


def _infeasible_all_matched(problem: PairProblem) -> InfeasibleError:
    """Name the conflict when not every mentee can be matched."""
    conflicts = []
    ids_a = problem.mentee_ids
    for i in np.flatnonzero(~problem.allowed.any(axis=1) & (problem.demand > 0)).tolist():
        conflicts.append(f"mentee {ids_a[i]} has {problem.why_no_mentor(i)}")
    x, y, need, room = hall_violation(problem)
    # mentees with no allowed mentor at all are named above; the counting is about the rest
    # (they add no mentor to y and no place to room)
    alone = ~problem.allowed[x].any(axis=1)
    need -= int(problem.demand[x][alone].sum())
    x = x[~alone]
    # name every mentor allowed for them, also those a required pair already ties to them
    y = np.flatnonzero(problem.allowed[x].any(axis=0))
    if need > room and len(x):
        shown = ", ".join(str(ids_a[i]) for i in x[:10]) + (" ..." if len(x) > 10 else "")
        who = problem.describe(x)
        conflicts.append(
            f"{len(x)} mentees {who + ' ' if who else ''}need {need} mentor places, but the "
            f"{len(y)} mentors allowed for them have {room} places: {shown}"
        )
    return InfeasibleError(conflicts or ["not every mentee can be matched"])


def _pick(problem: PairProblem, method: str) -> str:
    if method == "assignment" and not assignment.applies(problem):
        raise ValidationError(
            [
                Problem(
                    "method 'assignment' needs a dense one-to-one problem",
                    value=method,
                    expected="every pair allowed, capacities and demands 1, no required pairs",
                )
            ]
        )
    if method == "sparse" and problem.objective == "maxmin":
        raise ValidationError(
            [Problem("method 'sparse' does not do maxmin", value=method, expected="'flow'")]
        )
    if problem.panel is not None:
        if method not in ("auto", "flow"):
            raise ValidationError(
                [Problem("per-topic panels are solved by 'flow'", value=method, expected="'flow'")]
            )
        return "flow"
    if method != "auto":
        return method
    if assignment.applies(problem):
        return "assignment"
    n, m = problem.shape
    if n * m >= SPARSE_FROM and problem.objective != "maxmin":
        return "sparse"
    return "flow"


@overload
def solve(
    problem: PairProblem,
    *,
    method: Method = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> Matching: ...


@overload
def solve(
    problem: CircleProblem,
    *,
    method: Method = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> Circles: ...


def solve(
    problem: PairProblem | CircleProblem,
    *,
    method: Method = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
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
        Seconds. Pairs: for ``cpsat`` only (the other methods are exact and polynomial).
        Circles: the whole solve (default 10 s); the local search also stops on a work
        budget proportional to it (see
        :data:`~pairwise.solvers.circles.EVALS_PER_SECOND`), so it is reproducible. Loading
        the compiled search kernels (compiling them, once per installation) comes before
        the clock starts.
    seed : int, default 0
        Random seed of CP-SAT and of the local search, in ``[0, 2**31)``; the pair methods
        are deterministic.
    workers : int, optional
        CP-SAT workers (default 1; with more, the search is interleaved deterministically
        and ``time_limit`` counts deterministic time). For the circles' local search, that
        many independent searches run in parallel threads from the same start (seeds
        derived from ``seed``) and the best is kept: the answer depends on ``workers`` and
        ``seed``, not on the machine, and is never worse than with one worker.
    progress : callable, optional
        Called now and then during long searches (the circles' local search) with a dict
        of ``elapsed`` seconds, best ``objective`` so far and proven ``bound``; the pair
        methods are exact and fast, and report nothing.

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
    if problems:
        raise ValidationError(problems)
    if isinstance(problem, CircleProblem):
        return _solve_circles(problem, method, time_limit, seed, workers, progress)
    chosen = _pick(problem, method)
    t0 = time.perf_counter()
    check_required(problem)
    slack = 0.0
    topics = None
    status: Literal["optimal", "feasible"] = "optimal"
    bound: float | None = None
    if chosen == "cpsat":
        try:
            answer = cpsat.solve_cpsat(problem, time_limit=time_limit, seed=seed, workers=workers)
        except InfeasibleError as core:
            detail = _infeasible_all_matched(problem).conflicts if problem.all_matched else []
            raise InfeasibleError([*detail, *core.conflicts]) from None
        pairs, slack, bound = answer.pairs, answer.rounding_slack, answer.bound
        status = "optimal" if answer.optimal else "feasible"
    elif chosen == "assignment":
        pairs = assignment.solve_assignment(problem)
    elif chosen == "sparse":
        found = sparse.solve_sparse(problem)
        pairs, slack = found.pairs, found.rounding_slack
    elif problem.panel is not None:
        panel = solve_panel_flow(problem)
        pairs, slack, topics = panel.pairs, panel.rounding_slack, panel.topics
    else:
        result = solve_flow(problem)
        pairs, slack = result.pairs, result.rounding_slack
    t1 = time.perf_counter()
    if problem.all_matched:
        got = np.bincount(pairs[:, 0], minlength=problem.shape[0])
        if (got < problem.demand).any():
            raise _infeasible_all_matched(problem)
    objective = float(problem.scores[pairs[:, 0], pairs[:, 1]].sum()) if len(pairs) else 0.0
    return Matching(
        assignment=pairs,
        objective=objective,
        bound=objective + slack if bound is None else max(bound, objective),
        status=status,
        method=chosen,
        timings={"solve": t1 - t0},
        problem=problem,
        topics=topics,
    )


def _solve_circles(
    problem: CircleProblem,
    method: str,
    time_limit: float | None,
    seed: int,
    workers: int | None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> Circles:
    answer = solve_circles(
        problem,
        method=method,  # type: ignore[arg-type]
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        progress=progress,
    )
    rows = answer.rows
    a = problem.affinity
    objective = 0.0
    for g in range(problem.n_circles):
        ms = rows[rows[:, 0] == g, 1]
        objective += float(a[np.ix_(ms, ms)].sum()) / 2
    return Circles(
        assignment=rows,
        objective=objective,
        bound=max(answer.bound, objective),
        status="optimal" if answer.optimal else "feasible",
        method=answer.method,
        timings=answer.timings,
        problem=problem,
    )
