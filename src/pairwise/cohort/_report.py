"""The cohort's part of the data-quality report: :class:`CohortReport`, :meth:`Cohort.report`.

Counts by role and answer, topics mentees need that no mentor offers, and blank answers:
what the answers alone say. :func:`pairwise.inspect` adds what the programme's rules say
(mentees with no allowed mentor, criteria zero for every pair, places against demand).

Answers are shown only as the programme's vocabulary: a label is named when at least
:data:`SHARED_BY` people gave it, the others are counted together, so a one-off
free-text answer never appears (``show_values=True`` names them all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

if TYPE_CHECKING:
    from pairwise.cohort import Cohort

__all__ = ["SHARED_BY", "CohortReport", "blank_answers", "cohort_report"]

#: A label is named in an explanation or report only when at least this many people gave
#: it (so a one-off free-text answer never is).
SHARED_BY = 3
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
        than :data:`SHARED_BY` people gave).
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
    minimum : int
        Mentees the mentors must take at least, over all mentors (minimum loads; pairs).
    short_of_minimum : tuple of str
        Mentors whose minimum load exceeds the mentees the rules allow for them: no
        matching can meet it.
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
    minimum: int = 0
    short_of_minimum: tuple[str, ...] = ()

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
        rows += [("places", "minimum", self.minimum)]
        rows += [("minimum above the mentees allowed", x, "") for x in self.short_of_minimum]
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
                + (f"; minimum loads take {self.minimum}" if self.minimum else "")
            )
        if len(self.topics) or self.hidden_topics:
            lines.append("topics needed and offered by no mentor:")
            lines += [f"  {t.topic}: {t.needed} mentee(s)" for t in self.topics.itertuples()]
            if self.hidden_topics:
                lines.append(
                    f"  and {self.hidden_topics} topic(s) given by fewer than {SHARED_BY} people"
                )
        if len(self.no_mentor):
            lines.append(f"{len(self.no_mentor)} mentee(s) with no allowed mentor:")
            lines += [
                f"  {m.mentee_id}: {m.reason}" for m in self.no_mentor.head(SHOWN_IDS).itertuples()
            ]
        lines += self.warnings(details=False)
        return "\n".join([*lines, *self.notes])

    def warnings(self, *, details: bool = True) -> list[str]:
        """The findings to act on, one line each (what ``pairwise match`` prints first).

        Criteria zero for every pair, blank answers in columns a rule reads, and (with
        ``details``) how many topics no mentor offers and how many mentees no mentor is
        allowed for.
        """
        lines = []
        if details and (len(self.topics) or self.hidden_topics):
            k = len(self.topics) + self.hidden_topics
            lines.append(f"{k} topic(s) needed by mentees are offered by no mentor")
        if details and len(self.no_mentor):
            lines.append(f"{len(self.no_mentor)} mentee(s) have no allowed mentor under the rules")
        if self.minimum > self.demand:
            lines.append(
                f"minimum loads add up to {self.minimum} mentees, but mentees ask for "
                f"{self.demand} mentors: no matching meets them all"
            )
        if self.short_of_minimum:
            who = list(self.short_of_minimum)
            ids = ", ".join(who[:SHOWN_IDS]) + (", ..." if len(who) > SHOWN_IDS else "")
            lines.append(
                f"{len(who)} mentor(s) have a minimum load above the mentees the rules "
                f"allow for them: {ids}"
            )
        for c in self.zero_criteria:
            lines.append(f"criterion '{c}' is zero for every pair (is its column empty?)")
        for column, rules, people, who in self.blanks.itertuples(index=False):
            ids = ", ".join(list(who)[:SHOWN_IDS]) + (", ..." if len(who) > SHOWN_IDS else "")
            lines.append(f"{people} left '{column}' blank ({rules} reads it): {ids}")
        return lines


def cohort_report(cohort: Cohort, *, show_values: bool = False) -> CohortReport:
    """What the answers alone say (see :meth:`pairwise.Cohort.report`)."""
    threshold = 1 if show_values else SHARED_BY
    topics, hidden = _topics(cohort, threshold)
    empty = pd.DataFrame(columns=["mentee_id", "reason"])
    blanks = pd.DataFrame(columns=["column", "rules", "people", "ids"])
    return CohortReport(_counts(cohort, threshold), topics, hidden, (), empty, blanks)


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


def blank_answers(cohort: Cohort, rule_columns: Mapping[str, Iterable[str]]) -> pd.DataFrame:
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


def _blank(cohort: Cohort, column: str) -> npt.NDArray[np.bool_] | None:
    """Who left ``column`` blank (None for a column the cohort does not hold)."""
    value = getattr(cohort, column, None)
    if value is None:
        return None
    if hasattr(value, "matrix"):  # Tags, Levels
        return np.asarray(~np.asarray(value.matrix, dtype=bool).any(axis=1))
    if isinstance(value, tuple):
        return np.array([len(v) == 0 for v in value])
    return np.array([v is None for v in value]) if value.dtype == object else None
