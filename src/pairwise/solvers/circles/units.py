"""Circle problems in *units*: the shape every circle method works on.

A unit is a person, a keep-together group contracted into one, or one leading place of a
mentor (a mentor who may lead ``L`` circles has ``L`` places; places she does not use wait
on a *bench*). Every rule is aggregated per unit, so the local search, the CP-SAT model and
the column enumeration all read the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse as sp

from pairwise.circles import CircleProblem

__all__ = ["Units", "build_units", "csr", "grouped_leaders", "planned_sizes"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Units:
    """A circle problem in units.

    Attributes
    ----------
    members : list of list of int
        The people (positions) of each unit.
    affinity : ndarray of float64, shape (U, U)
        Affinity between two units (the sum over their members), zero diagonal.
    intra : ndarray of float64, shape (U,)
        Affinity inside a unit (a keep-together group's own pairs).
    weight : ndarray of int64, shape (U,)
        People per unit (a circle's size counts weights).
    is_place : ndarray of bool, shape (U,)
        A mentor's leading place: optional (it may stay on the bench), every other unit
        must be placed.
    apart : ndarray of bool, shape (U, U)
        Units that never share a circle (kept-apart members, two places of one mentor,
        two mentors).
    has_label : ndarray of int64 (0/1), shape (U, L)
        Shared-label rules (language, slot), every rule's labels side by side: the unit has
        the label when all its members do.
    label_rule : ndarray of int64, shape (L,)
        Which shared rule (index into ``problem.shared``) each label column belongs to.
    count : ndarray of int64, shape (U, C)
        Count rules, only the labels whose bounds can bind: members of the unit with the
        label.
    count_min, count_max : ndarray of int64, shape (C,)
        Bounds per circle of each count column.
    count_or_none : ndarray of bool, shape (C,)
        The floor also holds with 0 ("2 or none").
    count_names : list of str
        ``"rule: label"`` of each count column, for explanations.
    count_rule : ndarray of int64, shape (C,)
        Which count rule (index into ``problem.counts``) each column comes from; ``-1``
        for the column of the mentor-led rule "one mentor per circle".
    """

    members: list[list[int]]
    affinity: FloatArray
    intra: FloatArray
    weight: IntArray
    is_place: BoolArray
    apart: BoolArray
    has_label: IntArray
    label_rule: IntArray
    count: IntArray
    count_min: IntArray
    count_max: IntArray
    count_or_none: BoolArray
    count_names: list[str]
    count_rule: IntArray

    @property
    def size(self) -> int:
        """Number of units."""
        return len(self.members)

    @property
    def is_lead_count(self) -> BoolArray:
        """Count columns of "one mentor per circle" (not a count rule of the problem)."""
        out: BoolArray = self.count_rule < 0
        return out


def csr(mask: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """Compressed rows of a boolean matrix: (row pointers, column indices)."""
    counts = mask.sum(axis=1)
    ptr = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    idx = np.nonzero(mask)[1].astype(np.int64)
    return ptr, idx


def build_units(p: CircleProblem) -> Units:
    """Contract keep-together groups, add leading places, aggregate every rule per unit."""
    members, is_place = _unit_members(p)
    U = len(members)
    # unit x person incidence, sparse: products with it cost O(n) per unit, not O(n^2)
    rows = np.repeat(np.arange(U), [len(ms) for ms in members])
    cols = np.array([i for ms in members for i in ms], dtype=np.int64)
    ST = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(U, p.n))

    def fold(matrix: npt.NDArray[Any]) -> FloatArray:
        """``S.T @ matrix @ S``: sums over the members of two units."""
        half = np.asarray(ST @ np.asarray(matrix, dtype=np.float64))
        return np.ascontiguousarray(np.asarray(ST @ half.T).T)

    full = fold(p.affinity)
    intra = np.diag(full).copy() / 2
    affinity = full.copy()
    np.fill_diagonal(affinity, 0.0)
    apart = fold(p.apart) > 0
    apart |= (ST @ ST.T).toarray() > 0  # leading places of one mentor
    np.fill_diagonal(apart, False)
    weight = np.array([len(ms) for ms in members], dtype=np.int64)
    # shared labels: a unit has a label when all its members do
    blocks = [
        (np.rint(np.asarray(ST @ r.member.astype(np.float64))) == weight[:, None]) for r in p.shared
    ]
    has_label = np.concatenate(blocks, axis=1) if blocks else np.zeros((U, 0), bool)
    label_rule = [r for r, rule in enumerate(p.shared) for _ in rule.labels]
    counts = _count_columns(p, ST, members)
    return Units(
        members=members,
        affinity=np.ascontiguousarray(affinity),
        intra=intra,
        weight=weight,
        is_place=np.array(is_place, dtype=bool),
        apart=np.ascontiguousarray(apart),
        has_label=np.ascontiguousarray(has_label.astype(np.int64)),
        label_rule=np.array(label_rule, dtype=np.int64),
        **counts,
    )


def _unit_members(p: CircleProblem) -> tuple[list[list[int]], list[bool]]:
    """The people of each unit (groups first, then one unit per person or leading place)."""
    leads = {int(j): int(k) for j, k in zip(p.leaders, p.leads, strict=True)}
    in_group = {i for g in p.together for i in g}
    mentor = p.mentor_mask
    members: list[list[int]] = [list(g) for g in p.together]
    is_place: list[bool] = [False] * len(members)
    for i in range(p.n):
        if i in in_group:
            continue
        if i in leads:
            members.extend([i] for _ in range(leads[i]))
            is_place.extend(True for _ in range(leads[i]))
        elif p.mentor_led and mentor[i]:
            continue  # a mentor who may not lead is in no circle
        else:
            members.append([i])
            is_place.append(False)
    return members, is_place


def _count_columns(p: CircleProblem, ST: sp.csr_matrix, members: list[list[int]]) -> dict[str, Any]:
    """The count columns of :class:`Units`: only labels whose bounds can bind."""
    U = len(members)
    blocks: list[IntArray] = []
    lo: list[int] = []
    hi: list[int] = []
    or_none: list[bool] = []
    names: list[str] = []
    rule_of: list[int] = []
    big = int(p.max_size.max()) + 1
    for r, count in enumerate(p.counts):
        cnt = np.rint(np.asarray(ST @ count.member.astype(np.float64))).astype(np.int64)
        top = big if count.at_most is None else int(count.at_most)
        for k, lab in enumerate(count.labels):
            if count.at_least == 0 and top >= big:
                continue
            if not cnt[:, k].any() and (count.at_least == 0 or count.or_none):
                continue
            blocks.append(cnt[:, k : k + 1])
            lo.append(int(count.at_least))
            hi.append(top)
            or_none.append(bool(count.or_none))
            names.append(f"{count.name}: {lab}")
            rule_of.append(r)
    if p.mentor_led:
        leaders = set(p.leaders.tolist())
        lead_cnt = np.array([sum(1 for i in ms if i in leaders) for ms in members], np.int64)
        blocks.append(lead_cnt[:, None])
        lo.append(1)
        hi.append(1)
        or_none.append(False)
        names.append("one mentor per circle")
        rule_of.append(-1)
    stacked = np.concatenate(blocks, axis=1) if blocks else np.zeros((U, 0), np.int64)
    return {
        "count": np.ascontiguousarray(stacked),
        "count_min": np.array(lo, dtype=np.int64),
        "count_max": np.array(hi, dtype=np.int64),
        "count_or_none": np.array(or_none, dtype=bool),
        "count_names": names,
        "count_rule": np.array(rule_of, dtype=np.int64),
    }


def grouped_leaders(p: CircleProblem, units: Units) -> int:
    """Leaders inside keep-together groups (they fill a circle's leading place)."""
    leaders = set(p.leaders.tolist())
    return sum(
        1 for u, ms in enumerate(units.members) if not units.is_place[u] for i in ms if i in leaders
    )


def planned_sizes(p: CircleProblem, units: Units) -> IntArray:
    """Circle sizes between the bounds that add up to everyone placed (as even as possible)."""
    # everyone who must be placed, plus a leading place for the circles no grouped leader fills
    grouped = grouped_leaders(p, units)
    total = int(units.weight[~units.is_place].sum()) + (
        p.n_circles - grouped if p.mentor_led else 0
    )
    target = p.min_size.astype(np.int64).copy()
    left = total - int(target.sum())
    while left > 0:
        room = np.flatnonzero(target < p.max_size)
        if len(room) == 0:
            break
        order = room[np.argsort(target[room], kind="stable")]
        for g in order[:left]:
            target[g] += 1
        left = total - int(target.sum())
    return target
