"""Fairness across groups of mentees: groups of a column, floors on their match rates.

A *group* is the mentees sharing a value of one column (``region``, ``chapter``, an extra
column of the cohort, or labels given per mentee for a plain matrix). A list column
(``languages``, ``stage``, ``slots``, ``needs``) puts a mentee in the group of each of her
values; mentees with no value form the group :data:`MISSING`. A mentee is *matched* when
she has at least one mentor; a group's *match rate* is its matched mentees over its
mentees.

:func:`groups_of` reads the groups, :func:`group_table` reports them (behind
``Matching.metrics(by=...)``), :func:`floors` turns a minimum rate into a
:class:`GroupFloor` per group (behind :class:`pairwise.rules.MatchRate`) and
:func:`with_match_rate` adds floors to a plain-matrix problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise.errors import Problem, ValidationError
from pairwise.labels import CATEGORIES, LABEL_SETS, Labels

if TYPE_CHECKING:
    from pairwise.problem import PairProblem

__all__ = ["MISSING", "GroupFloor", "floors", "group_table", "groups_of", "with_match_rate"]

IntArray = npt.NDArray[np.int64]
#: The group of mentees with no value in the column.
MISSING = "(missing)"
#: Group sizes from which a group's value is named in an explanation (a smaller group's
#: value could single people out).
NAMED_FROM = 3


@dataclass(frozen=True, eq=False)
class GroupFloor:
    """At least ``at_least`` of a group's mentees are matched (a hard rule).

    Attributes
    ----------
    column : str
    value : str
        The group's value (:data:`MISSING` for mentees with none).
    members : ndarray of int64
        The group's mentees (positions).
    at_least : int
        Smallest number of them with a mentor; ``0`` for a group that only takes part in
        the ``"maxmin-group"`` objective.
    """

    column: str
    value: str
    members: IntArray
    at_least: int

    @property
    def name(self) -> str:
        """``column value``, or a neutral name for a group too small to be named."""
        if len(self.members) >= NAMED_FROM:
            return f"{self.column} {self.value}"
        return f"a group of {len(self.members)} ({self.column})"

    def explain(self, reachable: int) -> str:
        """The floor in programme terms, with how many members could be matched at most."""
        return (
            f"{self.name}: {len(self.members)} mentees, at least {self.at_least} must be "
            f"matched, but only {reachable} have an allowed mentor with room"
        )


def _text(value: Any) -> str | None:
    """A group value as text; ``None`` for a missing one (None, NaN, blank)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    text = str(value).strip()
    return text or None


def _by_values(column: str, values: Sequence[Sequence[str]]) -> list[tuple[str, IntArray]]:
    """Groups from each mentee's values (sorted; the missing group last)."""
    members: dict[str, list[int]] = {}
    for i, vs in enumerate(values):
        for v in vs or (MISSING,):
            members.setdefault(v, []).append(i)
    order = sorted(k for k in members if k != MISSING)
    if MISSING in members:
        order.append(MISSING)
    return [(k, np.array(sorted(set(members[k])), dtype=np.int64)) for k in order]


def _labels_values(labels: Labels, column: str) -> list[list[str]] | None:
    """Each mentee's values of a standard column, or ``None`` if the labels lack it."""
    if column in CATEGORIES:
        return [[t] if (t := _text(v)) else [] for v in getattr(labels, column)]
    tags = labels.topics if column == "needs" else getattr(labels, column, None)
    if column in (*LABEL_SETS, "needs") and tags is not None:
        vocab = list(tags.vocab)
        return [[vocab[k] for k in np.flatnonzero(row)] for row in np.asarray(tags.matrix)]
    return None


def groups_of(problem: PairProblem, by: str | npt.ArrayLike) -> list[tuple[str, IntArray]]:
    """The mentee groups of ``by``: (value, mentee positions), sorted, missing last.

    Parameters
    ----------
    problem : PairProblem
    by : str or array-like
        A column of the mentees (``region``, ``cluster``, ``chapter``, ``mode``, ``role``,
        ``languages``, ``stage``, ``slots``, ``needs``, or an extra column of the cohort),
        or one label per mentee (any problem, e.g. a plain matrix).

    Raises
    ------
    ValidationError
        An unknown column (naming the columns there are), or labels of the wrong length.

    Examples
    --------
    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[1.0], [2.0], [3.0]])
    >>> [(v, m.tolist()) for v, m in groups_of(p, ["a", None, "a"])]
    [('a', [0, 2]), ('(missing)', [1])]
    """
    n = problem.shape[0]
    if isinstance(by, str):
        return _by_values(by, _column_values(problem, by))
    values = np.asarray(by, dtype=object)
    if values.ndim != 1 or len(values) != n:
        raise ValidationError(
            [
                Problem(
                    f"group labels have shape {values.shape}",
                    column="by",
                    expected=f"one label per mentee ({n})",
                )
            ]
        )
    return _by_values("by", [[t] if (t := _text(v)) else [] for v in values.tolist()])


def _column_values(problem: PairProblem, column: str) -> list[list[str]]:
    """Each mentee's values of ``column``; ValidationError naming the columns there are."""
    labels = problem.mentee_labels
    known: list[str] = []
    if labels is not None:
        got = _labels_values(labels, column)
        if got is not None:
            return got
        known = [*CATEGORIES, *LABEL_SETS, *(["needs"] if labels.topics is not None else [])]
    extra = problem.compat.mentees.extra if problem.compat is not None else pd.DataFrame()
    if column in extra.columns:
        return [[t] if (t := _text(v)) else [] for v in extra[column].tolist()]
    known += [str(c) for c in extra.columns]
    raise ValidationError(
        [
            Problem(
                "unknown group column",
                column=column,
                expected=", ".join(known)
                if known
                else "group labels, one per mentee (this problem has no cohort columns)",
            )
        ]
    )


def group_table(
    groups: Sequence[tuple[str, IntArray]],
    pairs: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    column: str = "group",
) -> pd.DataFrame:
    """Per group: mentees, matched, match_rate, mean_score and min_score of its pairs.

    Examples
    --------
    >>> import numpy as np
    >>> t = group_table([("a", np.array([0, 1]))], np.array([[0, 0]]), np.array([[0.5], [0.2]]))
    >>> t.loc["a"].tolist()
    [2.0, 1.0, 0.5, 0.5, 0.5]
    """
    rows = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    has = np.zeros(scores.shape[0], dtype=bool)
    has[rows[:, 0]] = True
    s = scores[rows[:, 0], rows[:, 1]]
    records = []
    for value, members in groups:
        inside = np.isin(rows[:, 0], members)
        mine = s[inside]
        size, matched = len(members), int(has[members].sum())
        records.append(
            {
                column: value,
                "mentees": float(size),
                "matched": float(matched),
                "match_rate": matched / size if size else float("nan"),
                "mean_score": float(mine.mean()) if len(mine) else float("nan"),
                "min_score": float(mine.min()) if len(mine) else float("nan"),
            }
        )
    cols = [column, "mentees", "matched", "match_rate", "mean_score", "min_score"]
    return pd.DataFrame.from_records(records, columns=cols).set_index(column)


def _rate(value: object, where: str, problems: list[Problem]) -> float:
    """A match rate in [0, 1] (else recorded, 0 returned)."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )
    rate = float(value) if ok else float("nan")  # type: ignore[arg-type]
    if not (0.0 <= rate <= 1.0):
        problems.append(Problem(f"{where}: bad match rate", expected="a number from 0 to 1"))
        return 0.0
    return rate


def floors(
    column: str,
    groups: Sequence[tuple[str, IntArray]],
    at_least: float | Mapping[str, float],
    where: str = "match rate",
) -> tuple[GroupFloor, ...]:
    """A :class:`GroupFloor` per group: ``ceil(rate * size)`` of its mentees matched.

    ``at_least`` is one rate for every group (the missing group too), or a rate per value
    (other groups get floor 0, so they still count in ``"maxmin-group"``).

    Raises
    ------
    ValidationError
        A rate that is not a number in [0, 1], or a value no mentee has.

    Examples
    --------
    >>> import numpy as np
    >>> f = floors("region", [("north", np.arange(10))], 0.55)
    >>> f[0].name, f[0].at_least
    ('region north', 6)
    """
    problems: list[Problem] = []
    rates: dict[str, float] = {}
    if isinstance(at_least, Mapping):
        values = {v for v, _ in groups}
        for key, r in at_least.items():
            if str(key) not in values:
                problems.append(
                    Problem(f"{where}: no mentee has this value", column=column, value=key)
                )
            rates[str(key)] = _rate(r, f"{where} for a {column} value", problems)
    else:
        rate = _rate(at_least, where, problems)
        rates = {v: rate for v, _ in groups}
    if problems:
        raise ValidationError(problems)
    return tuple(
        GroupFloor(column, v, m, math.ceil(rates.get(v, 0.0) * len(m) - 1e-9)) for v, m in groups
    )


def with_match_rate(
    problem: PairProblem, by: str | npt.ArrayLike, at_least: float | Mapping[str, float] = 0.0
) -> PairProblem:
    """``problem`` with a minimum match rate for every group of ``by`` (a hard rule).

    The way to put :class:`pairwise.rules.MatchRate` on a plain-matrix problem (``by``: a
    label per mentee); ``at_least=0`` only names the groups ``"maxmin-group"`` balances.

    Examples
    --------
    >>> import numpy as np, pairwise
    >>> p = pairwise.PairProblem.from_scores(np.array([[0.9], [0.8], [0.1]]))
    >>> p = with_match_rate(p, ["a", "a", "b"], at_least={"b": 1.0})
    >>> pairwise.solve(p).assignment.tolist()
    [[2, 0]]
    """
    column = by if isinstance(by, str) else "group"
    found = floors(column, groups_of(problem, by), at_least)
    return replace(problem, group_floors=(*problem.group_floors, *found))
