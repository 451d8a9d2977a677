"""Ranked preferences: the ``ranked`` column, per-rank columns, the criterion, the metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pairwise
from pairwise.scoring import RankedPreference

SECRET = "Zz-sentinel-42"


def _frame(**cols: list[object]) -> pd.DataFrame:
    base = {
        "id": ["a", "b", "m1", "m2", "m3"],
        "role": ["mentee", "mentee", "mentor", "mentor", "mentor"],
    }
    return pd.DataFrame({**base, **cols})


def test_list_and_per_rank_columns_give_the_same_cohort() -> None:
    one = pairwise.Cohort.from_frame(_frame(ranked=["m3;m1", "m2", "b;a", "", None]))
    many = pairwise.Cohort.from_frame(
        _frame(**{"Choice 1": ["m3", "m2", "b", None, ""], "Choice 2": ["m1", "", "a", None, ""]}),
        columns={"Choice 1": "ranked_1", "Choice 2": "ranked_2"},
    )
    assert one.ranked == many.ranked == (("m3", "m1"), ("m2",), ("b", "a"), (), ())
    assert pairwise.Cohort.from_frame(one.to_frame(flat=True)) == one
    assert one.mentees.rank_matrix(one.mentors).tolist() == [[2, 0, 1], [0, 1, 0]]


def test_prefer_stays_an_unordered_set() -> None:
    c = pairwise.Cohort.from_frame(_frame(prefer=["m3;m1", "", "", "", ""]))
    assert c.prefer[0] == ("m1", "m3") and c.ranked[0] == ()


@pytest.mark.parametrize(
    ("cols", "message", "column"),
    [
        ({"ranked": [f"m1;{SECRET}", "", "", "", ""]}, "unknown id", "ranked"),
        ({"ranked": ["m1;m1", "", "", "", ""]}, "same id twice", "ranked"),
        ({"ranked": ["b", "", "", "", ""]}, "ranks another mentee", "ranked"),
        ({"ranked": ["a", "", "", "", ""]}, "themself", "ranked"),
        (
            {"ranked_1": ["", "", "", "", ""], "ranked_2": ["m1", "", "", "", ""]},
            "rank gap",
            "ranked_2",
        ),
        (
            {"ranked_1": ["m1", "", "", "", ""], "ranked_3": ["m2", "", "", "", ""]},
            "rank gap",
            "ranked_3",
        ),
        ({"ranked_1": [SECRET, "", "", "", ""]}, "unknown id", "ranked_1"),
    ],
)
def test_bad_ranked_lists_name_row_and_column_not_the_answer(
    cols: dict[str, list[object]], message: str, column: str
) -> None:
    with pytest.raises(pairwise.ValidationError) as err:
        pairwise.Cohort.from_frame(_frame(**cols))
    [problem] = err.value.problems
    text = str(err.value)
    assert message in text and "row 2" in text and problem.column == column
    assert SECRET not in text and SECRET not in repr(err.value.problems)


def test_both_forms_at_once_is_a_problem() -> None:
    with pytest.raises(pairwise.ValidationError, match="both a ranked list"):
        pairwise.Cohort.from_frame(_frame(ranked=["m1"] + [""] * 4, ranked_1=["m1"] + [""] * 4))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["m1", "m2", "m3", "a", "b", "x", ";", " ", ""]), max_size=6))
def test_adversarial_ranked_cells_parse_or_raise_validation(items: list[str]) -> None:
    cell = ";".join(items)
    try:
        c = pairwise.Cohort.from_frame(_frame(ranked=[cell, "", "", "", ""]))
    except pairwise.ValidationError:
        return
    want = [x.strip() for x in cell.split(";") if x.strip()]
    assert list(c.ranked[0]) == want  # kept in order when every id is good


def test_criterion_values_follow_the_documented_decay() -> None:
    c = pairwise.Cohort.from_frame(_frame(ranked=["m3;m1;m2", "", "", "b", ""]))
    a, b = c.mentees, c.mentors
    geo = RankedPreference(side="mentee")(a, b)
    assert geo.tolist() == [[0.5, 0.25, 1.0], [0.0, 0.0, 0.0]]
    lin = RankedPreference(side="mentee", decay="linear")(a, b)
    np.testing.assert_allclose(lin, [[2 / 3, 1 / 3, 1.0], [0, 0, 0]], rtol=1e-6)
    assert RankedPreference(side="mentee", k=1)(a, b).tolist() == [[0, 0, 1], [0, 0, 0]]
    both = RankedPreference()(a, b)
    assert both[1, 1] == 1.0 and both[0, 2] == 1.0  # m2 ranked b first
    compat = pairwise.Scorer(
        weights={
            "ranked": 1,
            "topics": 0,
            "stage": 0,
            "language": 0,
            "region": 0,
            "mode": 0,
            "availability": 0,
            "preference": 0,
        }
    ).score(c)
    assert compat.explain("a", "m3")["value"].tolist() == [1.0]


@pytest.mark.parametrize(
    "kwargs", [{"side": "x"}, {"decay": "cubic"}, {"ratio": 0}, {"ratio": 2}, {"k": 0}]
)
def test_bad_criterion_parameters(kwargs: dict[str, object]) -> None:
    with pytest.raises(pairwise.ValidationError):
        RankedPreference(**kwargs)  # type: ignore[arg-type]


def test_choice_metrics() -> None:
    c = pairwise.Cohort.from_frame(_frame(ranked=["m3;m1", "m3;m2", "", "", ""]))
    compat = pairwise.score(c, weights={"ranked": 5})
    p = pairwise.PairProblem.from_compatibility(compat)
    assert p.ranks is not None
    m = pairwise.solve(p)
    got = m.metrics()
    assert got["ranked_mentees"] == 2
    first = np.mean([p.ranks[0][i, j] == 1 for i, j in m.assignment.tolist()])
    assert got["first_choice_share"] == first == 0.5  # both want m3, capacity 1
    assert got["top3_choice_share"] == 1.0
    plain = pairwise.solve(pairwise.PairProblem.from_scores(np.ones((2, 2)))).metrics()
    assert "first_choice_share" not in plain


def test_from_scores_rank_checks() -> None:
    for bad in ([[1, 1], [0, 0]], [[2, 0], [0, 0]], [[-1, 0], [0, 0]], [[0.5, 0], [0, 0]]):
        with pytest.raises(pairwise.ValidationError, match="mentee_ranks"):
            pairwise.PairProblem.from_scores(np.ones((2, 2)), mentee_ranks=bad)


def test_per_rank_columns_beside_the_empty_ranked_column_of_a_round_trip() -> None:
    # Cohort.to_frame writes a ranked column, empty when nobody ranked: a manager who adds
    # ranked_1, ranked_2 to that export is not told she gave both forms
    frame = pairwise.make_cohort(6, 3, seed=0).to_frame(flat=True)
    mentors = frame.loc[frame.role == "mentor", "id"].tolist()
    frame["ranked_1"] = [mentors[0] if r == "mentee" else None for r in frame.role]
    frame["ranked_2"] = [mentors[1] if r == "mentee" else None for r in frame.role]
    cohort = pairwise.Cohort.from_frame(frame)
    assert cohort.ranked[0] == (mentors[0], mentors[1])
    frame.loc[0, "ranked"] = mentors[2]  # a list in one row as well: both forms
    with pytest.raises(pairwise.ValidationError, match="both a ranked list and per-rank columns"):
        pairwise.Cohort.from_frame(frame)


def _programme(tmp_path: object, body: str) -> pairwise.Programme:
    from pathlib import Path

    folder = Path(str(tmp_path))
    _frame(ranked=["m3;m1;m2", "m2", "", "", ""]).to_csv(folder / "a.csv", index=False)
    head = '[programme]\nname = "t"\n[input]\nfile = "a.csv"\n'
    (folder / "p.toml").write_text(head + body, encoding="utf-8")
    return pairwise.Programme.from_toml(folder / "p.toml")


def test_a_programmes_ranked_table_sets_the_decay(tmp_path: object) -> None:
    prog = _programme(
        tmp_path, '[weights]\nranked = 3\n[ranked]\ndecay = "linear"\nk = 2\nside = "mentee"\n'
    )
    assert prog.ranked == {"decay": "linear", "k": 2, "side": "mentee"}
    got = prog.problem().criteria["ranked"][1]
    cohort = prog.cohort()
    want = RankedPreference(decay="linear", k=2, side="mentee")(cohort.mentees, cohort.mentors)
    assert np.allclose(got, want)
    assert np.allclose(got[0], [0.5, 0.0, 1.0])  # m1 second of k=2, m2 third: 0, m3 first
    plain = _programme(tmp_path, "[weights]\nranked = 3\n").problem().criteria["ranked"][1]
    assert np.allclose(plain[0], [0.5, 0.25, 1.0])  # the default: geometric, ratio 0.5


def test_a_bad_ranked_table_lists_every_problem_at_its_line(tmp_path: object) -> None:
    with pytest.raises(pairwise.ValidationError) as err:
        _programme(tmp_path, '[ranked]\ndecay = "cubic"\nratio = 2\nk = 0\nsid = "x"\n')
    text = [str(p) for p in err.value.problems]
    assert len(text) == 4, text
    for key, line in (("decay", 6), ("ratio", 7), ("k", 8), ("sid", 9)):
        assert any(f"{key} (line {line})" in t for t in text), (key, text)
    assert any("did you mean 'side'" in t for t in text)


@pytest.mark.parametrize(
    "option",
    [
        "ratio = nan",
        "ratio = inf",
        "ratio = -inf",
        "ratio = 0.0",
        "ratio = true",
        'ratio = "half"',
        "ratio = [0.5]",
        "k = 1.5",
        "k = -1",
        "k = true",
        "k = inf",
        'k = "3"',
        "decay = 3",
        'decay = ""',
        'decay = ["linear"]',
        "side = 1",
        'side = "mentees"',
        "side = {}",
    ],
)
def test_an_adversarial_ranked_option_is_a_validation_error_at_its_line(
    tmp_path: object, option: str
) -> None:
    # every TOML type where the option wants another, NaN and infinities: a typed error
    # naming the key and its line, never a TypeError (the programme file is the manager's,
    # not a participant's answer: its values may be quoted back)
    with pytest.raises(pairwise.ValidationError) as err:
        _programme(tmp_path, f"[ranked]\n{option}\n")
    key = option.split(" = ")[0]
    text = [str(p) for p in err.value.problems]
    assert any(f"{key} (line 6)" in t for t in text), text
