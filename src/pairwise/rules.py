"""Declarative programme rules, compiled to masks and numbers for a pairing problem.

A rule never calls a solver: :meth:`PairRule.compile` looks at the two sides of a
:class:`~pairwise.scoring.Compatibility` and returns a :class:`Compiled` piece (cells it
forbids, pairs it requires, capacities it sets, ...). :class:`~pairwise.problem.PairProblem`
combines the pieces and remembers which rule removed which cells, so an unmatched mentee
can be told *which* rules left her without a mentor.

| rule | effect |
|---|---|
| `Capacity(override=None)` | mentor capacities: the cohort's ``capacity`` column, or ``override`` |
| `Forbid(pairs=(), use_avoid=True)` | no pair named in anyone's ``avoid``, nor in ``pairs`` |
| `Require(pairs)` | these (mentee, mentor) pairs are fixed in every solution |
| `NoRepeat()` | no pair of earlier partners (``previous``, either direction) |
| `SameRegion()` / `SameCluster()` | pair only within a region / a region cluster |
| `SameChapter()` / `DifferentChapter()` | pair only within / only across chapters |
| `SharedLanguage()` | pair only people with a common language |
| `ModeRule()` | pair only people who can meet (in person needs the same region) |
| `VettedOnly()` | only vetted mentors |
| `MinScore(score)` | only pairs scoring at least ``score`` |
| `MentorsPerMentee(k)` | each mentee gets ``k`` mentors (an expert panel), or ``"per-topic"`` |
| `AllMatched()` | every mentee must be matched (infeasible otherwise) |
| `MatchRate(column, at_least)` | at least this share of each group of ``column`` matched |

Rules declare what later stages need, so nothing downstream reads a rule's display
``name`` (renaming one changes no behaviour): ``columns``, the answers a rule reads (named
when an explanation says why a mentee has no allowed mentor), and ``relates_two``, whether
it relates two people.

Circle problems (:class:`~pairwise.circles.CircleProblem`) use the same vocabulary where it
applies. Rules that relate two people (``relates_two``: ``Forbid``, ``NoRepeat``,
``SameRegion``, ``SameCluster``, ``SameChapter``, ``DifferentChapter``, ``ModeRule``) must
hold for every two members of a circle; since region, cluster and chapter are single
values, "every two members" is the same as "the whole circle". The rest have a circle form
(:meth:`CircleRule.compile_circles`):

| rule | effect in a circle |
|---|---|
| `KeepApart(pairs=(), use_avoid=True)` | never in one circle (``Forbid`` under its circle name) |
| `KeepTogether(groups)` / `Require(pairs)` | always in one circle |
| `SharedLanguage()` | one language every member speaks |
| `SharedSlot()` | one weekly slot every member has free |
| `MaxPerChapter(k)` | at most ``k`` members from one chapter |
| `Balance(column, value, at_least, at_most, or_none)` | bounds on members with a value |
| `VettedOnly()` | only vetted mentors lead circles |
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from pairwise import scoring
from pairwise._validate import id_text, is_int, is_real, positions
from pairwise.errors import Problem, ValidationError
from pairwise.fairness import NAMED_FROM, GroupFloor, floors, groups_of

if TYPE_CHECKING:
    from pairwise.cohort import Cohort
    from pairwise.scoring import Compatibility

__all__ = [
    "STANDARD_COLUMNS",
    "AllMatched",
    "AtMost",
    "Balance",
    "Capacity",
    "CircleCompiled",
    "CircleRule",
    "Compiled",
    "CountRule",
    "Different",
    "DifferentChapter",
    "Diversify",
    "Forbid",
    "KeepApart",
    "KeepTogether",
    "MatchRate",
    "MaxPerChapter",
    "MentorsPerMentee",
    "MinScore",
    "ModeRule",
    "NoRepeat",
    "PairRule",
    "Range",
    "Require",
    "Same",
    "SameChapter",
    "SameCluster",
    "SameRegion",
    "SetRule",
    "SharedLanguage",
    "SharedSlot",
    "ValueCap",
    "VettedOnly",
    "diversity_terms",
]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass
class Compiled:
    """What one rule contributes to a pairing problem.

    Attributes
    ----------
    forbidden : ndarray of bool, shape (n_mentees, n_mentors), optional
        Cells this rule forbids.
    required : list of (int, int)
        (mentee, mentor) positions this rule fixes.
    capacity : ndarray of int64, shape (n_mentors,), optional
        Mentor capacities this rule sets.
    demand : ndarray of int64, shape (n_mentees,), optional
        Mentors per mentee this rule sets.
    min_score : float, optional
        Smallest allowed pair score.
    all_matched : bool
        Whether every mentee must be matched.
    minimum : ndarray of int64, shape (n_mentors,), optional
        Fewest mentees per mentor this rule sets.
    panel : tuple of (topics, needs, offers), optional
        Per-topic panels: topic names, ``needs`` (n_mentees, n_topics) bool and ``offers``
        (n_mentors, n_topics) bool; each mentee gets one mentor per needed topic, a
        different one for each, who offers that topic.
    """

    forbidden: BoolArray | None = None
    required: list[tuple[int, int]] = field(default_factory=list)
    capacity: IntArray | None = None
    demand: IntArray | None = None
    min_score: float | None = None
    all_matched: bool = False
    panel: tuple[tuple[str, ...], BoolArray, BoolArray] | None = None
    minimum: IntArray | None = None
    #: minimum matched mentees per group (:class:`MatchRate`)
    group_floors: tuple[GroupFloor, ...] = ()
    #: at most ``k`` of a mentor's mentees per value of a column (:class:`AtMost`)
    value_caps: tuple[ValueCap, ...] = ()
    #: a soft rule's (weight, offending cells as 0/1 float32): ``weight`` is taken off the
    #: score of every offending cell, and shown as a criterion of weight ``-weight``
    soft: tuple[float, npt.NDArray[np.float32]] | None = None


@dataclass(frozen=True)
class ValueCap:
    """At most ``k`` of each mentor's mentees have any one value of ``column`` (a hard rule).

    What :class:`AtMost` compiles to for pairs: for every mentor ``j`` and value ``v``,
    ``sum(x[i, j] for i with member[i, v]) <= k``. A mentee with several values (a list
    column) counts once for each; one with none is not counted.

    Attributes
    ----------
    rule : str
        The rule's name (``"at most 2 per region"``).
    column : str
    values : tuple of str
    member : ndarray of bool, shape (n_mentees, len(values))
    k : int

    Examples
    --------
    >>> import numpy as np
    >>> cap = ValueCap("at most 1 per team", "team", ("a", "b"), np.eye(2, dtype=bool), 1)
    >>> cap.group(0)  # a value held by fewer than 3 mentees is not named
    'a group of 1 (team)'
    """

    rule: str
    column: str
    values: tuple[str, ...]
    member: BoolArray
    k: int

    def group(self, v: int) -> str:
        """Value ``v`` in programme terms, named only if enough mentees hold it.

        From :data:`~pairwise.fairness.NAMED_FROM` mentees on: a smaller group's value
        could single people out.
        """
        size = int(self.member[:, v].sum())
        if size >= NAMED_FROM:
            return f"{self.column} {self.values[v]}"
        return f"a group of {size} ({self.column})"

    def loads(self, pairs: npt.ArrayLike, n_mentors: int) -> IntArray:
        """``(n_mentors, len(values))`` counts of each mentor's mentees per value.

        Examples
        --------
        >>> import numpy as np
        >>> cap = ValueCap("at most 1 per team", "team", ("a",), np.ones((2, 1), bool), 1)
        >>> cap.loads([[0, 0], [1, 0]], 1).tolist()
        [[2]]
        """
        at = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        out = np.zeros((n_mentors, len(self.values)), dtype=np.int64)
        np.add.at(out, at[:, 1], self.member[at[:, 0]].astype(np.int64))
        return out


@runtime_checkable
class PairRule(Protocol):
    """A declarative rule for pairing problems."""

    @property
    def name(self) -> str:
        """Short name used in explanations (``"same region"``)."""
        ...

    def compile(self, compat: Compatibility) -> Compiled:
        """Translate the rule for this compatibility's mentees (rows) and mentors (columns)."""
        ...


@dataclass(frozen=True)
class SetRule:
    """A whole-circle rule: the members of a circle share at least one label.

    Attributes
    ----------
    name : str
        Display name (explanations only; nothing branches on it).
    labels : tuple of str
    member : ndarray of bool, shape (n_people, len(labels))
        ``member[i, k]``: person ``i`` has ``labels[k]``.
    noun : str
        What one label is, in explanations ("language", "weekly slot").
    field : str
        The column that publishes each circle's chosen label in results (``"slot"``,
        ``"language"``).
    rank : ndarray of int16, shape (n_people, len(labels)), optional
        ``rank[i, k]``: where person ``i`` listed ``labels[k]`` (1 = first, her
        preference; 0 = not listed); ``None`` when the answers carry no order.
    """

    name: str
    labels: tuple[str, ...]
    member: BoolArray
    noun: str = "label"
    field: str = "label"
    rank: npt.NDArray[np.int16] | None = None


@dataclass(frozen=True)
class CountRule:
    """A balance rule: bounds on how many members of a circle have each label.

    Attributes
    ----------
    name : str
    labels : tuple of str
    member : ndarray of bool, shape (n_people, len(labels))
    at_least : int
        Smallest count per label in every circle (``0``: no floor).
    at_most : int or None
        Largest count per label in every circle.
    or_none : bool
        The floor applies only to circles with at least one such member ("2 or none").
    """

    name: str
    labels: tuple[str, ...]
    member: BoolArray
    at_least: int = 0
    at_most: int | None = None
    or_none: bool = False


@dataclass
class CircleCompiled:
    """What one rule contributes to a circle problem.

    Attributes
    ----------
    apart : ndarray of bool, shape (n_people, n_people), optional
        People who must not share a circle.
    together : list of (int, int)
        People who must share a circle.
    shared : list of SetRule
    counts : list of CountRule
    may_lead : ndarray of bool, shape (n_people,), optional
        People who may lead a mentor-led circle.
    penalty : ndarray of float64, shape (n_people, n_people), optional
        A soft rule's penalty on each pair of people (weight included, symmetric, zero
        diagonal), taken off their affinity; may be negative (a bonus).
    """

    apart: BoolArray | None = None
    together: list[tuple[int, int]] = field(default_factory=list)
    shared: list[SetRule] = field(default_factory=list)
    counts: list[CountRule] = field(default_factory=list)
    may_lead: BoolArray | None = None
    penalty: npt.NDArray[np.float64] | None = None


@runtime_checkable
class CircleRule(Protocol):
    """A rule with a circle form (the people of a circle problem in one cohort)."""

    @property
    def name(self) -> str:
        """Short name used in explanations."""
        ...

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """Translate the rule for the people of a circle problem."""
        ...


def _people_pairs(
    people: Cohort, pairs: Iterable[Sequence[Any]], rule: str
) -> list[tuple[int, int]]:
    pos = positions(people.ids)
    out: list[tuple[int, int]] = []
    problems: list[Problem] = []
    for k, group in enumerate(pairs):
        if isinstance(group, str | bytes) or not isinstance(group, Iterable):
            problems.append(
                Problem(f"{rule}: not a group", row=str(k), value=group, expected="ids")
            )
            continue
        members = [id_text(x) for x in group]
        unknown = [x for x in members if x not in pos]
        for x in unknown:
            problems.append(
                Problem(f"{rule}: unknown id", row=str(k), value=x, expected="a person id")
            )
        known = [pos[x] for x in members if x in pos]
        out.extend((known[0], j) for j in known[1:])
    if problems:
        raise ValidationError(problems)
    return out


def _labelled(people: Cohort, column: str, rule: str) -> tuple[tuple[str, ...], BoolArray]:
    """One-hot (text columns) or membership (list columns) matrix of ``column``."""
    if column in ("languages", "stage", "slots"):
        tags = getattr(people, column)
        return tuple(tags.vocab), np.asarray(tags.matrix, dtype=bool)
    if column in ("region", "cluster", "chapter", "mode", "role"):
        values = getattr(people, column)
        labels = tuple(sorted({str(v) for v in values if v is not None}))
        pos = {v: k for k, v in enumerate(labels)}
        member = np.zeros((len(values), len(labels)), dtype=bool)
        for i, v in enumerate(values):
            if v is not None:
                member[i, pos[str(v)]] = True
        return labels, member
    raise ValidationError(
        [
            Problem(
                f"{rule}: unknown column",
                column=column,
                expected="region, cluster, chapter, mode, role, languages, stage or slots",
            )
        ]
    )


def _same(a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> BoolArray:
    """``a[i] == b[j]`` for every pair, missing (None) never equal."""
    known_a = np.array([x is not None for x in a], dtype=bool)
    known_b = np.array([x is not None for x in b], dtype=bool)
    values = {v: k for k, v in enumerate(sorted({str(x) for x in (*a, *b) if x is not None}))}
    ca = np.array([values[str(x)] if x is not None else -1 for x in a], dtype=np.int64)
    cb = np.array([values[str(x)] if x is not None else -2 for x in b], dtype=np.int64)
    out: BoolArray = (ca[:, None] == cb[None, :]) & known_a[:, None] & known_b[None, :]
    return out


def _link_mask(compat: Compatibility, column: Literal["avoid", "previous"]) -> BoolArray:
    """Cells (i, j) where mentee i lists mentor j in ``column`` or mentor j lists mentee i."""
    a, b = compat.mentees, compat.mentors
    out = np.zeros((len(a), len(b)), dtype=bool)
    pos_a, pos_b = positions(a.ids), positions(b.ids)
    for i, xs in enumerate(getattr(a, column)):
        for x in xs:
            if x in pos_b:
                out[i, pos_b[x]] = True
    for j, xs in enumerate(getattr(b, column)):
        for x in xs:
            if x in pos_a:
                out[pos_a[x], j] = True
    return out


def _positions(
    compat: Compatibility, pairs: Iterable[tuple[Any, Any]], rule: str
) -> list[tuple[int, int]]:
    problems: list[Problem] = []
    out: list[tuple[int, int]] = []
    rows, cols = positions(compat.mentee_ids), positions(compat.mentor_ids)
    for pair in pairs:
        try:
            mentee, mentor = pair
        except (TypeError, ValueError):
            problems.append(Problem(f"{rule}: not a (mentee, mentor) pair", value=pair))
            continue
        i, j = rows.get(id_text(mentee), -1), cols.get(id_text(mentor), -1)
        if i < 0:
            problems.append(Problem(f"{rule}: unknown mentee id", value=str(mentee)))
        if j < 0:
            problems.append(Problem(f"{rule}: unknown mentor id", value=str(mentor)))
        if i >= 0 and j >= 0:
            out.append((i, j))
    if problems:
        raise ValidationError(problems)
    return out


def _groups(rule: Any, option: str, size: int | None) -> None:
    """Check (and freeze as tuples) an option that lists groups of ids (pairs: ``size=2``).

    Raises
    ------
    ValidationError
        Listing every entry that is not a group of ids of the right size (ids only).
    """
    value = getattr(rule, option)
    what = "(id, id) pairs" if size == 2 else "groups of ids"
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(
            [Problem(f"{rule.name}: {option} must list {what}", expected=f"e.g. [{_EXAMPLE}]")]
        )
    groups, problems = [], []
    for k, group in enumerate(value):
        items = None if isinstance(group, str | bytes) or not isinstance(group, Iterable) else group
        members = tuple(items) if items is not None else ()
        if items is None or not members or (size is not None and len(members) != size):
            problems.append(Problem(f"{rule.name}: bad entry", row=f"{option}[{k}]", expected=what))
        groups.append(members)
    if problems:
        raise ValidationError(problems)
    object.__setattr__(rule, option, tuple(groups))


_EXAMPLE = '["mentee-0001", "mentor-0003"]'


@dataclass(frozen=True)
class Capacity:
    """Mentor capacities and minimum loads: the cohort's ``capacity`` and ``minimum`` columns.

    Parameters
    ----------
    override : int or sequence of int, optional
        One capacity for every mentor, or one per mentor (in the compatibility's order),
        instead of the ``capacity`` column.
    minimum : int or sequence of int, optional
        Fewest mentees per mentor (a hard rule; one for all, or one per mentor), at most
        her capacity: "every recruited mentor gets a mentee" is ``minimum=1``. Given, it
        replaces the cohort's ``minimum`` column (as ``override`` replaces ``capacity``);
        not given, the column applies (0 where the cohort has none), and a mentor whose
        column minimum is above the capacity ``override`` gives her is a ValidationError.

    Examples
    --------
    >>> import pairwise
    >>> from pairwise.rules import Capacity
    >>> compat = pairwise.score(pairwise.make_cohort(12, 6, seed=1))
    >>> p = pairwise.PairProblem.from_compatibility(compat, [Capacity(3, minimum=2)])
    >>> m = pairwise.solve(p)
    >>> import numpy as np
    >>> np.bincount(m.assignment[:, 1], minlength=6).tolist()
    [2, 2, 2, 2, 2, 2]
    """

    override: int | Sequence[int] | None = None
    name: str = "capacity"
    minimum: int | Sequence[int] | None = None

    def compile(self, compat: Compatibility) -> Compiled:
        """Capacities and minimum loads per mentor."""
        m = len(compat.mentor_ids)
        if self.override is None:
            cap = np.asarray(compat.mentors.capacity, dtype=np.int64).copy()
        else:
            cap = _whole_per_mentor(
                self.override, m, "capacity override must be whole numbers", value=self.override
            )
        if (cap < 0).any():
            raise ValidationError(
                [Problem("negative capacity", column="capacity", expected=">= 0")]
            )
        if self.minimum is None:
            low = np.asarray(compat.mentors.minimum, dtype=np.int64).copy()
            why, expected = "minimum above the capacity override", "at most {}"
        else:
            low = _whole_per_mentor(
                self.minimum, m, "minimum must be whole numbers", column="minimum"
            )
            why, expected = "minimum out of range", "0 to the capacity {}"
        bad = np.flatnonzero((low < 0) | (low > cap)).tolist()
        if bad:
            raise ValidationError(
                [
                    Problem(
                        why,
                        row=f"mentor {compat.mentor_ids[j]}",
                        column="minimum",
                        expected=expected.format(int(cap[j])),
                    )
                    for j in bad
                ]
            )
        return Compiled(capacity=cap, minimum=low)


def _whole_per_mentor(given: Any, m: int, message: str, **where: Any) -> IntArray:
    """One whole number for every mentor, or one per mentor, as an array.

    Raises
    ------
    ValidationError
        ``message`` at ``where`` (a Problem's ``column``/``value``) when it is not.
    """
    raw = np.asarray(given)
    if (
        raw.ndim > 1
        or (raw.ndim == 1 and raw.shape != (m,))
        or not np.issubdtype(raw.dtype, np.number)
        or raw.dtype == np.bool_
        or not np.isfinite(raw).all()
        or (raw != np.round(raw)).any()
    ):
        raise ValidationError(
            [Problem(message, expected=f"one integer, or {m} (one per mentor)", **where)]
        )
    return np.broadcast_to(raw.astype(np.int64), (m,)).copy()


@dataclass(frozen=True)
class Forbid:
    """Pairs that must not be formed: the cohort's ``avoid`` lists and explicit ``pairs``.

    Parameters
    ----------
    pairs : iterable of (mentee_id, mentor_id)
        Extra do-not-pair entries.
    use_avoid : bool, default True
        Also forbid every pair in which either person lists the other in ``avoid``.
    """

    #: The answers this rule reads (named in explanations of unmatched mentees).
    columns: ClassVar[tuple[str, ...]] = ()
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True
    pairs: tuple[tuple[Any, Any], ...] = ()
    use_avoid: bool = True
    name: str = "do-not-pair"

    def __post_init__(self) -> None:
        _groups(self, "pairs", 2)
        flag: object = self.use_avoid
        if not isinstance(flag, bool):
            raise ValidationError(
                [Problem(f"bad {self.name}: use_avoid", expected="true or false")]
            )

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells."""
        mask = _link_mask(compat, "avoid") if self.use_avoid else np.zeros(compat.shape, bool)
        for i, j in _positions(compat, self.pairs, self.name):
            mask[i, j] = True
        return Compiled(forbidden=mask)


@dataclass(frozen=True)
class KeepApart(Forbid):
    """People who must never share a circle: the ``avoid`` lists and explicit ``pairs``.

    The circle name of :class:`Forbid`; in a pairing problem it forbids the same pairs.
    """

    name: str = "keep apart"


@dataclass(frozen=True)
class Require:
    """Pre-agreed (mentee_id, mentor_id) pairs, fixed in every solution.

    In a circle problem: the two people share a circle.
    """

    pairs: tuple[tuple[Any, Any], ...] = ()
    name: str = "required pair"

    def __post_init__(self) -> None:
        _groups(self, "pairs", 2)

    def compile(self, compat: Compatibility) -> Compiled:
        """Required positions."""
        return Compiled(required=_positions(compat, self.pairs, self.name))

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """People who share a circle."""
        return CircleCompiled(together=_people_pairs(people, self.pairs, self.name))


@dataclass(frozen=True)
class KeepTogether:
    """Groups of people who must share a circle (friends, a pre-formed trio).

    Parameters
    ----------
    groups : iterable of iterables of ids
    """

    groups: tuple[tuple[Any, ...], ...] = ()
    name: str = "keep together"

    def __post_init__(self) -> None:
        _groups(self, "groups", None)

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """People who share a circle."""
        return CircleCompiled(together=_people_pairs(people, self.groups, self.name))


@dataclass(frozen=True)
class SharedSlot:
    """The whole circle has at least one weekly slot (``slots``) in common."""

    name: str = "shared slot"

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """A shared-label rule over ``slots``."""
        labels, member = _labelled(people, "slots", self.name)
        rank = people.slots.rank
        return CircleCompiled(
            shared=[SetRule(self.name, labels, member, "weekly slot", "slot", rank)]
        )


@dataclass(frozen=True)
class Balance:
    """Bounds on how many members of each circle have a value of ``column``.

    Parameters
    ----------
    column : str
        ``region``, ``cluster``, ``chapter``, ``mode``, ``role``, ``languages``, ``stage`` or
        ``slots``.
    value : str, optional
        Only this value; by default every value of the column is bounded separately.
    at_least : int, default 0
        Smallest count in every circle.
    at_most : int, optional
        Largest count in every circle.
    or_none : bool, default False
        Apply ``at_least`` only to circles that have any such member: ``at_least=2,
        or_none=True`` means "nobody alone from this group".

    Examples
    --------
    >>> from pairwise.rules import Balance
    >>> Balance("stage", "first term", at_least=2, or_none=True).name
    'balance stage=first term'
    """

    column: str
    value: str | None = None
    at_least: int = 0
    at_most: int | None = None
    or_none: bool = False

    @property
    def name(self) -> str:
        """``balance column`` or ``balance column=value``."""
        return f"balance {self.column}" + ("" if self.value is None else f"={self.value}")

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """A count rule."""
        problems = []
        if not isinstance(self.at_least, int) or self.at_least < 0:
            problems.append(Problem(f"{self.name}: bad at_least", value=self.at_least))
        if self.at_most is not None and (
            not isinstance(self.at_most, int) or self.at_most < max(self.at_least, 0)
        ):
            problems.append(
                Problem(f"{self.name}: bad at_most", value=self.at_most, expected=">= at_least")
            )
        if problems:
            raise ValidationError(problems)
        labels, member = _labelled(people, self.column, self.name)
        if self.value is not None:
            if str(self.value) not in labels:
                raise ValidationError(
                    [
                        Problem(
                            f"{self.name}: value not in the cohort",
                            column=self.column,
                            value=self.value,
                        )
                    ]
                )
            k = labels.index(str(self.value))
            labels, member = (labels[k],), member[:, [k]]
        return CircleCompiled(
            counts=[CountRule(self.name, labels, member, self.at_least, self.at_most, self.or_none)]
        )


@dataclass(frozen=True)
class MaxPerChapter:
    """At most ``k`` members of a circle from one chapter."""

    k: int = 2

    @property
    def name(self) -> str:
        """``at most k per chapter``."""
        return f"at most {self.k} per chapter"

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """A count rule over ``chapter``."""
        if not isinstance(self.k, int) or self.k < 1:
            raise ValidationError([Problem(f"{self.name}: bad k", value=self.k, expected=">= 1")])
        labels, member = _labelled(people, "chapter", self.name)
        return CircleCompiled(counts=[CountRule(self.name, labels, member, 0, self.k)])


#: The cohort's own columns that rules on any column (``Same``, ``Different``, ``AtMost``,
#: ``Diversify``) read besides its extra columns; ``Range`` reads extra columns only.
STANDARD_COLUMNS = ("region", "cluster", "chapter", "mode", "role", "languages", "stage", "slots")
_STANDARD = STANDARD_COLUMNS


def _column_sets(people: Cohort, column: object, rule: str) -> list[frozenset[str]]:
    """The values of ``column`` per person as sets (empty: missing), any column of the cohort.

    Standard text columns give one value, list columns (``languages``, ``stage``, ``slots``)
    their labels; an extra column gives its cell as text, or the items of a list cell.

    Raises
    ------
    ValidationError
        For a column the cohort does not have (listing the ones it has).
    """
    if isinstance(column, str) and column in _STANDARD:
        labels, member = _labelled(people, column, rule)
        return [frozenset(labels[k] for k in np.flatnonzero(row)) for row in member]
    if not isinstance(column, str) or column not in people.extra.columns:
        raise ValidationError([_unknown_column(people, column, rule)])
    out: list[frozenset[str]] = []
    for cell in people.extra[column].tolist():
        if isinstance(cell, list | tuple | set | frozenset):
            out.append(frozenset(str(x) for x in cell if not _missing(x)))
        else:
            out.append(frozenset() if _missing(cell) else frozenset({str(cell)}))
    return out


def _unknown_column(people: Cohort, column: object, rule: str) -> Problem:
    available = ", ".join([*_STANDARD, *(str(c) for c in people.extra.columns)])
    return Problem(f"{rule}: unknown column", column=str(column), expected=available)


def _missing(cell: object) -> bool:
    """A blank cell: None, NaN (also ``pandas.NA``/``NaT``) or empty text."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return True
    if isinstance(cell, float | np.floating):
        return math.isnan(cell)
    return type(cell).__name__ in ("NAType", "NaTType")


def _column_numbers(
    sides: Sequence[Cohort], column: object, rule: str
) -> list[npt.NDArray[np.float64]]:
    """The numbers of an extra column on each side (NaN: missing).

    Raises
    ------
    ValidationError
        For an unknown or standard (non-numeric) column, or listing every cell that is not a
        finite number (by person id and column, never the cell's text).
    """
    first = sides[0]
    if not isinstance(column, str) or column not in first.extra.columns:
        if isinstance(column, str) and column in _STANDARD:
            raise ValidationError(
                [Problem(f"{rule}: not a numeric column", column=column, expected="numbers")]
            )
        raise ValidationError([_unknown_column(first, column, rule)])
    out, problems = [], []
    for people in sides:
        x = np.full(len(people), np.nan)
        for i, cell in enumerate(people.extra[column].tolist()):
            if _missing(cell):
                continue
            number = isinstance(cell, int | float | np.integer | np.floating | str)
            try:
                if isinstance(cell, bool | np.bool_) or not number:
                    raise ValueError
                x[i] = float(cell)
            except (TypeError, ValueError):
                x[i] = np.nan
                problems.append(
                    Problem(f"{rule}: not a number", row=str(people.ids[i]), column=column)
                )
                continue
            if not math.isfinite(x[i]):
                problems.append(
                    Problem(f"{rule}: not a finite number", row=str(people.ids[i]), column=column)
                )
        out.append(x)
    if problems:
        raise ValidationError(problems)
    return out


def _shares(a: list[frozenset[str]], b: list[frozenset[str]]) -> BoolArray:
    """``a[i]`` and ``b[j]`` share at least one value (missing shares nothing)."""
    out: BoolArray = _common(a, b) > 0
    return out


def _common(a: list[frozenset[str]], b: list[frozenset[str]]) -> npt.NDArray[np.int64]:
    """How many values ``a[i]`` and ``b[j]`` have in common."""
    labels = sorted(set().union(*a, *b))
    pos = {v: k for k, v in enumerate(labels)}

    def onehot(xs: list[frozenset[str]]) -> npt.NDArray[np.int64]:
        m = np.zeros((len(xs), len(labels)), dtype=np.int64)
        for i, s in enumerate(xs):
            for v in s:
                m[i, pos[v]] = 1
        return m

    out: npt.NDArray[np.int64] = onehot(a) @ onehot(b).T
    return out


def _check_column(rule: Any, soft: bool = True) -> None:
    """Validate ``column`` and ``weight`` (None: hard; a positive finite number: soft)."""
    problems = []
    if not isinstance(rule.column, str) or not rule.column:
        problems.append(Problem(f"{rule.name}: bad column", expected="a column name (text)"))
    w: object = rule.weight
    if w is not None:
        if not soft:
            problems.append(
                Problem(
                    f"{rule.name}: hard only (weight=None)",
                    expected="no weight: its penalty max(0, count - k) is not a sum over pairs",
                )
            )
        elif not is_real(w) or not 0 < float(w) < math.inf:  # type: ignore[arg-type]
            problems.append(
                Problem(f"{rule.name}: bad weight", expected="None (hard) or a number > 0")
            )
    if problems:
        raise ValidationError(problems)


def _soft_pairs(weight: float, offending: BoolArray) -> Compiled:
    """A soft pair rule: ``weight`` off the score of every offending cell."""
    return Compiled(soft=(float(weight), offending.astype(np.float32)))


def _pair_penalty(weight: float, offending: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """A soft circle rule's penalty per pair of people (symmetric, zero diagonal)."""
    p = float(weight) * np.asarray(offending, dtype=np.float64)
    p = (p + p.T) / 2
    np.fill_diagonal(p, 0.0)
    return p


@dataclass(frozen=True)
class _OnColumn:
    """What :class:`Same` and :class:`Different` share: a column, and a weight if soft."""

    column: str
    weight: float | None = None
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_column(self)

    @property
    def columns(self) -> tuple[str, ...]:
        """The answer this rule reads."""
        return (self.column,)

    @property
    def name(self) -> str:
        """The rule's name in messages (each rule's own)."""
        raise NotImplementedError

    def _breaks(self, a: list[frozenset[str]], b: list[frozenset[str]]) -> BoolArray:
        """Where a person of ``a`` and one of ``b`` break the rule (each rule's own)."""
        raise NotImplementedError

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden (hard) or penalised (soft) cells: the pairs that break the rule."""
        a = _column_sets(compat.mentees, self.column, self.name)
        b = _column_sets(compat.mentors, self.column, self.name)
        if self.weight is not None:
            return _soft_pairs(self.weight, self._breaks(a, b))
        return Compiled(forbidden=self._breaks(a, b))


@dataclass(frozen=True)
class Same(_OnColumn):
    """Same value of any column: pairs share it; circles all share it.

    Pairs: mentee and mentor share the value of ``column`` (list columns and list cells:
    at least one value in common); a missing value matches nobody. Circles: every member
    has the same value (list columns: one value every member has, like ``SharedLanguage``).

    Soft (``weight`` given): ``weight`` is taken off the score of every pair, and off the
    affinity of every two circle members, with no value in common (for list columns this
    is the pairwise form: every two members share a value, not necessarily one value all
    share).

    Parameters
    ----------
    column : str
        A standard column (``region``, ``chapter``, ``languages``, ...) or any extra column of
        the cohort (``Cohort.extra``).
    weight : float, optional
        None (default): a hard rule. A number > 0: a soft rule with this penalty.

    Examples
    --------
    >>> import pandas as pd, pairwise
    >>> cohort = pairwise.make_cohort(2, 2, seed=0)
    >>> cohort = pairwise.Cohort(**{**vars(cohort), "extra": pd.DataFrame({"team": list("abab")})})
    >>> Same("team").compile(pairwise.score(cohort)).forbidden.tolist()
    [[False, True], [True, False]]
    >>> Same("team", weight=0.5).compile(pairwise.score(cohort)).soft[1].tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """

    @property
    def name(self) -> str:
        """``same column``."""
        return f"same {self.column}"

    def _breaks(self, a: list[frozenset[str]], b: list[frozenset[str]]) -> BoolArray:
        """No value in common."""
        return ~_shares(a, b)

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """People apart where they differ (one value each), or one shared label (lists)."""
        values = _column_sets(people, self.column, self.name)
        if self.weight is not None:
            return CircleCompiled(penalty=_pair_penalty(self.weight, ~_shares(values, values)))
        if all(len(v) <= 1 for v in values):
            return CircleCompiled(apart=~_shares(values, values))
        labels, member = _count_matrix(people, self.column, self.name)
        return CircleCompiled(shared=[SetRule(self.name, labels, member, self.column)])


@dataclass(frozen=True)
class Different(_OnColumn):
    """Different values of any column: no pair (no two circle members) share a value.

    Missing values share nothing, so they never break the rule; list values break it when
    they have one value in common. Soft (``weight`` given): ``weight`` off the score of
    every pair, and off the affinity of every two circle members, sharing a value.

    Parameters
    ----------
    column : str
        A standard or extra column.
    weight : float, optional
        None (default): hard. A number > 0: soft, with this penalty.

    Examples
    --------
    >>> import pandas as pd, pairwise
    >>> cohort = pairwise.make_cohort(2, 2, seed=0)
    >>> cohort = pairwise.Cohort(**{**vars(cohort), "extra": pd.DataFrame({"team": list("abab")})})
    >>> Different("team").compile(pairwise.score(cohort)).forbidden.tolist()
    [[True, False], [False, True]]
    """

    @property
    def name(self) -> str:
        """``different column``."""
        return f"different {self.column}"

    def _breaks(self, a: list[frozenset[str]], b: list[frozenset[str]]) -> BoolArray:
        """A value in common."""
        return _shares(a, b)

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """People apart (hard) or penalised (soft) where they share a value."""
        values = _column_sets(people, self.column, self.name)
        common = _shares(values, values)
        np.fill_diagonal(common, False)
        if self.weight is not None:
            return CircleCompiled(penalty=_pair_penalty(self.weight, common))
        return CircleCompiled(apart=common)


@dataclass(frozen=True)
class Range:
    """Numbers close together: ``|x - y| <= max_spread`` for a pair and for two circle members.

    In a circle "every two members" is the same as ``max - min <= max_spread``. A missing
    number is unbounded (it never breaks the rule). Soft (``weight`` given): ``weight`` off
    the score of every pair, and off the affinity of every two circle members, further
    apart than ``max_spread``.

    Parameters
    ----------
    column : str
        An extra column of numbers (age, years of experience).
    max_spread : float
        The largest allowed difference (>= 0).
    weight : float, optional
        None (default): hard. A number > 0: soft, with this penalty.

    Examples
    --------
    >>> import pandas as pd, pairwise
    >>> cohort = pairwise.make_cohort(2, 2, seed=0)
    >>> extra = pd.DataFrame({"age": [30, 50, 33, 54]})  # two mentees, then two mentors
    >>> cohort = pairwise.Cohort(**{**vars(cohort), "extra": extra})
    >>> Range("age", 5).compile(pairwise.score(cohort)).forbidden.tolist()
    [[False, True], [True, False]]
    """

    column: str
    max_spread: float
    weight: float | None = None
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True

    def __post_init__(self) -> None:
        problems = []
        try:
            _check_column(self)
        except ValidationError as e:
            problems.extend(e.problems)
        value: object = self.max_spread
        if not is_real(value) or not 0 <= float(value) < math.inf:  # type: ignore[arg-type]
            problems.append(Problem(f"{self.name}: bad max_spread", expected="a number >= 0"))
        if problems:
            raise ValidationError(problems)

    @property
    def name(self) -> str:
        """``range column``."""
        return f"range {self.column}"

    @property
    def columns(self) -> tuple[str, ...]:
        """The answer this rule reads."""
        return (self.column,)

    def _far(self, a: Cohort, b: Cohort) -> BoolArray:
        x, *rest = _column_numbers((a,) if a is b else (a, b), self.column, self.name)
        y = rest[0] if rest else x
        with np.errstate(invalid="ignore"):
            far: BoolArray = np.abs(x[:, None] - y[None, :]) > float(self.max_spread)
        return far

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden (hard) or penalised (soft) cells: pairs further apart than ``max_spread``."""
        far = self._far(compat.mentees, compat.mentors)
        if self.weight is not None:
            return _soft_pairs(self.weight, far)
        return Compiled(forbidden=far)

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """People apart (hard) or penalised (soft) further apart than ``max_spread``."""
        far = self._far(people, people)
        if self.weight is not None:
            return CircleCompiled(penalty=_pair_penalty(self.weight, far))
        return CircleCompiled(apart=far)


@dataclass(frozen=True)
class AtMost:
    """At most ``k`` per value of any column: in a circle, or among a mentor's mentees (hard only).

    Circles: a count rule like :class:`MaxPerChapter` over any column. Pairs: no mentor
    gets more than ``k`` mentees with the same value ("at most 2 mentees from one
    region per mentor"), a :class:`ValueCap`; ``auto`` then solves with CP-SAT (the rule
    breaks the flow structure), ``check`` verifies it and an infeasible problem names the
    mentors and groups in conflict. List columns count a person once for each of her
    values; a person with no value is not counted.

    It has no soft form: its penalty ``max(0, count - k)`` is not a sum over pairs of
    members, so neither the circle search's affinity nor its bounds would see it exactly.

    Parameters
    ----------
    column : str
    k : int
        Largest count per value (>= 1).
    weight : None
        Hard only; a weight is a ValidationError.

    Examples
    --------
    >>> import pairwise
    >>> AtMost("team", 2).name
    'at most 2 per team'
    >>> compat = pairwise.score(pairwise.make_cohort(30, 6, seed=1))
    >>> p = pairwise.PairProblem.from_compatibility(
    ...     compat, [pairwise.rules.Capacity(5), AtMost("region", 2)]
    ... )
    >>> m = pairwise.solve(p, time_limit=5)
    >>> pairwise.check(p, m)
    []
    """

    column: str
    k: int = 1
    weight: None = None

    def __post_init__(self) -> None:
        problems = []
        try:
            _check_column(self, soft=False)
        except ValidationError as e:
            problems.extend(e.problems)
        if not is_int(self.k) or int(self.k) < 1:
            problems.append(Problem(f"{self.name}: bad k", expected="an int >= 1"))
        if problems:
            raise ValidationError(problems)

    @property
    def name(self) -> str:
        """``at most k per column``."""
        return f"at most {self.k} per {self.column}"

    @property
    def columns(self) -> tuple[str, ...]:
        """The answer this rule reads."""
        return (self.column,)

    def compile(self, compat: Compatibility) -> Compiled:
        """A :class:`ValueCap` over the mentees' values of ``column``."""
        labels, member = _count_matrix(compat.mentees, self.column, self.name)
        cap = ValueCap(self.name, str(self.column), labels, member, int(self.k))
        return Compiled(value_caps=(cap,))

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """A count rule over ``column``."""
        labels, member = _count_matrix(people, self.column, self.name)
        return CircleCompiled(counts=[CountRule(self.name, labels, member, 0, int(self.k))])


def _count_matrix(people: Cohort, column: str, rule: str) -> tuple[tuple[str, ...], BoolArray]:
    values = _column_sets(people, column, rule)
    labels = tuple(sorted(set().union(*values)))
    member = np.array([[x in v for x in labels] for v in values], dtype=bool)
    return labels, member.reshape(len(values), len(labels))


def diversity_terms(
    member: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Soft :class:`Diversify` as pair and member terms (its penalty is pairwise).

    With ``member[i, v]`` (person ``i`` has value ``v``), cohort shares ``p_v`` (the mean
    of column ``v``), ``q_i = sum_v member[i, v] p_v`` and ``P = sum_v p_v^2``, a circle
    ``C`` of ``s`` members with counts ``c_v`` deviates from the cohort's mix by

    ``D(C) = sum_v (c_v - s p_v)^2 = sum_{i<j in C} t_ij + sum_{i in C} m_i``

    with ``t_ij = 2 (|V_i & V_j| - q_i - q_j + P)`` and ``m_i = |V_i| - 2 q_i + P``
    (expand the square: ``sum_v c_v^2 = sum_{i,j} |V_i & V_j|``, ``s sum_v p_v c_v =
    sum_{i,j} q_i``, ``s^2 = sum_{i,j} 1``, over ordered pairs with ``i = j`` included).

    Parameters
    ----------
    member : array_like of bool, shape (n, n_values)

    Returns
    -------
    t : ndarray of float64, shape (n, n)
        Pair terms (zero diagonal).
    m : ndarray of float64, shape (n,)
        Member terms.

    Examples
    --------
    >>> import numpy as np
    >>> member = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=bool)
    >>> t, m = diversity_terms(member)
    >>> float(t[0, 1]), float(t[0, 2]), float(m[0])  # same value, different, member term
    (1.0, -1.0, 0.5)
    """
    x = np.asarray(member, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)
    p = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    q = x @ p
    big_p = float(p @ p)
    t = 2 * (x @ x.T - q[:, None] - q[None, :] + big_p)
    np.fill_diagonal(t, 0.0)
    m = x.sum(axis=1) - 2 * q + big_p
    return t, m


@dataclass(frozen=True)
class Diversify:
    """Each circle's mix of a column close to the cohort's shares (circles only).

    With ``n_v`` of the ``n`` people having value ``v``, a circle of ``s`` members should hold
    about ``s * n_v / n`` of them.

    Hard (default): circle sizes vary, so the bounds hold for every size in ``sizes``: at
    least ``floor(min_size * n_v / n)`` and at most ``ceil(max_size * n_v / n)`` members
    with ``v`` (one count rule per value). Without ``sizes``, the problem's own
    (:meth:`~pairwise.circles.CircleProblem.from_compatibility` fills in its ``min_size``
    and ``max_size``, the smallest and the largest when given per circle).

    Soft (``weight`` given): ``weight * sum_v (c_v - s p_v)^2`` is the circle's deviation;
    it is a sum over its pairs of members plus one term per member
    (:func:`diversity_terms`), so ``weight * t_ij`` is taken off the affinity of every
    two people (a bonus where ``t_ij < 0``: two people of different values). The member
    terms add up to a constant when everyone is placed (``all_placed=True``); otherwise
    they are not in the objective. Pairs have no form of it.

    Parameters
    ----------
    column : str
    sizes : (int, int), optional
        The smallest and largest circle size (hard form only); by default the problem's.
    weight : float, optional
        None (default): hard. A number > 0: soft, with this penalty.

    Examples
    --------
    >>> Diversify("team").name
    'diversify team'
    """

    column: str
    sizes: tuple[int, int] | None = None
    weight: float | None = None

    def __post_init__(self) -> None:
        problems = []
        try:
            _check_column(self)
        except ValidationError as e:
            problems.extend(e.problems)
        s: object = self.sizes
        ok = isinstance(s, tuple | list) and len(s) == 2 and all(is_int(x) for x in s)
        if s is not None and (not ok or not 1 <= int(s[0]) <= int(s[1])):  # type: ignore[index]
            problems.append(
                Problem(f"{self.name}: bad sizes", expected="(min_size, max_size), 1 <= min <= max")
            )
        if problems:
            raise ValidationError(problems)

    @property
    def name(self) -> str:
        """``diversify column``."""
        return f"diversify {self.column}"

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """One count rule per value, bounded around its share (hard); pair terms (soft)."""
        labels, member = _count_matrix(people, self.column, self.name)
        if self.weight is not None:
            t, _ = diversity_terms(member)
            return CircleCompiled(penalty=_pair_penalty(self.weight, t))
        n = max(len(people), 1)
        low, high = (int(x) for x in self.sizes or (4, 6))  # from_compatibility sets them
        counts = []
        for k, label in enumerate(labels):
            share = int(member[:, k].sum()) / n
            counts.append(
                CountRule(
                    f"{self.name}={label}",
                    (label,),
                    member[:, [k]],
                    math.floor(low * share),
                    math.ceil(high * share),
                )
            )
        return CircleCompiled(counts=counts)


@dataclass(frozen=True)
class NoRepeat:
    """No pair of earlier partners.

    Earlier partners: either lists the other in ``previous``; or they were a pair (or two
    circle-mates) in a result file of ``earlier`` (the programme's own earlier rounds, or
    last year's, read by :func:`pairwise.io.read_partners`; in a programme file, paths are
    relative to it); or ``pairs`` names them (id, id, either order).

    Examples
    --------
    >>> import pairwise
    >>> cohort = pairwise.make_cohort(4, 2, seed=0)
    >>> rule = NoRepeat(pairs=(("mentee-0001", "mentor-0001"),))
    >>> bool(rule.compile(pairwise.score(cohort)).forbidden[0, 0])
    True
    """

    earlier: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    #: The answers this rule reads (named in explanations of unmatched mentees).
    columns: ClassVar[tuple[str, ...]] = ()
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True
    name: str = "no repeat of previous partners"

    def partners(self) -> set[tuple[str, str]]:
        """The earlier partners of ``earlier`` (with each file's history) and ``pairs``.

        Raises
        ------
        ValidationError
            For an unreadable file or a pair that is not two ids.
        """
        from pairwise._tables import read_partners

        known: set[tuple[str, str]] = set()
        for path in self.earlier:
            known |= read_partners(path)
        problems: list[Problem] = []
        for k, pair in enumerate(self.pairs):
            item: object = pair  # typed (id, id), but may come from a programme file
            if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 2:
                problems.append(
                    Problem(f"{self.name}: bad pair", row=f"pairs[{k}]", expected="(id, id)")
                )
            else:
                known.add((id_text(pair[0]), id_text(pair[1])))
        if problems:
            raise ValidationError(problems)
        return known

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells."""
        out = _link_mask(compat, "previous")
        known = self.partners()
        rows, cols = positions(compat.mentee_ids), positions(compat.mentor_ids)
        for a, b in known:
            for x, y in ((a, b), (b, a)):
                if x in rows and y in cols:
                    out[rows[x], cols[y]] = True
        return Compiled(forbidden=out)


def earlier_partners(rules: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """The partners the :class:`NoRepeat` rules among ``rules`` read, sorted."""
    known: set[tuple[str, str]] = set()
    for rule in rules:
        if isinstance(rule, NoRepeat):
            known |= rule.partners()
    return tuple(sorted(known))


@dataclass(frozen=True)
class SameRegion:
    """Pair only within one region (missing regions match nobody)."""

    #: The answers this rule reads (named in explanations of unmatched mentees).
    columns: ClassVar[tuple[str, ...]] = ("region",)
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True
    name: str = "same region"

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells."""
        return Compiled(forbidden=~_same(compat.mentees.region, compat.mentors.region))


@dataclass(frozen=True)
class SameCluster:
    """Pair only within one region cluster (a group of neighbouring regions)."""

    #: The answers this rule reads (named in explanations of unmatched mentees).
    columns: ClassVar[tuple[str, ...]] = ("cluster",)
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True
    name: str = "same region cluster"

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells."""
        return Compiled(forbidden=~_same(compat.mentees.cluster, compat.mentors.cluster))


@dataclass(frozen=True)
class SameChapter:
    """Pair only within one chapter (new-member programmes)."""

    #: The answers this rule reads (named in explanations of unmatched mentees).
    columns: ClassVar[tuple[str, ...]] = ("chapter",)
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True
    name: str = "same chapter"

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells."""
        return Compiled(forbidden=~_same(compat.mentees.chapter, compat.mentors.chapter))


@dataclass(frozen=True)
class DifferentChapter:
    """Pair only across chapters (leadership programmes); missing chapters count as different."""

    #: The answers this rule reads (named in explanations of unmatched mentees).
    columns: ClassVar[tuple[str, ...]] = ("chapter",)
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True
    name: str = "different chapter"

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells."""
        return Compiled(forbidden=_same(compat.mentees.chapter, compat.mentors.chapter))


@dataclass(frozen=True)
class SharedLanguage:
    """Pair only people with at least one common language."""

    #: The answers this rule reads (named in explanations of unmatched mentees).
    columns: ClassVar[tuple[str, ...]] = ("languages",)
    name: str = "shared language"

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells: where the language criterion finds no common language."""
        shared = scoring.SharedLanguage()(compat.mentees, compat.mentors)
        return Compiled(forbidden=shared < 0.5)

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """One language for the whole circle."""
        labels, member = _labelled(people, "languages", self.name)
        rank = people.languages.rank
        return CircleCompiled(
            shared=[SetRule(self.name, labels, member, "language", "language", rank)]
        )


@dataclass(frozen=True)
class ModeRule:
    """Pair only people who can meet: online with online/either; in person within a region."""

    #: The answers this rule reads (named in explanations of unmatched mentees).
    columns: ClassVar[tuple[str, ...]] = ("mode", "region")
    #: It relates two people, so it holds for every two members of a circle.
    relates_two: ClassVar[bool] = True
    name: str = "meeting mode"

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells: where the mode criterion says they cannot meet."""
        can_meet = scoring.ModeCompatibility()(compat.mentees, compat.mentors)
        return Compiled(forbidden=can_meet < 0.5)


@dataclass(frozen=True)
class VettedOnly:
    """Only mentors who passed the programme's vetting."""

    name: str = "vetted mentors only"

    def compile(self, compat: Compatibility) -> Compiled:
        """Forbidden cells."""
        unvetted = ~np.asarray(compat.mentors.vetted, dtype=bool)
        return Compiled(forbidden=np.broadcast_to(unvetted[None, :], compat.shape).copy())

    def compile_circles(self, people: Cohort) -> CircleCompiled:
        """Only vetted mentors lead circles."""
        return CircleCompiled(may_lead=np.asarray(people.vetted, dtype=bool).copy())


@dataclass(frozen=True)
class MinScore:
    """Only pairs whose score is at least ``score``."""

    score: float
    name: str = "minimum score"

    def __post_init__(self) -> None:
        value: object = self.score
        ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        )
        if not ok or not math.isfinite(float(value)):  # type: ignore[arg-type]
            raise ValidationError(
                [Problem(f"bad {self.name}: score", expected="a finite number (e.g. 0.4)")]
            )

    def compile(self, compat: Compatibility) -> Compiled:
        """The score floor."""
        return Compiled(min_score=float(self.score))


@dataclass(frozen=True)
class MentorsPerMentee:
    """Each mentee gets ``k`` mentors (an expert panel).

    Parameters
    ----------
    k : int or "per-topic"
        Mentors per mentee, each a different mentor. ``"per-topic"`` builds an expert panel:
        for every topic she asked about (``needs``), one mentor who offers it (``expertise``
        at least ``min_level``), a different mentor for each topic; ``Matching.pairs`` then
        says which topic each mentor covers.
    min_level : int, default 1
        Expertise level a mentor needs to cover a topic on a panel.
    """

    k: int | Literal["per-topic"] = 1
    min_level: int = 1
    name: str = "mentors per mentee"

    def __post_init__(self) -> None:
        problems = []
        k: object = self.k
        if k != "per-topic" and not (is_int(k) and int(k) >= 1):  # type: ignore[call-overload]
            problems.append(Problem(f"bad {self.name}: k", expected='an int >= 1 or "per-topic"'))
        if not (is_int(self.min_level) and int(self.min_level) >= 1):
            problems.append(Problem(f"bad {self.name}: min_level", expected="an int >= 1"))
        if problems:
            raise ValidationError(problems)

    def compile(self, compat: Compatibility) -> Compiled:
        """Demand per mentee, or the per-topic panel structure."""
        n = len(compat.mentee_ids)
        if self.k == "per-topic":
            needs = compat.mentees.needs.matrix > 0
            offers = compat.mentors.expertise.matrix >= self.min_level
            # a mentor can sit on her panel only if he offers a topic she asked about
            covers = (needs.astype(np.int32) @ offers.T.astype(np.int32)) > 0
            return Compiled(
                forbidden=~covers,
                demand=needs.sum(axis=1).astype(np.int64),
                panel=(compat.mentees.topics, needs, offers),
            )
        if not isinstance(self.k, int) or self.k < 1:
            raise ValidationError(
                [Problem("bad mentors per mentee", value=self.k, expected=">= 1")]
            )
        return Compiled(demand=np.full(n, self.k, dtype=np.int64))


@dataclass(frozen=True)
class AllMatched:
    """Every mentee must be matched; the problem is infeasible otherwise."""

    name: str = "every mentee matched"

    def compile(self, compat: Compatibility) -> Compiled:
        """The all-matched flag."""
        return Compiled(all_matched=True)


@dataclass(frozen=True)
class MatchRate:
    """A minimum match rate for every group of mentees sharing a value of ``column``.

    Each group (see :mod:`pairwise.fairness`: a list column puts a mentee in the group of
    each of her values, mentees with no value form the group ``"(missing)"``) gets at
    least ``ceil(at_least * size)`` mentees with a mentor. Solved exactly (CP-SAT);
    :func:`pairwise.check` verifies it. The groups are also the ones the
    ``"maxmin-group"`` objective balances (``at_least=0``: no floor, groups only).

    Parameters
    ----------
    column : str
        Any mentee column: ``region``, ``chapter``, ``languages``, an extra column, ...
    at_least : float or mapping of str to float, default 0.0
        One rate in [0, 1] for every group, or a rate per value (other groups: no floor).

    Examples
    --------
    >>> import pairwise
    >>> from pairwise.rules import MatchRate
    >>> compat = pairwise.score(pairwise.make_cohort(40, 12, seed=2))
    >>> rules = [MatchRate("region", at_least=0.5)]
    >>> p = pairwise.PairProblem.from_compatibility(compat, rules)
    >>> m = pairwise.solve(p, time_limit=5)
    >>> pairwise.check(p, m), bool((m.metrics(by="region").match_rate >= 0.5).all())
    ([], True)
    """

    column: str
    at_least: float | dict[str, float] = 0.0

    @property
    def name(self) -> str:
        """``match rate by column``."""
        return f"match rate by {self.column}"

    @property
    def columns(self) -> tuple[str, ...]:
        """The column it reads."""
        return (self.column,)

    def compile(self, compat: Compatibility) -> Compiled:
        """A floor per group of the mentees' ``column``."""
        from pairwise.labels import Labels

        if not isinstance(self.column, str):
            raise ValidationError(
                [Problem(f"{self.name}: column must be a column name", expected="text")]
            )
        probe = _MenteeColumns(Labels.of(compat.mentees, topics="needs"), compat)
        groups = groups_of(probe, self.column)  # type: ignore[arg-type]
        return Compiled(group_floors=floors(self.column, groups, self.at_least, self.name))


@dataclass(frozen=True)
class _MenteeColumns:
    """What :func:`pairwise.fairness.groups_of` reads of a problem, before there is one."""

    mentee_labels: Any
    compat: Any

    @property
    def shape(self) -> tuple[int, int]:
        n, m = self.compat.shape
        return int(n), int(m)
