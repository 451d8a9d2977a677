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
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise._validate import id_text, is_int, positions, readonly
from pairwise.errors import Problem, ValidationError

__all__ = [
    "CANONICAL_COLUMNS",
    "LINK_COLUMNS",
    "MODES",
    "ROLES",
    "Cohort",
    "Levels",
    "Tags",
]

ROLES: tuple[str, ...] = ("mentee", "mentor", "peer")
MODES: tuple[str, ...] = ("online", "in-person", "either")
LEVEL_MIN, LEVEL_MAX = 1, 3
#: Level given to a topic written without one ("fundraising" means "fundraising:2").
DEFAULT_LEVEL = 2

TEXT_COLUMNS: tuple[str, ...] = ("region", "cluster", "chapter")
TAG_COLUMNS: tuple[str, ...] = ("languages", "stage", "slots")
LEVEL_COLUMNS: tuple[str, ...] = ("needs", "expertise")
LINK_COLUMNS: tuple[str, ...] = ("avoid", "previous", "prefer")
CANONICAL_COLUMNS: tuple[str, ...] = (
    "id",
    "role",
    "region",
    "cluster",
    "chapter",
    "languages",
    "needs",
    "expertise",
    "stage",
    "mode",
    "slots",
    "capacity",
    "vetted",
    "avoid",
    "previous",
    "prefer",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("id", "role")

_MODE_ALIASES = {
    "online": "online",
    "remote": "online",
    "virtual": "online",
    "in-person": "in-person",
    "inperson": "in-person",
    "face-to-face": "in-person",
    "offline": "in-person",
    "either": "either",
    "both": "either",
    "any": "either",
    "hybrid": "either",
}
#: Largest capacity stored (capacities are kept as int64).
_CAPACITY_MAX = int(np.iinfo(np.int64).max)
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class Tags:
    """A set-valued column: a sorted vocabulary and a boolean membership matrix.

    Parameters
    ----------
    vocab : tuple of str
        Sorted distinct values.
    matrix : ndarray of bool, shape (n_people, len(vocab))
        ``matrix[i, k]`` is True when person ``i`` has value ``vocab[k]``.
    """

    vocab: tuple[str, ...]
    matrix: BoolArray

    def __post_init__(self) -> None:
        readonly(self.matrix)

    def row(self, i: int) -> list[str]:
        """Values of person ``i``, sorted."""
        return [self.vocab[k] for k in np.flatnonzero(self.matrix[i])]

    def take(self, rows: IntArray) -> Tags:
        """The same vocabulary, restricted to ``rows``."""
        return Tags(self.vocab, self.matrix[rows])


@dataclass(frozen=True, eq=False)
class Levels:
    """A topic -> level column: a sorted topic vocabulary and an int8 level matrix.

    Parameters
    ----------
    vocab : tuple of str
        Sorted topics.
    matrix : ndarray of int8, shape (n_people, len(vocab))
        ``matrix[i, t]`` is the level (1..3) of topic ``vocab[t]`` for person ``i``; 0 = absent.
    """

    vocab: tuple[str, ...]
    matrix: npt.NDArray[np.int8]

    def __post_init__(self) -> None:
        readonly(self.matrix)

    def row(self, i: int) -> dict[str, int]:
        """Topic -> level of person ``i``, topics sorted."""
        return {self.vocab[k]: int(self.matrix[i, k]) for k in np.flatnonzero(self.matrix[i])}

    def take(self, rows: IntArray) -> Levels:
        """The same vocabulary, restricted to ``rows``."""
        return Levels(self.vocab, self.matrix[rows])


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
        return _build(df, columns=columns, list_sep=list_sep)


# ---------------------------------------------------------------------- parsing helpers


def _canon_cell(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating) and math.isnan(float(v)):
        return True
    return isinstance(v, str) and not v.strip()


class _RowParser:
    """Parses cells of one column and records problems with row and column."""

    def __init__(self, problems: list[Problem], list_sep: str) -> None:
        self.problems = problems
        self.sep = list_sep

    def add(self, message: str, row: str, column: str, value: Any, expected: str) -> None:
        self.problems.append(
            Problem(message, row=row, column=column, value=value, expected=expected)
        )

    def text(self, v: Any, row: str, column: str) -> str | None:
        if _is_missing(v):
            return None
        if isinstance(v, str):
            return v.strip()
        if is_int(v):
            return str(int(v))
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        self.add("wrong type", row, column, v, "text")
        return None

    def items(self, v: Any, row: str, column: str) -> list[str]:
        v = _unwrap_0d(v)
        if isinstance(v, list | tuple | set | frozenset | np.ndarray):
            out: list[str] = []
            for x in list(v):
                if isinstance(x, list | tuple | dict | set):
                    self.add("wrong type in list", row, column, x, "text items")
                    continue
                t = self.text(x, row, column)
                if t is not None:
                    out.append(t)
            return out
        if _is_missing(v):
            return []
        if isinstance(v, str):
            return [p.strip() for p in v.split(self.sep) if p.strip()]
        if is_int(v):
            return [str(int(v))]
        self.add("wrong type", row, column, v, f"a list or {self.sep!r}-separated text")
        return []

    def levels(self, v: Any, row: str, column: str) -> dict[str, int]:
        v = _unwrap_0d(v)
        if isinstance(v, Mapping):
            entries: list[tuple[Any, Any]] = list(v.items())
        else:
            if not isinstance(v, list | tuple | np.ndarray) and _is_missing(v):
                return {}
            raw: list[Any]
            if isinstance(v, str):
                raw = [p.strip() for p in v.split(self.sep) if p.strip()]
            elif isinstance(v, list | tuple | np.ndarray):
                raw = list(v)
            else:
                self.add("wrong type", row, column, v, "topic:level entries or a dict")
                return {}
            entries = []
            for item in raw:
                if isinstance(item, str):
                    topic, colon, level = item.partition(":")
                    entries.append((topic, level if colon else DEFAULT_LEVEL))
                elif isinstance(item, tuple | list) and len(item) == 2:
                    entries.append((item[0], item[1]))
                else:
                    self.add("wrong type in topic list", row, column, item, "'topic:level'")
        out: dict[str, int] = {}
        for topic, level in entries:
            if not isinstance(topic, str) or not topic.strip():
                self.add("empty or non-text topic", row, column, topic, "a topic name")
                continue
            name = topic.strip()
            lev = _as_int(level)
            if lev is None or not LEVEL_MIN <= lev <= LEVEL_MAX:
                self.add(
                    f"bad level for topic {name!r}",
                    row,
                    column,
                    level,
                    f"an integer {LEVEL_MIN}..{LEVEL_MAX}",
                )
                continue
            if name in out:
                self.add("topic listed twice", row, column, name, "each topic once")
                continue
            out[name] = lev
        return out


def _unwrap_0d(v: Any) -> Any:
    """The scalar inside a 0-d array (which cannot be iterated); anything else unchanged."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v.item()
    return v


def _as_int(v: Any) -> int | None:
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, float | np.floating):
        return int(v) if float(v).is_integer() else None
    if isinstance(v, str):
        s = v.strip()
        if s.lstrip("+-").isdigit():
            return int(s)
        try:
            f = float(s)
        except ValueError:
            return None
        return int(f) if f.is_integer() else None
    return None


def _resolve_columns(
    df: pd.DataFrame, columns: Mapping[str, str] | None, problems: list[Problem]
) -> dict[str, Any]:
    """Map canonical name -> the frame's column label; record mapping problems."""
    mapping: dict[str, Any] = {}
    columns = dict(columns or {})
    labels = list(df.columns)
    for src, dst in columns.items():
        if dst not in CANONICAL_COLUMNS:
            problems.append(
                Problem(
                    "column mapping names an unknown canonical column",
                    column=str(src),
                    value=dst,
                    expected="one of " + ", ".join(CANONICAL_COLUMNS),
                )
            )
            continue
        if src not in labels:
            problems.append(
                Problem(
                    "mapped column not in the table",
                    column=str(src),
                    expected=f"a column named {src!r} (mapped to {dst!r})",
                )
            )
            continue
        if dst in mapping:
            problems.append(
                Problem(
                    f"two columns are mapped to {dst!r}",
                    column=str(src),
                    expected="one source column per canonical column",
                )
            )
            continue
        mapping[dst] = src
    mapped_sources = set(columns)
    for label in labels:
        if label in mapped_sources or not isinstance(label, str):
            continue
        key = label.strip().lower()
        if key in CANONICAL_COLUMNS:
            if key in mapping:
                if mapping[key] != label:
                    problems.append(
                        Problem(
                            f"ambiguous column for {key!r}: both {mapping[key]!r} and this one",
                            column=label,
                            expected="map one of them explicitly, or drop one",
                        )
                    )
                continue
            mapping[key] = label
    for req in REQUIRED_COLUMNS:
        if req not in mapping:
            problems.append(
                Problem(
                    "missing required column",
                    column=req,
                    expected=f"a column {req!r}, or a mapping to it in columns=",
                )
            )
    return mapping


def _build(df: Any, *, columns: Mapping[str, str] | None, list_sep: str) -> Cohort:
    problems: list[Problem] = []
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(
            [Problem("not a table", value=type(df).__name__, expected="a pandas DataFrame")]
        )
    if not isinstance(list_sep, str) or not list_sep or list_sep == ":":
        raise ValidationError(
            [Problem("bad list separator", value=list_sep, expected="a non-empty text, not ':'")]
        )
    if df.columns.has_duplicates:
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        problems.extend(
            Problem("column name appears twice", column=c, expected="unique column names")
            for c in dup
        )
        raise ValidationError(problems)
    mapping = _resolve_columns(df, columns, problems)
    if len(df) == 0:
        problems.append(Problem("empty cohort", expected="at least one participant"))
    if "id" not in mapping or "role" not in mapping or len(df) == 0:
        raise ValidationError(problems)

    n = len(df)
    parse = _RowParser(problems, list_sep)
    cells: dict[str, list[Any]] = {c: df[mapping[c]].tolist() for c in mapping}

    # ids: needed first, every other problem names its row by id
    ids: list[str] = []
    labels: list[str] = []
    for r, v in enumerate(cells["id"]):
        rowname = f"row {r + 1}"
        if _is_missing(v):
            problems.append(Problem("empty id", row=rowname, column="id", expected="a unique id"))
            ids.append("")
            labels.append(rowname)
            continue
        if not isinstance(v, str | numbers.Integral | float | np.floating) or isinstance(
            v, bool | np.bool_
        ):
            problems.append(
                Problem("wrong type", row=rowname, column="id", value=v, expected="text or integer")
            )
            ids.append("")
            labels.append(rowname)
            continue
        text = id_text(v)
        ids.append(text)
        labels.append(text)

    roles: list[str] = []
    for r, v in enumerate(cells["role"]):
        if _is_missing(v):
            problems.append(
                Problem(
                    "missing role", row=labels[r], column="role", expected="mentee, mentor or peer"
                )
            )
            roles.append("")
            continue
        role = v.strip().lower() if isinstance(v, str) else None
        if role not in ROLES:
            problems.append(
                Problem(
                    "unknown role",
                    row=labels[r],
                    column="role",
                    value=v,
                    expected="mentee, mentor or peer",
                )
            )
            roles.append("")
            continue
        roles.append(role)

    first_seen: dict[str, int] = {}
    for r, text in enumerate(ids):
        if not text:
            continue
        if text in first_seen:
            j = first_seen[text]
            if roles[r] and roles[j] and roles[r] != roles[j]:
                problems.append(
                    Problem(
                        f"person listed in both roles ({roles[j]} in row {j + 1}, "
                        f"{roles[r]} in row {r + 1})",
                        row=text,
                        column="role",
                        expected="one role per person",
                    )
                )
            else:
                problems.append(
                    Problem(
                        f"duplicate id (rows {j + 1} and {r + 1})",
                        row=text,
                        column="id",
                        expected="unique ids",
                    )
                )
        else:
            first_seen[text] = r

    def column(name: str, fn: Callable[[Any, str, str], Any], default: Any) -> list[Any]:
        if name not in cells:
            return [default() if callable(default) else default for _ in range(n)]
        return [fn(v, labels[r], name) for r, v in enumerate(cells[name])]

    text_cols = {c: column(c, parse.text, None) for c in TEXT_COLUMNS}
    tag_cols = {c: column(c, parse.items, list) for c in TAG_COLUMNS}
    level_cols = {c: column(c, parse.levels, dict) for c in LEVEL_COLUMNS}
    link_cols = {c: column(c, parse.items, list) for c in LINK_COLUMNS}

    modes: list[str] = []
    for r, v in enumerate(cells.get("mode", [None] * n)):
        if _is_missing(v):
            modes.append("either")
            continue
        key = v.strip().lower().replace("_", "-").replace(" ", "-") if isinstance(v, str) else None
        mode = _MODE_ALIASES.get(key or "") or _MODE_ALIASES.get((key or "").replace("-", ""))
        if mode is None:
            problems.append(
                Problem(
                    "unknown mode",
                    row=labels[r],
                    column="mode",
                    value=v,
                    expected="online, in-person or either",
                )
            )
            modes.append("either")
        else:
            modes.append(mode)

    capacity: list[int] = []
    for r, v in enumerate(cells.get("capacity", [None] * n)):
        if _is_missing(v):
            capacity.append(1)
            continue
        cap = _as_int(v)
        if cap is None:
            problems.append(
                Problem(
                    "capacity is not a whole number",
                    row=labels[r],
                    column="capacity",
                    value=v,
                    expected="an integer >= 0",
                )
            )
            capacity.append(0)
        elif cap < 0:
            problems.append(
                Problem(
                    "negative capacity",
                    row=labels[r],
                    column="capacity",
                    value=v,
                    expected="an integer >= 0",
                )
            )
            capacity.append(0)
        elif cap > _CAPACITY_MAX:
            problems.append(
                Problem(
                    "capacity too large",
                    row=labels[r],
                    column="capacity",
                    value=v,
                    expected=f"an integer <= {_CAPACITY_MAX}",
                )
            )
            capacity.append(0)
        else:
            capacity.append(cap)

    vetted: list[bool] = []
    vetted_present = "vetted" in cells
    for r, v in enumerate(cells.get("vetted", [None] * n)):
        if _is_missing(v):
            vetted.append(not vetted_present)
            continue
        b = _as_bool(v)
        if b is None:
            problems.append(
                Problem(
                    "not a yes/no value",
                    row=labels[r],
                    column="vetted",
                    value=v,
                    expected="true/false, yes/no or 1/0",
                )
            )
            vetted.append(False)
        else:
            vetted.append(b)

    known = set(first_seen)
    for c, lists in link_cols.items():
        for r, items in enumerate(lists):
            seen: set[str] = set()
            kept: list[str] = []
            for x in items:
                if x == ids[r]:
                    problems.append(
                        Problem(
                            "names the person themself",
                            row=labels[r],
                            column=c,
                            expected="ids of other participants",
                        )
                    )
                elif x not in known:
                    problems.append(
                        Problem(
                            "names an unknown id",
                            row=labels[r],
                            column=c,
                            value=x,
                            expected="an id in the id column",
                        )
                    )
                elif x not in seen:
                    seen.add(x)
                    kept.append(x)
            lists[r] = sorted(kept)

    role_arr = np.array(roles, dtype=object)
    if (role_arr == "mentee").any() and not (role_arr == "mentor").any():
        problems.append(
            Problem(
                "mentees but no mentors",
                column="role",
                expected="at least one mentor for a mentee cohort",
            )
        )

    if problems:
        raise ValidationError(problems)

    extra_cols = [c for c in df.columns if c not in set(mapping.values())]
    extra = df[extra_cols].reset_index(drop=True) if extra_cols else pd.DataFrame(index=range(n))
    return _assemble(
        ids=ids,
        role=roles,
        text=text_cols,
        tags=tag_cols,
        levels=level_cols,
        mode=modes,
        capacity=capacity,
        vetted=vetted,
        links=link_cols,
        extra=extra,
    )


def _as_bool(v: Any) -> bool | None:
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, numbers.Integral) and int(v) in (0, 1):
        return bool(int(v))
    if isinstance(v, float | np.floating) and float(v) in (0.0, 1.0):
        return bool(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    return None


def _tags(rows: list[list[str]]) -> Tags:
    vocab = tuple(sorted({x for r in rows for x in r}))
    pos = {v: k for k, v in enumerate(vocab)}
    m = np.zeros((len(rows), len(vocab)), dtype=bool)
    for i, r in enumerate(rows):
        for x in r:
            m[i, pos[x]] = True
    return Tags(vocab, m)


def _levels(rows: list[dict[str, int]], vocab: tuple[str, ...]) -> Levels:
    pos = {v: k for k, v in enumerate(vocab)}
    m = np.zeros((len(rows), len(vocab)), dtype=np.int8)
    for i, r in enumerate(rows):
        for t, lev in r.items():
            m[i, pos[t]] = lev
    return Levels(vocab, m)


def _assemble(
    *,
    ids: list[str],
    role: list[str],
    text: Mapping[str, list[str | None]],
    tags: Mapping[str, list[list[str]]],
    levels: Mapping[str, list[dict[str, int]]],
    mode: list[str],
    capacity: list[int],
    vetted: list[bool],
    links: Mapping[str, list[list[str]]],
    extra: pd.DataFrame,
) -> Cohort:
    topics = tuple(sorted({t for c in LEVEL_COLUMNS for d in levels[c] for t in d}))
    return Cohort(
        ids=np.array(ids, dtype=object),
        role=np.array(role, dtype=object),
        region=np.array(text["region"], dtype=object),
        cluster=np.array(text["cluster"], dtype=object),
        chapter=np.array(text["chapter"], dtype=object),
        languages=_tags(tags["languages"]),
        needs=_levels(levels["needs"], topics),
        expertise=_levels(levels["expertise"], topics),
        stage=_tags(tags["stage"]),
        mode=np.array(mode, dtype=object),
        slots=_tags(tags["slots"]),
        capacity=np.array(capacity, dtype=np.int64),
        vetted=np.array(vetted, dtype=bool),
        avoid=tuple(tuple(x) for x in links["avoid"]),
        previous=tuple(tuple(x) for x in links["previous"]),
        prefer=tuple(tuple(x) for x in links["prefer"]),
        extra=extra,
    )
