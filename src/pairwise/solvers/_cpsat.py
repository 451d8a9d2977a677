"""One CP-SAT policy for pairs and circles: parameters, integer scale, unsat cores.

Every CP-SAT solve in pairwise is made by :func:`make_solver`:

- ``num_workers`` = ``workers`` (default 1); with more than one, ``interleave_search`` makes
  the parallel search deterministic (google/or-tools #2159, #4195);
- ``max_deterministic_time`` = the planned budget, a share of the caller's limit (never a
  reading of the clock), so the answer depends on the input, the seed and the workers only;
- ``max_time_in_seconds`` = what the :class:`~pairwise.solvers._plan.TimePlan` has left, a
  safety net that keeps the solve within the limit plus 10% on a loaded machine, for any
  number of workers;
- ``random_seed`` from the solve's :class:`~pairwise.solvers._plan.Seeds`.

Infeasible models report a small set of conflicting rules from assumption literals
(``sufficient_assumptions_for_infeasibility``), turned into an
:class:`~pairwise.errors.InfeasibleError` by :func:`raise_core`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NoReturn

from ortools.sat.python import cp_model

from pairwise.errors import InfeasibleError
from pairwise.solvers._plan import Seeds, TimePlan

__all__ = [
    "DETERMINISTIC_SHARE",
    "SCALE",
    "clock_stopped",
    "integer_scale",
    "make_solver",
    "raise_core",
]

#: Integer cost units given to the largest absolute score (flows and CP-SAT objectives).
SCALE = 1_000_000
#: Deterministic time CP-SAT may use per second of the caller's limit (CP-SAT's work units;
#: what they take in seconds depends on the machine, which is why the clock stays a net).
DETERMINISTIC_SHARE = 0.8


def integer_scale(top: float) -> float:
    """Integer cost units per unit of score: ``SCALE / top`` for the largest absolute score.

    Scores below ``1e-12`` in absolute value count as 0, so the scale stays finite.

    Examples
    --------
    >>> integer_scale(0.5)
    2000000.0
    """
    return SCALE / max(top, 1e-12)


def make_solver(
    plan: TimePlan,
    budget: float,
    seeds: Seeds,
    workers: int | None,
    *,
    deterministic: bool = True,
    reserve: float = 0.0,
) -> cp_model.CpSolver:
    """A CP-SAT solver under the one policy (see the module docstring).

    Parameters
    ----------
    plan : TimePlan
        The solve's plan; its clock left is the safety net.
    budget : float
        Deterministic time for this call, derived from ``plan.limit`` only.
    seeds : Seeds
    workers : int, optional
    deterministic : bool, default True
        ``False`` stops on the clock only, at the limit itself (the benchmarks' "as in the
        literature" mode); ``True`` on deterministic time, the clock at the limit plus 10%
        only as a safety net.
    reserve : float, default 0
        Seconds the clock keeps back from the safety net for the caller's work after this
        call (pairs: CP-SAT's overrun and the answer's assembly). Circles keep the whole
        net: a clock stop earlier than the deterministic budget's would make small solves
        depend on the load.
    """
    solver = cp_model.CpSolver()
    w = 1 if workers is None else int(workers)
    solver.parameters.num_workers = w
    solver.parameters.random_seed = seeds.cpsat()
    if w > 1:
        solver.parameters.interleave_search = True
    if deterministic:
        solver.parameters.max_deterministic_time = max(float(budget), 0.01)
    solver.parameters.max_time_in_seconds = max(0.01, plan.left(net=deterministic) - reserve)
    return solver


def clock_stopped(solver: cp_model.CpSolver, status: object) -> bool:
    """Whether the clock, not the deterministic budget or a proof, ended a solve.

    Such an answer depends on the machine's load (``timings["stopped_by_clock"]``).
    """
    if status in (cp_model.OPTIMAL, cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        return False
    params = solver.parameters
    if params.max_deterministic_time >= 1e300:  # clock-only solves ("as in the literature")
        return False
    return bool(solver.response_proto.deterministic_time < 0.999 * params.max_deterministic_time)


def raise_core(
    solver: cp_model.CpSolver, names: Mapping[int, str], what: str = "rules"
) -> NoReturn:
    """Raise :class:`InfeasibleError` naming the rules of the solver's unsat core.

    ``names`` maps assumption literal indices to the rule each switches on.
    """
    core: Sequence[int] = solver.sufficient_assumptions_for_infeasibility()
    found = sorted({names[v] for v in core if v in names})
    raise InfeasibleError(
        [f"these {what} cannot all hold together: " + "; ".join(found[:20])]
        if found
        else [f"the {what} cannot all hold"]
    )
