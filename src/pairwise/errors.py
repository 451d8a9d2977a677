"""The one small hierarchy of exceptions that pairwise raises.

Every error pairwise raises on purpose is a :class:`PairwiseError`. Bad input raises
:class:`ValidationError`, which lists *every* problem found at once; rule sets that no
solution can satisfy raise :class:`InfeasibleError`, naming the conflicting rules; solver
failures raise :class:`SolverError`.

Messages name participants by id only: never a name or a free-text answer.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_LISTED",
    "InfeasibleError",
    "PairwiseError",
    "Problem",
    "SolverError",
    "ValidationError",
    "did_you_mean",
]

#: Past this many problems, ``str(ValidationError)`` summarises the rest by count.
MAX_LISTED = 20

_MAX_VALUE_CHARS = 40


def _short(value: Any) -> str:
    """Render an offending value briefly; long values are cut so free text never spills."""
    text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


class _NoValue:
    """Sentinel type for "no offending value recorded"; pickles back to the one instance."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"

    def __reduce__(self) -> str:
        return "_NO_VALUE"


_NO_VALUE: Any = _NoValue()


@dataclass(frozen=True)
class Problem:
    """One problem found in the input.

    Parameters
    ----------
    message : str
        What is wrong, in the programme's terms ("unknown role").
    row : str or None
        Participant id where known, else a row label such as ``"row 7"``; None when the
        problem is not about one row.
    column : str or None
        Canonical column name, or the user's own column name when the problem is about
        the mapping itself.
    value : object
        The offending value, shown shortened; omitted when the column holds free text.
    expected : str or None
        What was expected instead.
    """

    message: str
    row: str | None = None
    column: str | None = None
    value: Any = _NO_VALUE
    expected: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(str(self.row))
        if self.column is not None:
            where.append(f"column {self.column!r}")
        head = f"[{', '.join(where)}] " if where else ""
        text = f"{head}{self.message}"
        if self.value is not _NO_VALUE:
            text += f": got {_short(self.value)}"
        if self.expected:
            text += f"; expected {self.expected}"
        return text

    @property
    def has_value(self) -> bool:
        """Whether an offending value was recorded."""
        return self.value is not _NO_VALUE


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the choice closest to ``name``, or ``""``.

    Only for the programme's own vocabulary (rules, fields, column names), never for a
    participant's answer. Case and surrounding spaces are ignored.

    Examples
    --------
    >>> did_you_mean("SharedLangauge", ["SharedLanguage", "SharedSlot"])
    " (did you mean 'SharedLanguage'?)"
    >>> did_you_mean("zzz", ["SharedLanguage"])
    ''
    """
    folded: dict[str, str] = {}
    for choice in choices:
        folded.setdefault(" ".join(str(choice).split()).casefold(), str(choice))
    key = " ".join(str(name).split()).casefold()
    hits = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return f" (did you mean {folded[hits[0]]!r}?)" if hits and folded[hits[0]] != name else ""


class PairwiseError(Exception):
    """Base class of every error pairwise raises on purpose."""


class ValidationError(PairwiseError, ValueError):
    """Bad input: carries every problem found, not just the first.

    Parameters
    ----------
    problems : iterable of Problem or str
        Every problem found. Strings are wrapped as :class:`Problem` messages.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, in the order they were detected.

    Examples
    --------
    >>> from pairwise.errors import Problem, ValidationError
    >>> err = ValidationError([Problem("unknown role", row="m3", column="role",
    ...                                value="mentr", expected="mentee, mentor or peer")])
    >>> print(err)
    1 problem found:
      - [m3, column 'role'] unknown role: got 'mentr'; expected mentee, mentor or peer
    """

    def __init__(self, problems: Iterable[Problem | str] | Problem | str) -> None:
        if isinstance(problems, Problem | str):  # one problem, not an iterable of characters
            problems = [problems]
        self.problems: list[Problem] = [
            p if isinstance(p, Problem) else Problem(str(p)) for p in problems
        ]
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        lines = [f"  - {p}" for p in self.problems[:MAX_LISTED]]
        if n > MAX_LISTED:
            counts: dict[str, int] = {}
            for p in self.problems[MAX_LISTED:]:
                counts[p.message] = counts.get(p.message, 0) + 1
            summary = "; ".join(f"{k} x{v}" for k, v in sorted(counts.items()))
            lines.append(f"  ... and {n - MAX_LISTED} more ({summary})")
        return "\n".join([head, *lines])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


class InfeasibleError(PairwiseError):
    """No solution satisfies every hard rule.

    Parameters
    ----------
    conflicts : sequence of str
        Each entry names one conflict in the programme's terms, e.g. ``"required pairs
        give mentor x 4 mentees but capacity is 3"``.
    """

    def __init__(self, conflicts: Sequence[str] | str) -> None:
        self.conflicts: list[str] = [conflicts] if isinstance(conflicts, str) else list(conflicts)
        n = len(self.conflicts)
        body = "\n".join(f"  - {c}" for c in self.conflicts[:MAX_LISTED])
        if n > MAX_LISTED:
            body += f"\n  ... and {n - MAX_LISTED} more"
        super().__init__(f"no solution satisfies every hard rule ({n} conflict(s)):\n{body}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.conflicts,))


class SolverError(PairwiseError, RuntimeError):
    """A solver failed for a reason other than infeasibility (e.g. a model error)."""
