"""A programme described in a TOML file: input, column mapping, weights, rules, objective.

:meth:`Programme.from_toml` validates every field and lists every problem at once;
:meth:`Programme.run` reads the questionnaire export, scores it, builds the problem, solves
it and writes the output. The file holds no matching logic: it names the same building
blocks the Python API offers.

.. code-block:: toml

    [programme]
    name = "Cross-chapter leadership mentoring"
    kind = "pairs"                      # or "circles"

    [input]
    file = "answers.csv"                # relative to this file
    list_sep = ";"
    [input.columns]                     # your column name -> canonical name
    "Member number" = "id"

    [weights]                           # criteria weights (normalised to sum 1)
    topics = 5
    region = 1

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

Circle programmes add a ``[circles]`` table (``min_size``, ``max_size``, ``n_circles``,
``mentors = "one-per-circle"``, ``leads``, ``fit``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pairwise import rules as rules_module
from pairwise.errors import Problem, ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["RULES", "Programme"]

#: Rule classes a programme file may name in ``[[rules]] type = ...``.
RULES: dict[str, type] = {
    name: getattr(rules_module, name)
    for name in rules_module.__all__
    if name not in ("Compiled", "CircleCompiled", "CountRule", "SetRule", "PairRule", "CircleRule")
}

_TABLES: dict[str, set[str]] = {
    "programme": {"name", "kind"},
    "input": {"file", "columns", "list_sep", "sheet", "encoding", "delimiter"},
    "weights": set(),
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
    "output": {"file"},
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
    rules : list
        Rule objects from :mod:`pairwise.rules`.
    solve : dict
        ``objective``, ``time_limit``, ``seed``, ``method``, ``workers``.
    circles : dict
        Options of :meth:`pairwise.CircleProblem.from_compatibility`.
    output : Path or None
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
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(
                [Problem("not valid TOML", value=file.name, expected=str(exc))]
            ) from None
        return cls.from_dict(data, base=file.resolve())

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, base: Path) -> Programme:
        """Validate a parsed programme (see :meth:`from_toml`); ``base`` is its file."""
        problems: list[Problem] = []
        tables = _tables(data, problems)
        name, kind = _programme_table(tables["programme"], base, problems)
        inp = _input_table(tables["input"], base, problems)
        weights = _weights_table(tables["weights"], problems)
        rule_objects = _rules_table(tables["rules"], problems, base)
        solve = _solve_table(tables["solve"], problems)
        output = _output_table(tables["output"], base, problems)
        circles = dict(tables["circles"])
        if circles and kind != "circles":
            problems.append(Problem("[circles] needs kind = 'circles'", column="circles"))
        if problems:
            raise ValidationError(problems)
        return cls(
            path=base,
            name=name,
            kind=kind,
            input=inp,
            weights=weights,
            rules=rule_objects,
            solve=solve,
            circles=circles,
            output=output,
        )

    def cohort(self) -> Any:
        """Read the input file into a :class:`~pairwise.cohort.Cohort`."""
        from pairwise.io import read_cohort

        opts = {k: v for k, v in self.input.items() if k not in ("file",)}
        return read_cohort(self.input["file"], **opts)

    def problem(self, cohort: Any = None) -> Any:
        """Score the cohort and build the programme's problem (pairs or circles)."""
        from pairwise.circles import CircleProblem
        from pairwise.problem import PairProblem
        from pairwise.scoring import affinity, score

        people = self.cohort() if cohort is None else cohort
        weights = self.weights or None
        objective = self.solve.get("objective")
        if self.kind == "pairs":
            compat = score(people, weights)
            kwargs = {"objective": objective} if objective else {}
            return PairProblem.from_compatibility(compat, self.rules, **kwargs)
        options = dict(self.circles)
        led = options.get("mentors") == "one-per-circle"
        roles = ("mentee", "mentor") if led else _peer_roles(people)
        aff = affinity(people, weights, roles=roles)
        if options.pop("fit", False) and led:
            options["fit"] = score(people, weights)
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

        problem = self.problem(cohort)
        opts = {k: v for k, v in self.solve.items() if k != "objective"}
        result = solve(problem, progress=progress, **opts)
        if write and self.output is not None:
            write_result(result, self.output, meta=self.meta(self.output))
        return result

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


def _tables(data: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """Every known table (empty where absent); record unknown tables, shapes and fields."""
    for key in data:
        if key not in _TABLES:
            problems.append(
                Problem("unknown table", value=key, expected=", ".join(sorted(_TABLES)))
            )
    tables: dict[str, Any] = {}
    for key, allowed in _TABLES.items():
        value = data.get(key, [] if key == "rules" else {})
        expected_type = list if key == "rules" else dict
        if not isinstance(value, expected_type):
            problems.append(Problem(f"[{key}] has the wrong shape", column=key))
            value = expected_type()
        if allowed and isinstance(value, dict):
            for k in value:
                if k not in allowed:
                    problems.append(
                        Problem(
                            f"unknown field in [{key}]",
                            column=key,
                            value=k,
                            expected=", ".join(sorted(allowed)),
                        )
                    )
        tables[key] = value
    return tables


def _programme_table(head: dict[str, Any], base: Path, problems: list[Problem]) -> tuple[str, str]:
    """``[programme]``: the name (the file's stem by default) and the kind."""
    name = _get(head, "name", str, "programme", problems, default=base.stem)
    kind = _get(head, "kind", str, "programme", problems, default="pairs")
    if kind not in _KINDS:
        problems.append(Problem("unknown kind", value=kind, expected="pairs or circles"))
    return name, kind


def _input_table(table: dict[str, Any], base: Path, problems: list[Problem]) -> dict[str, Any]:
    """``[input]``, with ``file`` resolved against the programme file's folder."""
    inp = dict(table)
    source = _get(inp, "file", str, "input", problems, default="")
    if not source:
        problems.append(Problem("[input] needs a file", column="input"))
    else:
        resolved = (base.parent / source).resolve()
        if not resolved.is_file():
            problems.append(Problem("input file not found", column="input", value=str(source)))
        inp["file"] = resolved
    columns = inp.get("columns", {})
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        problems.append(Problem("[input.columns] maps text to text", column="input"))
    _get(inp, "list_sep", str, "input", problems, default=";")
    return inp


def _weights_table(table: dict[str, Any], problems: list[Problem]) -> dict[str, float]:
    """``[weights]``: criterion -> weight, each a number >= 0."""
    weights: dict[str, float] = {}
    for k, v in table.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            problems.append(Problem("weight must be a number >= 0", column=k, value=v))
        else:
            weights[k] = float(v)
    return weights


def _rules_table(specs: list[Any], problems: list[Problem], base: Path) -> list[Any]:
    """``[[rules]]``: the rule objects that could be built.

    ``NoRepeat``'s ``earlier`` result files are relative to the programme file (``base``).
    """
    rule_objects = []
    for k, spec in enumerate(specs):
        rule = _rule(k, spec, problems)
        if isinstance(rule, rules_module.NoRepeat) and rule.earlier:
            earlier: object = rule.earlier  # typed a tuple, but read from the file
            if isinstance(earlier, str) or not all(isinstance(f, str) for f in rule.earlier):
                problems.append(
                    Problem("bad NoRepeat earlier", row=f"rules[{k}]", expected="a list of files")
                )
                continue
            files = tuple(str((base.parent / f).resolve()) for f in rule.earlier)
            rule = replace(rule, earlier=files)
        if rule is not None:
            rule_objects.append(rule)
    return rule_objects


def _solve_table(table: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """``[solve]``, its fields type-checked."""
    solve = dict(table)
    _get(solve, "time_limit", (int, float), "solve", problems, default=None)
    _get(solve, "seed", int, "solve", problems, default=0)
    _get(solve, "objective", str, "solve", problems, default=None)
    _get(solve, "method", str, "solve", problems, default="auto")
    return solve


def _output_table(table: dict[str, Any], base: Path, problems: list[Problem]) -> Path | None:
    """``[output] file``, resolved against the programme file's folder; None when absent."""
    out = table.get("file")
    if out is None:
        return None
    if not isinstance(out, str) or Path(out).suffix.lower() not in (".xlsx", ".json", ".csv"):
        problems.append(
            Problem("bad output file", column="output", value=out, expected=".xlsx/.json/.csv")
        )
        return None
    return (base.parent / out).resolve()


def _get(
    table: dict[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    where: str,
    problems: list[Problem],
    *,
    default: Any,
) -> Any:
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        problems.append(
            Problem(f"[{where}] {key} has the wrong type", column=key, value=value, expected=names)
        )
        return default
    return value


def _rule(k: int, spec: Any, problems: list[Problem]) -> Any:
    if not isinstance(spec, dict) or "type" not in spec:
        problems.append(Problem("[[rules]] entry needs a type", row=str(k)))
        return None
    kind = spec["type"]
    cls = RULES.get(str(kind))
    if cls is None:
        problems.append(
            Problem("unknown rule", row=str(k), value=kind, expected=", ".join(sorted(RULES)))
        )
        return None
    args = {key: _tuples(v) for key, v in spec.items() if key != "type"}
    try:
        return cls(**args)
    except TypeError as exc:
        problems.append(Problem(f"bad options for {kind}", row=str(k), expected=str(exc)))
        return None


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
