"""Frozen results of a solve: :class:`Matching` (pairs, panels)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise.errors import Problem, ValidationError
from pairwise.problem import PairProblem

__all__ = ["Matching"]

Status = Literal["optimal", "feasible", "infeasible"]
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
    bound : float
        Proven upper bound on the objective of any solution (for this problem's objective).
    status : {"optimal", "feasible", "infeasible"}
    method : str
        Solver that produced it.
    timings : mapping of str to float
        Seconds per phase.
    problem : PairProblem
        The problem solved.
    topics : ndarray of int64, shape (n_pairs,), optional
        For per-topic panels, the topic (index into ``problem.panel[0]``) each pair covers.
    """

    assignment: IntArray
    objective: float
    bound: float
    status: Status
    method: str
    timings: Mapping[str, float]
    problem: PairProblem = field(repr=False)
    topics: IntArray | None = field(default=None, repr=False)

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
        """Relative gap ``(bound - objective) / max(|bound|, 1e-9)``, 0 when proven optimal."""
        return max(0.0, (self.bound - self.objective) / max(abs(self.bound), 1e-9))

    @property
    def mentor_of(self) -> Any:
        """Mentor position per mentee.

        An int array (-1 = unmatched) when each mentee has one mentor; for panels (demand
        above 1) a list of sorted mentor positions per mentee.
        """
        n = self.problem.shape[0]
        if int(self.problem.demand.max(initial=0)) <= 1:
            out = np.full(n, -1, dtype=np.int64)
            out[self.assignment[:, 0]] = self.assignment[:, 1]
            out.setflags(write=False)
            return out
        panels: list[list[int]] = [[] for _ in range(n)]
        for i, j in self.assignment.tolist():
            panels[i].append(j)
        return panels

    def _rows(self, mentee_id: Any) -> int:
        ids = {str(x): i for i, x in enumerate(self.problem.mentee_ids)}
        key = str(mentee_id)
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
        if p.compat is not None:
            for name, w in p.compat.weights.items():
                data[name] = np.float64(w) * p.compat.components[name][i, j].astype(np.float64)
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
        rows = []
        for i in short:
            allowed = np.flatnonzero(p.allowed[i])
            if len(allowed) == 0:
                reason = p.why_no_mentor(int(i))
            else:
                reason = self._short_reason(int(i), allowed, load)
            rows.append((p.mentee_ids[i], int(p.demand[i] - got[i]), reason))
        return pd.DataFrame(rows, columns=["mentee_id", "missing", "reason"])

    def _short_reason(self, i: int, allowed: IntArray, load: IntArray) -> str:
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
        full = int((load[others] >= p.capacity[others]).sum())
        if full == len(others):
            return prefix + f"every {other}allowed mentor is full ({len(others)} allowed)"
        return prefix + (
            f"{len(others)} {other}allowed mentors, {full} full; the {len(others) - full} with "
            "room serve the objective better elsewhere"
        )

    def explain(self, mentee_id: Any, k: int = 3) -> pd.DataFrame:
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
        from pairwise.errors import InfeasibleError
        from pairwise.solvers import solve

        p = self.problem
        i = self._rows(mentee_id)
        mine = self.assignment[self.assignment[:, 0] == i, 1].tolist()
        load = np.bincount(self.assignment[:, 1], minlength=p.shape[1])
        row = p.scores[i]
        ranked = np.lexsort((np.arange(len(row)), -np.where(p.allowed[i], row, -np.inf)))
        alternatives = [int(j) for j in ranked if p.allowed[i, j] and int(j) not in mine][:k]
        best = float(row[mine].max()) if mine else 0.0
        matched = len(self.assignment)
        records = []
        locked = sum(a == i for a, _ in p.required) >= int(p.demand[i])
        for j in [*mine, *alternatives]:
            if j in mine:
                after, cost = matched, 0.0
            elif locked:  # her pairs are required: no switch keeps every hard rule
                after, cost = -1, float("nan")
            else:
                forced = replace(p, required=(*p.required, (i, j)))
                try:
                    other = solve(forced, method="flow")
                    after, cost = len(other.assignment), self.objective - other.objective
                except InfeasibleError:
                    after, cost = -1, float("nan")
            records.append(
                (
                    p.mentor_ids[j],
                    float(row[j]),
                    j in mine,
                    bool(load[j] >= p.capacity[j]),
                    float(row[j]) - best,
                    after,
                    cost,
                )
            )
        return pd.DataFrame(
            records,
            columns=[
                "mentor_id",
                "score",
                "assigned",
                "full",
                "score_difference",
                "matched_if_switched",
                "switch_cost",
            ],
        )

    def load(self) -> pd.DataFrame:
        """Mentor load: ``mentor_id``, ``mentees`` (assigned), ``capacity``, in mentor order."""
        p = self.problem
        got = np.bincount(self.assignment[:, 1], minlength=p.shape[1])
        return pd.DataFrame({"mentor_id": p.mentor_ids, "mentees": got, "capacity": p.capacity})

    def metrics(self) -> dict[str, float]:
        """Summary numbers: matched share, mean and min score, mentor load, locality shares.

        The mentor load distribution is given as ``mentors_with_load_k`` (how many mentors
        have exactly ``k`` mentees, for ``k`` from 0 to ``max_load``) and
        ``capacity_used_share`` (mentees placed over total capacity).
        """
        p = self.problem
        i, j = self.assignment[:, 0], self.assignment[:, 1]
        s = p.scores[i, j]
        load = np.bincount(j, minlength=p.shape[1])
        matched = len(np.unique(i))
        out: dict[str, float] = {
            "mentees": float(p.shape[0]),
            "matched": float(matched),
            "matched_share": matched / p.shape[0] if p.shape[0] else 0.0,
            "pairs": float(len(i)),
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
        if p.compat is not None and len(i):
            a, b = p.compat.mentees, p.compat.mentors
            for col in ("region", "chapter"):
                x, y = getattr(a, col)[i], getattr(b, col)[j]
                same = np.array([u is not None and u == v for u, v in zip(x, y, strict=True)])
                out[f"same_{col}_share"] = float(same.mean())
        return out

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
