"""The structured answers a problem carries for explanations, checks and plots: :class:`Labels`.

A problem built from a cohort keeps a :class:`Labels` per side (``mentee_labels`` and
``mentor_labels`` of a :class:`~pairwise.problem.PairProblem`, ``labels`` of a
:class:`~pairwise.circles.CircleProblem`): plain arrays of the programme's categories
(region, cluster, chapter, mode, role) and label sets (languages, stage, slots), never
free text, names or e-mails. Results, explanations and plots read these, so no later stage
reaches back into the cohort, and a problem built from plain matrices simply has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pairwise.cohort import Cohort, Tags
from pairwise.errors import Problem, ValidationError

__all__ = ["CATEGORIES", "LABEL_SETS", "Labels"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]

#: Single-valued categories (text, ``None`` where missing).
CATEGORIES: tuple[str, ...] = ("region", "cluster", "chapter", "mode", "role")
#: Set-valued labels (:class:`~pairwise.cohort.Tags`).
LABEL_SETS: tuple[str, ...] = ("languages", "stage", "slots")


@dataclass(frozen=True, eq=False)
class Labels:
    """The structured answers of one group of people, in problem order.

    Attributes
    ----------
    region, cluster, chapter, mode, role : ndarray of object
        One entry per person; text, ``None`` where missing.
    languages, stage, slots : Tags
        Sorted vocabulary and membership matrix.
    topics : Tags or None
        The topics of each person (a mentee's needs or a mentor's expertise), when kept.

    Examples
    --------
    >>> import pairwise
    >>> labels = Labels.of(pairwise.make_cohort(4, 2, seed=1))
    >>> len(labels), labels.take(np.array([5, 0])).region.tolist() == [
    ...     labels.region[5], labels.region[0]]
    (6, True)
    """

    region: ObjArray
    cluster: ObjArray
    chapter: ObjArray
    mode: ObjArray
    role: ObjArray
    languages: Tags
    stage: Tags
    slots: Tags
    topics: Tags | None = None

    @classmethod
    def of(cls, people: Cohort, topics: str | None = None) -> Labels:
        """The labels of a cohort's people (its arrays are shared, they are read-only).

        ``topics``: ``"needs"`` or ``"expertise"``, the topics kept as ``topics`` (a
        mentee's needs, a mentor's expertise; any level).
        """
        fields: dict[str, Any] = {c: getattr(people, c) for c in (*CATEGORIES, *LABEL_SETS)}
        if topics is not None:
            levels = getattr(people, topics)
            fields["topics"] = Tags(levels.vocab, levels.matrix > 0)
        return cls(**fields)

    def __len__(self) -> int:
        return len(self.region)

    def take(self, rows: IntArray) -> Labels:
        """The labels of the people at ``rows``, in that order."""
        fields: dict[str, Any] = {c: getattr(self, c)[rows] for c in CATEGORIES}
        fields.update({c: getattr(self, c).take(rows) for c in LABEL_SETS})
        fields["topics"] = None if self.topics is None else self.topics.take(rows)
        return Labels(**fields)

    def category(self, column: str) -> ObjArray:
        """The values of a single-valued category (``region``, ``chapter``, ...)."""
        if column not in CATEGORIES:
            raise ValidationError(
                [Problem("not a category", value=column, expected=", ".join(CATEGORIES))]
            )
        out: ObjArray = getattr(self, column)
        return out
