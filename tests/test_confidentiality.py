"""Participants' answers never reach a message, a log, a warning or an export of ids.

A sentinel is planted in every answer column that is not an id (names, free text, parsed
answers made unparseable), and every surface is driven: the API, programme files, every
CLI command (good and bad input), the result files and sweeps. The sentinel must appear
nowhere but in the input itself. Ids may appear (that is how people are named).
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pandas as pd
import pytest

import pairwise
from pairwise.cli import main
from pairwise.cohort import CANONICAL_COLUMNS

SENTINEL = "Zebedee-Quartermaine-SENTINEL"


def _planted(frame: pd.DataFrame, column: str, every: int = 3) -> pd.DataFrame:
    """``frame`` with a sentinel in ``column`` on every ``every``-th row, each one its own
    (as free text is: a name, a diagnosis), added to the answer or in its place."""
    out = frame.copy()
    cells = out[column].astype(object).tolist()
    for k in range(0, len(cells), every):
        mine = f"{SENTINEL}{k}"
        blank = pd.isna(cells[k]) or cells[k] == ""
        cells[k] = mine if blank or k % 2 else f"{cells[k]};{mine}"
    out[column] = cells
    return out


def _leaks(*texts: object) -> list[str]:
    return [str(t)[:200] for t in texts if SENTINEL in str(t) or "Zebedee" in str(t)]


@pytest.fixture
def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    monkeypatch.chdir(tmp_path)
    frame = pairwise.make_cohort(24, 8, seed=4).to_frame(flat=True)
    frame["full_name"] = [f"{SENTINEL} {k}" for k in range(len(frame))]
    frame["notes"] = f"my private note {SENTINEL}"
    return frame


def _programme(name: str = "programme.toml", file: str = "answers.csv") -> str:
    Path(name).write_text(
        f'[programme]\nname = "t"\n[input]\nfile = "{file}"\n[solve]\ntime_limit = 3\n'
    )
    return name


def _run(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, *args: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(list(args))
    out = capsys.readouterr()
    return code, [out.out, out.err, caplog.text, *(str(w.message) for w in caught)]


#: Every answer column (the id aside: ids may appear).
COLUMNS = [c for c in CANONICAL_COLUMNS if c != "id"]


@pytest.mark.parametrize("column", COLUMNS)
def test_a_sentinel_in_any_answer_never_reaches_the_command_line(
    export, column, capsys, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    _planted(export, column).to_csv("answers.csv", index=False)
    _programme()
    code, texts = _run(capsys, caplog, "match", "programme.toml", "--out", "r.json")
    assert _leaks(*texts) == [], column
    if code != 0:  # an unparseable answer: exit 2, every problem listed by row and column
        assert code == 2 and column in texts[1]
        return
    # the result files carry ids and programme vocabulary, never a free-text cell
    assert _leaks(Path("r.json").read_text()) == []
    first = json.loads(Path("r.json").read_text())["pairs"][0]
    for args in (
        ("check", "r.json"),
        ("explain", "r.json", first["mentee_id"]),
        ("explain", "r.json", first["mentor_id"]),
        ("explain", "r.json", SENTINEL),
        ("rematch", "r.json", "--broken", f"{first['mentee_id']},{first['mentor_id']}"),
        ("rematch", "r.json", "--leaving", SENTINEL),
        (
            "checkin",
            "r.json",
            "--pair",
            f"{first['mentee_id']},{first['mentor_id']}",
            "--status",
            "at risk",
        ),
        ("history", "r.json"),
        ("match", "answers.csv"),
    ):
        code, texts = _run(capsys, caplog, *args)
        # what the user typed on the command line may come back; the answers never
        typed = [t.replace(SENTINEL, "") if SENTINEL in " ".join(args) else t for t in texts]
        assert _leaks(*typed) == [], (column, args)


def test_exports_and_sweeps_carry_no_free_text(export) -> None:
    export.to_csv("answers.csv", index=False)
    cohort = pairwise.read_cohort("answers.csv")
    compat = pairwise.score(cohort)
    result = pairwise.solve(pairwise.PairProblem.from_compatibility(compat), time_limit=3)
    for name in ("r.json", "r.xlsx", "r.csv"):
        path = pairwise.write_result(result, name)
        text = path.read_text(errors="ignore") if name != "r.xlsx" else ""
        assert _leaks(text) == [], name
    for sheet in pd.read_excel("r.xlsx", sheet_name=None).values():
        assert _leaks(sheet.to_string()) == []
    assert _leaks(repr(result), result.metrics(), result.unmatched.to_string()) == []

    def build(min_score: float) -> pairwise.PairProblem:
        if min_score > 0.9:
            raise ValueError(f"user code failed on {SENTINEL}")  # the caller's own text
        return pairwise.PairProblem.from_compatibility(compat, [pairwise.rules.MinScore(min_score)])

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        frame = pairwise.sweep(build, {"min_score": [0.0, 0.95]}, time_limit=2, executor=pool)
    assert frame.error.notna().sum() == 1
    assert _leaks(frame.drop(columns=[c for c in frame if c == "error"]).to_string()) == []
