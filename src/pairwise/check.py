"""Independent validation of a result against its problem.

Written apart from the solvers on purpose (no shared code): it re-derives every hard rule
from the problem's plain arrays, pair by pair, and lists each violation it finds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import overload

import numpy as np
import numpy.typing as npt

from pairwise.circles import CircleProblem
from pairwise.events import Events
from pairwise.problem import PairProblem
from pairwise.results import Circles, Matching

__all__ = ["check"]


@overload
def check(problem: PairProblem, result: Matching) -> list[str]: ...


@overload
def check(problem: CircleProblem, result: Circles) -> list[str]: ...


def check(problem: PairProblem | CircleProblem, result: Matching | Circles) -> list[str]:
    """Every hard rule that ``result`` violates, as readable sentences (empty when valid).

    Parameters
    ----------
    problem : PairProblem or CircleProblem
    result : Matching or Circles

    Returns
    -------
    list of str
        Sorted violations; ``[]`` means every hard rule holds.
    """
    if isinstance(problem, CircleProblem):
        if not isinstance(result, Circles):
            return ["a circle problem needs a Circles result"]
        moved, unknown = _by_ids(problem, result)
        return sorted(unknown + _check_circles(problem, moved))
    if not isinstance(result, Matching):
        return ["a pairing problem needs a Matching result"]
    out: list[str] = []
    n, m = problem.scores.shape
    pairs = [(int(i), int(j)) for i, j in result.assignment.tolist()]
    mentee_ids = [str(x) for x in problem.mentee_ids]
    mentor_ids = [str(x) for x in problem.mentor_ids]
    seen: set[tuple[int, int]] = set()
    per_mentee: Counter[int] = Counter()
    per_mentor: Counter[int] = Counter()
    for i, j in pairs:
        if not (0 <= i < n and 0 <= j < m):
            out.append(f"pair ({i}, {j}) is outside the problem")
            continue
        if (i, j) in seen:
            out.append(f"pair ({mentee_ids[i]}, {mentor_ids[j]}) appears twice")
        seen.add((i, j))
        if not bool(problem.allowed[i][j]):
            out.append(f"pair ({mentee_ids[i]}, {mentor_ids[j]}) is not allowed")
        per_mentee[i] += 1
        per_mentor[j] += 1
    changed = result.events.capacities  # changed at a re-match: the latest holds
    for j, count in per_mentor.items():
        if 0 <= j < m and mentor_ids[j] not in changed and count > int(problem.capacity[j]):
            out.append(
                f"mentor {mentor_ids[j]} has {count} mentees, capacity {problem.capacity[j]}"
            )
    low = getattr(problem, "minimum", ())
    gone = result.events.leavers  # a mentor who left owes no minimum; a lowered capacity caps it
    for j in range(len(low)):
        need = min(int(low[j]), changed.get(mentor_ids[j], int(low[j])))
        if mentor_ids[j] not in gone and per_mentor[j] < need:
            out.append(f"mentor {mentor_ids[j]} has {per_mentor[j]} mentees, minimum {need}")
    for i, count in per_mentee.items():
        if 0 <= i < n and count > int(problem.demand[i]):
            out.append(f"mentee {mentee_ids[i]} has {count} mentors, asked for {problem.demand[i]}")
    for i, j in problem.required:
        if (i, j) not in seen:
            out.append(f"required pair ({mentee_ids[i]}, {mentor_ids[j]}) is missing")
    if problem.all_matched:
        for i in range(n):
            if per_mentee[i] < int(problem.demand[i]):
                out.append(f"mentee {mentee_ids[i]} is not fully matched")
    if problem.panel is not None:
        out.extend(_panel_violations(problem, result, pairs, mentee_ids, mentor_ids))
    where = {x: j for j, x in enumerate(mentor_ids)}
    for x, k in sorted(changed.items()):
        if x in where and per_mentor[where[x]] > k:
            out.append(f"mentor {x} has {per_mentor[where[x]]} mentees, capacity now {k}")
    named = [(mentee_ids[i], mentor_ids[j]) for i, j in pairs if 0 <= i < n and 0 <= j < m]
    groups = [(f"pair ({a}, {b})", [a, b]) for a, b in named]
    out.extend(_event_violations(result.events, groups, set(mentee_ids) | set(mentor_ids)))
    total = sum(float(problem.scores[i][j]) for i, j in pairs if 0 <= i < n and 0 <= j < m)
    out.extend(_objective_violations(result.objective, result.bound, total))
    out.extend(_group_floor_violations(problem, pairs))
    out.extend(_value_cap_violations(problem, pairs))
    if problem.objective.startswith("stable"):
        out.extend(_stability_violations(problem, pairs, mentee_ids, mentor_ids))
    return sorted(out)


def _places(problem: PairProblem, mentor_side: bool) -> npt.NDArray[np.int64]:
    """Where each partner stands in each person's preferences (0 = most preferred).

    The documented order: ranked partners first, by rank; then the rest by score, highest
    first; ties to the lower position. Forbidden partners are not ranked apart: they
    cannot block, which the caller masks.
    """
    scores = np.asarray(problem.scores, dtype=np.float64)
    ranks = problem.ranks
    rank = np.zeros(scores.shape) if ranks is None else np.asarray(ranks[int(mentor_side)])
    if mentor_side:
        scores, rank = scores.T, rank.T
    unranked = np.where(rank > 0, rank, np.inf)  # ranked first, by rank
    position = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    out = np.empty(scores.shape, dtype=np.int64)
    for r in range(scores.shape[0]):
        order = np.lexsort((position[r], -scores[r], unranked[r]))
        out[r, order] = np.arange(len(order))
    return out.T if mentor_side else out


def _stability_violations(
    problem: PairProblem, pairs: list[tuple[int, int]], mentee_ids: list[str], mentor_ids: list[str]
) -> list[str]:
    """Under a stable objective: every pair that blocks, at most ten named, and the count.

    A pair ``(i, j)``, allowed and not matched, blocks when she has room or prefers him to
    her least preferred mentor, and he has room or prefers her to his least preferred
    mentee.
    """
    n, m = problem.scores.shape
    place_a, place_b = _places(problem, False), _places(problem, True)
    worst_a = np.full(n, -1, dtype=np.int64)  # -1: nobody yet (any partner is better)
    worst_b = np.full(m, -1, dtype=np.int64)
    load_a, load_b = np.zeros(n, dtype=np.int64), np.zeros(m, dtype=np.int64)
    matched = np.zeros((n, m), dtype=bool)
    for i, j in pairs:
        if 0 <= i < n and 0 <= j < m:
            matched[i, j] = True
            load_a[i] += 1
            load_b[j] += 1
            worst_a[i] = max(worst_a[i], place_a[i, j])
            worst_b[j] = max(worst_b[j], place_b[i, j])
    wants_a = (load_a < problem.demand)[:, None] | (place_a < worst_a[:, None])
    wants_b = (load_b < problem.capacity)[None, :] | (place_b < worst_b[None, :])
    blocking = np.argwhere(problem.allowed & ~matched & wants_a & wants_b)
    out = [
        f"pair ({mentee_ids[i]}, {mentor_ids[j]}) blocks the {problem.objective} matching"
        for i, j in blocking[:10].tolist()
    ]
    if len(blocking) > 10:
        out.append(f"{len(blocking)} blocking pairs in all under objective {problem.objective}")
    return out


def _by_ids(problem: CircleProblem, result: Circles) -> tuple[Circles, list[str]]:
    """``result`` with its rows placed in ``problem`` by person id, and ids it lacks.

    A re-match's result is for the problem without its leavers; its ``unplaced`` table
    is read by id, so ``left_out`` stays as it is.
    """
    theirs = [str(x) for x in result.problem.person_ids]
    ours = [str(x) for x in problem.person_ids]
    if theirs == ours:
        return result, []
    where = {x: k for k, x in enumerate(ours)}
    rows = [(g, where[theirs[i]]) for g, i in result.assignment.tolist() if theirs[i] in where]
    unknown = sorted({theirs[i] for _, i in result.assignment.tolist() if theirs[i] not in where})
    arr = np.array(sorted(rows), dtype=np.int64).reshape(-1, 2)
    moved = replace(result, assignment=arr)
    return moved, [f"{x} is in the result but not in the problem" for x in unknown]


def _event_violations(
    events: Events, groups: list[tuple[str, list[str]]], present: set[str]
) -> list[str]:
    """What the events forbid or require; ``groups``: (name, ids) of pairs or circles.

    Leavers placed, broken pairs or pairs forbidden by hand together again, and pairs
    required by hand apart although both are ``present`` (in the problem, or placed in a
    circle) and neither left.
    """
    out = []
    gone = events.leavers
    broken = events.broken_pairs
    forbidden, required = events.by_hand
    together: set[frozenset[str]] = set()
    for name, group in groups:
        here = set(group)
        for x in sorted(here & gone):
            out.append(f"{x} left the programme but is in {name}")
        for a, b in sorted(broken):
            if a in here and b in here:
                out.append(f"broken pair ({a}, {b}) is together again in {name}")
        for a, b in sorted(forbidden):
            if a in here and b in here:
                out.append(f"pair ({a}, {b}) forbidden by hand is together in {name}")
        together |= {frozenset((a, b)) for a, b in required if a in here and b in here}
    for a, b in sorted(required):
        if {a, b} <= present - gone and frozenset((a, b)) not in together:
            out.append(f"pair ({a}, {b}) required by hand is not together")
    return out


def _group_floor_violations(problem: PairProblem, pairs: list[tuple[int, int]]) -> list[str]:
    """Each group floor (:class:`~pairwise.rules.MatchRate`) holds: mentees with a mentor."""
    has = {i for i, _ in pairs}
    out = []
    for floor in problem.group_floors:
        got = sum(1 for i in floor.members.tolist() if i in has)
        if got < floor.at_least:
            out.append(
                f"{floor.name}: {got} of {len(floor.members)} mentees matched, "
                f"at least {floor.at_least} must be"
            )
    return out


def _value_cap_violations(problem: PairProblem, pairs: list[tuple[int, int]]) -> list[str]:
    """Each value cap (:class:`~pairwise.rules.AtMost`): a mentor's mentees per value."""
    out = []
    n, m = problem.shape
    for cap in problem.value_caps:
        count: dict[tuple[int, int], int] = {}
        for i, j in pairs:
            if not (0 <= i < n and 0 <= j < m):
                continue  # reported as an unknown position above
            for v in np.flatnonzero(cap.member[i]).tolist():
                count[(j, v)] = count.get((j, v), 0) + 1
        for (j, v), c in sorted(count.items()):
            if c > cap.k:
                out.append(
                    f"{cap.rule}: mentor {problem.mentor_ids[j]} has {c} mentees of "
                    f"{cap.group(v)}, at most {cap.k} allowed"
                )
    return out


def _objective_violations(objective: float, bound: float | None, total: float) -> list[str]:
    """The reported objective is the recomputed one, and the bound is not below it."""
    out = []
    if abs(total - objective) > 1e-6 * max(1.0, abs(total)):
        out.append(f"reported objective {objective} differs from the recomputed {total}")
    if bound is not None and bound < objective - 1e-9 * max(1.0, abs(total)):
        out.append(f"bound {bound} is below the objective {objective}")
    return out


def _panel_violations(
    problem: PairProblem,
    result: Matching,
    pairs: list[tuple[int, int]],
    mentee_ids: list[str],
    mentor_ids: list[str],
) -> list[str]:
    """Each panel pair covers a topic she asked about and he offers, one mentor per topic."""
    assert problem.panel is not None
    names, needs, offers = problem.panel
    if result.topics is None or len(result.topics) != len(pairs):
        return ["panel result does not say which topic each pair covers"]
    out = []
    covered: set[tuple[int, int]] = set()
    for (i, j), t in zip(pairs, [int(x) for x in result.topics.tolist()], strict=True):
        if not 0 <= t < len(names):
            out.append(f"pair ({mentee_ids[i]}, {mentor_ids[j]}) covers no known topic")
            continue
        if not bool(needs[i][t]):
            out.append(f"pair ({mentee_ids[i]}, {mentor_ids[j]}) covers {names[t]}, not her topic")
        if not bool(offers[j][t]):
            out.append(f"mentor {mentor_ids[j]} does not offer {names[t]} to {mentee_ids[i]}")
        if (i, t) in covered:
            out.append(f"mentee {mentee_ids[i]} has two mentors for {names[t]}")
        covered.add((i, t))
    return out


def _published_violations(
    problem: CircleProblem, result: Circles, circles: list[list[int]]
) -> list[str]:
    """Every circle's published label (``slot``, ``language``) is held by all its members."""
    out: list[str] = []
    if not problem.shared:
        return out
    frame = result.circles
    for shared in problem.shared:
        column = shared.field
        if column not in frame.columns:
            out.append(f"the result publishes no '{column}' for '{shared.name}'")
            continue
        index = {label: k for k, label in enumerate(shared.labels)}
        for g, label in zip(frame["circle"].tolist(), frame[column].tolist(), strict=True):
            members = circles[int(g)] if 0 <= int(g) < len(circles) else []
            if not members:
                continue
            k = index.get(label, -1) if isinstance(label, str) else -1
            lacking = [i for i in members if k < 0 or not shared.member[i, k]]
            if lacking:
                out.append(f"circle {g}: {len(lacking)} member(s) lack its published {shared.noun}")
    return out


def _formed_sizes(
    problem: CircleProblem, result: Circles, out: list[str]
) -> tuple[int, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The circles and size bounds a result must keep.

    The problem's own, unless its count was the solver's to choose (no ``n_circles``) or
    its balanced sizes were chosen again for the people placed: then the circles formed,
    which must keep the one size range stated (and, balanced, sizes at most one apart,
    checked apart).
    """
    m, low, high = problem.n_circles, problem.min_size, problem.max_size
    formed = result.problem
    differs = formed.n_circles != m or not (
        np.array_equal(formed.min_size, low) and np.array_equal(formed.max_size, high)
    )
    free = problem.count_free or problem.balanced or _count_moved(problem, result)
    if free and differs and problem.size_range is not None:
        a, b = problem.size_range
        if len(formed.min_size) and formed.min_size.min() >= a and formed.max_size.max() <= b:
            return formed.n_circles, formed.min_size, formed.max_size
        out.append("the result's circles do not keep the problem's size range")
    return m, low, high


def _count_moved(problem: CircleProblem, result: Circles) -> bool:
    """Whether a re-match had to change the count: the problem's no longer fits its people.

    Leavers may leave too few people for the problem's count, joiners too many; a
    re-match then uses another count that fits (see :func:`pairwise.rematch`).
    """
    if result.events.rounds == 0:
        return False
    gone = result.events.leavers
    stay = [i for i, x in enumerate(problem.person_ids) if str(x) not in gone]
    counts = problem.take(np.array(stay, dtype=np.int64)).fitting_counts()
    return bool(counts) and problem.n_circles not in counts


def _check_circles(problem: CircleProblem, result: Circles) -> list[str]:
    """Every violated rule of a circle result, person by person and circle by circle."""
    out: list[str] = []
    n = problem.n
    m, low, high = _formed_sizes(problem, result, out)
    ids = [str(x) for x in problem.person_ids]
    leaders = {int(j): int(k) for j, k in zip(problem.leaders, problem.leads, strict=True)}
    circles: list[list[int]] = [[] for _ in range(m)]
    times: Counter[int] = Counter()
    where_id = {x: k for k, x in enumerate(ids)}
    left_out = {where_id.get(str(x), -1) for x in result.unplaced["person_id"].tolist()}
    for g, i in result.assignment.tolist():
        if not (0 <= g < m and 0 <= i < n):
            out.append(f"row (circle {g}, person {i}) is outside the problem")
            continue
        if i in circles[g]:
            out.append(f"{ids[i]} is listed twice in circle {g}")
            continue
        circles[g].append(i)
        times[i] += 1
    for i in range(n):
        if i in leaders:
            if times[i] > leaders[i]:
                out.append(f"mentor {ids[i]} leads {times[i]} circles, at most {leaders[i]}")
        elif problem.mentor_led and bool(problem.mentor_mask[i]):
            if times[i]:
                out.append(f"mentor {ids[i]} may not lead but is in a circle")
        elif i in left_out:
            if times[i]:
                out.append(f"{ids[i]} is listed as unplaced but is in {times[i]} circle(s)")
            elif problem.all_placed:
                out.append(f"{ids[i]} is unplaced but the problem places everyone")
        elif ids[i] in result.events.leavers:
            continue  # in a circle: listed with the events
        elif times[i] != 1:
            out.append(f"{ids[i]} is in {times[i]} circles, not 1")
    where: dict[int, set[int]] = {}
    for g, members in enumerate(circles):
        for i in members:
            where.setdefault(i, set()).add(g)
        size = len(members)
        lo, hi = int(low[g]), int(high[g])
        if not lo <= size <= hi:
            out.append(f"circle {g} has {size} members, allowed {lo}-{hi}")
        if problem.mentor_led:
            led = [i for i in members if i in leaders]
            if len(led) != 1:
                out.append(f"circle {g} has {len(led)} mentors, not 1")
        for a in range(size):
            for b in range(a + 1, size):
                i, j = members[a], members[b]
                if problem.apart[i, j]:
                    out.append(f"{ids[i]} and {ids[j]} share circle {g} but must be apart")
        for shared in problem.shared:
            labels = set(range(len(shared.labels)))
            for i in members:
                labels &= {k for k in range(len(shared.labels)) if shared.member[i, k]}
            if members and not labels:
                out.append(f"circle {g} has no common label for '{shared.name}'")
        for count in problem.counts:
            for k, label in enumerate(count.labels):
                c = sum(1 for i in members if count.member[i, k])
                if count.at_most is not None and c > count.at_most:
                    out.append(f"circle {g} has {c} with {label}, '{count.name}' allows at most")
                if c < count.at_least and not (count.or_none and c == 0):
                    out.append(f"circle {g} has {c} with {label}, '{count.name}' needs more")
    out.extend(_published_violations(problem, result, circles))
    sizes = [len(ms) for ms in circles]
    if problem.balanced and sizes and max(sizes) - min(sizes) > 1:
        out.append(f"circle sizes {min(sizes)}-{max(sizes)} differ by more than one (balanced)")
    for group in problem.together:
        placed = [i for i in group if i not in left_out]  # one left out: the others together
        shared_circles = set.intersection(*(where.get(i, set()) for i in placed or group))
        if placed and not shared_circles:
            out.append(f"{', '.join(ids[i] for i in group)} must share a circle")
    out.extend(_objective_violations(result.objective, result.bound, _value(problem, circles)))
    named = [(f"circle {g}", [ids[i] for i in ms]) for g, ms in enumerate(circles)]
    out.extend(_event_violations(result.events, named, {x for _, ms in named for x in ms}))
    return sorted(out)


def _value(problem: CircleProblem, circles: list[list[int]]) -> float:
    """The objective recomputed from the circles: the total, or the sum of member means."""
    total = 0.0
    for members in circles:
        within = 0.0
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                within += float(problem.affinity[members[a], members[b]])
        if problem.objective == "mean":  # each member's mean, summed: 2 S / (k - 1)
            total += 2.0 * within / (len(members) - 1) if len(members) > 1 else 0.0
        else:
            total += within
    return total
