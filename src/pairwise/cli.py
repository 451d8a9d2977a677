"""The ``pairwise`` command line: the public API on files, no logic of its own.

Exit codes: 0 ok, 1 infeasible (the rules cannot all hold), 2 bad input (every problem is
listed), 3 no solution within the time limit.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pairwise.errors import InfeasibleError, PairwiseError, SolverError, ValidationError

__all__ = ["main"]

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT, EXIT_NO_SOLUTION = 0, 1, 2, 3

_EPILOG = """\
exit codes: 0 ok, 1 infeasible (the rules cannot all hold), 2 bad input, 3 no solution
within the time limit. Errors name people by id only.
"""


def _parser() -> argparse.ArgumentParser:
    from pairwise import __version__

    root = argparse.ArgumentParser(
        prog="pairwise",
        description="Match mentees with mentors, or peers into circles, under hard rules.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"pairwise {__version__}")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = _command(
        sub,
        "demo",
        "run the built-in demo on a synthetic cohort",
        "pairwise demo",
        "pairwise demo --circles --peers 60",
    )
    demo.add_argument("--circles", action="store_true", help="form circles instead of pairs")
    demo.add_argument("--peers", type=int, default=60, help="peers for --circles")
    demo.add_argument("--seed", type=int, default=0, help="random seed of the synthetic cohort")
    _solve_commands(sub)
    check = _command(
        sub,
        "check",
        "validate a result file against its programme's hard rules",
        "pairwise check result.json",
    )
    check.add_argument("result", help="a .json or .xlsx result written by match or circles")
    explain = _command(
        sub,
        "explain",
        "why a mentee has her mentor, or who adds what to a circle",
        "pairwise explain result.json mentee-0007",
        "pairwise explain circles.json 3",
    )
    explain.add_argument("result", help="a .json or .xlsx result")
    explain.add_argument(
        "id", help="a mentee or mentor id (pairs); a person id or circle number (circles)"
    )
    for cmd in (check, explain):
        cmd.add_argument("--programme", help=PROGRAMME_HELP)
    rematch = _command(
        sub,
        "rematch",
        "re-match with the fewest changes after broken pairs or leavers",
        "pairwise rematch result.json --broken mentee-0003,mentor-0002 --leaving mentor-0005"
        " --out result-v2.xlsx",
    )
    rematch.add_argument("result", help="the result in force (.json or .xlsx)")
    _rematch_options(rematch)
    _history_commands(sub)
    return root


def _command(sub: Any, name: str, what: str, *examples: str) -> argparse.ArgumentParser:
    """A sub-command with its one-line help and its examples."""
    head = "example:" if len(examples) == 1 else "examples:"
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=what,
        epilog="\n  ".join([head, *examples]) + "\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _solve_commands(sub: Any) -> None:
    """``match``, ``circles`` and ``inspect``: from a programme file or an export."""
    source = "programme .toml, or a .csv/.xlsx questionnaire export"
    for name, kind in (("match", "pairs"), ("circles", "circles")):
        cmd = _command(
            sub,
            name,
            f"solve a programme ({kind}) from a TOML file or a questionnaire export",
            f"pairwise {name} programme.toml",
            f"pairwise {name} answers.csv --out result.xlsx --time-limit 30",
        )
        cmd.add_argument("source", help=source)
        cmd.add_argument("--out", help="write the result here (.xlsx, .json or .csv)")
        cmd.add_argument("--time-limit", type=float, help="seconds (default: the programme's)")
        cmd.add_argument("--seed", type=int, help="random seed (default: the programme's)")
        cmd.add_argument("--pseudonyms", metavar="KEYFILE", help=PSEUDONYMS_HELP)
        cmd.add_argument("--show-values", action="store_true", help=SHOW_VALUES_HELP)
        cmd.add_argument(
            "--audience", choices=["staff", "participants"], default="staff", help=AUDIENCE_HELP
        )
        cmd.set_defaults(kind=kind)
    inspect = _command(
        sub,
        "inspect",
        "a data-quality report on a programme's people before any solve",
        "pairwise inspect programme.toml",
        "pairwise inspect answers.csv",
    )
    inspect.add_argument("source", help=source)
    inspect.add_argument("--show-values", action="store_true", help=SHOW_VALUES_HELP)


def _rematch_options(rematch: argparse.ArgumentParser) -> None:
    """The options of ``rematch``."""
    rematch.add_argument(
        "--broken",
        action="append",
        default=[],
        help="ID,ID of a pair that did not work (repeat for several)",
    )
    rematch.add_argument(
        "--leaving", action="append", default=[], help="id of a leaver (repeat for several)"
    )
    rematch.add_argument(
        "--forbid",
        action="append",
        default=[],
        help="ID,ID of a pair never to be made from now on (repeat for several)",
    )
    rematch.add_argument(
        "--require",
        action="append",
        default=[],
        help="ID,ID of a pair to be made from now on (repeat for several)",
    )
    rematch.add_argument(
        "--capacity", action="append", default=[], help="ID=K: a mentor's capacity from now on"
    )
    # earlier rounds' leavers and broken pairs travel in the result file's events table
    rematch.add_argument("--max-changes", type=int, help="most previous pairs that may change")
    rematch.add_argument(
        "--time-limit", type=float, help="seconds (default: the programme's [solve] time_limit)"
    )
    rematch.add_argument("--seed", type=int, help="default: the programme's [solve] seed, or 0")
    rematch.add_argument(
        "--priority",
        choices=["waiting"],
        help="match first the mentees who wait (unmatched before, pair broken, mentor left)",
    )
    rematch.add_argument("--out", help="write the new result here (.xlsx, .json or .csv)")
    rematch.add_argument("--programme", help=PROGRAMME_HELP)
    rematch.add_argument(
        "--not-working",
        action="store_true",
        help="also break every pair whose latest check-in says 'not working'",
    )


def _history_commands(sub: Any) -> None:
    """The ``checkin`` and ``history`` commands (a programme's state over time)."""
    checkin = _command(
        sub,
        "checkin",
        "record a confidential check-in on a pair (working, at risk, not working)",
        'pairwise checkin result.xlsx --pair mentee-0003,mentor-0007 --status "not working"'
        " --by mentee",
    )
    checkin.add_argument("result", help="the result whose pair it is (.json or .xlsx)")
    checkin.add_argument("--pair", required=True, help="ID,ID of the pair (either order)")
    checkin.add_argument(
        "--status",
        required=True,
        choices=["working", "at risk", "not working"],
        help="what the check-in said (no free text is kept)",
    )
    checkin.add_argument(
        "--by",
        default="both",
        choices=["mentee", "mentor", "both", "member"],
        help="who said it (default: both)",
    )
    checkin.add_argument("--out", help="write the result here (default: update RESULT)")
    checkin.add_argument("--programme", help=PROGRAMME_HELP)

    history = _command(
        sub,
        "history",
        "the rounds and events behind a result (leavers, broken pairs, check-ins)",
        "pairwise history result-v3.xlsx",
    )
    history.add_argument("result", help="a .json or .xlsx result")
    history.add_argument(
        "--pairs", action="store_true", help="also list every earlier round's pairs"
    )


#: Help of ``--audience``.
AUDIENCE_HELP = (
    "participants: --out holds only who is with whom, under names people read (no scores, "
    "reasons, events or check-ins; not read back by check or rematch)"
)
#: Help of ``--show-values``.
SHOW_VALUES_HELP = (
    "show participants' answers in problems and reports (hidden by default: they may be "
    "names or health details; for your eyes only, never in a shared log)"
)
#: Help of ``--pseudonyms``.
PSEUDONYMS_HELP = (
    "write every id in --out as a pseudonym keyed by this file's secret (created if "
    "missing; keep it with the programme): for sharing a result whose ids are e-mails"
)


class _Pseudonymous:
    """A text stream that writes every id as its pseudonym (``--pseudonyms``)."""

    def __init__(self, stream: Any, hide: Callable[[str], str]) -> None:
        self.stream = stream
        self.hide = hide

    def write(self, text: str) -> int:
        return int(self.stream.write(self.hide(text)))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return bool(self.stream.isatty())


def _pseudonymous_output(ids: list[str], key: str) -> None:
    """Print (and report errors) with pseudonyms for ``ids`` until :func:`main` returns."""
    from pairwise.io import pseudonymiser

    hide = pseudonymiser(ids, key)
    sys.stdout = _Pseudonymous(sys.stdout, hide)
    sys.stderr = _Pseudonymous(sys.stderr, hide)


def _pseudonym_key(keyfile: str | None) -> str | None:
    """The secret of a key file, made (random, readable by its owner only) when missing."""
    if keyfile is None:
        return None
    import secrets

    path = Path(keyfile)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        print(f"a new pseudonym key was written to {path}: keep it with the programme")
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        key = ""
    if not key:
        raise ValidationError([programme_problem("--pseudonyms: no key in the file", "a secret")])
    return key


#: Help of ``--programme`` (check, explain, rematch).
PROGRAMME_HELP = "the programme .toml (default: the one the result file names, found beside it)"


def _programme_path(result_file: str, named: str) -> Path:
    """The programme a result names: relative to the result's folder (older files: as is)."""
    path = Path(named)
    if path.is_absolute():
        return path if path.exists() else Path(result_file).resolve().parent / path.name
    return Path(result_file).resolve().parent / path


def _programme(source: str, kind: str) -> Any:
    from pairwise.programme import Programme

    path = Path(source)
    if path.suffix.lower() == ".toml":
        return Programme.from_toml(path)
    data: dict[str, Any] = {"programme": {"kind": kind}, "input": {"file": path.name}}
    return Programme.from_dict(data, base=path.resolve())


def _progress(label: str, work: Callable[[Callable[[dict[str, float]], None]], Any]) -> Any:
    """Run ``work(report)``; on a terminal, show elapsed time, best objective and gap.

    ``report`` receives the solver's progress dicts. Nothing is shown off a terminal or for
    work shorter than a second.
    """
    state: dict[str, float] = {}
    if not sys.stderr.isatty():
        return work(state.update)
    done = threading.Event()
    start = time.perf_counter()

    def tick() -> None:
        while not done.wait(0.25):
            elapsed = time.perf_counter() - start
            if elapsed > 1.0:
                line = f"{label}: {elapsed:5.1f} s"
                if "objective" in state:
                    best, bound = state["objective"], state.get("bound", float("inf"))
                    gap = (bound - best) / max(abs(bound), 1e-9)
                    line += f"  best {best:.6g}  gap {gap:.1%}"
                sys.stderr.write("\r" + line)
                sys.stderr.flush()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        return work(state.update)
    finally:
        done.set()
        thread.join()
        if time.perf_counter() - start > 1.0:
            sys.stderr.write("\r" + " " * 60 + "\r")


def _solve(args: argparse.Namespace) -> int:
    from pairwise.check import check
    from pairwise.io import write_result

    programme = _programme(args.source, args.kind)
    if programme.kind != args.kind:
        raise ValidationError(
            [
                programme_problem(
                    f"the programme is for {programme.kind}",
                    f"pairwise {'circles' if programme.kind == 'circles' else 'match'}",
                )
            ]
        )
    solve_opts = dict(programme.solve)
    if args.time_limit is not None:
        solve_opts["time_limit"] = args.time_limit
    if args.seed is not None:
        solve_opts["seed"] = args.seed
    programme = programme.replace(solve=solve_opts)
    out = args.out or programme.output
    _valid_out(out)
    cohort = programme.cohort(show_values=args.show_values)
    key = _pseudonym_key(args.pseudonyms)
    if key:  # what is printed from here on names people by pseudonym too
        _pseudonymous_output([str(x) for x in cohort.ids], key)
    for note in cohort.notes:  # rows skipped, resubmissions dropped, labels merged
        print(note)
    problem = programme.problem(cohort)
    from pairwise.report import inspect

    for line in inspect(cohort, problem).warnings():  # `pairwise inspect` says more
        print(f"warning: {line}")
    extra = programme.included(cohort) if out else None  # [output] include, checked first
    result = _progress(
        "solving", lambda report: programme.run(cohort, write=False, progress=report)
    )
    print(repr(result))
    left = getattr(result, "unplaced", None)
    if left is not None and len(left):
        print(f"{len(left)} people could not be placed (the 'unplaced' table says why):")
        for row in left.itertuples():
            print(f"  {row.person_id}: {row.reason}")
    problems = check(problem, result)
    print(f"independent check: {problems if problems else 'every hard rule holds'}")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        meta = programme.meta(out)
        path = write_result(
            result, out, meta=meta, pseudonyms=key, include=extra, audience=args.audience
        )
        print(f"written: {path}" + (" (ids as pseudonyms: not read back)" if key else ""))
    else:
        _summary(result)
        print(
            f"nothing saved: add --out result.xlsx (or .json) to write it, e.g.\n"
            f"  pairwise {args.command} {args.source} --out result.xlsx"
        )
    return EXIT_OK


#: Rows of each table a summary on the terminal shows.
SUMMARY_ROWS = 10


def _summary(result: Any) -> None:
    """The first pairs (or circles) and who is left out and why, on the terminal."""
    from pairwise.results import Matching

    with pd_options():
        if isinstance(result, Matching):
            pairs = result.pairs[["mentee_id", "mentor_id", "score"]]
            print(f"first {min(SUMMARY_ROWS, len(pairs))} of {len(pairs)} pairs:")
            print(pairs.head(SUMMARY_ROWS).to_string(index=False))
            unmatched = result.unmatched
            if len(unmatched):
                print(f"{len(unmatched)} mentees unmatched; the first, with why:")
                print(unmatched.head(SUMMARY_ROWS).to_string(index=False))
        else:
            circles = result.circles
            shown = [c for c in ("circle", "size", "mean_affinity", "slot") if c in circles]
            print(f"first {min(SUMMARY_ROWS, len(circles))} of {len(circles)} circles:")
            print(circles[shown].head(SUMMARY_ROWS).to_string(index=False))


def _valid_out(out: str | os.PathLike[str] | None) -> None:
    """Refuse an output path before any work: a format not written, a folder, a file as folder."""
    if out is None:
        return
    path = Path(out)
    problems = []
    if path.suffix.lower() not in (".xlsx", ".json", ".csv"):
        problems.append(
            programme_problem(
                f"--out: cannot write '{path.suffix or path.name}'", ".xlsx, .json or .csv"
            )
        )
    if path.is_dir():
        problems.append(programme_problem("--out is a folder", "a file name in it"))
    folder = next((q for q in path.parents if q.exists()), None)
    if folder is not None and not folder.is_dir():
        problems.append(programme_problem("--out: a file is in the way of its folder", "a folder"))
    if problems:
        raise ValidationError(problems)


def programme_problem(message: str, expected: str) -> Any:
    from pairwise.errors import Problem

    return Problem(message, expected=expected)


def _load(
    result_file: str, override: str | None = None, leaving: Sequence[str] = ()
) -> tuple[Any, Any, Any]:
    """The programme a result file names (or ``override``), its problem, and the result.

    People the file's events record as leaving (and ``leaving``, who leave now) may be
    gone from the export: links to them (``avoid``, ``previous``, ``prefer``) are dropped
    when the export is read.
    """
    from pairwise.io import read_events, read_meta, read_partners, read_result

    meta = read_meta(result_file)
    if override is None and "programme" not in meta:
        raise ValidationError(
            [
                programme_problem(
                    "the result file names no programme",
                    "a .json or .xlsx written by 'pairwise match' or 'pairwise circles'",
                )
            ]
        )
    source = (
        override if override is not None else str(_programme_path(result_file, meta["programme"]))
    )
    programme = _programme(source, meta.get("kind", "pairs"))
    cohort = programme.cohort(left=read_events(result_file).leavers | set(leaving))
    problem = programme.problem(cohort)
    placed = {x for pair in read_partners(result_file, history=False) for x in pair}
    early = sorted(set(leaving) & placed - {str(x) for x in cohort.ids})
    if early:  # her pairs must be read to be undone: the export still needs her row
        raise ValidationError(
            [
                programme_problem(
                    f"{x} leaves in this re-match but her row is already gone from the export",
                    "her row back for this re-match (the result then records her leaving), "
                    "deleted after",
                )
                for x in early
            ]
        )
    return programme, problem, read_result(result_file, problem)


def _inspect(args: argparse.Namespace) -> int:
    from pairwise.report import inspect

    programme = _programme(args.source, "pairs")
    cohort = programme.cohort(show_values=args.show_values)
    for note in cohort.notes:  # rows skipped, resubmissions dropped, labels merged
        print(note)
    print(inspect(cohort, programme.problem(cohort), show_values=args.show_values))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from pairwise.check import check

    _, problem, result = _load(args.result, args.programme)
    problems = check(problem, result)
    for line in problems:
        print(line)
    print(f"{len(problems)} violated hard rules" if problems else "every hard rule holds")
    return EXIT_INFEASIBLE if problems else EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    import pandas as pd

    from pairwise.results import Circles

    _, _, result = _load(args.result, args.programme)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        if isinstance(result, Circles):
            circle: Any = int(args.id) if args.id.strip().lstrip("-").isdigit() else args.id
            print(repr(result.explain(circle)))
        else:
            _explain_pairs(result, args.id.strip())
    return EXIT_OK


def _explain_pairs(result: Any, person: str) -> None:
    """Explain one person of a matching on the terminal.

    A mentee: her mentor(s) or why she has none, then her best allowed options with what
    each criterion adds and what they share in plain words. A mentor: her mentees.
    """
    p = result.problem
    mentees, mentors = [str(x) for x in p.mentee_ids], [str(x) for x in p.mentor_ids]
    pairs = result.pairs.astype({"mentee_id": str, "mentor_id": str})
    if person in mentors and person not in mentees:
        j = mentors.index(person)
        mine = pairs[pairs.mentor_id == person]
        print(f"mentor {person}: {len(mine)} mentee(s), capacity {p.capacity[j]}")
        for row in mine.itertuples():
            common = p.in_common(mentees.index(row.mentee_id), j)
            print(f"  {row.mentee_id} (score {row.score:.3f}){': ' + common if common else ''}")
        return
    table = result.explain(person)  # an unknown id: a ValidationError naming it
    i = mentees.index(person)
    mine = pairs[pairs.mentee_id == person]
    if len(mine) == 0:
        why = result.unmatched.astype({"mentee_id": str}).set_index("mentee_id").reason
        print(f"mentee {person} is unmatched: {why.get(person, 'no mentor')}")
    for row in mine.itertuples():
        common = p.in_common(i, mentors.index(row.mentor_id))
        print(
            f"mentee {person} is with {row.mentor_id} (score {row.score:.3f})"
            + (f": {common}" if common else "")
        )
    print("her mentor(s) and best allowed options (switch_cost: what the programme's total")
    print("loses if she is given that mentor instead, the rest re-matched):")
    if result.events.rounds:
        print("(a re-match keeps earlier pairs: its total can be below a fresh matching's, and")
        print(" a switch that re-matches everyone can then cost less than nothing)")
    for name, (weight, component) in p.criteria.items():
        table[name] = [weight * float(component[i, mentors.index(str(x))]) for x in table.mentor_id]
    table["in_common"] = [p.in_common(i, mentors.index(str(x))) for x in table.mentor_id]
    print(table.to_string(index=False))


def _rematch(args: argparse.Namespace) -> int:
    from pairwise.io import write_result
    from pairwise.rematch import rematch

    _valid_out(args.out)
    leaving = [x.strip() for x in args.leaving]
    programme, problem, previous = _load(args.result, args.programme, leaving)
    broken, forbid, require = (
        _id_pairs(option, given)
        for option, given in (
            ("--broken", args.broken),
            ("--forbid", args.forbid),
            ("--require", args.require),
        )
    )
    bad_caps = [x for x in args.capacity if "=" not in x]
    if bad_caps:
        raise ValidationError([programme_problem("--capacity takes ID=K", "e.g. mentor-0003=2")])
    parts = [x.split("=", 1) for x in args.capacity]
    caps = {a.strip(): int(b) if b.strip().isdigit() else b.strip() for a, b in parts}
    answer = _progress(
        "re-matching",
        lambda report: rematch(
            previous,
            problem,
            broken=broken,
            leaving=leaving,
            max_changes=args.max_changes,
            progress=report,
            priority=args.priority,
            not_working=args.not_working,
            capacity=caps or None,
            forbid=forbid,
            require=require,
            time_limit=programme.solve.get("time_limit")
            if args.time_limit is None
            else args.time_limit,
            seed=programme.solve.get("seed", 0) if args.seed is None else args.seed,
        ),
    )
    print(repr(answer.result))
    print(f"kept {answer.kept} of {answer.keepable}; changes:")
    shown = answer.changes.astype(object).where(answer.changes.notna(), "-")
    print(shown.to_string(index=False) if len(shown) else "(none)")
    if args.out:
        meta = programme.meta(args.out)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        extra = programme.included() if programme.include else None
        print(f"written: {write_result(answer.result, args.out, meta=meta, include=extra)}")
    return EXIT_OK


def _id_pairs(option: str, given: list[str]) -> list[tuple[str, str]]:
    """``ID,ID`` values of a repeatable option as pairs (spaces around the comma allowed)."""
    if any("," not in x for x in given):
        raise ValidationError([programme_problem(f"{option} takes ID,ID", "e.g. a1,b2")])
    return [(a.strip(), b.strip()) for a, b in (x.split(",", 1) for x in given)]


def _checkin(args: argparse.Namespace) -> int:
    from pairwise.io import write_result
    from pairwise.rematch import checkin

    _valid_out(args.out)
    programme, _, result = _load(args.result, args.programme)
    ((a, b),) = _id_pairs("--pair", [args.pair])
    updated = checkin(result, [(a, b, args.status, args.by)])
    out = args.out or args.result
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    print(f"check-in recorded ({a}, {b}: {args.status}, by {args.by})")
    print(f"written: {write_result(updated, out, meta=programme.meta(out))}")
    return EXIT_OK


def _history(args: argparse.Namespace) -> int:
    from pairwise._tables import result_tables
    from pairwise.events import Events
    from pairwise.io import read_events, read_partners

    events: Events = read_events(args.result)
    circles = "members" in result_tables(Path(args.result))
    now = read_partners(args.result, history=False)
    rounds = events.history(current=len(now) // 2 if circles else len(now))
    print(f"{events.rounds} re-match(es) after the first round (round 0)")
    if events.earlier:
        print(f"{len(events.earlier)} pairs from earlier results kept apart (NoRepeat), carried")
    frame = events.to_frame()
    if not args.pairs:
        frame = frame[frame.event != "paired"]
    with pd_options():
        print(
            rounds.rename(columns={"pairs": "circle-mates" if circles else "pairs"}).to_string(
                index=False
            )
        )
        if len(frame):
            print()
            print(frame.fillna("").to_string(index=False))
        else:
            print("no events: a first solve")
    return EXIT_OK


def pd_options() -> Any:
    """Wide, complete tables on the terminal."""
    import pandas as pd

    return pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.max_rows", None
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    streams = sys.stdout, sys.stderr
    try:
        if args.command == "demo":
            from pairwise import demo

            extra = ["--circles", "--peers", str(args.peers)] if args.circles else []
            return demo.main([*extra, "--seed", str(args.seed)])
        handler = {
            "match": _solve,
            "circles": _solve,
            "check": _check,
            "inspect": _inspect,
            "explain": _explain,
            "rematch": _rematch,
            "checkin": _checkin,
            "history": _history,
        }[args.command]
        return handler(args)
    except ValidationError as exc:
        print(f"bad input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InfeasibleError as exc:
        print(f"infeasible: {exc}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except SolverError as exc:
        print(f"no solution: {exc}", file=sys.stderr)
        return EXIT_NO_SOLUTION
    except PairwiseError as exc:  # pragma: no cover - every subclass is handled above
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, streams[0].fileno())  # Python's flush at exit must not fail again
        return EXIT_OK
    finally:
        sys.stdout, sys.stderr = streams  # as they were (--pseudonyms wraps them)


if __name__ == "__main__":
    raise SystemExit(main())
