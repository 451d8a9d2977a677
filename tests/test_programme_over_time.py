"""A programme over time, driven by random event sequences through the API and the CLI.

Issue 13's "done means": breaks, leavers, joiners, capacity changes, check-ins, pairs
forbidden or required by hand and new rounds (next year's cohort, NoRepeat over the
history) in random order. Each step is done twice: through the command line on files (a
programme folder with its export and the result files) and through the Python API on the
problem rebuilt from the programme file. After every step the test checks, from its own
record of what happened (not through the library's events), that no leaver has anyone, no
broken or forbidden pair is back, every required pair is there, no capacity is exceeded,
no earlier round's pair is repeated after a new round, unaffected pairs are kept where the
rules allow it, the API and the CLI agree, and ``pairwise check`` on the written file
agrees.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
from hypothesis import HealthCheck, event, given, settings

import pairwise
from pairwise.cli import EXIT_OK, main
from pairwise.io import read_result

Pair = tuple[str, str]
KINDS = ("break", "leave", "join", "capacity", "checkin", "forbid", "require", "round")
TOML = '[programme]\nname = "{name}"\n[input]\nfile = "answers.csv"\n[solve]\ntime_limit = 5\n'


@dataclass
class Record:
    """What happened, as the test saw it (never read back from the library)."""

    gone: set[str] = field(default_factory=set)
    broken: set[frozenset[str]] = field(default_factory=set)
    forbidden: set[frozenset[str]] = field(default_factory=set)
    required: set[Pair] = field(default_factory=set)
    capacity: dict[str, int] = field(default_factory=dict)
    seen: set[frozenset[str]] = field(default_factory=set)  # every pair of this programme
    earlier: set[frozenset[str]] = field(default_factory=set)  # pairs of earlier programmes


def _pairs(result: pairwise.Matching) -> set[Pair]:
    return {(str(a), str(b)) for a, b in result.pairs[["mentee_id", "mentor_id"]].values}


def _violations(pairs: set[Pair], record: Record, problem: pairwise.PairProblem) -> list[str]:
    """Everything the record forbids or requires, checked on the pairs alone."""
    out = [f"{p} has a leaver" for p in pairs if set(p) & record.gone]
    out += [f"{p} was broken" for p in pairs if frozenset(p) in record.broken]
    out += [f"{p} was forbidden" for p in pairs if frozenset(p) in record.forbidden]
    out += [f"{p} repeats an earlier round" for p in pairs if frozenset(p) in record.earlier]
    out += [f"{p} required, missing" for p in record.required - pairs if not set(p) & record.gone]
    loads = pd.Series([b for _, b in pairs], dtype=object).value_counts()
    base = dict(zip(map(str, problem.mentor_ids), problem.capacity.tolist(), strict=True))
    for mentor, load in loads.items():
        if load > record.capacity.get(str(mentor), base[str(mentor)]):
            out.append(f"{mentor} over capacity")
    return out


def _draw_step(data: st.DataObject, pairs: set[Pair], record: Record, problem, held: bool):
    """One event: (kind, CLI options, rematch keywords)."""
    kind = data.draw(st.sampled_from(KINDS))
    mentees = [str(x) for x in problem.mentee_ids if str(x) not in record.gone]
    mentors = [str(x) for x in problem.mentor_ids if str(x) not in record.gone]
    current = sorted(pairs)
    if kind == "break" and current:
        a, b = data.draw(st.sampled_from(current))
        return kind, ["--broken", f"{b} , {a}"], {"broken": [(b, a)]}
    if kind == "leave" and len(mentors) > 2:
        x = data.draw(st.sampled_from(mentees + mentors))
        return kind, ["--leaving", x], {"leaving": [x]}
    if kind == "join" and held:
        return kind, [], {}
    if kind == "capacity" and mentors:
        x = data.draw(st.sampled_from(mentors))
        floor = sum(1 for _, b in record.required if b == x)
        k = data.draw(st.integers(floor, 3))
        return kind, ["--capacity", f"{x}={k}"], {"capacity": {x: k}}
    if kind == "checkin" and current:
        a, b = data.draw(st.sampled_from(current))
        status = data.draw(st.sampled_from(["working", "at risk", "not working"]))
        return kind, [a, b, status], {}
    busy = {x for p in record.required for x in p}
    free = [
        (a, b)
        for i, a in enumerate(map(str, problem.mentee_ids))
        for j, b in enumerate(map(str, problem.mentor_ids))
        if bool(problem.allowed[i, j])
        and not {a, b} & (record.gone | busy)
        and frozenset((a, b)) not in record.broken | record.earlier
    ]
    if kind == "forbid" and free:
        a, b = data.draw(st.sampled_from(free))
        return kind, ["--forbid", f"{a},{b}"], {"forbid": [(a, b)]}
    if kind == "require" and free:
        a, b = data.draw(st.sampled_from(free))
        if record.capacity.get(b, 1) >= 1:
            return kind, ["--require", f"{b},{a}"], {"require": [(b, a)]}
    if kind == "round":
        return kind, [], {}
    return None


def _apply(kind: str, options: dict, cli: list[str], record: Record) -> None:
    """Note what the step did in the record."""
    if kind == "checkin" and cli[2] == "not working":  # re-matched with --not-working
        record.broken.add(frozenset(cli[:2]))
    record.gone |= set(options.get("leaving", ()))
    record.broken |= {frozenset(p) for p in options.get("broken", ())}
    for a, b in options.get("forbid", ()):
        record.forbidden.add(frozenset((a, b)))
        record.required = {p for p in record.required if frozenset(p) != frozenset((a, b))}
    for b, a in options.get("require", ()):
        record.forbidden.discard(frozenset((a, b)))
        record.required.add((a, b))
    record.required = {p for p in record.required if frozenset(p) not in record.broken}
    record.capacity.update(options.get("capacity", {}))
    if kind == "round":  # next year: a new programme, only the history carries over
        record.earlier |= record.seen
        record.seen, record.gone = set(), set()
        record.broken, record.forbidden, record.required, record.capacity = set(), set(), set(), {}


def _step(kind, cli, options, files: dict, api: pairwise.Matching, toml: str):
    """Run one step through the CLI and the API; (new file, API result, programme file)."""
    out = f"v{files['n'] + 1}.json"
    files["n"] += 1
    cur = files["current"]
    if kind == "round":
        Path("next.toml").write_text(
            TOML.format(name="next") + f'[[rules]]\ntype = "NoRepeat"\nearlier = ["{cur}"]\n'
        )
        assert main(["match", "next.toml", "--out", out]) == EXIT_OK
        programme = pairwise.Programme.from_toml("next.toml")
        return out, programme.run(write=False), "next.toml"
    programme = pairwise.Programme.from_toml(toml)
    problem = programme.problem()
    if kind == "checkin":
        a, b, status = cli
        assert main(["checkin", cur, "--pair", f"{b},{a}", "--status", status]) == EXIT_OK
        assert main(["rematch", cur, "--not-working", "--out", out]) == EXIT_OK
        api = pairwise.checkin(api, [(a, b, status)])
        done = pairwise.rematch(api, problem, not_working=True, time_limit=5)
        return out, done.result, toml
    assert main(["rematch", cur, *cli, "--out", out]) == EXIT_OK
    return out, pairwise.rematch(api, problem, time_limit=5, **options).result, toml


STEPS = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))


@STEPS
@given(st.integers(0, 50), st.data())
def test_random_programmes_over_time_through_the_api_and_the_cli(seed: int, data) -> None:
    people = pairwise.make_cohort(18, 6, seed=seed).to_frame(flat=True)
    late = people.index[people.role.eq("mentee")][-3:].tolist()  # nobody names them
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        people.drop(index=late).to_csv("answers.csv", index=False)
        Path("programme.toml").write_text(TOML.format(name="t"))
        assert main(["match", "programme.toml", "--out", "v0.json"]) == EXIT_OK
        toml = "programme.toml"
        files = {"current": "v0.json", "n": 0}
        api = pairwise.Programme.from_toml(toml).run(write=False)
        record, left_out = Record(), set(late)  # rows not in the sheet
        record.seen = {frozenset(p) for p in _pairs(api)}
        for _ in range(data.draw(st.integers(3, 8), label="steps")):
            problem = pairwise.Programme.from_toml(toml).problem()
            before = _pairs(api)
            step = _draw_step(data, before, record, problem, bool(left_out & set(late)))
            if step is None:
                continue
            kind, cli, options = step
            event(kind)
            if kind == "join":  # the late applicants are added to the export
                left_out -= set(late)
            people.drop(index=sorted(left_out)).to_csv("answers.csv", index=False)
            out, api, toml = _step(kind, cli, options, files, api, toml)
            files["current"] = out
            _apply(kind, options, cli, record)
            problem = pairwise.Programme.from_toml(toml).problem()
            written = read_result(out, problem)
            after = _pairs(api)
            assert _pairs(written) == after, kind  # the CLI on files and the API agree
            assert _violations(after, record, problem) == [], kind
            assert main(["check", out]) == EXIT_OK
            assert pairwise.check(problem, api) == []
            record.seen |= {frozenset(p) for p in after}
            if kind in ("break", "leave", "join", "checkin", "forbid"):
                untouched = {
                    p
                    for p in before
                    if not set(p) & record.gone
                    and frozenset(p) not in record.broken | record.forbidden
                }
                assert untouched <= after, kind
