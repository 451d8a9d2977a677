"""The command line: every command on real files, exit codes, no participant text in errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import pairwise
from pairwise.cli import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_OK, main


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = pairwise.make_cohort(30, 10, seed=1).to_frame(flat=True)
    frame["notes"] = "CONFIDENTIAL free text"
    frame.to_csv("answers.csv", index=False)
    pairwise.make_peers(24, seed=1).to_frame(flat=True).to_csv("peers.csv", index=False)
    (tmp_path / "programme.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n'
        '[[rules]]\ntype = "SharedLanguage"\n[solve]\ntime_limit = 10\n'
        '[output]\nfile = "published.xlsx"\n'
    )
    return tmp_path


def test_match_check_explain_rematch_round_trip(folder, capsys):
    assert main(["match", "programme.toml", "--out", "result.json"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "every hard rule holds" in out and "written" in out
    data = json.loads((folder / "result.json").read_text())
    # relative to the result's folder: no absolute path of this machine in a shared file
    assert data["meta"][0] == {"key": "programme", "value": "programme.toml"}
    assert main(["check", "result.json"]) == EXIT_OK
    assert "every hard rule holds" in capsys.readouterr().out
    first = data["pairs"][0]
    assert main(["explain", "result.json", first["mentee_id"]]) == EXIT_OK
    assert first["mentor_id"] in capsys.readouterr().out
    broken = f"{first['mentee_id']},{first['mentor_id']}"
    assert main(["rematch", "result.json", "--broken", broken, "--out", "v2.json"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "pair with" in out and "broken" in out
    v2 = json.loads((folder / "v2.json").read_text())
    assert [first["mentee_id"], first["mentor_id"]] not in [
        [p["mentee_id"], p["mentor_id"]] for p in v2["pairs"]
    ]


def test_a_tampered_result_fails_the_check(folder, capsys):
    assert main(["match", "programme.toml", "--out", "result.json"]) == EXIT_OK
    data = json.loads((folder / "result.json").read_text())
    # give every pair the first mentor: capacities break
    for pair in data["pairs"]:
        pair["mentor_id"] = data["pairs"][0]["mentor_id"]
    (folder / "result.json").write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["check", "result.json"]) == EXIT_INFEASIBLE
    assert "capacity" in capsys.readouterr().out


def test_programme_output_and_circles_from_a_plain_file(folder, capsys):
    assert main(["match", "programme.toml"]) == EXIT_OK
    assert (folder / "published.xlsx").exists()
    assert main(["circles", "peers.csv", "--out", "c.json", "--time-limit", "2"]) == EXIT_OK
    assert main(["explain", "c.json", "0"]) == EXIT_OK
    assert "circle 0" in capsys.readouterr().out
    for bad, why in (
        ("zero", "unknown person id"),
        ("99", "unknown circle"),
        ("-1", "unknown circle"),
    ):
        assert main(["explain", "c.json", bad]) == EXIT_BAD_INPUT
        assert why in capsys.readouterr().err
    assert main(["explain", "c.json", "peer-0001"]) == EXIT_OK  # by person id: her circle
    assert "peer-0001" in capsys.readouterr().out


def test_bad_input_exit_code_and_no_free_text(folder, capsys):
    (folder / "bad.toml").write_text(
        '[programme]\nkind = "triples"\n[input]\nfile = "missing.csv"\n'
        '[[rules]]\ntype = "NoSuchRule"\n[wieghts]\ntopics = 1\n'
    )
    assert main(["match", "bad.toml"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    for needle in ("unknown kind", "input file not found", "unknown rule", "unknown table"):
        assert needle in err
    assert main(["match", "peers.csv"]) == EXIT_BAD_INPUT
    assert "CONFIDENTIAL" not in capsys.readouterr().err


def test_infeasible_exit_code(folder, capsys):
    (folder / "tight.toml").write_text(
        '[programme]\nkind = "circles"\n[input]\nfile = "peers.csv"\n'
        "[circles]\nmin_size = 4\nmax_size = 4\nn_circles = 2\nall_placed = true\n"
    )
    assert main(["circles", "tight.toml"]) == EXIT_INFEASIBLE
    assert "24 people but sizes 4-4 with 2 circles allow 8-8" in capsys.readouterr().err


def test_circles_leave_out_who_cannot_be_placed_and_say_why(folder, capsys):
    (folder / "loose.toml").write_text(
        '[programme]\nkind = "circles"\n[input]\nfile = "peers.csv"\n'
        "[circles]\nmin_size = 4\nmax_size = 4\nn_circles = 2\n"
    )
    assert main(["circles", "loose.toml", "--out", "c.json"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "16 people could not be placed" in out
    assert "no room: 24 people for 2 circles of at most 4" in out
    assert "every hard rule holds" in out
    assert main(["check", "c.json"]) == EXIT_OK


def test_help_on_every_command_has_examples():
    for command in ("demo", "match", "circles", "check", "explain", "rematch"):
        done = subprocess.run(
            [sys.executable, "-m", "pairwise.cli", command, "--help"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "example" in done.stdout


def test_result_files_can_be_moved_and_shared(folder, tmp_path_factory, capsys):
    import shutil

    assert main(["match", "programme.toml", "--out", "out/result.json"]) == EXIT_OK
    text = (folder / "out" / "result.json").read_text()
    assert str(folder) not in text
    assert json.loads(text)["meta"][0]["value"] == "../programme.toml"
    moved = tmp_path_factory.mktemp("elsewhere")
    for name in ("programme.toml", "answers.csv"):
        shutil.copy(folder / name, moved / name)
    (moved / "out").mkdir()
    shutil.copy(folder / "out" / "result.json", moved / "out" / "result.json")
    shutil.rmtree(folder / "out")
    (folder / "programme.toml").unlink()  # the old place is gone
    capsys.readouterr()
    assert main(["check", str(moved / "out" / "result.json")]) == EXIT_OK
    assert "every hard rule holds" in capsys.readouterr().out
    # --programme names another copy of the programme
    shutil.copy(moved / "programme.toml", moved / "other.toml")
    args = ["check", str(moved / "out" / "result.json"), "--programme", str(moved / "other.toml")]
    assert main(args) == EXIT_OK
    assert main([*args[:2], "--programme", str(moved / "missing.toml")]) == EXIT_BAD_INPUT


def test_the_terminal_explains_mentees_mentors_and_what_was_not_saved(folder, capsys):
    # issue 14 part 5: a summary without --out, --out checked before the solve, explain for
    # an unmatched mentee (why, then her options), for a mentor (her mentees), --version
    assert main(["match", "answers.csv", "--time-limit", "5"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "pairs:" in out and "nothing saved" in out and "--out result.xlsx" in out
    assert main(["match", "answers.csv", "--out", "result.txt"]) == EXIT_BAD_INPUT
    assert "cannot write '.txt'" in capsys.readouterr().err
    (folder / "a-folder.json").mkdir()
    assert main(["match", "answers.csv", "--out", "a-folder.json"]) == EXIT_BAD_INPUT
    assert "is a folder" in capsys.readouterr().err
    assert main(["match", "answers.csv", "--out", "r.json", "--time-limit", "5"]) == EXIT_OK
    result = pairwise.io.read_result(
        "r.json", pairwise.Programme.from_toml("programme.toml").problem()
    )
    capsys.readouterr()
    left = str(result.unmatched.mentee_id.iloc[0])
    assert main(["explain", "r.json", left]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"mentee {left} is unmatched: " in out and "best allowed options" in out
    assert "in_common" in out and "topics" in out  # per criterion, in plain words
    row = result.pairs.iloc[0]
    assert main(["explain", "r.json", str(row.mentor_id)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"mentor {row.mentor_id}: " in out and str(row.mentee_id) in out
    assert "CONFIDENTIAL" not in out
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("pairwise ")


def test_every_argument_has_help() -> None:
    import argparse

    from pairwise.cli import _parser

    def walk(parser: argparse.ArgumentParser, where: str) -> list[str]:
        missing = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    missing += walk(sub, f"{where} {name}")
            elif not action.help and not isinstance(
                action, argparse._HelpAction | argparse._VersionAction
            ):
                missing.append(f"{where} {action.dest}")
        return missing

    assert walk(_parser(), "pairwise") == []
