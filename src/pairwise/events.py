"""What happened to a programme: the events every result carries from one round to the next.

A result (:class:`~pairwise.results.Matching` or :class:`~pairwise.results.Circles`)
records the events that shaped it in :class:`Events`: who left, which pairs broke (never
to be re-created), who joined. :func:`pairwise.rematch` adds the new events to those of the
previous result and applies them all to the problem it is given, so re-matching a result
that was itself re-matched keeps every earlier leaver out and every earlier broken pair
apart, even when the problem is rebuilt from the programme file as it was at the start.
:func:`pairwise.check` verifies a result against its events as well as against the
problem, and the result files (JSON, Excel) carry them in an ``events`` table.

Events hold ids only (never names or answers), so a result file can be shared with the
programme's staff without exposing more than the pairs themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pairwise._validate import id_text
from pairwise.errors import Problem

__all__ = ["EVENT_KINDS", "Events"]

#: The kinds of event a result records, as they appear in the ``event`` column.
EVENT_KINDS: tuple[str, ...] = ("rematch", "left", "broken", "joined")


@dataclass(frozen=True)
class Events:
    """The events that shaped a result, each with the round (re-match number) it came in.

    Attributes
    ----------
    left : tuple of (int, str)
        (round, id) of everyone who left the programme.
    broken : tuple of (int, str, str)
        (round, id, id) of every pair that did not work (mentee, mentor for pairs; two
        people for circles): never together again.
    joined : tuple of (int, str)
        (round, id) of everyone who joined after the first round.
    round : int
        Re-matches behind the result (0: a first solve), with or without events.

    Examples
    --------
    >>> e = Events().add(1, left=["m2"], broken=[("a", "x")])
    >>> e.leavers, e.broken_pairs, e.rounds
    ({'m2'}, {('a', 'x')}, 1)
    >>> e.to_frame().values.tolist()
    [[1, 'rematch', None, None], [1, 'left', 'm2', None], [1, 'broken', 'a', 'x']]
    """

    left: tuple[tuple[int, str], ...] = ()
    broken: tuple[tuple[int, str, str], ...] = ()
    joined: tuple[tuple[int, str], ...] = ()
    round: int = 0

    @property
    def leavers(self) -> set[str]:
        """Ids of everyone who left."""
        return {x for _, x in self.left}

    @property
    def broken_pairs(self) -> set[tuple[str, str]]:
        """Every broken pair as (id, id), in the order recorded."""
        return {(a, b) for _, a, b in self.broken}

    @property
    def rounds(self) -> int:
        """The number of re-matches behind the result (0: a first solve)."""
        rounds = [r for r, _ in self.left] + [r for r, _, _ in self.broken]
        return max([self.round, *rounds, *(r for r, _ in self.joined)])

    def __bool__(self) -> bool:
        return bool(self.left or self.broken or self.joined or self.round)

    def add(
        self,
        round_: int,
        *,
        left: Iterable[str] = (),
        broken: Iterable[tuple[str, str]] = (),
        joined: Iterable[str] = (),
    ) -> Events:
        """These events with those of round ``round_`` added (repeats left out)."""
        was_left, was_broken = self.leavers, self.broken_pairs
        new_left = [(round_, x) for x in dict.fromkeys(left) if x not in was_left]
        new_broken = [
            (round_, a, b)
            for a, b in dict.fromkeys(broken)
            if (a, b) not in was_broken and (b, a) not in was_broken
        ]
        known_joined = {x for _, x in self.joined}
        new_joined = [(round_, x) for x in dict.fromkeys(joined) if x not in known_joined]
        return Events(
            self.left + tuple(new_left),
            self.broken + tuple(new_broken),
            self.joined + tuple(new_joined),
            max(self.round, round_),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per event: ``round``, ``event``, ``id``, ``other_id``.

        ``event`` is ``rematch`` (one row per re-match, without ids, first in its round),
        ``left``, ``broken`` or ``joined``; rows in round order.
        """
        rows: list[tuple[int, str, str | None, str | None]] = []
        rows.extend((r, "rematch", None, None) for r in range(1, self.rounds + 1))
        rows.extend((r, "left", x, None) for r, x in self.left)
        rows.extend((r, "broken", a, b) for r, a, b in self.broken)
        rows.extend((r, "joined", x, None) for r, x in self.joined)
        rows.sort(key=lambda row: row[0])  # round by round, each round's marker first
        return pd.DataFrame(
            {
                "round": pd.Series([r[0] for r in rows], dtype="int64"),
                "event": pd.Series([r[1] for r in rows], dtype=object),
                "id": pd.Series([r[2] for r in rows], dtype=object),
                "other_id": pd.Series([r[3] for r in rows], dtype=object),
            }
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, problems: list[Problem]) -> Events:
        """The events of an ``events`` table (as :meth:`to_frame` writes it).

        Every malformed row is appended to ``problems`` (row, column, what was expected).
        """
        if len(frame) == 0:  # an empty table (JSON keeps no columns for it)
            return cls()
        missing = [c for c in ("round", "event", "id", "other_id") if c not in frame.columns]
        if missing:
            problems.append(
                Problem(
                    "events table lacks columns",
                    column=", ".join(missing),
                    expected="round, event, id, other_id",
                )
            )
            return cls()
        left: list[tuple[int, str]] = []
        broken: list[tuple[int, str, str]] = []
        joined: list[tuple[int, str]] = []
        last = 0
        for k, (r, kind, a, b) in enumerate(
            zip(frame["round"], frame["event"], frame["id"], frame["other_id"], strict=True)
        ):
            where = f"events row {k}"
            round_ = _round(r)
            if round_ is None:
                problems.append(
                    Problem("bad round", row=where, column="round", expected="an int >= 1")
                )
                continue
            last = max(last, round_)
            if kind == "rematch":
                continue
            if _blank(a):
                problems.append(Problem("event without an id", row=where, column="id"))
                continue
            if kind == "left":
                left.append((round_, id_text(a)))
            elif kind == "joined":
                joined.append((round_, id_text(a)))
            elif kind == "broken" and not _blank(b):
                broken.append((round_, id_text(a), id_text(b)))
            elif kind == "broken":
                problems.append(
                    Problem("broken pair without its second id", row=where, column="other_id")
                )
            else:
                problems.append(
                    Problem(
                        "unknown event", row=where, column="event", expected=", ".join(EVENT_KINDS)
                    )
                )
        return cls(tuple(left), tuple(broken), tuple(joined), last)


def _blank(x: Any) -> bool:
    """Whether a cell is empty (None, NaN or blank text)."""
    return x is None or (isinstance(x, float) and x != x) or str(x).strip() in ("", "nan", "None")


def _round(x: Any) -> int | None:
    """A round number from a cell (an int >= 1, possibly written as text or a float)."""
    try:
        value = float(str(x))
    except ValueError:
        return None
    return int(value) if value.is_integer() and value >= 1 else None
