"""Parsing a questionnaire table into a :class:`~pairwise.cohort.Cohort`: one parser per column.

:func:`build` checks the table as a whole (type, separator, column names and mapping), then
parses the cells column family by column family (ids, roles, text, tags, levels, links,
modes, capacities, vetting), then checks what spans rows (duplicate ids, links to unknown
ids, mentees without mentors). Every problem is recorded, in that order, and all of them
are raised at once in one :class:`~pairwise.errors.ValidationError`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from pairwise._validate import id_text, is_int
from pairwise.cohort._form import (
    REPORTED,
    Source,
    blank_rows,
    find_column,
    fold,
    is_blank,
    latest_submissions,
    merge_sources,
    options_problems,
    recode,
    resolve_sources,
)
from pairwise.cohort._schema import (
    DEFAULT_LEVEL,
    LEVEL_COLUMNS,
    LEVEL_MAX,
    LEVEL_MIN,
    LINK_COLUMNS,
    ROLES,
    TAG_COLUMNS,
    TEXT_COLUMNS,
    Levels,
    Tags,
    rank_of,
)
from pairwise.errors import Problem, ValidationError

__all__ = ["build_columns"]

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
#: Stands for "the problem shows no value" in :meth:`_RowParser.add`.
_NOT_SHOWN: Any = object()


def build_columns(
    df: Any,
    *,
    columns: Mapping[str, Any] | None,
    list_sep: str,
    values: Mapping[str, Mapping[str, Any]] | None = None,
    role: str | None = None,
    keep_latest: str | None = None,
    fold_labels: bool = False,
    first_row: int = 2,
    left: set[str] | None = None,
    show_values: bool = False,
) -> dict[str, Any]:
    """The columns of the cohort of a questionnaire table (``Cohort(**columns)``).

    The work behind :meth:`Cohort.from_frame`.

    Parameters
    ----------
    df, columns, list_sep, values, role, keep_latest, fold_labels, first_row, left, show_values
        As for :meth:`~pairwise.cohort.Cohort.from_frame`.

    Returns
    -------
    dict
        The keyword arguments of :class:`~pairwise.cohort.Cohort`: one participant per
        kept row of ``df``, in order, and the ``notes`` of what was left out or merged.

    Raises
    ------
    ValidationError
        Every problem of the table, in the order this module's docstring gives.
    """
    problems: list[Problem] = []
    notes: list[str] = []
    sources, stamp = _check_table(df, columns, list_sep, values, role, keep_latest, problems)
    rows, rownums = _kept_rows(df, sources, stamp, first_row, problems, notes)
    sub = df.iloc[rows]
    cells = {s.label: sub[s.label].tolist() for srcs in sources.values() for s in srcs}
    n = len(rows)
    first = {c: cells[srcs[0].label] for c, srcs in sources.items() if c in ("id", "role")}
    if role is not None:
        first["role"] = [role] * n
    parse = _RowParser(problems, list_sep, first, n, rownums, show_values)
    ids = parse.ids()
    recoding = dict(values or {})
    where = [f"row {num}" + (f", id {i}" if i else "") for num, i in zip(rownums, ids, strict=True)]
    if "role" in recoding:
        origin = [sources["role"][0].label if "role" in sources else "role"] * n
        parse.cells["role"] = recode(
            "role", first["role"], origin, recoding["role"], sep=list_sep,
            rows=where, problems=problems, understood=_UNDERSTOOD["role"],
        )  # fmt: skip
    roles = parse.column("role", parse.role, "")
    for c, srcs in sources.items():
        if c in ("id", "role"):
            continue
        merged, origin = merge_sources(cells, srcs, roles)
        if c in recoding:
            merged = recode(
                c, merged, origin, recoding[c], sep=list_sep, rows=where, problems=problems,
                understood=_UNDERSTOOD.get(c),
            )  # fmt: skip
        parse.cells[c] = merged
    parsed = _parse_cells(parse, ids, roles, fold_labels, notes, left or set())
    if problems:
        raise ValidationError(problems)
    used = {s.label for srcs in sources.values() for s in srcs}
    extra_cols = [c for c in df.columns if c not in used]
    extra = sub[extra_cols].reset_index(drop=True) if extra_cols else pd.DataFrame(index=range(n))
    return {**_assemble(**parsed, extra=extra), "notes": tuple(notes)}


def _mode_of(v: str) -> str | None:
    key = v.strip().lower().replace("_", "-").replace(" ", "-")
    return _MODE_ALIASES.get(key) or _MODE_ALIASES.get(key.replace("-", ""))


#: Answers a column reads as they are, which a ``values`` table need not list.
_UNDERSTOOD: dict[str, Callable[[Any], bool]] = {
    "role": lambda v: isinstance(v, str) and v.strip().lower() in ROLES,
    "mode": lambda v: isinstance(v, str) and _mode_of(v) is not None,
    "capacity": lambda v: _as_int(v) is not None,
    "minimum": lambda v: _as_int(v) is not None,
    "vetted": lambda v: _as_bool(v) is not None,
}


def _parse_cells(
    parse: _RowParser,
    ids: list[str],
    roles: list[str],
    fold_labels: bool,
    notes: list[str],
    left: set[str],
) -> dict[str, Any]:
    """Every column parsed (and folded), then what spans rows checked."""
    known = _check_duplicates(ids, roles, parse)
    text = {c: parse.column(c, parse.text, None) for c in TEXT_COLUMNS}
    tags = {c: parse.column(c, parse.items, list) for c in TAG_COLUMNS}
    levels = {c: parse.column(c, parse.levels, dict) for c in LEVEL_COLUMNS}
    links = {c: parse.column(c, parse.items, list) for c in LINK_COLUMNS}
    modes = parse.column("mode", parse.mode, "either")
    capacity = parse.column("capacity", parse.capacity, 1)
    minimum = _minimum_column(parse, roles, capacity)
    vetted = parse.column("vetted", parse.vetted, True)
    _check_links(links, ids, known, left, parse)
    ranked = _check_ranked(_ranked_lists(parse), ids, roles, known, left, parse)
    if "mentee" in roles and "mentor" not in roles:
        parse.add(
            "mentees but no mentors",
            None,
            "role",
            expected="at least one mentor for a mentee cohort",
        )
    if fold_labels:
        topics = levels["needs"] + levels["expertise"]
        fold({**text, **tags, "topics": topics}, notes)
        levels = {"needs": topics[: len(ids)], "expertise": topics[len(ids) :]}
    return dict(
        ids=ids,
        role=roles,
        text=text,
        tags=tags,
        levels=levels,
        mode=modes,
        capacity=capacity,
        minimum=minimum,
        vetted=vetted,
        links=links,
        ranked=ranked,
    )


def _ranked_lists(parse: _RowParser) -> list[list[tuple[str, str]]]:
    """Each row's ranked ids (with the column each came from), first choice first.

    From the ``ranked`` list or the ``ranked_<k>`` cells (one id each; a blank rank before
    a filled one is a gap, recorded). Both forms in one table is a problem too.
    """
    per_rank = sorted((k, c) for c in parse.cells if (k := rank_of(c)) is not None)
    if not per_rank:
        lists = parse.column("ranked", parse.items, list)
        return [[(x, "ranked") for x in items] for items in lists]
    if "ranked" in parse.cells and not all(map(_empty, parse.cells["ranked"])):
        parse.add(  # an empty ranked column (Cohort.to_frame writes one) is no second form
            "both a ranked list and per-rank columns",
            None,
            "ranked",
            expected="either the ranked column or ranked_1, ranked_2, ...",
        )
    out: list[list[tuple[str, str]]] = []
    for r in range(parse.n):
        got: list[tuple[str, str]] = []
        blank: str | None = None  # the first rank left blank
        for k, c in per_rank:
            v = parse.cells[c][r]
            if v is REPORTED or _is_missing(v):
                blank = blank or c
                continue
            if blank is not None or len(got) != k - 1:
                gap = blank or f"ranked_{len(got) + 1}"
                parse.add(
                    f"rank gap: {gap} is empty",
                    parse.where(r),
                    c,
                    expected="ranks 1, 2, ... in turn",
                )
                blank = gap
                continue
            text = parse.text(v, parse.where(r), c)
            if text:
                got.append((text, c))
        out.append(got)
    return out


def _check_ranked(
    ranked: list[list[tuple[str, str]]],
    ids: list[str],
    roles: list[str],
    known: set[str],
    left: set[str],
    parse: _RowParser,
) -> list[list[str]]:
    """The ranked ids, in order, less those that are oneself, unknown, twice or same-role.

    Each of those is recorded by row number and column; people who ``left`` are dropped
    and the later ranks move up.
    """
    role_of = dict(zip(ids, roles, strict=True))
    out: list[list[str]] = []
    for r, items in enumerate(ranked):
        kept: list[str] = []
        for x, column in items:
            problem = ""
            if x == ids[r]:
                problem = "names the person themself"
            elif x in left and x not in known:
                continue
            elif x not in known:
                problem = "names an unknown id"
            elif x in kept:
                problem = "names the same id twice"
            elif roles[r] in ("mentee", "mentor") and role_of[x] == roles[r]:
                problem = f"ranks another {roles[r]}"
            if problem:
                parse.add(
                    problem,
                    parse.where(r),
                    column,
                    x,
                    expected="distinct ids of the other role, first choice first",
                )
            else:
                kept.append(x)
        out.append(kept)
    return out


def _minimum_column(parse: _RowParser, roles: list[str], capacity: list[int]) -> list[int]:
    """The ``minimum`` column (0 where blank or absent), each problem at its row and id.

    A cell that is not a whole number >= 0, a minimum given to a mentee or a peer, or one
    above the mentor's capacity is recorded (and read as 0). Where the row's role or
    capacity is itself a problem, only a cell that is no count at all is. The cells (and
    the capacity, the participant's answer too) are never shown.
    """
    cells = parse.cells.get("minimum")
    if cells is None:
        return [0] * parse.n
    caps = parse.cells.get("capacity")
    out: list[int] = []
    for r, v in enumerate(cells):
        out.append(0)
        low = 0 if v is REPORTED or _is_missing(v) else _whole_count(v, "minimum")
        if isinstance(low, tuple):
            parse.add(low[0], parse.where(r), "minimum", v, expected=low[1])
            continue
        bad_cap = caps is not None and (caps[r] is REPORTED or _is_count_problem(caps[r]))
        if not low or not roles[r] or bad_cap:
            continue  # nothing asked, or the role or the capacity is already a problem
        if roles[r] != "mentor":
            why, expected = f"minimum on a {roles[r]} row", "blank or 0 (a mentor's minimum)"
        elif low > capacity[r]:
            why = "minimum above capacity"
            expected = "at most the mentor's capacity" + (
                "" if caps is not None else " (1: there is no capacity column)"
            )
        else:
            out[-1] = low
            continue
        parse.add(why, parse.where(r), "minimum", v, expected=expected)
    return out


def _check_table(
    df: Any,
    columns: Mapping[str, Any] | None,
    list_sep: str,
    values: Mapping[str, Mapping[str, Any]] | None,
    role: str | None,
    keep_latest: str | None,
    problems: list[Problem],
) -> tuple[dict[str, list[Source]], Any]:
    """The sources of each canonical column and the timestamp column (see :mod:`._form`).

    Raises when no cell can be parsed.
    """
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
    options = options_problems(values, role, keep_latest)
    problems.extend(options)
    sources = resolve_sources(list(df.columns), columns, role if role in ROLES else None, problems)
    stamp = None
    if isinstance(keep_latest, str):
        stamp = find_column(keep_latest, list(df.columns), problems)
        options += [] if stamp is not None else problems[-1:]
    if len(df) == 0:
        problems.append(Problem("empty cohort", expected="at least one participant"))
    has_role = "role" in sources or role in ROLES
    if options or "id" not in sources or not has_role or len(df) == 0:
        raise ValidationError(problems)
    return sources, stamp


def _kept_rows(
    df: pd.DataFrame,
    sources: Mapping[str, list[Source]],
    stamp: Any,
    first_row: int,
    problems: list[Problem],
    notes: list[str],
) -> tuple[list[int], list[int]]:
    """Positions of the rows read (no blank rows, latest submissions) and their row numbers."""
    blank = set(blank_rows(df))
    rows = [i for i in range(len(df)) if i not in blank]
    if blank:
        notes.append("blank rows skipped: " + ", ".join(str(first_row + i) for i in sorted(blank)))
    if stamp is not None and rows:
        label = sources["id"][0].label
        dropped, more = latest_submissions(
            df[label].iloc[rows].tolist(),
            df[stamp].iloc[rows].tolist(),
            [first_row + i for i in rows],
            str(stamp),
            problems,
        )
        notes += more
        gone = set(dropped)
        rows = [i for j, i in enumerate(rows) if j not in gone]
    if not rows:
        problems.append(Problem("empty cohort", expected="at least one participant"))
    if problems:
        raise ValidationError(problems)
    return rows, [first_row + i for i in rows]


def _check_duplicates(ids: list[str], roles: list[str], parse: _RowParser) -> set[str]:
    """Record ids given twice (or a person given both roles); return the set of ids."""
    first_seen: dict[str, int] = {}
    num = parse.rownums
    for r, text in enumerate(ids):
        if not text:
            continue
        j = first_seen.setdefault(text, r)
        if j == r:
            continue
        if roles[r] and roles[j] and roles[r] != roles[j]:
            parse.add(
                f"person listed in both roles ({roles[j]} in row {num[j]}, "
                f"{roles[r]} in row {num[r]})",
                text,
                "role",
                expected="one role per person",
            )
        else:
            parse.add(
                f"duplicate id (rows {num[j]} and {num[r]})",
                text,
                "id",
                expected="unique ids, or keep only the latest submission (keep_latest=)",
            )
    return set(first_seen)


def _check_links(
    links: dict[str, list[list[str]]],
    ids: list[str],
    known: set[str],
    left: set[str],
    parse: _RowParser,
) -> None:
    """Record links to oneself or to unknown ids; keep the others, sorted and distinct.

    A link to someone who ``left`` (and is gone from the export) is dropped.
    """
    for c, lists in links.items():
        for r, items in enumerate(lists):
            kept: set[str] = set()
            for x in items:
                if x == ids[r]:
                    parse.add(
                        "names the person themself",
                        parse.labels[r],
                        c,
                        expected="ids of other participants",
                    )
                elif x in left and x not in known:
                    continue
                elif x not in known:
                    parse.add(
                        "names an unknown id",
                        parse.labels[r],
                        c,
                        x,
                        expected="an id in the id column",
                    )
                else:
                    kept.add(x)
            lists[r] = sorted(kept)


class _RowParser:
    """Parses the cells of the mapped columns and records problems with row and column.

    ``labels`` names each row in problems: its id, or ``"row 7"`` where the id is unusable
    (set by :meth:`ids`, which runs first).
    """

    def __init__(
        self,
        problems: list[Problem],
        list_sep: str,
        cells: dict[str, list[Any]],
        n: int,
        rownums: list[int],
        show_values: bool = False,
    ) -> None:
        self.problems = problems
        self.show_values = show_values
        self.sep = list_sep
        self.cells = cells
        self.n = n
        self.rownums = rownums
        self.labels: list[str] = []

    def add(
        self,
        message: str,
        row: str | None,
        column: str,
        value: Any = _NOT_SHOWN,
        *,
        expected: str,
    ) -> None:
        """Record a problem about a cell.

        ``value``, a participant's answer, is not shown (nor kept) unless ``show_values``
        (a manager alone with her own file asked for it).
        """
        if self.show_values and value is not _NOT_SHOWN:
            shown = Problem(message, row=row, column=column, value=value, expected=expected)
            self.problems.append(shown)
            return
        hidden = "" if value is _NOT_SHOWN else " (value hidden)"
        self.problems.append(Problem(message + hidden, row=row, column=column, expected=expected))

    def column(self, name: str, fn: Callable[[Any, str, str], Any], default: Any) -> list[Any]:
        """``fn(cell, row label, name)`` for each cell of column ``name``; ``default`` if absent."""
        if name not in self.cells:
            return [default() if callable(default) else default for _ in range(self.n)]
        return [
            fn(v, self.labels[r], name)
            if v is not REPORTED
            else (default() if callable(default) else default)
            for r, v in enumerate(self.cells[name])
        ]

    def ids(self) -> list[str]:
        """The ids as text ("" where unusable); sets :attr:`labels`."""
        ids: list[str] = []
        for r, v in enumerate(self.cells["id"]):
            text, label = "", f"row {self.rownums[r]}"
            if _is_missing(v):
                self.add("empty id", label, "id", expected="a unique id")
            elif not isinstance(v, str | numbers.Integral | float | np.floating) or isinstance(
                v, bool | np.bool_
            ):
                self.add("wrong type", label, "id", v, expected="text or integer")
            else:
                text = label = id_text(v)
            ids.append(text)
            self.labels.append(label)
        return ids

    def where(self, r: int) -> str:
        """Row ``r`` by its spreadsheet row number, and its id where it has one."""
        label = self.labels[r]
        num = f"row {self.rownums[r]}"
        return num if label == num else f"{num}, id {label}"

    def role(self, v: Any, row: str, column: str) -> str:
        if _is_missing(v):
            self.add("missing role", row, column, expected="mentee, mentor or peer")
            return ""
        role = v.strip().lower() if isinstance(v, str) else None
        if role not in ROLES:
            self.add("unknown role", row, column, v, expected="mentee, mentor or peer")
            return ""
        return role

    def mode(self, v: Any, row: str, column: str) -> str:
        if _is_missing(v):
            return "either"
        mode = _mode_of(v) if isinstance(v, str) else None
        if mode is None:
            self.add("unknown mode", row, column, v, expected="online, in-person or either")
            return "either"
        return mode

    def capacity(self, v: Any, row: str, column: str) -> int:
        if _is_missing(v):
            return 1
        cap = _whole_count(v, "capacity")
        if isinstance(cap, tuple):
            self.add(cap[0], row, column, v, expected=cap[1])
            return 0
        return cap

    def vetted(self, v: Any, row: str, column: str) -> bool:
        if _is_missing(v):
            return False
        b = _as_bool(v)
        if b is None:
            self.add("not a yes/no value", row, column, v, expected="true/false, yes/no or 1/0")
            return False
        return b

    def text(self, v: Any, row: str, column: str) -> str | None:
        if _is_missing(v):
            return None
        if isinstance(v, str):
            return v.strip()
        if is_int(v):
            return str(int(v))
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        self.add("wrong type", row, column, v, expected="text")
        return None

    def items(self, v: Any, row: str, column: str) -> list[str]:
        v = _unwrap_0d(v)
        if isinstance(v, list | tuple | set | frozenset | np.ndarray):
            out: list[str] = []
            for x in list(v):
                if isinstance(x, list | tuple | dict | set):
                    self.add("wrong type in list", row, column, x, expected="text items")
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
        self.add("wrong type", row, column, v, expected=f"a list or {self.sep!r}-separated text")
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
                self.add("wrong type", row, column, v, expected="topic:level entries or a dict")
                return {}
            entries = []
            for item in raw:
                if isinstance(item, str):
                    topic, colon, level = item.partition(":")
                    entries.append((topic, level if colon else DEFAULT_LEVEL))
                elif isinstance(item, tuple | list) and len(item) == 2:
                    entries.append((item[0], item[1]))
                else:
                    self.add(
                        "wrong type in topic list", row, column, item, expected="'topic:level'"
                    )
        out: dict[str, int] = {}
        for topic, level in entries:
            if not isinstance(topic, str) or not topic.strip():
                self.add("empty or non-text topic", row, column, topic, expected="a topic name")
                continue
            name = topic.strip()
            lev = _as_int(level)
            if lev is None or not LEVEL_MIN <= lev <= LEVEL_MAX:
                self.add(
                    "bad level for a topic",
                    row,
                    column,
                    level,
                    expected=f"an integer {LEVEL_MIN}..{LEVEL_MAX}",
                )
                continue
            if name in out:
                self.add("topic listed twice", row, column, name, expected="each topic once")
                continue
            out[name] = lev
        return out


def _is_missing(v: Any) -> bool:
    return is_blank(v)


def _empty(v: Any) -> bool:
    """A blank cell, an empty list or a string of spaces."""
    if isinstance(v, list | tuple | np.ndarray):
        return len(v) == 0
    return v is REPORTED or _is_missing(v) or (isinstance(v, str) and not v.strip())


def _unwrap_0d(v: Any) -> Any:
    """The scalar inside a 0-d array (which cannot be iterated); anything else unchanged."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v.item()
    return v


def _whole_count(v: Any, column: str) -> int | tuple[str, str]:
    """A non-blank cell as a count (an int from 0 to :data:`_CAPACITY_MAX`), or what is wrong.

    What is wrong is a problem's message about ``column`` and what was expected.

    Examples
    --------
    >>> [_whole_count(v, "minimum") for v in (3, " 2 ", 2.0)]
    [3, 2, 2]
    >>> for v in ("two", 2.5, -1, 10**30):
    ...     print(_whole_count(v, "minimum")[0])
    minimum is not a whole number
    minimum is not a whole number
    negative minimum
    minimum too large
    """
    count = _as_int(v)
    if count is None:
        return f"{column} is not a whole number", "an integer >= 0"
    if count < 0:
        return f"negative {column}", "an integer >= 0"
    if count > _CAPACITY_MAX:
        return f"{column} too large", f"an integer <= {_CAPACITY_MAX}"
    return count


def _is_count_problem(v: Any) -> bool:
    """Whether a cell is one :meth:`_RowParser.capacity` records as a problem."""
    return not _is_missing(v) and isinstance(_whole_count(v, "capacity"), tuple)


def _as_int(v: Any) -> int | None:
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, float | np.floating):
        return int(v) if float(v).is_integer() else None
    if isinstance(v, str):
        s = v.strip()
        if s.lstrip("+-").isdigit():  # '²' is a digit that int() refuses
            try:
                return int(s)
            except ValueError:
                return None
        try:
            f = float(s)
        except ValueError:
            return None
        return int(f) if f.is_integer() else None
    return None


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
    rank = np.zeros((len(rows), len(vocab)), dtype=np.int16)
    for i, r in enumerate(rows):
        for place, x in enumerate(r, start=1):
            if not m[i, pos[x]]:  # a value listed twice keeps its first place
                m[i, pos[x]] = True
                rank[i, pos[x]] = min(place, np.iinfo(np.int16).max)
    return Tags(vocab, m, rank)


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
    minimum: list[int],
    vetted: list[bool],
    links: Mapping[str, list[list[str]]],
    ranked: list[list[str]],
    extra: pd.DataFrame,
) -> dict[str, Any]:
    topics = tuple(sorted({t for c in LEVEL_COLUMNS for d in levels[c] for t in d}))
    return dict(
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
        minimum=np.array(minimum, dtype=np.int64),
        vetted=np.array(vetted, dtype=bool),
        avoid=tuple(tuple(x) for x in links["avoid"]),
        previous=tuple(tuple(x) for x in links["previous"]),
        prefer=tuple(tuple(x) for x in links["prefer"]),
        ranked=tuple(tuple(x) for x in ranked),
        extra=extra,
    )
