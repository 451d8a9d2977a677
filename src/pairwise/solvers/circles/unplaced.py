"""People who cannot be placed in any circle, found by counting before any search.

A circle problem fails as a whole when one person cannot be placed: a blank slot answer
under a shared-slot rule, a language nobody else speaks, a region of one under a
same-region rule, keep-apart lists that leave too few possible circle-mates, more people
than the circles hold. By default (``CircleProblem.all_placed`` is False) these people are
left out with the reason in programme terms and the rest are solved; with
``all_placed=True`` the reasons are the conflicts of an
:class:`~pairwise.errors.InfeasibleError`.

The tests are necessary conditions, applied until nothing changes (leaving one person out
can strand another): for every shared rule, a label she holds with enough others still in
(a circle of the smallest size, and a mentor who may lead it for mentor-led circles); enough
others she may share a circle with; then the size arithmetic (the circles hold at most so
many; with the count chosen by the constructor the count is chosen again for the people
left). They find everyone a rule strands on its own. Combinations they do not see (two
rules that each leave enough partners but never the same ones) remain the search's: it
raises ``InfeasibleError`` naming the rules, as before.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pairwise.circles import CircleProblem, circle_count

__all__ = ["Leftover", "leave_out"]

IntArray = npt.NDArray[np.int64]


class Leftover:
    """The people left out of a circle problem and the problem of the others.

    Attributes
    ----------
    reasons : dict of int to str
        Position -> why she cannot be placed (a sentence without any of her answers).
    rest : ndarray of int64
        Positions of everyone else, in order (the rows of :attr:`problem`).
    problem : CircleProblem
        The problem of the others (its circle count chosen again when the constructor
        chose the original one).
    """

    def __init__(self, reasons: dict[int, str], rest: IntArray, problem: CircleProblem) -> None:
        self.reasons, self.rest, self.problem = reasons, rest, problem


def leave_out(p: CircleProblem) -> Leftover:
    """Who cannot be placed (see the module docstring), and the problem of everyone else.

    Examples
    --------
    >>> import numpy as np, pairwise
    >>> p = pairwise.CircleProblem.from_affinity(np.ones((7, 7)), min_size=4, max_size=6)
    >>> out = leave_out(p)
    >>> out.reasons, out.problem.n, out.problem.n_circles
    ({6: 'no room: 7 people for 1 circle of at most 6'}, 6, 1)
    """
    reasons = _stranded(p)
    active = [i for i in range(p.n) if i not in reasons]
    sub = _refit(p.take(np.array(active, dtype=np.int64)))
    extra = _no_room(sub)
    if extra:
        gone = set(extra)
        for k, why in extra.items():
            reasons[active[k]] = why
        keep = [k for k in range(sub.n) if k not in gone]
        sub = _refit(sub.take(np.array(keep, dtype=np.int64)))
        active = [active[k] for k in keep]
    return Leftover(dict(sorted(reasons.items())), np.array(active, dtype=np.int64), sub)


def _stranded(p: CircleProblem) -> dict[int, str]:
    """People a rule strands (fixed point: leaving one out may strand another)."""
    leaders = set(p.leaders.tolist())
    lo = int(p.min_size.min()) if len(p.min_size) else 1
    active = np.ones(p.n, dtype=bool)
    lead = np.zeros(p.n, dtype=bool)
    lead[list(leaders)] = True
    out: dict[int, str] = {}
    changed = True
    while changed:
        changed = False
        for i in range(p.n):
            if not active[i] or i in leaders:
                continue
            why = _why(p, i, active, lead, lo)
            if why is not None:
                out[i] = why
                active[i] = False
                changed = True
    return out


def _why(
    p: CircleProblem, i: int, active: npt.NDArray[np.bool_], lead: npt.NDArray[np.bool_], lo: int
) -> str | None:
    """Why person ``i`` cannot be placed among the ``active`` people, or None."""
    mates = active & ~p.apart[i]
    mates[i] = True
    for rule in p.shared:
        held = np.flatnonzero(rule.member[i])
        if len(held) == 0:
            return f"has no {rule.noun} ({rule.name})"
        with_her = rule.member[np.ix_(mates, held)]
        enough = with_her.sum(axis=0) >= lo
        if p.mentor_led:
            enough &= rule.member[np.ix_(mates & lead, held)].any(axis=0)
        if not enough.any():
            return f"shares no {rule.noun} with enough others for a circle of {lo} ({rule.name})"
    if int(mates.sum()) < lo:
        names = [k for k, f in p.removed_by.items() if f[i].any()] or ["keep apart"]
        return f"is kept apart from too many others for a circle of {lo} ({', '.join(names)})"
    if p.mentor_led and not (mates & lead).any():
        return "has no mentor who may lead her circle"
    return None


def _refit(p: CircleProblem) -> CircleProblem:
    """Sizes chosen again for the people of ``p`` (when some are left out).

    The count, when the constructor chose it, and the balanced bounds, when sizes must
    differ by at most one.
    """
    if not (p.count_free or p.balanced) or p.size_range is None or not len(p.min_size):
        return p
    m = len(p.min_size)
    if p.count_free:
        lead = 1 if p.mentor_led else 0
        low, high = p.size_range
        slots = int(p.leads.sum()) if lead else None
        m = circle_count(p.n_members, low - lead, high - lead, slots) or m
    q = p.with_count(m, spare=True)
    same = len(q.min_size) == len(p.min_size)
    if same and (q.min_size == p.min_size).all() and (q.max_size == p.max_size).all():
        return p
    return q


def _no_room(p: CircleProblem) -> dict[int, str]:
    """People beyond what the circles hold: those with the least affinity to the others."""
    must = np.ones(p.n, dtype=bool)
    if p.mentor_led:
        must[p.leaders] = False
        room = int(p.max_size.sum()) - len(p.max_size)
    else:
        room = int(p.max_size.sum())
    people = int(must.sum())
    if people <= room:
        return {}
    grouped = {i for g in p.together for i in g}
    pull = np.where(np.isfinite(p.affinity), p.affinity, 0.0).sum(axis=1)
    order = sorted(
        (i for i in np.flatnonzero(must).tolist() if i not in grouped),
        key=lambda i: (pull[i], -i),
    )
    m = len(p.max_size)
    circles = f"{m} circle{'s' if m != 1 else ''}"
    why = f"no room: {people} people for {circles} of at most {int(p.max_size.max())}"
    return {i: why for i in order[: people - room]}
