"""The canonical participant schema and the set-valued column types (``Tags``, ``Levels``).

Shared by :mod:`pairwise.cohort` (the ``Cohort`` type) and its parser, so neither imports
the other's module back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pairwise._validate import readonly

ROLES: tuple[str, ...] = ("mentee", "mentor", "peer")
MODES: tuple[str, ...] = ("online", "in-person", "either")
LEVEL_MIN, LEVEL_MAX = 1, 3
#: Level given to a topic written without one ("fundraising" means "fundraising:2").
DEFAULT_LEVEL = 2

TEXT_COLUMNS: tuple[str, ...] = ("region", "cluster", "chapter")
TAG_COLUMNS: tuple[str, ...] = ("languages", "stage", "slots")
LEVEL_COLUMNS: tuple[str, ...] = ("needs", "expertise")
LINK_COLUMNS: tuple[str, ...] = ("avoid", "previous", "prefer")
CANONICAL_COLUMNS: tuple[str, ...] = (
    "id",
    "role",
    "region",
    "cluster",
    "chapter",
    "languages",
    "needs",
    "expertise",
    "stage",
    "mode",
    "slots",
    "capacity",
    "minimum",
    "vetted",
    "avoid",
    "previous",
    "prefer",
    "ranked",
)
#: Per-rank columns as form tools export a ranking (one question per choice):
#: ``ranked_1`` holds the first choice's id, ``ranked_2`` the second, ... (up to
#: :data:`MAX_RANK`); together they give the ``ranked`` list.
RANK_COLUMN = re.compile(r"ranked_([1-9][0-9]{0,2})")
#: Most ranks a per-rank column may give.
MAX_RANK = 999
REQUIRED_COLUMNS: tuple[str, ...] = ("id", "role")


def is_canonical(name: str) -> bool:
    """Whether ``name`` is a canonical column or a per-rank column ``ranked_<k>``."""
    return name in CANONICAL_COLUMNS or RANK_COLUMN.fullmatch(name) is not None


def rank_of(name: str) -> int | None:
    """The rank ``k`` of a per-rank column ``ranked_<k>``, else None."""
    found = RANK_COLUMN.fullmatch(name)
    return int(found.group(1)) if found else None


BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class Tags:
    """A set-valued column: a sorted vocabulary and a boolean membership matrix.

    Parameters
    ----------
    vocab : tuple of str
        Sorted distinct values.
    matrix : ndarray of bool, shape (n_people, len(vocab))
        ``matrix[i, k]`` is True when person ``i`` has value ``vocab[k]``.
    rank : ndarray of int16, shape (n_people, len(vocab)), optional
        Where person ``i`` listed ``vocab[k]`` in her answer (1 = first, her preference;
        0 = not listed). ``None``: the order is unknown (every listed value ranks 1).
    """

    vocab: tuple[str, ...]
    matrix: BoolArray
    rank: npt.NDArray[np.int16] | None = None

    def __post_init__(self) -> None:
        readonly(self.matrix)
        if self.rank is not None:
            readonly(self.rank)

    @property
    def order(self) -> npt.NDArray[np.int16]:
        """:attr:`rank`, or 1 wherever a value is listed when the order is unknown."""
        if self.rank is not None:
            return self.rank
        return self.matrix.astype(np.int16)

    def row(self, i: int) -> list[str]:
        """Values of person ``i``, sorted."""
        return [self.vocab[k] for k in np.flatnonzero(self.matrix[i])]

    def take(self, rows: IntArray) -> Tags:
        """The same vocabulary, restricted to ``rows``."""
        return Tags(self.vocab, self.matrix[rows], None if self.rank is None else self.rank[rows])


@dataclass(frozen=True, eq=False)
class Levels:
    """A topic -> level column: a sorted topic vocabulary and an int8 level matrix.

    Parameters
    ----------
    vocab : tuple of str
        Sorted topics.
    matrix : ndarray of int8, shape (n_people, len(vocab))
        ``matrix[i, t]`` is the level (1..3) of topic ``vocab[t]`` for person ``i``; 0 = absent.
    """

    vocab: tuple[str, ...]
    matrix: npt.NDArray[np.int8]

    def __post_init__(self) -> None:
        readonly(self.matrix)

    def row(self, i: int) -> dict[str, int]:
        """Topic -> level of person ``i``, topics sorted."""
        return {self.vocab[k]: int(self.matrix[i, k]) for k in np.flatnonzero(self.matrix[i])}

    def take(self, rows: IntArray) -> Levels:
        """The same vocabulary, restricted to ``rows``."""
        return Levels(self.vocab, self.matrix[rows])
