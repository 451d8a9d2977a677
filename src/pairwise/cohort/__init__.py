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
| minimum | fewest mentees a mentor must get (integer, 0 to her capacity; default 0) |
| vetted | mentor passed vetting (bool; True when the column is absent, False if blank) |
| avoid | ids this person must not be matched with (list) |
| previous | ids of earlier partners (list) |
| prefer | ids this person asked to be matched with (list; the order does not matter) |
| ranked | ids this person ranks, first choice first (or ``ranked_1``, ``ranked_2``, ...) |

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
from pairwise.cohort._form import find_column, options_problems, resolve_sources
from pairwise.cohort._parse import build_columns
from pairwise.cohort._report import SHARED_BY, CohortReport, blank_answers, cohort_report
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
    "SHARED_BY",
    "Cohort",
    "CohortReport",
    "Levels",
    "Tags",
    "blank_answers",
    "column_fields",
    "mapping_problems",
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
    minimum : ndarray of int64
        Fewest mentees each mentor must get (0 for everyone else, and where the column is
        absent); a hard rule of the pairs built from the cohort (see
        :class:`~pairwise.rules.Capacity`).
    vetted : ndarray of bool
    avoid, previous, prefer : tuple of tuple of str
        Ids per participant, sorted.
    ranked : tuple of tuple of str
        Ids per participant in her order of preference (first choice first): a mentee
        ranks mentors, a mentor mentees; empty tuples when nobody ranked anyone.
    extra : pandas.DataFrame
        Other columns, kept as given (index 0..n-1).
    notes : tuple of str
        What reading the table left out or merged: blank rows skipped, earlier submissions
        dropped (by row number and id), labels folded into one spelling. Never an answer of
        free text; not compared by ``==``.
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
    ranked: tuple[tuple[str, ...], ...] = ()
    minimum: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    extra: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("ids", "role", "region", "cluster", "chapter", "mode", "capacity", "vetted"):
            readonly(getattr(self, name))
        n = len(self.ids)
        if not self.ranked and n:  # default: nobody ranked anyone
            object.__setattr__(self, "ranked", ((),) * n)
        if not len(self.minimum) and n:  # default: no minimum load
            object.__setattr__(self, "minimum", np.zeros(n, dtype=np.int64))
        readonly(self.minimum)
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
            "minimum": len(self.minimum),
            "vetted": len(self.vetted),
            "avoid": len(self.avoid),
            "previous": len(self.previous),
            "prefer": len(self.prefer),
            "ranked": len(self.ranked),
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
            ranked=tuple(self.ranked[i] for i in r),
            minimum=self.minimum[r],
            extra=self.extra.iloc[r].reset_index(drop=True),
            notes=self.notes,
        )

    def rank_matrix(self, other: Cohort) -> npt.NDArray[np.int16]:
        """Where each person here ranked each person of ``other``: 1 = first choice, 0 = not.

        Shape ``(len(self), len(other))``; ranks count among the ids of ``other`` only
        (someone ranked but not in ``other`` moves the later ranks up), so each row holds
        1, 2, ..., r without gaps.

        Examples
        --------
        >>> import pandas as pd, pairwise
        >>> cohort = pairwise.Cohort.from_frame(pd.DataFrame({
        ...     "id": ["a", "b", "m1", "m2"], "role": ["mentee", "mentee", "mentor", "mentor"],
        ...     "ranked": ["m2;m1", "", "b", ""]}))
        >>> cohort.mentees.rank_matrix(cohort.mentors).tolist()
        [[2, 1], [0, 0]]
        >>> cohort.mentors.rank_matrix(cohort.mentees).tolist()
        [[0, 1], [0, 0]]
        """
        pos = other._position
        out = np.zeros((len(self), len(other)), dtype=np.int16)
        for i, items in enumerate(self.ranked):
            cols = [pos[x] for x in items if x in pos]
            out[i, cols] = np.arange(1, len(cols) + 1)
        return out

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
    def report(self, *, show_values: bool = False) -> CohortReport:
        """What the answers alone say, before any rule: a data-quality report.

        People by role, region, chapter and mode, and topics mentees need that no mentor
        offers; :func:`pairwise.inspect` adds what the programme's rules say. Labels fewer
        than :data:`SHARED_BY` people gave are counted, not named, unless
        ``show_values``.

        Examples
        --------
        >>> import pairwise
        >>> found = pairwise.make_cohort(30, 8, seed=1).report()
        >>> found.counts[found.counts.column == "role"][["mentee", "mentor"]].values.tolist()
        [[30, 8]]
        >>> found.to_frame().columns.tolist()
        ['section', 'item', 'value']
        """
        return cohort_report(self, show_values=show_values)

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
            "minimum": self.minimum.tolist(),
            "vetted": self.vetted.tolist(),
            "avoid": [list(x) for x in self.avoid],
            "previous": [list(x) for x in self.previous],
            "prefer": [list(x) for x in self.prefer],
            "ranked": [list(x) for x in self.ranked],
        }
        if flat:
            for c in (*TAG_COLUMNS, *LINK_COLUMNS, "ranked"):
                data[c] = [list_sep.join(v) for v in data[c]]
            for c in LEVEL_COLUMNS:
                data[c] = [list_sep.join(f"{k}:{v}" for k, v in d.items()) for d in data[c]]
        frame = pd.DataFrame(data, columns=list(CANONICAL_COLUMNS), dtype=object)
        frame["capacity"] = frame["capacity"].astype(np.int64)
        frame["minimum"] = frame["minimum"].astype(np.int64)
        frame["vetted"] = frame["vetted"].astype(bool)
        for c in self.extra.columns:
            frame[c] = self.extra[c].to_numpy()
        return frame

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        columns: Mapping[str, str | Mapping[str, str]] | None = None,
        list_sep: str = ";",
        values: Mapping[str, Mapping[str, str | int]] | None = None,
        role: str | None = None,
        keep_latest: str | None = None,
        fold_labels: bool = False,
        first_row: int = 2,
        left: Iterable[Any] = (),
        show_values: bool = False,
    ) -> Cohort:
        """Validate a questionnaire table and build a cohort from it.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per participant. Wholly blank rows are skipped.
        columns : mapping, optional
            The user's column name -> canonical name (e.g. ``{"Email": "id",
            "Which topics?": "needs"}``), or -> ``{"field": name, "role": role}`` for a
            question only people of that role answer. Several columns may feed one
            canonical column (not ``id`` or ``role``): each person's first non-blank
            answer among them counts, in mapping order. Names match ignoring case and
            stray spaces. An explicit mapping wins: another column that is merely named
            like a canonical column (a Microsoft Forms ``ID``) is then kept as an extra
            column. Columns whose names equal a canonical name need no entry.
        list_sep : str, default ";"
            Separator of list cells written as text (``"en;fr"``; a Google Forms
            multi-select answer uses ``", "``); topic cells use it between entries and
            ``:`` between topic and level (``"fundraising:3;polling:1"``).
        values : mapping of str to mapping, optional
            Per canonical column, the form's answer -> the programme's value (``{"role":
            {"Mentee (I want support)": "mentee"}, "capacity": {"2-3": 3}}``). Answers
            match ignoring case and spaces; in list columns each answer of a cell is
            recoded (an answer holding ``list_sep`` is kept whole); a key ending in ``*``
            matches answers starting with the rest (``"Other: *"``), ``"*"`` any answer;
            the value ``""`` drops the answer. Every answer of a recoded column must be
            listed (or be one of the values already): the others are problems, by row and
            column, the answer never shown.
        role : {"mentee", "mentor", "peer"}, optional
            Everyone's role, for a form with no role question.
        keep_latest : str, optional
            A timestamp column: of the rows sharing an id, only the latest submission is
            kept (of equal timestamps, the later row); the others are listed in
            :attr:`notes`.
        fold_labels : bool, default False
            Make labels that differ only in case or spaces one label (regions, clusters,
            chapters, languages, stages, slots, topics), keeping the most written
            spelling; what was merged is listed in :attr:`notes`.
        show_values : bool, default False
            Show the offending answer in each problem about a cell (by default it is
            hidden: an answer may be a name or a diagnosis). For a manager working alone
            on her own file; never in logs or files others see.
        left : iterable of ids, optional
            People who left the programme (a result's ``events.leavers``): they may be
            gone from the export, and an ``avoid``, ``previous`` or ``prefer`` entry
            naming one of them is dropped instead of being an unknown id.
        first_row : int, default 2
            The spreadsheet row number of ``df``'s first row (the header is row 1), used
            in problems.

        Returns
        -------
        Cohort
            Rows in the order of ``df`` (without the rows left out).

        Raises
        ------
        ValidationError
            Lists every problem found: missing required columns, duplicate or empty ids,
            unknown roles or modes, bad levels, negative capacities, minimum loads that
            are not counts, on a mentee's or peer's row or above the capacity, links to
            unknown ids or to oneself, wrong cell types, answers no ``values`` entry
            recodes, an empty cohort, mentees without any mentor. Problems never show a
            participant's answer.

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

        A form export: its own answers recoded, two questions feeding ``stage``:

        >>> form = pd.DataFrame({
        ...     "Email": ["a1", "b2", "c3"],
        ...     "I am a": ["Mentee (I want support)", "Mentor (I can help)", "mentor"],
        ...     "Where are you?": ["Candidate", None, None],
        ...     "Which stages have you been through?": [None, "Candidate, Elected",
        ...                                             "candidate "],
        ... })
        >>> c = Cohort.from_frame(
        ...     form, list_sep=", ", fold_labels=True,
        ...     columns={"Email": "id", "I am a": "role", "Where are you?": "stage",
        ...              "Which stages have you been through?": "stage"},
        ...     values={"role": {"Mentee (I want support)": "mentee",
        ...                      "Mentor (I can help)": "mentor"}})
        >>> c.role.tolist(), [c.stage.row(i) for i in range(3)]
        (['mentee', 'mentor', 'mentor'], [['Candidate'], ['Candidate', 'Elected'], ['Candidate']])
        >>> c.notes
        ("stage: 'candidate' folded into 'Candidate'",)
        """
        built = build_columns(
            df,
            columns=columns,
            list_sep=list_sep,
            values=values,
            role=role,
            keep_latest=keep_latest,
            fold_labels=fold_labels,
            first_row=first_row,
            left={str(x) for x in left},
            show_values=show_values,
        )
        return cls(**built)


def mapping_problems(
    labels: Sequence[Any] | None,
    *,
    columns: Mapping[str, str | Mapping[str, str]] | None = None,
    values: Mapping[str, Mapping[str, str | int]] | None = None,
    role: str | None = None,
    keep_latest: str | None = None,
) -> list[Problem]:
    """The problems :meth:`Cohort.from_frame` would find in these options and header alone.

    For checking a programme file before its export is read in full: the mapping's
    canonical names, the ``values`` tables, the constant role, and, given the table's
    column ``labels`` (its header), every mapped or timestamp column that is not there
    (with a "did you mean") and the required columns. ``labels=None`` checks the options
    only.

    Examples
    --------
    >>> from pairwise.cohort import mapping_problems
    >>> found = mapping_problems(["Email", "Role "], columns={"Emial": "id", "Role": "role"})
    >>> for p in found:  # "Role" matches "Role " (a stray space)
    ...     print(p.column, "|", p.message)
    Emial | mapped column not in the table (did you mean 'Email'?)
    >>> [p.column for p in mapping_problems(["Email", "Role"])]
    ['id']
    """
    problems = options_problems(values, role, keep_latest)
    if labels is None:
        known = [str(k) for k in (columns or {})]  # the header is unknown: take it as given
        scratch: list[Problem] = []
        resolve_sources(known, columns, role, scratch)
        return problems + [p for p in scratch if p.message != "missing required column"]
    resolve_sources(list(labels), columns, role if role in ROLES else None, problems)
    if isinstance(keep_latest, str):
        find_column(keep_latest, list(labels), problems)
    return problems


def column_fields(
    labels: Sequence[Any],
    *,
    columns: Mapping[str, str | Mapping[str, str]] | None = None,
    role: str | None = None,
) -> dict[str, str | None]:
    """Each column of a table's header -> the canonical field it feeds, or None (extra).

    What :meth:`Cohort.from_frame` would make of the header ``labels`` with this mapping:
    a column no field reads is kept in :attr:`Cohort.extra` under its own name (for
    custom criteria and rules on any column). Mapping problems are not reported here
    (:func:`mapping_problems` lists them).

    Examples
    --------
    >>> from pairwise.cohort import column_fields
    >>> column_fields(["Email", "role", "Party"], columns={"Email": "id"})
    {'Email': 'id', 'role': 'role', 'Party': None}
    """
    scratch: list[Problem] = []
    sources = resolve_sources(list(labels), columns, role if role in ROLES else None, scratch)
    fed = {str(s.label): field for field, srcs in sources.items() for s in srcs}
    return {str(label): fed.get(str(label)) for label in labels}


def _canon_cell(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v
