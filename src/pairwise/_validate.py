"""One home for the checks that every stage shares (sklearn's ``utils/validation``).

Public functions of pairwise validate their input here, then call trusting cores that do
not validate again. Every checker that can find several problems appends
:class:`~pairwise.errors.Problem` entries to a list given by the caller, so one
:class:`~pairwise.errors.ValidationError` lists them all.

Ids: every stage turns an id into text with :func:`id_text` (the cohort's rule: integers
and integral floats print without decimals, text is stripped), so ``1``, ``1.0`` and
``"1"`` name the same person everywhere.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from pairwise.errors import Problem

__all__ = [
    "id_text",
    "ids_array",
    "is_int",
    "is_real",
    "per_entity",
    "positions",
    "readonly",
    "seed_problems",
    "time_limit_problems",
    "workers_problems",
]

IntArray = npt.NDArray[np.int64]
A = TypeVar("A", bound=npt.NDArray[Any])

#: Seeds are ints in ``[0, SEED_LIMIT)``, the range CP-SAT and NumPy share.
SEED_LIMIT = 2**31


def is_int(x: object) -> bool:
    """An integer that is not a bool (``True`` is an ``Integral`` to Python).

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(x, numbers.Integral) and not isinstance(x, bool | np.bool_)


def is_real(x: object) -> bool:
    """A real number (int or float, NumPy's too) that is not a bool.

    Examples
    --------
    >>> is_real(0.5), is_real(2), is_real(False), is_real("1")
    (True, True, False, False)
    """
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def readonly(a: A) -> A:
    """Mark ``a`` read-only in place and return it (results and problems are frozen)."""
    a.setflags(write=False)
    return a


def id_text(v: Any) -> str:
    """Canonical text of an id: integers (also integral floats) print without decimals.

    Examples
    --------
    >>> id_text(7), id_text(7.0), id_text(" ann "), id_text(np.int64(3))
    ('7', '7', 'ann', '3')
    """
    if isinstance(v, bool | np.bool_):
        return str(v)
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


def positions(ids: Iterable[Any]) -> dict[str, int]:
    """``{id_text(id): position}`` for a sequence of ids (the first position wins).

    Examples
    --------
    >>> positions(["a", "b", 3])
    {'a': 0, 'b': 1, '3': 2}
    """
    out: dict[str, int] = {}
    for i, x in enumerate(ids):
        out.setdefault(id_text(x), i)
    return out


def ids_array(
    ids: Sequence[Any] | None, size: int, name: str, problems: list[Problem]
) -> npt.NDArray[np.object_]:
    """Ids as an object array of text (``"0"``, ``"1"``, ... by default), checked.

    On a wrong length or duplicates a problem is recorded and the default ids are
    returned, so that the caller can go on collecting problems.
    """
    default = np.array([str(i) for i in range(size)], dtype=object)
    if ids is None:
        return default
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        problems.append(Problem(f"{name} must be a sequence of ids", column=name))
        return default
    out = np.array([id_text(x) for x in ids], dtype=object)
    if out.shape != (size,):
        problems.append(Problem(f"{name} has {len(out)} entries", column=name, expected=str(size)))
        return default
    if len(set(out.tolist())) != size:
        problems.append(Problem(f"{name} are not unique", column=name))
    return out


def per_entity(
    value: Any, size: int, name: str, problems: list[Problem], *, minimum: int = 0
) -> IntArray:
    """One whole number ``>= minimum`` per entity (capacity, demand, leads, ...).

    ``value`` is one number for everybody or an array of ``size``. On a problem it is
    recorded and ``minimum`` is returned for everybody.

    Examples
    --------
    >>> problems = []
    >>> per_entity(2, 3, "capacity", problems).tolist(), problems
    ([2, 2, 2], [])
    >>> per_entity([1, -1], 2, "capacity", problems).tolist(), len(problems)
    ([0, 0], 1)
    """
    fallback = np.full(size, minimum, dtype=np.int64)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        problems.append(Problem(f"{name} must be whole numbers", column=name))
        return fallback
    if arr.ndim == 0:
        arr = np.full(size, arr)
    if arr.shape != (size,):
        problems.append(
            Problem(f"{name} has shape {arr.shape}", column=name, expected=f"({size},)")
        )
        return fallback
    if not np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_:
        problems.append(Problem(f"{name} must be integers", column=name))
        return fallback
    if not np.isfinite(arr).all() or (arr != np.round(arr)).any() or (arr < minimum).any():
        problems.append(Problem(f"{name} must be integers >= {minimum}", column=name))
        return fallback
    return arr.astype(np.int64)


def seed_problems(seed: object) -> list[Problem]:
    """A seed must be an int in ``[0, 2**31)`` (CP-SAT's and NumPy's common range)."""
    if is_int(seed) and 0 <= int(seed) < SEED_LIMIT:  # type: ignore[call-overload]
        return []
    return [Problem("bad seed", value=seed, expected="an int in [0, 2**31)")]


#: The longest time limit a solve accepts (30 days): the clocks and work budgets behind
#: it stay exact integers, and a longer run is a mistake, not a plan.
MAX_TIME_LIMIT = 30 * 24 * 3600.0


def time_limit_problems(time_limit: object) -> list[Problem]:
    """A time limit is ``None`` (the default) or seconds in ``(0, MAX_TIME_LIMIT]``."""
    if time_limit is None:
        return []
    if (
        is_real(time_limit)
        and math.isfinite(float(time_limit))  # type: ignore[arg-type]
        and 0 < float(time_limit) <= MAX_TIME_LIMIT  # type: ignore[arg-type]
    ):
        return []
    return [
        Problem(
            "bad time_limit",
            value=time_limit,
            expected=f"seconds > 0 and <= {MAX_TIME_LIMIT:.0f} (30 days), or None",
        )
    ]


def workers_problems(workers: object) -> list[Problem]:
    """Workers are ``None`` (one) or an int ``>= 1``."""
    if workers is None or (is_int(workers) and int(workers) >= 1):  # type: ignore[call-overload]
        return []
    return [Problem("workers must be >= 1", value=workers, expected="an int >= 1, or None")]
