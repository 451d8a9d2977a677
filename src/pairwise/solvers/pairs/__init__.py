"""Pairing methods and the dispatcher that picks one (a trusting core: no input checks).

| method | solves | how |
|---|---|---|
| ``assignment`` | dense one-to-one, all pairs allowed | SciPy linear sum assignment |
| ``flow`` | every pairing problem and objective | OR-Tools min-cost flow, all arcs |
| ``sparse`` | ``matched-then-total``, ``total`` | candidate arcs + reduced-cost proof |
| ``cpsat`` | every pairing problem and objective | OR-Tools CP-SAT, phases, unsat cores |

``sparse`` solves ``covered-then-total`` where demands are at most 1 (:func:`as_cover`)
and hands the rest of it (and minimum loads whose bonuses would overflow its integer
potentials, :func:`.sparse.fits`) to ``flow`` (the answer says ``method="flow"``). The
stable objectives have their own solvers (:mod:`pairwise.solvers.pairs.stable`) whatever
the method.

``auto`` is a documented alias (networkx's ``maximum_matching`` pattern): ``assignment``
when it applies, ``sparse`` from :data:`SPARSE_FROM` cells on, else ``flow``; per-topic
panels always go to ``flow`` (:mod:`.panels`), value caps
(:class:`~pairwise.rules.AtMost`, which no flow states) to ``cpsat``. The flows are exact
and polynomial, and take no time limit; ``cpsat`` keeps to the plan and may return a
``feasible`` answer with a bound.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pairwise.errors import InfeasibleError, Problem, ValidationError
from pairwise.problem import PairProblem
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.answer import Answer
from pairwise.solvers.pairs import assignment
from pairwise.solvers.pairs.caps import trim
from pairwise.solvers.pairs.cpsat import Keep, solve_cpsat
from pairwise.solvers.pairs.fair import needs_fair, solve_fair
from pairwise.solvers.pairs.feasibility import (
    check_required,
    feasible_pairs,
    infeasible_all_matched,
    infeasible_minimum,
)
from pairwise.solvers.pairs.flow import solve_flow
from pairwise.solvers.pairs.panels import solve_panels
from pairwise.solvers.pairs.sparse import fits, solve_sparse
from pairwise.solvers.pairs.stable import solve_stable

__all__ = ["METHODS", "SPARSE_FROM", "Keep", "as_cover", "pick", "solve_pairs"]


#: Pair methods ``solve`` accepts.
METHODS: tuple[str, ...] = ("auto", "assignment", "flow", "sparse", "cpsat")
#: ``auto`` uses the sparse candidate method from this many (mentee x mentor) cells on.
SPARSE_FROM = 250_000
#: Objectives ``sparse`` solves itself (with minimum loads too); ``method="sparse"`` hands
#: the others (but maxmin, refused) to ``flow``.
SPARSE_OBJECTIVES = ("matched-then-total", "total")


def pick(problem: PairProblem, method: str) -> str:
    """The method that solves ``problem`` (``auto`` resolved); ValidationError if none can."""
    if problem.value_caps and not needs_fair(problem):
        return _capped(problem, method)
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
    if needs_fair(problem) and problem.minimum.any():
        raise ValidationError(
            [
                Problem(
                    "minimum loads do not yet combine with group match rates or fair objectives",
                    value=problem.objective,
                    expected="minimum 0, or no rules.MatchRate and a flow objective",
                )
            ]
        )
    if needs_fair(problem) and problem.objective == "covered-then-total":
        raise ValidationError(
            [
                Problem(
                    "objective 'covered-then-total' does not yet combine with group match rates",
                    value=problem.objective,
                    expected="no rules.MatchRate, or another objective",
                )
            ]
        )
    if needs_fair(problem):  # group floors, fair objectives: the fair CP-SAT model
        if method not in ("auto", "cpsat") or problem.panel is not None:
            raise ValidationError(
                [
                    Problem(
                        f"method {method!r} does not do group match rates or "
                        f"objective {problem.objective!r}",
                        value=method,
                        expected="'auto' or 'cpsat', without per-topic panels",
                    )
                ]
            )
        if problem.objective == "maxmin-group" and not problem.group_floors:
            raise ValidationError(
                [
                    Problem(
                        "objective 'maxmin-group' needs groups",
                        expected="rules.MatchRate(column) or fairness.with_match_rate",
                    )
                ]
            )
        return "fair"
    if method == "sparse" and problem.objective == "maxmin":
        raise ValidationError(
            [Problem("method 'sparse' does not do maxmin", value=method, expected="'flow'")]
        )
    if problem.panel is not None:
        if problem.minimum.any():
            raise ValidationError(
                [Problem("per-topic panels take no minimum load", expected="minimum 0")]
            )
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
    if n * m >= SPARSE_FROM and (
        problem.objective in SPARSE_OBJECTIVES or as_cover(problem) is not None
    ):
        return "sparse"  # solve_pairs hands it to flow if its potentials would not fit
    return "flow"


def as_cover(problem: PairProblem) -> PairProblem | None:
    """``covered-then-total`` as sparse's objective, where demands are at most 1.

    With one mentor per mentee, mentees covered are pairs, and mentors covered are the
    minimum-load units met with a minimum of 1 for every mentor: so the most pairs, then
    the most such units, then the total (what ``sparse`` solves with minimum loads, their
    bonus below the pairs' and above the scores) is the coverage order. ``None`` when
    that does not hold (demands above 1, or minimum loads of the problem's own, which are
    hard rules above coverage).

    Examples
    --------
    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.9, 0.8]], capacity=1,
    ...                                      objective="covered-then-total")
    >>> as_cover(p).minimum.tolist(), as_cover(p).objective
    ([1, 1], 'matched-then-total')
    """
    if problem.objective != "covered-then-total" or problem.minimum.any():
        return None
    if int(problem.demand.max(initial=0)) > 1:
        return None
    wanted = (problem.allowed & (problem.demand > 0)[:, None]).any(axis=0)
    low = (wanted & (problem.capacity > 0)).astype(np.int64)
    return replace(problem, minimum=low, objective="matched-then-total")


def _capped(problem: PairProblem, method: str) -> str:
    """``cpsat`` for a problem with value caps (the flows do not state them)."""
    if method not in ("auto", "cpsat") or problem.panel is not None:
        raise ValidationError(
            [
                Problem(
                    f"method {method!r} does not do {problem.value_caps[0].rule} "
                    "(rules.AtMost on pairs)",
                    value=method,
                    expected="'auto' or 'cpsat', without per-topic panels",
                )
            ]
        )
    return "cpsat"


def solve_pairs(
    problem: PairProblem,
    method: str,
    plan: TimePlan,
    seeds: Seeds,
    workers: int | None = None,
    *,
    keep: Keep | None = None,
    deterministic: bool = True,
) -> Answer:
    """Solve ``problem`` with ``method`` (see the module table); the answer of the core.

    Raises
    ------
    InfeasibleError
        Required pairs that break a rule, or mentees who must all be matched but cannot be.
    """
    check_required(problem)
    if problem.objective.startswith("stable"):
        return solve_stable(problem, plan)
    chosen = "cpsat" if keep is not None else pick(problem, method)
    # a search would look for an infeasible problem's answer until its limit: a flow
    # decides the flow rules at once (naming the conflict as the flow methods do), and its
    # pairs are the search's first answer
    start = feasible_pairs(problem) if chosen in ("cpsat", "fair") else None
    if start is not None and problem.value_caps:  # the flow does not state the caps
        start = trim(problem, start)
    if chosen == "fair":
        answer = solve_fair(problem, plan, seeds, workers, deterministic=deterministic)
    elif chosen == "cpsat":
        try:
            answer = solve_cpsat(
                problem, plan, seeds, workers, keep=keep, deterministic=deterministic, start=start
            )
        except InfeasibleError as core:
            detail = infeasible_all_matched(problem).conflicts if problem.all_matched else []
            raise InfeasibleError([*detail, *core.conflicts]) from None
    elif chosen == "assignment":
        answer = assignment.solve_assignment(problem)
    elif chosen == "sparse" and problem.objective in SPARSE_OBJECTIVES and fits(problem):
        answer = solve_sparse(problem)  # else (huge minimum bonuses): by flow
    elif chosen == "sparse" and (cover := as_cover(problem)) is not None and fits(cover):
        answer = solve_sparse(cover)  # else (coverage with demands above 1): by flow
    elif problem.panel is not None:
        answer = solve_panels(problem)
    else:
        answer = solve_flow(problem)
    if problem.all_matched:
        got = np.bincount(answer.rows[:, 0], minlength=problem.shape[0])
        if (got < problem.demand).any():
            raise infeasible_all_matched(problem)
    load = np.bincount(answer.rows[:, 1], minlength=problem.shape[1])
    if (load < problem.minimum).any():
        raise infeasible_minimum(problem)
    return answer
