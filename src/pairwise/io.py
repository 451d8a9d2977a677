"""Reading questionnaire exports (CSV, Excel) into a :class:`~pairwise.cohort.Cohort`."""

from __future__ import annotations

import csv
import io as _io
import os
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pairwise.cohort import Cohort
from pairwise.errors import Problem, ValidationError

__all__ = ["read_cohort", "read_table"]

_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
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
            return pd.read_excel(p, sheet_name=sheet, dtype=object)
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
            raise ValidationError(
                [Problem(f"cannot read spreadsheet ({type(exc).__name__})", value=str(p.name))]
            ) from None
    text = _decode(p.read_bytes(), encoding, p.name)
    sep = delimiter or _sniff_delimiter(text)
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
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, pd.errors.ParserWarning) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # pandas' messages name lines and field counts only, never cell text
        raise ValidationError([Problem(f"cannot parse CSV: {msg}", value=p.name)]) from None


def read_cohort(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    list_sep: str = ";",
    sheet: str | int = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Cohort:
    """Read a questionnaire export (CSV or Excel) and validate it into a cohort.

    Parameters
    ----------
    path : str or path-like
        The file; see :func:`read_table`.
    columns, list_sep
        As in :meth:`Cohort.from_frame`.
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
    return Cohort.from_frame(df, columns=columns, list_sep=list_sep)
