"""Participants of a programme: the canonical schema, column mapping, validation, :class:`Cohort`.

A questionnaire export never uses our column names, writes lists as ``"a;b"`` and topic
levels as ``"fundraising:3;polling:1"``, and has mistakes. :meth:`Cohort.from_frame` maps the
user's names onto the canonical schema, parses every cell, and reports *every* problem at
once in one :class:`~pairwise.errors.ValidationError`.

Canonical columns (all but ``id`` and ``role`` optional):

| column | meaning |
|---|---|
| id | unique participant id (text or integer) |
| role | ``mentee`` , ``mentor`` or ``peer`` |
| region | region (local party area, state, ...) |
| cluster | region cluster: a group of neighbouring regions |
| chapter | chapter, local party or association |
| languages | languages spoken (list) |
| needs | mentees: topic -> level 1..3 (how much help is wanted) |
| expertise | mentors: topic -> level 1..3 (how much they can offer) |
| stage | a mentee's current stage; the stages a mentor has lived through (list) |
| mode | ``online``, ``in-person`` or ``either`` (default ``either``) |
| slots | weekly availability, e.g. ``tue-evening`` (list) |
| capacity | most mentees a mentor takes (integer >= 0, default 1) |
| vetted | mentor passed vetting (bool; True when the column is absent, False if blank) |
| avoid | ids this person must not be matched with (list) |
| previous | ids of earlier partners (list) |
| prefer | ids this person asked to be matched with (list) |

Any other column is kept (``Cohort.extra``) for custom criteria; its cells are never shown
in messages or logs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise._validate import id_text, positions, readonly
from pairwise.cohort._parse import build_columns
from pairwise.cohort._schema import (
    CANONICAL_COLUMNS,
    LEVEL_COLUMNS,
    LINK_COLUMNS,
    MODES,
    ROLES,
    TAG_COLUMNS,
    Levels,
    Tags,
)
from pairwise.errors import Problem, ValidationError

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

__all__ = [
    "CANONICAL_COLUMNS",
    "LINK_COLUMNS",
    "MODES",
    "ROLES",
    "Cohort",
    "Levels",
    "Tags",
]


@dataclass(frozen=True, eq=False)
class Cohort:
    """A validated, immutable set of participants in canonical form.

    Build one with :meth:`from_frame`, :func:`pairwise.read_cohort` or
    :func:`pairwise.synthetic.make_cohort`; the constructor itself trusts its input.
    Columns are stored vectorised: text columns as object arrays (None = missing),
    set-valued columns as :class:`Tags`, topic maps as :class:`Levels` sharing one topic
    vocabulary, so criteria score whole cohorts with numpy.

    Attributes
    ----------
    ids, role, region, cluster, chapter, mode : ndarray of object
        One entry per participant; text, None where missing (``role`` and ``mode`` always set).
    languages, stage, slots : Tags
    needs, expertise : Levels
    capacity : ndarray of int64
    vetted : ndarray of bool
    avoid, previous, prefer : tuple of tuple of str
        Ids per participant, sorted.
    extra : pandas.DataFrame
        Other columns, kept as given (index 0..n-1).
    """

    ids: ObjArray
    role: ObjArray
    region: ObjArray
    cluster: ObjArray
    chapter: ObjArray
    languages: Tags
    needs: Levels
    expertise: Levels
    stage: Tags
    mode: ObjArray
    slots: Tags
    capacity: IntArray
    vetted: BoolArray
    avoid: tuple[tuple[str, ...], ...]
    previous: tuple[tuple[str, ...], ...]
    prefer: tuple[tuple[str, ...], ...]
    extra: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        for name in ("ids", "role", "region", "cluster", "chapter", "mode", "capacity", "vetted"):
            readonly(getattr(self, name))
        n = len(self.ids)
        lengths = {
            "role": len(self.role),
            "region": len(self.region),
            "cluster": len(self.cluster),
            "chapter": len(self.chapter),
            "languages": self.languages.matrix.shape[0],
            "needs": self.needs.matrix.shape[0],
            "expertise": self.expertise.matrix.shape[0],
            "stage": self.stage.matrix.shape[0],
            "mode": len(self.mode),
            "slots": self.slots.matrix.shape[0],
            "capacity": len(self.capacity),
            "vetted": len(self.vetted),
            "avoid": len(self.avoid),
            "previous": len(self.previous),
            "prefer": len(self.prefer),
            "extra": len(self.extra),
        }
        bad = {k: v for k, v in lengths.items() if v != n}
        if bad:
            raise ValidationError(
                [
                    Problem(f"column has {v} entries, cohort has {n} ids", column=k)
                    for k, v in bad.items()
                ]
            )
        if self.needs.vocab != self.expertise.vocab:
            raise ValidationError(["needs and expertise must share one topic vocabulary"])

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        counts = ", ".join(f"{int((self.role == r).sum())} {r}s" for r in ROLES)
        return f"Cohort(n={len(self)}: {counts}; topics={len(self.topics)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cohort):
            return NotImplemented
        return self.equals(other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def topics(self) -> tuple[str, ...]:
        """Topic vocabulary shared by ``needs`` and ``expertise``."""
        return self.needs.vocab

    @property
    def n_mentees(self) -> int:
        """Number of mentees."""
        return int((self.role == "mentee").sum())

    @property
    def n_mentors(self) -> int:
        """Number of mentors."""
        return int((self.role == "mentor").sum())

    def indices(self, role: Literal["mentee", "mentor", "peer"]) -> IntArray:
        """Row indices of participants with ``role``, in cohort order."""
        return np.flatnonzero(self.role == role).astype(np.int64)

    @property
    def mentees(self) -> Cohort:
        """The mentees, in cohort order (same vocabularies)."""
        return self.take(self.indices("mentee"))

    @property
    def mentors(self) -> Cohort:
        """The mentors, in cohort order (same vocabularies)."""
        return self.take(self.indices("mentor"))

    @property
    def peers(self) -> Cohort:
        """The peers, in cohort order (same vocabularies)."""
        return self.take(self.indices("peer"))

    def take(self, rows: Sequence[int] | IntArray) -> Cohort:
        """A sub-cohort of ``rows`` (positions), keeping every vocabulary.

        Links (``avoid``, ``previous``, ``prefer``) may then name people outside the
        sub-cohort; that is expected.
        """
        r = np.asarray(rows, dtype=np.int64)
        return Cohort(
            ids=self.ids[r],
            role=self.role[r],
            region=self.region[r],
            cluster=self.cluster[r],
            chapter=self.chapter[r],
            languages=self.languages.take(r),
            needs=self.needs.take(r),
            expertise=self.expertise.take(r),
            stage=self.stage.take(r),
            mode=self.mode[r],
            slots=self.slots.take(r),
            capacity=self.capacity[r],
            vetted=self.vetted[r],
            avoid=tuple(self.avoid[i] for i in r),
            previous=tuple(self.previous[i] for i in r),
            prefer=tuple(self.prefer[i] for i in r),
            extra=self.extra.iloc[r].reset_index(drop=True),
        )

    def index_of(self, ids: Iterable[Any]) -> IntArray:
        """Positions of ``ids`` in this cohort.

        Raises
        ------
        ValidationError
            Lists every id that is not in the cohort.
        """
        lookup = self._position
        wanted = [id_text(x) for x in ids]
        missing = [w for w in wanted if w not in lookup]
        if missing:
            raise ValidationError(
                [Problem("unknown participant id", value=w, column="id") for w in missing]
            )
        return np.array([lookup[w] for w in wanted], dtype=np.int64)

    @property
    def _position(self) -> dict[str, int]:
        cached: dict[str, int] | None = self.__dict__.get("_position_cache")
        if cached is None:
            cached = positions(self.ids)
            object.__setattr__(self, "_position_cache", cached)
        return cached

    def equals(self, other: Cohort) -> bool:
        """Whether both cohorts hold the same participants and answers, in the same order."""
        if len(self) != len(other):
            return False
        a, b = self.to_frame(), other.to_frame()
        if list(a.columns) != list(b.columns):
            return False
        # not Series.map: it infers a float dtype for numbers mixed with None, turning None
        # into NaN, and NaN != NaN
        return all(
            [_canon_cell(v) for v in a[c].tolist()] == [_canon_cell(v) for v in b[c].tolist()]
            for c in a.columns
        )

    # ------------------------------------------------------------------ frames
    def to_frame(self, *, flat: bool = False, list_sep: str = ";") -> pd.DataFrame:
        """The cohort as a canonical DataFrame, one row per participant.

        Parameters
        ----------
        flat : bool, default False
            False gives Python lists and dicts in list and topic cells; True gives the
            ``"a;b"`` and ``"topic:level;..."`` text a spreadsheet holds.
        list_sep : str, default ";"
            Separator used when ``flat`` is True.

        Returns
        -------
        pandas.DataFrame
            ``Cohort.from_frame(cohort.to_frame()) == cohort`` (and likewise with ``flat=True``
            and the same ``list_sep``).
        """
        n = len(self)
        data: dict[str, Any] = {
            "id": list(self.ids),
            "role": list(self.role),
            "region": list(self.region),
            "cluster": list(self.cluster),
            "chapter": list(self.chapter),
            "languages": [self.languages.row(i) for i in range(n)],
            "needs": [self.needs.row(i) for i in range(n)],
            "expertise": [self.expertise.row(i) for i in range(n)],
            "stage": [self.stage.row(i) for i in range(n)],
            "mode": list(self.mode),
            "slots": [self.slots.row(i) for i in range(n)],
            "capacity": self.capacity.tolist(),
            "vetted": self.vetted.tolist(),
            "avoid": [list(x) for x in self.avoid],
            "previous": [list(x) for x in self.previous],
            "prefer": [list(x) for x in self.prefer],
        }
        if flat:
            for c in (*TAG_COLUMNS, *LINK_COLUMNS):
                data[c] = [list_sep.join(v) for v in data[c]]
            for c in LEVEL_COLUMNS:
                data[c] = [list_sep.join(f"{k}:{v}" for k, v in d.items()) for d in data[c]]
        frame = pd.DataFrame(data, columns=list(CANONICAL_COLUMNS), dtype=object)
        frame["capacity"] = frame["capacity"].astype(np.int64)
        frame["vetted"] = frame["vetted"].astype(bool)
        for c in self.extra.columns:
            frame[c] = self.extra[c].to_numpy()
        return frame

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        columns: Mapping[str, str] | None = None,
        list_sep: str = ";",
    ) -> Cohort:
        """Validate a questionnaire table and build a cohort from it.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per participant.
        columns : mapping of str to str, optional
            The user's column name -> canonical name (e.g. ``{"Email": "id",
            "Which topics?": "needs"}``). Columns whose names already equal a canonical
            name (ignoring case and surrounding spaces) need no entry.
        list_sep : str, default ";"
            Separator of list cells written as text (``"en;fr"``); topic cells use it between
            entries and ``:`` between topic and level (``"fundraising:3;polling:1"``).

        Returns
        -------
        Cohort
            Rows in the order of ``df``.

        Raises
        ------
        ValidationError
            Lists every problem found: missing required columns, duplicate or empty ids,
            unknown roles or modes, bad levels, negative capacities, links to unknown ids or
            to oneself, wrong cell types, an empty cohort, mentees without any mentor.

        Examples
        --------
        >>> import pandas as pd
        >>> from pairwise import Cohort
        >>> df = pd.DataFrame({"Email": ["a1", "b2", "c3"],
        ...                    "Role": ["mentee", "mentee", "mentor"],
        ...                    "Topics": ["fundraising:3;media", "polling:1", "fundraising:3"]})
        >>> c = Cohort.from_frame(df, columns={"Email": "id", "Topics": "needs"})
        >>> c
        Cohort(n=3: 2 mentees, 1 mentors, 0 peers; topics=3)
        >>> c.needs.row(0)
        {'fundraising': 3, 'media': 2}
        """
        return cls(**build_columns(df, columns=columns, list_sep=list_sep))


def _canon_cell(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v
