"""A data-quality report on a cohort before any solve: :func:`inspect`.

What a programme manager checks before matching: how many people of each kind, topics
mentees need and no mentor offers, criteria that are zero for every pair (a column mapped
but empty), mentees no mentor is allowed for under the rules (and which rules), people who
left blank an answer that a rule reads, capacity against demand, and minimum loads (with
the mentors whose minimum exceeds the mentees allowed for them). ``pairwise inspect
PROGRAMME.toml`` prints it; :meth:`CohortReport.to_frame` gives it to a notebook;
:meth:`pairwise.Cohort.report` is the part the answers alone give.

Answers are shown only as the programme's vocabulary: a label (region, topic, mode, ...)
is named when at least :data:`pairwise.cohort.SHARED_BY` people gave it, the others are
counted together, so a one-off free-text answer never appears (``show_values=True`` for a
manager working alone on her own file). People are named by id.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pairwise.circles import CircleProblem
from pairwise.cohort import Cohort, CohortReport, blank_answers
from pairwise.errors import Problem, ValidationError
from pairwise.problem import PairProblem

__all__ = ["CohortReport", "inspect"]


def inspect(
    cohort: Cohort,
    problem: PairProblem | CircleProblem | None = None,
    *,
    show_values: bool = False,
) -> CohortReport:
    """A data-quality report on ``cohort`` (and on ``problem``, the one built from it).

    Parameters
    ----------
    cohort : Cohort
    problem : PairProblem or CircleProblem, optional
        The problem the programme builds from the cohort: its rules give the mentees with
        no allowed mentor and the columns whose blanks matter, its weights the criteria.
    show_values : bool, default False
        Name every label, even those fewer than :data:`~pairwise.cohort.SHARED_BY` people
        gave (a one-off answer may be free text: for a manager alone with her own file).

    Returns
    -------
    CohortReport

    Examples
    --------
    >>> import pairwise
    >>> cohort = pairwise.make_cohort(30, 8, seed=1)
    >>> problem = pairwise.PairProblem.from_compatibility(pairwise.score(cohort),
    ...                                                   [pairwise.rules.SameRegion()])
    >>> found = pairwise.inspect(cohort, problem)
    >>> found.counts[found.counts.column == "mode"][["value", "mentee", "mentor"]]
            value  mentee  mentor
    17     either      10       3
    18  in-person       8       1
    19     online      12       4
    >>> len(found.no_mentor), found.capacity, found.demand
    (17, 16, 30)
    >>> print(found.no_mentor.reason[0])
    no allowed mentor (region east-3): removed by same region (8)
    """
    people: object = cohort  # typed, but notebooks may pass anything
    built: object = problem
    flag: object = show_values
    wrong = []
    if not isinstance(people, Cohort):
        wrong.append(
            Problem("inspect: not a cohort", value=type(people).__name__, expected="a Cohort")
        )
    if built is not None and not isinstance(built, PairProblem | CircleProblem):
        wrong.append(
            Problem("inspect: not a problem", value=type(built).__name__,
                    expected="a PairProblem or CircleProblem built from the cohort, or None")
        )  # fmt: skip
    if not isinstance(flag, bool):
        wrong.append(Problem("inspect: show_values", expected="true or false"))
    if wrong:
        raise ValidationError(wrong)
    found = cohort.report(show_values=show_values)
    if isinstance(problem, PairProblem):
        zero = tuple(c for c, (w, comp) in problem.criteria.items() if w > 0 and not np.any(comp))
        stuck = np.flatnonzero(~problem.allowed.any(axis=1) & (problem.demand > 0))
        no_mentor = pd.DataFrame(
            [(str(problem.mentee_ids[i]), problem.why_no_mentor(int(i))) for i in stuck],
            columns=["mentee_id", "reason"],
        )
        return replace(
            found,
            zero_criteria=zero,
            no_mentor=no_mentor,
            blanks=blank_answers(cohort, problem.rule_columns),
            capacity=int(problem.capacity.sum()),
            demand=int(problem.demand.sum()),
            minimum=int(problem.minimum.sum()),
            short_of_minimum=_short_of_minimum(problem),
        )
    if isinstance(problem, CircleProblem) and problem.compat is not None:
        compat = problem.compat
        zero = tuple(
            c for c, w in compat.weights.items() if w > 0 and not np.any(compat.components[c])
        )
        return replace(found, zero_criteria=zero)
    return found


def _short_of_minimum(problem: PairProblem) -> tuple[str, ...]:
    """Mentors (ids) whose minimum load exceeds the mentees allowed for them."""
    allowed = (problem.allowed & (problem.demand > 0)[:, None]).sum(axis=0)
    return tuple(str(problem.mentor_ids[j]) for j in np.flatnonzero(problem.minimum > allowed))
