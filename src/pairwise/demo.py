"""The built-in demo: a synthetic cohort scored, explained, and matched under programme rules.

Run with ``make demo`` or ``python -m pairwise.demo [--mentees N] [--mentors M] [--seed S]``;
``make demo-circles`` or ``python -m pairwise.demo --circles [--peers N]`` forms co-development
circles and mentor-led small groups instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from pairwise.check import check
from pairwise.circles import CircleProblem
from pairwise.problem import PairProblem
from pairwise.rules import (
    DifferentChapter,
    KeepApart,
    MaxPerChapter,
    ModeRule,
    NoRepeat,
    PairRule,
    SharedLanguage,
    SharedSlot,
    VettedOnly,
)
from pairwise.scoring import affinity, score
from pairwise.solvers import solve
from pairwise.synthetic import make_cohort, make_peers

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pairwise.demo",
        description="Score a synthetic mentoring cohort and show each mentee's best mentors.",
    )
    p.add_argument("--mentees", type=int, default=40, help="number of mentees (default 40)")
    p.add_argument("--mentors", type=int, default=18, help="number of mentors (default 18)")
    p.add_argument("--seed", type=int, default=0, help="cohort seed (default 0)")
    p.add_argument("--top", type=int, default=3, help="mentors shown per mentee (default 3)")
    p.add_argument("--show", type=int, default=8, help="mentees shown (default 8)")
    p.add_argument("--circles", action="store_true", help="form circles of 4-6 instead of pairs")
    p.add_argument("--peers", type=int, default=60, help="peers for --circles (default 60)")
    return p


def _circles(args: argparse.Namespace) -> int:
    out = sys.stdout
    peers = make_peers(args.peers, seed=args.seed)
    aff = affinity(peers)
    rules: list[KeepApart | SharedSlot | MaxPerChapter] = [
        KeepApart(),
        SharedSlot(),
        MaxPerChapter(2),
    ]
    problem = CircleProblem.from_compatibility(aff, rules)
    out.write(f"{peers!r}\n{problem!r}\nrules: {', '.join(r.name for r in rules)}\n")
    circles = solve(problem, time_limit=5, seed=args.seed)
    out.write(f"{circles!r}\n")
    with pd.option_context("display.width", 160, "display.max_rows", 500, "display.precision", 3):
        out.write(circles.circles.to_string(index=False) + "\n")
        metrics = ", ".join(f"{k} {v:.3g}" for k, v in circles.metrics().items())
        out.write(f"\nmetrics: {metrics}\n\nwhy circle 0:\n{circles.explain(0)!r}\n")
    problems = check(problem, circles)
    out.write(f"independent check: {problems if problems else 'every hard rule holds'}\n")

    cohort = make_cohort(args.mentees, args.mentors, seed=args.seed)
    led = CircleProblem.from_compatibility(
        affinity(cohort, roles=("mentee", "mentor")),
        [KeepApart(), DifferentChapter()],
        mentors="one-per-circle",
        fit=score(cohort),
        leads=2,
        min_size=3,
        max_size=5,
    )
    out.write(f"\nmentor-led small groups: {led!r}\n")
    groups = solve(led, time_limit=5, seed=args.seed)
    out.write(f"{groups!r}\n")
    with pd.option_context("display.width", 160, "display.max_rows", 500, "display.precision", 3):
        out.write(groups.circles.to_string(index=False) + "\n")
    problems = check(led, groups)
    out.write(f"independent check: {problems if problems else 'every hard rule holds'}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.circles:
        return _circles(args)
    cohort = make_cohort(args.mentees, args.mentors, seed=args.seed)
    compat = score(cohort)
    out = sys.stdout
    out.write(f"{cohort!r}\n")
    weights = ", ".join(f"{k} {v:.2f}" for k, v in compat.weights.items())
    out.write(f"criteria weights (normalised): {weights}\n")
    m = compat.matrix
    out.write(
        f"scores: {m.shape[0]} mentees x {m.shape[1]} mentors, "
        f"mean {m.mean():.3f}, best per mentee mean {m.max(axis=1).mean():.3f}\n"
    )
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 3):
        for mentee_id in compat.mentee_ids[: args.show]:
            i = int(cohort.index_of([mentee_id])[0])
            needs = ", ".join(f"{t}:{lv}" for t, lv in cohort.needs.row(i).items())
            out.write(
                f"\n{mentee_id}  stage={'/'.join(cohort.stage.row(i))}  region={cohort.region[i]}"
                f"  mode={cohort.mode[i]}  needs: {needs}\n"
            )
            out.write(compat.top(mentee_id, args.top).to_string(index=False) + "\n")
    best = compat.top(compat.mentee_ids[0], 1).mentor_id.iloc[0]
    out.write(f"\nwhy {compat.mentee_ids[0]} and {best}:\n")
    out.write(compat.explain(compat.mentee_ids[0], best).to_string(index=False) + "\n")

    rules: list[PairRule] = [SharedLanguage(), ModeRule(), VettedOnly(), NoRepeat()]
    problem = PairProblem.from_compatibility(compat, rules)
    matching = solve(problem, time_limit=30)
    out.write(
        f"\nmatching under rules: {', '.join(r.name for r in rules)}, avoid lists, capacities\n"
    )
    out.write(f"{matching!r}\n")
    with pd.option_context("display.width", 160, "display.max_rows", 500, "display.precision", 3):
        out.write(matching.pairs[["mentee_id", "mentor_id", "score"]].to_string(index=False) + "\n")
        if len(matching.unmatched):
            out.write("\nunmatched:\n" + matching.unmatched.to_string(index=False) + "\n")
    metrics = ", ".join(f"{k} {v:.3g}" for k, v in matching.metrics().items())
    out.write(f"\nmetrics: {metrics}\n")
    first = str(matching.pairs.mentee_id.iloc[0])
    out.write(f"\nwhy {first} has her mentor (and the alternatives):\n")
    out.write(matching.explain(first).to_string(index=False) + "\n")
    problems = check(problem, matching)
    verdict = problems if problems else "every hard rule holds"
    out.write(f"independent check: {verdict}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
