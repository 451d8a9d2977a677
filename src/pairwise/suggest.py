"""Short lists of mentors for each mentee, within the mentors' capacity.

Platforms that let mentees choose show each one a few mentors to pick from. Showing every
mentee her own best ``k`` sends the popular mentors to everyone: they are asked by far more
mentees than they can take, and the others by nobody. :func:`suggest` chooses the lists
together, as one min-cost flow: each mentee gets up to ``k`` allowed mentors, no mentor is
suggested to more than ``multiple`` times her capacity, and among those lists it takes

1. as many suggestions as the rules and the limits allow,
2. spread as evenly over the mentees as they can be (nobody gets a third suggestion while
   another who could have a second has one),
3. the largest total score.

The flow: source -> mentee *i* by ``k`` parallel arcs, the *r*-th with bonus
``(k - r + 1) * M`` -> mentor *j* (one arc per allowed pair, the pair's score) -> sink
(``floor(multiple * capacity[j])``). ``M`` is larger than any total of scores, so every
extra suggestion outweighs any score, and a unit moved from a mentee with ``d`` suggestions
to one with ``d' < d - 1`` gains ``(d - d' - 1) M``: the optimum holds the most suggestions,
and its counts per mentee are the most even of all feasible ones (with a symmetric convex
cost, a min-cost flow's degree vector is lexicographically optimal [1]_). Exact and
polynomial, like the ``flow`` pair method.

References
----------
.. [1] S. Fujishige, *Submodular Functions and Optimization*, 2nd ed., Annals of Discrete
   Mathematics 58, Elsevier, 2005 (lexicographically optimal bases, ch. 9).
.. [2] R. K. Ahuja, T. L. Magnanti and J. B. Orlin, *Network Flows: Theory, Algorithms,
   and Applications*, Prentice Hall, 1993 (convex-cost flow by parallel arcs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from ortools.graph.python import min_cost_flow

from pairwise._validate import id_text, positions
from pairwise.errors import Problem, SolverError, ValidationError
from pairwise.problem import PairProblem
from pairwise.solvers._cpsat import integer_scale
from pairwise.solvers.pairs.feasibility import check_required

__all__ = ["Suggestions", "suggest"]

IntArray = npt.NDArray[np.int64]

#: The most suggestions per mentee (a short list to choose from).
MOST = 50


@dataclass(frozen=True, eq=False)
class Suggestions:
    """Each mentee's short list of mentors, from :func:`suggest`.

    Attributes
    ----------
    problem : PairProblem
        The problem the lists were chosen for (its rules and capacities).
    k : int
        Suggestions asked for per mentee.
    multiple : float
        A mentor is suggested to at most ``floor(multiple * capacity)`` mentees.
    limit : ndarray of int64, shape (n_mentors,)
        That limit per mentor (raised to her required pairs where they are more).
    assignment : ndarray of int64, shape (n_suggestions, 2)
        (mentee, mentor) positions, by mentee, then best score first.
    """

    problem: PairProblem
    k: int
    multiple: float
    limit: IntArray
    assignment: IntArray

    @property
    def table(self) -> pd.DataFrame:
        """One row per suggestion, by mentee and rank.

        Columns ``mentee_id``, ``rank`` (1 = best score), ``mentor_id``, ``score``,
        ``required`` (a pair the rules require), then each criterion's part.
        """
        p = self.problem
        i, j = self.assignment[:, 0], self.assignment[:, 1]
        first = np.searchsorted(i, i, side="left")
        required = set(p.required)
        data: dict[str, Any] = {
            "mentee_id": p.mentee_ids[i],
            "rank": (np.arange(len(i)) - first + 1).astype(np.int64),
            "mentor_id": p.mentor_ids[j],
            "score": p.scores[i, j].astype(np.float64),
            "required": np.array([(a, b) in required for a, b in zip(i, j, strict=True)], bool),
        }
        for name, (w, component) in p.criteria.items():
            data[name] = np.float64(w) * component[i, j].astype(np.float64)
        return pd.DataFrame(data)

    def to_frame(self) -> pd.DataFrame:
        """:attr:`table`, with one row (no mentor) for each mentee who got no suggestion."""
        none = np.setdiff1d(np.arange(self.problem.shape[0]), self.assignment[:, 0])
        table = self.table
        if len(none) == 0:
            return table
        extra = pd.DataFrame({"mentee_id": self.problem.mentee_ids[none], "rank": 0})
        out = pd.concat([table, extra], ignore_index=True)
        return out.iloc[_order(self, out)].reset_index(drop=True)

    @property
    def short(self) -> pd.DataFrame:
        """Mentees with fewer than ``k`` suggestions: ``mentee_id``, ``missing``, ``reason``."""
        p = self.problem
        got = np.bincount(self.assignment[:, 0], minlength=p.shape[0])
        counts = np.bincount(self.assignment[:, 1], minlength=p.shape[1])
        rows = []
        for i in np.flatnonzero(got < self.k).tolist():
            allowed = np.flatnonzero(p.allowed[i])
            if len(allowed) == 0:
                reason = p.why_no_mentor(i)
            else:
                mine = set(self.assignment[self.assignment[:, 0] == i, 1].tolist())
                others = [j for j in allowed.tolist() if j not in mine]
                reason = _short_reason(len(allowed), others, counts, self.limit)
            rows.append((p.mentee_ids[i], int(self.k - got[i]), reason))
        return pd.DataFrame(rows, columns=["mentee_id", "missing", "reason"])

    def suggested(self, mentee_id: Any) -> list[Any]:
        """The mentor ids suggested to ``mentee_id``, best score first."""
        i = self._row(mentee_id)
        out: list[Any] = self.problem.mentor_ids[
            self.assignment[self.assignment[:, 0] == i, 1]
        ].tolist()
        return out

    def explain(self, mentee_id: Any, k: int = 3) -> pd.DataFrame:
        """Why these mentors were suggested to ``mentee_id``, and why her next best were not.

        Returns
        -------
        pandas.DataFrame
            One row per mentor considered (her suggestions, then her best ``k`` other
            allowed mentors): ``mentor_id``, ``score``, ``suggested``, ``rank``,
            ``suggested_to`` (mentees she is suggested to), ``limit``, ``reason``, then each
            criterion's part of the score.

        Examples
        --------
        >>> import pairwise
        >>> p = pairwise.PairProblem.from_scores([[0.9, 0.5, 0.1], [0.8, 0.7, 0.2]],
        ...     mentee_ids=["a", "b"], mentor_ids=["x", "y", "z"])
        >>> s = pairwise.suggest(p, k=1, multiple=1)
        >>> e = s.explain("b")
        >>> e[["mentor_id", "suggested", "suggested_to", "limit"]]
          mentor_id  suggested  suggested_to  limit
        0         y       True             1      1
        1         x      False             1      1
        2         z      False             0      1
        >>> for reason in e["reason"]:
        ...     print(reason)
        suggested: score 0.7, 2nd best of 3 allowed
        suggested to 1 mentee already, her limit (1 x capacity 1)
        her list is full: its suggestion scores higher
        """
        if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 0:
            raise ValidationError([Problem("k must be a whole number >= 0", value=k)])
        p = self.problem
        i = self._row(mentee_id)
        mine = self.assignment[self.assignment[:, 0] == i, 1].tolist()
        row = p.scores[i]
        ranked = np.lexsort((np.arange(len(row)), -np.where(p.allowed[i], row, -np.inf)))
        ranked = ranked[p.allowed[i, ranked]]
        place = {int(j): r for r, j in enumerate(ranked.tolist(), start=1)}
        others = [int(j) for j in ranked.tolist() if int(j) not in mine][:k]
        counts = np.bincount(self.assignment[:, 1], minlength=p.shape[1])
        records = []
        for rank, j in enumerate([*mine, *others], start=1):
            chosen = j in mine
            reason = _why(self, i, j, chosen, place[j], len(ranked), counts)
            records.append(
                {
                    "mentor_id": p.mentor_ids[j],
                    "score": float(row[j]),
                    "suggested": chosen,
                    "rank": rank if chosen else 0,
                    "suggested_to": int(counts[j]),
                    "limit": int(self.limit[j]),
                    "reason": reason,
                    **{
                        name: float(w * component[i, j])
                        for name, (w, component) in p.criteria.items()
                    },
                }
            )
        return pd.DataFrame(records)

    def metrics(self) -> dict[str, float]:
        """Summary numbers of the lists.

        ``mentees_with_k`` and ``mentees_with_none`` (share of mentees with all ``k`` and
        with no suggestion), ``mean_suggestions``, ``total_score`` and ``mean_score``,
        ``mentors_suggested`` (mentors on at least one list), and ``max_per_capacity`` (the
        largest number of mentees a mentor is suggested to, over her capacity).
        """
        p = self.problem
        n = p.shape[0]
        got = np.bincount(self.assignment[:, 0], minlength=n)
        counts = np.bincount(self.assignment[:, 1], minlength=p.shape[1])
        s = p.scores[self.assignment[:, 0], self.assignment[:, 1]]
        ratio = counts[p.capacity > 0] / p.capacity[p.capacity > 0]
        return {
            "mentees": float(n),
            "suggestions": float(len(s)),
            "mentees_with_k": float((got >= self.k).mean()) if n else 0.0,
            "mentees_with_none": float((got == 0).mean()) if n else 0.0,
            "mean_suggestions": float(got.mean()) if n else 0.0,
            "total_score": float(s.sum()),
            "mean_score": float(s.mean()) if len(s) else float("nan"),
            "mentors_suggested": float((counts > 0).sum()),
            "max_per_capacity": float(ratio.max(initial=0.0)),
        }

    def _row(self, mentee_id: Any) -> int:
        i = positions(self.problem.mentee_ids).get(id_text(mentee_id), -1)
        if i < 0:
            raise ValidationError(
                [Problem("unknown mentee id", column="mentee_id", value=id_text(mentee_id))]
            )
        return i


def _order(s: Suggestions, frame: pd.DataFrame) -> IntArray:
    """Row order of ``frame`` by the mentee's position, then rank."""
    pos = positions(s.problem.mentee_ids)
    where = np.array([pos[id_text(x)] for x in frame["mentee_id"]], dtype=np.int64)
    return np.lexsort((frame["rank"].to_numpy(), where)).astype(np.int64)


def _ordinal(r: int) -> str:
    tail = {1: "st", 2: "nd", 3: "rd"}.get(r % 10 if r % 100 not in (11, 12, 13) else 0, "th")
    return f"{r}{tail}"


def _why(
    s: Suggestions, i: int, j: int, chosen: bool, place: int, allowed: int, counts: IntArray
) -> str:
    """A suggestion's reason, or why mentor ``j`` is not on mentee ``i``'s list."""
    p = s.problem
    if chosen:
        if (i, j) in set(p.required):
            return "suggested: a required pair"
        return f"suggested: score {p.scores[i, j]:.3g}, {_ordinal(place)} best of {allowed} allowed"
    if s.limit[j] == 0:
        return "not suggested: she has no capacity"
    if counts[j] >= s.limit[j]:
        what = "mentee" if counts[j] == 1 else "mentees"
        return (
            f"suggested to {int(counts[j])} {what} already, her limit "
            f"({s.multiple:g} x capacity {int(p.capacity[j])})"
        )
    got = s.assignment[s.assignment[:, 0] == i, 1]
    if len(got) and p.scores[i, j] <= p.scores[i, got].min():
        if len(got) == 1:
            return "her list is full: its suggestion scores higher"
        return f"her list is full: its {len(got)} suggestions all score higher"
    return f"her list is full ({len(got)} suggestions, required pairs first)"


def _short_reason(allowed: int, others: list[int], counts: IntArray, limit: IntArray) -> str:
    if not others:
        return f"only {allowed} allowed mentor" + ("" if allowed == 1 else "s")
    full = sum(int(counts[j] >= limit[j]) for j in others)
    if full == len(others):
        return (
            f"every other allowed mentor ({len(others)}) is suggested to as many mentees as "
            "her limit allows"
        )
    return (
        f"{len(others)} other allowed mentors, {full} at their limit; the lists are spread as "
        "evenly as the limits allow"
    )


def _checked(problem: Any, k: Any, multiple: Any) -> None:
    problems = []
    if not isinstance(problem, PairProblem):
        problems.append(
            Problem(
                "suggest needs a PairProblem", value=type(problem).__name__, expected="PairProblem"
            )
        )
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or not 1 <= k <= MOST:
        problems.append(Problem("k must be a whole number", value=k, expected=f"1 to {MOST}"))
    if (
        not isinstance(multiple, int | float | np.integer | np.floating)
        or isinstance(multiple, bool)
        or not math.isfinite(float(multiple))
        or float(multiple) < 0
    ):
        problems.append(
            Problem("multiple must be a finite number >= 0", value=multiple, expected="e.g. 2")
        )
    if problems:
        raise ValidationError(problems)


def suggest(problem: PairProblem, k: int = 3, *, multiple: float = 2.0) -> Suggestions:
    """Up to ``k`` allowed mentors per mentee, no mentor on too many lists.

    Parameters
    ----------
    problem : PairProblem
        Its hard rules decide which mentors may be suggested to whom, and its capacities
        the limits; its required pairs are always suggested. Its objective, demands,
        ``all_matched`` and per-topic panels play no part: a list is to choose from.
    k : int, default 3
        Suggestions per mentee (1 to 50); mentees with fewer allowed mentors get fewer.
    multiple : float, default 2.0
        A mentor is suggested to at most ``floor(multiple * capacity)`` mentees (at least
        as many as the pairs the rules require with her), so a mentor who takes 2 is shown
        to at most 4 mentees; 0 suggests only required pairs.

    Returns
    -------
    Suggestions
        The lists (:attr:`Suggestions.table`), the mentees with fewer than ``k`` and why
        (:attr:`Suggestions.short`), explanations per mentee and summary metrics. The lists
        hold the most suggestions the limits allow, spread as evenly over the mentees as
        possible, then the largest total score (see :mod:`pairwise.suggest`).

    Raises
    ------
    ValidationError
        For a problem that is not a PairProblem, or a bad ``k`` or ``multiple`` (all
        listed).
    InfeasibleError
        When required pairs alone break a rule (as :func:`pairwise.solve` says).

    Examples
    --------
    Two mentees both like mentor ``x`` best, and ``x`` takes one mentee: each list of one
    would name ``x``. With ``multiple=1`` she is on one list only, the one where she adds
    the most (0.9 - 0.5 beats 0.8 - 0.7):

    >>> import pairwise
    >>> p = pairwise.PairProblem.from_scores([[0.9, 0.5, 0.1], [0.8, 0.7, 0.2]],
    ...     mentee_ids=["a", "b"], mentor_ids=["x", "y", "z"])
    >>> s = pairwise.suggest(p, k=1, multiple=1)
    >>> s.table[["mentee_id", "rank", "mentor_id", "score"]]
      mentee_id  rank mentor_id  score
    0         a     1         x    0.9
    1         b     1         y    0.7
    >>> pairwise.suggest(p, k=2, multiple=2).suggested("b")
    ['x', 'y']
    """
    _checked(problem, k, multiple)
    check_required(problem)
    k = int(k)
    n, m = problem.shape
    cap = problem.capacity.astype(np.int64)
    limit = np.floor(float(multiple) * cap + 1e-9).astype(np.int64)
    fixed = np.array(sorted(set(problem.required)), dtype=np.int64).reshape(-1, 2)
    held = np.bincount(fixed[:, 1], minlength=m).astype(np.int64)
    limit = np.maximum(limit, held)
    free = problem.allowed.copy()
    free[fixed[:, 0], fixed[:, 1]] = False
    want = np.maximum(k - np.bincount(fixed[:, 0], minlength=n), 0).astype(np.int64)
    chosen = _flow(problem, free, want, limit - held, k)
    pairs = np.concatenate([fixed, chosen]) if len(fixed) else chosen
    score = problem.scores[pairs[:, 0], pairs[:, 1]]
    pairs = pairs[np.lexsort((pairs[:, 1], -score, pairs[:, 0]))]
    return Suggestions(problem, k, float(multiple), limit, pairs.astype(np.int64))


def _flow(
    problem: PairProblem, free: npt.NDArray[np.bool_], want: IntArray, room: IntArray, k: int
) -> IntArray:
    """The free suggestions: the convex-cost flow of the module docstring."""
    n, m = problem.shape
    rows, cols = np.nonzero(free & (want[:, None] > 0) & (room[None, :] > 0))
    if len(rows) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    s = problem.scores[rows, cols]
    scale = integer_scale(float(np.abs(s).max()))
    costs = -np.rint(s * scale).astype(np.int64)
    units = int(min(want.sum(), room.sum(), len(rows)))
    big = 2 * units * (int(np.abs(costs).max()) + 1) + 1
    if big * k * (units + 1) > 2**62:  # keep every cost and the total in int64
        raise SolverError("too many suggestions for exact integer costs; lower k or the cohort")
    smcf = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, n + m + 1
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        rows + 1, cols + n + 1, np.ones(len(rows), dtype=np.int64), costs
    )
    for r in range(1, k + 1):  # the r-th free suggestion of each mentee who wants r or more
        who = np.flatnonzero(want >= r)
        # her (k - want + r)-th in all, counting her required pairs: the bonus of that rank
        bonus = -(want[who] - r + 1) * big
        smcf.add_arcs_with_capacity_and_unit_cost(
            np.zeros(len(who), dtype=np.int64), who + 1, np.ones(len(who), dtype=np.int64), bonus
        )
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.arange(n + 1, n + m + 1), np.full(m, sink, dtype=np.int64), room, np.zeros(m, np.int64)
    )
    # a free bypass: the flow sends only the units that pay (every unit does: bonus > score)
    smcf.add_arc_with_capacity_and_unit_cost(source, sink, int(want.sum()), 0)
    smcf.set_node_supply(source, int(want.sum()))
    smcf.set_node_supply(sink, -int(want.sum()))
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    used = np.asarray(smcf.flows(np.asarray(arcs, dtype=np.int64))) > 0
    return np.stack([rows[used], cols[used]], axis=1).astype(np.int64)
