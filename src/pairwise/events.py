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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from pairwise._validate import id_text
from pairwise.errors import Problem

__all__ = ["CHECKIN_BY", "CHECKIN_STATUSES", "EVENT_KINDS", "Events"]

#: The kinds of event a result records, as they appear in the ``event`` column.
EVENT_KINDS: tuple[str, ...] = (
    "rematch",
    "left",
    "broken",
    "joined",
    "checkin",
    "capacity",
    "forbidden",
    "required",
    "paired",
    "earlier",
)
#: What a confidential check-in may say about a pair (a fixed vocabulary: no free text).
CHECKIN_STATUSES: tuple[str, ...] = ("working", "at risk", "not working")
#: Who gave a check-in.
CHECKIN_BY: tuple[str, ...] = ("mentee", "mentor", "both", "member")


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
    checkins : tuple of (int, str, str, str, str)
        (round, id, id, status, by) of every confidential check-in on a pair: status one of
        :data:`CHECKIN_STATUSES`, by one of :data:`CHECKIN_BY`. No free text is kept.
    capacity : tuple of (int, str, int)
        (round, mentor id, capacity) of every capacity changed at a re-match; the latest
        one holds.
    forbidden, required : tuple of (int, str, str)
        (round, id, id) of every pair forbidden or required by hand at a re-match (mentee,
        mentor for pairs; two people for circles). For each pair the latest of the two
        holds, so a pair required in round 3 and forbidden in round 5 is forbidden.
    paired : tuple of (int, str, str)
        (round, id, id): who was with whom in each earlier round's result (its pairs, or
        every two circle-mates once), so a result carries its programme's history.
    earlier : tuple of (str, str)
        Partners from before the programme's first round (an earlier year's results that
        a :class:`~pairwise.rules.NoRepeat` rule read), carried so that next year's
        ``NoRepeat`` over this result keeps every year's pairs apart.

    Examples
    --------
    >>> e = Events().add(1, left=["m2"], broken=[("a", "x")])
    >>> e.leavers, e.broken_pairs, e.rounds
    ({'m2'}, {('a', 'x')}, 1)
    >>> e.to_frame()[["round", "event", "id", "other_id"]].values.tolist()
    [[1, 'rematch', None, None], [1, 'left', 'm2', None], [1, 'broken', 'a', 'x']]
    """

    left: tuple[tuple[int, str], ...] = ()
    broken: tuple[tuple[int, str, str], ...] = ()
    joined: tuple[tuple[int, str], ...] = ()
    round: int = 0
    checkins: tuple[tuple[int, str, str, str, str], ...] = ()
    capacity: tuple[tuple[int, str, int], ...] = ()
    forbidden: tuple[tuple[int, str, str], ...] = ()
    required: tuple[tuple[int, str, str], ...] = ()
    paired: tuple[tuple[int, str, str], ...] = ()
    earlier: tuple[tuple[str, str], ...] = ()

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
        rounds += [r for r, _, _ in self.forbidden + self.required]
        return max([self.round, *rounds, *(r for r, _ in self.joined)])

    @property
    def by_hand(self) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        """The pairs forbidden and required by hand as they hold now.

        For each pair the latest of the two holds; a required pair that broke is no longer
        required (it is never made again).
        """
        latest: dict[frozenset[str], tuple[tuple[str, str], bool]] = {}
        rows = [(r, a, b, False) for r, a, b in self.forbidden]
        rows += [(r, a, b, True) for r, a, b in self.required]
        for _, a, b, req in sorted(rows, key=lambda row: row[0]):  # stable: in round order
            latest[frozenset((a, b))] = ((a, b), req)
        forbid = {pair for pair, req in latest.values() if not req}
        broken = {frozenset(pair) for pair in self.broken_pairs}  # a break ends a requirement
        require = {pair for pair, req in latest.values() if req and frozenset(pair) not in broken}
        return forbid, require

    @property
    def partners(self) -> set[tuple[str, str]]:
        """Everyone who was together before: earlier rounds (``paired``) and ``earlier``."""
        return {(a, b) for _, a, b in self.paired} | set(self.earlier)

    def with_earlier(self, pairs: Iterable[tuple[str, str]]) -> Events:
        """These events with partners from before the first round added (see ``earlier``)."""
        known = set(self.earlier)
        new = [p for p in dict.fromkeys(pairs) if p not in known]
        return replace(self, earlier=self.earlier + tuple(new))

    def history(self, current: int | None = None) -> pd.DataFrame:
        """One row per round: how many pairs it had and what happened in it.

        Columns ``round``, ``pairs`` (the round's pairs, or two circle-mates, as recorded
        in ``paired``; for the current round, which is the result itself, ``current``),
        and the number of each kind of event in the round (``left``, ``broken``,
        ``joined``, ``checkin``, ``capacity``, ``forbidden``, ``required``).

        Examples
        --------
        >>> e = Events().add(1, left=["m2"], paired=[("a", "m2"), ("b", "m1")])
        >>> e.history(current=1)[["round", "pairs", "left"]].values.tolist()
        [[0, 2, 0], [1, 1, 1]]
        """
        kinds = ("left", "broken", "joined", "checkin", "capacity", "forbidden", "required")
        frame = self.to_frame()
        counts = frame[frame.event.isin(kinds)].groupby(["round", "event"]).size()
        paired = pd.Series([r for r, _, _ in self.paired], dtype="int64").value_counts()
        rows = []
        for r in range(self.rounds + 1):
            pairs = current if r == self.rounds else int(paired.get(r, 0))
            row: dict[str, Any] = {"round": r, "pairs": pairs}
            row.update({kind: int(counts.get((r, kind), 0)) for kind in kinds})
            rows.append(row)
        out = pd.DataFrame(rows, columns=["round", "pairs", *kinds])
        return out.astype({"pairs": "Int64"})

    @property
    def not_working(self) -> set[tuple[str, str]]:
        """Pairs whose latest check-in says ``"not working"``."""
        latest: dict[frozenset[str], tuple[tuple[str, str], str]] = {}
        for _, a, b, status, _by in self.checkins:
            latest[frozenset((a, b))] = ((a, b), status)
        return {pair for pair, status in latest.values() if status == "not working"}

    @property
    def capacities(self) -> dict[str, int]:
        """Each mentor's capacity as last changed (mentors never changed are absent)."""
        return {x: k for _, x, k in self.capacity}

    def with_capacity(self, round_: int, changes: Mapping[str, int]) -> Events:
        """These events with capacity changes of round ``round_`` added."""
        new = tuple((round_, x, int(k)) for x, k in changes.items())
        return replace(self, capacity=self.capacity + new, round=max(self.round, round_))

    def checked(self, rows: Iterable[tuple[str, str, str, str]]) -> Events:
        """These events with check-ins (id, id, status, by) added in the current round."""
        new = tuple((self.rounds, a, b, status, by) for a, b, status, by in rows)
        return replace(self, checkins=self.checkins + new)

    def __bool__(self) -> bool:
        return bool(
            self.left
            or self.broken
            or self.joined
            or self.round
            or self.checkins
            or self.capacity
            or self.forbidden
            or self.required
            or self.paired
            or self.earlier
        )

    def add(
        self,
        round_: int,
        *,
        left: Iterable[str] = (),
        broken: Iterable[tuple[str, str]] = (),
        joined: Iterable[str] = (),
        forbidden: Iterable[tuple[str, str]] = (),
        required: Iterable[tuple[str, str]] = (),
        paired: Iterable[tuple[str, str]] = (),
    ) -> Events:
        """These events with those of round ``round_`` added (repeats left out).

        ``paired`` are the pairs of the result in force before round ``round_`` (they are
        recorded as round ``round_ - 1``'s).
        """
        was_left, was_broken = self.leavers, self.broken_pairs
        new_left = [(round_, x) for x in dict.fromkeys(left) if x not in was_left]
        new_broken = [
            (round_, a, b)
            for a, b in dict.fromkeys(broken)
            if (a, b) not in was_broken and (b, a) not in was_broken
        ]
        known_joined = {x for _, x in self.joined}
        new_joined = [(round_, x) for x in dict.fromkeys(joined) if x not in known_joined]
        return replace(
            self,
            left=self.left + tuple(new_left),
            broken=self.broken + tuple(new_broken),
            joined=self.joined + tuple(new_joined),
            round=max(self.round, round_),
            forbidden=self.forbidden + tuple((round_, a, b) for a, b in dict.fromkeys(forbidden)),
            required=self.required + tuple((round_, a, b) for a, b in dict.fromkeys(required)),
            paired=self.paired + tuple((round_ - 1, a, b) for a, b in dict.fromkeys(paired)),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per event: ``round``, ``event``, ``id``, ``other_id``, ``status``, ``by``.

        ``event`` is ``rematch`` (one row per re-match, without ids, first in its round),
        ``left``, ``broken``, ``joined``, ``checkin`` (``status`` and ``by``) or
        ``capacity`` (``status``: the new capacity), ``forbidden``, ``required`` or
        ``paired`` (a pair of that round's result) or ``earlier`` (partners from before the
        first round, in round 0); rows in round order.
        """
        rows: list[tuple[int, str, str | None, str | None, str | None, str | None]] = []
        rows.extend((r, "rematch", None, None, None, None) for r in range(1, self.rounds + 1))
        rows.extend((r, "left", x, None, None, None) for r, x in self.left)
        rows.extend((r, "broken", a, b, None, None) for r, a, b in self.broken)
        rows.extend((r, "joined", x, None, None, None) for r, x in self.joined)
        rows.extend((r, "checkin", a, b, st, by) for r, a, b, st, by in self.checkins)
        rows.extend((r, "capacity", x, None, str(k), None) for r, x, k in self.capacity)
        rows.extend((r, "forbidden", a, b, None, None) for r, a, b in self.forbidden)
        rows.extend((r, "required", a, b, None, None) for r, a, b in self.required)
        rows.extend((r, "paired", a, b, None, None) for r, a, b in self.paired)
        rows.extend((0, "earlier", a, b, None, None) for a, b in sorted(self.earlier))
        rows.sort(key=lambda row: row[0])  # round by round, each round's marker first
        return pd.DataFrame(
            {
                "round": pd.Series([r[0] for r in rows], dtype="int64"),
                "event": pd.Series([r[1] for r in rows], dtype=object),
                "id": pd.Series([r[2] for r in rows], dtype=object),
                "other_id": pd.Series([r[3] for r in rows], dtype=object),
                "status": pd.Series([r[4] for r in rows], dtype=object),
                "by": pd.Series([r[5] for r in rows], dtype=object),
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
        status_col = frame["status"] if "status" in frame.columns else [None] * len(frame)
        by_col = frame["by"] if "by" in frame.columns else [None] * len(frame)
        cells = zip(
            frame["round"],
            frame["event"],
            frame["id"],
            frame["other_id"],
            status_col,
            by_col,
            strict=True,
        )
        found: dict[str, list[Any]] = {kind: [] for kind in EVENT_KINDS}
        last = 0
        for k, row in enumerate(cells):
            round_ = _event_row(f"events row {k}", row, found, problems)
            last = max(last, round_ or 0)
        return cls(
            tuple(found["left"]),
            tuple(found["broken"]),
            tuple(found["joined"]),
            last,
            tuple(found["checkin"]),
            tuple(found["capacity"]),
            tuple(found["forbidden"]),
            tuple(found["required"]),
            tuple(found["paired"]),
            tuple((a, b) for _, a, b in found["earlier"]),
        )


#: Events about two people (``id`` and ``other_id``).
_PAIR_KINDS = ("broken", "forbidden", "required", "paired", "earlier")


def _event_row(
    where: str, row: tuple[Any, ...], found: dict[str, list[Any]], problems: list[Problem]
) -> int | None:
    """Parse one row of an events table into ``found`` (by kind); its round, or None."""
    r, kind, a, b, status, by = row
    round_ = _round(r)
    if round_ is None:
        problems.append(Problem("bad round", row=where, column="round", expected="an int >= 0"))
        return None
    if kind == "rematch":
        return round_
    if _blank(a):
        problems.append(Problem("event without an id", row=where, column="id"))
    elif kind in ("left", "joined"):
        found[kind].append((round_, id_text(a)))
    elif kind == "capacity" and _round(status) is not None:
        found[kind].append((round_, id_text(a), _round(status)))
    elif kind == "capacity":
        problems.append(Problem("bad capacity", row=where, column="status", expected="an int >= 0"))
    elif kind == "checkin" and not _blank(b) and status in CHECKIN_STATUSES and by in CHECKIN_BY:
        found[kind].append((round_, id_text(a), id_text(b), str(status), str(by)))
    elif kind == "checkin":
        problems.append(
            Problem(
                "bad check-in",
                row=where,
                column="other_id, status, by",
                expected=f"two ids, a status in {', '.join(CHECKIN_STATUSES)}",
            )
        )
    elif kind in _PAIR_KINDS and not _blank(b):
        found[kind].append((round_, id_text(a), id_text(b)))
    elif kind in _PAIR_KINDS:
        problems.append(Problem(f"{kind} pair without its second id", row=where, column="other_id"))
    else:
        problems.append(
            Problem("unknown event", row=where, column="event", expected=", ".join(EVENT_KINDS))
        )
    return round_


def _blank(x: Any) -> bool:
    """Whether a cell is empty (None, NaN or blank text)."""
    return x is None or (isinstance(x, float) and x != x) or str(x).strip() in ("", "nan", "None")


def _round(x: Any) -> int | None:
    """A round number from a cell (an int >= 0, possibly written as text or a float)."""
    try:
        value = float(str(x))
    except ValueError:
        return None
    return int(value) if value.is_integer() and value >= 0 else None
