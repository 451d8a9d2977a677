"""Rules on any column in programme files: the same problems as the Python API, and every
bad option, unknown column or wrong kind listed at its line when the file is read."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pairwise
from pairwise import Programme, ValidationError, rules
from pairwise.programme import RULES

SENTINEL = "Zebedee-Quartermaine-SENTINEL"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def export(folder: Path, n: int = 12, m: int = 4, *, peers: bool = False) -> pairwise.Cohort:
    """An export with two extra columns, ``Party`` (text) and ``Age`` (numbers)."""
    people = pairwise.make_peers(n, seed=3) if peers else pairwise.make_cohort(n, m, seed=3)
    frame = people.to_frame(flat=True)
    rng = np.random.default_rng(0)
    frame["Party"] = rng.choice(["green", "red", "blue"], len(frame))
    frame["Age"] = rng.integers(20, 70, len(frame))
    frame.to_csv(folder / "answers.csv", index=False)
    return pairwise.Cohort.from_frame(frame)


def write(folder: Path, rules_text: str, *, kind: str = "pairs", extra: str = "") -> Path:
    head = f'[programme]\nname = "t"\nkind = "{kind}"\n[input]\nfile = "answers.csv"\n'
    path = folder / "p.toml"
    path.write_text(head + extra + rules_text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ValidationError) as err:
        Programme.from_toml(path)
    return [str(p) for p in err.value.problems]


# --- the file builds what the Python API builds ------------------------------------------


def test_pair_column_rules_build_the_python_problem(tmp_path: Path) -> None:
    cohort = export(tmp_path)
    path = write(
        tmp_path,
        '[[rules]]\ntype = "Same"\ncolumn = "Party"\nweight = 0.2\n'
        '[[rules]]\ntype = "Range"\ncolumn = "Age"\nmax_spread = 20\n'
        '[[rules]]\ntype = "Different"\ncolumn = "chapter"\n',
    )
    programme = Programme.from_toml(path)
    want = [
        rules.Same("Party", weight=0.2),
        rules.Range("Age", 20),
        rules.Different("chapter"),
    ]
    assert programme.rules == want
    got = programme.problem()
    ref = pairwise.PairProblem.from_compatibility(pairwise.score(cohort), want)
    assert np.array_equal(got.allowed, ref.allowed)
    assert np.allclose(got.scores, ref.scores)
    result = programme.run(write=False)
    assert pairwise.check(got, result) == []
    ages = dict(zip(cohort.ids, cohort.extra["Age"], strict=True))
    chapters = dict(zip(cohort.ids, cohort.chapter, strict=True))
    for a, b in result.pairs[["mentee_id", "mentor_id"]].itertuples(index=False):
        assert abs(ages[a] - ages[b]) <= 20 and chapters[a] != chapters[b]


def test_a_pairs_programme_caps_each_mentors_mentees_per_value(tmp_path: Path) -> None:
    cohort = export(tmp_path)
    path = write(
        tmp_path,
        '[[rules]]\ntype = "Capacity"\noverride = 3\n'
        '[[rules]]\ntype = "AtMost"\ncolumn = "Party"\nk = 1\n'
        "[solve]\ntime_limit = 5\n",
    )
    programme = Programme.from_toml(path)
    assert programme.rules[-1] == rules.AtMost("Party", 1)
    result = programme.run(write=False)
    assert pairwise.check(result.problem, result) == []
    party = dict(zip(cohort.ids, cohort.extra["Party"], strict=True))
    seen = set()
    for a, b in result.pairs[["mentee_id", "mentor_id"]].itertuples(index=False):
        assert (b, party[a]) not in seen  # one mentee per party per mentor
        seen.add((b, party[a]))
    assert len(seen) == len(result.pairs) > 0


def test_circle_column_rules_and_diversify_take_the_circle_sizes(tmp_path: Path) -> None:
    cohort = export(tmp_path, 12, peers=True)
    path = write(
        tmp_path,
        "[circles]\nmin_size = 3\nmax_size = 4\n"
        '[[rules]]\ntype = "AtMost"\ncolumn = "Party"\nk = 2\n'
        '[[rules]]\ntype = "Diversify"\ncolumn = "Party"\n'
        '[[rules]]\ntype = "Range"\ncolumn = "Age"\nmax_spread = 10\nweight = 0.05\n'
        "[solve]\ntime_limit = 2\n",
        kind="circles",
    )
    programme = Programme.from_toml(path)
    got = programme.problem()
    ref = pairwise.CircleProblem.from_compatibility(
        pairwise.affinity(cohort),
        [
            rules.AtMost("Party", 2),
            rules.Diversify("Party", sizes=(3, 4)),
            rules.Range("Age", 10, 0.05),
        ],
        min_size=3,
        max_size=4,
    )
    assert [(c.name, c.at_least, c.at_most) for c in got.counts] == [
        (c.name, c.at_least, c.at_most) for c in ref.counts
    ]
    assert np.allclose(got.affinity, ref.affinity)
    circles = programme.run(write=False)
    assert pairwise.check(circles.problem, circles) == []
    party = cohort.extra["Party"].to_numpy()
    for g in range(circles.problem.n_circles):
        counts = np.unique(party[circles.members(g)], return_counts=True)[1]
        assert counts.max() <= 2


def test_new_objectives_and_the_ranked_weight_in_a_file(tmp_path: Path) -> None:
    export(tmp_path)
    for objective in ("covered-then-total", "stable", "stable-mentee", "stable-mentor"):
        path = write(
            tmp_path, f'[weights]\nranked = 2\n[solve]\nobjective = "{objective}"\ntime_limit = 5\n'
        )
        programme = Programme.from_toml(path)
        assert programme.weights == {"ranked": 2.0}
        result = programme.run(write=False)
        assert result.problem.objective == objective
        assert pairwise.check(result.problem, result) == []
        if objective.startswith("stable"):
            assert result.metrics()["blocking_pairs"] == 0
    path = write(tmp_path, "[weights]\nrankd = 2\n")
    assert any("did you mean 'ranked'" in p for p in problems_of(path))


# --- bad files: each problem at its line ------------------------------------------------

BAD = [
    (
        'type = "Same"\ncolumn = "Pary"',
        "option 'column' (line 8)",
        "no column 'Pary' in the export (did you mean 'Party'?)",
    ),
    (
        'type = "Different"\ncolumn = "needs"',
        "option 'column' (line 8)",
        "the export's 'needs' is read as the field 'needs'",
    ),
    (
        'type = "Range"\ncolumn = "region"\nmax_spread = 2',
        "option 'column' (line 8)",
        "'region' is not a column of numbers",
    ),
    (
        'type = "Range"\ncolumn = "Age"\nmax_spread = -1',
        "option 'max_spread' (line 9)",
        "bad max_spread",
    ),
    (
        'type = "Range"\ncolumn = "Age"\nmax_spread = "3"',
        "option 'max_spread' (line 9)",
        "must be a finite number",
    ),
    (
        'type = "Range"\ncolumn = "Age"\nmax_spread = nan',
        "option 'max_spread' (line 9)",
        "must be a finite number",
    ),
    ('type = "Range"\ncolumn = "Age"', "[[rules]] #1 (line 6)", "Range needs option 'max_spread'"),
    (
        'type = "Same"\ncolumn = "Party"\nweight = 0',
        "option 'weight' (line 9)",
        "bad weight; expected no weight (a hard rule), or a number > 0",
    ),
    ('type = "Same"\ncolumn = "Party"\nweight = -2.5', "option 'weight' (line 9)", "bad weight"),
    (
        'type = "Same"\ncolumn = "Party"\nweight = inf',
        "option 'weight' (line 9)",
        "must be a finite number",
    ),
    (
        'type = "Same"\ncolumn = "Party"\nweight = true',
        "option 'weight' (line 9)",
        "must be a finite number",
    ),
    (
        'type = "Same"\ncolumn = "Party"\nweight = "heavy"',
        "option 'weight' (line 9)",
        "must be a finite number",
    ),
    ('type = "Same"\ncolumn = 3', "option 'column' (line 8)", "must be a text"),
    ('type = "Same"\ncolumn = ""', "option 'column' (line 8)", "bad column"),
    (
        'type = "Same"\ncolumns = "Party"',
        "option 'columns' (line 8)",
        "has no option 'columns' (did you mean 'column'?)",
    ),
    (
        'type = "Diversify"\ncolumn = "Party"',
        "[[rules]] #1 (line 6)",
        "Diversify is a circles rule",
    ),
    ('type = "diversity_terms"', "[[rules]] #1 (line 6)", "unknown rule 'diversity_terms'"),
]


@pytest.mark.parametrize(("spec", "where", "message"), BAD, ids=[b[2][:30] for b in BAD])
def test_a_bad_pair_rule_is_named_at_its_line(
    tmp_path: Path, spec: str, where: str, message: str
) -> None:
    export(tmp_path)
    found = problems_of(write(tmp_path, f"[[rules]]\n{spec}\n"))
    assert len(found) == (2 if "columns" in spec else 1), found  # no column: a second
    assert where in found[0] and message in found[0], found


CIRCLE_BAD = [
    ('type = "AtMost"\ncolumn = "Party"\nk = 0', "option 'k' (line 11)", "bad k"),
    (
        'type = "AtMost"\ncolumn = "Party"\nk = 2\nweight = 1.0',
        "option 'weight' (line 12)",
        "hard only (leave weight out)",
    ),
    (
        'type = "Diversify"\ncolumn = "Party"\nsizes = [3, 2]',
        "option 'sizes' (line 11)",
        "bad sizes",
    ),
    ('type = "Diversify"\ncolumn = "Paty"', "option 'column' (line 10)", "did you mean 'Party'?"),
]


@pytest.mark.parametrize(("spec", "where", "message"), CIRCLE_BAD, ids=[b[2] for b in CIRCLE_BAD])
def test_a_bad_circle_rule_is_named_at_its_line(
    tmp_path: Path, spec: str, where: str, message: str
) -> None:
    export(tmp_path, 8, peers=True)
    path = write(
        tmp_path, f"[[rules]]\n{spec}\n", kind="circles", extra="[circles]\nmin_size = 3\n"
    )
    found = problems_of(path)
    assert len(found) == 1, found
    assert where in found[0] and message in found[0], found


def test_every_problem_of_several_rules_is_listed_at_once(tmp_path: Path) -> None:
    export(tmp_path)
    path = write(
        tmp_path,
        '[[rules]]\ntype = "Same"\ncolumn = "Pary"\n'
        '[[rules]]\ntype = "Range"\ncolumn = "Age"\nmax_spread = -1\nweight = 0\n',
    )
    found = problems_of(path)
    assert len(found) == 3
    assert "#1" in found[0] and "#2" in found[1] and "#2" in found[2]


def test_a_column_named_like_an_option_still_points_at_the_bad_option(tmp_path: Path) -> None:
    export(tmp_path)
    frame = pairwise.make_cohort(6, 2, seed=0).to_frame(flat=True)
    frame["weight"] = np.arange(len(frame))
    frame.to_csv(tmp_path / "answers.csv", index=False)
    path = write(tmp_path, '[[rules]]\ntype = "Range"\ncolumn = "weight"\nmax_spread = -1\n')
    [found] = problems_of(path)
    assert "option 'max_spread' (line 9)" in found


# --- confidentiality and arbitrary values -----------------------------------------------


def test_cells_are_never_shown_only_ids_and_column_names(tmp_path: Path) -> None:
    cohort = pairwise.make_cohort(6, 2, seed=0)
    frame = cohort.to_frame(flat=True)
    frame["Age"] = [30, f"{SENTINEL}", 40, 41, 42, 43, 44, "x" + SENTINEL]
    frame[f"Note {SENTINEL[:3]}"] = SENTINEL  # a column name is shown, its cells never
    frame.to_csv(tmp_path / "answers.csv", index=False)
    path = write(tmp_path, '[[rules]]\ntype = "Range"\ncolumn = "Age"\nmax_spread = 5\n')
    programme = Programme.from_toml(path)
    with pytest.raises(ValidationError) as err:
        programme.run(write=False)
    text = str(err.value)
    assert "mentee-0002" in text and "mentor-0002" in text and "Age" in text
    assert SENTINEL not in text and SENTINEL not in repr(err.value.problems)
    bad = write(tmp_path, '[[rules]]\ntype = "Same"\ncolumn = "Zebedee"\n')
    found = " ".join(problems_of(bad))
    assert SENTINEL not in found and "Note Zeb" in found


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(0, 5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@SETTINGS
@given(
    st.sampled_from(["Same", "Different", "Range", "AtMost", "Diversify"]),
    st.sampled_from(["pairs", "circles"]),
    st.dictionaries(
        st.sampled_from(["column", "weight", "max_spread", "k", "sizes", "colour"]),
        st.one_of(_values, st.sampled_from(["Party", "Age", "region", "needs"])),
        max_size=4,
    ),
)
def test_any_options_build_a_rule_or_list_validation_problems(
    tmp_path_factory: Any, name: str, kind: str, options: dict[str, Any]
) -> None:
    folder = tmp_path_factory.mktemp("p")
    export(folder, 6, 2)
    spec = {"type": name, **{k: v for k, v in options.items() if v is not None}}
    data = {"programme": {"kind": kind}, "input": {"file": "answers.csv"}, "rules": [spec]}
    try:
        programme = Programme.from_dict(data, base=folder / "p.toml")
    except ValidationError as err:
        assert err.problems and all("[[rules]] #1" in str(p) for p in err.problems)
        return
    [rule] = programme.rules
    assert isinstance(rule, RULES[name])
    assert rule.column in ("Party", "Age", *rules.STANDARD_COLUMNS)
    w = getattr(rule, "weight", None)
    assert w is None or (not isinstance(w, bool) and 0 < w < math.inf)
