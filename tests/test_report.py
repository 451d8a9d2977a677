"""The data-quality report before a solve (issue 14 part 2): pairwise.inspect / pairwise inspect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pairwise
from pairwise.cli import EXIT_OK, main


def _frame() -> pd.DataFrame:
    return pairwise.make_cohort(30, 8, seed=1).to_frame(flat=True)


def test_the_report_finds_what_a_manager_must_fix_before_matching() -> None:
    frame = _frame()
    mentee = frame.role.eq("mentee")
    # a topic four mentees need and no mentor offers, one typed by one mentee only
    frame.loc[frame.index[mentee][:4], "needs"] = "grant-writing:2"
    frame.loc[frame.index[mentee][4], "needs"] = "Zebedee private topic:1"
    frame.loc[~mentee, "expertise"] = frame.loc[~mentee, "expertise"].str.replace(
        "grant-writing", "fundraising"
    )
    frame.loc[frame.index[mentee][5:7], "languages"] = np.nan  # SharedLanguage reads it
    cohort = pairwise.Cohort.from_frame(frame)
    problem = pairwise.PairProblem.from_compatibility(
        pairwise.score(cohort), [pairwise.rules.SharedLanguage()]
    )
    found = pairwise.inspect(cohort, problem)
    topics = found.topics.set_index("topic").needed
    assert topics["grant-writing"] == 4 and found.hidden_topics == 1
    assert "Zebedee" not in str(found) and "Zebedee" not in found.to_frame().to_string()
    assert (
        "Zebedee private topic"
        in pairwise.inspect(cohort, problem, show_values=True).topics.topic.tolist()
    )
    blank = found.blanks.set_index("column")
    assert (
        blank.loc["languages", "people"] == 2
        and "shared language" in blank.loc["languages", "rules"]
    )
    stuck = set(found.no_mentor.mentee_id)
    expected = {str(problem.mentee_ids[i]) for i in np.flatnonzero(~problem.allowed.any(axis=1))}
    assert stuck == expected and len(stuck) >= 2  # the two with no language at least
    assert (found.capacity, found.demand) == (int(problem.capacity.sum()), 30)
    roles = found.counts[found.counts.column == "role"]
    assert roles[["mentee", "mentor"]].values.tolist() == [[30, 8]]
    assert found.to_frame().columns.tolist() == ["section", "item", "value"]


def test_a_criterion_that_is_zero_for_every_pair_is_named() -> None:
    frame = _frame()
    frame["slots"] = np.nan  # mapped but empty: availability is zero everywhere
    cohort = pairwise.Cohort.from_frame(frame)
    found = pairwise.inspect(
        cohort, pairwise.PairProblem.from_compatibility(pairwise.score(cohort))
    )
    assert "availability" in found.zero_criteria
    assert "criterion 'availability' is zero for every pair" in str(found)


def test_pairwise_inspect_on_a_programme(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    _frame().to_csv("answers.csv", index=False)
    Path("programme.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n[[rules]]\ntype = "SameRegion"\n'
    )
    assert main(["inspect", "programme.toml"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "people:" in out and "places: mentors offer" in out and "with no allowed mentor" in out
    assert main(["inspect", "answers.csv", "--show-values"]) == EXIT_OK
    assert main(["inspect", "missing.toml"]) == 2


@pytest.mark.parametrize("kind", ["circles"])
def test_inspect_on_circles_counts_and_criteria(kind) -> None:
    peers = pairwise.make_peers(24, seed=1)
    problem = pairwise.CircleProblem.from_compatibility(pairwise.affinity(peers))
    found = pairwise.inspect(peers, problem)
    assert found.counts[found.counts.column == "role"].peer.tolist() == [24]
    assert found.demand == 0 and len(found.no_mentor) == 0


def test_match_prints_the_warnings_and_cohort_report_is_the_answers_part(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    frame = _frame()
    frame["slots"] = np.nan
    frame.to_csv("answers.csv", index=False)
    Path("programme.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n[solve]\ntime_limit = 3\n'
        '[[rules]]\ntype = "SameRegion"\n'
    )
    assert main(["match", "programme.toml"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "warning: criterion 'availability' is zero for every pair" in out
    assert "mentee(s) have no allowed mentor under the rules" in out
    cohort = pairwise.Cohort.from_frame(frame)
    alone = cohort.report()
    assert alone.counts.equals(pairwise.inspect(cohort).counts)
    assert alone.zero_criteria == () and len(alone.no_mentor) == 0  # the rules' part is not there


def test_bad_inputs_to_the_report_and_the_new_export_options_are_validation_errors(
    tmp_path: Path, monkeypatch
) -> None:
    cohort = pairwise.make_cohort(6, 2, seed=0)
    for bad in (
        lambda: pairwise.inspect("answers.csv"),  # type: ignore[arg-type]
        lambda: pairwise.inspect(cohort, np.ones((2, 2))),  # type: ignore[arg-type]
        lambda: pairwise.inspect(cohort, show_values="yes"),  # type: ignore[arg-type]
    ):
        with pytest.raises(pairwise.ValidationError):
            bad()
    result = pairwise.solve(pairwise.PairProblem.from_compatibility(pairwise.score(cohort)))
    for options in ({"pseudonyms": ""}, {"pseudonyms": 5}, {"include": "Full name"}):
        with pytest.raises(pairwise.ValidationError):
            pairwise.write_result(result, tmp_path / "r.json", **options)
    monkeypatch.chdir(tmp_path)
    _frame().to_csv("answers.csv", index=False)
    Path("key.txt").write_text("   \n")  # an empty key file
    assert main(["match", "answers.csv", "--pseudonyms", "key.txt"]) == 2
    for include in ("5", '"Full name"', "[1, 2]", '[""]'):
        Path("p.toml").write_text(
            '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n'
            f"[output]\ninclude = {include}\n"
        )
        with pytest.raises(pairwise.ValidationError, match="include"):
            pairwise.Programme.from_toml("p.toml")


def test_the_report_counts_minimum_loads_and_names_mentors_who_cannot_reach_theirs() -> None:
    cohort = pairwise.make_cohort(30, 8, seed=1)
    compat = pairwise.score(cohort)
    low = [2] * 8
    problem = pairwise.PairProblem.from_compatibility(
        compat, [pairwise.rules.Capacity(override=3, minimum=low), pairwise.rules.SameRegion()]
    )
    allowed = problem.allowed.sum(axis=0)
    want = tuple(str(x) for x, k in zip(problem.mentor_ids, allowed, strict=True) if k < 2)
    assert want  # this cohort has mentors with fewer than 2 mentees of their region
    found = pairwise.inspect(cohort, problem)
    assert found.minimum == 16 and found.short_of_minimum == want
    text = str(found)
    assert "minimum loads take 16" in text
    assert f"{len(want)} mentor(s) have a minimum load above the mentees" in text
    frame = found.to_frame()
    assert frame[frame.section == "minimum above the mentees allowed"].item.tolist() == list(want)
    with pytest.raises(pairwise.InfeasibleError):  # the report was right: no matching meets it
        pairwise.solve(problem)
    heavy = pairwise.PairProblem.from_compatibility(
        compat, [pairwise.rules.Capacity(override=5, minimum=[4] * 8)]
    )
    assert "minimum loads add up to 32 mentees, but mentees ask for 30" in str(
        pairwise.inspect(cohort, heavy)
    )


def test_minimum_load_findings_and_conflicts_quote_no_answer(tmp_path: Path, capsys) -> None:
    # names, e-mails and free answers carry a sentinel: the report on minimum loads, the
    # conflict it predicts and the CLI name mentors by id only
    secret = "Zz-sentinel-42"
    frame = _frame()
    frame["name"] = [f"{secret} {i}" for i in range(len(frame))]
    frame["email"] = [f"{secret}.{i}@example.org" for i in range(len(frame))]
    frame["notes"] = [f"{secret}: private answer {i}" for i in range(len(frame))]
    cohort = pairwise.Cohort.from_frame(frame)
    problem = pairwise.PairProblem.from_compatibility(
        pairwise.score(cohort),
        [pairwise.rules.Capacity(override=3, minimum=[2] * 8), pairwise.rules.SameRegion()],
    )
    found = pairwise.inspect(cohort, problem)
    assert found.short_of_minimum  # the finding this test is about is there
    assert secret not in str(found)
    assert secret not in found.to_frame().to_string()
    with pytest.raises(pairwise.InfeasibleError) as err:
        pairwise.solve(problem)
    assert secret not in str(err.value)
    frame["minimum"] = np.where(frame.role.eq("mentor"), 2, np.nan)
    frame["capacity"] = np.where(frame.role.eq("mentor"), 3, np.nan)
    frame.to_csv(tmp_path / "answers.csv", index=False)
    (tmp_path / "programme.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n[[rules]]\ntype = "SameRegion"\n'
    )
    assert main(["inspect", str(tmp_path / "programme.toml")]) == EXIT_OK
    inspected = capsys.readouterr().out
    assert "minimum load above the mentees" in inspected
    code = main(["match", str(tmp_path / "programme.toml"), "--out", str(tmp_path / "o.csv")])
    out = capsys.readouterr()
    assert code == 1 and "must each get 2" in out.out + out.err  # the predicted conflict
    assert secret not in inspected
    assert secret not in out.out and secret not in out.err
