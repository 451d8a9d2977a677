"""A programme described in a TOML file: input, column mapping, weights, rules, objective.

:meth:`Programme.from_toml` validates every field and lists every problem at once, each at
its line of the file (``[[rules]] #2 (line 31)``), with a "did you mean" for misspelt names,
rule options checked against the rule's fields in TOML terms, and the export's header read
to check the column mapping; :meth:`Programme.run` reads the questionnaire export, scores
it, builds the problem, solves it and writes the output. The file holds no matching logic:
it names the same building blocks the Python API offers.

.. code-block:: toml

    [programme]
    name = "Cross-chapter leadership mentoring"
    kind = "pairs"                      # or "circles"

    [input]
    file = "answers.csv"                # relative to this file
    list_sep = ";"
    keep_latest = "Timestamp"           # resubmissions: each id's latest row
    [input.columns]                     # your column name -> canonical name
    "Member number" = "id"
    "I am joining as" = "role"
    [input.values]                      # per canonical column: their answer -> our value
    role = { "Mentee (I want support)" = "mentee", "Mentor (I can help)" = "mentor" }

    [weights]                           # criteria weights (normalised to sum 1)
    topics = 5
    region = 1
    ranked = 2                          # ranked lists (off unless weighted)
    [ranked]                            # how a rank decays: RankedPreference's options
    decay = "linear"                    # or "geometric" (with ratio = 0.5)
    k = 3                               # ranks that count

    [[rules]]
    type = "DifferentChapter"
    [[rules]]
    type = "Capacity"
    override = 2

    [solve]
    objective = "matched-then-total"
    time_limit = 30
    seed = 0

    [output]
    file = "matching.xlsx"              # .xlsx, .json or .csv

``[input]`` also takes ``role`` (a constant role), ``fold_labels`` (default true),
``sheet``, ``encoding`` and ``delimiter``; see :meth:`pairwise.Cohort.from_frame`.
Circle programmes add a ``[circles]`` table (``min_size``, ``max_size``, ``n_circles``,
``mentors = "one-per-circle"``, ``leads``, ``fit``).

Rules on any column (``Same``, ``Different``, ``Range``, ``AtMost``, ``Diversify``) name
it with ``column = "..."`` (and ``weight = ...`` for the soft form); the column is checked
against the export's header when the file is read: one of ``rules.STANDARD_COLUMNS`` or a
column no field reads (``Range``: the latter only).
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pairwise import rules as rules_module
from pairwise.cohort import column_fields, mapping_problems
from pairwise.errors import Problem, ValidationError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["RULES", "Lines", "Programme"]


#: Rule classes a programme file may name in ``[[rules]] type = ...``.
def _is_rule(obj: object) -> bool:
    """A rule class (it compiles), not a protocol, a compiled form or a helper function."""
    compiles = callable(getattr(obj, "compile", None)) or callable(
        getattr(obj, "compile_circles", None)
    )
    return isinstance(obj, type) and compiles and not getattr(obj, "_is_protocol", False)


RULES: dict[str, type] = {
    name: getattr(rules_module, name)
    for name in rules_module.__all__
    if _is_rule(getattr(rules_module, name))
}
#: Rules on any column of the export: their ``column`` is checked against its header.
_COLUMN_RULES = ("Same", "Different", "Range", "AtMost", "Diversify")

_TABLES: dict[str, set[str]] = {
    "programme": {"name", "kind"},
    "input": {
        "file",
        "columns",
        "values",
        "list_sep",
        "sheet",
        "encoding",
        "delimiter",
        "role",
        "keep_latest",
        "fold_labels",
    },
    "weights": set(),
    "ranked": {"side", "decay", "ratio", "k"},
    "rules": set(),
    "solve": {"objective", "time_limit", "seed", "method", "workers"},
    "circles": {
        "min_size",
        "max_size",
        "n_circles",
        "mentors",
        "leads",
        "fit",
        "all_placed",
        "balanced",
    },
    "output": {"file", "include"},
}
_KINDS = ("pairs", "circles")


@dataclass(frozen=True)
class Programme:
    """A validated programme file.

    Attributes
    ----------
    path : Path
        The TOML file (relative paths inside it are relative to its folder).
    name : str
    kind : {"pairs", "circles"}
    input : dict
        ``file`` (absolute), ``columns``, ``list_sep``, ``sheet``, ``encoding``,
        ``delimiter``.
    weights : dict of str to float
    ranked : dict
        ``[ranked]``: options of :class:`~pairwise.scoring.RankedPreference` (``side``,
        ``decay``, ``ratio``, ``k``) for the ``ranked`` criterion; given, the criterion is
        on (weight 1 unless ``[weights] ranked`` says otherwise).
    rules : list
        Rule objects from :mod:`pairwise.rules`.
    solve : dict
        ``objective``, ``time_limit``, ``seed``, ``method``, ``workers``.
    circles : dict
        Options of :meth:`pairwise.CircleProblem.from_compatibility`.
    output : Path or None
    include : tuple of str
        ``[output] include``: columns of the export (e.g. ``"Full name"``) carried into
        the written result beside the ids (:func:`pairwise.write_result`'s ``include``).
    """

    path: Path
    name: str
    kind: str
    input: dict[str, Any]
    weights: dict[str, float]
    rules: list[Any]
    solve: dict[str, Any] = field(default_factory=dict)
    circles: dict[str, Any] = field(default_factory=dict)
    output: Path | None = None
    include: tuple[str, ...] = ()
    ranked: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_toml(cls, path: str | Path) -> Programme:
        """Read and validate a programme file.

        Raises
        ------
        ValidationError
            Listing every problem: unreadable TOML, unknown tables or fields, wrong types,
            a missing input file, unknown rules or rule options.

        Examples
        --------
        >>> import pathlib, tempfile, pairwise
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> pairwise.make_cohort(20, 8, seed=0).to_frame(flat=True).to_csv(
        ...     folder / "answers.csv", index=False)
        >>> _ = (folder / "programme.toml").write_text('''
        ... [programme]
        ... name = "demo"
        ... [input]
        ... file = "answers.csv"
        ... [[rules]]
        ... type = "SharedLanguage"
        ... ''')
        >>> programme = pairwise.Programme.from_toml(folder / "programme.toml")
        >>> programme.kind, [r.name for r in programme.rules]
        ('pairs', ['shared language'])
        >>> pairwise.check(programme.problem(), programme.run())
        []
        """
        file = Path(path)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise ValidationError(
                [Problem("cannot read the programme file", value=str(file), expected=str(exc))]
            ) from None
        try:
            text = raw.decode("utf-8")
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(
                [Problem("not valid TOML", value=file.name, expected=str(exc))]
            ) from None
        return cls.from_dict(data, base=file.resolve(), lines=Lines(text))

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, base: Path, lines: Lines | None = None
    ) -> Programme:
        """Validate a parsed programme (see :meth:`from_toml`); ``base`` is its file.

        ``lines`` locates its tables and keys in the file's text, for the problems.
        """
        problems: list[Problem] = []
        at = lines or Lines()
        tables = _tables(data, at, problems)
        name, kind = _programme_table(tables["programme"], base, at, problems)
        inp, fields = _input_table(tables["input"], base, at, problems)
        weights = _weights_table(tables["weights"], at, problems)
        ranked = _ranked_table(tables["ranked"], at, problems)
        rule_objects = _rules_table(tables["rules"], kind, base, at, problems, fields)
        solve = _solve_table(tables["solve"], kind, at, problems)
        output = _output_table(tables["output"], base, at, problems)
        include = _include(tables["output"], at, problems)
        circles = _circles_table(tables["circles"], kind, at, problems)
        if problems:
            raise ValidationError(problems)
        return cls(
            path=base,
            name=name,
            kind=kind,
            input=inp,
            weights=weights,
            ranked=ranked,
            rules=rule_objects,
            solve=solve,
            circles=circles,
            output=output,
            include=include,
        )

    def cohort(self, *, left: Any = (), show_values: bool = False) -> Any:
        """Read the input file into a :class:`~pairwise.cohort.Cohort`.

        With every ``[input]`` option: the column mapping (several questions may feed one
        field), ``[input.values]`` recoding, a constant ``role``, ``keep_latest``
        (resubmissions) and ``fold_labels`` (on by default); see
        :meth:`pairwise.Cohort.from_frame`. What was left out or merged is in the cohort's
        ``notes``. ``left``: ids of people who left the programme (a result's events), who
        may be gone from the export; links to them are dropped. ``show_values``: show the
        offending answer in problems about cells (see :meth:`pairwise.Cohort.from_frame`).

        Raises
        ------
        ValidationError
            Every problem of the file or its rows, by spreadsheet row number and column,
            in the programme file's terms; never a participant's answer.
        """
        from pairwise.cohort import Cohort
        from pairwise.io import read_table

        inp = self.input
        try:
            frame = read_table(
                inp["file"],
                sheet=inp.get("sheet", 0),
                encoding=inp.get("encoding"),
                delimiter=inp.get("delimiter"),
            )
            return Cohort.from_frame(
                frame,
                columns=inp.get("columns") or None,
                list_sep=inp.get("list_sep", ";"),
                values=inp.get("values") or None,
                role=inp.get("role"),
                keep_latest=inp.get("keep_latest"),
                fold_labels=inp.get("fold_labels", True),
                left=left,
                show_values=show_values,
            )
        except ValidationError as err:
            raise ValidationError(
                [
                    replace(
                        p,
                        message=_toml_terms(p.message),
                        expected=_toml_terms(p.expected) if p.expected else p.expected,
                    )
                    for p in err.problems
                ]
            ) from None

    def problem(self, cohort: Any = None) -> Any:
        """Score the cohort and build the programme's problem (pairs or circles)."""
        from pairwise.circles import CircleProblem
        from pairwise.problem import PairProblem
        from pairwise.scoring import RankedPreference, affinity, score

        people = self.cohort() if cohort is None else cohort
        weights = self.weights or None
        criteria = [RankedPreference(**self.ranked)] if self.ranked else None
        objective = self.solve.get("objective")
        if self.kind == "pairs":
            compat = score(people, weights, criteria=criteria)
            kwargs = {"objective": objective} if objective else {}
            return PairProblem.from_compatibility(compat, self.rules, **kwargs)
        options = dict(self.circles)
        led = options.get("mentors") == "one-per-circle"
        roles = ("mentee", "mentor") if led else _peer_roles(people)
        aff = affinity(people, weights, criteria=criteria, roles=roles)
        if options.pop("fit", False) and led:
            options["fit"] = score(people, weights, criteria=criteria)
        if objective:
            options["objective"] = objective
        return CircleProblem.from_compatibility(aff, self.rules, **options)

    def run(
        self,
        cohort: Any = None,
        *,
        write: bool = True,
        progress: Callable[[dict[str, float]], None] | None = None,
    ) -> Any:
        """Read, score, build, solve, and write the output file (when one is set).

        ``progress`` is passed to :func:`pairwise.solve`.

        Returns
        -------
        Matching or Circles
        """
        from pairwise.io import write_result
        from pairwise.solvers import solve

        cohort = self.cohort() if cohort is None and write and self.include else cohort
        problem = self.problem(cohort)
        opts = {k: v for k, v in self.solve.items() if k != "objective"}
        result = solve(problem, progress=progress, **opts)
        if write and self.output is not None:
            included = self.included(cohort) if self.include else None
            write_result(result, self.output, meta=self.meta(self.output), include=included)
        return result

    def included(self, cohort: Any = None) -> pd.DataFrame | None:
        """The ``[output] include`` columns of the export, by id (None when none is set).

        Raises
        ------
        ValidationError
            For a column the export does not have (its name and the closest ones).
        """
        if not self.include:
            return None
        people = self.cohort() if cohort is None else cohort
        extra = people.extra
        missing = [c for c in self.include if c not in extra.columns]
        if missing:
            raise ValidationError(
                [
                    Problem(
                        "[output] include: no such column in the export"
                        + did_you_mean(c, [str(x) for x in extra.columns]),
                        column=c,
                        expected="a column of the export not mapped to a field",
                    )
                    for c in missing
                ]
            )
        frame: pd.DataFrame = extra[list(self.include)].copy()
        frame.index = [str(x) for x in people.ids]
        return frame

    def meta(self, out: str | os.PathLike[str]) -> dict[str, str]:
        """What a result file written to ``out`` records of its programme.

        The programme file relative to the file's folder (no absolute path of the
        manager's machine goes into a file that may be shared), so ``pairwise check`` and
        ``rematch`` find it wherever the folder goes; on another drive, its name alone
        (looked up beside the result).
        """
        try:
            where = Path(os.path.relpath(self.path.resolve(), Path(out).resolve().parent))
        except ValueError:
            where = Path(self.path.name)
        return {"programme": where.as_posix(), "kind": self.kind}

    def replace(self, **changes: Any) -> Programme:
        """A copy with some fields changed (e.g. ``weights`` in a sweep)."""
        return dataclasses.replace(self, **changes)


def _peer_roles(people: Any) -> tuple[str, ...]:
    present = set(str(r) for r in people.role)
    return ("peer",) if "peer" in present else tuple(sorted(present))


# ---------------------------------------------------------------- where things are in the file

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_PART = re.compile(rf"\s*({_BARE}|{_QUOTED})\s*")
_KEY = re.compile(rf"^\s*((?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*)\s*=")
_HEADER = re.compile(r"^\s*(\[\[?)(.*?)\]\]?\s*(?:#.*)?$")


class Lines:
    r"""Where each table and key of a programme file stands (tomllib keeps no positions).

    The file is valid TOML when this runs (tomllib has read it), so a line scan suffices:
    table headers (``[input]``, ``[[rules]]``, counted), and keys at the start of a line
    outside multi-line strings and arrays. Keys inside an inline table are found at the
    line of the table's own key.

    Examples
    --------
    >>> lines = Lines('[input]\nfile = "a.csv"\n\n[[rules]]\ntype = "X"\n[[rules]]\nk = 2\n')
    >>> lines.line("input", "file"), lines.line("rules", 1), lines.line("rules", 1, "k")
    (2, 6, 7)
    >>> lines.rule(1)
    '[[rules]] #2 (line 6)'
    >>> Lines("").key("input", "columns", "Email ")
    '[input.columns] "Email "'
    """

    def __init__(self, text: str = "") -> None:
        self.at: dict[tuple[Any, ...], int] = {}
        counts: dict[tuple[str, ...], int] = {}
        table: tuple[Any, ...] = ()
        depth, quote = 0, ""
        for number, line in enumerate(text.splitlines(), start=1):
            if not depth and not quote:
                header = _HEADER.match(line)
                if header and header.group(2).strip():
                    name = tuple(_parts(header.group(2)))
                    if header.group(1) == "[[":
                        counts[name] = counts.get(name, -1) + 1
                        table = (*name, counts[name])
                    else:
                        table = name
                    self.at.setdefault(table, number)
                    continue
                key = _KEY.match(line)
                if key:
                    self.at.setdefault((*table, *_parts(key.group(1))), number)
            depth, quote = _scan(line, depth, quote)

    def line(self, *path: Any) -> int | None:
        """The line of ``path`` (table, key, ...), or of its nearest enclosing one located."""
        for k in range(len(path), 0, -1):
            if path[:k] in self.at:
                return self.at[path[:k]]
        return None

    def _suffix(self, *path: Any) -> str:
        number = self.line(*path)
        return "" if number is None else f" (line {number})"

    def key(self, *path: str) -> str:
        """``[table] key (line 7)`` for a key of a table (``path`` = table parts, key)."""
        *table, name = path
        shown = name if re.fullmatch(_BARE, name) else f'"{name}"'
        return f"[{'.'.join(table)}] {shown}{self._suffix(*path)}"

    def table(self, *path: str) -> str:
        """``[table] (line 3)``."""
        return f"[{'.'.join(path)}]{self._suffix(*path)}"

    def rule(self, k: int, option: str | None = None) -> str:
        """``[[rules]] #2 (line 31)`` (``k`` counted from 0), with an option's line."""
        where = f"[[rules]] #{k + 1}{self._suffix('rules', k)}"
        if option is not None:
            where += f", option {option!r}{self._suffix('rules', k, option)}"
        return where


def _parts(dotted: str) -> list[str]:
    """The parts of a dotted TOML key or table name, quotes removed."""
    out = []
    for match in _PART.finditer(dotted):
        part = match.group(1)
        out.append(part[1:-1] if part[:1] in "\"'" else part)
    return out


def _scan(line: str, depth: int, quote: str) -> tuple[int, str]:
    """Bracket depth and open multi-line string after ``line`` (comments and strings skipped)."""
    i = 0
    while i < len(line):
        if quote:
            if line.startswith(quote, i):
                i, quote = i + len(quote), ""
                continue
            i += 2 if line[i] == "\\" and quote.startswith('"') else 1
            continue
        c = line[i]
        if c == "#":
            break
        if line.startswith(('"""', "'''"), i):
            quote, i = line[i : i + 3], i + 3
            continue
        if c in "\"'":
            quote, i = c, i + 1
            continue
        depth += (c in "[{") - (c in "]}")
        i += 1
    return depth, quote if len(quote) == 3 else ""


# ---------------------------------------------------------------- the tables


def _at(where: str, message: str, **fields: Any) -> Problem:
    """A problem of the programme file, located (``where``) in TOML terms."""
    return Problem(f"{where}: {message}", **fields)


def _tables(data: dict[str, Any], lines: Lines, problems: list[Problem]) -> dict[str, Any]:
    """Every known table (empty where absent); record unknown tables, shapes and fields."""
    for key in data:
        if key not in _TABLES:
            problems.append(
                _at(
                    lines.table(key),
                    f"unknown table{did_you_mean(key, _TABLES)}",
                    expected=", ".join(sorted(_TABLES)),
                )
            )
    tables: dict[str, Any] = {}
    for key, allowed in _TABLES.items():
        value = data.get(key, [] if key == "rules" else {})
        expected_type = list if key == "rules" else dict
        if not isinstance(value, expected_type):
            shape = "[[rules]] tables" if key == "rules" else f"a [{key}] table"
            problems.append(_at(lines.table(key), "has the wrong shape", expected=shape))
            value = expected_type()
        if allowed and isinstance(value, dict):
            for k in value:
                if k not in allowed:
                    problems.append(
                        _at(
                            lines.key(key, k),
                            f"unknown field in [{key}]{did_you_mean(k, allowed)}",
                            expected=", ".join(sorted(allowed)),
                        )
                    )
        tables[key] = value
    return tables


def _programme_table(
    head: dict[str, Any], base: Path, lines: Lines, problems: list[Problem]
) -> tuple[str, str]:
    """``[programme]``: the name (the file's stem by default) and the kind."""
    name = _get(head, "name", str, ("programme",), lines, problems, default=base.stem)
    kind = _get(head, "kind", str, ("programme",), lines, problems, default="pairs")
    if kind not in _KINDS:
        problems.append(
            _at(
                lines.key("programme", "kind"),
                f"unknown kind{did_you_mean(kind, _KINDS)}",
                value=kind,
                expected="pairs or circles",
            )
        )
    return name, kind


def _input_table(
    table: dict[str, Any], base: Path, lines: Lines, problems: list[Problem]
) -> tuple[dict[str, Any], dict[str, str | None] | None]:
    """``[input]``, with ``file`` resolved against the programme file's folder.

    The export's header is read to check the mapping against it (see :func:`_header`);
    also returned: each header column -> the field it feeds or None (an extra column),
    None when the header could not be read.
    """
    inp = dict(table)
    where = ("input",)
    source = _get(inp, "file", str, where, lines, problems, default="")
    for key, kind, default in _INPUT_TYPES:
        inp[key] = _get(inp, key, kind, where, lines, problems, default=default)
    if inp.get("encoding") is not None and not _known_encoding(inp["encoding"]):
        problems.append(
            _at(
                lines.key("input", "encoding"),
                "unknown encoding",
                value=inp["encoding"],
                expected='e.g. "utf-8" or "cp1252"',
            )
        )
        inp["encoding"] = None
    delimiter = inp.get("delimiter")
    if delimiter is not None and (len(delimiter) != 1 or delimiter == inp["list_sep"]):
        problems.append(
            _at(
                lines.key("input", "delimiter"),
                "bad delimiter",
                value=delimiter,
                expected="one character, other than list_sep",
            )
        )
    if not source:
        problems.append(_at(lines.table("input"), "[input] needs a file"))
        header = None
    else:
        inp["file"] = (base.parent / source).resolve()
        header = _header(inp, lines, problems)
    for p in mapping_problems(
        header,
        columns=inp["columns"],
        values=inp["values"],
        role=inp["role"],
        keep_latest=inp["keep_latest"],
    ):
        problems.append(_mapping_problem(p, inp, lines))
    if header is None:
        return inp, None
    columns = inp["columns"] if isinstance(inp["columns"], dict) else None
    try:
        fields = column_fields(header, columns=columns, role=inp["role"])
    except (TypeError, ValueError, AttributeError):  # a mapping already reported as bad
        return inp, None
    return inp, fields


#: ``[input]`` fields besides ``file``: name, type, default.
_INPUT_TYPES: tuple[tuple[str, type | tuple[type, ...], Any], ...] = (
    ("columns", dict, {}),
    ("values", dict, {}),
    ("list_sep", str, ";"),
    ("sheet", (str, int), 0),
    ("encoding", str, None),
    ("delimiter", str, None),
    ("role", str, None),
    ("keep_latest", str, None),
    ("fold_labels", bool, True),
)


def _known_encoding(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _header(inp: dict[str, Any], lines: Lines, problems: list[Problem]) -> list[Any] | None:
    """The export's column names (None, recorded, when it cannot be read)."""
    from pairwise.io import read_table

    file: Path = inp["file"]
    where = lines.key("input", "file")
    if not file.is_file():
        problems.append(_at(where, "input file not found", value=file.name))
        return None
    if file.suffix.lower() in (".xlsx", ".xlsm") and not _sheet_found(inp, lines, problems):
        return None
    try:
        frame = read_table(
            file, sheet=inp["sheet"], encoding=inp["encoding"], delimiter=inp["delimiter"]
        )
    except ValidationError as err:
        problems.extend(_at(where, _toml_terms(str(p))) for p in err.problems)
        return None
    return list(frame.columns)


def _sheet_found(inp: dict[str, Any], lines: Lines, problems: list[Problem]) -> bool:
    """Whether ``[input] sheet`` names a sheet of the workbook (else the sheets are listed)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(inp["file"], read_only=True)
        names = list(book.sheetnames)
        book.close()
    except Exception:  # any unreadable workbook: read_table says why
        return True
    sheet = inp["sheet"]
    if (isinstance(sheet, str) and sheet in names) or (
        isinstance(sheet, int) and 0 <= sheet < len(names)
    ):
        return True
    problems.append(
        _at(
            lines.key("input", "sheet"),
            f"no such sheet{did_you_mean(sheet, names) if isinstance(sheet, str) else ''}",
            value=sheet,
            expected="one of the workbook's sheets: " + ", ".join(repr(n) for n in names),
        )
    )
    return False


#: Python argument names in messages of the reading functions -> the programme file's keys.
_TERMS = (
    ("pass encoding= (e.g. 'cp1252')", 'set [input] encoding = "cp1252" (or the file\'s own)'),
    ("pass encoding= matching the file", "set [input] encoding to the file's encoding"),
    ("(keep_latest=)", "([input] keep_latest = the timestamp column)"),
    ("keep_latest=", "[input] keep_latest"),
    ("in columns=", "in [input.columns]"),
    ("values=", "[input.values]"),
)


def _toml_terms(text: str) -> str:
    """A reading function's message with its argument names put as programme-file keys."""
    for python, toml in _TERMS:
        text = text.replace(python, toml)
    return re.sub(r"values\['([a-z]+)'\]", r"[input.values] \1", text)


def _mapping_problem(p: Problem, inp: dict[str, Any], lines: Lines) -> Problem:
    """A problem of :func:`pairwise.cohort.mapping_problems`, at its key of ``[input]``."""
    column = p.column or ""
    if column in inp["columns"]:
        where = lines.key("input", "columns", column)
    elif column in inp["values"]:
        where = lines.key("input", "values", column)
    elif "timestamp" in p.message:
        where = lines.key("input", "keep_latest")
    elif "constant role" in p.message:
        where = lines.key("input", "role")
    else:
        where = lines.table("input", "columns") if inp["columns"] else lines.table("input")
    named = f" {column!r}" if column and column not in where else ""
    shown = {"value": p.value} if p.has_value else {}
    return _at(
        where,
        _toml_terms(p.message) + named,
        expected=_toml_terms(p.expected or "") or None,
        **shown,
    )


def _weights_table(
    table: dict[str, Any], lines: Lines, problems: list[Problem]
) -> dict[str, float]:
    """``[weights]``: criterion -> weight, each a number >= 0, of a known criterion."""
    from pairwise.scoring import DEFAULT_WEIGHTS

    weights: dict[str, float] = {}
    for k, v in table.items():
        where = lines.key("weights", k)
        known = [*DEFAULT_WEIGHTS, "ranked"]  # ranked: built in, off by default
        if k not in known:
            problems.append(
                _at(
                    where,
                    f"unknown criterion{did_you_mean(k, known)}",
                    expected=", ".join(known),
                )
            )
        elif isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
            problems.append(_at(where, "weight must be a number >= 0", value=v))
        else:
            weights[k] = float(v)
    return weights


def _ranked_table(table: dict[str, Any], lines: Lines, problems: list[Problem]) -> dict[str, Any]:
    """``[ranked]``: the options of :class:`~pairwise.scoring.RankedPreference`, checked."""
    from pairwise.scoring import RankedPreference

    options = {k: v for k, v in table.items() if k in _TABLES["ranked"]}  # others: reported
    try:
        RankedPreference(**options)
    except ValidationError as err:
        for p in err.problems:
            key = p.message.removeprefix("bad ")
            problems.append(_at(lines.key("ranked", key), p.message, value=p.value,
                                expected=p.expected))  # fmt: skip
        return {}
    return options


def _rules_table(
    specs: list[Any],
    kind: str,
    base: Path,
    lines: Lines,
    problems: list[Problem],
    fields: dict[str, str | None] | None = None,
) -> list[Any]:
    """``[[rules]]``: the rule objects that could be built.

    ``NoRepeat``'s ``earlier`` result files are relative to the programme file (``base``).
    ``fields``: the export's header (see :func:`_input_table`), against which the
    ``column`` of a rule on any column is checked.
    """
    rule_objects = []
    for k, spec in enumerate(specs):
        rule = _rule(k, spec, kind, lines, problems)
        if rule is not None and fields is not None and type(rule).__name__ in _COLUMN_RULES:
            found = _column_problem(rule, fields)
            if found:
                problems.append(_at(lines.rule(k, "column"), found[0], expected=found[1]))
                continue
        if isinstance(rule, rules_module.NoRepeat) and rule.earlier:
            earlier: object = rule.earlier  # typed a tuple, but read from the file
            if isinstance(earlier, str) or not all(isinstance(f, str) for f in rule.earlier):
                problems.append(
                    _at(
                        lines.rule(k, "earlier"), "bad NoRepeat earlier", expected="a list of files"
                    )
                )
                continue
            files = tuple(str((base.parent / f).resolve()) for f in rule.earlier)
            for name, file in zip(rule.earlier, files, strict=True):
                if not Path(file).is_file():
                    problems.append(
                        _at(lines.rule(k, "earlier"), "earlier result file not found", value=name)
                    )
            rule = replace(rule, earlier=files)
        if rule is not None:
            rule_objects.append(rule)
    return rule_objects


def _column_problem(rule: Any, fields: dict[str, str | None]) -> tuple[str, str] | None:
    """Why a rule on any column cannot read its ``column`` (message, expected), or None.

    The columns it can read: the cohort's standard ones (``rules.STANDARD_COLUMNS``; not
    for ``Range``, which needs numbers) and the export's columns that no field reads.
    """
    name, column = type(rule).__name__, str(rule.column)
    numeric = name == "Range"
    extra = [label for label, field in fields.items() if field is None]
    known = extra if numeric else [*rules_module.STANDARD_COLUMNS, *extra]
    if column in known:
        return None
    expected = "one of " + ", ".join(known) if known else "a column of the export"
    if numeric and column in rules_module.STANDARD_COLUMNS:
        return f"{name}: {column!r} is not a column of numbers", "a column of the export (numbers)"
    field = fields.get(column)
    if field is not None:
        usable = field in rules_module.STANDARD_COLUMNS and not numeric
        hint = f': use column = "{field}"' if usable else ""
        return f"{name}: the export's {column!r} is read as the field {field!r}{hint}", expected
    return f"{name}: no column {column!r} in the export{did_you_mean(column, known)}", expected


def _rule(k: int, spec: Any, kind: str, lines: Lines, problems: list[Problem]) -> Any:
    """One ``[[rules]]`` entry built, or None with every problem of it recorded."""
    where = lines.rule(k)
    if not isinstance(spec, dict) or "type" not in spec:
        problems.append(_at(where, "[[rules]] entry needs a type", expected='type = "RuleName"'))
        return None
    name = spec["type"]
    cls = RULES.get(name) if isinstance(name, str) else None
    if cls is None:
        problems.append(
            _at(
                where,
                f"unknown rule {name!r}{did_you_mean(name, RULES)}",
                expected="one of " + ", ".join(sorted(RULES)),
            )
        )
        return None
    wrong_kind = _kind_problem(cls, kind)
    if wrong_kind:
        problems.append(_at(where, wrong_kind))
    before = len(problems)
    args = _options(k, cls, spec, lines, problems)
    if len(problems) > before or wrong_kind:
        return None
    try:
        return cls(**args)
    except ValidationError as err:  # the rule's own checks: at the option they name
        options = [o for o in args if o != "name"]
        for p in err.problems:
            named = _named_option(options, p)
            problems.append(_at(lines.rule(k, named), f"{name}: {_rule_terms(str(p))}"))
    except (TypeError, ValueError):
        problems.append(
            _at(where, f"bad options for {name}", expected=f"the options of rules.{name}")
        )
    return None


#: A rule's Python terms in its messages -> the programme file's.
_RULE_TERMS = (
    ("None (hard) or a number > 0", "no weight (a hard rule), or a number > 0"),
    ("hard only (weight=None)", "hard only (leave weight out)"),
)


def _rule_terms(text: str) -> str:
    for python, toml in _RULE_TERMS:
        text = text.replace(python, toml)
    return text


def _named_option(options: list[str], p: Problem) -> str | None:
    """The option a rule's problem is about: named in its message, else anywhere in it.

    The rule's display name before ``": "`` is skipped (it holds the column's name, which
    may read like an option).
    """
    message = p.message.split(": ", 1)[-1]
    for text in (message, str(p).split(": ", 1)[-1]):
        named = next((o for o in options if re.search(rf"\b{o}\b", text)), None)
        if named is not None:
            return named
    return None


def _kind_problem(cls: type, kind: str) -> str:
    """Why rule class ``cls`` cannot be used in a programme of ``kind`` ("" when it can)."""
    pairs_form = callable(getattr(cls, "compile", None))
    circle_form = callable(getattr(cls, "compile_circles", None)) or (
        pairs_form and bool(getattr(cls, "relates_two", False))
    )
    if kind == "pairs" and not pairs_form:
        return f"{cls.__name__} is a circles rule: a pairs programme cannot use it"
    if kind == "circles" and not circle_form:
        return f'{cls.__name__} is a pairs rule: it has no circle form (kind = "circles")'
    return ""


def _options(
    k: int, cls: type, spec: dict[str, Any], lines: Lines, problems: list[Problem]
) -> dict[str, Any]:
    """A rule's options from its table, each name and type checked against the rule's fields."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    args: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "type":
            continue
        where = lines.rule(k, key)
        if key not in fields:
            problems.append(
                _at(
                    where,
                    f"{cls.__name__} has no option {key!r}{did_you_mean(key, fields)}",
                    expected="one of " + ", ".join(fields) if fields else "no options",
                )
            )
            continue
        wanted = _option_type(fields[key])
        if wanted and not _option_ok(value, *wanted):
            problems.append(
                _at(where, f"bad {cls.__name__} {key} (must be {wanted[1]})", value=value)
            )
            continue
        args[key] = _tuples(value)
    for f in fields.values():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in spec:
            problems.append(
                _at(
                    lines.rule(k),
                    f"{cls.__name__} needs option {f.name!r}",
                    expected=f"{f.name} = ...",
                )
            )
    return args


def _option_type(f: dataclasses.Field[Any]) -> tuple[tuple[type, ...], str, set[str]] | None:
    """The TOML types an option accepts (from its annotation), how to say so, its texts.

    The texts: the only ones it takes when its text is a ``Literal`` (empty: any text).
    """
    allowed: list[type] = []
    words: list[str] = []
    literals: set[str] = set()
    for member in _top_level(str(f.type), "|"):
        head = member.partition("[")[0].strip()
        if head == "Literal":
            allowed.append(str)
            words.append(member.partition("[")[2].rstrip("]").replace(", ", " or "))
            literals |= set(re.findall(r"'([^']*)'", member))
        elif head in _ANNOTATION_TYPES:
            types, word = _ANNOTATION_TYPES[head]
            allowed += types
            words.append(word)
            literals |= {""} if str in types else set()  # any text: no literal list
        elif head != "None":
            return None  # a type the file cannot spell: the rule checks it
    if not allowed:
        return None
    only = set() if "" in literals else literals  # a plain text member takes any text
    return tuple(allowed), " or ".join(dict.fromkeys(words)), only


def _top_level(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += (c == "[") - (c == "]")
        if c == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    return [*out, text[start:]]


#: Annotation names -> the TOML values they accept, and how to say so.
_ANNOTATION_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "bool": ((bool,), "true or false"),
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a finite number"),
    "str": ((str,), "a text"),
    "tuple": ((list,), "a list"),
    "Sequence": ((list,), "a list"),
}


def _option_ok(value: Any, types: tuple[type, ...], _: str, literals: set[str]) -> bool:
    """Whether a rule option's value has a type it takes, a finite number, a listed text."""
    if not _is_a(value, types):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return not (isinstance(value, str) and literals and value not in literals)


def _is_a(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _solve_table(
    table: dict[str, Any], kind: str, lines: Lines, problems: list[Problem]
) -> dict[str, Any]:
    """``[solve]``: each field type-checked, the objective and method for the kind."""
    from pairwise._validate import seed_problems, time_limit_problems, workers_problems
    from pairwise.circles import CIRCLE_OBJECTIVES
    from pairwise.problem import OBJECTIVES
    from pairwise.solvers import CIRCLE_METHODS, METHODS

    solve = dict(table)
    circles = kind == "circles"
    for key, known in (
        ("objective", CIRCLE_OBJECTIVES if circles else OBJECTIVES),
        ("method", CIRCLE_METHODS if circles else METHODS),
    ):
        value = _get(solve, key, str, ("solve",), lines, problems, default=None)
        if value is not None and value not in known and kind in _KINDS:
            problems.append(
                _at(
                    lines.key("solve", key),
                    f"unknown {key} for {kind}{did_you_mean(value, known)}",
                    value=value,
                    expected=", ".join(known),
                )
            )
    for key, check in (
        ("time_limit", time_limit_problems),
        ("seed", seed_problems),
        ("workers", workers_problems),
    ):
        if key in solve:
            found = check(solve[key])
            problems.extend(_at(lines.key("solve", key), str(p)) for p in found)
    return solve


def _circles_table(
    table: dict[str, Any], kind: str, lines: Lines, problems: list[Problem]
) -> dict[str, Any]:
    """``[circles]``: only in a circles programme, each field type-checked."""
    if table and kind != "circles":
        problems.append(_at(lines.table("circles"), "[circles] needs kind = 'circles'"))
    for key, types, word in _CIRCLE_TYPES:
        if key in table and not _is_a(table[key], types):
            problems.append(
                _at(lines.key("circles", key), f"bad {key} (must be {word})", value=table[key])
            )
    mentors = table.get("mentors")
    if mentors is not None and mentors != "one-per-circle":
        problems.append(
            _at(lines.key("circles", "mentors"), "unknown mentors", value=mentors,
                expected='"one-per-circle"')
        )  # fmt: skip
    return dict(table)


#: ``[circles]`` fields: name, the TOML types taken, how to say so (the solver checks values).
_CIRCLE_TYPES: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("min_size", (int, list), "a whole number or a list of them"),
    ("max_size", (int, list), "a whole number or a list of them"),
    ("n_circles", (int,), "a whole number"),
    ("mentors", (str,), '"one-per-circle"'),
    ("leads", (int, list), "a whole number or a list of them"),
    ("fit", (bool,), "true or false"),
    ("all_placed", (bool,), "true or false"),
    ("balanced", (bool,), "true or false"),
)


def _include(table: dict[str, Any], lines: Lines, problems: list[Problem]) -> tuple[str, ...]:
    """``[output] include``: a list of column names."""
    value = table.get("include", [])
    if not isinstance(value, list) or not all(isinstance(c, str) and c for c in value):
        problems.append(
            _at(lines.key("output", "include"), "bad output include",
                expected='a list of column names, e.g. ["Full name"]')
        )  # fmt: skip
        return ()
    return tuple(value)


def _output_table(
    table: dict[str, Any], base: Path, lines: Lines, problems: list[Problem]
) -> Path | None:
    """``[output] file``, resolved against the programme file's folder; None when absent."""
    out = table.get("file")
    if out is None:
        return None
    if not isinstance(out, str) or Path(out).suffix.lower() not in (".xlsx", ".json", ".csv"):
        problems.append(
            _at(lines.key("output", "file"), "bad output file", value=out,
                expected=".xlsx, .json or .csv")
        )  # fmt: skip
        return None
    return (base.parent / out).resolve()


def _get(
    table: dict[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    where: tuple[str, ...],
    lines: Lines,
    problems: list[Problem],
    *,
    default: Any,
) -> Any:
    if key not in table:
        return default
    value = table[key]
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        problems.append(
            _at(
                lines.key(*where, key),
                f"[{'.'.join(where)}] {key} has the wrong type",
                value=value,
                expected=_TOML_TYPES.get(names, names),
            )
        )
        return default
    return value


#: Python type names -> the TOML words for them.
_TOML_TYPES = {
    "str": "a text in quotes",
    "int": "a whole number",
    "bool": "true or false",
    "dict": "a table",
    "int or float": "a number",
    "str or int": "a text or a whole number",
}


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
