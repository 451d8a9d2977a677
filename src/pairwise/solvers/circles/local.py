"""The circles' local search: greedy starts, then an iterated tabu search in threads.

The compiled kernels, the method and its references are in :mod:`.kernels`. The greedy
start aims at :func:`size_plan`'s sizes (under the total objective, the mix with the most
pairs). Work is counted in neighbour evaluations: the search stops on a budget of
:attr:`SearchSettings.evals_per_second` per second of the caller's limit, and a run with
the same seed, workers and limit is reproducible whatever the machine's
speed; the clock stops it at the limit on a slower or busier machine (then the answer
depends on the machine). ``timings`` says which one ended it (``stopped_by_budget``,
``stopped_by_clock``). ``workers`` independent searches run in parallel threads (the kernels
release the GIL) from the same start and the best is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from pairwise._validate import is_int
from pairwise.circles import CircleProblem
from pairwise.errors import Problem, SolverError, ValidationError
from pairwise.solvers._cpsat import DETERMINISTIC_SHARE
from pairwise.solvers._plan import Seeds, TimePlan
from pairwise.solvers.circles.cpsat import solve_model
from pairwise.solvers.circles.units import Units, build_units, csr, planned_sizes

if TYPE_CHECKING:  # the kernels (numba) load on first use
    from pairwise.solvers.circles.kernels import UnitData

__all__ = ["SearchSettings", "circle_scores", "compile_kernels", "local_search", "size_plan"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Progress = Callable[[dict[str, float]], None]

_CHUNK = 2_000_000  # evaluations per kernel call between clock and progress checks
_STARTS = 20  # greedy starts tried before CP-SAT looks for a first feasible answer
#: Units scanned per tabu iteration, times :attr:`SearchSettings.sample`'s, where swap
#: partners are bounded (total objective, no leading places) and sizes may vary. Fixed
#: work 8G, seeds 0-1, to the TPSDP mean: RanReal_n480_ds_01, a 60-unit window -0.41% /
#: -0.40%, all 480 units +0.02% / -0.08%; RanReal_n480_ss_01 (fixed sizes, kept on the
#: window) +0.09% / -0.09% against -0.08% / -0.17% (benchmarks/README.md).
_BOUNDED_SCAN = 8


@dataclass(frozen=True)
class SearchSettings:
    """How the circles' searches spend their time (a parameter of ``solve``).

    Attributes
    ----------
    evals_per_second : int
        Work budget of the local search per second of ``time_limit`` (neighbour
        evaluations, per worker; a candidate that costs more than a plain one, under the
        mean or maxmin objective or with shared-label rules, counts for what it costs). The
        default, 40 million, keeps answers reproducible on a busy machine: on this
        project's 2-core benchmark machine one search counts 99-249 million per second idle
        over random, peer and mentor-led cohorts of 36-1,000 people under every objective
        and rule mix, and 43-140 million with three CPU-bound processes on the two cores
        (benchmarks/README.md, "Budget or clock" and (f)). A solve with a free count needs
        1.15 times the budget (screening, then the chosen count), so the budget ends the
        search whenever it gets 46 million per second: idle after 17-24% of the limit (up
        to 46% on the slowest kinds), and the answer is the seed's alone
        (``timings["stopped_by_budget"]`` is 1). A budget that
        fills the idle limit would be stopped by the clock at such loads (the answer would
        depend on the load); what the default gives up there is measured: 0.07-0.12 points
        of the gap to the best published mean on the MDGPLIB benchmark. A slower or busier
        machine reaches the limit first: the clock ends the search there
        (``timings["stopped_by_clock"]`` is 1, the answer depends on the machine). A huge
        value (``10**15``) makes the clock the limit, the whole limit spent (as in the
        literature's comparisons; not reproducible).
    deterministic : bool
        CP-SAT stops on deterministic time (reproducible); ``False``: on the clock only.
    stall : int
        Tabu iterations without a new best, per unit, before a perturbation.
    tenure, strength : int
        Tabu tenure and perturbation strength ranges, per mille of the units.
    sample : int
        Neighbour units scanned per tabu iteration is ``sample / units**2`` (all of them up
        to ~240 units; a short rotating candidate list for large cohorts); 8 times as many
        under the total objective without leading places where sizes may vary (the
        kernel passes over whole circles of swap partners by a bound: all of them up to
        ~480 units).

    Examples
    --------
    >>> SearchSettings().evals_per_second
    40000000
    """

    evals_per_second: int = 40_000_000
    deterministic: bool = True
    stall: int = 16
    tenure: int = 100
    strength: int = 250
    sample: int = 14_000_000

    def __post_init__(self) -> None:
        problems = [
            Problem(f"bad SearchSettings.{name}", value=getattr(self, name), expected="an int >= 1")
            for name in ("evals_per_second", "stall", "tenure", "strength", "sample")
            if not (is_int(getattr(self, name)) and getattr(self, name) >= 1)
        ]
        flag: object = self.deterministic
        if not isinstance(flag, bool):
            problems.append(
                Problem(
                    "bad SearchSettings.deterministic", value=self.deterministic, expected="bool"
                )
            )
        if problems:
            raise ValidationError(problems)


def unit_data(p: CircleProblem, u: Units) -> UnitData:
    """The units as the compiled kernels read them (with compressed rows for sparse lookups)."""
    from pairwise.solvers.circles import kernels

    apart_ptr, apart_idx = csr(u.apart)
    label_ptr, label_idx = csr(u.has_label > 0)
    count_ptr, count_idx = csr(u.count > 0)
    return kernels.UnitData(
        affinity=u.affinity,
        intra=u.intra,
        weight=u.weight,
        is_place=u.is_place,
        n_circles=p.n_circles,
        min_size=p.min_size.astype(np.int64),
        max_size=p.max_size.astype(np.int64),
        apart=u.apart,
        apart_ptr=apart_ptr,
        apart_idx=apart_idx,
        has_label=u.has_label,
        label_ptr=label_ptr,
        label_idx=label_idx,
        label_rule=u.label_rule,
        n_shared=len(p.shared),
        unit_counts=u.count,
        count_ptr=count_ptr,
        count_idx=count_idx,
        count_min=u.count_min,
        count_max=u.count_max,
        count_or_none=u.count_or_none,
    )


def local_search(
    p: CircleProblem,
    units: Units,
    plan: TimePlan,
    limit: float,
    seeds: Seeds,
    workers: int | None,
    timings: dict[str, float],
    *,
    settings: SearchSettings,
    progress: Progress | None = None,
    bound: float = float("inf"),
    budget: int | None = None,
    cpsat_start: bool = True,
) -> IntArray:
    """Greedy start (CP-SAT if the repair fails), then the iterated tabu search.

    ``limit`` is the planned seconds of this search (a share of the caller's limit): the
    work budget is ``settings.evals_per_second * limit`` (per worker) unless ``budget`` is
    given. ``cpsat_start=False``: when no greedy start fits, raise SolverError instead of
    asking CP-SAT for one (the count screening of large cohorts). Fills ``timings``:
    ``evaluations`` (every worker's), ``stopped_by_budget`` (1
    when every worker used its whole budget: the answer is reproducible),
    ``stopped_by_clock`` (1 when the time limit ended a worker first) and
    ``stopped_early`` (1 when a worker found no admissible neighbour at all).
    """
    data = unit_data(p, units)
    budget = int(settings.evals_per_second * limit) if budget is None else budget
    t0 = time.perf_counter()
    g_of, used = _greedy(p, units, seeds, budget, data)
    timings["construct"] = time.perf_counter() - t0
    if g_of is None and not cpsat_start:
        raise SolverError("no greedy start fits every rule (the CP-SAT start is off)")
    if g_of is None:
        g_of, _, _ = solve_model(
            p,
            units,
            plan,
            DETERMINISTIC_SHARE * limit,
            seeds,
            workers,
            feasibility_only=True,
            deterministic=settings.deterministic,
            timings=timings,
        )
        timings["cpsat_start"] = time.perf_counter() - t0 - timings["construct"]
    timings["first_feasible"] = plan.elapsed()
    threads = max(1, int(workers or 1))
    thread_seeds = seeds.ints("threads", threads)
    remaining = max(0, budget - used)

    def run(k: int) -> tuple[tuple[float, float], IntArray, int, str]:
        report = progress if k == 0 else None
        return _tabu(
            p, units, g_of, data, thread_seeds[k], remaining, plan, settings, report, bound
        )

    if threads == 1:
        found = [run(0)]
    else:  # the best wins, ties to the lowest index: the answer is the seed's alone
        with ThreadPoolExecutor(threads) as pool:
            found = list(pool.map(run, range(threads)))
    winner = max(range(len(found)), key=lambda k: (found[k][0], -k))
    timings["search"] = plan.elapsed() - timings["first_feasible"]
    timings["evaluations"] = float(sum(f[2] for f in found))
    timings["stopped_by_budget"] = float(all(f[3] == "budget" for f in found))
    clock = float(any(f[3] == "clock" for f in found))  # an earlier step's stop stands
    timings["stopped_by_clock"] = max(timings.get("stopped_by_clock", 0.0), clock)
    timings["stopped_early"] = float(any(f[3] == "rigid" for f in found))
    return found[winner][1]


def _greedy(
    p: CircleProblem, units: Units, seeds: Seeds, budget: int, data: UnitData
) -> tuple[IntArray | None, int]:
    """Greedy starts from random orders until one fits every rule; (start or None, work)."""
    from pairwise.solvers.circles import kernels

    m = p.n_circles
    flex, target = _flexibility(units), size_plan(p, units)
    rng = seeds.stream("starts")
    kernel_seeds = seeds.ints("construct", _STARTS)
    used = 0
    for attempt in range(_STARTS):
        order = rng.permutation(units.size).astype(np.int64)
        # places of mentors first, first place of each mentor before second places
        order = order[np.argsort(~units.is_place[order], kind="stable")]
        g_of = np.full(units.size, m, dtype=np.int64)
        shortfall, work = kernels.construct(
            data,
            g_of,
            order,
            flex,
            target,
            kernel_seeds[attempt],
            max(budget // (4 * _STARTS), 1),
        )
        used += int(work)
        if shortfall == 0:
            return g_of, used
        if used > budget // 4:
            break
    return None, used


def _tabu(
    p: CircleProblem,
    units: Units,
    start: IntArray,
    data: UnitData,
    seed: int,
    budget: int,
    plan: TimePlan,
    settings: SearchSettings,
    progress: Progress | None,
    bound: float,
) -> tuple[tuple[float, float], IntArray, int, str]:
    """One tabu search from ``start``: (key, best assignment, evaluations, what stopped it).

    What stopped it: ``"budget"``, ``"clock"`` (the time limit) or ``"rigid"`` (no
    admissible neighbour at all).
    """
    from pairwise.solvers.circles import kernels

    m = p.n_circles
    mode = {"total": kernels.TOTAL, "mean": kernels.MEAN, "maxmin": kernels.MAXMIN}[p.objective]
    # where the kernel bounds swap partners by circle, a scan costs a fraction of its
    # candidates: more units per iteration for the same work, where sizes may vary
    bounded = mode == kernels.TOTAL and not bool(units.is_place.any())
    scale = _BOUNDED_SCAN if bounded and bool(np.any(p.min_size < p.max_size)) else 1
    params = kernels.SearchParams(
        mode=mode,
        stall=max(200, int(settings.stall * units.size)),
        tenure=int(settings.tenure),
        strength=int(settings.strength),
        sample=max(8, int(settings.sample) * scale // units.size**2),
    )
    g = start.copy()
    best_g = g.copy()
    tabu = np.zeros((units.size, m + 1), dtype=np.int64)
    worst, total = kernels.evaluate(data, g.copy(), mode)
    counters = kernels.SearchCounters(
        iteration=0,
        last_improvement=0,
        seed=seed,
        evaluations=0,
        best_worst=float(worst),
        best_total=float(total),
    )
    deadline = plan.deadline(net=False)  # the work budget ends it first, or the limit does
    left = budget
    stopped = "budget"
    while left > 0:
        if time.perf_counter() >= deadline:
            stopped = "clock"
            break
        chunk = min(_CHUNK, left)
        before = counters.evaluations
        counters = kernels.search(data, g, best_g, tabu, params, counters, chunk)
        done = counters.evaluations - before
        left -= max(done, chunk)
        if progress is not None:
            objective = counters.best_total
            progress({"elapsed": plan.elapsed(), "objective": objective, "bound": bound})
        if done == 0:
            stopped = "rigid"
            break
    key = (counters.best_worst, counters.best_total)
    return key, best_g, counters.evaluations, stopped


_compiled: list[float] = []


def compile_kernels() -> float:
    """Load the local search's compiled kernels, compiling them on first use; seconds taken.

    Numba caches the machine code on disk, so the compilation (several seconds) happens once
    per installation, and loading takes a fraction of a second once per process. ``solve``
    calls this before its clock starts, so the time limit is the search's alone.
    """
    if _compiled:
        return 0.0
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    a = rng.random((8, 8))
    tiny = CircleProblem.from_affinity(a + a.T, n_circles=2, min_size=4, max_size=4)
    plan = TimePlan(60.0)  # the fixed work budget, not the clock, ends the warm-up
    local_search(
        tiny,
        build_units(tiny),
        plan,
        1e-4,
        Seeds(0),
        1,
        {},
        settings=SearchSettings(),
        budget=20_000,
    )
    _compiled.append(time.perf_counter() - t0)
    return _compiled[0]


def size_plan(p: CircleProblem, units: Units) -> IntArray:
    """The circle sizes the greedy start aims at: the most pairs when pairs are worth it.

    Under the total objective, where sizes may vary and the affinities add up to more than
    0, the sizes between the bounds that add up to everyone placed and hold the most pairs
    (most circles at one of their bounds: every published best assignment of the MDGPLIB
    instances with varying sizes has such a mix, benchmarks/README.md); otherwise (mean
    and maxmin objectives, or a negative sum) sizes as even as possible
    (:func:`~pairwise.solvers.circles.units.planned_sizes`). Circles with the same bounds
    are interchangeable, so the plan is a knapsack over the classes of bounds: in a class,
    its people fill circles to the ceiling one after the other (the pairs are convex in
    the size), and a dynamic programme shares the people among the classes.
    """
    even = planned_sizes(p, units)
    low, high = p.min_size.astype(np.int64), p.max_size.astype(np.int64)
    total = int(even.sum())
    worth = float(np.nansum(units.affinity)) + 2.0 * float(units.intra.sum())
    if p.objective != "total" or np.all(low == high) or worth <= 0:
        return even
    if not int(low.sum()) <= total <= int(high.sum()):
        return even
    bounds = sorted({(int(a), int(b)) for a, b in zip(low, high, strict=True)})
    members = [np.flatnonzero((low == a) & (high == b)) for a, b in bounds]
    shares = _share_people(bounds, [len(g) for g in members], total)
    plan = even.copy()
    for (a, b), idx, people in zip(bounds, members, shares, strict=True):
        plan[idx] = _class_sizes(a, b, len(idx), people)
    return plan


def _class_sizes(low: int, high: int, count: int, people: int) -> IntArray:
    """``count`` circles of ``low..high`` holding ``people``: the first ones full."""
    sizes = np.full(count, low, dtype=np.int64)
    left = people - low * count
    for g in range(count):
        step = min(high - low, left)
        sizes[g] += step
        left -= step
    return sizes


def _share_people(bounds: list[tuple[int, int]], counts: list[int], total: int) -> list[int]:
    """People per class of bounds with the most pairs in all (a knapsack over the classes)."""

    def pairs(k: int, people: IntArray) -> IntArray:
        low, high = bounds[k]
        if high == low:
            return np.asarray(counts[k] * (low * (low - 1) // 2) + 0 * people, dtype=np.int64)
        full, rest = np.divmod(people - counts[k] * low, high - low)
        part = np.where(rest > 0, 1, 0)
        bottom = counts[k] - full - part
        inner = low + rest
        value = full * (high * (high - 1) // 2) + part * (inner * (inner - 1) // 2)
        return np.asarray(value + bottom * (low * (low - 1) // 2), dtype=np.int64)

    if len(bounds) == 1:
        return [total]
    neg = np.iinfo(np.int64).min // 4
    best = np.full(total + 1, neg, dtype=np.int64)
    best[0] = 0
    choice = []
    for k, (low, high) in enumerate(bounds):
        new = np.full(total + 1, neg, dtype=np.int64)
        pick = np.zeros(total + 1, dtype=np.int64)
        options = np.arange(counts[k] * low, min(counts[k] * high, total) + 1)
        for people, value in zip(options.tolist(), pairs(k, options).tolist(), strict=True):
            cand = np.full(total + 1, neg, dtype=np.int64)
            cand[people:] = best[: total + 1 - people] + value
            better = cand > new
            new[better] = cand[better]
            pick[better] = people
        best = new
        choice.append(pick)
    shares = [0] * len(bounds)
    left = total
    for k in range(len(bounds) - 1, -1, -1):
        shares[k] = int(choice[k][left])
        left -= shares[k]
    return shares


def _flexibility(units: Units) -> FloatArray:
    """How many ways a unit can fit: its shared labels, then its share of allowed partners."""
    labels = units.has_label.sum(axis=1).astype(np.float64)
    partners = 1.0 - units.apart.sum(axis=1) / max(units.size, 1)
    return np.asarray(labels + partners, dtype=np.float64)


def circle_scores(units: Units, g_of: IntArray, m: int) -> FloatArray:
    """The score of each of ``m`` circles for the unit assignment ``g_of``."""
    out = np.zeros(m)
    for g in range(m):
        idx = np.flatnonzero(g_of == g)
        out[g] = units.affinity[np.ix_(idx, idx)].sum() / 2 + units.intra[idx].sum()
    return out
