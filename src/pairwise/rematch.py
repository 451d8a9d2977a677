"""Re-matching with the fewest changes: after pairs break, people leave or join.

:func:`rematch` takes the previous result and the programme's current problem (new people
and changed capacities already in it) and returns a new result that keeps every unaffected
pair or circle unless the hard rules force a change, and otherwise scores as well as it
can. By default the order is lexicographic: fewest changes first, then the problem's own
objective. Broken pairs never come back; people who leave are in no pair or circle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise._validate import (
    id_text,
    is_int,
    is_real,
    positions,
    seed_problems,
    time_limit_problems,
)
from pairwise.circles import CircleProblem
from pairwise.errors import InfeasibleError, Problem, ValidationError
from pairwise.events import CHECKIN_BY, CHECKIN_STATUSES
from pairwise.problem import PairProblem
from pairwise.results import Circles, Matching, build
from pairwise.solvers import solve
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.answer import Answer
from pairwise.solvers.circles.bounds import simple_bound
from pairwise.solvers.circles.units import build_units
from pairwise.solvers.pairs import Keep, solve_pairs

__all__ = ["Rematch", "checkin", "rematch"]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Rematch:
    """A re-matching and exactly what changed.

    Attributes
    ----------
    result : Matching or Circles
        The new result, for the problem as given (broken pairs and leavers applied).
    changes : pandas.DataFrame
        Pairs: one row per mentee whose mentor changed or who joined or left, with columns
        ``mentee_id``, ``before`` (mentor id or None), ``after``, ``change`` (``"kept"`` rows
        are left out) and ``reason``. Circles: one row per person who moved, joined or
        left, with ``person_id``, ``before`` and ``after`` (circle or None), ``change``,
        ``reason``. A previous circle continues as the new circle that holds most of its
        remaining members; whoever is not in it has moved.
    kept : int
        Previous pairs (or people in their previous circle) kept.
    keepable : int
        Previous pairs that could have been kept (both ends still there, the pair not
        broken); for circles, the people still there.
    broken : tuple of (str, str)
        The pairs broken in this round, as the previous result has them (mentee, mentor).
    """

    result: Matching | Circles
    changes: pd.DataFrame = field(repr=False)
    kept: int
    keepable: int
    broken: tuple[tuple[str, str], ...] = ()

    @property
    def n_changes(self) -> int:
        """How many of the keepable pairs (people) changed."""
        return self.keepable - self.kept


def _ids(values: Iterable[Any]) -> list[str]:
    return [id_text(v) for v in values]


@dataclass(frozen=True)
class _Options:
    """One :func:`rematch` call's options, ids as their text (shared by pairs and circles)."""

    broken: tuple[tuple[str, str], ...]
    leaving: tuple[str, ...]
    joining: tuple[str, ...] | None
    max_changes: int | None
    penalty: float | None
    time_limit: float | None
    seed: int
    progress: Callable[[dict[str, float]], None] | None = None
    priority: str | None = None
    capacity: tuple[tuple[str, int], ...] = ()
    forbid: tuple[tuple[str, str], ...] = ()
    require: tuple[tuple[str, str], ...] = ()


def rematch(
    previous: Matching | Circles,
    problem: PairProblem | CircleProblem,
    *,
    broken: Iterable[Sequence[Any]] = (),
    leaving: Iterable[Any] = (),
    joining: Iterable[Any] | None = None,
    max_changes: int | None = None,
    penalty: float | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    progress: Callable[[dict[str, float]], None] | None = None,
    priority: Literal["waiting"] | None = None,
    not_working: bool = False,
    capacity: Mapping[Any, int] | None = None,
    forbid: Iterable[Sequence[Any]] = (),
    require: Iterable[Sequence[Any]] = (),
) -> Rematch:
    """Re-match with the fewest changes.

    Parameters
    ----------
    previous : Matching or Circles
        The result in force.
    problem : PairProblem or CircleProblem
        The programme now: new people, new capacities and rules are already in it.
    broken : iterable of (id, id)
        Pairs that did not work: never together again (mentee, mentor for pairs; any two
        people for circles).
    leaving : iterable of ids
        People who leave: in no pair or circle of the result.
    joining : iterable of ids, optional
        People new to the programme (by default: every id of ``problem`` absent from
        ``previous``); reported as joined.
    max_changes : int, optional
        Most previous pairs (people, for circles) that may change; InfeasibleError if the
        rules need more.
    penalty : float, optional
        By default changes are lexicographic: fewest first, then the problem's objective.
        With a penalty, maximise the objective minus ``penalty`` per change instead (in
        score units; for circles, per pair of previous circle-mates split up), so a change
        that gains more than ``penalty`` is made.
    time_limit, seed
        As for :func:`pairwise.solve`.
    progress : callable, optional
        As for :func:`pairwise.solve` (circles' local search; the pair re-match, by flows
        or CP-SAT, reports nothing).
    capacity : mapping of mentor id to int, optional
        Pairs only: mentors whose capacity changes from this round on (recorded in the
        result's events, so later re-matches keep it). Earlier rounds' changes apply too.
        A mentor's minimum load (``problem.minimum``) holds in every re-match, kept pairs
        counting towards it; a capacity lowered below it lowers it to the capacity, and
        a mentor who leaves owes none.
    not_working : bool, default False
        Also break every pair whose latest confidential check-in (:func:`checkin`) says
        ``"not working"``.
    forbid, require : iterable of (id, id)
        Pairs forbidden or required by hand from this round on (mentee and mentor in
        either order, or two people for circles; a required pair of circles shares a
        circle). Recorded in the result's events, so every later re-match and
        :func:`pairwise.check` apply them; a later round may lift a pair's rule by giving
        it the other one. A broken pair cannot be required.
    priority : {"waiting"}, optional
        Pairs only: mentees who wait (unmatched, or short of the mentors they asked for, in
        the previous result, or whose pair broke or whose mentor left in this round) are
        matched first: after the fewest changes, as many of their pairs as the rules
        allow, then the problem's own objective.

    Returns
    -------
    Rematch

    Raises
    ------
    InfeasibleError
        When the hard rules cannot hold, or not within ``max_changes`` (a mentor whose
        minimum load the people still there cannot meet is named, with the numbers).
    ValidationError
        For unknown ids or mismatched kinds (pairs vs circles).

    Examples
    --------
    >>> import numpy as np, pairwise
    >>> s = np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.2], [0.1, 0.6, 0.9]])
    >>> p = pairwise.PairProblem.from_scores(s, mentee_ids=["a", "b", "c"],
    ...                                      mentor_ids=["x", "y", "z"])
    >>> before = pairwise.solve(p)
    >>> before.pairs[["mentee_id", "mentor_id"]].values.tolist()
    [['a', 'x'], ['b', 'y'], ['c', 'z']]
    >>> after = pairwise.rematch(before, p, broken=[("b", "y")])
    >>> after.changes[["mentee_id", "before", "after", "change"]].values.tolist()
    [['b', 'y', None, 'unmatched']]
    >>> after.kept, after.keepable
    (2, 2)
    """
    pairs, leavers, found = _normalise(broken, leaving, max_changes, penalty, seed)
    forbidden = _oriented("forbid", _pair_list("forbid", forbid, found), problem, found)
    required = _oriented("require", _pair_list("require", require, found), problem, found)
    flag: object = not_working  # typed bool, but callers may pass anything
    if not isinstance(flag, bool):
        found.append(Problem("bad not_working", value=repr(flag)[:20], expected="bool"))
    elif not_working:
        done = previous.events.broken_pairs
        pairs.extend(
            p
            for p in sorted(previous.events.not_working)
            if p not in pairs and p not in done and (p[1], p[0]) not in done
        )
    found.extend(time_limit_problems(time_limit))
    if priority is not None and (priority != "waiting" or not isinstance(problem, PairProblem)):
        found.append(
            Problem("bad priority", value=str(priority)[:20], expected='"waiting" (pairs) or None')
        )
    joiners = None if joining is None else tuple(_ids(joining))
    caps = _capacity_changes(capacity, problem, found)
    opts = _Options(
        tuple(pairs),
        tuple(leavers),
        joiners,
        max_changes,
        penalty,
        time_limit,
        seed,
        progress,
        priority,
        caps,
        tuple(forbidden),
        tuple(required),
    )
    if isinstance(previous, Matching) and isinstance(problem, PairProblem):
        return _recorded(previous, _rematch_pairs(previous, problem, opts, found), opts)
    if isinstance(previous, Circles) and isinstance(problem, CircleProblem):
        return _recorded(previous, _rematch_circles(previous, problem, opts, found), opts)
    raise ValidationError(
        [
            Problem(
                "previous result and problem are of different kinds",
                value=f"{type(previous).__name__} and {type(problem).__name__}",
                expected="Matching with PairProblem, or Circles with CircleProblem",
            )
        ]
    )


def checkin(result: Matching | Circles, checkins: Iterable[Sequence[Any]]) -> Matching | Circles:
    """Record confidential check-ins on pairs of ``result``; the result with them.

    The IAIP model: periodic confidential feedback from both sides of a partnership, and
    new partners where it is not working. Each check-in is ``(id, id, status)`` or ``(id,
    id, status, by)``: a pair of ``result`` (mentee and mentor, or two circle-mates, in
    either order), a status of :data:`~pairwise.events.CHECKIN_STATUSES`, and who said it
    (:data:`~pairwise.events.CHECKIN_BY`; default ``"both"``). Only these words are kept:
    no free text is stored, logged or shown. ``rematch(..., not_working=True)`` breaks
    every pair whose latest check-in says ``"not working"``.

    Raises
    ------
    ValidationError
        Listing every check-in that is not a pair of ``result`` or has an unknown status.

    Examples
    --------
    >>> import numpy as np, pairwise
    >>> s = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> p = pairwise.PairProblem.from_scores(s, mentee_ids=["a", "b"], mentor_ids=["x", "y"])
    >>> m = pairwise.checkin(pairwise.solve(p), [("x", "a", "not working", "mentee")])
    >>> m.events.not_working
    {('a', 'x')}
    >>> pairwise.rematch(m, p, not_working=True).result.pairs.mentee_id.tolist()
    ['b']
    """
    problems: list[Problem] = []
    known = _together(result)
    rows: list[tuple[str, str, str, str]] = []
    for k, row in enumerate(checkins):
        where = f"checkins[{k}]"
        if isinstance(row, str | bytes) or not isinstance(row, Sequence) or len(row) not in (3, 4):
            problems.append(Problem("bad check-in", row=where, expected="(id, id, status[, by])"))
            continue
        a, b = id_text(row[0]), id_text(row[1])
        status, by = row[2], row[3] if len(row) == 4 else "both"
        pair = (a, b) if (a, b) in known else (b, a)
        if pair not in known:
            problems.append(
                Problem(
                    "check-in on a pair the result does not have",
                    row=where,
                    value=f"({a}, {b})",
                    expected="a pair (or two circle-mates) of the result, either order",
                )
            )
        if status not in CHECKIN_STATUSES:  # never echoed: it may be free text
            problems.append(
                Problem("unknown check-in status", row=where, expected=", ".join(CHECKIN_STATUSES))
            )
        if by not in CHECKIN_BY:
            problems.append(
                Problem("unknown check-in side", row=where, expected=", ".join(CHECKIN_BY))
            )
        rows.append((pair[0], pair[1], str(status), str(by)))
    if problems:
        raise ValidationError(problems)
    return replace(result, events=result.events.checked(rows))


def _capacity_changes(
    capacity: Mapping[Any, int] | None, problem: PairProblem | CircleProblem, found: list[Problem]
) -> tuple[tuple[str, int], ...]:
    """``capacity`` as (mentor id, int) pairs; every unknown mentor or bad value listed."""
    if capacity is None:
        return ()
    if not isinstance(problem, PairProblem) or not isinstance(capacity, Mapping):
        found.append(Problem("bad capacity", expected="a mapping of mentor id to int (pairs)"))
        return ()
    mentors = set(_ids(problem.mentor_ids))
    out = []
    for x, k in capacity.items():
        if id_text(x) not in mentors:
            found.append(
                Problem("capacity: unknown mentor", value=id_text(x), expected="a mentor id")
            )
        elif not (is_int(k) and int(k) >= 0):
            found.append(Problem("bad capacity", value=id_text(x), expected="an int >= 0"))
        else:
            out.append((id_text(x), int(k)))
    return tuple(out)


def _together(result: Matching | Circles) -> set[tuple[str, str]]:
    """The pairs of a matching (mentee, mentor), or every two circle-mates (both orders)."""
    if isinstance(result, Matching):
        return {(str(a), str(b)) for a, b in result.pairs[["mentee_id", "mentor_id"]].values}
    ids = _ids(result.problem.person_ids)
    return {
        (ids[i], ids[j])
        for g in range(result.problem.n_circles)
        for i in result.members(g).tolist()
        for j in result.members(g).tolist()
        if i != j
    }


def _recorded(previous: Matching | Circles, done: Rematch, opts: _Options) -> Rematch:
    """``done`` with the events of this round added to the previous result's."""
    round_ = previous.events.rounds + 1
    rows = done.changes
    who = rows.columns[0]
    events = previous.events.add(
        round_,
        left=opts.leaving,
        broken=done.broken,
        joined=rows.loc[rows.change == "joined", who].tolist(),
        forbidden=opts.forbid,
        required=opts.require,
        paired=_pairs_once(previous),
    )
    events = events.with_capacity(round_, dict(opts.capacity)) if opts.capacity else events
    return replace(done, result=replace(done.result, events=events, changes=done.changes))


def _pair_list(
    what: str, items: Iterable[Sequence[Any]], out: list[Problem]
) -> list[tuple[str, str]]:
    """``items`` as (id, id) pairs; each one that is not two ids is a problem."""
    pairs: list[tuple[str, str]] = []
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        items = [items]
    for k, pair in enumerate(items):
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            out.append(Problem(f"{what}: bad pair", row=f"{what}[{k}]", expected="(id, id)"))
        else:
            pairs.append((id_text(pair[0]), id_text(pair[1])))
    return pairs


def _oriented(
    what: str,
    pairs: list[tuple[str, str]],
    problem: PairProblem | CircleProblem,
    out: list[Problem],
) -> list[tuple[str, str]]:
    """Pairs as (mentee, mentor) for pairs (either order given), or two distinct people."""
    if isinstance(problem, PairProblem):
        side_a, side_b = set(_ids(problem.mentee_ids)), set(_ids(problem.mentor_ids))
    else:
        side_a = side_b = set(_ids(problem.person_ids))
    found = []
    for a, b in pairs:
        if a in side_a and b in side_b and a != b:
            found.append((a, b))
        elif b in side_a and a in side_b and a != b:
            found.append((b, a))
        else:
            expected = "a mentee and a mentor of the problem, either order"
            if isinstance(problem, CircleProblem):
                expected = "two people of the problem"
            out.append(
                Problem(f"{what}: not a possible pair", value=f"({a}, {b})", expected=expected)
            )
    return found


def _pairs_once(result: Matching | Circles) -> list[tuple[str, str]]:
    """A result's pairs (mentee, mentor), or every two circle-mates once (by position)."""
    if isinstance(result, Matching):
        return sorted(_together(result))
    ids = _ids(result.problem.person_ids)
    where = {x: k for k, x in enumerate(ids)}
    return sorted((a, b) for a, b in _together(result) if where[a] < where[b])


def _by_hand(
    previous: Matching | Circles, opts: _Options, present: set[str], problems: list[Problem]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The pairs forbidden and required by hand that hold now (earlier rounds' and these).

    Pairs with someone no longer here are left out; a required pair that is broken, or
    named both forbidden and required in this round, is a problem.
    """
    round_ = 1 + previous.events.rounds
    events = previous.events.add(round_, broken=opts.broken, forbidden=opts.forbid)
    events = events.add(round_, required=opts.require)
    both = {frozenset(p) for p in opts.forbid} & {frozenset(p) for p in opts.require}
    broken = {frozenset(p) for p in events.broken_pairs}  # earlier rounds' and this one's
    for a, b in opts.require:
        if frozenset((a, b)) in broken:
            problems.append(
                Problem(
                    "required pair is broken", value=f"({a}, {b})", expected="a pair not broken"
                )
            )
    for pair in sorted(tuple(sorted(x)) for x in both):
        problems.append(
            Problem(
                "pair both forbidden and required", value=f"({pair[0]}, {pair[1]})", expected="one"
            )
        )
    forbid, require = events.by_hand

    def here(pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
        return sorted(p for p in pairs if p[0] in present and p[1] in present)

    return here(forbid), here(require)


def _all_events(
    previous: Matching | Circles, opts: _Options, present: set[str]
) -> tuple[set[str], list[tuple[str, str]]]:
    """Every leaver and broken pair so far (the previous result's and this round's).

    Recorded pairs with someone no longer in the problem are left out (they cannot meet).
    """
    gone = previous.events.leavers | set(opts.leaving)
    pairs = [p for p in previous.events.broken_pairs if p[0] in present and p[1] in present]
    return gone, pairs + list(opts.broken)


def _absent(
    old_ids: Iterable[str], present: set[str], gone: set[str], problems: list[Problem]
) -> None:
    """People of the previous result missing from the problem, and not recorded as leaving."""
    for x in sorted(set(old_ids) - present - gone):
        problems.append(
            Problem(
                "in the previous result but not in the programme's input",
                value=x,
                expected="back in the input, or recorded as leaving (leaving=[id], --leaving ID)",
            )
        )


def _normalise(
    broken: Iterable[Sequence[Any]],
    leaving: Iterable[Any],
    max_changes: int | None,
    penalty: float | None,
    seed: int,
) -> tuple[list[tuple[str, str]], list[str], list[Problem]]:
    """Broken pairs as (id, id), leavers as ids (one id may be given alone), the problems."""
    out: list[Problem] = []
    if max_changes is not None and not (is_int(max_changes) and max_changes >= 0):
        out.append(Problem("bad max_changes", value=max_changes, expected="an int >= 0"))
    if penalty is not None and not (is_real(penalty) and math.isfinite(penalty) and penalty >= 0):
        out.append(Problem("bad penalty", value=penalty, expected="a finite number >= 0"))
    out.extend(seed_problems(seed))
    if isinstance(leaving, str | bytes) or not isinstance(leaving, Iterable):
        leaving = [leaving]
    return _pair_list("broken", broken, out), _ids(leaving), out


def _check_ids(known: set[str], ids: Iterable[str], what: str, problems: list[Problem]) -> None:
    for x in ids:
        if x not in known:
            problems.append(
                Problem(f"{what}: unknown id", value=x, expected="an id of the problem")
            )


def _rematch_pairs(
    previous: Matching, problem: PairProblem, opts: _Options, problems: list[Problem]
) -> Rematch:
    mentees, mentors = _ids(problem.mentee_ids), _ids(problem.mentor_ids)
    pos_a, pos_b = positions(mentees), positions(mentors)
    changed = {**previous.events.capacities, **dict(opts.capacity)}  # the latest holds
    if changed:
        cap = problem.capacity.copy()
        for x, k in changed.items():
            if x in pos_b:
                cap[pos_b[x]] = k
        # a mentor who now takes fewer than her minimum is held to her new capacity
        problem = replace(problem, capacity=cap, minimum=np.minimum(problem.minimum, cap))
    old = previous.pairs[["mentee_id", "mentor_id"]].astype(str).values.tolist()
    old_ids = set(_ids(previous.problem.mentee_ids)) | set(_ids(previous.problem.mentor_ids))
    if previous.roster is not None:  # read from a file: the people it was made for
        old_ids &= previous.roster
    _check_ids(set(mentees) | set(mentors) | old_ids, opts.leaving, "leaving", problems)
    new_broken = _existing_pairs(opts.broken, {(a, b) for a, b in old}, problems)
    present = set(mentees) | set(mentors)
    gone, broken = _all_events(previous, replace(opts, broken=tuple(new_broken)), present)
    _absent([a for a, _ in old] + [b for _, b in old], present, gone, problems)
    forbid, require = _by_hand(previous, opts, present - gone, problems)
    if problems:
        raise ValidationError(problems)
    removed = {"broken pair": broken, "forbidden by hand": forbid}
    p2 = _pairs_without(problem, removed, gone, pos_a, pos_b)
    hand = {(pos_a[a], pos_b[b]) for a, b in require}
    p2 = replace(p2, required=tuple(sorted(set(p2.required) | hand)))
    for i, j in p2.required:
        if not p2.allowed[i, j]:
            why = [name for name, mask in p2.removed_by.items() if mask[i, j]]
            raise InfeasibleError(
                [
                    f"required pair ({mentees[i]}, {mentors[j]}) is not allowed: "
                    + (", ".join(why) or "a hard rule forbids it")
                ]
            )
    keep = [
        (pos_a[a], pos_b[b])
        for a, b in old
        if a in pos_a and b in pos_b and p2.allowed[pos_a[a], pos_b[b]]
    ]
    first = _waiting(previous, p2, new_broken, gone) if opts.priority == "waiting" else None
    result = _solve_pairs_keeping(p2, keep, opts, first)
    new = {(mentees[i], mentors[j]) for i, j in result.assignment.tolist()}
    kept = sum(1 for i, j in keep if (mentees[i], mentors[j]) in new)
    joined = set(opts.joining) if opts.joining is not None else set(mentees) - old_ids
    ended = {(a, b): f"pair with {b} broken" for a, b in broken}
    ended.update({p: f"pair with {p[1]} reported not working" for p in previous.events.not_working})
    ended.update({(a, b): f"pair with {b} forbidden by hand" for a, b in forbid})
    ended.update({(a, ""): f"pair with {b} required by hand" for a, b in require})
    ended.update({("", b): f"made room for a pair with {b} required by hand" for _, b in require})
    ended.update({("", b): f"capacity of mentor {b} now {k}" for b, k in opts.capacity})
    rows = _pair_changes(old, new, mentees, ended, gone, joined)
    waiting = rows.change.eq("joined") & rows.after.isna()
    if waiting.any():  # a joiner left unmatched is listed with the reason
        left = result.unmatched
        unmatched = dict(zip(left.mentee_id.astype(str), left.reason, strict=True))
        rows["reason"] = [
            f"new in the programme, unmatched: {unmatched.get(x, 'no room')}" if w else r
            for x, w, r in zip(rows.mentee_id, waiting, rows.reason, strict=True)
        ]
    return Rematch(result, rows, kept, len(keep), tuple(new_broken))


def _existing_pairs(
    broken: Iterable[tuple[str, str]], old: set[tuple[str, str]], problems: list[Problem]
) -> list[tuple[str, str]]:
    """Each broken pair as the previous result has it (either order given); else a problem."""
    out = []
    for a, b in broken:
        if (a, b) in old or (b, a) in old:
            out.append((a, b) if (a, b) in old else (b, a))
        else:
            problems.append(
                Problem(
                    "broken pair is not a pair of the previous result",
                    value=f"({a}, {b})",
                    expected="a mentee and her mentor in the previous result, either order",
                )
            )
    return out


def _pairs_without(
    problem: PairProblem,
    pairs: Mapping[str, Iterable[tuple[str, str]]],
    gone: set[str],
    pos_a: dict[str, int],
    pos_b: dict[str, int],
) -> PairProblem:
    """The pair problem without ``pairs`` (by reason) and the leavers (in ``removed_by``).

    A mentor who left has no capacity and no minimum load.
    """
    allowed = problem.allowed.copy()
    demand = problem.demand.copy()
    cap = problem.capacity.copy()
    low = problem.minimum.copy()
    removed = dict(problem.removed_by)
    masks = []
    for name, named in pairs.items():
        cells = [(pos_a[a], pos_b[b]) for a, b in named if a in pos_a and b in pos_b]
        if cells:  # a full mask only for a reason that removes something
            mask = np.zeros_like(allowed)
            mask[tuple(np.array(cells).T)] = True
            masks.append((name, mask))
    left_mask = np.zeros_like(allowed)
    for x in gone:
        if x in pos_a:
            left_mask[pos_a[x], :] = True
            demand[pos_a[x]] = 0
        if x in pos_b:
            left_mask[:, pos_b[x]] = True
            cap[pos_b[x]] = low[pos_b[x]] = 0
    for name, mask in [*masks, ("left the programme", left_mask)]:
        if mask.any():
            removed[name] = mask
            allowed &= ~mask
    return replace(
        problem,
        allowed=allowed,
        scores=np.where(allowed, problem.scores, 0.0),
        demand=demand,
        capacity=cap,
        minimum=low,
        removed_by=removed,
    )


def _waiting(
    previous: Matching, p2: PairProblem, broken: list[tuple[str, str]], gone: set[str]
) -> IntArray:
    """Positions in ``p2`` of the mentees who wait (see ``priority`` in :func:`rematch`)."""
    before = previous.problem
    had = np.bincount(previous.assignment[:, 0], minlength=before.shape[0])
    short = {
        x for x, k, d in zip(_ids(before.mentee_ids), had, before.demand, strict=True) if k < d
    }
    if previous.roster is not None:  # a joiner since the file was written is not waiting
        short &= previous.roster
    old = previous.pairs[["mentee_id", "mentor_id"]].astype(str).values.tolist()
    hit = {a for a, b in old if (a, b) in set(broken) or b in gone}
    ids = _ids(p2.mentee_ids)
    return np.array(
        [i for i, x in enumerate(ids) if (x in short or x in hit) and p2.demand[i] > 0],
        dtype=np.int64,
    )


def _solve_pairs_keeping(
    p2: PairProblem, keep: list[tuple[int, int]], opts: _Options, first: IntArray | None = None
) -> Matching:
    """CP-SAT on ``p2`` with the rule to keep the previous pairs at ``keep``.

    Minimum loads are hard rules of both ways: the CP-SAT keep model states them (a flow
    first proves them feasible, or names the mentors who cannot get theirs), and the fast
    path (:func:`_solve_around`) counts the kept pairs towards them.
    """
    if p2.group_floors or p2.objective in ("maxmin-group", "maxmin-mentee"):
        # the keep model does not state them: refuse rather than return a result that breaks them
        raise ValidationError(
            [
                Problem(
                    "re-matching does not yet keep group match-rate floors or fair objectives",
                    value=p2.objective,
                    expected="a problem without rules.MatchRate, objective not maxmin-group "
                    "or maxmin-mentee (solve it again instead)",
                )
            ]
        )
    keep_arr = np.array(keep, dtype=np.int64).reshape(-1, 2)
    plan = TimePlan.of(opts.time_limit)
    if first is None and opts.penalty is None and _all_keepable(p2, keep_arr):
        try:
            return _solve_around(p2, keep_arr, opts, plan)
        except InfeasibleError:
            if not p2.minimum.any():
                raise
            # keeping every pair leaves a minimum unmet: some pair must move (the keep
            # model finds the fewest), or no answer meets them (it says who and why)
    min_kept = 0 if opts.max_changes is None else max(0, len(keep) - opts.max_changes)
    keep_rule = Keep(keep_arr, min_kept=min_kept, weight=opts.penalty, first=first)
    answer = solve_pairs(p2, "cpsat", plan, Seeds(opts.seed), keep=keep_rule)
    answer = replace(answer, method="cpsat (rematch)", timings={"solve": plan.elapsed()})
    result = build(p2, answer, plan.limit)
    assert isinstance(result, Matching)
    return result


def _all_keepable(p2: PairProblem, keep: IntArray) -> bool:
    """Whether every previous pair at ``keep`` can stay at once, on a plain problem.

    Then "fewest changes first" keeps them all, and the rest is the problem's own objective
    on what they leave (see :func:`_solve_around`). Plain: no panels, required pairs or
    everyone-matched rule or value caps, every required pair among the kept, objective
    ``total`` or ``matched-then-total``.
    """
    kept = set(map(tuple, keep.tolist()))
    if p2.panel is not None or not set(p2.required) <= kept or p2.all_matched or p2.value_caps:
        return False
    if p2.objective not in ("total", "matched-then-total"):
        return False
    n, m = p2.shape
    per_mentee = np.bincount(keep[:, 0], minlength=n)
    per_mentor = np.bincount(keep[:, 1], minlength=m)
    return bool(
        (per_mentee <= p2.demand).all()
        and (per_mentor <= p2.capacity).all()
        and p2.allowed[keep[:, 0], keep[:, 1]].all()
    )


def _solve_around(p2: PairProblem, keep: IntArray, opts: _Options, plan: TimePlan) -> Matching:
    """Keep every pair at ``keep``; the problem's own objective on the room they leave.

    Exact for the lexicographic order (fewest changes, then the objective) when all can
    stay: the kept pairs are a fixed part of every best answer, so the rest is the same
    problem with less capacity and demand (and minimum loads less the kept pairs), solved
    by its fastest exact method (assignment or flows), as fast as a first match.

    Raises
    ------
    InfeasibleError
        When the room left cannot meet the minimum loads (then some pair must change).
    """
    n, m = p2.shape
    allowed = p2.allowed.copy()
    allowed[keep[:, 0], keep[:, 1]] = False  # the same pair once
    # the solvers read scores only where allowed: the room shares p2's (no 8-byte copy per
    # cell); it never leaves this function
    rest = replace(
        p2,
        required=(),  # every required pair is kept (see _all_keepable)
        allowed=allowed,
        capacity=p2.capacity - np.bincount(keep[:, 1], minlength=m),
        demand=p2.demand - np.bincount(keep[:, 0], minlength=n),
        minimum=np.maximum(p2.minimum - np.bincount(keep[:, 1], minlength=m), 0),
    )
    answer = solve_pairs(rest, "auto", plan, Seeds(opts.seed))
    rows = np.unique(np.concatenate([keep, answer.rows.reshape(-1, 2)]), axis=0)
    kept_total = float(p2.scores[keep[:, 0], keep[:, 1]].sum())
    bound = None if answer.bound is None else float(answer.bound) + kept_total
    timings = {**answer.timings, "solve": plan.elapsed()}
    found = replace(
        answer, rows=rows, bound=bound, method=f"{answer.method} (rematch)", timings=timings
    )
    result = build(p2, found, plan.limit)
    assert isinstance(result, Matching)
    return result


def _pair_changes(
    old: list[list[str]],
    new: set[tuple[str, str]],
    mentees: list[str],
    ended: Mapping[tuple[str, str], str],
    gone: set[str],
    joined: set[str],
) -> pd.DataFrame:
    """The changes table of a pair re-match; ``ended``: why a pair ended (see _why_changed)."""
    before: dict[str, list[str]] = {}
    for a, b in old:
        before.setdefault(a, []).append(b)
    after: dict[str, list[str]] = {}
    for a, b in sorted(new):
        after.setdefault(a, []).append(b)
    records = []
    for a in sorted(set(before) | set(after) | (set(mentees) & joined)):
        was, now = sorted(before.get(a, [])), sorted(after.get(a, []))
        if was == now and a not in joined:
            continue
        if a in gone:
            change, reason = "left", "left the programme"
        elif a in joined or not was:
            change, reason = ("joined" if a in joined else "matched"), "new in the programme"
            if a not in joined:
                reason = "now matched"
        elif not now:
            change = "unmatched"
            reason = _why_changed(a, was, ended, gone)
        else:
            change = "changed"
            reason = _why_changed(a, was, ended, gone)
        records.append((a, "; ".join(was) or None, "; ".join(now) or None, change, reason))
    return pd.DataFrame(records, columns=["mentee_id", "before", "after", "change", "reason"])


def _why_changed(
    mentee: str, was: list[str], ended: Mapping[tuple[str, str], str], gone: set[str]
) -> str:
    """Why a mentee's mentors changed, in programme terms.

    ``ended`` maps (mentee, mentor) to why that pair ended, (mentee, "") to why she moved
    (a pair of hers required by hand), ("", mentor) to why that mentor's mentees moved.
    """
    for b in was:
        if (mentee, b) in ended:
            return ended[mentee, b]
        if b in gone:
            return f"mentor {b} left"
    if (mentee, "") in ended:
        return ended[mentee, ""]
    for b in was:
        if ("", b) in ended:
            return ended["", b]
    return "needed by the rules or capacities"


def _rematch_circles(
    previous: Circles, problem: CircleProblem, opts: _Options, problems: list[Problem]
) -> Rematch:
    ids = _ids(problem.person_ids)
    old_ids = _ids(previous.problem.person_ids)
    _check_ids(set(ids) | set(old_ids), opts.leaving, "leaving", problems)
    new_broken = _existing_pairs(opts.broken, _together(previous), problems)
    gone, broken = _all_events(previous, replace(opts, broken=tuple(new_broken)), set(ids))
    placed = {old_ids[i] for i in previous.assignment[:, 1].tolist()}
    _absent(placed, set(ids), gone, problems)
    forbid, require = _by_hand(previous, opts, set(ids) - gone, problems)
    if problems:
        raise ValidationError(problems)
    p2 = _circles_without(problem, ids, gone, {"broken pair": broken, "forbidden by hand": forbid})
    p2 = _fitting(_together_with(p2, require))
    pos2 = positions(_ids(p2.person_ids))
    # previous circle-mates who are both still here (and not broken apart)
    here = _still_here(previous, old_ids, pos2)
    mates = np.zeros((p2.n, p2.n), dtype=bool)
    for members in here:
        mates[np.ix_(members, members)] = True
    np.fill_diagonal(mates, False)
    mates &= ~p2.apart
    result = _solve_circles_keeping(p2, mates, opts)
    # each previous circle continues as the new circle holding most of its members; a
    # person is kept when she is in her previous circle's successor
    new_of = result.circle_of
    successor: dict[int, int] = {}
    for g, members in enumerate(here):
        if members:
            counts = np.bincount(new_of[members][new_of[members] >= 0], minlength=p2.n_circles)
            successor[g] = int(counts.argmax())
    result, successor = _stable_numbers(result, successor)
    new_of = result.circle_of
    records, kept, keepable = _circle_changes(previous, old_ids, p2, new_of, successor, opts)
    if opts.max_changes is not None and keepable - kept > opts.max_changes:
        raise InfeasibleError(
            [
                f"the best re-matching found moves {keepable - kept} people, "
                f"more than {opts.max_changes}"
            ]
        )
    changes = pd.DataFrame(records, columns=["person_id", "before", "after", "change", "reason"])
    changes = changes.astype({"before": "Int64", "after": "Int64"})  # circle numbers, or none
    return Rematch(result, changes, kept, keepable, tuple(new_broken))


def _stable_numbers(result: Circles, successor: dict[int, int]) -> tuple[Circles, dict[int, int]]:
    """The new circles renumbered so that each previous circle's successor keeps its number.

    Only where every circle has the same size bounds (then numbers are only names); the
    first previous circle (by number) that a new circle continues gives it its number, the
    other new circles take the numbers left, in order. Returns the result and the
    successors under the new numbers.
    """
    q = result.problem
    m = q.n_circles
    if len(set(zip(q.min_size.tolist(), q.max_size.tolist(), strict=True))) > 1:
        return result, successor
    label: dict[int, int] = {}
    for g, new in sorted(successor.items()):
        if new not in label and g < m:
            label[new] = g
    free = iter([k for k in range(m) if k not in set(label.values())])
    perm = np.array([label[k] if k in label else next(free) for k in range(m)], dtype=np.int64)
    rows = result.assignment.copy()
    rows[:, 0] = perm[rows[:, 0]]
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    renumbered = replace(result, assignment=np.ascontiguousarray(rows[order]))
    return renumbered, {g: int(perm[new]) for g, new in successor.items()}


def _circles_without(
    problem: CircleProblem,
    ids: list[str],
    gone: set[str],
    pairs: Mapping[str, Iterable[tuple[str, str]]],
) -> CircleProblem:
    """The circle problem without the leavers, ``pairs`` (by reason) kept apart."""
    stay = np.array([i for i, x in enumerate(ids) if x not in gone], dtype=np.int64)
    p2 = problem.take(stay)
    pos2 = positions(_ids(p2.person_ids))
    apart = p2.apart.copy()
    removed = dict(p2.removed_by)
    for name, named in pairs.items():
        mask = np.zeros_like(apart)
        for a, b in named:
            if a in pos2 and b in pos2:
                mask[pos2[a], pos2[b]] = mask[pos2[b], pos2[a]] = True
        if mask.any():
            apart |= mask
            removed[name] = mask
    return replace(p2, apart=apart, removed_by=removed)


def _fitting(p2: CircleProblem) -> CircleProblem:
    """``p2`` with the count nearest to its own that its sizes allow, if its own does not.

    Leavers may leave too few people for the previous count (23 people cannot fill six
    circles of 4-6), joiners too many; then the nearest count that fits is used (ties to
    the fewer circles), and the members of a closed circle move.
    """
    counts = p2.fitting_counts()
    if p2.count_free or not counts or p2.n_circles in counts:
        return p2
    return p2.with_count(min(counts, key=lambda k: (abs(k - p2.n_circles), k)))


def _together_with(p2: CircleProblem, pairs: Iterable[tuple[str, str]]) -> CircleProblem:
    """``p2`` with each pair in one keep-together group (groups that meet are merged)."""
    pos2 = positions(_ids(p2.person_ids))
    links = [(pos2[a], pos2[b]) for a, b in pairs if a in pos2 and b in pos2]
    if not links:
        return p2
    root = list(range(p2.n))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for group in p2.together:
        for i in group[1:]:
            root[find(i)] = find(group[0])
    for i, j in links:
        root[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(p2.n):
        groups.setdefault(find(i), []).append(i)
    together = tuple(tuple(g) for g in groups.values() if len(g) > 1)
    for g in together:
        if p2.apart[np.ix_(g, g)].any():
            names = [name for name, mask in p2.removed_by.items() if mask[np.ix_(g, g)].any()]
            ids = _ids(p2.person_ids[list(g)])
            raise InfeasibleError(
                [
                    f"required together: {', '.join(ids)}, but kept apart by "
                    + (", ".join(names) or "a hard rule")
                ]
            )
    return replace(p2, together=together)


def _still_here(previous: Circles, old_ids: list[str], pos2: dict[str, int]) -> list[list[int]]:
    """For each previous circle, the positions in the new problem of its members still here."""
    return [
        [pos2[old_ids[i]] for i in previous.members(g).tolist() if old_ids[i] in pos2]
        for g in range(previous.problem.n_circles)
    ]


def _solve_circles_keeping(p2: CircleProblem, mates: BoolArray, opts: _Options) -> Circles:
    """Solve ``p2`` with a bonus for each pair of previous circle-mates kept together."""
    # keeping a previous circle-mate is worth more than any affinity gain
    penalty = opts.penalty
    bonus = 1.0 + float(np.abs(p2.affinity).sum()) if penalty is None else float(penalty)
    biased = replace(p2, affinity=p2.affinity + bonus * mates)
    found = solve(biased, time_limit=opts.time_limit, seed=opts.seed, progress=opts.progress)
    # the biased solve's bound is for the biased objective: the plain one is proved here
    answer = Answer(
        found.assignment,
        optimal=False,
        method=f"{found.method} (rematch)",
        bound=simple_bound(found.problem, build_units(found.problem)),
        timings=dict(found.timings),
        left_out=dict(found.left_out),
        sizes=(found.problem.min_size, found.problem.max_size),
    )
    result = build(p2, answer)
    assert isinstance(result, Circles)
    return result


def _circle_changes(
    previous: Circles,
    old_ids: list[str],
    p2: CircleProblem,
    new_of: IntArray,
    successor: dict[int, int],
    opts: _Options,
) -> tuple[list[tuple[str, int | None, int | None, str, str]], int, int]:
    """The changes table's rows (moved, joined, left), the people kept and keepable."""
    old_circle: dict[str, set[int]] = {}
    for g, i in previous.assignment.tolist():
        old_circle.setdefault(old_ids[i], set()).add(int(g))
    listed = None if opts.joining is None else set(opts.joining)
    records: list[tuple[str, int | None, int | None, str, str]] = []
    kept = keepable = 0
    for k, x in enumerate(_ids(p2.person_ids)):
        if x in old_circle:
            g = _first(old_circle[x])
            keepable += 1
            if new_of[k] == successor.get(g, -1):
                kept += 1
                continue
            broke = [b for a, b in opts.broken if a == x] + [a for a, b in opts.broken if b == x]
            reason = f"pair with {broke[0]} broken" if broke else "rules, leavers or joiners"
            if not broke and p2.n_circles != previous.problem.n_circles:
                reason = (
                    f"{p2.n_circles} circles now ({previous.problem.n_circles} no longer fit "
                    "the people here)"
                )
            records.append((x, g, int(new_of[k]), "moved", reason))
        else:
            reason = "new in the programme"
            if listed is not None and x not in listed:
                reason = "not in the previous circles"
            records.append((x, None, int(new_of[k]), "joined", reason))
    for x in sorted(set(opts.leaving) & set(old_circle)):
        records.append((x, _first(old_circle[x]), None, "left", "left the programme"))
    return records, kept, keepable


def _first(circles: set[int]) -> int:
    return min(circles)
