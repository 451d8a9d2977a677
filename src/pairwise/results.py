"""Frozen results of a solve: :class:`Matching` (pairs, panels) and :class:`Circles`.

:func:`build` is the one place where a result is made (by :func:`pairwise.solve`,
:func:`pairwise.rematch` and :func:`pairwise.io.read_result`): the objective is computed
there, by the problem (:meth:`PairProblem.total <pairwise.problem.PairProblem.total>`,
:meth:`CircleProblem.total <pairwise.circles.CircleProblem.total>`), never by a solver.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise._validate import id_text, positions
from pairwise.circles import CircleProblem
from pairwise.errors import Problem, ValidationError
from pairwise.events import Events
from pairwise.problem import PairProblem

if TYPE_CHECKING:  # solvers build results; results never import solvers at run time
    from pairwise.solvers.answer import Answer

__all__ = ["CircleExplanation", "Circles", "Matching", "build"]

Status = Literal["optimal", "feasible"]  # infeasible problems raise InfeasibleError
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Matching:
    """The result of solving a :class:`~pairwise.problem.PairProblem`.

    Attributes
    ----------
    assignment : ndarray of int64, shape (n_pairs, 2)
        (mentee, mentor) positions of every pair, sorted. Read-only.
    objective : float
        Total score of the pairs, recomputed in floats.
    bound : float or None
        Proven upper bound on the total score of any solution; ``None`` when nothing was
        proved (a result read back from a file that carries no bound).
    status : {"optimal", "feasible"}
    method : str
        Solver that produced it.
    timings : mapping of str to float
        Seconds per phase.
    problem : PairProblem
        The problem solved.
    topics : ndarray of int64, shape (n_pairs,), optional
        For per-topic panels, the topic (index into ``problem.panel[0]``) each pair covers.
    events : Events
        What happened to the programme before this result (leavers, broken pairs, joiners,
        each with its round); empty for a first solve. :func:`pairwise.rematch` adds to it
        and applies all of it; :func:`pairwise.check` verifies it.
    changes : pandas.DataFrame or None
        For a re-match's result, what changed and why (:attr:`pairwise.Rematch.changes`);
        written as the ``changes`` table of an export. ``None`` for a first solve.
    roster : frozenset of str or None
        The people the result was made for, when it was read from a file
        (:func:`pairwise.io.read_result`) whose programme has people the file never saw
        (late joiners); ``None``: the people of ``problem``. :func:`pairwise.rematch`
        reports everyone else as joined.
    """

    assignment: IntArray
    objective: float
    bound: float | None
    status: Status
    method: str
    timings: Mapping[str, float]
    problem: PairProblem = field(repr=False)
    topics: IntArray | None = field(default=None, repr=False)
    events: Events = field(default_factory=Events, repr=False)
    changes: pd.DataFrame | None = field(default=None, repr=False)
    roster: frozenset[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.assignment.setflags(write=False)
        if self.topics is not None:
            self.topics.setflags(write=False)

    def __repr__(self) -> str:
        n = self.problem.shape[0]
        matched = len(np.unique(self.assignment[:, 0]))
        return (
            f"Matching({matched}/{n} mentees matched, objective={self.objective:.6g}, "
            f"gap={self.gap:.2e}, status={self.status!r}, method={self.method!r})"
        )

    @property
    def gap(self) -> float:
        """Relative gap ``(bound - objective) / max(|bound|, 1e-9)`` (NaN without a bound).

        Proven-optimal results have a gap of at most the integer rounding slack.
        """
        return _gap(self.objective, self.bound)

    @property
    def mentor_of(self) -> IntArray:
        """Mentor position per mentee (-1 = unmatched), an int array, read-only.

        A mentee with several mentors (a panel) gets the first of :attr:`mentors_of`.
        Until this release it gave panels a list of lists; that spelling is now
        :attr:`mentors_of` (reading ``mentor_of`` of a panel matching warns).
        """
        n = self.problem.shape[0]
        if int(self.problem.demand.max(initial=0)) > 1:
            warnings.warn(
                "mentor_of of a panel matching now holds one mentor per mentee (the first); "
                "use mentors_of for every mentor of her panel",
                DeprecationWarning,
                stacklevel=2,
            )
        out = np.full(n, -1, dtype=np.int64)
        rows = self.assignment[::-1]  # sorted rows reversed: the first mentor wins
        out[rows[:, 0]] = rows[:, 1]
        out.setflags(write=False)
        return out

    @property
    def mentors_of(self) -> list[list[int]]:
        """Every mentor position of each mentee, sorted (several for panels, none if unmatched)."""
        out: list[list[int]] = [[] for _ in range(self.problem.shape[0])]
        for i, j in self.assignment.tolist():
            out[i].append(j)
        return out

    def _rows(self, mentee_id: Any) -> int:
        ids = positions(self.problem.mentee_ids)
        key = id_text(mentee_id)
        if key not in ids:
            raise ValidationError([Problem("unknown mentee id", value=key, column="id")])
        return ids[key]

    @property
    def pairs(self) -> pd.DataFrame:
        """One row per pair.

        Columns ``mentee_id``, ``mentor_id``, ``score``, then each criterion's contribution
        when the problem came from a Compatibility.
        """
        p = self.problem
        i, j = self.assignment[:, 0], self.assignment[:, 1]
        data: dict[str, Any] = {
            "mentee_id": p.mentee_ids[i],
            "mentor_id": p.mentor_ids[j],
            "score": p.scores[i, j],
        }
        if p.panel is not None and self.topics is not None:
            data["topic"] = np.array(p.panel[0], dtype=object)[self.topics]
        for name, (w, component) in p.criteria.items():
            data[name] = np.float64(w) * component[i, j].astype(np.float64) + 0.0  # no -0.0
        return pd.DataFrame(data)

    @property
    def unmatched(self) -> pd.DataFrame:
        """Mentees who got fewer mentors than they asked for, with the reason.

        Columns ``mentee_id``, ``missing`` (mentors short), ``reason``: either no allowed
        mentor (and which rules removed how many candidates) or every allowed mentor is full.
        """
        p = self.problem
        got = np.bincount(self.assignment[:, 0], minlength=p.shape[0])
        short = np.flatnonzero(got < p.demand)
        load = np.bincount(self.assignment[:, 1], minlength=p.shape[1])
        cap_loads = [c.loads(self.assignment, p.shape[1]) for c in p.value_caps]  # once
        rows = []
        for i in short:
            allowed = np.flatnonzero(p.allowed[i])
            if len(allowed) == 0:
                reason = p.why_no_mentor(int(i))
            else:
                reason = self._short_reason(int(i), allowed, load, cap_loads)
            rows.append((p.mentee_ids[i], int(p.demand[i] - got[i]), reason))
        return pd.DataFrame(rows, columns=["mentee_id", "missing", "reason"])

    def _short_reason(
        self, i: int, allowed: IntArray, load: IntArray, cap_loads: list[IntArray]
    ) -> str:
        """Why mentee ``i``, who has allowed mentors, got fewer than she asked for."""
        p = self.problem
        mine = set(self.assignment[self.assignment[:, 0] == i, 1].tolist())
        others = np.array([j for j in allowed.tolist() if j not in mine], dtype=np.int64)
        prefix = ""
        if p.panel is not None:
            names, needs, offers = p.panel
            got = (
                set()
                if self.topics is None
                else set(self.topics[self.assignment[:, 0] == i].tolist())
            )
            open_topics = [t for t in np.flatnonzero(needs[i]).tolist() if t not in got]
            prefix = "uncovered: " + ", ".join(names[t] for t in open_topics) + "; "
            others = others[offers[others][:, open_topics].any(axis=1)] if len(others) else others
        other = "other " if mine else ""
        if len(others) == 0:
            return prefix + f"no {other}allowed mentor offers what is missing"
        is_full = load[others] >= p.capacity[others]
        full = int(is_full.sum())
        capped, caps = self._capped(i, others[~is_full], cap_loads)
        if full == len(others):
            return prefix + f"every {other}allowed mentor is full ({len(others)} allowed)"
        at_cap = f", {capped} with her group at its cap ({caps})" if capped else ""
        free = len(others) - full - capped
        if free == 0:
            return prefix + f"{len(others)} {other}allowed mentors, {full} full{at_cap}"
        return prefix + (
            f"{len(others)} {other}allowed mentors, {full} full{at_cap}; the {free} with "
            "room serve the objective better elsewhere"
        )

    def _capped(self, i: int, mentors: IntArray, cap_loads: list[IntArray]) -> tuple[int, str]:
        """How many of ``mentors`` a value cap keeps from mentee ``i``, and the caps' names.

        ``cap_loads``: each cap's (mentor, value) loads in this matching, in cap order.
        """
        p = self.problem
        hit = np.zeros(len(mentors), dtype=bool)
        names = []
        for cap, all_loads in zip(p.value_caps, cap_loads, strict=True):
            loads = all_loads[mentors][:, cap.member[i]]
            now = (loads >= cap.k).any(axis=1) & ~hit if loads.size else np.zeros_like(hit)
            if now.any():
                names.append(cap.rule)
            hit |= now
        return int(hit.sum()), ", ".join(names)

    def explain(
        self, mentee_id: Any, k: int = 3, *, time_limit: float | None = None, seed: int = 0
    ) -> pd.DataFrame:
        """Why this mentee has her mentor, and what switching would cost.

        Lists her mentor(s) and her best ``k`` other allowed mentors. The cost is exact: the
        problem is solved again with the alternative pair required, and ``switch_cost`` is
        the drop in the objective (NaN when the switch breaks a hard rule, e.g. every mentee
        must be matched and no longer can be).

        Returns
        -------
        pandas.DataFrame
            One row per mentor considered: ``mentor_id``, ``score``, ``assigned``, ``full``
            (at capacity in this matching), ``score_difference`` (her score with this mentor
            minus her best current one), ``matched_if_switched`` and ``switch_cost``.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> p = pairwise.PairProblem.from_scores([[0.9, 0.8], [0.7, np.nan]],
        ...                                      mentee_ids=["a", "b"], mentor_ids=["x", "y"])
        >>> m = pairwise.solve(p)
        >>> m.explain("a")[["mentor_id", "assigned", "matched_if_switched", "switch_cost"]]
          mentor_id  assigned  matched_if_switched  switch_cost
        0         y      True                    2          0.0
        1         x     False                    1          0.6
        """
        from pairwise.explain import pair_explanation

        return pair_explanation(self, self._rows(mentee_id), k, time_limit=time_limit, seed=seed)

    def load(self) -> pd.DataFrame:
        """Mentor load: ``mentor_id``, ``mentees`` (assigned), ``capacity``, in mentor order."""
        p = self.problem
        got = np.bincount(self.assignment[:, 1], minlength=p.shape[1])
        return pd.DataFrame({"mentor_id": p.mentor_ids, "mentees": got, "capacity": p.capacity})

    @overload
    def metrics(self, by: None = None) -> dict[str, float]: ...

    @overload
    def metrics(self, by: str | npt.ArrayLike) -> pd.DataFrame: ...

    def metrics(self, by: str | npt.ArrayLike | None = None) -> dict[str, float] | pd.DataFrame:
        """Summary numbers: objective, bound and gap, matched share, scores, load, locality.

        The core keys ``objective``, ``bound``, ``gap`` are those of :meth:`Circles.metrics`.

        Coverage on both sides: ``mentees_covered`` and ``mentors_covered`` (people with at
        least one partner) and their shares of all mentees and mentors (``matched`` and
        ``mentors_used`` are the same counts under their older names).

        The mentor load distribution is given as ``mentors_with_load_k`` (how many mentors
        have exactly ``k`` mentees, for ``k`` from 0 to ``max_load``) and
        ``capacity_used_share`` (mentees placed over total capacity). ``blocking_pairs``
        counts the pairs that block the matching (:meth:`blocking_pairs`). With ranked
        preferences (:attr:`PairProblem.ranks <pairwise.problem.PairProblem.ranks>`),
        ``ranked_mentees`` (mentees who ranked someone), ``first_choice_share`` and
        ``top3_choice_share`` (the share of them matched with their first choice, or one of
        their first three).

        With ``by`` (a mentee column, or one group label per mentee), a table instead: one
        row per group (see :mod:`pairwise.fairness`: a list column counts a mentee in each
        of her values; ``"(missing)"`` for mentees with no value) with ``mentees``,
        ``matched`` (with at least one mentor), ``match_rate``, and ``mean_score`` and
        ``min_score`` over the group's pairs. An unknown column is a ValidationError
        naming the columns there are.
        """
        if by is not None:
            from pairwise.fairness import group_table, groups_of

            groups = groups_of(self.problem, by)
            name = by if isinstance(by, str) else "group"
            return group_table(groups, self.assignment, self.problem.scores, name)
        p = self.problem
        i, j = self.assignment[:, 0], self.assignment[:, 1]
        s = p.scores[i, j]
        load = np.bincount(j, minlength=p.shape[1])
        matched = len(np.unique(i))
        out: dict[str, float] = {
            "objective": self.objective,
            "bound": float("nan") if self.bound is None else self.bound,
            "gap": self.gap,
            "mentees": float(p.shape[0]),
            "matched": float(matched),
            "matched_share": matched / p.shape[0] if p.shape[0] else 0.0,
            "pairs": float(len(i)),
            # coverage: people with at least one partner (the "covered-then-total" goal)
            "mentees_covered": float(matched),
            "mentees_covered_share": matched / p.shape[0] if p.shape[0] else 0.0,
            "mentors_covered": float((load > 0).sum()),
            "mentors_covered_share": float((load > 0).mean()) if p.shape[1] else 0.0,
            "total_score": float(s.sum()),
            "mean_score": float(s.mean()) if len(s) else float("nan"),
            "min_score": float(s.min()) if len(s) else float("nan"),
            "mentors_used": float((load > 0).sum()),
            "mean_load": float(load[load > 0].mean()) if (load > 0).any() else 0.0,
            "max_load": float(load.max(initial=0)),
            "capacity_used_share": float(load.sum() / p.capacity.sum())
            if p.capacity.sum()
            else 0.0,
        }
        for k, count in enumerate(np.bincount(load).tolist()):
            out[f"mentors_with_load_{k}"] = float(count)
        from pairwise.stability import blocking_mask

        out["blocking_pairs"] = float(blocking_mask(p, self.assignment).sum())
        out.update(_choice_shares(p, self.assignment))
        a, b = p.mentee_labels, p.mentor_labels
        if a is not None and b is not None and len(i):
            for col in ("region", "chapter"):
                x, y = a.category(col)[i], b.category(col)[j]
                same = np.array([u is not None and u == v for u, v in zip(x, y, strict=True)])
                out[f"same_{col}_share"] = float(same.mean())
        return out

    def blocking_pairs(self) -> pd.DataFrame:
        """The pairs that block this matching under the score preferences.

        See :mod:`pairwise.stability` (preferences from the scores, ties to the lower
        position); columns ``mentee_id``, ``mentor_id``, ``score``, ``mentee_score``
        (her worst partner's; NaN: she has room), ``mentor_score`` (his worst mentee's).

        Examples
        --------
        >>> import pairwise
        >>> p = pairwise.PairProblem.from_scores([[0.9, 0.8], [0.85, 0.1]])
        >>> pairwise.solve(p).blocking_pairs().values.tolist()
        [['0', '0', 0.9, 0.8, 0.85]]
        """
        from pairwise.stability import blocking_pairs

        return blocking_pairs(self.problem, self.assignment)

    def to_frame(self) -> pd.DataFrame:
        """Every mentee with her mentor (one row per pair; unmatched mentees with no mentor)."""
        pairs = self.pairs
        missing = self.unmatched
        extra = pd.DataFrame({"mentee_id": missing.mentee_id, "mentor_id": None, "score": np.nan})
        frames = [f for f in (pairs, extra) if len(f)]
        if not frames:
            return pairs
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return out.reset_index(drop=True)


def _choice_shares(problem: PairProblem, assignment: IntArray) -> dict[str, float]:
    """``ranked_mentees``, ``first_choice_share``, ``top3_choice_share`` (ranked lists only)."""
    if problem.ranks is None:
        return {}
    rank = problem.ranks[0].astype(np.int64)
    ranked = (rank > 0).any(axis=1)
    got = np.full(problem.shape[0], np.iinfo(np.int64).max)
    r = rank[assignment[:, 0], assignment[:, 1]]
    np.minimum.at(got, assignment[:, 0], np.where(r > 0, r, np.iinfo(np.int64).max))
    count = int(ranked.sum())
    return {
        "ranked_mentees": float(count),
        "first_choice_share": float((got[ranked] == 1).mean()) if count else float("nan"),
        "top3_choice_share": float((got[ranked] <= 3).mean()) if count else float("nan"),
    }


@dataclass(frozen=True)
class CircleExplanation:
    """Who adds what to one circle, and which rules bind it.

    Attributes
    ----------
    circle : int
    score : float
        The circle's score (sum of its within-circle affinities).
    members : pandas.DataFrame
        One row per member: ``member_id``, ``role``, ``adds`` (her affinity to the others;
        the ``adds`` sum to twice the score), ``best_partner`` (her closest member) and
        ``best_partner_affinity``.
    binding : list of str
        Rules at their limit in this circle (a size at its bound, a shared label with one
        option left, a count at its cap or floor): a change to the circle must respect them.
    meeting : dict of str to str or None
        What the circle's shared rules publish (``{"slot": "Tue 18:00"}``; see
        :meth:`pairwise.circles.CircleProblem.meeting`), and the alternatives every member
        also holds under ``"<field>_alternatives"`` (comma-separated).
    penalties : dict of str to float
        Each soft rule's penalty in this circle (the sum over its pairs of members, as
        taken off their affinity; ``score`` already has it taken off).
    """

    circle: int
    score: float
    members: pd.DataFrame
    binding: list[str]
    meeting: dict[str, str | None] = field(default_factory=dict)
    penalties: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        lines = [f"circle {self.circle}: score {self.score:.6g}"]
        for key, value in self.meeting.items():
            if not key.endswith("_alternatives"):
                also = self.meeting.get(f"{key}_alternatives")
                lines.append(f"{key}: {value}" + (f" (also possible: {also})" if also else ""))
        lines.append(self.members.to_string(index=False))
        lines.extend(f"binding: {b}" for b in self.binding)
        lines.extend(f"penalty: {k} {v:.6g}" for k, v in self.penalties.items())
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class Circles:
    """The result of solving a :class:`~pairwise.circles.CircleProblem`.

    Attributes
    ----------
    assignment : ndarray of int64, shape (n_rows, 2)
        (circle, person) rows, sorted; a mentor who leads two circles has two rows.
    objective : float
        Total within-circle affinity, recomputed in floats.
    bound : float
        Proven upper bound on the total of any solution.
    status : {"optimal", "feasible"}
    method : str
    timings : mapping of str to float
        Seconds per phase (``first_feasible`` for the local search), and the work done.
    problem : CircleProblem
    left_out : mapping of int to str
        Positions of the people no circle could take, with the reason (``unplaced``).
    events : Events
        As for :class:`Matching`.
    changes, roster
        As for :class:`Matching`.
    """

    assignment: IntArray
    objective: float
    bound: float | None
    status: Status
    method: str
    timings: Mapping[str, float]
    problem: CircleProblem = field(repr=False)
    left_out: Mapping[int, str] = field(default_factory=dict, repr=False)
    events: Events = field(default_factory=Events, repr=False)
    changes: pd.DataFrame | None = field(default=None, repr=False)
    roster: frozenset[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.assignment.setflags(write=False)

    @property
    def unplaced(self) -> pd.DataFrame:
        """People in no circle because the hard rules leave no circle for them.

        Columns ``person_id``, ``role`` and ``reason`` (in programme terms, e.g. "has no
        weekly slot (shared slot)"), one row per person, in cohort order; empty when
        everyone is placed. Only problems built with ``all_placed=False`` (the default)
        leave people out; see :mod:`pairwise.solvers.circles.unplaced` for what is
        detected. Mentors who lead no circle are not listed: leading is optional.

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> p = pairwise.CircleProblem.from_affinity(np.ones((9, 9)), min_size=4, max_size=4)
        >>> pairwise.solve(p).unplaced
          person_id    role                                     reason
        0         8  member  no room: 9 people for 2 circles of at most 4
        """
        rows = [
            (self.problem.person_ids[i], self._role(int(i)), why)
            for i, why in sorted(self.left_out.items())
        ]
        return pd.DataFrame(rows, columns=["person_id", "role", "reason"])

    def __repr__(self) -> str:
        return (
            f"Circles({self.problem.n_circles} circles of {self.problem.n} people, "
            + (f"{len(self.left_out)} unplaced, " if self.left_out else "")
            + f"objective={self.objective:.6g}, gap={self.gap:.2e}, status={self.status!r}, "
            f"method={self.method!r})"
        )

    @property
    def gap(self) -> float:
        """Relative gap ``(bound - objective) / max(|bound|, 1e-9)`` (NaN without a bound).

        Proven-optimal results have a gap of at most the integer rounding slack.
        """
        return _gap(self.objective, self.bound)

    @property
    def circle_of(self) -> IntArray:
        """Circle per person (-1: in no circle, e.g. a mentor who leads none).

        A mentor who leads several circles gets the first; :attr:`circles` lists them all.
        """
        out = np.full(self.problem.n, -1, dtype=np.int64)
        rows = self.assignment[::-1]  # the first circle wins
        out[rows[:, 1]] = rows[:, 0]
        out.setflags(write=False)
        return out

    def members(self, circle: int) -> IntArray:
        """Positions of the people in ``circle``, in order."""
        out: IntArray = self.assignment[self.assignment[:, 0] == circle, 1]
        return out

    def circle_scores(self) -> npt.NDArray[np.float64]:
        """Score (within-circle affinity) of every circle."""
        return self.problem.circle_scores(self.assignment)

    def _role(self, i: int) -> str:
        p = self.problem
        if p.mentor_led and i in set(p.leaders.tolist()):
            return "mentor"
        return "member"

    @property
    def circles(self) -> pd.DataFrame:
        """One row per circle.

        Columns ``circle``, ``size``, ``mentor_id`` (mentor-led only), ``member_ids`` (a
        tuple), ``score`` (the sum of within-circle affinities) and ``mean_affinity`` (the
        score per pair of members, comparable across circle sizes: in [0, 1] for a
        cohort's affinity); per shared rule the label it publishes, chosen as
        :meth:`~pairwise.circles.CircleProblem.meeting` says (``slot``: when the circle
        meets; ``language``) and the others every member holds (``slot_alternatives``, a
        tuple); for a cohort also the mix: ``regions`` and ``chapters``
        (distinct values in the circle) and ``max_same_region``, ``max_same_chapter``.
        """
        p = self.problem
        scores = self.circle_scores()
        leaders = set(p.leaders.tolist())
        rows = []
        for g in range(p.n_circles):
            ms = self.members(g).tolist()
            lead = [p.person_ids[i] for i in ms if i in leaders]
            rest = tuple(p.person_ids[i] for i in ms if i not in leaders)
            row: dict[str, Any] = {"circle": g, "size": len(ms)}
            if p.mentor_led:
                row["mentor_id"] = lead[0] if lead else None
            row["member_ids"] = rest
            row["score"] = float(scores[g])
            pairs = len(ms) * (len(ms) - 1) / 2
            row["mean_affinity"] = float(scores[g]) / pairs if pairs else float("nan")
            for choice in p.meeting(ms):
                row[choice.field] = choice.label
                row[f"{choice.field}_alternatives"] = choice.alternatives
            if p.labels is not None:
                for col in ("region", "chapter"):
                    values = [v for v in p.labels.category(col)[ms] if v is not None]
                    row[f"{col}s"] = len(set(values))
                    row[f"max_same_{col}"] = max((values.count(v) for v in values), default=0)
            rows.append(row)
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per (circle, person).

        Columns ``circle``, ``person_id``, ``role``, ``adds`` (her affinity to the others in
        the circle), ``mean_affinity`` (``adds`` per circle-mate: what the ``"mean"`` and
        ``"maxmin"`` objectives count) and ``circle_score``.
        """
        p = self.problem
        scores = self.circle_scores()
        g, i = self.assignment[:, 0], self.assignment[:, 1]
        adds = np.array(
            [float(p.affinity[x, self.members(c)].sum()) for c, x in zip(g, i, strict=True)]
        )
        return pd.DataFrame(
            {
                "circle": g,
                "person_id": p.person_ids[i],
                "role": [self._role(int(x)) for x in i],
                "adds": adds,
                "mean_affinity": p.member_means(self.assignment),
                "circle_score": scores[g] if len(g) else np.zeros(0),
            }
        )

    def explain(self, person_id: Any = None, *, circle: int | None = None) -> CircleExplanation:
        """Who adds what to a person's circle (or to circle ``circle``), and which rules bind it.

        ``person_id`` is a person id, as in :meth:`Matching.explain`; an int given there
        is read as a circle number (the earlier spelling ``explain(circle)``).

        Examples
        --------
        >>> import numpy as np, pairwise
        >>> d = np.ones((6, 6)); d[0, 1] = d[1, 0] = 5.0
        >>> c = pairwise.solve(pairwise.CircleProblem.from_affinity(d, min_size=3, max_size=3))
        >>> e = c.explain("0")
        >>> e.members.loc[0, "best_partner"], e.binding
        ('1', ['size 3 at its bound 3-3'])
        >>> c.explain(circle=e.circle).score == e.score
        True
        """
        p = self.problem
        if circle is None and isinstance(person_id, int | np.integer):
            circle, person_id = int(person_id), None
        if circle is None:
            i = positions(p.person_ids).get(id_text(person_id), -1)
            if person_id is None or i < 0 or self.circle_of[i] < 0:
                what = "unknown person id" if i < 0 else "person in no circle"
                raise ValidationError([Problem(what, column="id", value=id_text(person_id))])
            circle = int(self.circle_of[i])
        if not (isinstance(circle, int | np.integer) and 0 <= circle < p.n_circles):
            raise ValidationError(
                [Problem("unknown circle", value=circle, expected=f"0..{p.n_circles - 1}")]
            )
        ms = self.members(int(circle))
        sub = p.affinity[np.ix_(ms, ms)]
        rows = []
        for k, i in enumerate(ms.tolist()):
            others = [x for x in range(len(ms)) if x != k]
            best = max(others, key=lambda x: sub[k, x]) if others else None
            rows.append(
                {
                    "member_id": p.person_ids[i],
                    "role": self._role(i),
                    "adds": float(sub[k].sum()),
                    "best_partner": None if best is None else p.person_ids[ms[best]],
                    "best_partner_affinity": float("nan") if best is None else sub[k, best],
                }
            )
        binding = []
        size, lo, hi = len(ms), int(p.min_size[circle]), int(p.max_size[circle])
        if size in (lo, hi):
            binding.append(f"size {size} at its bound {lo}-{hi}")
        for rule in p.shared:
            common = rule.member[ms].all(axis=0)
            options = [rule.labels[k] for k in np.flatnonzero(common)]
            if len(options) == 1:
                binding.append(f"{rule.name}: only {options[0]} is shared")
        for count in p.counts:
            per_label = count.member[ms].sum(axis=0)
            for k, c in enumerate(per_label.tolist()):
                if count.at_most is not None and c == count.at_most:
                    binding.append(f"{count.name}: {count.labels[k]} at its cap {c}")
                elif c and c == count.at_least:
                    binding.append(f"{count.name}: {count.labels[k]} at its floor {c}")
        penalties = {name: float(m[np.ix_(ms, ms)].sum()) / 2 for name, m in p.penalties}
        meeting: dict[str, str | None] = {}
        for choice in p.meeting(ms):
            meeting[choice.field] = choice.label
            meeting[f"{choice.field}_alternatives"] = ", ".join(choice.alternatives)
        return CircleExplanation(
            circle=int(circle),
            score=float(sub.sum()) / 2,
            members=pd.DataFrame(rows),
            binding=binding,
            meeting=meeting,
            penalties=penalties,
        )

    def metrics(self) -> dict[str, float]:
        """Summary numbers: circle sizes (``circles_of_size_k``), circle scores, mix.

        ``worst_member_mean`` and ``mean_member_mean``: the lowest and the average of the
        members' mean affinity to their circle-mates (the ``"maxmin"`` and ``"mean"``
        objectives' terms).

        Mix per circle (when the problem came from a cohort): mean number of distinct
        regions and chapters per circle, and the largest number of members of a circle
        from one chapter.
        """
        p = self.problem
        scores = self.circle_scores()
        sizes = np.bincount(self.assignment[:, 0], minlength=p.n_circles)
        out: dict[str, float] = {
            "people": float(p.n),
            "circles": float(p.n_circles),
            "objective": self.objective,
            "bound": float("nan") if self.bound is None else self.bound,
            "gap": self.gap,
            "min_circle_score": float(scores.min()) if len(scores) else float("nan"),
            "mean_circle_score": float(scores.mean()) if len(scores) else float("nan"),
            "max_circle_score": float(scores.max()) if len(scores) else float("nan"),
        }
        means = p.member_means(self.assignment)
        placed = means[~np.isnan(means)]
        out["worst_member_mean"] = float(placed.min()) if len(placed) else float("nan")
        out["mean_member_mean"] = float(placed.mean()) if len(placed) else float("nan")
        for k, count in enumerate(np.bincount(sizes).tolist()):
            if count:
                out[f"circles_of_size_{k}"] = float(count)
        if p.labels is not None:
            for col in ("region", "chapter"):
                values = p.labels.category(col)
                distinct, top = [], []
                for g in range(p.n_circles):
                    vals = [v for v in values[self.members(g)] if v is not None]
                    distinct.append(len(set(vals)))
                    top.append(max((vals.count(v) for v in set(vals)), default=0))
                out[f"mean_distinct_{col}s"] = float(np.mean(distinct)) if distinct else 0.0
                out[f"max_same_{col}"] = float(max(top, default=0))
        return out


def _gap(objective: float, bound: float | None) -> float:
    if bound is None:
        return float("nan")
    return max(0.0, (bound - objective) / max(abs(bound), 1e-9))


def _formed(problem: CircleProblem, answer: Answer) -> CircleProblem:
    """The problem with the circles the answer formed (the solver may choose the count)."""
    if answer.sizes is None:
        return problem
    lo, hi = answer.sizes
    same = len(lo) == problem.n_circles
    if same and (lo == problem.min_size).all() and (hi == problem.max_size).all():
        return problem
    return replace(
        problem,
        min_size=np.asarray(lo, dtype=np.int64).copy(),
        max_size=np.asarray(hi, dtype=np.int64).copy(),
        leads=np.minimum(problem.leads, len(lo)).astype(np.int64),
    )


def build(
    problem: PairProblem | CircleProblem,
    answer: Answer,
    time_limit: float | None = None,
) -> Matching | Circles:
    """The one builder of results: a solver's answer as a Matching or a Circles result.

    The objective is the problem's value of the answer's rows (the total; for circles with
    the ``"mean"`` objective the sum of member means), recomputed in floats. The
    bound is the answer's proven bound (never below the objective), or the objective plus
    the rounding slack when the answer is optimal, or ``None`` when nothing was proved.
    ``time_limit`` (the limit that applied) is recorded in ``timings["time_limit"]``.
    The result's events start with the problem's ``earlier`` partners.
    """
    if isinstance(problem, CircleProblem):
        problem = _formed(problem, answer)
    objective = (
        problem.value(answer.rows)
        if isinstance(problem, CircleProblem)
        else problem.total(answer.rows)
    )
    bound: float | None
    if answer.bound is not None:
        bound = max(float(answer.bound), objective)
    elif answer.optimal:
        bound = objective + answer.slack
    else:
        bound = None
    timings = dict(answer.timings)
    if time_limit is not None:
        timings["time_limit"] = float(time_limit)
    status: Status = "optimal" if answer.optimal else "feasible"
    events = Events().with_earlier(problem.earlier)
    shared = (answer.rows, objective, bound, status, answer.method, timings)
    if isinstance(problem, CircleProblem):
        return Circles(*shared, problem, dict(answer.left_out), events=events)
    return Matching(*shared, problem, answer.topics, events=events)
