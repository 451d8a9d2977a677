"""Benchmark: the pairs engine against dense references, side by side in one run.

Cases (issue 4):

(a) dense 1:1, n x n synthetic-cohort scores: ``pairwise.solve`` (auto -> assignment) vs
    ``scipy.optimize.linear_sum_assignment`` (and OR-Tools ``SimpleLinearSumAssignment``);
(b) 10,000 mentees x 2,000 mentors, capacity 5, synthetic-cohort scores: ``pairwise.solve``
    (auto -> sparse candidates + dual proof) vs SciPy on replicated columns (each mentor's
    column repeated 5 times) and OR-Tools min-cost flow on all 20M arcs;
(c) 2,000 mentees x 400 mentors under region-cluster, language, cross-chapter, avoid rules
    with the max-min objective: time to the first (here: proven optimal) answer;
(d) issue 15 at (b)'s size: the plain solve beside a minimum load of 3 per mentor,
    ``covered-then-total`` and the two deferred-acceptance stable matchings (with the plain
    answer's blocking pairs and each row's total);
(e) stability against daffidwilde/matching's ``HospitalResident`` (if ``matching`` is
    installed: ``pip install matching==1.4.3``; not a dependency) on 1,000 x 200, capacity 5,
    complete preference lists from the scores (ties to the lower position, pairwise's rule),
    and ``objective="stable"`` (the best stable total, a MILP) on 300 x 60;
(f) ``objective="stable"`` with ranked lists (3 mentors per mentee, capacity 4; the stable
    matching is not unique, so the MILP runs) on 100 x 25 to 400 x 100: the library's MILP
    (only the cells between the two deferred-acceptance answers) beside the same MILP over
    every allowed cell, 30 s limit each.

Every measurement runs in a fresh child process, so its peak RSS is its own.

Usage::

    .venv/bin/python benchmarks/bench_pairs.py           # full sizes (3-7 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_pairs.py --quick   # small sizes, about a minute
    .venv/bin/python benchmarks/bench_pairs.py --cases de  # only (d) and (e)
    .venv/bin/python benchmarks/bench_pairs.py --cases f   # only (f), about 2 minutes
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scores(n: int, m: int) -> np.ndarray:
    import pairwise

    return pairwise.score(pairwise.make_cohort(n, m, seed=0)).matrix


def _run(case: str, method: str, n: int, m: int, cap: int) -> dict[str, Any]:
    """Body of one child process."""
    import pairwise

    out: dict[str, Any] = {}
    if case == "c":
        from pairwise.rules import DifferentChapter, SameCluster, SharedLanguage

        compat = pairwise.score(pairwise.make_cohort(n, m, seed=0))
        base = _rss_mib()
        t = time.perf_counter()
        problem = pairwise.PairProblem.from_compatibility(
            compat, [SameCluster(), SharedLanguage(), DifferentChapter()], objective="maxmin"
        )
        result = pairwise.solve(problem, time_limit=30)
        out["seconds"] = time.perf_counter() - t
        out["objective"] = result.objective
        out["matched"] = len(result.assignment)
        out["min_score"] = result.metrics()["min_score"]
        out["gap"] = result.gap
        out["status"] = result.status
        out["base_mib"], out["peak_mib"] = base, _rss_mib()
        return out
    if case in ("d", "e"):
        return _goals(method, n, m, cap)
    if case == "f":
        return _ranked_stable(method, n, m, cap)
    s = _scores(n, m)
    base = _rss_mib()
    t = time.perf_counter()
    if method == "pairwise":
        result = pairwise.solve(pairwise.PairProblem.from_scores(s, capacity=cap))
        total, pairs, out["method"] = result.objective, len(result.assignment), result.method
    elif method == "pairwise-warm":
        # a second solve in the same process: numba's one-off start (~0.15 s) is paid
        t0 = time.perf_counter()
        pairwise.solve(pairwise.PairProblem.from_scores(s, capacity=cap))
        out["cold_seconds"] = time.perf_counter() - t0
        t = time.perf_counter()
        result = pairwise.solve(pairwise.PairProblem.from_scores(s, capacity=cap))
        total, pairs, out["method"] = result.objective, len(result.assignment), result.method
    elif method == "pairwise-flow":
        result = pairwise.solve(pairwise.PairProblem.from_scores(s, capacity=cap), method="flow")
        total, pairs = result.objective, len(result.assignment)
    elif method == "scipy":
        from scipy.optimize import linear_sum_assignment

        wide = np.repeat(s, cap, axis=1) if cap > 1 else s
        r, c = linear_sum_assignment(wide, maximize=True)
        total, pairs = float(wide[r, c].sum()), len(r)
    elif method == "ortools-lsa":
        from ortools.graph.python import linear_sum_assignment as lsa

        solver = lsa.SimpleLinearSumAssignment()
        rows, cols = np.divmod(np.arange(n * m, dtype=np.int64), m)
        solver.add_arcs_with_cost(rows, cols, -np.rint(s * 1e6).astype(np.int64).ravel())
        if solver.solve() != solver.OPTIMAL:
            raise RuntimeError("OR-Tools LSA failed")
        mate = np.array([solver.right_mate(i) for i in range(n)])
        total, pairs = float(s[np.arange(n), mate].sum()), n
    else:
        raise ValueError(method)
    out["seconds"] = time.perf_counter() - t
    out["objective"], out["pairs"] = total, pairs
    out["base_mib"], out["peak_mib"] = base, _rss_mib()
    return out


def _goals(method: str, n: int, m: int, cap: int) -> dict[str, Any]:
    """Body of a (d) or (e) child: one issue-15 objective, or the stability peer."""
    import pairwise

    s = _scores(n, m)
    base = _rss_mib()
    out: dict[str, Any] = {}
    if method == "matching":
        sys.setrecursionlimit(1_000_000)  # its deepcopy of the players recurses per list entry
        from matching.games import HospitalResident

        t = time.perf_counter()
        cols = np.broadcast_to(np.arange(m), (n, m))
        rows = np.broadcast_to(np.arange(n)[:, None], (n, m))
        mentee_order = np.lexsort((cols, -s), axis=1)
        mentor_order = np.lexsort((rows, -s), axis=0).T
        game = HospitalResident.create_from_dictionaries(
            {f"r{i}": [f"h{j}" for j in mentee_order[i]] for i in range(n)},
            {f"h{j}": [f"r{i}" for i in mentor_order[j]] for j in range(m)},
            {f"h{j}": cap for j in range(m)},
        )
        found = game.solve(optimal="resident")
        out["seconds"] = time.perf_counter() - t
        pairs = [(int(str(r)[1:]), int(str(h)[1:])) for h, rs in found.items() for r in rs]
        out["objective"] = float(sum(s[i, j] for i, j in pairs))
        out["pairs"], out["blocking"] = len(pairs), float("nan")
        out["base_mib"], out["peak_mib"] = base, _rss_mib()
        return out
    kw: dict[str, Any] = {"minimum": 3} if method == "minimum" else {}
    objective = {"minimum": "matched-then-total", "plain": "matched-then-total"}.get(method, method)
    t = time.perf_counter()
    problem = pairwise.PairProblem.from_scores(s, capacity=cap, objective=objective, **kw)
    result = pairwise.solve(problem, time_limit=120)
    out["seconds"] = time.perf_counter() - t
    metrics = result.metrics()
    out["objective"], out["pairs"] = result.objective, len(result.assignment)
    out["blocking"] = metrics["blocking_pairs"]
    out["method"], out["status"] = result.method, result.status
    out["mentors_covered"] = metrics["mentors_covered"]
    out["base_mib"], out["peak_mib"] = base, _rss_mib()
    return out


def _ranked_stable(method: str, n: int, m: int, cap: int) -> dict[str, Any]:
    """(f): ``objective="stable"`` with ranked lists (3 mentors per mentee), 30 s limit.

    ``method="lattice"`` is the library's MILP (variables outside the lattice's range
    fixed at 0); ``"full"`` the same MILP with every allowed cell free (the range turned
    off), so the two rows differ only by the restriction.
    """
    import pairwise
    import pairwise.solvers.pairs.stable as stable_mod

    if method == "full":
        stable_mod._lattice_cells = lambda problem, cells, best, worst: np.ones(len(cells))
    rng = np.random.default_rng(1)
    s = _scores(n, m)
    ranks = np.zeros((n, m), dtype=np.int64)
    for i in range(n):
        ranks[i, rng.choice(m, 3, replace=False)] = [1, 2, 3]
    problem = pairwise.PairProblem.from_scores(
        s, capacity=cap, mentee_ranks=ranks, objective="stable"
    )
    base = _rss_mib()
    t = time.perf_counter()
    try:
        result = pairwise.solve(problem, time_limit=30)
        out = {"objective": result.objective, "status": result.status, "method": result.method}
    except pairwise.SolverError:
        out = {"objective": float("nan"), "status": "no answer in 30 s"}
    out["seconds"] = time.perf_counter() - t
    out["base_mib"], out["peak_mib"] = base, _rss_mib()
    return out


def _child(
    case: str, method: str, n: int, m: int, cap: int, timeout: float, repeat: int = 1
) -> dict[str, Any]:
    """Median seconds (and largest peak RSS) over ``repeat`` fresh child processes."""
    args = [sys.executable, __file__, "--child", case, method, str(n), str(m), str(cap)]
    runs = []
    for _ in range(repeat):
        try:
            done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"seconds": float("inf"), "objective": float("nan"), "timeout": timeout}
        runs.append(dict(json.loads(done.stdout.strip().splitlines()[-1])))
    out = dict(runs[len(runs) // 2])
    out["seconds"] = float(np.median([r["seconds"] for r in runs]))
    out["peak_mib"] = max(r["peak_mib"] for r in runs)
    out["runs"] = len(runs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per reference run")
    ap.add_argument(
        "--repeat", type=int, default=3, help="fresh runs per row, median reported (SciPy (b): 1)"
    )
    ap.add_argument("--cases", default="abcdef", help="which cases to run, e.g. 'de'")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        case, method, n, m, cap = args.child
        print(json.dumps(_run(case, method, int(n), int(m), int(cap))))
        return

    na = 500 if args.quick else 2000
    nb, mb = (2000, 400) if args.quick else (10_000, 2_000)
    nc, mc = (500, 100) if args.quick else (2000, 400)
    print(f"median of {args.repeat} fresh runs per row (SciPy in (b): one run)\n")
    if set("ab") & set(args.cases):
        _dense(args, na, nb, mb)
    if "c" in args.cases:
        c = _child("c", "pairwise", nc, mc, 0, args.timeout, args.repeat)
        print(
            f"\n(c) {nc}x{mc}, same cluster + shared language + different chapter + avoid, "
            f"maxmin: {c['seconds']:.2f} s to a {c['status']} answer (gap {c['gap']:.1e}), "
            f"{c['matched']} matched, min score {c['min_score']:.4f}, "
            f"total {c['objective']:.4f}, peak RSS {c['peak_mib']:.0f} MiB"
        )
    if "d" in args.cases:
        _issue15(args, nb, mb)
    if "e" in args.cases:
        _stability_peer(args, *((200, 40) if args.quick else (1000, 200)))
    if "f" in args.cases:
        print("\n(f) objective='stable' with ranked lists (3 per mentee), capacity 4, 30 s\n")
        print("| case | MILP | seconds | status | objective |")
        print("|---|---|---|---|---|")
        for n, m in ((100, 25), (200, 50), (400, 100)):
            for method in ("lattice", "full"):
                r = _child("f", method, n, m, 4, args.timeout, 1)
                print(
                    f"| {n}x{m} | {method} | {r['seconds']:.2f} | {r.get('status')} | "
                    f"{r['objective']:.4f} |",
                    flush=True,
                )


def _row(case: str, name: str, r: dict[str, Any], ref: float) -> None:
    ratio = r["seconds"] / ref if np.isfinite(r["seconds"]) else float("inf")
    secs = f"{r['seconds']:.3f}" if np.isfinite(r["seconds"]) else f">{r['timeout']:.0f}"
    peak = f"{r.get('peak_mib', float('nan')):.0f}"
    print(f"| {case} | {name} | {secs} | {ratio:.2f}x | {r['objective']:.6f} | {peak} |")


def _dense(args: argparse.Namespace, na: int, nb: int, mb: int) -> None:
    """Cases (a) and (b)."""
    print("| case | method | seconds | ratio to pairwise | objective | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    rep = args.repeat
    if "a" in args.cases:
        ours = _child("a", "pairwise", na, na, 1, args.timeout, rep)
        _row(f"(a) {na}x{na} 1:1", f"pairwise ({ours.get('method')})", ours, ours["seconds"])
        for ref in ("scipy", "ortools-lsa"):
            r = _child("a", ref, na, na, 1, args.timeout, rep)
            _row(f"(a) {na}x{na} 1:1", ref, r, ours["seconds"])
    if "b" not in args.cases:
        return
    ours = _child("b", "pairwise", nb, mb, 5, args.timeout, rep)
    _row(f"(b) {nb}x{mb} cap 5", f"pairwise ({ours.get('method')})", ours, ours["seconds"])
    warm = _child("b", "pairwise-warm", nb, mb, 5, args.timeout, rep)
    _row(f"(b) {nb}x{mb} cap 5", "pairwise, second solve in the process", warm, ours["seconds"])
    references = (
        ("scipy", "scipy LSA, replicated columns", 1),
        ("pairwise-flow", "OR-Tools min-cost flow, all arcs", rep),
    )
    for ref, name, times in references:
        r = _child("b", ref, nb, mb, 5, args.timeout, times)
        _row(f"(b) {nb}x{mb} cap 5", name, r, ours["seconds"])
        print(
            f"|  | (same, as a ratio to the second solve: {r['seconds'] / warm['seconds']:.2f}x) "
            "|  |  |  |  |"
        )


def _issue15(args: argparse.Namespace, n: int, m: int) -> None:
    """Case (d): minimum loads, coverage and stability beside the plain solve."""
    print(f"\n(d) {n}x{m}, capacity 5 (issue 15's objectives beside the plain solve)\n")
    print(
        "| objective | method | seconds | ratio to plain | total | pairs | mentors covered "
        "| blocking pairs | peak RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    plain: dict[str, Any] = {}
    for what in ("plain", "minimum", "covered-then-total", "stable-mentee", "stable-mentor"):
        r = _child("d", what, n, m, 5, args.timeout, args.repeat)
        plain = plain or r
        name = {"plain": "matched-then-total", "minimum": "matched-then-total, minimum 3"}
        print(
            f"| {name.get(what, what)} | {r.get('method')} | {r['seconds']:.2f} "
            f"| {r['seconds'] / plain['seconds']:.2f}x | {r['objective']:.3f} | {r['pairs']} "
            f"| {r['mentors_covered']:.0f} | {r['blocking']:.0f} | {r['peak_mib']:.0f} |"
        )


def _stability_peer(args: argparse.Namespace, n: int, m: int) -> None:
    """Case (e): deferred acceptance against daffidwilde/matching, and the best stable total."""
    print(f"\n(e) {n}x{m}, capacity 5, mentee-optimal stable matching\n")
    print("| case | method | seconds | ratio to pairwise | objective | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    ours = _child("e", "stable-mentee", n, m, 5, args.timeout, args.repeat)
    _row(f"(e) {n}x{m}", "pairwise stable-mentee", ours, ours["seconds"])
    try:
        import matching  # noqa: F401
    except ImportError:
        print(f"| (e) {n}x{m} | matching (not installed) |  |  |  |  |")
    else:
        r = _child("e", "matching", n, m, 5, args.timeout, 1)
        _row(f"(e) {n}x{m}", "matching 1.4.3 HospitalResident (one run)", r, ours["seconds"])
    small = (60, 12) if args.quick else (300, 60)
    best = _child("e", "stable", *small, 5, args.timeout, args.repeat)
    da = _child("e", "stable-mentee", *small, 5, args.timeout, args.repeat)
    print(
        f"\n{small[0]}x{small[1]}: 'stable' (best stable total, MILP) {best['objective']:.4f} "
        f"in {best['seconds']:.2f} s ({best['status']}), stable-mentee {da['objective']:.4f} "
        f"in {da['seconds']:.2f} s"
    )


if __name__ == "__main__":
    main()
