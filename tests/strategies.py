"""Hypothesis strategies shared by the test modules.

``questionnaires()`` draws a valid questionnaire table in the canonical schema together with
the values :meth:`pairwise.Cohort.from_frame` must parse out of it. Cells are written the
ways real exports write them: Python lists or ``"a;b"`` text, topic maps as dicts,
``"topic:level"`` text (level optional), lists of ``"topic:level"`` strings or of
``(topic, level)`` pairs; ids as text or integers; modes through their aliases; blanks as
None, NaN or empty text.
"""

from __future__ import annotations

import decimal
import fractions
import math
from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd

from pairwise.cohort import CANONICAL_COLUMNS, Cohort

__all__ = [
    "GARBAGE_SAMPLES",
    "Questionnaire",
    "assert_listed",
    "cohorts",
    "garbage",
    "object_column",
    "questionnaire_frames",
    "questionnaires",
]

#: Optional canonical columns a drawn table may hold (``id`` and ``role`` are always there).
OPTIONAL_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c not in ("id", "role"))

_WORD_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_éü"
_TEXT_ALPHABET = _WORD_ALPHABET + "ABCZ ,.'\"/"
_words = st.text(_WORD_ALPHABET, min_size=1, max_size=6)
_texts = st.text(_TEXT_ALPHABET, min_size=1, max_size=12).filter(lambda s: s.strip() != "")
_blank = st.sampled_from([None, float("nan"), "", "  "])

_MODE_SPELLINGS = {
    "online": ["online", "Online", "remote", "VIRTUAL"],
    "in-person": ["in-person", "In Person", "face_to_face", "offline", "inperson"],
    "either": ["either", "Both", "any", "hybrid"],
}
_VETTED_SPELLINGS = {True: [True, "yes", "Y", "true", 1, " TRUE "], False: [False, "no", "0", 0]}


@dataclass
class Questionnaire:
    """A drawn table and what it must parse to (one list entry per row).

    ``expected`` maps each canonical column to its parsed values: text or None, sorted lists
    for tags and links, topic -> level dicts, mode names, integer capacities, booleans.
    """

    frame: pd.DataFrame
    expected: dict[str, list[Any]]
    list_sep: str


def _pad(draw: st.DrawFn, s: str) -> str:
    """``s``, sometimes with spaces around (which parsing strips)."""
    return draw(st.sampled_from(["", " "])) + s + draw(st.sampled_from(["", "  "]))


def _list_cell(draw: st.DrawFn, items: list[str], sep: str) -> Any:
    if not items:
        return draw(st.one_of(_blank, st.just([]), st.just(())))
    form = draw(st.sampled_from(["list", "tuple", "text"]))
    if form == "text":
        return sep.join(_pad(draw, x) for x in items)
    padded = [_pad(draw, x) for x in items]
    return padded if form == "list" else tuple(padded)


def _level_cell(draw: st.DrawFn, levels: dict[str, int], sep: str) -> Any:
    if not levels:
        return draw(st.one_of(_blank, st.just({}), st.just([])))
    form = draw(st.sampled_from(["dict", "text", "list", "pairs"]))
    if form == "dict":
        return dict(levels)

    def entry(topic: str, level: int) -> str:
        # a topic without a level means the default level 2
        if level == 2 and draw(st.booleans()):
            return _pad(draw, topic)
        return f"{_pad(draw, topic)}:{draw(st.sampled_from([str(level), f' {level}']))}"

    if form == "text":
        return sep.join(entry(t, lev) for t, lev in levels.items())
    if form == "list":
        return [entry(t, lev) for t, lev in levels.items()]
    return [(t, draw(st.sampled_from([lev, str(lev), float(lev)]))) for t, lev in levels.items()]


@st.composite
def questionnaires(
    draw: st.DrawFn,
    *,
    min_size: int = 1,
    max_size: int = 8,
    kind: str | None = None,
    extra: bool = True,
    seps: tuple[str, ...] = (";", "|"),
) -> Questionnaire:
    """A valid questionnaire table of ``min_size``..``max_size`` rows, with its parsed values.

    Parameters
    ----------
    kind : {"mentoring", "peers"}, optional
        Mentees and mentors (at least one mentor), or peers only; drawn when None.
    extra : bool
        Whether the table may hold free-text columns outside the schema.
    seps : tuple of str
        List separators to draw from (text list cells use the drawn one).
    """
    n = draw(st.integers(min_size, max_size))
    kind = kind or draw(st.sampled_from(["mentoring", "peers"]))
    sep = draw(st.sampled_from(seps))

    # ids: unique by their canonical text; integers or text
    if draw(st.booleans()):
        numbers = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
        id_text = [str(k) for k in numbers]
        id_cells: list[Any] = [
            draw(st.sampled_from([k, str(k), float(k), np.int64(k)])) for k in numbers
        ]
    else:
        id_text = draw(
            st.lists(
                st.text(_WORD_ALPHABET + "ABC.@", min_size=1, max_size=8),
                min_size=n,
                max_size=n,
                unique=True,
            )
        )
        id_cells = [_pad(draw, x) for x in id_text]

    if kind == "peers":
        roles = ["peer"] * n
    else:
        roles = draw(st.lists(st.sampled_from(["mentee", "mentor"]), min_size=n, max_size=n))
        roles[draw(st.integers(0, n - 1))] = "mentor"
    role_cells = [draw(st.sampled_from([r, r.upper(), f" {r.title()} "])) for r in roles]

    present = [c for c in OPTIONAL_COLUMNS if draw(st.booleans())]
    data: dict[str, list[Any]] = {"id": id_cells, "role": role_cells}
    expected: dict[str, list[Any]] = {"id": id_text, "role": roles}
    topics = draw(st.lists(_words, min_size=1, max_size=5, unique=True))

    for c in present:
        cells: list[Any] = []
        values: list[Any] = []
        for i in range(n):
            if c in ("region", "cluster", "chapter"):
                v = draw(st.one_of(st.none(), _texts, st.integers(0, 99)))
                if v is None:
                    cells.append(draw(_blank))
                    values.append(None)
                elif isinstance(v, int):
                    cells.append(v)
                    values.append(str(v))
                else:
                    cells.append(_pad(draw, v))
                    values.append(v.strip())
            elif c in ("languages", "stage", "slots"):
                items = draw(st.lists(_words, max_size=4))
                cells.append(_list_cell(draw, items, sep))
                values.append(sorted(set(items)))
            elif c in ("needs", "expertise"):
                chosen = draw(st.lists(st.sampled_from(topics), max_size=3, unique=True))
                levels = {t: draw(st.integers(1, 3)) for t in chosen}
                cells.append(_level_cell(draw, levels, sep))
                values.append(levels)
            elif c == "mode":
                mode = draw(st.sampled_from([None, "online", "in-person", "either"]))
                cells.append(
                    draw(_blank) if mode is None else draw(st.sampled_from(_MODE_SPELLINGS[mode]))
                )
                values.append(mode or "either")
            elif c == "capacity":
                cap = draw(st.one_of(st.none(), st.integers(0, 6)))
                if cap is None:
                    cells.append(draw(_blank))
                    values.append(1)
                else:
                    cells.append(draw(st.sampled_from([cap, str(cap), float(cap), f" {cap} "])))
                    values.append(cap)
            elif c == "minimum":  # mentors only, at most the capacity drawn before it
                cap = expected["capacity"][i] if "capacity" in expected else 1
                low = draw(st.integers(0, cap)) if roles[i] == "mentor" else 0
                if low == 0 and draw(st.booleans()):
                    cells.append(draw(_blank))
                else:
                    cells.append(draw(st.sampled_from([low, str(low), float(low), f" {low} "])))
                values.append(low)
            elif c == "vetted":
                vet = draw(st.one_of(st.none(), st.booleans()))
                if vet is None:
                    cells.append(draw(_blank))
                    values.append(False)  # a blank cell in a present column means not vetted
                else:
                    cells.append(draw(st.sampled_from(_VETTED_SPELLINGS[vet])))
                    values.append(vet)
            elif c == "ranked":  # ids of the other role (any other peer), in order
                others = [
                    j for j in range(n) if j != i and (roles[j] != roles[i] or kind == "peers")
                ]
                picks = (
                    draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
                    if others
                    else []
                )
                cells.append(_list_cell(draw, [id_text[j] for j in picks], sep))
                values.append([id_text[j] for j in picks])
            else:  # avoid, previous, prefer: other participants' ids
                others = [j for j in range(n) if j != i]
                picks = (
                    draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
                    if others
                    else []
                )
                cells.append(_list_cell(draw, [id_text[j] for j in picks], sep))
                values.append(sorted(id_text[j] for j in picks))
        data[c] = cells
        expected[c] = values

    if extra and draw(st.booleans()):
        data["motivation"] = [draw(_texts) for _ in range(n)]

    order = list(data)
    if draw(st.booleans()):
        order = draw(st.permutations(order))
    frame = pd.DataFrame({c: object_column(data[c]) for c in order})
    return Questionnaire(frame, expected, sep)


def object_column(values: list[Any]) -> pd.Series:
    """A Series of dtype object holding ``values`` as they are (lists, arrays, dicts...)."""
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return pd.Series(arr, dtype=object)


def questionnaire_frames(**kwargs: Any) -> st.SearchStrategy[pd.DataFrame]:
    """Valid canonical questionnaire DataFrames (see :func:`questionnaires`)."""
    return questionnaires(**kwargs, seps=(";",)).map(lambda q: q.frame)


def cohorts(**kwargs: Any) -> st.SearchStrategy[Cohort]:
    """Valid cohorts built from :func:`questionnaires`."""
    return questionnaires(**kwargs).map(lambda q: Cohort.from_frame(q.frame, list_sep=q.list_sep))


class _Opaque:
    """An object of a type no parser knows."""

    def __repr__(self) -> str:
        return "<opaque>"


#: Fixed awkward cell values, for sweeps over every column.
GARBAGE_SAMPLES: tuple[Any, ...] = (
    None,
    True,
    np.bool_(False),
    0,
    -1,
    10**30,
    -(10**30),
    2.5,
    math.nan,
    math.inf,
    -math.inf,
    1e300,
    complex(1, 2),
    "",
    "  ",
    ":",
    ";",
    "a:b:c",
    "x:0",
    "1e400",
    "nan",
    b"bytes",
    [],
    [None],
    [math.nan, 3],
    [["nested"]],
    [("t", 1, 2)],
    [("t", None)],
    ("t", 2),
    {},
    {"t": None},
    {None: 1},
    {"t": 10**30},
    {"t": "99999999999999999999"},
    {1, 2},
    frozenset({"a"}),
    decimal.Decimal("NaN"),
    decimal.Decimal("2"),
    fractions.Fraction(5, 2),
    pd.NA,
    pd.NaT,
    pd.Timestamp("2024-01-01"),
    np.datetime64("2024-01-01"),
    np.int8(3),
    np.float32(1.5),
    np.float64("nan"),
    np.array(2),
    np.array("x"),
    np.array([1, 2]),
    np.array([[1], [2]]),
    np.array([]),
    np.array([None], dtype=object),
    _Opaque(),
)

#: Cell values of many types, most of them wrong anywhere in the schema.
garbage: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(GARBAGE_SAMPLES),
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(max_magnitude=1e6),
    st.text(max_size=20),
    st.binary(max_size=10),
    st.sampled_from(["", " ", ":", ";", "a:b:c", ";;", "x:0", "mentor", "nan", "NA", "1e400"]),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats()), max_size=3),
    st.tuples(st.text(max_size=4), st.integers()),
    st.dictionaries(
        st.one_of(st.text(max_size=4), st.integers(), st.none()),
        st.one_of(st.integers(), st.text(max_size=4), st.none(), st.floats()),
        max_size=3,
    ),
    st.frozensets(st.integers(), max_size=3),
    st.sets(st.text(max_size=3), max_size=3),
    st.decimals(allow_nan=True),
    st.fractions(),
    st.datetimes(),
    st.just(pd.NA),
    st.just(pd.NaT),
    st.just(pd.Timestamp("2024-01-01")),
    st.just(np.datetime64("2024-01-01")),
    st.sampled_from([np.int8(3), np.int64(-2), np.float32(1.5), np.float64("nan"), np.bool_(True)]),
    st.sampled_from([np.array(2), np.array("x"), np.array([1, 2]), np.array([[1], [2]])]),
    st.sampled_from([np.array([]), np.array(["a", "b"]), np.array([None], dtype=object)]),
    st.just([["nested"], {"a": 1}]),
    st.just([("t", 1, 2)]),
    st.just(decimal.Decimal("2")),
    st.just(fractions.Fraction(5, 2)),
    st.just(math.inf),
    st.builds(_Opaque),
)


def assert_listed(err: Exception, expected: list[tuple[str | None, str | None, str]]) -> None:
    """Each ``(row, column, message part)`` matches its own problem of a ValidationError.

    ``err.problems`` must hold exactly ``len(expected)`` problems; each expected entry must
    match a distinct one (same ``row``, same ``column``, ``message`` containing the part),
    and the rendered message must name its row and column.
    """
    problems = list(err.problems)  # type: ignore[attr-defined]
    shown = "\n".join(str(p) for p in problems)
    assert len(problems) == len(expected), shown
    unused = list(problems)
    for row, column, part in expected:
        hit = next(
            (p for p in unused if p.row == row and p.column == column and part in p.message),
            None,
        )
        assert hit is not None, f"no problem ({row!r}, {column!r}, {part!r}) in:\n{shown}"
        unused.remove(hit)
        line = str(hit)
        assert part in line
        if row is not None:
            assert str(row) in line
        if column is not None:
            assert repr(column) in line
