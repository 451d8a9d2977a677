"""Pairing problems: who may be paired with whom, how many each takes, and what to maximise."""

from __future__ import annotations

import operator
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from pairwise._validate import ids_array, per_entity, readonly
from pairwise.cohort import SHARED_BY
from pairwise.errors import Problem, ValidationError
from pairwise.fairness import GroupFloor
from pairwise.labels import Labels
from pairwise.rules import Capacity, Forbid, PairRule, ValueCap, earlier_partners
from pairwise.scoring import Compatibility

__all__ = ["OBJECTIVES", "PairProblem"]

Objective = Literal[
    "matched-then-total",
    "total",
    "maxmin",
    "maxmin-group",
    "maxmin-mentee",
    "covered-then-total",
    "stable",
    "stable-mentee",
    "stable-mentor",
]
#: Objectives: match as many as the rules allow, then maximise the total score (default);
#: maximise the total score only; lexicographic max-min (lift the worst-off matched mentee
#: as high as possible, then maximise the total under that floor, keeping the matched count);
#: ``maxmin-group``: lexicographic max-min of the groups' match rates (the lowest rate as
#: high as possible, then the second lowest, ...; groups from :class:`~pairwise.rules.MatchRate`),
#: then the total; ``maxmin-mentee``: most pairs, then the lowest total score of a matched
#: mentee over her mentors as high as possible (FairFlow's goal), then the total;
#: ``covered-then-total``: most mentees with at least one mentor, then most mentors with at
#: least one mentee, then the total (differs from the default when people take several).
#: The stable objectives (:mod:`pairwise.stability`): ``stable``, the stable matching of
#: highest total score; ``stable-mentee`` / ``stable-mentor``, the mentee- / mentor-optimal
#: stable matchings (deferred acceptance with capacities).
OBJECTIVES: tuple[str, ...] = get_args(Objective)

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]


def _shared_by(label: str, *tags: Any) -> bool:
    """Whether at least :data:`SHARED_BY` people over ``tags`` have ``label``."""
    count = 0
    for t in tags:
        if label in t.vocab:
            count += int(t.matrix[:, t.vocab.index(label)].sum())
    return count >= SHARED_BY


def _given_by(value: Any, *columns: Any) -> bool:
    """Whether at least :data:`SHARED_BY` people over ``columns`` answered ``value``."""
    return sum(int((np.asarray(c, dtype=object) == value).sum()) for c in columns) >= SHARED_BY


@dataclass(frozen=True, eq=False)
class PairProblem:
    """A pairing problem: scores, allowed pairs, capacities and the objective.

    Build one with :meth:`from_scores` (a plain matrix) or :meth:`from_compatibility`
    (a scored cohort and rules); solve it with :func:`pairwise.solve`.

    Attributes
    ----------
    scores : ndarray of float64, shape (n_mentees, n_mentors)
        Higher is better; 0 in cells that are not allowed.
    allowed : ndarray of bool, shape (n_mentees, n_mentors)
        Cells every hard rule allows.
    capacity : ndarray of int64, shape (n_mentors,)
        Most mentees per mentor.
    demand : ndarray of int64, shape (n_mentees,)
        Mentors per mentee (1, or more for an expert panel).
    minimum : ndarray of int64, shape (n_mentors,)
        Fewest mentees per mentor (a hard rule; zeros by default).
    required : tuple of (int, int)
        (mentee, mentor) positions fixed in every solution.
    all_matched : bool
        Whether every mentee must receive her full demand.
    objective : {"matched-then-total", "total", "maxmin", "covered-then-total", ...}
    mentee_ids, mentor_ids : ndarray of object
    removed_by : mapping of str to ndarray of bool
        For each rule (by display name), the cells it forbids (to explain unmatched mentees).
    rule_columns : mapping of str to tuple of str
        For each rule (by display name), the answers it reads (its ``columns``).
    mentee_labels, mentor_labels : Labels, optional
        The structured answers of each side (region, chapter, languages, ...), for
        explanations and plots; ``None`` for a plain matrix.
    criteria : mapping of str to (float, ndarray)
        Per criterion, its weight and its (n_mentees, n_mentors) component: a pair's score
        is ``sum(w * component[i, j])``; empty for a plain matrix.
    compat : Compatibility or None
        The scored cohort the problem came from, if any: provenance only, no later stage
        reads it (they read the labels and criteria above).
    panel : tuple of (topics, needs, offers), optional
        Per-topic expert panels (see :class:`~pairwise.rules.MentorsPerMentee`): each mentee
        gets, for every topic ``needs[i]`` marks, a different mentor ``j`` with
        ``offers[j, topic]``.
    earlier : tuple of (str, str)
        Partners from before the programme's first round that its
        :class:`~pairwise.rules.NoRepeat` rules read from earlier result files (each
        file's history too); every result of the problem carries them in its events, so
        next year's ``NoRepeat`` over this year's result keeps every year's pairs apart.
    group_floors : tuple of GroupFloor
        Minimum matched mentees per group (:class:`~pairwise.rules.MatchRate`,
        :func:`pairwise.fairness.with_match_rate`); the groups ``"maxmin-group"`` balances.
    ranks : tuple of two ndarray of int16, shape (n_mentees, n_mentors), optional
        Ranked preferences: ``ranks[0][i, j]`` is the rank mentee ``i`` gave mentor ``j``,
        ``ranks[1][i, j]`` the rank mentor ``j`` gave mentee ``i`` (1 = first choice,
        0 = not ranked); ``None`` when nobody ranked anyone. Read by the first/top-3
        choice metrics and the stability preferences (:mod:`pairwise.stability`).
    value_caps : tuple of ValueCap
        At most ``k`` of a mentor's mentees per value of a column
        (:class:`~pairwise.rules.AtMost`): a rule no flow states, solved by CP-SAT.
    """

    scores: FloatArray
    allowed: BoolArray
    capacity: IntArray
    demand: IntArray
    required: tuple[tuple[int, int], ...]
    all_matched: bool
    objective: Objective
    mentee_ids: npt.NDArray[np.object_]
    mentor_ids: npt.NDArray[np.object_]
    removed_by: Mapping[str, BoolArray] = field(default_factory=dict)
    compat: Compatibility | None = None
    panel: tuple[tuple[str, ...], BoolArray, BoolArray] | None = None
    rule_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    mentee_labels: Labels | None = field(default=None, repr=False)
    mentor_labels: Labels | None = field(default=None, repr=False)
    criteria: Mapping[str, tuple[float, npt.NDArray[Any]]] = field(default_factory=dict, repr=False)
    earlier: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    group_floors: tuple[GroupFloor, ...] = field(default=(), repr=False)
    minimum: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    ranks: tuple[Int16Array, Int16Array] | None = field(default=None, repr=False)
    value_caps: tuple[ValueCap, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if len(self.minimum) != len(self.capacity):  # default: no minimum load
            object.__setattr__(self, "minimum", np.zeros(len(self.capacity), dtype=np.int64))
        for a in (self.scores, self.allowed, self.capacity, self.demand, self.minimum):
            readonly(a)
        if self.panel is not None:
            readonly(self.panel[1])
            readonly(self.panel[2])
        for a in self.removed_by.values():
            readonly(a)
        for r in self.ranks or ():
            readonly(r)

    def __repr__(self) -> str:
        n, m = self.shape
        return (
            f"PairProblem({n} mentees x {m} mentors, {int(self.allowed.sum())} allowed pairs, "
            f"capacity {int(self.capacity.sum())}, objective={self.objective!r})"
        )

    def total(self, pairs: npt.ArrayLike) -> float:
        """The objective's total of ``pairs`` ((k, 2) mentee, mentor positions), in floats.

        The one place where a matching's total score is computed (results, re-matching and
        files all use it; :func:`pairwise.check` recomputes it on its own on purpose).

        Examples
        --------
        >>> import pairwise
        >>> p = pairwise.PairProblem.from_scores([[0.9, 0.2], [0.4, 0.5]])
        >>> p.total([[0, 0], [1, 1]])
        1.4
        """
        rows = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        return float(self.scores[rows[:, 0], rows[:, 1]].sum()) if len(rows) else 0.0

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_mentees, n_mentors)``."""
        n, m = self.scores.shape
        return n, m

    def why_no_mentor(self, mentee: int) -> str:
        """Why a mentee (position) has no allowed mentor: the rules that removed candidates.

        Examples
        --------
        >>> import pairwise
        >>> from pairwise.rules import SameRegion
        >>> compat = pairwise.score(pairwise.make_cohort(8, 3, seed=1))
        >>> p = pairwise.PairProblem.from_compatibility(compat, [SameRegion()])
        >>> p.why_no_mentor(0)
        'no allowed mentor (region east-3): removed by same region (2)'
        """
        names = [name for name, mask in self.removed_by.items() if mask[mentee].any()]
        columns = [c for name in names for c in self.rule_columns.get(name, ())]
        who = self.describe([mentee], columns) if columns else ""
        parts = [f"{name} ({int(self.removed_by[name][mentee].sum())})" for name in names]
        head = f"no allowed mentor {who}" if who else "no allowed mentor"
        return f"{head}: removed by {', '.join(parts)}" if parts else head

    def in_common(self, mentee: int, mentor: int) -> str:
        """What a mentee and a mentor (positions) share, in plain words, for explanations.

        Languages both speak, topics she asked for that he offers, the same region (or
        cluster), stage, mode and weekly slots: "both speak cy, en; covers Fundraising;
        same region north-2". Only labels that at least :data:`SHARED_BY` people of the
        cohort gave are named (the form's options, never a one-off free-text answer);
        empty when the problem has no cohort or nothing is shared.

        Examples
        --------
        >>> import pairwise
        >>> compat = pairwise.score(pairwise.make_cohort(30, 8, seed=1))
        >>> for part in pairwise.PairProblem.from_compatibility(compat).in_common(2, 2).split("; "):
        ...     print(part)
        both speak en
        covers policy-development
        stage campaigning
        same cluster north
        free mon-evening, sun-evening, thu-evening
        """
        a, b = self.mentee_labels, self.mentor_labels
        if a is None or b is None:
            return ""
        parts = []
        for label, what in (("languages", "both speak"), ("topics", "covers"), ("stage", "stage")):
            ta, tb = getattr(a, label), getattr(b, label)
            if ta is None or tb is None:
                continue
            mine = {ta.vocab[k] for k in np.flatnonzero(ta.matrix[mentee])}
            theirs = {tb.vocab[k] for k in np.flatnonzero(tb.matrix[mentor])}
            common = {x for x in mine & theirs if _shared_by(x, ta, tb)}
            if common:
                parts.append(f"{what} {', '.join(sorted(common))}")
        for label in ("region", "cluster"):
            x, y = getattr(a, label)[mentee], getattr(b, label)[mentor]
            if x is not None and x == y and _given_by(x, getattr(a, label), getattr(b, label)):
                parts.append(f"same {label} {x}")
                break
        x, y = a.mode[mentee], b.mode[mentor]
        if x is not None and x == y and x != "either" and _given_by(x, a.mode, b.mode):
            parts.append(f"both {x}")
        slots = {a.slots.vocab[k] for k in np.flatnonzero(a.slots.matrix[mentee])}
        slots &= {b.slots.vocab[k] for k in np.flatnonzero(b.slots.matrix[mentor])}
        slots = {x for x in slots if _shared_by(x, a.slots, b.slots)}
        if slots:
            parts.append(f"free {', '.join(sorted(slots))}")
        return "; ".join(parts)

    def describe(
        self,
        mentees: Sequence[int] | npt.NDArray[np.int64],
        columns: Sequence[str] = ("region", "cluster", "chapter", "mode", "stage", "languages"),
    ) -> str:
        """What the given mentees (positions) all have in common, in the programme's terms.

        Used in explanations: "(all region north-2, all mode in-person, all speak fr)". Only
        structured answers that at least :data:`SHARED_BY` people gave are named, never a
        one-off free-text answer; empty when the problem has no cohort or nothing is shared.

        Examples
        --------
        >>> import pairwise
        >>> compat = pairwise.score(pairwise.make_cohort(8, 3, seed=1))
        >>> p = pairwise.PairProblem.from_compatibility(compat)
        >>> p.describe([0], columns=("region", "mode", "languages"))
        '(region east-3, mode online, speaks en/fr)'
        """
        rows = np.asarray(mentees, dtype=np.int64)
        people = self.mentee_labels
        if people is None or len(rows) == 0:
            return ""
        many = len(rows) > 1
        parts = []
        for column in ("region", "cluster", "chapter", "mode"):
            if column not in columns:
                continue
            values = {getattr(people, column)[i] for i in rows.tolist()}
            if len(values) == 1 and None not in values:
                value = values.pop()
                others = [getattr(b, column) for b in (self.mentor_labels,) if b is not None]
                if _given_by(value, getattr(people, column), *others):  # not a one-off answer
                    parts.append(f"{'all ' if many else ''}{column} {value}")
        for column in ("stage", "languages"):
            if column not in columns:
                continue
            tags = getattr(people, column)
            common = tags.matrix[rows].all(axis=0)
            shown = [
                tags.vocab[k] for k in np.flatnonzero(common) if _shared_by(tags.vocab[k], tags)
            ]
            if shown:
                words = "/".join(shown)
                label = {"stage": "stage", "languages": "speak" if many else "speaks"}[column]
                parts.append(f"{'all ' if many else ''}{label} {words}")
        return f"({', '.join(parts)})" if parts else ""

    @classmethod
    def from_scores(
        cls,
        scores: npt.ArrayLike,
        *,
        capacity: int | npt.ArrayLike = 1,
        forbidden: npt.ArrayLike | None = None,
        allowed: npt.ArrayLike | None = None,
        min_score: float | None = None,
        demand: int | npt.ArrayLike = 1,
        required: Iterable[tuple[int, int]] = (),
        all_matched: bool = False,
        objective: Objective = "matched-then-total",
        mentee_ids: Sequence[Any] | None = None,
        mentor_ids: Sequence[Any] | None = None,
        minimum: int | npt.ArrayLike = 0,
        mentee_ranks: npt.ArrayLike | None = None,
        mentor_ranks: npt.ArrayLike | None = None,
    ) -> PairProblem:
        """Build a pairing problem from a plain score matrix.

        Parameters
        ----------
        scores : array-like of shape (n_mentees, n_mentors)
            Compatibility, higher is better; NaN means the pair is not allowed.
        capacity : int or array-like of shape (n_mentors,), default 1
            Most mentees a mentor takes.
        forbidden : array-like of bool, shape (n_mentees, n_mentors), optional
            True marks pairs that are not allowed (the polarity of ``apart`` in
            :meth:`CircleProblem.from_affinity <pairwise.circles.CircleProblem.from_affinity>`).
        allowed : array-like of bool, optional
            Deprecated: ``forbidden=~allowed``.
        min_score : float, optional
            Pairs scoring below it are not allowed.
        demand : int or array-like of shape (n_mentees,), default 1
            Mentors per mentee.
        required : iterable of (int, int)
            (mentee, mentor) positions fixed in every solution.
        all_matched : bool, default False
            Every mentee must be matched (:class:`~pairwise.errors.InfeasibleError` otherwise).
        objective : {"matched-then-total", "total", "maxmin", "covered-then-total", ...}
            See :data:`OBJECTIVES`.
        mentee_ids, mentor_ids : sequence, optional
            Ids for rows and columns; positions ``0..n-1`` by default.
        minimum : int or array-like of shape (n_mentors,), default 0
            Fewest mentees a mentor takes (a hard rule, at most her capacity).
        mentee_ranks, mentor_ranks : array-like of int, shape (n_mentees, n_mentors), optional
            Ranked preferences (see :attr:`ranks`): the rank mentee ``i`` gave mentor
            ``j``, and the rank mentor ``j`` gave mentee ``i``; 0 = not ranked. Each
            person's ranks must be 1, 2, ..., r, each once.

        Returns
        -------
        PairProblem

        Raises
        ------
        ValidationError
            Lists every input problem.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> p = pairwise.PairProblem.from_scores(np.array([[9.0, 1.0], [2.0, 8.0]]))
        >>> m = pairwise.solve(p)
        >>> m.mentor_of.tolist(), m.objective
        ([0, 1], 17.0)
        """
        problems: list[Problem] = []
        s = _score_matrix(scores, problems)
        n, m = s.shape
        if allowed is not None:
            warnings.warn(
                "PairProblem.from_scores(allowed=...) is deprecated: pass forbidden=~allowed "
                "(True = not allowed, the polarity of CircleProblem.from_affinity(apart=...))",
                DeprecationWarning,
                stacklevel=2,
            )
        ok = _allowed_cells(s, forbidden, allowed, min_score, problems)
        cap = per_entity(capacity, m, "capacity", problems)
        dem = per_entity(demand, n, "demand", problems)
        low = per_entity(minimum, m, "minimum", problems)
        for j in np.flatnonzero(low > cap).tolist():
            problems.append(
                Problem(
                    "minimum above capacity",
                    row=f"row {j}",
                    column="minimum",
                    expected="<= capacity",
                )
            )
        if objective not in OBJECTIVES:
            problems.append(
                Problem("unknown objective", value=objective, expected=", ".join(OBJECTIVES))
            )
        req = _required_positions(required, n, m, problems)
        ranks = _rank_arrays(mentee_ranks, mentor_ranks, (n, m), problems)
        ids_a = ids_array(mentee_ids, n, "mentee_ids", problems)
        ids_b = ids_array(mentor_ids, m, "mentor_ids", problems)
        if problems:
            raise ValidationError(problems)
        removed: dict[str, BoolArray] = {}
        blocked = ~ok
        if blocked.any():
            removed["not allowed"] = blocked
            s[blocked] = 0.0  # s is our own copy
        return cls(
            scores=s,
            allowed=ok,
            capacity=cap,
            demand=dem,
            required=tuple(dict.fromkeys(req)),
            all_matched=bool(all_matched),
            objective=objective,
            mentee_ids=ids_a,
            mentor_ids=ids_b,
            removed_by=removed,
            minimum=low,
            ranks=ranks,
        )

    @classmethod
    def from_compatibility(
        cls,
        compat: Compatibility,
        rules: Sequence[PairRule] = (),
        *,
        objective: Objective = "matched-then-total",
    ) -> PairProblem:
        """Build a pairing problem from a scored cohort and programme rules.

        Mentor capacities come from the cohort unless a :class:`~pairwise.rules.Capacity`
        rule overrides them, and the cohort's ``avoid`` lists always apply (add
        ``Forbid(use_avoid=False)`` to an explicit list to change only that list).

        Parameters
        ----------
        compat : Compatibility
            From :func:`pairwise.score`.
        rules : sequence of PairRule
            See :mod:`pairwise.rules`.
        objective : {"matched-then-total", "total", "maxmin", "covered-then-total", ...}

        Returns
        -------
        PairProblem
            ``compat`` is kept, so results can break scores down per criterion.

        Examples
        --------
        >>> import pairwise
        >>> from pairwise.rules import SharedLanguage, DifferentChapter
        >>> compat = pairwise.score(pairwise.make_cohort(30, 10, seed=0))
        >>> rules = [SharedLanguage(), DifferentChapter()]
        >>> p = pairwise.PairProblem.from_compatibility(compat, rules)
        >>> m = pairwise.solve(p)
        >>> pairwise.check(p, m)
        []
        """
        if compat.symmetric:
            raise ValidationError(
                [Problem("a peer affinity cannot be paired", expected="pairwise.score(...)")]
            )
        all_rules = _pair_rules(rules)
        pieces = [(rule.name, rule.compile(compat)) for rule in all_rules]
        n, m = compat.shape
        s = np.array(compat.matrix, dtype=np.float64)
        ok = np.ones((n, m), dtype=bool)
        removed: dict[str, BoolArray] = {}
        cap = np.ones(m, dtype=np.int64)
        low = np.zeros(m, dtype=np.int64)
        dem = np.ones(n, dtype=np.int64)
        required: list[tuple[int, int]] = []
        all_matched = False
        panel = None
        group_floors: list[GroupFloor] = []
        value_caps: list[ValueCap] = []
        criteria = {c: (float(w), compat.components[c]) for c, w in compat.weights.items()}
        penalty = np.zeros((n, m))
        for name, piece in pieces:
            group_floors.extend(piece.group_floors)
            value_caps.extend(piece.value_caps)
            if piece.soft is not None:  # a soft rule: its weight off the offending cells
                penalty += piece.soft[0] * piece.soft[1].astype(np.float64)
                criteria[f"{name} (soft)"] = (-piece.soft[0], piece.soft[1])
            forbidden = piece.forbidden
            if piece.min_score is not None:
                forbidden = s < piece.min_score
            if forbidden is not None and forbidden.any():
                removed[name] = removed[name] | forbidden if name in removed else forbidden.copy()
                ok &= ~forbidden
            if piece.capacity is not None:
                cap = piece.capacity
            if piece.minimum is not None:
                low = piece.minimum
            if piece.demand is not None:
                dem = piece.demand
            required.extend(piece.required)
            all_matched |= piece.all_matched
            if piece.panel is not None:
                panel = piece.panel
        if objective not in OBJECTIVES:
            raise ValidationError(
                [Problem("unknown objective", value=objective, expected=", ".join(OBJECTIVES))]
            )
        return cls(
            scores=np.where(ok, s - penalty, 0.0),
            allowed=ok,
            capacity=cap,
            demand=dem,
            required=tuple(dict.fromkeys(required)),
            all_matched=all_matched,
            objective=objective,
            mentee_ids=compat.mentee_ids.copy(),
            mentor_ids=compat.mentor_ids.copy(),
            removed_by=removed,
            compat=compat,
            panel=panel,
            rule_columns={r.name: tuple(getattr(r, "columns", ())) for r in all_rules},
            mentee_labels=Labels.of(compat.mentees, topics="needs"),
            mentor_labels=Labels.of(compat.mentors, topics="expertise"),
            criteria=criteria,
            earlier=earlier_partners(all_rules),
            group_floors=tuple(group_floors),
            minimum=np.minimum(low, cap),
            ranks=_cohort_ranks(compat),
            value_caps=tuple(value_caps),
        )


def _pair_rules(rules: Sequence[object]) -> list[PairRule]:
    """The built-in rules (capacities, the cohort's avoid lists) and ``rules``, all checked."""
    problems: list[Problem] = []
    out: list[PairRule] = [Capacity(), Forbid()]
    for candidate in list[object](rules):
        if not isinstance(candidate, PairRule):
            problems.append(Problem("not a pair rule", value=type(candidate).__name__))
            continue
        out.append(candidate)
    if problems:
        raise ValidationError(problems)
    return out


def _cohort_ranks(compat: Compatibility) -> tuple[Int16Array, Int16Array] | None:
    """The ranked preferences of both sides of a scored cohort; None when nobody ranked."""
    a, b = compat.mentees, compat.mentors
    if not any(a.ranked) and not any(b.ranked):
        return None
    return a.rank_matrix(b), np.ascontiguousarray(b.rank_matrix(a).T)


def _rank_arrays(
    mentee_ranks: npt.ArrayLike | None,
    mentor_ranks: npt.ArrayLike | None,
    shape: tuple[int, int],
    problems: list[Problem],
) -> tuple[Int16Array, Int16Array] | None:
    """Both sides' rank matrices, checked (ranks 1..r once per person); None if neither."""
    if mentee_ranks is None and mentor_ranks is None:
        return None
    out: list[Int16Array] = []
    for name, given, axis in (("mentee_ranks", mentee_ranks, 1), ("mentor_ranks", mentor_ranks, 0)):
        if given is None:
            out.append(np.zeros(shape, dtype=np.int16))
            continue
        try:
            r = np.array(given)
        except (TypeError, ValueError):
            r = np.zeros(0)
        if r.shape != shape or not (np.issubdtype(r.dtype, np.integer) or r.dtype == np.bool_):
            problems.append(
                Problem("ranks must be whole numbers", column=name, expected=f"ints, shape {shape}")
            )
            out.append(np.zeros(shape, dtype=np.int16))
            continue
        r = r.astype(np.int64)
        bad = _rank_row_problems(r if axis == 1 else r.T)
        if bad:
            who = "mentee" if axis == 1 else "mentor"
            problems.append(
                Problem(
                    f"ranks of {who} at position {bad[0]} are not 1, 2, ..., r each once",
                    column=name,
                    expected="each person's ranks 1..r without gaps or repeats; 0 = not ranked",
                )
            )
        out.append(r.astype(np.int16))
    return out[0], out[1]


def _rank_row_problems(rows: npt.NDArray[np.int64]) -> list[int]:
    """Positions of the rows whose positive entries are not exactly 1..r (or negative)."""
    if (rows < 0).any() or rows.max(initial=0) > np.iinfo(np.int16).max:
        return np.flatnonzero(
            (rows < 0).any(axis=1) | (rows > np.iinfo(np.int16).max).any(axis=1)
        ).tolist()
    pos = np.sort(np.where(rows > 0, rows, 0), axis=1)
    count = (rows > 0).sum(axis=1)
    k = rows.shape[1]
    want = np.arange(1, k + 1)[None, :] - (k - count)[:, None]
    ok = np.where(pos > 0, pos == want, True).all(axis=1)
    return np.flatnonzero(~ok).tolist()


def _score_matrix(scores: npt.ArrayLike, problems: list[Problem]) -> FloatArray:
    """Scores as our own float64 copy; a 2-D matrix (raises), finite or NaN (recorded)."""
    try:
        s = np.array(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(
            [Problem("scores are not numbers", column="scores", expected="a numeric matrix")]
        ) from None
    if s.ndim != 2:
        raise ValidationError(
            [Problem(f"scores must be 2-D, got shape {s.shape}", column="scores")]
        )
    if np.isinf(s).any():
        r, c = np.argwhere(np.isinf(s))[0]
        problems.append(
            Problem(f"scores must be finite or NaN; first bad cell [{r}, {c}]", column="scores")
        )
    return s


def _allowed_cells(
    s: FloatArray,
    forbidden: npt.ArrayLike | None,
    allowed: npt.ArrayLike | None,
    min_score: float | None,
    problems: list[Problem],
) -> BoolArray:
    """Cells not NaN, not forbidden (nor outside the deprecated ``allowed``), not below floor."""
    ok: BoolArray = ~np.isnan(s)
    for name, mask, keep in (("forbidden", forbidden, False), ("allowed", allowed, True)):
        if mask is None:
            continue
        a = np.asarray(mask)
        if a.shape != s.shape:
            problems.append(Problem(f"{name} has shape {a.shape}, scores {s.shape}", column=name))
        elif a.dtype != np.bool_:
            problems.append(Problem(f"{name} must be boolean", column=name))
        else:
            ok &= a if keep else ~a
    if min_score is not None:
        try:
            floor = float(min_score)
        except (TypeError, ValueError):
            floor = float("nan")
        if np.isnan(floor):
            problems.append(Problem("min_score must be a number", value=min_score))
        else:
            ok &= ~(s < floor)
    return ok


def _required_positions(
    required: Iterable[tuple[int, int]], n: int, m: int, problems: list[Problem]
) -> list[tuple[int, int]]:
    """Required (mentee, mentor) positions, each two ints in range (else recorded)."""
    req: list[tuple[int, int]] = []
    for pair in required:
        try:
            i, j = (operator.index(x) for x in pair)
        except (TypeError, ValueError):
            problems.append(Problem("required pair must be two integer positions", value=pair))
            continue
        if not (0 <= i < n and 0 <= j < m):
            problems.append(Problem("required pair out of range", value=(i, j)))
        else:
            req.append((i, j))
    return req
