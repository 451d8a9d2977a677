"""Independent validation of a result against its problem.

Written apart from the solvers on purpose (no shared code): it re-derives every hard rule
from the problem's plain arrays, pair by pair, and lists each violation it finds.
"""

from __future__ import annotations

from collections import Counter

from pairwise.problem import PairProblem
from pairwise.results import Matching

__all__ = ["check"]


def check(problem: PairProblem, result: Matching) -> list[str]:
    """Every hard rule that ``result`` violates, as readable sentences (empty when valid).

    Parameters
    ----------
    problem : PairProblem
    result : Matching

    Returns
    -------
    list of str
        Sorted violations; ``[]`` means every hard rule holds.
    """
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
    for j, count in per_mentor.items():
        if 0 <= j < m and count > int(problem.capacity[j]):
            out.append(
                f"mentor {mentor_ids[j]} has {count} mentees, capacity {problem.capacity[j]}"
            )
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
    total = sum(float(problem.scores[i][j]) for i, j in pairs if 0 <= i < n and 0 <= j < m)
    if abs(total - result.objective) > 1e-6 * max(1.0, abs(total)):
        out.append(f"reported objective {result.objective} differs from the pairs' total {total}")
    if result.bound < result.objective - 1e-9 * max(1.0, abs(total)):
        out.append(f"bound {result.bound} is below the objective {result.objective}")
    return sorted(out)


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
