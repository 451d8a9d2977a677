"""Explainable compatibility scores: pluggable criteria, weights, :class:`Compatibility`.

A criterion maps the mentee side and the mentor side of a cohort to an
``(n_mentees, n_mentors)`` array of values in [0, 1], vectorised over whole cohorts. A
:class:`Scorer` weighs the criteria; the score of a pair is the weighted mean
``s_ij = sum_c w_c * v_ij^c`` with normalised weights ``w_c = W_c / sum_d W_d``, so it lies
in [0, 1] too, and :meth:`Compatibility.explain` lists each criterion's value, normalised
weight and contribution, summing to the cell.

Built-in criteria (names are the keys of ``weights``):

| name | value for mentee *i*, mentor *j* |
|---|---|
| topics | `TopicCoverage`: ``sum_t min(e_jt, n_it) / sum_t n_it`` (need levels n, expertise e) |
| stage | `StageExperience`: share of the mentee's stages the mentor has lived through |
| language | `SharedLanguage`: 1 if they share a language |
| region | `RegionProximity`: 1 same region, 0.5 same region cluster, else 0 |
| mode | `ModeCompatibility`: 1 if they can meet (in person only within one region) |
| availability | `AvailabilityOverlap`: ``min(shared slots / 2, 1)`` |
| preference | `StatedPreference`: 1 if either named the other in ``prefer`` |

Not in the defaults (add it with ``criteria=[RankedPreference()]`` or a weight for
``"ranked"``): ``ranked``, `RankedPreference`, the rank each gave the other in ``ranked``,
decayed (1 for a first choice).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise._validate import id_text, is_real, positions
from pairwise.cohort import Cohort
from pairwise.errors import Problem, ValidationError

__all__ = [
    "DEFAULT_WEIGHTS",
    "AvailabilityOverlap",
    "Compatibility",
    "Criterion",
    "ModeCompatibility",
    "RankedPreference",
    "RegionProximity",
    "Scorer",
    "SharedLanguage",
    "StageExperience",
    "StatedPreference",
    "TopicCoverage",
    "affinity",
    "default_criteria",
    "score",
]

Float32Array = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Default weights of the built-in criteria (normalised to sum to 1 when scoring).
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "topics": 4.0,
    "stage": 2.0,
    "language": 2.0,
    "region": 1.0,
    "mode": 1.0,
    "availability": 1.0,
    "preference": 1.0,
}

#: Above this many distinct codes, pair functions are evaluated by broadcasting instead of
#: through a (codes x codes) lookup table.
_MAX_TABLE_CODES = 4096
_RANGE_TOLERANCE = 1e-6


@runtime_checkable
class Criterion(Protocol):
    """What a scoring criterion is: a name and a vectorised function of both sides.

    A criterion is called with the mentee side and the mentor side (both
    :class:`~pairwise.cohort.Cohort` objects with the same vocabularies) and returns a float
    array of shape ``(len(mentees), len(mentors))`` with values in [0, 1]. It must work on
    whole arrays (numpy), not loop over pairs.

    Examples
    --------
    A custom criterion on an extra questionnaire column:

    >>> import numpy as np
    >>> class SameAgeBand:
    ...     name = "age"
    ...     def __call__(self, mentees, mentors):
    ...         a = mentees.extra["age_band"].to_numpy()
    ...         b = mentors.extra["age_band"].to_numpy()
    ...         return (a[:, None] == b[None, :]).astype(np.float32)
    >>> isinstance(SameAgeBand(), Criterion)
    True
    """

    @property
    def name(self) -> str:
        """Unique name, the key of this criterion's weight."""
        ...

    def __call__(self, mentees: Cohort, mentors: Cohort) -> npt.NDArray[np.floating[Any]]:
        """Values in [0, 1], shape ``(len(mentees), len(mentors))``."""
        ...


def _as_f32(a: npt.NDArray[Any]) -> Float32Array:
    return np.asarray(a, dtype=np.float32)


def _by_distinct_rows(
    a: npt.NDArray[Any], fn: Callable[[npt.NDArray[Any]], Float32Array]
) -> Float32Array:
    """``fn(a)`` computed once per distinct row of ``a`` and gathered back.

    Questionnaire answers repeat (one stage of six, a language or two), so the mentee side
    often has far fewer distinct rows than mentees; ``fn`` must act row by row.
    """
    if len(a) < 64:
        return fn(a)
    uniq, inverse = np.unique(a, axis=0, return_inverse=True)
    if len(uniq) > len(a) // 2:
        return fn(a)
    return np.take(fn(uniq), inverse.reshape(-1), axis=0)


def _share_of_rows(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> Float32Array:
    """``(a @ b.T) / a.sum(1)[:, None]`` for 0/1 matrices, 0 where a row of ``a`` is empty."""
    bt = _as_f32(b).T

    def share(rows: npt.NDArray[Any]) -> Float32Array:
        out = _as_f32(rows) @ bt
        den = rows.sum(axis=1, dtype=np.float32)
        inv = np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)
        out *= inv[:, None]
        return out

    return _by_distinct_rows(a, share)


def _codes(
    a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]
) -> tuple[IntArray, IntArray, int]:
    """Shared integer codes of two object arrays (missing -> -1), and the number of codes."""
    codes, uniques = pd.factorize(
        pd.Series(np.concatenate([a, b]), dtype=object), use_na_sentinel=True
    )
    codes = codes.astype(np.int64)
    return codes[: len(a)], codes[len(a) :], len(uniques)


def _pairwise_by_codes(
    ka: IntArray, kb: IntArray, n_codes: int, fn: Callable[[IntArray, IntArray], npt.NDArray[Any]]
) -> Float32Array:
    """Evaluate ``fn(code_a, code_b)`` (vectorised, -1 = missing) on every (i, j) pair.

    With few codes, ``fn`` fills a small table once and rows are gathered from it (a copy per
    row, no per-pair work); with many codes, ``fn`` runs on broadcast code arrays.
    """
    if n_codes + 1 <= _MAX_TABLE_CODES:
        grid = np.arange(-1, n_codes, dtype=np.int64)
        table = _as_f32(fn(grid[:, None], grid[None, :]))  # index k+1 holds code k
        columns = table[:, kb + 1]  # (n_codes + 1, n_b)
        return np.take(columns, ka + 1, axis=0)
    return _as_f32(fn(ka[:, None], kb[None, :]))


@dataclass(frozen=True)
class TopicCoverage:
    """How much of the mentee's needs the mentor's expertise meets, weighted by need level.

    ``v = sum_t min(e_jt, n_it) / sum_t n_it`` with need levels ``n`` and expertise levels
    ``e`` in 0..3 (0 = absent): a level-3 need met by level-3 expertise counts 3, by level-1
    expertise 1. A mentee with no stated needs scores 0 with every mentor. Computed exactly
    as three matrix products, since ``min(e, n) = sum_k [e >= k][n >= k]``.
    """

    name: str = "topics"

    def __call__(self, mentees: Cohort, mentors: Cohort) -> Float32Array:
        """Coverage values, shape ``(len(mentees), len(mentors))``."""
        n, e = mentees.needs.matrix, mentors.expertise.matrix
        a = np.concatenate([n >= k for k in (1, 2, 3)], axis=1)
        b = np.concatenate([e >= k for k in (1, 2, 3)], axis=1)
        # a row of `a` sums to sum_t n_it, the denominator
        return _share_of_rows(a, b)


@dataclass(frozen=True)
class StageExperience:
    """Share of the mentee's stages (usually one) that the mentor lists as lived through.

    0 when the mentee states no stage.
    """

    name: str = "stage"

    def __call__(self, mentees: Cohort, mentors: Cohort) -> Float32Array:
        """Stage values, shape ``(len(mentees), len(mentors))``."""
        return _share_of_rows(mentees.stage.matrix, mentors.stage.matrix)


@dataclass(frozen=True)
class SharedLanguage:
    """1 when mentee and mentor share at least one language, else 0."""

    name: str = "language"

    def __call__(self, mentees: Cohort, mentors: Cohort) -> Float32Array:
        """Language values, shape ``(len(mentees), len(mentors))``."""
        bt = _as_f32(mentors.languages.matrix).T

        def shared(rows: npt.NDArray[Any]) -> Float32Array:
            out = _as_f32(rows) @ bt
            np.minimum(out, 1.0, out=out)
            return out

        return _by_distinct_rows(mentees.languages.matrix, shared)


@dataclass(frozen=True)
class RegionProximity:
    """1 in the same region, ``cluster_value`` in the same region cluster, else 0.

    Missing regions or clusters never match.

    Parameters
    ----------
    cluster_value : float, default 0.5
        Value of "different region, same cluster of neighbouring regions".

    Raises
    ------
    ValidationError
        If ``cluster_value`` is not a number in [0, 1].
    """

    name: str = "region"
    cluster_value: float = 0.5

    def __post_init__(self) -> None:
        v = self.cluster_value
        if not is_real(v) or not 0.0 <= float(v) <= 1.0:
            raise ValidationError(
                [Problem("bad cluster_value", value=v, expected="a number in [0, 1]")]
            )

    def __call__(self, mentees: Cohort, mentors: Cohort) -> Float32Array:
        """Region values, shape ``(len(mentees), len(mentors))``."""
        ra, rb, n_r = _codes(mentees.region, mentors.region)
        ca, cb, n_c = _codes(mentees.cluster, mentors.cluster)
        # one code per (region, cluster) place, so one table lookup gives the value
        stride = n_c + 1
        ka, kb = (ra + 1) * stride + (ca + 1), (rb + 1) * stride + (cb + 1)
        cluster_value = self.cluster_value

        def value(x: IntArray, y: IntArray) -> npt.NDArray[np.float64]:
            rx, ry, cx, cy = x // stride - 1, y // stride - 1, x % stride - 1, y % stride - 1
            same_cluster = np.where((cx == cy) & (cx >= 0), cluster_value, 0.0)
            return np.where((rx == ry) & (rx >= 0), 1.0, same_cluster)

        return _pairwise_by_codes(ka, kb, (n_r + 1) * stride, value)


_MODE_CODE = {"online": 0, "in-person": 1, "either": 2}
# can meet at all, given modes (rows: mentee mode, columns: mentor mode)
_MODE_OK = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=bool)
# the only way to meet is in person: needs the same region
_MODE_NEEDS_REGION = np.array([[0, 0, 0], [0, 1, 1], [0, 1, 0]], dtype=bool)


@dataclass(frozen=True)
class ModeCompatibility:
    """1 when mentee and mentor can meet in a mode both accept, else 0.

    Online meets online or either; in-person meets in-person or either *in the same region*;
    either meets anyone (in person only within a region, online otherwise).
    """

    name: str = "mode"

    def __call__(self, mentees: Cohort, mentors: Cohort) -> Float32Array:
        """Mode values, shape ``(len(mentees), len(mentors))``."""
        ra, rb, n_r = _codes(mentees.region, mentors.region)
        ma = np.array([_MODE_CODE[m] for m in mentees.mode], dtype=np.int64)
        mb = np.array([_MODE_CODE[m] for m in mentors.mode], dtype=np.int64)
        # one code per (mode, region); region code -1 (missing) kept as its own value
        stride = n_r + 1
        ka, kb = ma * stride + (ra + 1), mb * stride + (rb + 1)

        def ok(x: IntArray, y: IntArray) -> npt.NDArray[np.bool_]:
            # codes are >= 0 here; the table's row for "missing" (-1) is never gathered
            mx, my = x // stride, y // stride
            rx, ry = x % stride, y % stride
            same = (rx == ry) & (rx > 0)
            return np.where(_MODE_NEEDS_REGION[mx, my], same, _MODE_OK[mx, my])

        return _pairwise_by_codes(ka, kb, 3 * stride, ok)


@dataclass(frozen=True)
class AvailabilityOverlap:
    """Shared weekly slots, saturating: ``min(|S_i & S_j| / target, 1)``.

    Parameters
    ----------
    target : int, default 2
        Shared slots that count as fully compatible. People with no stated slots score 0.

    Raises
    ------
    ValidationError
        If ``target`` is not a finite number > 0.
    """

    name: str = "availability"
    target: int = 2

    def __post_init__(self) -> None:
        t = self.target
        if not is_real(t) or not 0.0 < float(t) < math.inf:
            raise ValidationError(
                [Problem("bad target", value=t, expected="a finite number of slots > 0")]
            )

    def __call__(self, mentees: Cohort, mentors: Cohort) -> Float32Array:
        """Availability values, shape ``(len(mentees), len(mentors))``."""
        bt = _as_f32(mentors.slots.matrix).T
        scale = np.float32(1.0 / self.target)

        def overlap(rows: npt.NDArray[Any]) -> Float32Array:
            out = _as_f32(rows) @ bt
            out *= scale
            np.minimum(out, 1.0, out=out)
            return out

        return _by_distinct_rows(mentees.slots.matrix, overlap)


@dataclass(frozen=True)
class StatedPreference:
    """1 when the mentee named the mentor in ``prefer``, or the mentor named the mentee."""

    name: str = "preference"

    def __call__(self, mentees: Cohort, mentors: Cohort) -> Float32Array:
        """Preference values, shape ``(len(mentees), len(mentors))``."""
        out = np.zeros((len(mentees), len(mentors)), dtype=np.float32)
        pos_a = positions(mentees.ids)
        pos_b = positions(mentors.ids)
        rows = [(i, pos_b[x]) for i, xs in enumerate(mentees.prefer) for x in xs if x in pos_b]
        rows += [(pos_a[x], j) for j, xs in enumerate(mentors.prefer) for x in xs if x in pos_a]
        if rows:
            ij = np.array(rows, dtype=np.int64)
            out[ij[:, 0], ij[:, 1]] = 1.0
        return out


@dataclass(frozen=True)
class RankedPreference:
    """The rank a mentee gave a mentor in ``ranked`` (or he gave her), decayed to [0, 1].

    With ``r`` the rank (1 = first choice) and ``k`` the ranks that count:

    - ``decay="geometric"``: ``v = ratio ** (r - 1)`` for ``r <= k`` (1, 0.5, 0.25, ...
      with the default ratio), 0 after ``k``;
    - ``decay="linear"``: ``v = (k + 1 - r) / k`` for ``r <= k`` (1, (k-1)/k, ..., 1/k),
      0 after ``k``.

    A pair neither ranked scores 0. ``side="mentee"`` reads the mentees' lists only,
    ``"mentor"`` the mentors', ``"both"`` (default) takes the larger of the two values.

    Parameters
    ----------
    name : str, default "ranked"
    side : {"both", "mentee", "mentor"}
    decay : {"geometric", "linear"}
    ratio : float, default 0.5
        Geometric decay per rank, in (0, 1].
    k : int, optional
        Ranks that count; ``None``: every rank for ``"geometric"``, the longest list on
        that side for ``"linear"``.

    Raises
    ------
    ValidationError
        A bad side, decay, ratio or ``k`` (every problem listed).

    Examples
    --------
    >>> import pandas as pd, pairwise
    >>> cohort = pairwise.Cohort.from_frame(pd.DataFrame({
    ...     "id": ["a", "m1", "m2", "m3"], "role": ["mentee", "mentor", "mentor", "mentor"],
    ...     "ranked": ["m3;m1;m2", "", "", ""]}))
    >>> RankedPreference()(cohort.mentees, cohort.mentors).tolist()
    [[0.5, 0.25, 1.0]]
    >>> RankedPreference(decay="linear", k=2)(cohort.mentees, cohort.mentors).tolist()
    [[0.5, 0.0, 1.0]]
    """

    name: str = "ranked"
    side: str = "both"
    decay: str = "geometric"
    ratio: float = 0.5
    k: int | None = None

    def __post_init__(self) -> None:
        bad: list[Problem] = []
        if self.side not in ("both", "mentee", "mentor"):
            bad.append(Problem("bad side", value=self.side, expected="both, mentee or mentor"))
        if self.decay not in ("geometric", "linear"):
            bad.append(Problem("bad decay", value=self.decay, expected="geometric or linear"))
        if not is_real(self.ratio) or not 0.0 < float(self.ratio) <= 1.0:
            bad.append(Problem("bad ratio", value=self.ratio, expected="a number in (0, 1]"))
        if self.k is not None and (
            isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1
        ):
            bad.append(Problem("bad k", value=self.k, expected="a whole number >= 1, or None"))
        if bad:
            raise ValidationError(bad)

    def values(self, rank: npt.NDArray[np.integer[Any]]) -> Float32Array:
        """The decayed value of each rank in ``rank`` (0 = not ranked scores 0)."""
        r = np.asarray(rank, dtype=np.float64)
        k = (
            self.k
            if self.k is not None
            else (int(r.max(initial=0)) if self.decay == "linear" else None)
        )
        if self.decay == "linear":
            v = (k + 1 - r) / k if k else np.zeros_like(r)
        else:
            v = float(self.ratio) ** np.maximum(r - 1.0, 0.0)
        keep = (r >= 1) & (r <= k if k is not None else True)
        return _as_f32(np.where(keep, v, 0.0))

    def __call__(self, mentees: Cohort, mentors: Cohort) -> Float32Array:
        """Ranked-preference values, shape ``(len(mentees), len(mentors))``."""
        out = np.zeros((len(mentees), len(mentors)), dtype=np.float32)
        if self.side in ("both", "mentee"):
            out = np.maximum(out, self.values(mentees.rank_matrix(mentors)))
        if self.side in ("both", "mentor"):
            out = np.maximum(out, self.values(mentors.rank_matrix(mentees)).T)
        return out


def default_criteria() -> list[Criterion]:
    """Fresh instances of the built-in criteria, in their canonical order."""
    return [
        TopicCoverage(),
        StageExperience(),
        SharedLanguage(),
        RegionProximity(),
        ModeCompatibility(),
        AvailabilityOverlap(),
        StatedPreference(),
    ]


_BUILTIN = (
    TopicCoverage,
    StageExperience,
    SharedLanguage,
    RegionProximity,
    ModeCompatibility,
    AvailabilityOverlap,
    StatedPreference,
    RankedPreference,
)


@dataclass(frozen=True, eq=False)
class Compatibility:
    """Weighted compatibility of every mentee with every mentor, explainable per criterion.

    Attributes
    ----------
    matrix : ndarray of float64, shape (n_mentees, n_mentors)
        ``matrix = sum_c weights[c] * components[c]``, in [0, 1]. Read-only.
    mentee_ids, mentor_ids : ndarray of object
        Row and column ids. For a peer affinity both are the peers' ids.
    components : mapping of str to ndarray of float32
        Each criterion's raw values (in [0, 1]), same shape as ``matrix``. Read-only.
    weights : mapping of str to float
        Normalised weights (summing to 1), in criterion order.
    mentees, mentors : Cohort
        The two sides that were scored (the same peers for an affinity).
    symmetric : bool
        True for a peer-to-peer affinity (``matrix`` symmetric, zero diagonal).
    """

    matrix: Float64Array
    mentee_ids: npt.NDArray[np.object_]
    mentor_ids: npt.NDArray[np.object_]
    components: Mapping[str, Float32Array]
    weights: Mapping[str, float]
    mentees: Cohort
    mentors: Cohort
    symmetric: bool = False
    _row: dict[str, int] = field(default_factory=dict, repr=False)
    _col: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for a in (self.matrix, self.mentee_ids, self.mentor_ids, *self.components.values()):
            a.setflags(write=False)
        self._row.update(positions(self.mentee_ids))
        self._col.update(positions(self.mentor_ids))

    def __repr__(self) -> str:
        kind = "peer affinity" if self.symmetric else "compatibility"
        a, b = self.matrix.shape
        return f"Compatibility({kind}, {a} x {b}, criteria={list(self.weights)})"

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_mentees, n_mentors)``."""
        a, b = self.matrix.shape
        return a, b

    @property
    def criteria(self) -> list[str]:
        """Criterion names, in order."""
        return list(self.weights)

    def _index(self, mentee_id: Any, mentor_id: Any | None = None) -> tuple[int, int]:
        problems = []
        i = self._row.get(id_text(mentee_id), -1)
        if i < 0:
            problems.append(Problem("unknown mentee id", value=id_text(mentee_id), column="id"))
        j = 0
        if mentor_id is not None:
            j = self._col.get(id_text(mentor_id), -1)
            if j < 0:
                problems.append(Problem("unknown mentor id", value=id_text(mentor_id), column="id"))
        if problems:
            raise ValidationError(problems)
        return i, j

    def score(self, mentee_id: Any, mentor_id: Any) -> float:
        """The score of one pair."""
        i, j = self._index(mentee_id, mentor_id)
        return float(self.matrix[i, j])

    def explain(self, mentee_id: Any, mentor_id: Any) -> pd.DataFrame:
        """Why this pair scores what it does: one row per criterion.

        Returns
        -------
        pandas.DataFrame
            Columns ``criterion``, ``value`` (raw, in [0, 1]), ``weight`` (normalised),
            ``contribution`` (``weight * value``); ``contribution.sum()`` equals the cell.

        Examples
        --------
        >>> import pairwise
        >>> compat = pairwise.score(pairwise.make_cohort(20, 6, seed=0))
        >>> e = compat.explain("mentee-0001", "mentor-0002")
        >>> list(e.columns)
        ['criterion', 'value', 'weight', 'contribution']
        >>> bool(e.contribution.sum() == compat.score("mentee-0001", "mentor-0002"))
        True
        """
        i, j = self._index(mentee_id, mentor_id)
        rows = []
        for name, w in self.weights.items():
            v = np.float64(self.components[name][i, j])
            rows.append((name, float(v), float(w), float(np.float64(w) * v)))
        return pd.DataFrame(rows, columns=["criterion", "value", "weight", "contribution"])

    def top(self, mentee_id: Any, k: int = 5) -> pd.DataFrame:
        """The ``k`` best mentors for one mentee, with each criterion's contribution.

        Ties are broken by mentor order, so the result is deterministic.

        Returns
        -------
        pandas.DataFrame
            Columns ``rank`` (1 = best), ``mentor_id``, ``score``, then one contribution column
            per criterion.
        """
        i, _ = self._index(mentee_id)
        row = self.matrix[i]
        k = max(0, min(int(k), len(row)))
        order = np.lexsort((np.arange(len(row)), -row))[:k]
        data: dict[str, Any] = {
            "rank": np.arange(1, k + 1),
            "mentor_id": self.mentor_ids[order],
            "score": row[order],
        }
        for name, w in self.weights.items():
            data[name] = np.float64(w) * self.components[name][i, order].astype(np.float64)
        return pd.DataFrame(data)

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per (mentee, mentor) pair with the score and raw criterion values.

        Returns
        -------
        pandas.DataFrame
            Columns ``mentee_id``, ``mentor_id``, ``score``, then one column per criterion holding
            its raw value.
        """
        a, b = self.matrix.shape
        data: dict[str, Any] = {
            "mentee_id": np.repeat(self.mentee_ids, b),
            "mentor_id": np.tile(self.mentor_ids, a),
            "score": self.matrix.ravel(),
        }
        for name in self.weights:
            data[name] = self.components[name].ravel()
        return pd.DataFrame(data)


def _sum_at_most_one(weights: dict[str, float]) -> dict[str, float]:
    """Normalised weights whose running float sum, in order, is at most 1.

    ``W_c / sum_d W_d`` can round so that the weights add up to ``1 + 1 ulp``; a pair with
    every value 1 would then score above 1. The largest weight gives up an ulp at a time
    until the sum, accumulated in the order :meth:`Scorer._combine` uses, is <= 1, so every
    cell (a sum of ``fl(w_c * v_c) <= w_c`` in that order) is <= 1 too.
    """

    def running_sum() -> float:
        s = 0.0
        for w in weights.values():
            s += w
        return s

    largest = max(weights, key=weights.__getitem__)
    while running_sum() > 1.0:
        weights[largest] = float(np.nextafter(weights[largest], 0.0))
    return weights


class Scorer:
    """Weighted criteria that turn a cohort into a :class:`Compatibility`.

    Parameters
    ----------
    weights : mapping of str to float, optional
        Weight per criterion name; names not given keep their default
        (:data:`DEFAULT_WEIGHTS` for built-ins, 1.0 for custom criteria; ``"ranked"``,
        :class:`RankedPreference`, is built in but 0 unless weighted or given in
        ``criteria``). A weight of 0 turns a criterion off. Weights are normalised to sum to 1.
    criteria : sequence of Criterion, optional
        Extra or replacement criteria: one with a built-in's name replaces it, others are added.

    Raises
    ------
    ValidationError
        Unknown criterion names in ``weights``, negative or non-finite weights, all weights 0,
        or objects that are not criteria (every problem listed).

    Examples
    --------
    >>> import pairwise
    >>> scorer = pairwise.Scorer(weights={"topics": 6, "preference": 0})
    >>> compat = scorer.score(pairwise.make_cohort(10, 4, seed=2))
    >>> compat.shape, round(sum(compat.weights.values()), 12)
    ((10, 4), 1.0)
    """

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        *,
        criteria: Sequence[Criterion] | None = None,
    ) -> None:
        problems: list[Problem] = []
        crits: dict[str, Criterion] = {c.name: c for c in default_criteria()}
        crits["ranked"] = RankedPreference()  # built in, off unless weighted or given
        raw: dict[str, float] = {**DEFAULT_WEIGHTS, "ranked": 0.0}
        custom: set[str] = set()
        for c in criteria or ():
            name = getattr(c, "name", None)
            # a class (e.g. ``TopicCoverage`` instead of ``TopicCoverage()``) has the class
            # attribute ``name`` and is callable, but calling it builds an instance, not values
            if not isinstance(name, str) or not name or not callable(c) or isinstance(c, type):
                problems.append(
                    Problem(
                        "not a criterion",
                        value=type(c).__name__,
                        expected="an object with a text .name that is callable(mentees, mentors)",
                    )
                )
                continue
            if name in custom:
                problems.append(
                    Problem(
                        "two criteria share one name",
                        value=name,
                        expected="a unique .name per criterion",
                    )
                )
                continue
            custom.add(name)
            crits[name] = c
            raw[name] = raw.get(name) or 1.0
        for name, w in (weights or {}).items():
            if name not in crits:
                problems.append(
                    Problem(
                        "unknown criterion",
                        column="weights",
                        value=name,
                        expected="one of " + ", ".join(crits),
                    )
                )
                continue
            if (
                isinstance(w, bool)
                or not isinstance(w, int | float | np.number)
                or not math.isfinite(float(w))
                or w < 0
            ):
                problems.append(
                    Problem(
                        f"bad weight for {name!r}",
                        column="weights",
                        value=w,
                        expected="a finite number >= 0",
                    )
                )
                continue
            raw[name] = float(w)
        total = sum(raw.values())
        if not problems and total <= 0:
            problems.append(
                Problem(
                    "all weights are 0", column="weights", expected="at least one positive weight"
                )
            )
        if problems:
            raise ValidationError(problems)
        self.criteria: dict[str, Criterion] = {n: crits[n] for n in raw if raw[n] > 0}
        self.weights: dict[str, float] = _sum_at_most_one(
            {n: raw[n] / total for n in self.criteria}
        )

    def __repr__(self) -> str:
        w = ", ".join(f"{k}={v:.3g}" for k, v in self.weights.items())
        return f"Scorer({w})"

    def _components(self, a: Cohort, b: Cohort) -> dict[str, Float32Array]:
        out: dict[str, Float32Array] = {}
        problems: list[Problem] = []
        for name, crit in self.criteria.items():
            v = np.asarray(crit(a, b))
            if v.shape != (len(a), len(b)):
                problems.append(
                    Problem(
                        f"criterion {name!r} returned shape {v.shape}",
                        expected=f"{(len(a), len(b))}",
                    )
                )
                continue
            v = v.astype(np.float32, copy=False)
            if not isinstance(crit, _BUILTIN) and v.size:
                # built-ins are in [0, 1] by construction (and property-tested); custom
                # criteria are checked: min/max are NaN if any value is NaN, so one test covers it
                lo, hi = float(v.min()), float(v.max())
                if not (lo >= -_RANGE_TOLERANCE and hi <= 1 + _RANGE_TOLERANCE):
                    bad = np.argwhere(~((v >= -_RANGE_TOLERANCE) & (v <= 1 + _RANGE_TOLERANCE)))[0]
                    problems.append(
                        Problem(
                            f"criterion {name!r} gave a value outside [0, 1]",
                            row=str(a.ids[bad[0]]),
                            column=str(b.ids[bad[1]]),
                            value=float(v[bad[0], bad[1]]),
                            expected="values in [0, 1]",
                        )
                    )
                    continue
                v = np.clip(v, 0.0, 1.0)
            out[name] = v
        if problems:
            raise ValidationError(problems)
        return out

    def _combine(
        self, components: Mapping[str, Float32Array], shape: tuple[int, int]
    ) -> Float64Array:
        matrix = np.zeros(shape, dtype=np.float64)
        tmp = np.empty(shape, dtype=np.float64)
        for name, w in self.weights.items():
            np.multiply(components[name], np.float64(w), out=tmp, dtype=np.float64)
            matrix += tmp
        return matrix

    def score(self, cohort: Cohort) -> Compatibility:
        """Score every mentee of ``cohort`` against every mentor.

        Returns
        -------
        Compatibility
            Rows are mentees, columns mentors, both in cohort order.

        Raises
        ------
        ValidationError
            If the cohort has no mentees or no mentors, or a criterion misbehaves.
        """
        mentees, mentors = cohort.mentees, cohort.mentors
        problems = []
        if len(mentees) == 0:
            problems.append(
                Problem(
                    "no mentees to score",
                    column="role",
                    expected="mentees (use affinity() for peers)",
                )
            )
        if len(mentors) == 0:
            problems.append(
                Problem("no mentors to score", column="role", expected="at least one mentor")
            )
        if problems:
            raise ValidationError(problems)
        comps = self._components(mentees, mentors)
        shape = (len(mentees), len(mentors))
        return Compatibility(
            matrix=self._combine(comps, shape),
            mentee_ids=mentees.ids.copy(),
            mentor_ids=mentors.ids.copy(),
            components=comps,
            weights=dict(self.weights),
            mentees=mentees,
            mentors=mentors,
        )

    def affinity(self, cohort: Cohort, *, roles: Iterable[str] = ("peer",)) -> Compatibility:
        """Symmetric peer-to-peer affinity among the people with ``roles``, from the same criteria.

        Each criterion is applied in both directions and averaged, ``(v_ij + v_ji) / 2``, so
        "my needs meet your expertise" counts both ways; the diagonal is 0.

        Returns
        -------
        Compatibility
            ``symmetric=True``; rows and columns are the same people.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> aff = pairwise.affinity(pairwise.make_peers(12, seed=0))
        >>> bool((aff.matrix == aff.matrix.T).all()), float(aff.matrix.diagonal().max())
        (True, 0.0)
        """
        wanted = {roles} if isinstance(roles, str) else set(roles)
        unknown = sorted(str(r) for r in wanted - {"mentee", "mentor", "peer"})
        if unknown:
            raise ValidationError(
                [
                    Problem(
                        "unknown role", column="role", value=r, expected="mentee, mentor or peer"
                    )
                    for r in unknown
                ]
            )
        people = cohort.take(np.flatnonzero(np.isin(cohort.role, list(wanted))))
        if len(people) < 2:
            raise ValidationError(
                [
                    Problem(
                        "fewer than two people to relate",
                        column="role",
                        value=sorted(wanted),
                        expected="at least two",
                    )
                ]
            )
        comps = self._components(people, people)
        for v in comps.values():
            sym = (v + v.T) * np.float32(0.5)
            np.fill_diagonal(sym, 0.0)
            v[...] = sym
        shape = (len(people), len(people))
        return Compatibility(
            matrix=self._combine(comps, shape),
            mentee_ids=people.ids.copy(),
            mentor_ids=people.ids.copy(),
            components=comps,
            weights=dict(self.weights),
            mentees=people,
            mentors=people,
            symmetric=True,
        )


def score(
    cohort: Cohort,
    weights: Mapping[str, float] | None = None,
    *,
    criteria: Sequence[Criterion] | None = None,
) -> Compatibility:
    """Score every mentee against every mentor.

    Same as ``Scorer(weights, criteria=criteria).score(cohort)``.

    Examples
    --------
    >>> import pairwise
    >>> compat = pairwise.score(pairwise.make_cohort(50, 12, seed=4))
    >>> compat.matrix.shape, bool(((compat.matrix >= 0) & (compat.matrix <= 1)).all())
    ((50, 12), True)
    >>> compat.top("mentee-0001", 2).columns[:3].tolist()
    ['rank', 'mentor_id', 'score']
    """
    return Scorer(weights, criteria=criteria).score(cohort)


def affinity(
    cohort: Cohort,
    weights: Mapping[str, float] | None = None,
    *,
    criteria: Sequence[Criterion] | None = None,
    roles: Iterable[str] = ("peer",),
) -> Compatibility:
    """Peer-to-peer affinity.

    Same as ``Scorer(weights, criteria=criteria).affinity(cohort, roles=roles)``.
    """
    return Scorer(weights, criteria=criteria).affinity(cohort, roles=roles)
