"""Circle problems: partition a cohort into small groups (optionally one mentor each).

A :class:`CircleProblem` is the Maximally Diverse Grouping Problem with programme rules:
split ``n`` people into ``m`` circles, circle ``g`` holding between ``min_size[g]`` and
``max_size[g]`` members, maximising the sum of the pairwise affinities inside circles, while
every hard rule holds (keep apart, keep together, a shared language or slot for the whole
circle, balance counts, one mentor per circle). Solve it with :func:`pairwise.solve`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from pairwise._validate import id_text, ids_array, is_int, per_entity, positions, readonly
from pairwise.cohort import Cohort
from pairwise.errors import Problem, ValidationError
from pairwise.labels import Labels
from pairwise.rules import (
    CircleCompiled,
    CircleRule,
    CountRule,
    Diversify,
    KeepApart,
    PairRule,
    SetRule,
    earlier_partners,
)
from pairwise.scoring import Compatibility

__all__ = [
    "CIRCLE_OBJECTIVES",
    "CircleProblem",
    "SharedChoice",
    "balanced_sizes",
    "circle_count",
    "fitting_counts",
]

CircleObjective = Literal["total", "mean", "maxmin"]
#: ``total``: the sum of within-circle affinities (plus mentor fit), the MDGP's objective;
#: ``mean``: each member's mean affinity to her circle-mates, summed over members
#: (size-neutral); ``maxmin``: lift the worst-off member's mean first, then the total.
CIRCLE_OBJECTIVES: tuple[str, ...] = ("total", "mean", "maxmin")

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class SharedChoice(NamedTuple):
    """The label a circle's shared rule publishes (see :meth:`CircleProblem.meeting`).

    Attributes
    ----------
    field : str
        The rule's result column (``"slot"``, ``"language"``).
    label : str or None
        The chosen label: the circle's meeting slot, its language.
    alternatives : tuple of str
        The other labels every member holds, sorted.
    """

    field: str
    label: str | None
    alternatives: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class CircleProblem:
    """A circle problem: affinities, circle sizes and hard rules.

    Build one with :meth:`from_affinity` (a plain symmetric matrix) or
    :meth:`from_compatibility` (a cohort's affinity and rules); solve it with
    :func:`pairwise.solve`.

    Attributes
    ----------
    affinity : ndarray of float64, shape (n, n)
        Symmetric, zero diagonal; higher is better together.
    person_ids : ndarray of object, shape (n,)
        Person ids (``ids`` is its deprecated spelling).
    min_size, max_size : ndarray of int64, shape (n_circles,)
        Members per circle, its mentor included.
    apart : ndarray of bool, shape (n, n)
        Symmetric; ``apart[i, j]``: ``i`` and ``j`` never share a circle.
    together : tuple of tuple of int
        Groups of people who always share a circle (each of 2 or more, disjoint).
    shared : tuple of SetRule
        Whole-circle rules: a label (language, slot) every member has.
    counts : tuple of CountRule
        Balance rules: bounds on members per label in each circle.
    leaders : ndarray of int64
        Mentor-led circles: the people who may lead (each circle has exactly one of them);
        empty for peer circles.
    leads : ndarray of int64, shape (len(leaders),)
        Most circles each leader may lead.
    objective : {"total", "mean", "maxmin"}
        What the circles maximise (see :data:`CIRCLE_OBJECTIVES` and :meth:`key`).
    removed_by : mapping of str to ndarray of bool
        For each pairwise rule, the pairs it keeps apart (for explanations).
    is_mentor : ndarray of bool, shape (n,), optional
        People with the role mentor (mentor-led circles); ``None``: nobody.
    labels : Labels, optional
        Everyone's structured answers (region, chapter, slots, ...), for explanations and
        plots; ``None`` for a plain matrix.
    compat : Compatibility or None
        The cohort affinity the problem came from, if any: provenance only, no later stage
        reads it.
    all_placed : bool
        Everyone must be placed (else :class:`~pairwise.errors.InfeasibleError`); by
        default people no circle can take are left out (``Circles.unplaced``).
    count_free : bool
        The constructor chose the circle count (no ``n_circles``): it is chosen again for
        the people placed when some are left out.
    balanced : bool
        Circle sizes differ by at most one (the bounds are narrowed to the two sizes that
        add up to the people placed).
    size_range : (int, int) or None
        The one size range asked for (``min_size``, ``max_size`` before ``balanced``
        narrowed them); ``None`` for per-circle sizes.
    earlier : tuple of (str, str)
        Partners from before the programme's first round that its
        :class:`~pairwise.rules.NoRepeat` rules read from earlier result files (each
        file's history too); every result of the problem carries them in its events, so
        next year's ``NoRepeat`` over this year's result keeps every year's pairs apart.
    penalties : tuple of (str, ndarray of float64)
        Each soft rule's name and its penalty per pair of people, already taken off
        ``affinity`` (so the search and the bounds see it); ``explain`` reports each per
        circle.
    """

    affinity: FloatArray
    person_ids: npt.NDArray[np.object_]
    min_size: IntArray
    max_size: IntArray
    apart: BoolArray
    together: tuple[tuple[int, ...], ...] = ()
    shared: tuple[SetRule, ...] = ()
    counts: tuple[CountRule, ...] = ()
    leaders: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    leads: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    objective: CircleObjective = "total"
    removed_by: dict[str, BoolArray] = field(default_factory=dict, repr=False)
    compat: Compatibility | None = field(default=None, repr=False)
    is_mentor: BoolArray | None = field(default=None, repr=False)
    labels: Labels | None = field(default=None, repr=False)
    all_placed: bool = False
    count_free: bool = False
    balanced: bool = False
    size_range: tuple[int, int] | None = None
    earlier: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    penalties: tuple[tuple[str, FloatArray], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        for a in (self.affinity, self.person_ids, self.min_size, self.max_size, self.apart):
            readonly(a)
        readonly(self.leaders)
        readonly(self.leads)

    def __repr__(self) -> str:
        lo, hi = int(self.min_size.min()), int(self.max_size.max())
        led = f", {len(self.leaders)} possible leaders" if len(self.leaders) else ""
        return (
            f"CircleProblem({self.n} people, {self.n_circles} circles of {lo}-{hi}{led}, "
            f"objective={self.objective!r})"
        )

    @property
    def n(self) -> int:
        """Number of people."""
        return len(self.person_ids)

    @property
    def n_circles(self) -> int:
        """Number of circles."""
        return len(self.min_size)

    def take(self, rows: npt.ArrayLike) -> CircleProblem:
        """The problem restricted to the people at ``rows`` (same circles, bounds and rules).

        Keep-together groups keep their members who stay (a group of one dissolves); leaders
        who stay keep how many circles they may lead; labels and roles follow the people.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> p = pairwise.CircleProblem.from_affinity(np.ones((9, 9)), n_circles=2, min_size=4)
        >>> p.take([0, 1, 2, 3, 4, 5, 6, 7]).person_ids.tolist()
        ['0', '1', '2', '3', '4', '5', '6', '7']
        """
        keep = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(keep) == self.n and (keep == np.arange(self.n)).all():
            return self
        where = {int(i): k for k, i in enumerate(keep.tolist())}
        groups = [tuple(where[i] for i in g if i in where) for g in self.together]
        led = [
            (where[int(j)], int(k))
            for j, k in zip(self.leaders, self.leads, strict=True)
            if int(j) in where
        ]
        square = np.ix_(keep, keep)
        return CircleProblem(
            affinity=self.affinity[square].copy(),
            person_ids=self.person_ids[keep].copy(),
            min_size=self.min_size.copy(),
            max_size=self.max_size.copy(),
            apart=self.apart[square].copy(),
            together=tuple(g for g in groups if len(g) > 1),
            shared=tuple(
                replace(r, member=r.member[keep], rank=None if r.rank is None else r.rank[keep])
                for r in self.shared
            ),
            counts=tuple(replace(r, member=r.member[keep]) for r in self.counts),
            leaders=np.array([j for j, _ in led], dtype=np.int64),
            leads=np.array([k for _, k in led], dtype=np.int64),
            objective=self.objective,
            removed_by={k: v[square].copy() for k, v in self.removed_by.items()},
            is_mentor=None if self.is_mentor is None else self.is_mentor[keep].copy(),
            labels=None if self.labels is None else self.labels.take(keep),
            all_placed=self.all_placed,
            count_free=self.count_free,
            balanced=self.balanced,
            size_range=self.size_range,
            earlier=self.earlier,
            penalties=tuple((k, v[square].copy()) for k, v in self.penalties),
        )

    def circle_scores(self, rows: npt.ArrayLike) -> FloatArray:
        """Each circle's score (sum of within-circle affinities) for (circle, person) rows.

        The one place where circle scores are computed (results, re-matching, files);
        :func:`pairwise.check` recomputes them on its own on purpose.
        """
        arr = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
        out = np.zeros(self.n_circles)
        for g in range(self.n_circles):
            ms = arr[arr[:, 0] == g, 1]
            out[g] = float(self.affinity[np.ix_(ms, ms)].sum()) / 2
        return out

    def member_means(self, rows: npt.ArrayLike) -> FloatArray:
        """Each row's mean affinity to the circle-mates, for (circle, person) rows.

        One value per row, in the rows' order (a mentor who leads two circles has a row,
        and a mean, in each); NaN in a circle of one.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> a = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 3], [0, 0, 3, 0]])
        >>> p = pairwise.CircleProblem.from_affinity(a, min_size=2, max_size=2)
        >>> p.member_means([[0, 0], [0, 1], [1, 2], [1, 3]]).tolist()
        [1.0, 1.0, 3.0, 3.0]
        """
        arr = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
        out = np.full(len(arr), np.nan)
        for g in np.unique(arr[:, 0]).tolist():
            at = np.flatnonzero(arr[:, 0] == g)
            ms = arr[at, 1]
            if len(ms) > 1:
                sub = self.affinity[np.ix_(ms, ms)]
                out[at] = (sub.sum(axis=1) - np.diag(sub)) / (len(ms) - 1)
        return out

    def key(self, rows: npt.ArrayLike) -> tuple[float, float]:
        """The objective of (circle, person) rows as (first, then) criteria, higher better.

        ``"total"``: (0, total); ``"mean"``: (0, sum of member means); ``"maxmin"``:
        (worst-off member's mean, total), where a keep-together group counts as one member
        with its members' average (they always share a circle) and someone alone in her
        circle has a mean of 0.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> a = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 3], [0, 0, 3, 0]])
        >>> p = pairwise.CircleProblem.from_affinity(a, min_size=2, max_size=2, objective="maxmin")
        >>> p.key([[0, 0], [0, 1], [1, 2], [1, 3]])
        (1.0, 4.0)
        """
        arr = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
        if self.objective == "mean":
            return 0.0, float(np.nansum(self.member_means(arr)))
        total = self.total(arr)
        if self.objective == "maxmin":
            means = np.nan_to_num(self.member_means(arr), nan=0.0)  # alone: nothing shared
            for group in self.together:  # who always sit together count as one member
                at = np.flatnonzero(np.isin(arr[:, 1], group))
                means[at] = means[at].mean() if len(at) else 0.0
            return (float(means.min()) if len(means) else 0.0), total
        return 0.0, total

    def value(self, rows: npt.ArrayLike) -> float:
        """The objective reported for (circle, person) rows (``Circles.objective``).

        The sum of member means for ``"mean"``, else the total (for ``"maxmin"`` the worst
        member's mean is :meth:`key`'s first criterion and ``Circles.metrics()``'s
        ``worst_member_mean``).
        """
        return self.key(rows)[1]

    def total(self, rows: npt.ArrayLike) -> float:
        """The total within-circle affinity of (circle, person) rows, in floats.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> p = pairwise.CircleProblem.from_affinity(np.ones((4, 4)), min_size=2, max_size=2)
        >>> p.total([[0, 0], [0, 1], [1, 2], [1, 3]])
        2.0
        """
        return float(self.circle_scores(rows).sum())

    @property
    def n_members(self) -> int:
        """People the circles must place: everyone but the possible leaders when led."""
        return self.n - len(self.leaders) if self.mentor_led else self.n

    def fitting_counts(self) -> list[int]:
        """Circle counts its one size range allows for all its people (its own count aside).

        ``[]`` for per-circle sizes. Mentor-led: one leader per circle, the other members
        fill the rest, and the leading places cap the count.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> pairwise.CircleProblem.from_affinity(np.ones((23, 23)), n_circles=6,
        ...                                      min_size=4, max_size=6).fitting_counts()
        [4, 5]
        """
        if self.size_range is None:
            return []
        low, high = self.size_range
        if self.mentor_led:
            return fitting_counts(self.n_members, low - 1, high - 1, int(self.leads.sum()))
        return fitting_counts(self.n, low, high)

    def with_count(self, k: int, *, spare: bool = False) -> CircleProblem:
        """The problem with ``k`` circles of its one size range (balanced when asked).

        ``spare``: balanced bounds for as many people as the circles hold (some may be
        left out), see :func:`balanced_sizes`.

        For problems whose count the constructor chose (``count_free``): the solver
        searches the count, and results carry the problem with the count it chose.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> p = pairwise.CircleProblem.from_affinity(np.ones((20, 20)), min_size=4, max_size=6)
        >>> p.n_circles, p.with_count(5).n_circles, p.with_count(5).max_size.tolist()
        (4, 5, [6, 6, 6, 6, 6])
        """
        if self.size_range is None:
            raise ValidationError(
                [Problem("per-circle sizes fix the count", expected="one size range")]
            )
        low, high = self.size_range
        lo, hi = np.full(k, low, dtype=np.int64), np.full(k, high, dtype=np.int64)
        if self.balanced:
            lead = 1 if self.mentor_led else 0
            lo, hi = balanced_sizes(lo, hi, self.n_members, lead, spare=spare)
        leads = np.minimum(self.leads, k).astype(np.int64)
        return replace(self, min_size=lo, max_size=hi, leads=leads)

    def meeting(self, members: npt.ArrayLike) -> list[SharedChoice]:
        """The label each shared rule publishes for a circle of ``members`` (positions).

        One :class:`SharedChoice` per rule of :attr:`shared` (a weekly slot, a language):
        among the labels every member holds, the one most members prefer (each member
        votes for the shared label she listed first), ties to the smaller sum of places
        in the members' lists, then to the first label. ``label`` is ``None`` when the
        members share none (a result that breaks the rule; :func:`pairwise.check` says so).

        Examples
        --------
        >>> import numpy as np
        >>> from dataclasses import replace
        >>> from pairwise.rules import SetRule
        >>> held = np.array([[1, 1], [1, 1], [0, 1]], dtype=bool)
        >>> rank = np.array([[2, 1], [1, 2], [0, 1]], dtype=np.int16)
        >>> rule = SetRule("shared slot", ("Mon", "Tue"), held, "weekly slot", "slot", rank)
        >>> p = CircleProblem.from_affinity(np.ones((3, 3)), min_size=3, max_size=3)
        >>> p = replace(p, shared=(rule,))
        >>> p.meeting([0, 1]), p.meeting([0, 1, 2])[0].label
        ([SharedChoice(field='slot', label='Mon', alternatives=('Tue',))], 'Tue')
        """
        ms = np.asarray(members, dtype=np.int64).reshape(-1)
        out = []
        for rule in self.shared:
            common = np.flatnonzero(rule.member[ms].all(axis=0)) if len(ms) else np.zeros(0, int)
            if len(common) == 0:
                out.append(SharedChoice(rule.field, None, ()))
                continue
            rank = rule.member.astype(np.int64) if rule.rank is None else rule.rank
            places = rank[np.ix_(ms, common)].astype(np.int64)
            places = np.where(places > 0, places, np.iinfo(np.int16).max)
            votes = np.bincount(places.argmin(axis=1), minlength=len(common))
            order = np.lexsort((common, places.sum(axis=0), -votes))
            labels = [rule.labels[int(common[k])] for k in order]
            out.append(SharedChoice(rule.field, labels[0], tuple(sorted(labels[1:]))))
        return out

    @property
    def ids(self) -> npt.NDArray[np.object_]:
        """Deprecated spelling of :attr:`person_ids`."""
        warnings.warn(
            "CircleProblem.ids is deprecated: use person_ids", DeprecationWarning, stacklevel=2
        )
        return self.person_ids

    @property
    def mentor_mask(self) -> BoolArray:
        """People with the role mentor, as a boolean array (all False when none)."""
        if self.is_mentor is None:
            return np.zeros(self.n, dtype=bool)
        return self.is_mentor

    @property
    def mentor_led(self) -> bool:
        """Whether every circle has exactly one leader."""
        return len(self.leaders) > 0

    def index_of(self, person: Any) -> int:
        """Position of a person id.

        Raises
        ------
        ValidationError
            If the id is unknown.
        """
        hits = np.flatnonzero(self.person_ids == id_text(person))
        if len(hits) == 0:
            raise ValidationError([Problem("unknown person id", value=str(person))])
        return int(hits[0])

    @classmethod
    def from_affinity(
        cls,
        affinity: Any,
        *,
        n_circles: int | None = None,
        min_size: Any = 4,
        max_size: Any = 6,
        person_ids: Sequence[Any] | None = None,
        ids: Sequence[Any] | None = None,
        apart: Any = None,
        objective: CircleObjective = "total",
        all_placed: bool = False,
        balanced: bool = False,
    ) -> CircleProblem:
        """Build a circle problem from a symmetric affinity matrix.

        Parameters
        ----------
        affinity : array_like, shape (n, n)
            Symmetric; higher is better together. NaN keeps the two apart; the diagonal is
            ignored.
        n_circles : int, optional
            Number of circles. By default the count whose mean size is closest to the middle
            of the size range (fewer circles on ties) among those the sizes allow.
        min_size, max_size : int or array_like of int
            Members per circle; one value, or one per circle (then ``n_circles`` is their
            length). Circle ``g`` holds ``min_size[g]`` to ``max_size[g]`` people.
        person_ids : sequence, optional
            Person ids (default ``"0"``, ``"1"``, ...), as ``mentee_ids`` and ``mentor_ids``
            of :meth:`PairProblem.from_scores <pairwise.problem.PairProblem.from_scores>`.
        ids : sequence, optional
            Deprecated spelling of ``person_ids``.
        apart : array_like of bool, shape (n, n), optional
            Pairs that never share a circle.
        objective : {"total", "mean", "maxmin"}, default "total"
            ``"total"``: the sum of within-circle affinities (the MDGP's objective; a circle
            of 6 has 15 pairs against 6 in a circle of 4, so larger circles weigh more);
            ``"mean"``: every member's mean affinity to her circle-mates, summed over the
            members (a circle of ``k`` with total ``S`` counts ``2 S / (k - 1)``: sizes
            weigh alike); ``"maxmin"``: the worst-off member's mean first, then the total.
        all_placed : bool, default False
            Everyone must be placed, or :func:`pairwise.solve` raises
            :class:`~pairwise.errors.InfeasibleError`. By default people no circle can take
            under the hard rules are left out and listed in ``Circles.unplaced`` with the
            reason, and the others are solved.
        balanced : bool, default False
            Circle sizes differ by at most one (needs one size range).

        Returns
        -------
        CircleProblem

        Raises
        ------
        ValidationError
            Listing every problem: shape, asymmetry, infinite values, bad sizes, or no circle
            count that the sizes allow.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> d = np.random.default_rng(0).random((12, 12)); d = (d + d.T) / 2
        >>> p = pairwise.CircleProblem.from_affinity(d, min_size=3, max_size=4)
        >>> p.n_circles, p.min_size.tolist()
        (3, [3, 3, 3])
        """
        problems: list[Problem] = []
        a = np.array(affinity, dtype=np.float64, copy=True)
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
            raise ValidationError(
                [Problem(f"affinity has shape {a.shape}", expected="a square (n, n) matrix")]
            )
        n = a.shape[0]
        np.fill_diagonal(a, 0.0)
        nan = np.isnan(a)
        if np.isinf(a).any():
            r, c = np.argwhere(np.isinf(a))[0]
            problems.append(
                Problem(
                    "affinity has infinite values", row=str(r), column=str(c), expected="finite"
                )
            )
        if not np.array_equal(nan, nan.T):
            problems.append(Problem("NaN pattern is not symmetric", expected="symmetric"))
        filled = np.where(nan | np.isinf(a), 0.0, a)
        tol = 1e-9 * max(1.0, float(np.abs(filled).max(initial=0.0)))
        bad = np.abs(filled - filled.T) > tol
        if bad.any():
            r, c = np.argwhere(bad)[0]
            problems.append(
                Problem(
                    f"affinity is not symmetric at {int(bad.sum()) // 2} pairs",
                    row=str(r),
                    column=str(c),
                    expected="affinity[i, j] == affinity[j, i]",
                )
            )
        keep_apart = _apart(nan, apart, problems)
        if ids is not None:
            warnings.warn(
                "CircleProblem.from_affinity(ids=...) is deprecated: pass person_ids=...",
                DeprecationWarning,
                stacklevel=2,
            )
            person_ids = ids if person_ids is None else person_ids
        ids_arr = ids_array(person_ids, n, "person_ids", problems)
        problems.extend(_option_problems(objective, all_placed, balanced, min_size, max_size))
        lo, hi = _sizes(n, n_circles, min_size, max_size, problems, members=n, spare=not all_placed)
        if balanced is True and not problems:
            lo, hi = balanced_sizes(lo, hi, n, 0, spare=not all_placed)
        if problems:
            raise ValidationError(problems)
        filled = (filled + filled.T) / 2
        return cls(
            affinity=filled,
            person_ids=ids_arr,
            min_size=lo,
            max_size=hi,
            apart=keep_apart,
            objective=objective,
            removed_by={"keep apart": keep_apart.copy()} if keep_apart.any() else {},
            all_placed=all_placed,
            count_free=_count_free(n_circles, min_size, max_size),
            balanced=balanced,
            size_range=_size_range(min_size, max_size),
        )

    @classmethod
    def from_compatibility(
        cls,
        compat: Compatibility,
        rules: Sequence[Any] = (),
        *,
        mentors: Literal["one-per-circle"] | None = None,
        fit: Compatibility | None = None,
        leads: Any = 1,
        n_circles: int | None = None,
        min_size: Any = 4,
        max_size: Any = 6,
        objective: CircleObjective = "mean",
        all_placed: bool = False,
        balanced: bool = False,
    ) -> CircleProblem:
        """Build a circle problem from a cohort's affinity and programme rules.

        The cohort's ``avoid`` lists always apply (people who name each other are kept
        apart).

        Parameters
        ----------
        compat : Compatibility
            A symmetric affinity from :func:`pairwise.affinity` over everyone who joins a
            circle; for mentor-led circles, include the mentors
            (``pairwise.affinity(cohort, roles=("mentee", "mentor"))``).
        rules : sequence of rules
            From :mod:`pairwise.rules` (see its table of circle forms).
        mentors : {None, "one-per-circle"}
            ``"one-per-circle"``: every circle has exactly one person with role ``mentor``,
            and the fit between her and each member counts in the objective.
        fit : Compatibility, optional
            For mentor-led circles, a mentee x mentor score (:func:`pairwise.score`) whose
            cells replace the mentee-mentor affinities (mentor fit is then directional:
            her needs against his expertise).
        leads : int or array_like of int, default 1
            Most circles each mentor may lead (one value, or one per mentor in cohort order).
        n_circles, min_size, max_size
            As in :meth:`from_affinity`; sizes count the mentor.
        objective : {"total", "mean", "maxmin"}, default "mean"
            As in :meth:`from_affinity`; for a cohort the default is ``"mean"``: circles of
            every size count alike, so the search does not favour the largest circles (see
            docs/circles.md, "Objectives").
        all_placed, balanced : bool, default False
            As in :meth:`from_affinity`.

        Returns
        -------
        CircleProblem

        Raises
        ------
        ValidationError
            For a non-symmetric ``compat``, rules that have no circle form, unknown ids, bad
            sizes; every problem listed.

        Examples
        --------
        >>> import pairwise
        >>> from pairwise.rules import SharedSlot, MaxPerChapter
        >>> aff = pairwise.affinity(pairwise.make_peers(30, seed=1))
        >>> p = pairwise.CircleProblem.from_compatibility(aff, [SharedSlot(), MaxPerChapter(2)])
        >>> p.n, p.n_circles
        (30, 6)
        """
        if not compat.symmetric:
            raise ValidationError(
                [
                    Problem(
                        "circles need a symmetric affinity",
                        expected="pairwise.affinity(cohort, roles=...)",
                    )
                ]
            )
        people = compat.mentees
        n = len(people)
        rules = [_with_sizes(rule, min_size, max_size) for rule in rules]
        found = _compile_rules(compat, rules)
        problems: list[Problem] = []
        problems.extend(_option_problems(objective, all_placed, balanced, min_size, max_size))
        a = np.array(compat.matrix, dtype=np.float64)
        leaders, lead_count = _leaders(people, a, found, mentors, fit, leads, problems)
        groups = _groups(n, found.together)
        problems.extend(_grouped_multi_leaders(people, groups, leaders, lead_count))
        lo, hi = _sizes(
            n,
            n_circles,
            min_size,
            max_size,
            problems,
            members=n - len(leaders),
            leader_slots=int(lead_count.sum()) if len(leaders) else None,
            spare=all_placed is not True,
        )
        if balanced is True and not problems:
            lead = 1 if len(leaders) else 0
            lo, hi = balanced_sizes(lo, hi, n - len(leaders), lead, spare=all_placed is not True)
        if problems:
            raise ValidationError(problems)
        np.fill_diagonal(a, 0.0)
        return cls(
            affinity=(a + a.T) / 2 - sum((m for _, m in found.penalties), np.zeros((n, n))),
            person_ids=compat.mentee_ids.copy(),
            min_size=lo,
            max_size=hi,
            apart=found.apart,
            together=tuple(groups),
            shared=tuple(found.shared),
            counts=tuple(found.counts),
            leaders=leaders.astype(np.int64),
            leads=np.minimum(lead_count, len(lo)).astype(np.int64),
            objective=objective,
            removed_by=found.removed,
            compat=compat,
            is_mentor=readonly(np.asarray(people.role == "mentor", dtype=bool)),
            labels=Labels.of(people),
            all_placed=all_placed,
            count_free=_count_free(n_circles, min_size, max_size),
            balanced=balanced,
            size_range=_size_range(min_size, max_size),
            earlier=earlier_partners(rules),
            penalties=tuple(found.penalties),
        )


def _with_sizes(rule: Any, min_size: Any, max_size: Any) -> Any:
    """``rule`` with the problem's size range when it is a Diversify rule without one.

    Sizes that are not whole numbers leave it as it is (the size checks name them).
    """
    if not isinstance(rule, Diversify) or rule.sizes is not None:
        return rule
    try:
        low = int(np.min(np.asarray(min_size, dtype=np.int64)))
        high = int(np.max(np.asarray(max_size, dtype=np.int64)))
    except (TypeError, ValueError, OverflowError):
        return rule
    return replace(rule, sizes=(low, high)) if 1 <= low <= high else rule


@dataclass
class _Rules:
    """The circle rules of a cohort, combined: what ``from_compatibility`` assembles."""

    apart: BoolArray
    removed: dict[str, BoolArray]
    together: list[tuple[int, int]]
    shared: list[SetRule]
    counts: list[CountRule]
    may_lead: BoolArray
    penalties: list[tuple[str, FloatArray]] = field(default_factory=list)


def _compile_rules(compat: Compatibility, rules: Sequence[Any]) -> _Rules:
    """Every rule in its circle form (the cohort's ``avoid`` lists first), combined.

    Rules that relate two people (``relates_two``) hold for every two members; the rest
    need a circle form (:class:`~pairwise.rules.CircleRule`).
    """
    people = compat.mentees
    n = len(people)
    pieces: list[tuple[str, CircleCompiled]] = []
    problems: list[Problem] = []
    for rule in [KeepApart(), *rules]:
        if isinstance(rule, CircleRule):
            pieces.append((rule.name, rule.compile_circles(people)))
        elif getattr(rule, "relates_two", False) and isinstance(rule, PairRule):
            forbidden = rule.compile(compat).forbidden
            piece = CircleCompiled(apart=None if forbidden is None else forbidden.copy())
            pieces.append((rule.name, piece))
        else:
            name = getattr(rule, "name", type(rule).__name__)
            problems.append(
                Problem(
                    "rule has no circle form",
                    value=str(name),
                    expected="a rule from the circle table in pairwise.rules",
                )
            )
    if problems:
        raise ValidationError(problems)
    out = _Rules(np.zeros((n, n), dtype=bool), {}, [], [], [], np.ones(n, dtype=bool))
    for name, piece in pieces:
        if piece.apart is not None:
            f = piece.apart | piece.apart.T
            np.fill_diagonal(f, False)
            if f.any():
                out.removed[name] = out.removed[name] | f if name in out.removed else f
                out.apart |= f
        out.together.extend(piece.together)
        out.shared.extend(piece.shared)
        out.counts.extend(piece.counts)
        if piece.may_lead is not None:
            out.may_lead &= piece.may_lead
        if piece.penalty is not None:
            out.penalties.append((name, readonly(piece.penalty.copy())))
    return out


def _leaders(
    people: Cohort,
    a: FloatArray,
    found: _Rules,
    mentors: object,
    fit: Compatibility | None,
    leads: Any,
    problems: list[Problem],
) -> tuple[IntArray, IntArray]:
    """Mentor-led circles: who may lead and how often; mentors kept apart, fit applied.

    Updates ``a`` (mentors add nothing to each other; ``fit`` replaces mentee-mentor cells)
    and ``found.apart`` (two mentors never share a circle) in place.
    """
    none = np.zeros(0, dtype=np.int64)
    if mentors is not None and mentors != "one-per-circle":
        problems.append(
            Problem("unknown mentors option", value=mentors, expected="None or one-per-circle")
        )
        return none, none
    if mentors is None:
        if fit is not None:
            problems.append(Problem("fit is only for mentor-led circles", column="fit"))
        return none, none
    all_leaders = np.flatnonzero(np.asarray(people.role == "mentor", dtype=bool))
    if len(all_leaders) == 0:
        problems.append(
            Problem(
                "mentor-led circles but nobody has role mentor",
                column="role",
                expected="pairwise.affinity(cohort, roles=('mentee', 'mentor'))",
            )
        )
    per = per_entity(leads, len(all_leaders), "leads", problems, minimum=1)
    keep = found.may_lead[all_leaders]
    found.apart[np.ix_(all_leaders, all_leaders)] = True
    np.fill_diagonal(found.apart, False)
    a[np.ix_(all_leaders, all_leaders)] = 0.0
    idle = all_leaders[~keep]  # mentors who may not lead cannot join a circle at all
    if len(idle):
        problems.append(
            Problem(
                f"{len(idle)} mentors may not lead; leave them out of the affinity",
                column="vetted",
                value=[str(x) for x in people.ids[idle][:5]],
                expected="only mentors who may lead",
            )
        )
    if fit is not None:
        _apply_fit(a, people, fit, all_leaders, problems)
    return all_leaders[keep], per[keep]


def _grouped_multi_leaders(
    people: Cohort, groups: list[tuple[int, ...]], leaders: IntArray, lead_count: IntArray
) -> list[Problem]:
    """A keep-together group may not hold a mentor who may lead several circles."""
    multi = {int(x) for x, k in zip(leaders, lead_count, strict=True) if k > 1}
    return [
        Problem(
            "keep-together with a mentor who may lead several circles",
            value=[str(people.ids[i]) for i in g],
            expected="leads=1 for that mentor",
        )
        for g in groups
        if any(i in multi for i in g)
    ]


def _apply_fit(
    a: FloatArray,
    people: Any,
    fit: Compatibility,
    leaders: IntArray,
    problems: list[Problem],
) -> None:
    if fit.symmetric:
        problems.append(Problem("fit must be a mentee x mentor score", column="fit"))
        return
    pos = positions(people.ids)
    rows = [pos.get(id_text(x), -1) for x in fit.mentee_ids]
    cols = [pos.get(id_text(x), -1) for x in fit.mentor_ids]
    missing = [str(x) for x, r in zip(fit.mentee_ids, rows, strict=True) if r < 0]
    missing += [str(x) for x, c in zip(fit.mentor_ids, cols, strict=True) if c < 0]
    if missing:
        problems.append(
            Problem(
                f"fit names {len(missing)} people not in the affinity",
                column="fit",
                value=missing[:5],
            )
        )
        return
    lead = set(leaders.tolist())
    if not all(c in lead for c in cols):
        problems.append(Problem("fit columns must be mentors", column="fit"))
        return
    r = np.array(rows, dtype=np.int64)
    c = np.array(cols, dtype=np.int64)
    block = np.asarray(fit.matrix, dtype=np.float64)
    a[np.ix_(r, c)] = block
    a[np.ix_(c, r)] = block.T


def _groups(n: int, pairs: Sequence[tuple[int, int]]) -> list[tuple[int, ...]]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    out: dict[int, list[int]] = {}
    for i in range(n):
        out.setdefault(find(i), []).append(i)
    return sorted(tuple(g) for g in out.values() if len(g) > 1)


def _option_problems(
    objective: object, all_placed: object, balanced: object, min_size: Any, max_size: Any
) -> list[Problem]:
    """A known objective, ``all_placed`` and ``balanced`` bools (balanced: one size range)."""
    out = []
    if not isinstance(balanced, bool):
        out.append(Problem("bad balanced", value=balanced, expected="True or False"))
    elif balanced and _size_range(min_size, max_size) is None:
        out.append(
            Problem("balanced needs one size range", column="min_size", expected="ints, not lists")
        )
    if objective not in CIRCLE_OBJECTIVES:
        out.append(
            Problem("unknown objective", value=objective, expected=", ".join(CIRCLE_OBJECTIVES))
        )
    if not isinstance(all_placed, bool):
        out.append(Problem("bad all_placed", value=all_placed, expected="True or False"))
    return out


def _apart(nan: BoolArray, apart: Any, problems: list[Problem]) -> BoolArray:
    """Pairs kept apart: NaN affinities and the ``apart`` matrix (made symmetric)."""
    n = len(nan)
    keep_apart = nan | nan.T
    if apart is not None:
        ap = np.asarray(apart)
        if ap.shape != (n, n) or ap.dtype != np.bool_:
            problems.append(
                Problem(f"apart has shape {ap.shape}", expected=f"bool array ({n}, {n})")
            )
        else:
            keep_apart = keep_apart | ap | ap.T
    np.fill_diagonal(keep_apart, False)
    return keep_apart


def _size_range(min_size: Any, max_size: Any) -> tuple[int, int] | None:
    """The one (min, max) size range asked for, or None for per-circle sizes."""
    if np.ndim(min_size) == 0 and np.ndim(max_size) == 0 and is_int(min_size) and is_int(max_size):
        return int(min_size), int(max_size)
    return None


def balanced_sizes(
    low: IntArray, high: IntArray, members: int, lead: int, *, spare: bool = False
) -> tuple[IntArray, IntArray]:
    """Size bounds narrowed so that circle sizes differ by at most one.

    ``members`` people besides the ``lead`` (1 for mentor-led circles, else 0) fill the
    circles; with ``spare`` (people may be left out) only as many as the circles hold.
    The circles take ``members // m`` or one more, within the bounds asked for; where that
    is impossible the bounds cross and the solve reports the sizes as the conflict.

    Examples
    --------
    >>> lo, hi = balanced_sizes(np.full(4, 4), np.full(4, 6), 20, 0)
    >>> lo.tolist(), hi.tolist()
    ([5, 5, 5, 5], [5, 5, 5, 5])
    """
    m = len(low)
    if m == 0:
        return low, high
    placed = min(members, int((high - lead).sum())) if spare else members
    floor, ceil = placed // m, -(-placed // m)
    lo = np.maximum(low, floor + lead).astype(np.int64)
    hi = np.minimum(high, ceil + lead).astype(np.int64)
    return lo, hi


def _count_free(n_circles: object, min_size: Any, max_size: Any) -> bool:
    """Whether the constructor chose the count (no ``n_circles``, one size range)."""
    return n_circles is None and np.ndim(min_size) == 0 and np.ndim(max_size) == 0


def fitting_counts(members: int, low: int, high: int, leader_slots: int | None = None) -> list[int]:
    """Circle counts that place all ``members`` in circles of ``low``-``high`` members.

    ``leader_slots`` caps the count (mentor-led circles).

    Examples
    --------
    >>> fitting_counts(20, 4, 6), fitting_counts(7, 4, 6)
    ([4, 5], [])
    """
    cap = members if leader_slots is None else min(members, leader_slots)
    return [k for k in range(1, cap + 1) if k * low <= members <= k * high]


def circle_count(members: int, low: int, high: int, leader_slots: int | None = None) -> int:
    """The circle count for ``members`` people in circles of ``low``-``high`` members.

    The count whose mean size is closest to the middle of the bounds among those that
    place everyone; when none does, the count that places the most (0 when not even one
    circle fills). ``leader_slots`` caps the count (mentor-led circles).

    Examples
    --------
    >>> circle_count(20, 4, 6), circle_count(7, 4, 6), circle_count(3, 4, 6)
    (4, 1, 0)
    """
    cap = members if leader_slots is None else min(members, leader_slots)
    counts = [k for k in range(1, cap + 1) if k * low <= members]
    if not counts:
        return 0
    fits = fitting_counts(members, low, high, leader_slots)
    if fits:
        mid = (low + high) / 2
        return min(fits, key=lambda k: (abs(members / k - mid), k))
    return max(counts, key=lambda k: (min(members, k * high), -k))


def _sizes(
    n: int,
    n_circles: int | None,
    min_size: Any,
    max_size: Any,
    problems: list[Problem],
    *,
    members: int,
    leader_slots: int | None = None,
    spare: bool = False,
) -> tuple[IntArray, IntArray]:
    """Per-circle size bounds; ``members`` people besides leaders fill them.

    With the count free, the count whose mean size is closest to the middle of the bounds;
    when no count fits everyone and ``spare`` (people may be left out), the count that
    places the most (the rest are listed in ``Circles.unplaced``).
    """
    lo_a, hi_a = np.asarray(min_size), np.asarray(max_size)
    empty = np.zeros(0, dtype=np.int64)
    for name, arr in (("min_size", lo_a), ("max_size", hi_a)):
        values = arr.reshape(-1).tolist()
        if arr.ndim > 1 or not values or not all(is_int(x) and x >= 1 for x in values):
            problems.append(Problem(f"bad {name}", column=name, expected="ints >= 1"))
            return empty, empty
    if n_circles is not None and not (is_int(n_circles) and n_circles >= 1):
        problems.append(Problem("bad n_circles", value=n_circles, expected="an int >= 1"))
        return empty, empty
    lead = 1 if leader_slots is not None else 0
    per_circle = [len(x) for x in (lo_a, hi_a) if x.ndim == 1]
    if per_circle:
        m = per_circle[0]
        if len(set(per_circle)) > 1 or (n_circles is not None and n_circles != m):
            problems.append(
                Problem(
                    "per-circle sizes disagree in length",
                    column="min_size",
                    expected="min_size, max_size and n_circles of one length",
                )
            )
            return empty, empty
    elif n_circles is not None:
        m = int(n_circles)
    else:
        a, b = int(lo_a) - lead, int(hi_a) - lead
        m = circle_count(members, a, b, leader_slots)
        if m == 0 or (not spare and members > m * b):
            extra = "" if leader_slots is None else f" and {leader_slots} mentor places"
            problems.append(
                Problem(
                    f"no circle count fits {members} people with sizes {int(lo_a)}-{int(hi_a)}"
                    + extra,
                    column="n_circles",
                    expected="other sizes or an explicit n_circles",
                )
            )
            return empty, empty
    lo = np.broadcast_to(lo_a, (m,)).astype(np.int64)
    hi = np.broadcast_to(hi_a, (m,)).astype(np.int64)
    if (lo > hi).any():
        g = int(np.flatnonzero(lo > hi)[0])
        problems.append(
            Problem(
                "min_size above max_size", row=str(g), column="min_size", expected="<= max_size"
            )
        )
    if lead and (lo < 2).any():
        problems.append(
            Problem("mentor-led circles need min_size >= 2", column="min_size", expected=">= 2")
        )
    return lo, hi
