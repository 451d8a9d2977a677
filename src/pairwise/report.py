"""A data-quality report on a cohort before any solve: :func:`inspect`.

What a programme manager checks before matching: how many people of each kind, topics
mentees need and no mentor offers, criteria that are zero for every pair (a column mapped
but empty), mentees no mentor is allowed for under the rules (and which rules), people who
left blank an answer that a rule reads, and capacity against demand. ``pairwise inspect
PROGRAMME.toml`` prints it; :meth:`CohortReport.to_frame` gives it to a notebook.

Answers are shown only as the programme's vocabulary: a label (region, topic, mode, ...)
is named when at least :data:`pairwise.problem.SHARED_BY` people gave it, the others are
counted together, so a one-off free-text answer never appears (``show_values=True`` for a
manager working alone on her own file). People are named by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pairwise.circles import CircleProblem
from pairwise.cohort import Cohort
from pairwise.problem import SHARED_BY, PairProblem

__all__ = ["CohortReport", "inspect"]

#: Single-valued answers counted by role.
COUNTED = ("region", "chapter", "mode")
#: Ids listed per finding on the terminal (all of them are in the frames).
SHOWN_IDS = 8


@dataclass(frozen=True)
class CohortReport:
    """What :func:`inspect` found; each finding a table.

    Attributes
    ----------
    counts : pandas.DataFrame
        ``column``, ``value``, then one count column per role: people by role, region,
        chapter and mode (``"(blank)"`` for no answer, ``"(others)"`` for the labels fewer
        than :data:`~pairwise.problem.SHARED_BY` people gave).
    topics : pandas.DataFrame
        ``topic``, ``needed`` (mentees), ``offered`` (mentors), for topics needed by at
        least one mentee and offered by no mentor.
    hidden_topics : int
        Such topics not named (fewer people gave them, see above).
    zero_criteria : tuple of str
        Criteria with a weight that are zero for every pair: nobody can score on them.
    no_mentor : pandas.DataFrame
        ``mentee_id``, ``reason``: mentees no mentor is allowed for under the rules.
    blanks : pandas.DataFrame
        ``column``, ``rules``, ``people`` (how many), ``ids``: blank answers in columns a
        rule reads.
    capacity, demand : int
        Places mentors offer and mentors mentees ask for (pairs; 0 for circles).
    """

    counts: pd.DataFrame
    topics: pd.DataFrame
    hidden_topics: int
    zero_criteria: tuple[str, ...]
    no_mentor: pd.DataFrame
    blanks: pd.DataFrame
    capacity: int = 0
    demand: int = 0
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """Every finding as one long table: ``section``, ``item``, ``value``."""
        rows: list[tuple[str, str, Any]] = []
        roles = [c for c in self.counts.columns if c not in ("column", "value")]
        for r in self.counts.itertuples(index=False):
            for role in roles:
                rows.append((f"{r.column} ({role})", str(r.value), getattr(r, role)))
        topics = zip(self.topics.topic, self.topics.needed, strict=True)
        rows += [("topic needed, offered by nobody", str(t), int(k)) for t, k in topics]
        rows += [("criterion zero for every pair", c, 0) for c in self.zero_criteria]
        stuck = zip(self.no_mentor.mentee_id, self.no_mentor.reason, strict=True)
        rows += [("no allowed mentor", str(x), str(why)) for x, why in stuck]
        blanks = zip(self.blanks.column, self.blanks.people, strict=True)
        rows += [("blank answers", str(c), int(k)) for c, k in blanks]
        rows += [("places", "capacity", self.capacity), ("places", "demand", self.demand)]
        return pd.DataFrame(rows, columns=["section", "item", "value"])

    def __str__(self) -> str:
        lines = ["people:"]
        with pd.option_context("display.width", 160, "display.max_rows", None):
            lines += ["  " + x for x in self.counts.to_string(index=False).splitlines()]
        if self.demand or self.capacity:
            ratio = self.capacity / self.demand if self.demand else float("inf")
            lines.append(
                f"places: mentors offer {self.capacity}, mentees ask for {self.demand}"
                f" ({ratio:.2f} places per mentee asked)"
            )
        if len(self.topics) or self.hidden_topics:
            lines.append("topics needed and offered by no mentor:")
            lines += [f"  {t.topic}: {t.needed} mentee(s)" for t in self.topics.itertuples()]
            if self.hidden_topics:
                lines.append(
                    f"  and {self.hidden_topics} topic(s) given by fewer than {SHARED_BY} people"
                )
        for c in self.zero_criteria:
            lines.append(f"criterion '{c}' is zero for every pair (is its column empty?)")
        if len(self.no_mentor):
            lines.append(f"{len(self.no_mentor)} mentee(s) with no allowed mentor:")
            lines += [
                f"  {m.mentee_id}: {m.reason}" for m in self.no_mentor.head(SHOWN_IDS).itertuples()
            ]
        for column, rules, people, who in self.blanks.itertuples(index=False):
            ids = ", ".join(list(who)[:SHOWN_IDS]) + (", ..." if len(who) > SHOWN_IDS else "")
            lines.append(f"{people} left '{column}' blank ({rules} reads it): {ids}")
        lines += list(self.notes)
        return "\n".join(lines)


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
        Name every label, even those fewer than :data:`~pairwise.problem.SHARED_BY` people
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
    threshold = 1 if show_values else SHARED_BY
    counts = _counts(cohort, threshold)
    topics, hidden = _topics(cohort, threshold)
    zero: tuple[str, ...] = ()
    no_mentor = pd.DataFrame(columns=["mentee_id", "reason"])
    blanks = pd.DataFrame(columns=["column", "rules", "people", "ids"])
    capacity = demand = 0
    if isinstance(problem, PairProblem):
        zero = tuple(c for c, (w, comp) in problem.criteria.items() if w > 0 and not np.any(comp))
        stuck = np.flatnonzero(~problem.allowed.any(axis=1) & (problem.demand > 0))
        no_mentor = pd.DataFrame(
            [(str(problem.mentee_ids[i]), problem.why_no_mentor(int(i))) for i in stuck],
            columns=["mentee_id", "reason"],
        )
        blanks = _blanks(cohort, problem.rule_columns)
        capacity, demand = int(problem.capacity.sum()), int(problem.demand.sum())
    elif isinstance(problem, CircleProblem) and problem.compat is not None:
        compat = problem.compat
        zero = tuple(
            c for c, w in compat.weights.items() if w > 0 and not np.any(compat.components[c])
        )
    return CohortReport(counts, topics, hidden, zero, no_mentor, blanks, capacity, demand)


def _counts(cohort: Cohort, threshold: int) -> pd.DataFrame:
    """People by role and by each counted answer."""
    role = pd.Series([str(r) for r in cohort.role], name="role")
    frames = [pd.crosstab(pd.Series(["all"] * len(role), name="value"), role).assign(column="role")]
    for column in COUNTED:
        values = pd.Series(
            ["(blank)" if v is None else str(v) for v in getattr(cohort, column)], name="value"
        )
        common = values.map(values.value_counts())
        values = values.where((common >= threshold) | (values == "(blank)"), "(others)")
        frames.append(pd.crosstab(values, role).assign(column=column))
    table = pd.concat(frames).reset_index().fillna(0)
    roles = [c for c in table.columns if c not in ("column", "value")]
    out = table[["column", "value", *roles]].astype({r: int for r in roles})
    out.columns.name = None
    return out.reset_index(drop=True)


def _topics(cohort: Cohort, threshold: int) -> tuple[pd.DataFrame, int]:
    """Topics some mentee needs that no mentor offers; how many of them are not named."""
    mentee = np.asarray(cohort.role == "mentee")
    mentor = np.asarray(cohort.role == "mentor")
    needs, offers = cohort.needs, cohort.expertise
    offered = {offers.vocab[k] for k in np.flatnonzero((offers.matrix[mentor] > 0).any(axis=0))}
    rows, hidden = [], 0
    for k, topic in enumerate(needs.vocab):
        needed = int((needs.matrix[mentee, k] > 0).sum())
        if needed == 0 or topic in offered:
            continue
        if needed >= threshold:
            rows.append((topic, needed, 0))
        else:
            hidden += 1
    return pd.DataFrame(rows, columns=["topic", "needed", "offered"]), hidden


def _blanks(cohort: Cohort, rule_columns: Any) -> pd.DataFrame:
    """People with no answer in each column a rule reads."""
    readers: dict[str, list[str]] = {}
    for rule, columns in rule_columns.items():
        for column in columns:
            readers.setdefault(column, []).append(rule)
    rows = []
    for column, rules in readers.items():
        blank = _blank(cohort, column)
        if blank is not None and blank.any():
            ids = [str(x) for x in np.asarray(cohort.ids)[blank]]
            rows.append((column, ", ".join(rules), len(ids), ids))
    return pd.DataFrame(rows, columns=["column", "rules", "people", "ids"])


def _blank(cohort: Cohort, column: str) -> np.ndarray | None:
    """Who left ``column`` blank (None for a column the cohort does not hold)."""
    value = getattr(cohort, column, None)
    if value is None:
        return None
    if hasattr(value, "matrix"):  # Tags, Levels
        return np.asarray(~np.asarray(value.matrix, dtype=bool).any(axis=1))
    if isinstance(value, tuple):
        return np.array([len(v) == 0 for v in value])
    return np.array([v is None for v in value]) if value.dtype == object else None
