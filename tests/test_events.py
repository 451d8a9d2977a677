"""A programme over time: every result carries its events, and every re-match applies them all.

The checks here are written from the events themselves (who left, which pairs broke), not
through :func:`pairwise.check`, which is also asked and must agree.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import pairwise
from pairwise import PairProblem, ValidationError, check
from pairwise.cli import EXIT_BAD_INPUT, EXIT_OK, main
from pairwise.events import Events

STEPS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _problem() -> PairProblem:
    return PairProblem.from_compatibility(pairwise.score(pairwise.make_cohort(16, 6, seed=3)))


def _pairs(result: pairwise.Matching) -> set[tuple[str, str]]:
    return {(str(a), str(b)) for a, b in result.pairs[["mentee_id", "mentor_id"]].values}


def _programme_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A programme file and its export in ``folder``, the working directory."""
    monkeypatch.chdir(folder)
    pairwise.make_cohort(30, 10, seed=1).to_frame(flat=True).to_csv("answers.csv", index=False)
    Path("programme.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n[solve]\ntime_limit = 5\n'
    )


def _first_round(folder: Path, monkeypatch: pytest.MonkeyPatch, out: str) -> tuple:
    """A programme folder, its first match written to ``out``: (problem, result read back)."""
    _programme_folder(folder, monkeypatch)
    assert main(["match", "programme.toml", "--out", out]) == EXIT_OK
    problem = pairwise.Programme.from_toml("programme.toml").problem()
    return problem, pairwise.io.read_result(out, problem)


def _violations(result: pairwise.Matching, gone: set[str], broken: set[tuple[str, str]]) -> list:
    """What the events forbid, straight from the pairs."""
    pairs = _pairs(result)
    return [p for p in pairs if p[0] in gone or p[1] in gone or p in broken]


def test_the_third_rematch_keeps_every_earlier_event() -> None:
    # issue 13: v3 gave a departed mentor mentees again and re-created a broken pair
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    (a, b), *_ = sorted(_pairs(v1))
    leaver = next(m for _, m in sorted(_pairs(v1)) if m != b)
    v2 = pairwise.rematch(v1, p, broken=[(b, a)], leaving=[leaver]).result  # either order
    assert v2.events.broken_pairs == {(a, b)} and v2.events.leavers == {leaver}
    later = next(m for _, m in sorted(_pairs(v2)) if m not in (b, leaver))
    v3 = pairwise.rematch(v2, p, leaving=[later]).result  # the original problem, as the docs do
    assert _violations(v3, {leaver, later}, {(a, b)}) == []
    assert check(p, v3) == []
    assert v3.events.rounds == 2
    assert [(r, x) for r, x in v3.events.left] == [(1, leaver), (2, later)]


def test_check_finds_a_leaver_or_a_broken_pair_in_a_result() -> None:
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    (a, b), *_ = sorted(_pairs(v1))
    tampered = replace(v1, events=Events().add(1, left=[b], broken=[(a, b)]))
    found = check(p, tampered)
    assert any(f"{b} left the programme" in x for x in found)
    assert any(f"broken pair ({a}, {b})" in x for x in found)


def test_a_broken_pair_must_be_a_pair() -> None:
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    pairs = _pairs(v1)
    mentee = str(p.mentee_ids[0])
    stranger = next(str(m) for m in p.mentor_ids if (mentee, str(m)) not in pairs)
    with pytest.raises(ValidationError, match="not a pair of the previous result"):
        pairwise.rematch(v1, p, broken=[(mentee, stranger)])


def test_someone_missing_from_the_input_is_named(tmp_path: Path) -> None:
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    _, mentor = sorted(_pairs(v1))[0]
    keep = [j for j, m in enumerate(p.mentor_ids) if str(m) != mentor]
    smaller = PairProblem.from_scores(
        p.scores[:, keep],
        mentee_ids=list(p.mentee_ids),
        mentor_ids=[p.mentor_ids[j] for j in keep],
        capacity=p.capacity[keep],
    )
    with pytest.raises(ValidationError, match="recorded as leaving") as info:
        pairwise.rematch(v1, smaller)
    assert mentor in str(info.value)
    # recorded as leaving, she may be gone from the input
    out = pairwise.rematch(v1, smaller, leaving=[mentor]).result
    assert mentor not in {b for _, b in _pairs(out)}
    path = pairwise.write_result(v1, tmp_path / "v1.json")
    with pytest.raises(ValidationError, match="not in the programme's input"):
        pairwise.io.read_result(path, smaller)


@STEPS
@given(st.data())
def test_random_event_sequences_never_bring_back_what_happened(data: st.DataObject) -> None:
    p = _problem()
    result = pairwise.solve(p, time_limit=2)
    gone: set[str] = set()
    broken: set[tuple[str, str]] = set()
    for step in range(data.draw(st.integers(1, 4))):
        pairs = sorted(_pairs(result))
        breaks = (
            data.draw(st.lists(st.sampled_from(pairs), max_size=2, unique=True)) if pairs else []
        )
        mentors = [str(m) for m in p.mentor_ids if str(m) not in gone]
        leaving = data.draw(st.lists(st.sampled_from(mentors), max_size=1)) if mentors else []
        previous = result
        done = pairwise.rematch(previous, p, broken=breaks, leaving=leaving, time_limit=2)
        result = done.result
        gone |= set(leaving)
        broken |= set(breaks)
        assert _violations(result, gone, broken) == []
        assert check(p, result) == []
        assert result.events.leavers == gone and result.events.broken_pairs == broken
        assert result.events.rounds == step + 1
        # unaffected pairs stay where the rules allow (nothing else changed)
        untouched = {q for q in _pairs(previous) if q not in broken and q[1] not in gone}
        assert untouched <= _pairs(result)


def test_events_travel_through_files_and_the_command_line(tmp_path: Path, monkeypatch) -> None:
    problem, v1 = _first_round(tmp_path, monkeypatch, "v1.xlsx")
    (a, b), *_ = sorted(_pairs(v1))
    leaver = next(m for _, m in sorted(_pairs(v1)) if m != b)
    args = ["rematch", "v1.xlsx", "--broken", f"{b} , {a}", "--leaving", leaver]
    assert main([*args, "--out", "v2.xlsx"]) == EXIT_OK
    later = next(
        m
        for _, m in sorted(_pairs(pairwise.io.read_result("v2.xlsx", problem)))
        if m not in (b, leaver)
    )
    assert main(["rematch", "v2.xlsx", "--leaving", later, "--out", "v3.json"]) == EXIT_OK
    v3 = pairwise.io.read_result("v3.json", problem)
    assert v3.events.leavers == {leaver, later} and v3.events.broken_pairs == {(a, b)}
    assert _violations(v3, {leaver, later}, {(a, b)}) == []
    assert main(["check", "v3.json"]) == EXIT_OK
    # each re-match's file has its changes table (who, before, after, why), read back
    import openpyxl

    assert "changes" in openpyxl.load_workbook("v2.xlsx").sheetnames
    v2 = pairwise.io.read_result("v2.xlsx", problem)
    assert v2.changes is not None
    row = v2.changes.set_index("mentee_id").loc[a]
    assert row.before == b and row.reason == f"pair with {b} broken"
    assert set(v3.changes.reason) >= {f"mentor {later} left"}
    pair = f"{v3.pairs.mentee_id.iloc[0]},{v3.pairs.mentor_id.iloc[0]}"
    assert main(["checkin", "v3.json", "--pair", pair, "--status", "working"]) == EXIT_OK
    assert pairwise.io.read_result("v3.json", problem).changes is not None  # kept
    # a broken pair that is not a pair: exit 2, named
    assert main(["rematch", "v3.json", "--broken", f"{a},{leaver}"]) == EXIT_BAD_INPUT


def test_circles_carry_their_events_too() -> None:
    aff = pairwise.affinity(pairwise.make_peers(24, seed=2))
    p = pairwise.CircleProblem.from_compatibility(aff)
    v1 = pairwise.solve(p, time_limit=3)
    members = [list(map(str, p.person_ids[v1.members(g)])) for g in range(v1.problem.n_circles)]
    a, b = members[0][:2]
    leaver = members[1][0]
    v2 = pairwise.rematch(v1, p, broken=[(a, b)], leaving=[leaver], time_limit=3).result
    later = next(x for ms in members[2:] for x in ms)
    v3 = pairwise.rematch(v2, p, leaving=[later], time_limit=3).result
    ids = [str(x) for x in v3.problem.person_ids]
    circles = [{ids[i] for i in v3.members(g)} for g in range(v3.problem.n_circles)]
    assert not any({a, b} <= c for c in circles)
    assert not any(c & {leaver, later} for c in circles)
    assert check(p, v3) == []
    x, y = sorted(circles[0])[0], sorted(circles[1])[0]  # never in one circle of v3
    with pytest.raises(ValidationError, match="not a pair of the previous result"):
        pairwise.rematch(v3, p, broken=[(x, y)])


def test_checkins_break_what_is_not_working(tmp_path: Path, monkeypatch, capsys) -> None:
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    pairs = sorted(_pairs(v1))
    (a, b), (c, d) = pairs[0], pairs[1]
    with pytest.raises(ValidationError) as info:
        pairwise.checkin(v1, [(a, d, "not working"), (a, b, "MY SECRET NOTE")])
    text = str(info.value)
    assert "does not have" in text and "unknown check-in status" in text
    assert "SECRET" not in text  # free text is never echoed
    v1 = pairwise.checkin(v1, [(b, a, "not working", "mentee"), (c, d, "at risk", "mentor")])
    assert v1.events.not_working == {(a, b)}
    done = pairwise.rematch(v1, p, not_working=True)
    v2 = done.result
    assert (a, b) not in _pairs(v2) and (c, d) in _pairs(v2)
    assert f"pair with {b} reported not working" in set(done.changes.reason)
    assert v2.events.broken_pairs == {(a, b)}
    # again: the pair is already broken, nothing more to break
    v3 = pairwise.rematch(v2, p, not_working=True).result
    assert (a, b) not in _pairs(v3)
    # through files and the command line
    problem, first = _first_round(tmp_path, monkeypatch, "v1.json")
    (x, y), *_ = sorted(_pairs(first))
    args = ["checkin", "v1.json", "--pair", f"{y}, {x}", "--status", "not working"]
    assert main(args) == EXIT_OK
    assert main(["rematch", "v1.json", "--not-working", "--out", "v2.json"]) == EXIT_OK
    v2 = pairwise.io.read_result("v2.json", problem)
    assert (x, y) not in _pairs(v2) and v2.events.broken_pairs == {(x, y)}
    capsys.readouterr()
    assert main(["history", "v2.json"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "checkin" in out and "not working" in out and "broken" in out
    assert (
        main(["checkin", "v2.json", "--pair", f"{x},{y}", "--status", "working"]) == EXIT_BAD_INPUT
    )


def test_a_participants_export_carries_no_checkin(tmp_path: Path) -> None:
    import json

    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    (a, b), *_ = sorted(_pairs(v1))
    v1 = pairwise.checkin(v1, [(a, b, "not working", "mentee")])
    staff = json.loads(pairwise.write_result(v1, tmp_path / "staff.json").read_text())
    assert any(row["status"] == "not working" for row in staff["events"])
    path = pairwise.write_result(v1, tmp_path / "people.json", audience="participants")
    data = json.loads(path.read_text())
    assert sorted(data) == ["pairs"]
    assert sorted(data["pairs"][0]) == ["Mentee", "Mentor"]  # names people read
    assert "not working" not in path.read_text() and "score" not in path.read_text()
    with pytest.raises(ValidationError, match="unknown audience"):
        pairwise.write_result(v1, tmp_path / "x.json", audience="everyone")


def test_next_year_starts_from_the_history(tmp_path: Path, monkeypatch) -> None:
    # nobody gets last year's partner, nor the partner of an earlier re-match
    _, year1 = _first_round(tmp_path, monkeypatch, "year1.json")
    (a, b), *_ = sorted(_pairs(year1))
    assert main(["rematch", "year1.json", "--broken", f"{a},{b}", "--out", "year1-v2.json"]) == 0
    earlier = pairwise.io.read_partners("year1.json") | pairwise.io.read_partners("year1-v2.json")
    Path("next.toml").write_text(
        '[programme]\nname = "t2"\n[input]\nfile = "answers.csv"\n[solve]\ntime_limit = 5\n'
        '[[rules]]\ntype = "NoRepeat"\nearlier = ["year1.json", "year1-v2.json"]\n'
    )
    assert main(["match", "next.toml", "--out", "year2.json"]) == EXIT_OK
    year2 = pairwise.io.read_partners("year2.json", history=False)
    assert not year2 & earlier
    assert len(year2) > 0
    # the API: a result's pairs, or any (id, id) pairs, either order
    rule = pairwise.rules.NoRepeat(pairs=tuple((y, x) for x, y in sorted(earlier)))
    p = PairProblem.from_compatibility(
        pairwise.score(pairwise.Cohort.from_frame(__import__("pandas").read_csv("answers.csv"))),
        [rule],
    )
    assert not _pairs(pairwise.solve(p, time_limit=5)) & earlier
    with pytest.raises(ValidationError, match="bad pair"):
        PairProblem.from_compatibility(p.compat, [pairwise.rules.NoRepeat(pairs=(("a",),))])  # type: ignore[arg-type]


def test_unchanged_circles_keep_their_numbers() -> None:
    # the search numbers its circles afresh; a re-match gives every circle that continues
    # a previous one that circle's number (before: none of the five kept theirs here)
    aff = pairwise.affinity(pairwise.make_peers(30, seed=0))
    p = pairwise.CircleProblem.from_compatibility(aff, n_circles=6, min_size=4, max_size=6)
    v1 = pairwise.solve(p, time_limit=2)
    ids = [str(x) for x in p.person_ids]
    before = {g: {ids[i] for i in v1.members(g)} for g in range(6)}
    leaver = sorted(before[2])[0]
    done = pairwise.rematch(v1, p, leaving=[leaver], time_limit=2)
    v2 = done.result
    ids2 = [str(x) for x in v2.problem.person_ids]
    after = {g: {ids2[i] for i in v2.members(g)} for g in range(v2.problem.n_circles)}
    moved = set(done.changes.person_id)
    unchanged = [g for g in range(6) if g != 2 and not before[g] & moved]
    assert unchanged
    for g in unchanged:
        assert after[g] == before[g]
    assert check(p, v2) == []


def test_a_capacity_change_holds_for_every_later_round(tmp_path: Path, monkeypatch) -> None:
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    loads = v1.pairs.mentor_id.astype(str).value_counts()
    busy = str(loads.index[0])
    assert loads.iloc[0] >= 2
    done = pairwise.rematch(v1, p, capacity={busy: 1})
    v2 = done.result
    assert (v2.pairs.mentor_id.astype(str) == busy).sum() <= 1
    assert f"capacity of mentor {busy} now 1" in set(done.changes.reason)
    assert v2.events.capacities == {busy: 1}
    other = next(m for m in v2.pairs.mentor_id.astype(str) if m != busy)
    v3 = pairwise.rematch(v2, p, leaving=[other]).result  # the original problem again
    assert (v3.pairs.mentor_id.astype(str) == busy).sum() <= 1
    assert check(p, v3) == []
    over = replace(v1, events=v2.events)  # the first result against the later capacity
    assert any(f"mentor {busy} has" in x and "capacity now 1" in x for x in check(p, over))
    with pytest.raises(ValidationError) as info:
        pairwise.rematch(v1, p, capacity={"nobody": 1, busy: -1})
    assert "unknown mentor" in str(info.value) and "bad capacity" in str(info.value)
    # through a file and the command line
    problem, first = _first_round(tmp_path, monkeypatch, "v1.json")
    top = str(first.pairs.mentor_id.astype(str).value_counts().index[0])
    assert main(["rematch", "v1.json", "--capacity", f"{top}=1", "--out", "v2.json"]) == EXIT_OK
    again = pairwise.io.read_result("v2.json", problem)
    assert again.events.capacities == {top: 1}
    assert main(["rematch", "v2.json", "--out", "v3.json"]) == EXIT_OK
    last = pairwise.io.read_result("v3.json", problem)
    assert (last.pairs.mentor_id.astype(str) == top).sum() <= 1
    assert main(["check", "v3.json"]) == EXIT_OK
    assert main(["rematch", "v1.json", "--capacity", f"{top}"]) == EXIT_BAD_INPUT


def test_a_tampered_events_table_lists_every_problem(tmp_path: Path) -> None:
    import json

    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    path = pairwise.write_result(v1, tmp_path / "r.json")
    data = json.loads(path.read_text())
    data["events"] = [
        {"round": "x", "event": "left", "id": "a", "other_id": None, "status": None, "by": None},
        {"round": 1, "event": "left", "id": None, "other_id": None, "status": None, "by": None},
        {"round": 1, "event": "broken", "id": "a", "other_id": None, "status": None, "by": None},
        {
            "round": 1,
            "event": "checkin",
            "id": "a",
            "other_id": "b",
            "status": "SECRET NOTE",
            "by": "x",
        },
        {"round": 1, "event": "capacity", "id": "m", "other_id": None, "status": "-2", "by": None},
        {
            "round": 1,
            "event": "teleported",
            "id": "a",
            "other_id": None,
            "status": None,
            "by": None,
        },
    ]
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as info:
        pairwise.io.read_result(path, p)
    text = str(info.value)
    assert len(info.value.problems) == 6
    for what in (
        "bad round",
        "without an id",
        "second id",
        "bad check-in",
        "bad capacity",
        "unknown event",
    ):
        assert what in text
    assert "SECRET" not in text


def test_bad_inputs_to_the_programme_over_time_are_listed(tmp_path: Path) -> None:
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    mentor = str(p.mentor_ids[0])
    for bad in (["x"], [None], [("a",)], [(1, 2, 3, 4, 5)]):
        with pytest.raises(ValidationError, match="bad check-in"):
            pairwise.checkin(v1, bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="bad not_working"):
        pairwise.rematch(v1, p, not_working="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="bad capacity"):
        pairwise.rematch(v1, p, capacity=[1, 2])  # type: ignore[arg-type]
    for k in (float("nan"), float("inf"), 1.5, "2", None):
        with pytest.raises(ValidationError, match="bad capacity"):
            pairwise.rematch(v1, p, capacity={mentor: k})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="cannot read the result file"):
        PairProblem.from_compatibility(
            p.compat, [pairwise.rules.NoRepeat(earlier=(str(tmp_path / "missing.json"),))]
        )
    (tmp_path / "p.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "x.csv"\n'
        '[[rules]]\ntype = "NoRepeat"\nearlier = "last-year.xlsx"\n'
    )
    with pytest.raises(ValidationError, match="bad NoRepeat earlier"):
        pairwise.Programme.from_toml(tmp_path / "p.toml")


def test_pairs_forbidden_and_required_by_hand_hold_in_every_later_round() -> None:
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    pairs = sorted(_pairs(v1))
    (a, b) = pairs[0]
    mentees, mentors = [str(x) for x in p.mentee_ids], [str(x) for x in p.mentor_ids]
    want = next(
        (x, y)
        for i, x in enumerate(mentees)
        for j, y in enumerate(mentors)
        if p.allowed[i, j] and (x, y) not in pairs and x != a and y != b
    )
    done = pairwise.rematch(v1, p, forbid=[(b, a)], require=[(want[1], want[0])])  # either order
    v2 = done.result
    assert (a, b) not in _pairs(v2) and want in _pairs(v2)
    assert v2.events.by_hand == ({(a, b)}, {want})
    assert any("by hand" in str(r) for r in done.changes.reason)
    v3 = pairwise.rematch(v2, p).result  # the original problem: the rules still hold
    assert (a, b) not in _pairs(v3) and want in _pairs(v3)
    assert check(p, v3) == []
    # check sees a result that breaks them
    assert any("forbidden by hand" in x for x in check(p, replace(v1, events=v2.events)))
    assert any("required by hand" in x for x in check(p, replace(v1, events=v2.events)))
    # a later round lifts a rule by giving the other one; a break ends a requirement
    v4 = pairwise.rematch(v3, p, require=[(a, b)], broken=[want]).result
    assert v4.events.by_hand == (set(), {(a, b)})
    assert want not in _pairs(v4) and (a, b) in _pairs(v4)
    assert check(p, v4) == []


def test_bad_pairs_by_hand_are_listed_together() -> None:
    p = _problem()
    v1 = pairwise.solve(p, time_limit=5)
    (a, b), *_ = sorted(_pairs(v1))
    v2 = pairwise.rematch(v1, p, broken=[(a, b)]).result
    with pytest.raises(ValidationError) as info:
        pairwise.rematch(
            v2,
            p,
            forbid=[(a, "nobody"), "x", (a, str(p.mentee_ids[1]))],
            require=[(a, b), (str(p.mentee_ids[2]), str(p.mentor_ids[0]))],
            broken=[],
        )
    text = str(info.value)
    assert "forbid: not a possible pair" in text and "forbid: bad pair" in text
    assert "required pair is broken" in text
    assert len(info.value.problems) == 4
    m, x = str(p.mentee_ids[3]), str(p.mentor_ids[1])
    with pytest.raises(ValidationError, match="both forbidden and required"):
        pairwise.rematch(v2, p, forbid=[(m, x)], require=[(x, m)])


def test_circles_keep_required_pairs_together_and_forbidden_apart() -> None:
    aff = pairwise.affinity(pairwise.make_peers(24, seed=2))
    p = pairwise.CircleProblem.from_compatibility(aff, n_circles=5, min_size=4, max_size=6)
    v1 = pairwise.solve(p, time_limit=2)
    ids = [str(x) for x in p.person_ids]
    of = {ids[i]: g for g, i in v1.assignment.tolist()}
    first = [ids[i] for i in v1.members(0)]
    other = next(x for x in ids if of[x] != 0)
    done = pairwise.rematch(
        v1, p, forbid=[(first[0], first[1])], require=[(first[2], other)], time_limit=2
    )
    v2 = done.result
    ids2 = [str(x) for x in v2.problem.person_ids]
    of2 = {ids2[i]: g for g, i in v2.assignment.tolist()}
    assert of2[first[0]] != of2[first[1]] and of2[first[2]] == of2[other]
    assert check(p, v2) == []
    v3 = pairwise.rematch(v2, p, time_limit=2).result
    of3 = {str(v3.problem.person_ids[i]): g for g, i in v3.assignment.tolist()}
    assert of3[first[0]] != of3[first[1]] and of3[first[2]] == of3[other]


def test_history_lists_rounds_and_norepeat_reads_it(tmp_path: Path, monkeypatch, capsys) -> None:
    _, v1 = _first_round(tmp_path, monkeypatch, "v1.json")
    (a, b), *_ = sorted(_pairs(v1))
    assert main(["rematch", "v1.json", "--broken", f"{a},{b}", "--out", "v2.json"]) == EXIT_OK
    m, x = sorted(_pairs(pairwise.io.read_result("v2.json", v1.problem)))[-1]
    assert main(["rematch", "v2.json", "--forbid", f"{m},{x}", "--out", "v3.json"]) == EXIT_OK
    capsys.readouterr()
    assert main(["history", "v3.json"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "2 re-match(es)" in out and "forbidden" in out and "paired" not in out
    lines = [line.split() for line in out.splitlines()]
    rounds = [row for row in lines if row and row[0] in ("0", "1", "2") and len(row) == 9]
    assert [int(row[1]) for row in rounds[:2]] == [len(_pairs(v1))] * 2  # pairs per round
    assert main(["history", "v3.json", "--pairs"]) == EXIT_OK
    assert "paired" in capsys.readouterr().out
    # every round's pairs, from the last file alone
    every = set()
    for name in ("v1.json", "v2.json", "v3.json"):
        every |= pairwise.io.read_partners(name, history=False)
    assert pairwise.io.read_partners("v3.json") == every
    # next year, NoRepeat over the last file: no pair of any round again, and the new
    # result carries them, so the year after is kept apart from both years
    Path("next.toml").write_text(
        '[programme]\nname = "y2"\n[input]\nfile = "answers.csv"\n[solve]\ntime_limit = 5\n'
        '[[rules]]\ntype = "NoRepeat"\nearlier = ["v3.json"]\n'
    )
    assert main(["match", "next.toml", "--out", "y2.json"]) == EXIT_OK
    year2 = pairwise.io.read_partners("y2.json", history=False)
    assert year2 and not year2 & every
    assert pairwise.io.read_partners("y2.json") >= every | year2
    capsys.readouterr()
    assert main(["history", "y2.json"]) == EXIT_OK
    assert f"{len(every)} pairs from earlier results" in capsys.readouterr().out


def test_late_joiners_added_to_the_export_are_joiners(tmp_path: Path, monkeypatch) -> None:
    # through files the previous result is read for the programme as it is now, late
    # joiners included: they were not reported as joined at all
    monkeypatch.chdir(tmp_path)
    people = pairwise.make_cohort(20, 4, seed=2).to_frame(flat=True)
    late = people.index[people.role.eq("mentee")][-2:]
    people.drop(index=late).to_csv("answers.csv", index=False)
    Path("programme.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n[solve]\ntime_limit = 5\n'
    )
    assert main(["match", "programme.toml", "--out", "v1.json"]) == EXIT_OK
    people.to_csv("answers.csv", index=False)
    assert main(["rematch", "v1.json", "--out", "v2.json"]) == EXIT_OK
    problem = pairwise.Programme.from_toml("programme.toml").problem()
    v2 = pairwise.io.read_result("v2.json", problem)
    ids = set(people.id[late])
    assert {x for _, x in v2.events.joined} == ids
    joined = v2.changes[v2.changes.change == "joined"]
    assert set(joined.mentee_id) == ids
    assert all(r.startswith("new in the programme") for r in joined.reason)
    assert pairwise.io.read_result("v1.json", problem).roster == frozenset(set(people.id) - ids)


def test_a_leaver_named_in_others_answers_may_be_deleted_from_the_export(
    tmp_path: Path, monkeypatch
) -> None:
    # issue 13: deleting a leaver's row made every later command fail when someone's
    # avoid / previous / prefer answer named her ("names an unknown id")
    import pandas as pd

    _, v1 = _first_round(tmp_path, monkeypatch, "v1.json")
    people = pd.read_csv("answers.csv")
    links = people[["avoid", "previous", "prefer"]].astype(object).fillna("").astype(str)
    named = links.agg(";".join, axis=1)
    mentors = set(people.id[people.role == "mentor"])
    leaver = next(m for m in sorted(mentors) if named.str.contains(m).any())
    other = next(m for m in sorted(mentors - {leaver}) if (v1.pairs.mentor_id == m).any())
    gone = people[people.id != other]
    gone.to_csv("answers.csv", index=False)  # deleted before the re-match records her
    assert main(["rematch", "v1.json", "--leaving", other]) == EXIT_BAD_INPUT
    people.to_csv("answers.csv", index=False)
    assert main(["rematch", "v1.json", "--leaving", leaver, "--out", "v2.json"]) == EXIT_OK
    people[people.id != leaver].to_csv("answers.csv", index=False)
    for args in (
        ["check", "v2.json"],
        ["rematch", "v2.json", "--out", "v3.json"],
        ["check", "v3.json"],
    ):
        assert main(args) == EXIT_OK, args
    assert main(["history", "v3.json"]) == EXIT_OK


def test_a_circles_rematch_that_changes_the_count_checks_through_files(
    tmp_path: Path, monkeypatch
) -> None:
    # 24 peers in six circles of 4-6, one leaves: the re-match forms five; read back from
    # its file, check said "circle 5 has 0 members" (the file's circles were read in the
    # programme's six)
    monkeypatch.chdir(tmp_path)
    pairwise.make_peers(24, seed=0).to_frame(flat=True).to_csv("peers.csv", index=False)
    Path("c.toml").write_text(
        '[programme]\nname = "c"\nkind = "circles"\n[input]\nfile = "peers.csv"\n'
        "[solve]\ntime_limit = 3\n[circles]\nn_circles = 6\nmin_size = 4\nmax_size = 6\n"
    )
    assert main(["circles", "c.toml", "--out", "c1.xlsx"]) == EXIT_OK
    assert main(["rematch", "c1.xlsx", "--leaving", "peer-0003", "--out", "c2.xlsx"]) == EXIT_OK
    assert main(["check", "c2.xlsx"]) == EXIT_OK
    problem = pairwise.Programme.from_toml("c.toml").problem()
    again = pairwise.io.read_result("c2.xlsx", problem)
    assert again.problem.n_circles == 5 and check(problem, again) == []
    assert main(["rematch", "c2.xlsx", "--out", "c3.json"]) == EXIT_OK
    assert main(["check", "c3.json"]) == EXIT_OK
