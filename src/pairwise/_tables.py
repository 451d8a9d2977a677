"""Reading the tables of an exported result (JSON or Excel), by ids only.

The one low-level reader :mod:`pairwise.io` builds on, and that :mod:`pairwise.rules`
(``NoRepeat`` over earlier result files) can use without importing the problem types.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pandas as pd

from pairwise.errors import Problem, ValidationError

__all__ = ["EXCEL_SUFFIXES", "FORMULA_STARTS", "read_partners", "result_tables", "table", "unguard"]

#: First characters that make a spreadsheet cell run as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Spreadsheet suffixes read as Excel workbooks.
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


#: Parsed result files by (path, modification time, size, inode): a command reads one file
#: for its meta, events, partners and rows, and parses it once.
_PARSED: dict[tuple[str, int, int, int], dict[str, pd.DataFrame]] = {}
#: Files kept parsed at most.
PARSED_FILES = 4


def result_tables(target: Path) -> dict[str, pd.DataFrame]:
    """The tables of an exported result; any unreadable file is a ValidationError.

    A file read again unchanged (same path, modification time, size and inode: a rewrite
    through :func:`os.replace` is a new inode) is not parsed again; each call gets its own
    copies of the tables.
    """
    suffix = target.suffix.lower()
    if suffix not in (".json", *EXCEL_SUFFIXES):
        raise ValidationError([Problem("results are read from .json or .xlsx", value=suffix)])
    try:
        info = target.stat()
        key = (str(target.resolve()), info.st_mtime_ns, info.st_size, info.st_ino)
    except OSError:
        key = None
    if key is not None and key in _PARSED:
        return {name: frame.copy() for name, frame in _PARSED[key].items()}
    tables = _parse(target, suffix)
    if key is not None:
        while len(_PARSED) >= PARSED_FILES:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = tables
    return {name: frame.copy() for name, frame in tables.items()}


def _parse(target: Path, suffix: str) -> dict[str, pd.DataFrame]:
    """Every table of a JSON or Excel result file (see :func:`result_tables`)."""
    try:
        if suffix == ".json":
            data = json.loads(target.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object of tables")
            return {str(k): pd.DataFrame(v) for k, v in data.items()}
        return dict(pd.read_excel(target, sheet_name=None, dtype=str))
    except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as exc:
        raise ValidationError(
            [
                Problem(
                    "cannot read the result file",
                    value=target.name,
                    expected=f"a result written by pairwise ({type(exc).__name__})",
                )
            ]
        ) from None


def table(
    tables: dict[str, pd.DataFrame], name: str, columns: tuple[str, ...], what: str
) -> pd.DataFrame:
    found = tables.get(name)
    if found is None:
        raise ValidationError([Problem(f"no '{name}' table: not {what}")])
    missing = [c for c in columns if c not in found.columns]
    if missing:
        raise ValidationError(
            [Problem(f"'{name}' table lacks a column", column=c, expected=what) for c in missing]
        )
    return found


def read_partners(path: str | os.PathLike[str], *, history: bool = True) -> set[tuple[str, str]]:
    """Who was with whom in a result file: its pairs, or every two circle-mates (both orders).

    The pairs of the file's own round and of every earlier round of the programme its
    events record (a re-matched result carries its history). Reads the ids only (no
    programme needed), for :class:`pairwise.rules.NoRepeat`. ``history=False``: the
    file's own round only.

    Raises
    ------
    ValidationError
        When the file is not a result export.
    """
    tables = result_tables(Path(path))
    earlier = _earlier_partners(tables) if history else set()
    return _current_partners(tables) | earlier


def _current_partners(tables: dict[str, pd.DataFrame]) -> set[tuple[str, str]]:
    """The pairs of a result's own round (circles: every two circle-mates, both orders)."""
    if "pairs" in tables and {"mentee_id", "mentor_id"} <= set(tables["pairs"].columns):
        pairs = tables["pairs"]
        return {
            (unguard(str(a)), unguard(str(b)))
            for a, b in zip(pairs.mentee_id, pairs.mentor_id, strict=True)
        }
    members = table(tables, "members", ("circle", "person_id"), "a result export")
    by_circle: dict[str, list[str]] = {}
    for g, x in zip(members.circle, members.person_id, strict=True):
        by_circle.setdefault(str(g), []).append(unguard(str(x)))
    return {(x, y) for ms in by_circle.values() for x in ms for y in ms if x != y}


def _earlier_partners(tables: dict[str, pd.DataFrame]) -> set[tuple[str, str]]:
    """The earlier partners a result's events table records (``paired``, ``earlier`` rows)."""
    events = tables.get("events")
    if events is None or not {"event", "id", "other_id"} <= set(events.columns):
        return set()
    rows = events[events.event.isin(["paired", "earlier"])]
    return {
        (unguard(str(a)), unguard(str(b)))
        for a, b in zip(rows.id, rows.other_id, strict=True)
        if isinstance(a, str) and isinstance(b, str)
    }


def unguard(text: str) -> str:
    """A cell's text as written before :func:`neutralise` guarded it against formulas."""
    return text[1:] if text.startswith("'") and text[1:2] in FORMULA_STARTS else text
