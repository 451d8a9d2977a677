"""Files in and out.

Reading questionnaire exports (CSV, Excel) into a :class:`~pairwise.cohort.Cohort`, and
writing results (:class:`~pairwise.results.Matching`, :class:`~pairwise.results.Circles`)
to CSV, Excel (one sheet per view) and JSON. Written cells can never run as spreadsheet
formulas, and every write is atomic: a failed export leaves no half-written file and never
destroys an existing one.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io as _io
import json
import math
import os
import re
import secrets
import stat
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise._tables import EXCEL_SUFFIXES as _EXCEL_SUFFIXES
from pairwise._tables import FORMULA_STARTS, read_partners, unguard
from pairwise._tables import result_tables as _result_tables
from pairwise._tables import table as _table
from pairwise._validate import id_text, positions
from pairwise.cohort import Cohort
from pairwise.errors import Problem, ValidationError
from pairwise.events import Events
from pairwise.solvers.answer import Answer

IntArray = npt.NDArray[np.int64]

if TYPE_CHECKING:
    from pairwise.results import Circles, Matching

__all__ = [
    "neutralise",
    "pseudonym",
    "pseudonymiser",
    "read_cohort",
    "read_events",
    "read_partners",
    "read_table",
    "result_frames",
    "write_frames",
    "write_result",
]


_OLD_EXCEL = ".xls"
_DELIMITERS = ",;\t|"
#: Encodings tried, in order, when ``encoding=None``. UTF-8 (with or without BOM) is what
#: form tools export; UTF-16 is Excel's "Unicode text". We never guess a legacy 8-bit code
#: page silently: that would turn bytes into wrong letters without telling anybody.
_AUTO_ENCODINGS = ("utf-8-sig", "utf-16")


def _decode(raw: bytes, encoding: str | None, name: str) -> str:
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise _decode_error(raw, encoding, name, exc) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _decode_error(raw, "utf-16", name, exc) from None
    try:
        return raw.decode(_AUTO_ENCODINGS[0])
    except UnicodeDecodeError as exc:
        raise _decode_error(raw, "utf-8", name, exc) from None


def _decode_error(raw: bytes, encoding: str, name: str, exc: Exception) -> ValidationError:
    if isinstance(exc, LookupError):
        return ValidationError(
            [Problem("unknown encoding", value=encoding, expected="e.g. 'utf-8' or 'cp1252'")]
        )
    problems = []
    # Report every line holding undecodable bytes (by line number and byte offset, never
    # the bytes' neighbourhood, which is participants' text).
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError as err:
            problems.append(
                Problem(
                    f"undecodable bytes at byte {err.start} of the line",
                    row=f"line {lineno}",
                    expected=f"text in {encoding}; pass encoding= (e.g. 'cp1252') if the file "
                    "was saved in another encoding",
                )
            )
    if not problems:  # e.g. a multi-byte character split across a newline
        problems.append(
            Problem(
                f"file {name!r} is not valid {encoding}",
                expected="pass encoding= matching the file",
            )
        )
    return ValidationError(problems)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header line into the most fields (ties: first in , ; tab |).

    The header is used because data cells often hold ``;``-separated lists.
    """
    header = next(iter(text.splitlines()), "")
    best, best_fields = ",", 1
    for d in _DELIMITERS:
        fields = len(next(csv.reader([header], delimiter=d), []))
        if fields > best_fields:
            best, best_fields = d, fields
    return best


def read_table(
    path: str | os.PathLike[str],
    *,
    sheet: str | int = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel questionnaire export as a DataFrame of raw cells.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.tsv``/``.txt`` (any of , ; tab | as delimiter) or ``.xlsx``/``.xlsm``.
    sheet : str or int, default 0
        Excel sheet name or position.
    encoding : str, optional
        Text encoding of a CSV file; by default UTF-8 (with or without BOM), or UTF-16 with BOM.
    delimiter : str, optional
        CSV delimiter; sniffed from the first lines by default.

    Returns
    -------
    pandas.DataFrame
        Cells as text (CSV) or as Excel stores them; empty cells are missing values.

    Raises
    ------
    ValidationError
        If the file does not exist, cannot be decoded (each offending line is listed), or
        cannot be parsed as a table.
    """
    p = Path(path)
    if not p.is_file():
        raise ValidationError([Problem("file not found", value=str(p), expected="a readable file")])
    if p.suffix.lower() == _OLD_EXCEL:
        raise ValidationError(
            [Problem("old .xls spreadsheets are not read", value=p.name, expected="save as .xlsx")]
        )
    if p.suffix.lower() in _EXCEL_SUFFIXES:
        try:
            header = pd.read_excel(p, sheet_name=sheet, header=None, nrows=1, dtype=object)
            table = pd.read_excel(p, sheet_name=sheet, dtype=object)
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
            raise ValidationError(
                [Problem(f"cannot read spreadsheet ({type(exc).__name__})", value=str(p.name))]
            ) from None
        _unique_headers([str(x) for x in header.iloc[0].tolist()] if len(header) else [])
        return table
    text = _decode(p.read_bytes(), encoding, p.name)
    sep = delimiter or _sniff_delimiter(text)
    _unique_headers(next(csv.reader(_io.StringIO(text), delimiter=sep), []))
    try:
        with warnings.catch_warnings():
            # rows longer than the header would otherwise shift every column silently
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                _io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                index_col=False,
                skip_blank_lines=False,  # kept (and skipped later) so row numbers stay true
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, pd.errors.ParserWarning) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # pandas' messages name lines and field counts only, never cell text
        raise ValidationError([Problem(f"cannot parse CSV: {msg}", value=p.name)]) from None


def _unique_headers(names: list[str]) -> None:
    """A header naming a column twice is an error (pandas renames the second ``x.1``)."""
    seen: dict[str, int] = {}
    for name in names:
        key = name.strip()
        if key and key.lower() != "nan":
            seen[key] = seen.get(key, 0) + 1
    twice = [name for name, k in seen.items() if k > 1]
    if twice:
        raise ValidationError(
            [
                Problem(
                    f"the header names a column {seen[name]} times",
                    column=name,
                    expected="each column name once (rename or delete the copies)",
                )
                for name in twice
            ]
        )


def read_cohort(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str | Mapping[str, str]] | None = None,
    list_sep: str = ";",
    sheet: str | int = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
    values: Mapping[str, Mapping[str, str | int]] | None = None,
    role: str | None = None,
    keep_latest: str | None = None,
    fold_labels: bool = False,
) -> Cohort:
    """Read a questionnaire export (CSV or Excel) and validate it into a cohort.

    Parameters
    ----------
    path : str or path-like
        The file; see :func:`read_table`.
    columns, list_sep, values, role, keep_latest, fold_labels
        As in :meth:`Cohort.from_frame` (recoding, a constant role, resubmissions, label
        folding).
    sheet, encoding, delimiter
        As in :func:`read_table`.

    Returns
    -------
    Cohort

    Raises
    ------
    ValidationError
        Every problem with the file or its rows.
    """
    df = read_table(path, sheet=sheet, encoding=encoding, delimiter=delimiter)
    if delimiter is not None and delimiter == list_sep:
        raise ValidationError(
            [Problem("delimiter equals list_sep", value=delimiter, expected="two different ones")]
        )
    return Cohort.from_frame(
        df,
        columns=columns,
        list_sep=list_sep,
        values=values,
        role=role,
        keep_latest=keep_latest,
        fold_labels=fold_labels,
    )


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which no text cell can run as a spreadsheet formula.

    Text cells (and column names) starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
    return get a leading apostrophe, which spreadsheets show as text. Numbers stay numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> from pairwise.io import neutralise
    >>> neutralise(pd.DataFrame({"id": ["=HYPERLINK(1)", "ana"], "score": [-1.5, 2.0]}))
                  id  score
    0  '=HYPERLINK(1)   -1.5
    1            ana    2.0
    """

    def safe(x: Any) -> Any:
        if isinstance(x, str) and x.startswith(FORMULA_STARTS):
            return "'" + x
        if isinstance(x, tuple | list):
            return "; ".join(str(safe(str(v))) for v in x)
        return x

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe)
    out.columns = [safe(str(c)) for c in out.columns]
    return out


def result_frames(result: Matching | Circles) -> dict[str, pd.DataFrame]:
    """The views of a result, one table each (the sheets of an Excel export).

    A Matching gives ``pairs``, ``unmatched`` (with reasons), ``load`` and ``metrics``; a
    Circles result gives ``circles``, ``members``, ``unplaced`` (with reasons) and
    ``metrics``. Both give ``events`` (:meth:`pairwise.events.Events.to_frame`: leavers,
    broken pairs and joiners by round), which :func:`read_result` reads back, and a
    re-match's result ``changes`` (who, before, after, why), read back too.
    """
    from pairwise.results import Circles, Matching

    summary = {
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "status": result.status,
        "method": result.method,
    }
    if isinstance(result, Matching):
        metrics = {**summary, **result.metrics()}
        return {
            "pairs": result.pairs,
            "unmatched": result.unmatched,
            "load": result.load(),
            "metrics": pd.DataFrame({"metric": list(metrics), "value": list(metrics.values())}),
            "events": result.events.to_frame(),
            **_changes(result),
        }
    if isinstance(result, Circles):
        metrics = {**summary, **result.metrics()}
        return {
            "circles": result.circles,
            "members": result.to_frame(),
            "unplaced": result.unplaced,
            "metrics": pd.DataFrame({"metric": list(metrics), "value": list(metrics.values())}),
            "events": result.events.to_frame(),
            **_changes(result),
        }
    raise ValidationError([Problem("not a result", value=type(result).__name__)])


def _changes(result: Matching | Circles) -> dict[str, pd.DataFrame]:
    """The ``changes`` table of a re-match's result (none for a first solve)."""
    return {} if result.changes is None else {"changes": result.changes}


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValidationError(
            [Problem("folder does not exist", value=str(folder), expected="an existing folder")]
        )
    if path.is_dir():
        raise ValidationError(
            [Problem("the output is a folder", value=path.name, expected="a file name")]
        )
    try:
        tmp = _new_file(folder, path.name)
    except OSError as exc:  # read-only folder, no permission, full disk
        raise ValidationError(
            [
                Problem(
                    "cannot write in the folder",
                    value=str(folder),
                    expected=f"a folder you may write to ({type(exc).__name__})",
                )
            ]
        ) from None
    try:
        write(Path(tmp))
        if path.exists():  # keep the permissions of the file it replaces
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        with open(tmp, "rb+") as written:  # on disk before the rename: a crash leaves
            os.fsync(written.fileno())  # the old file or the new one, never half of one
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(folder)


def _new_file(folder: Path, name: str) -> str:
    """A new empty file beside ``name`` with the user's default permissions (umask)."""
    while True:
        tmp = str(folder / f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:  # pragma: no cover - 48 random bits taken already
            continue
        return tmp


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry for a renamed file (POSIX; elsewhere a no-op)."""
    if os.name != "posix":  # pragma: no cover - Windows has no directory handles
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _plain(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):  # JSON has no NaN or infinity: null
        return float(x) if math.isfinite(float(x)) else None
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, tuple | list | np.ndarray):
        return [_plain(v) for v in x]
    return x


def write_frames(frames: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> Path:
    """Write named tables atomically, by the file's suffix.

    ``.xlsx``: one sheet per table; ``.json``: one list of records per table; ``.csv``: the
    first table only (write the others to their own files). Text cells are neutralised
    (:func:`neutralise`).

    Raises
    ------
    ValidationError
        For an unknown suffix or a missing folder.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    safe = {name: neutralise(frame) for name, frame in frames.items()}
    if suffix == ".csv":
        first = next(iter(safe.values()))
        _atomic(target, lambda p: first.to_csv(p, index=False, encoding="utf-8"))
    elif suffix == ".xlsx":
        _excel_characters(safe)

        def excel(p: Path) -> None:
            # built in memory and closed only on success: a failing sheet must not be
            # masked by the writer saving a broken workbook on the way out
            buffer = _io.BytesIO()
            writer = pd.ExcelWriter(buffer, engine="openpyxl")
            for name, frame in safe.items():
                frame.to_excel(writer, sheet_name=name[:31], index=False)
                _readable(writer.sheets[name[:31]], frame)
            writer.close()
            p.write_bytes(buffer.getvalue())

        _atomic(target, excel)
    elif suffix == ".json":
        data = {
            name: [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
            for name, frame in safe.items()
        }
        text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False)
        _atomic(target, lambda p: p.write_text(text, encoding="utf-8"))
    else:
        raise ValidationError(
            [Problem("unknown output format", value=suffix, expected=".csv, .xlsx or .json")]
        )
    return target


#: Widest column of a published sheet, in characters.
MAX_WIDTH = 60
#: Columns shown as percentages (the values stay fractions in [0, 1]).
SHARE_COLUMNS = ("score", "mean_affinity")


def _readable(sheet: Any, frame: pd.DataFrame) -> None:
    """Make a sheet a person can read.

    A frozen header row, columns as wide as their text, and scores and per-criterion
    contributions in [0, 1] shown as percentages (the cells keep the fractions).
    """
    sheet.freeze_panes = "A2"
    for k, column in enumerate(frame.columns, start=1):
        cells = frame[column]
        text = [str(column), *(str(v) for v in cells.head(500).tolist())]
        letter = sheet.cell(row=1, column=k).column_letter
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, 2 + max(map(len, text)))
        numeric = pd.api.types.is_float_dtype(cells) and len(cells) > 0
        share = numeric and bool(cells.dropna().between(0.0, 1.0).all())
        if share and (column in SHARE_COLUMNS or _is_contribution(frame, column)):
            for row in range(2, len(frame) + 2):
                sheet.cell(row=row, column=k).number_format = "0.0%"


def _is_contribution(frame: pd.DataFrame, column: Any) -> bool:
    """A per-criterion column of the pairs table (between ``score`` and the end)."""
    columns = list(frame.columns)
    return (
        "score" in columns
        and "mentee_id" in columns
        and columns.index(column) > columns.index("score")
    )


#: Characters a worksheet cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE: controls but tab,
#: newline and carriage return).
_NOT_IN_EXCEL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _excel_characters(frames: Mapping[str, pd.DataFrame]) -> None:
    """Every cell Excel cannot store (a control character), by sheet, row and column."""
    problems = []
    for name, frame in frames.items():
        for column in frame.columns:
            cells = frame[column]
            if pd.api.types.is_numeric_dtype(cells) or pd.api.types.is_bool_dtype(cells):
                continue
            hits = cells.map(lambda v: isinstance(v, str) and bool(_NOT_IN_EXCEL.search(v)))
            for row, bad in enumerate(hits):
                if bad:
                    problems.append(
                        Problem(
                            "a control character Excel cannot store (value hidden)",
                            row=f"{name} row {row + 2}",
                            column=str(column),
                            expected="text without control characters, or write .json",
                        )
                    )
    if problems:
        raise ValidationError(problems)


def write_result(
    result: Matching | Circles,
    path: str | os.PathLike[str],
    *,
    meta: Mapping[str, Any] | None = None,
    audience: str = "staff",
    pseudonyms: str | bytes | None = None,
    include: pd.DataFrame | None = None,
) -> Path:
    """Export a result: Excel (a sheet per view), JSON (every view) or CSV (the main view).

    Parameters
    ----------
    result : Matching or Circles
    path : str or path
        ``.xlsx``, ``.json`` or ``.csv``.
    meta : mapping, optional
        Extra facts written as a ``meta`` table (Excel, JSON), e.g. the programme file the
        result came from, so that :func:`read_result` and ``pairwise check`` can rebuild it.
    audience : {"staff", "participants"}, default "staff"
        ``"participants"``: only who is with whom (``pairs``: mentee and mentor ids, the
        topic for panels; ``circles``: members, mentor and the published slot or language),
        without scores, reasons, metrics or events (no check-in ever reaches a
        participant), under column names people read ("Mentee", "Mentor", "Members",
        "Meeting slot"; included columns as "Mentee Full name"). Such a file is not read
        back by :func:`read_result`.
    pseudonyms : str or bytes, optional
        A secret key: every id in the file (in id columns and inside reasons) is replaced
        by its pseudonym (:func:`pseudonym`), the same for the same key and id, so
        programmes whose ids are e-mail addresses can publish or share a result without
        them. Keep the key with the programme; such a file is not read back by
        :func:`read_result`.
    include : pandas.DataFrame, optional
        Columns to carry beside the ids (e.g. ``"Full name"``), indexed by person id:
        each pair gets ``mentee_<column>`` and ``mentor_<column>``, each member, unmatched
        or unplaced person ``<column>``. They go into this file only (never into a
        message), for a workbook people can read; ``[output] include`` in a programme
        file.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import pairwise, tempfile, pathlib
    >>> m = pairwise.solve(pairwise.PairProblem.from_scores([[0.9, 0.1], [0.2, 0.8]]))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "matching.xlsx"
    >>> _ = pairwise.io.write_result(m, out)
    >>> sorted(pd.read_excel(out, sheet_name=None))
    ['events', 'load', 'metrics', 'pairs', 'unmatched']
    """
    from pairwise.results import Circles, Matching

    given: object = result  # typed, but callers may pass anything
    if not isinstance(given, Matching | Circles):
        raise ValidationError(
            [
                Problem(
                    "not a result",
                    value=type(given).__name__,
                    expected="a Matching or Circles (pairwise.solve, rematch or read_result)",
                )
            ]
        )
    if audience not in ("staff", "participants"):
        raise ValidationError(
            [Problem("unknown audience", value=str(audience)[:20], expected="staff, participants")]
        )
    frames = result_frames(result) if audience == "staff" else _for_participants(result)
    if meta and audience == "staff":
        frames["meta"] = pd.DataFrame({"key": list(meta), "value": [str(v) for v in meta.values()]})
    if include is not None:
        frames = _with_columns(frames, include)
    if pseudonyms is not None:
        frames = _pseudonymised(frames, result, pseudonyms)
    if audience == "participants":  # for people to read: names, not field names
        frames = {name: frame.rename(columns=_readable_name) for name, frame in frames.items()}
    return write_frames(frames, path)


#: Column names of an export for participants, as people read them.
READABLE = {
    "mentee_id": "Mentee",
    "mentor_id": "Mentor",
    "topic": "Topic",
    "circle": "Circle",
    "member_ids": "Members",
    "slot": "Meeting slot",
    "language": "Language",
}


def _readable_name(column: Any) -> Any:
    """A column's name in a participants' export ("mentee_Full name" -> "Mentee Full name")."""
    name = str(column)
    if name in READABLE:
        return READABLE[name]
    for side in ("mentee_", "mentor_"):
        if name.startswith(side):
            return f"{side[:-1].capitalize()} {name[len(side) :]}"
    return column


def _with_columns(
    frames: dict[str, pd.DataFrame], include: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The tables with ``include``'s columns beside each id (see :func:`write_result`)."""
    if not isinstance(include, pd.DataFrame):
        raise ValidationError([Problem("bad include", expected="a DataFrame indexed by id")])
    table = include.copy()
    table.index = [str(x) for x in table.index]
    ids = {"pairs": ("mentee_id", "mentor_id"), "unmatched": ("mentee_id",)}
    ids.update({"members": ("person_id",), "unplaced": ("person_id",)})
    out = dict(frames)
    for name, columns in ids.items():
        frame = frames.get(name)
        if frame is None or not len(frame.columns):
            continue
        frame = frame.copy()
        for id_column in columns:
            side = id_column.removesuffix("_id") + "_" if len(columns) > 1 else ""
            where = list(frame.columns).index(id_column) + 1
            for k, column in enumerate(table.columns):
                values = frame[id_column].astype(str).map(table[column])
                frame.insert(where + k, f"{side}{column}", values.to_numpy())
        out[name] = frame
    return out


def pseudonym(person_id: Any, key: str | bytes) -> str:
    """A person's pseudonym under ``key``: ``"p-"`` and 12 hex digits of HMAC-SHA256.

    Stable (the same key and id give the same pseudonym on any machine) and not
    reversible without the key.

    Examples
    --------
    >>> pseudonym("ann@example.org", "programme secret")
    'p-eb564540f2f2'
    """
    secret = key.encode() if isinstance(key, str) else bytes(key)
    digest = hmac.new(secret, id_text(person_id).encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:12]}"


def pseudonymiser(ids: Iterable[Any], key: str | bytes) -> Callable[[str], str]:
    """A function that writes every one of ``ids`` in a text as its :func:`pseudonym`.

    Longer ids are matched first, so an id inside another is never half replaced.

    Examples
    --------
    >>> hide = pseudonymiser(["ann@x", "ann@x.org"], "programme secret")
    >>> hide("pair with ann@x.org broken")
    'pair with p-85953a64b06a broken'
    """
    names = {id_text(x): pseudonym(x, key) for x in ids}
    if not names:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(x) for x in sorted(names, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: names[m.group(0)], text)


def _pseudonymised(
    frames: dict[str, pd.DataFrame], result: Matching | Circles, key: str | bytes
) -> dict[str, pd.DataFrame]:
    """``frames`` with every id of the result's people replaced by its pseudonym."""
    from pairwise.results import Matching

    if not isinstance(key, str | bytes) or not key:
        raise ValidationError([Problem("bad pseudonyms key", expected="a non-empty secret text")])
    if isinstance(result, Matching):
        ids = [*result.problem.mentee_ids, *result.problem.mentor_ids]
    else:
        ids = [*result.problem.person_ids]
    events = result.events
    ids += [x for _, x in events.left] + [x for pair in events.partners for x in pair]
    hide = pseudonymiser(ids, key)

    def swap(v: Any) -> Any:
        return hide(v) if isinstance(v, str) else v

    out = {}
    for name, frame in frames.items():
        if name == "meta":
            out[name] = frame
            continue
        text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        out[name] = frame.assign(**{str(c): frame[c].map(swap) for c in text})
    return out


def _for_participants(result: Matching | Circles) -> dict[str, pd.DataFrame]:
    """Who is with whom, and nothing else (see ``audience`` in :func:`write_result`)."""
    from pairwise.results import Matching

    if isinstance(result, Matching):
        pairs = result.pairs
        return {"pairs": pairs[[c for c in ("mentee_id", "mentor_id", "topic") if c in pairs]]}
    circles = result.circles
    keep = ["circle", "mentor_id", "member_ids", "slot", "language"]
    return {"circles": circles[[c for c in keep if c in circles]]}


def read_meta(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``meta`` table of a JSON or Excel export (empty when there is none).

    Raises
    ------
    ValidationError
        When the file is missing or not a result export (never a bare OSError).
    """
    target = Path(path)
    if target.suffix.lower() not in (".json", *_EXCEL_SUFFIXES):
        return {}
    meta = _result_tables(target).get("meta")
    if meta is None or not {"key", "value"} <= set(meta.columns):
        return {}
    return {str(k): str(v) for k, v in zip(meta.key, meta.value, strict=True)}


def read_result(path: str | os.PathLike[str], problem: Any) -> Matching | Circles:
    """Rebuild a result exported by :func:`write_result` (JSON or Excel) for ``problem``.

    The pairs (or circle members) are read by id and placed in ``problem``; the objective
    is recomputed, so :func:`pairwise.check` can validate the file against the programme
    as it stands. The bound and status the file records are kept only when the file's
    objective is the recomputed one (the same problem); otherwise no bound is claimed
    (``bound=None``, status ``"feasible"``).

    Raises
    ------
    ValidationError
        When the file names ids the problem does not know, or is not a result export.
    """
    tables = _result_tables(Path(path))
    found: list[Problem] = []
    events = _events_of(tables, found)
    try:
        result = _read_rows(tables, problem, events)
    except ValidationError as exc:
        raise ValidationError([*exc.problems, *found]) from None
    if found:
        raise ValidationError(found)
    changes = tables.get("changes")
    if changes is not None and len(changes.columns):  # a re-match's: kept as written
        changes = changes.astype(object).where(changes.notna(), None)
    return replace(result, events=events, changes=changes, roster=_roster(tables, problem))


def _roster(tables: dict[str, pd.DataFrame], problem: Any) -> frozenset[str] | None:
    """Everyone a result file lists, when the problem has people it does not (joiners)."""
    listed = [("pairs", "mentee_id"), ("pairs", "mentor_id"), ("unmatched", "mentee_id")]
    listed += [("load", "mentor_id"), ("members", "person_id"), ("unplaced", "person_id")]
    known = {
        unguard(str(x))
        for name, column in listed
        if name in tables and column in tables[name].columns
        for x in tables[name][column]
    }
    ids = getattr(problem, "person_ids", None)
    if ids is None:
        ids = [*problem.mentee_ids, *problem.mentor_ids]
    return None if {str(x) for x in ids} <= known else frozenset(known)


def read_events(path: str | os.PathLike[str]) -> Events:
    """The events table of a result file (:class:`~pairwise.events.Events`), alone.

    Needs no programme: ``pairwise history`` reads it to list the rounds and events.

    Raises
    ------
    ValidationError
        When the file is not a result export or its events table is malformed.
    """
    found: list[Problem] = []
    events = _events_of(_result_tables(Path(path)), found)
    if found:
        raise ValidationError(found)
    return events


def _events_of(tables: dict[str, pd.DataFrame], found: list[Problem]) -> Events:
    """The ``events`` table of an export (none: no events), problems added to ``found``."""
    if "events" not in tables:
        return Events()
    table = tables["events"].copy()
    for col in ("id", "other_id"):  # ids as written: a formula guard's apostrophe taken off
        if col in table.columns:
            table[col] = [x if x is None or x != x else unguard(str(x)) for x in table[col]]
    return Events.from_frame(table, found)


def _read_rows(tables: dict[str, pd.DataFrame], problem: Any, events: Events) -> Matching | Circles:
    """The result a file's pairs or circle members make in ``problem`` (see read_result)."""
    from pairwise.circles import CircleProblem, fitting_counts
    from pairwise.results import build

    def plain(x: Any) -> str:
        return unguard(str(x))

    problems: list[Problem] = []
    if isinstance(problem, CircleProblem):
        members = _table(tables, "members", ("circle", "person_id"), "a circles export")
        pos = positions(problem.person_ids)
        rows = []
        n_circles = problem.n_circles
        # the solver's count, or a re-match's when the problem's no longer fitted
        moved = problem.count_free or events.rounds > 0
        if moved and problem.size_range is not None:
            top = max(fitting_counts(problem.n, *problem.size_range), default=n_circles)
            n_circles = max(n_circles, top)
        for k, (g, x) in enumerate(zip(members.circle, members.person_id, strict=True)):
            if plain(x) not in pos:
                problems.append(_unknown(plain(x), str(k), events))
                continue
            try:
                circle = int(str(g))
            except ValueError:
                circle = -1
            if not 0 <= circle < n_circles:
                problems.append(
                    Problem(
                        "bad circle",
                        row=str(k),
                        column="circle",
                        value=g,
                        expected=f"an int in 0-{n_circles - 1}",
                    )
                )
                continue
            rows.append((circle, pos[plain(x)]))
        left_out = _left_out(tables, pos, plain, problems)
        if problems:
            raise ValidationError(problems)
        arr = np.array(sorted(rows), dtype=np.int64).reshape(-1, 2)
        answer = replace(_recorded(tables, problem.value(arr), arr, None), left_out=left_out)
        formed = int(arr[:, 0].max()) + 1 if len(arr) else 0
        if moved and problem.size_range is not None and formed != problem.n_circles:
            # the solver chose the count (and, with people left out, chose it again)
            chosen = problem.with_count(formed)
            answer = replace(answer, sizes=(chosen.min_size, chosen.max_size))
        return build(problem, answer)
    pairs = _table(tables, "pairs", ("mentee_id", "mentor_id"), "a matching export")
    pa, pb = positions(problem.mentee_ids), positions(problem.mentor_ids)
    topic_names = list(problem.panel[0]) if problem.panel is not None else []
    topic_col = pairs["topic"] if "topic" in pairs and topic_names else None
    cells = []
    for k, (a, b) in enumerate(zip(pairs.mentee_id, pairs.mentor_id, strict=True)):
        a, b = plain(a), plain(b)
        if a not in pa or b not in pb:
            problems.extend(_unknown(x, str(k), events) for x in (a, b) if x not in pa | pb)
            if a in pa | pb and b in pa | pb:  # both known, on the wrong sides
                problems.append(Problem("unknown id in pair", row=str(k), value=f"({a}, {b})"))
            continue
        t = -1
        if topic_col is not None:
            name = plain(topic_col.iloc[k])
            if name not in topic_names:
                problems.append(Problem("unknown topic", row=str(k), value=name))
                continue
            t = topic_names.index(name)
        cells.append((pa[a], pb[b], t))
    if problems:
        raise ValidationError(problems)
    table = np.array(sorted(cells), dtype=np.int64).reshape(-1, 3)
    arr = np.ascontiguousarray(table[:, :2])
    topics = np.ascontiguousarray(table[:, 2]) if topic_col is not None else None
    return build(problem, _recorded(tables, problem.total(arr), arr, topics))


def _unknown(x: str, row: str, events: Events) -> Problem:
    """An id of the file that the programme's input lacks, and what to do about it."""
    if x in events.leavers:
        return Problem(
            "a leaver is still placed in this file", row=row, value=x, expected="a pairwise export"
        )
    return Problem(
        "id in the result but not in the programme's input",
        row=row,
        value=x,
        expected="back in the input, or a later result that records her leaving",
    )


def _left_out(
    tables: dict[str, pd.DataFrame],
    pos: dict[str, int],
    plain: Callable[[Any], str],
    problems: list[Problem],
) -> dict[int, str]:
    """The ``unplaced`` table of a circles export (person -> reason), if it has one."""
    table = tables.get("unplaced")
    if table is None or not len(table):
        return {}
    if not {"person_id", "reason"} <= set(table.columns):
        problems.append(
            Problem("unplaced table lacks columns", column="unplaced", expected="person_id, reason")
        )
        return {}
    out = {}
    for k, (x, why) in enumerate(zip(table.person_id, table.reason, strict=True)):
        if plain(x) not in pos:
            problems.append(Problem("unknown person id", row=str(k), column="unplaced"))
            continue
        out[pos[plain(x)]] = str(why)
    return out


def _recorded(
    tables: dict[str, pd.DataFrame], objective: float, rows: IntArray, topics: IntArray | None
) -> Answer:
    """The file's rows as an answer, with the bound it records when it is for this problem."""
    metrics = tables.get("metrics")
    values: dict[str, str] = {}
    if metrics is not None and {"metric", "value"} <= set(metrics.columns):
        values = {str(k): str(v) for k, v in zip(metrics.metric, metrics.value, strict=True)}

    def number(key: str) -> float | None:
        try:
            x = float(values[key])
        except (KeyError, ValueError):
            return None
        return x if np.isfinite(x) else None

    bound, recorded = number("bound"), number("objective")
    same = recorded is not None and abs(recorded - objective) <= 1e-6 * max(1.0, abs(objective))
    if bound is None or not same:
        return Answer(rows, optimal=False, method="file", topics=topics)
    optimal = values.get("status") == "optimal"
    return Answer(rows, optimal=optimal, method="file", bound=bound, topics=topics)
