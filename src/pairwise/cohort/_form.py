"""What a real form export needs before its cells are parsed, and the label folding after.

* :func:`resolve_sources`: the column mapping. Each canonical column reads one or several of
  the table's columns (several questions may feed one field: the first non-empty answer, or
  only the rows of one role); an explicit mapping wins over a column that merely carries a
  canonical name; headers match despite case and stray spaces, with a "did you mean".
* :func:`blank_rows` and :func:`latest_submissions`: rows to leave out (wholly blank rows,
  earlier submissions of a person who sent the form again).
* :func:`merge_sources` and :func:`recode`: one cell per person and canonical column, with
  the form's answers recoded to the programme's values (``values=``).
* :func:`fold`: labels that differ only in case or spaces become one label.

Problems name rows by their spreadsheet row number (the header is row 1) and columns by
their name; a participant's answer is never shown.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pairwise._validate import id_text
from pairwise.cohort._schema import CANONICAL_COLUMNS, REQUIRED_COLUMNS, ROLES, is_canonical
from pairwise.errors import Problem, did_you_mean

__all__ = [
    "REPORTED",
    "Source",
    "blank_rows",
    "find_column",
    "fold",
    "is_blank",
    "latest_submissions",
    "merge_sources",
    "options_problems",
    "recode",
    "resolve_sources",
]

#: Canonical columns read from exactly one column of the table.
SINGLE_SOURCE: tuple[str, ...] = ("id", "role")
#: Canonical columns whose cells are lists (or topic lists) when recoded.
LIST_COLUMNS: tuple[str, ...] = (
    "languages",
    "stage",
    "slots",
    "needs",
    "expertise",
    "avoid",
    "previous",
    "prefer",
    "ranked",
)


class _Reported:
    """A cell whose problem is already recorded (parsers give it their default)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<reported>"


REPORTED: Any = _Reported()


@dataclass(frozen=True)
class Source:
    """A column of the table feeding a canonical column; ``role``: only rows of that role."""

    label: Any
    role: str | None = None


def norm(text: object) -> str:
    """Case and runs of spaces ignored: the key headers and answers are matched by."""
    return " ".join(str(text).split()).casefold()


def is_blank(v: Any) -> bool:
    """Whether a cell holds no answer."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating) and math.isnan(float(v)):
        return True
    return isinstance(v, str) and not v.strip()


def resolve_sources(
    labels: Sequence[Any],
    columns: Mapping[str, Any] | None,
    role: str | None,
    problems: list[Problem],
) -> dict[str, list[Source]]:
    """Canonical column -> the table's columns feeding it; mapping problems recorded.

    ``columns`` maps a column name to a canonical name, or to ``{"field": name, "role":
    role}`` (only rows of that role read it). ``role`` is a constant role for everyone.
    """
    sources: dict[str, list[Source]] = {}
    explicit: set[Any] = set()
    tried: set[str] = set()  # mapped, though to a missing column (that problem says it all)
    for src, target in dict(columns or {}).items():
        dst, only = _target(src, target, problems)
        tried.add(dst or "")
        label = None if dst is None else _find_label(src, dst, labels, problems)
        if dst is None or label is None:
            continue
        explicit.add(label)
        if dst in SINGLE_SOURCE and (dst in sources or only is not None):
            problems.append(
                Problem(
                    f"two columns are mapped to {dst!r}"
                    if dst in sources
                    else f"{dst!r} cannot be read per role",
                    column=str(src),
                    expected=f"one column for {dst!r}",
                )
            )
            continue
        sources.setdefault(dst, []).append(Source(label, only))
    if role is not None and "role" in sources:
        problems.append(
            Problem(
                "a constant role and a column mapped to 'role'",
                column=str(sources["role"][0].label),
                expected="one of them",
            )
        )
    _auto_detect(labels, explicit, sources, role, problems)
    for req in REQUIRED_COLUMNS:
        if req not in sources and req not in tried and not (req == "role" and role is not None):
            problems.append(
                Problem(
                    "missing required column",
                    column=req,
                    expected=f"a column {req!r}, or a mapping to it in columns="
                    + did_you_mean(req, [str(x) for x in labels]),
                )
            )
    return sources


def _auto_detect(
    labels: Sequence[Any],
    explicit: set[Any],
    sources: dict[str, list[Source]],
    role: str | None,
    problems: list[Problem],
) -> None:
    """Columns named like a canonical column that no explicit mapping already gives."""
    auto: dict[str, Any] = {}
    for label in labels:
        if label in explicit or not isinstance(label, str):
            continue
        key = label.strip().lower()
        if not is_canonical(key) or key in sources or (key == "role" and role):
            continue
        if key in auto:
            problems.append(
                Problem(
                    f"ambiguous column for {key!r}: both {auto[key]!r} and this one",
                    column=label,
                    expected="map one of them explicitly, or drop one",
                )
            )
            continue
        auto[key] = label
    for key, label in auto.items():
        sources[key] = [Source(label)]


def _target(src: str, target: Any, problems: list[Problem]) -> tuple[str | None, str | None]:
    """The canonical column and role a mapping entry names (None where it is wrong)."""
    only = None
    if isinstance(target, Mapping):
        unknown = sorted(str(k) for k in target if k not in ("field", "role"))
        only = target.get("role")
        if unknown or not isinstance(target.get("field"), str) or only not in (None, *ROLES):
            problems.append(
                Problem(
                    "bad column mapping",
                    column=str(src),
                    expected="a canonical name or {field = name, role = mentee/mentor/peer}",
                )
            )
            return None, None
        target = target["field"]
    if not isinstance(target, str) or not is_canonical(target):
        problems.append(
            Problem(
                "column mapping names an unknown canonical column"
                + did_you_mean(target, CANONICAL_COLUMNS),
                column=str(src),
                value=target,
                expected="one of " + ", ".join(CANONICAL_COLUMNS),
            )
        )
        return None, None
    return target, only


def _find_label(src: str, dst: str, labels: Sequence[Any], problems: list[Problem]) -> Any:
    """The table's column a mapping names: exactly, else ignoring case and stray spaces."""
    return find_column(
        src,
        labels,
        problems,
        message="mapped column not in the table",
        expected=f"a column named {src!r} (mapped to {dst!r})",
    )


def find_column(
    name: str,
    labels: Sequence[Any],
    problems: list[Problem],
    *,
    message: str = "timestamp column not in the table",
    expected: str = "the column holding each submission's date and time (keep_latest=)",
) -> Any:
    """The table's column ``name`` (ignoring case and stray spaces); None, recorded, if absent."""
    if name in labels:
        return name
    near = [x for x in labels if isinstance(x, str) and norm(x) == norm(name)]
    if len(near) == 1:
        return near[0]
    problems.append(
        Problem(
            message + did_you_mean(name, [str(x) for x in labels]),
            column=name,
            expected=expected,
        )
    )
    return None


def options_problems(
    values: Mapping[str, Mapping[str, Any]] | None, role: object, keep_latest: object
) -> list[Problem]:
    """Problems of the reading options themselves (``values``, ``role``, ``keep_latest``)."""
    problems: list[Problem] = []
    if role is not None and role not in ROLES:
        problems.append(
            Problem("unknown constant role", value=role, expected="mentee, mentor or peer")
        )
    if keep_latest is not None and not isinstance(keep_latest, str):
        problems.append(
            Problem("keep_latest must be a column name", value=type(keep_latest).__name__)
        )
    given: object = values
    if values is None:
        return problems
    if not isinstance(given, Mapping):
        return [*problems, Problem("values must map a column to a table", expected="a dict")]
    for column, table in values.items():
        if not isinstance(column, str) or not is_canonical(column) or column == "id":
            problems.append(
                Problem(
                    "values for an unknown column" + did_you_mean(column, CANONICAL_COLUMNS),
                    column=str(column),
                    expected="a canonical column other than id",
                )
            )
        elif not isinstance(table, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str | int) and not isinstance(v, bool)
            for k, v in table.items()
        ):
            problems.append(
                Problem(
                    "values of a column map answers to values",
                    column=str(column),
                    expected='{"their answer" = "our value"} (text or a whole number)',
                )
            )
    return problems


def blank_rows(df: pd.DataFrame) -> list[int]:
    """Positions of rows with no answer in any column (a form's trailing empty rows)."""
    if df.shape[1] == 0:
        return []
    blank = df.map(is_blank).all(axis=1)
    return [int(i) for i in blank.to_numpy().nonzero()[0]]


def latest_submissions(
    ids: Sequence[Any],
    stamps: Sequence[Any],
    rownums: Sequence[int],
    column: str,
    problems: list[Problem],
) -> tuple[list[int], list[str]]:
    """The positions to drop (earlier submissions of one id) and a note per person.

    A person's submission with the latest timestamp is kept (of equal ones, the later row).
    Unreadable timestamps are problems (row and column, never the cell).
    """
    when = pd.to_datetime(pd.Series(list(stamps), dtype=object), errors="coerce", format="mixed")
    bad = [i for i, t in enumerate(when) if pd.isna(t)]
    for i in bad:
        problems.append(
            Problem(
                "timestamp missing or not a date and time",
                row=f"row {rownums[i]}",
                column=column,
                expected="a date and time (as the form exports it) to keep the latest submission",
            )
        )
    if bad:
        return [], []
    by_id: dict[str, list[int]] = {}
    for i, v in enumerate(ids):
        if not is_blank(v):
            by_id.setdefault(id_text(v), []).append(i)
    dropped: list[int] = []
    notes: list[str] = []
    for key, rows in by_id.items():
        if len(rows) < 2:
            continue
        keep = max(rows, key=lambda i: (when.iloc[i], i))
        gone = [i for i in rows if i != keep]
        dropped += gone
        notes.append(
            f"resubmission: id {key}: kept row {rownums[keep]}, dropped row(s) "
            + ", ".join(str(rownums[i]) for i in gone)
        )
    return sorted(dropped), notes


def merge_sources(
    cells: Mapping[Any, Sequence[Any]], sources: Sequence[Source], roles: Sequence[str]
) -> tuple[list[Any], list[Any]]:
    """One cell per row: the first non-blank one of ``sources`` (those of the row's role).

    Returns the cells and, per row, the column each came from.
    """
    n = len(roles)
    out: list[Any] = [None] * n
    origin: list[Any] = [sources[0].label] * n
    for r in range(n):
        for s in sources:
            if s.role is not None and roles[r] != s.role:
                continue
            v = cells[s.label][r]
            if not is_blank(v):
                out[r], origin[r] = v, s.label
                break
    return out, origin


class Recoder:
    """A column's ``values`` table: the form's answer -> the programme's value.

    Keys match ignoring case and spaces; a key ending in ``*`` matches every answer that
    starts with the rest (``"Other: *"``); ``"*"`` alone matches any answer. A value of
    ``""`` drops the answer. An answer that is already one of the table's values, or one
    the column reads as it is (``understood``: "online" for a mode), is kept.
    """

    def __init__(
        self, table: Mapping[str, Any], understood: Callable[[Any], bool] | None = None
    ) -> None:
        self.understood = understood
        self.exact: dict[str, Any] = {}
        self.prefixes: list[tuple[str, Any]] = []
        for key, value in table.items():
            if key.endswith("*"):
                self.prefixes.append((norm(key[:-1]), value))
            else:
                self.exact[norm(key)] = value
        self.prefixes.sort(key=lambda kv: -len(kv[0]))
        self.targets = {norm(v) for v in table.values() if isinstance(v, str) and v}

    def known(self, text: str) -> bool:
        """Whether ``text`` is a key (an answer the table recodes)."""
        return norm(text) in self.exact

    def get(self, answer: Any) -> tuple[bool, Any]:
        """(found, value); value None means "drop this answer"."""
        if isinstance(answer, bool) or not isinstance(answer, str | int | float):
            return True, answer
        key = norm(answer)
        if key in self.exact:
            return True, self.exact[key] if self.exact[key] != "" else None
        for prefix, value in self.prefixes:
            if key.startswith(prefix):
                return True, value if value != "" else None
        if key in self.targets or not isinstance(answer, str):
            return True, answer
        if self.understood is not None and self.understood(answer):
            return True, answer
        return False, None

    def split(self, text: str, sep: str) -> list[str]:
        """``text`` split at ``sep``, keeping whole any answer of the table that holds ``sep``.

        An answer matching a ``"prefix*"`` key (a form's "Other: ..." text) runs on to the
        next answer the table knows, since free text may hold the separator too.
        """
        pieces = [p.strip() for p in text.split(sep)]
        out: list[str] = []
        i = 0
        while i < len(pieces):
            j = next(
                (j for j in range(len(pieces), i + 1, -1) if self.known(sep.join(pieces[i:j]))),
                i + 1,
            )
            if j == i + 1 and not self.known(pieces[i]) and self.free(pieces[i]):
                while j < len(pieces) and not self.known(pieces[j]):
                    j += 1
            out.append(sep.join(pieces[i:j]).strip())
            i = j
        return [p for p in out if p]

    def free(self, text: str) -> bool:
        """Whether ``text`` matches a ``"prefix*"`` key (not the catch-all ``"*"``)."""
        key = norm(text)
        return any(prefix and key.startswith(prefix) for prefix, _ in self.prefixes)


def recode(
    column: str,
    cells: Sequence[Any],
    origin: Sequence[Any],
    table: Mapping[str, Any],
    *,
    sep: str,
    rows: Sequence[str],
    problems: list[Problem],
    understood: Callable[[Any], bool] | None = None,
) -> list[Any]:
    """The cells of ``column`` with every answer recoded by ``table``.

    Each cell holding an answer the table does not know (nor ``understood``) is a problem,
    named by ``rows`` (row labels) and the column it came from; the answer is never shown.
    """
    recoder = Recoder(table, understood)
    is_list = column in LIST_COLUMNS
    out: list[Any] = []
    for r, v in enumerate(cells):
        if is_blank(v) if not isinstance(v, list | tuple) else False:
            out.append(v)
            continue
        items: Iterable[Any] = [v]
        if is_list and isinstance(v, str):
            items = recoder.split(v, sep)
        elif is_list and isinstance(v, list | tuple):
            items = list(v)
        values, missed = [], 0
        for item in items:
            found, value = recoder.get(item)
            if not found and is_list and isinstance(item, str) and ":" in item:
                topic, _, level = item.rpartition(":")
                found, value = recoder.get(topic)
                value = None if value is None else f"{value}:{level}"
            missed += not found
            if found and value is not None:
                values.append(value)
        if missed:
            problems.append(
                Problem(
                    f"{missed} answer(s) not listed in values[{column!r}] (answers hidden)",
                    row=rows[r],
                    column=str(origin[r]),
                    expected=f"each answer listed in values[{column!r}] (a key "
                    '"Other: *" takes every answer starting "Other: "; "*" = "" drops the rest)',
                )
            )
        if is_list:  # two answers recoded to one value (two wordings of a topic) count once
            out.append(list(dict.fromkeys(values)))
        else:
            out.append(values[0] if values else REPORTED if missed else None)
    return out


def fold(groups: Mapping[str, list[Any]], notes: list[str]) -> None:
    """Labels differing only in case or spaces made one, in place; a note per merge.

    ``groups`` maps a column name to its parsed cells: text (or None), lists of labels, or
    topic -> level dicts (where a person's folded topics keep the highest level). The
    spelling kept is the one written most often (ties: the first written).
    """
    for column, cells in groups.items():
        counts: Counter[str] = Counter()
        for cell in cells:
            counts.update(" ".join(x.split()) for x in _labels(cell))
        spelling: dict[str, str] = {}
        variants: dict[str, list[str]] = {}
        for label, _ in counts.most_common():
            spelling.setdefault(norm(label), label)
            variants.setdefault(norm(label), []).append(label)
        for key, seen in variants.items():
            if len(seen) > 1:
                merged = ", ".join(repr(s) for s in seen[1:])
                notes.append(f"{column}: {merged} folded into {spelling[key]!r}")
        for r, cell in enumerate(cells):
            cells[r] = _refold(cell, spelling)


def _labels(cell: Any) -> list[str]:
    if isinstance(cell, str):
        return [cell]
    if isinstance(cell, dict | list):
        return [str(x) for x in cell]
    return []


def _refold(cell: Any, spelling: Mapping[str, str]) -> Any:
    if isinstance(cell, str):
        return spelling[norm(cell)]
    if isinstance(cell, list):
        return list(dict.fromkeys(spelling[norm(x)] for x in cell))
    if isinstance(cell, dict):
        out: dict[str, int] = {}
        for topic, level in cell.items():
            key = spelling[norm(topic)]
            out[key] = max(out.get(key, 0), level)
        return out
    return cell
