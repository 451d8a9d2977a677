"""Programme files: every recipe runs and keeps its rules; bad files list every problem."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import tomllib
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pairwise
from pairwise import Programme, ValidationError, check
from pairwise.programme import Lines

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RECIPES = sorted((Path(__file__).parents[1] / "docs" / "recipes").glob("*.toml"))


def test_there_is_a_recipe_for_every_programme_kind_in_the_docs() -> None:
    names = {p.stem for p in RECIPES}
    assert names == {
        "cross-chapter-leadership",
        "new-member-same-chapter",
        "expert-panel",
        "remote-circles",
        "mentor-led-groups",
    }


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_runs_and_writes_a_valid_result(path: Path, tmp_path: Path) -> None:
    programme = Programme.from_toml(path)
    out = tmp_path / programme.output.name if programme.output else tmp_path / "out.xlsx"
    programme = programme.replace(output=out, solve={**programme.solve, "time_limit": 5})
    result = programme.run()
    assert check(programme.problem(), result) == []
    assert out.exists()
    again = pairwise.io.read_result(out, programme.problem())
    assert check(programme.problem(), again) == []
    assert again.objective == pytest.approx(result.objective)


def test_every_problem_in_a_file_is_listed(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        """
[programme]
name = 3
kind = "quads"
colour = "blue"
[input]
file = "nowhere.csv"
list_sep = 1
[weights]
topics = -1
region = "high"
[[rules]]
type = "Capacity"
overide = 2
[[rules]]
name = "no type"
[solve]
time_limit = "soon"
[output]
file = "out.pdf"
[circles]
min_size = 4
"""
    )
    with pytest.raises(ValidationError) as err:
        Programme.from_toml(tmp_path / "p.toml")
    text = str(err.value)
    for needle in (
        "name has the wrong type",
        "unknown kind",
        "unknown field in [programme]",
        "input file not found",
        "list_sep has the wrong type",
        "weight must be a number",
        "Capacity has no option 'overide' (did you mean 'override'?)",
        "needs a type",
        "bad time_limit",
        "bad output file",
        "[circles] needs kind = 'circles'",
    ):
        assert needle in text, needle


def test_unreadable_toml_is_a_validation_error(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text("[programme\nname=")
    with pytest.raises(ValidationError, match="not valid TOML"):
        Programme.from_toml(tmp_path / "p.toml")
    with pytest.raises(ValidationError, match="cannot read"):
        Programme.from_toml(tmp_path / "missing.toml")


# ---------------------------------------------------------------- every mistake at once, located


def _answers(folder: Path) -> None:
    frame = pairwise.make_cohort(20, 8, seed=0).to_frame(flat=True)
    frame.rename(columns={"id": "Email", "role": "Role"}).to_csv(
        folder / "answers.csv", index=False
    )


SEVEN_MISTAKES = """\
[programme]
name = "Leaders"

[input]
file = "answers.csv"
list_seperator = ";"

[input.columns]
"Email" = "id"
"Role" = "role"
"Main region" = "region"

[weights]
topics = 5
regoin = 1

[[rules]]
type = "SharedLanguage"

[[rules]]
type = "SameChapterr"

[[rules]]
type = "Capacity"
overide = 2

[solve]
objective = "matched-then-totl"
method = "simplex"
"""


def test_seven_mistakes_come_back_in_one_error_each_with_its_line(tmp_path: Path) -> None:
    _answers(tmp_path)
    (tmp_path / "p.toml").write_text(SEVEN_MISTAKES)
    with pytest.raises(ValidationError) as err:
        Programme.from_toml(tmp_path / "p.toml")
    lines = str(err.value).splitlines()
    assert lines[0] == "7 problems found:"
    expected = [
        "[input] list_seperator (line 6): unknown field in [input] (did you mean 'list_sep'?)",
        '[input.columns] "Main region" (line 11): mapped column not in the table',
        "[weights] regoin (line 15): unknown criterion (did you mean 'region'?)",
        "[[rules]] #2 (line 20): unknown rule 'SameChapterr' (did you mean 'SameChapter'?)",
        "[[rules]] #3 (line 23), option 'overide' (line 25): Capacity has no option 'overide' "
        "(did you mean 'override'?)",
        "[solve] objective (line 28): unknown objective for pairs (did you mean "
        "'matched-then-total'?)",
        "[solve] method (line 29): unknown method for pairs",
    ]
    for line, start in zip(lines[1:], expected, strict=True):
        assert line.startswith(f"  - {start}"), (line, start)
    assert "[0]" not in str(err.value) and "TypeError" not in str(err.value)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('type = "MinScore"\nscore = "high"', "[[rules]] #1 (line 7), option 'score' (line 9): "
         "bad MinScore score (must be a finite number): got 'high'"),
        ('type = "MinScore"', "[[rules]] #1 (line 7): MinScore needs option 'score'"),
        ('type = "MentorsPerMentee"\nk = true', "bad MentorsPerMentee k (must be a whole number "
         "or 'per-topic'): got True"),
        ('type = "Require"\npairs = 5', "bad Require pairs (must be a list): got 5"),
        ('type = "SharedLanguage"\nstrict = true', "SharedLanguage has no option 'strict'"),
        ('type = "SharedSlot"', "SharedSlot is a circles rule: a pairs programme cannot use it"),
        ('type = "MaxPerChapter"\nk = 2', "MaxPerChapter is a circles rule"),
        ('type = "KeepTogether"\ngroups = [["a", "b"]]', "KeepTogether is a circles rule"),
        ("type = 5", "unknown rule 5"),
        ('type = "MentorsPerMentee"\nk = "all"', "option 'k' (line 9): bad MentorsPerMentee k"),
        ('type = "MentorsPerMentee"\nk = 0', "option 'k' (line 9): MentorsPerMentee: "),
        ('type = "Require"\npairs = [["a"]]', "option 'pairs' (line 9): Require: "),
        ('type = "MinScore"\nscore = nan', "bad MinScore score (must be a finite number): got nan"),
        ('type = "MinScore"\nscore = inf', "bad MinScore score (must be a finite number): got inf"),
        ('type = "NoRepeat"\nearlier = ["gone.xlsx"]', "option 'earlier' (line 9): earlier "
         "result file not found: got 'gone.xlsx'"),
    ],
)  # fmt: skip
def test_rule_option_mistakes_are_said_in_toml_terms(
    tmp_path: Path, rule: str, message: str
) -> None:
    _answers(tmp_path)
    text = '[input]\nfile = "answers.csv"\n[input.columns]\n"Email" = "id"\n"Role" = "role"\n\n'
    (tmp_path / "p.toml").write_text(text + f"[[rules]]\n{rule}\n")
    with pytest.raises(ValidationError) as err:
        Programme.from_toml(tmp_path / "p.toml")
    assert message in str(err.value)
    assert len(err.value.problems) == 1
    assert "keyword argument" not in str(err.value) and "__init__" not in str(err.value)
    (tmp_path / "p.toml").write_text(
        text + '[[rules]]\ntype = "MentorsPerMentee"\nk = "per-topic"\n'
    )
    assert Programme.from_toml(tmp_path / "p.toml").rules[0].k == "per-topic"


def test_a_pairs_rule_in_a_circles_programme_is_named_as_such(tmp_path: Path) -> None:
    folder = Path(__file__).parents[1] / "docs" / "recipes"
    text = f'[programme]\nkind = "circles"\n[input]\nfile = "{folder / "peers.csv"}"\n'
    (tmp_path / "p.toml").write_text(text + '[[rules]]\ntype = "Capacity"\n')
    with pytest.raises(ValidationError, match=r"\[\[rules\]\] #1 \(line 5\): Capacity is a pairs"):
        Programme.from_toml(tmp_path / "p.toml")


def test_a_parsed_dict_without_its_text_is_checked_alike_without_lines(tmp_path: Path) -> None:
    _answers(tmp_path)
    data = {"input": {"file": "answers.csv", "columns": {"Email": "id", "Role": "rol"}}}
    with pytest.raises(ValidationError) as err:
        Programme.from_dict(data, base=tmp_path / "p.toml")
    text = str(err.value)
    assert "[input.columns] Role: column mapping names an unknown canonical column" in text
    assert "(did you mean 'role'?)" in text and "(line" not in text


_NAMES = st.from_regex(r"[a-z][a-z_]{0,6}", fullmatch=True)
_QUOTED = st.text(st.characters(codec="ascii", exclude_characters='"\\\n\r\x7f'), max_size=8)
#: Values, as TOML text, that spread over lines or hold what looks like a key or a header.
_VALUES = st.one_of(
    st.integers(-5, 5).map(str),
    _QUOTED.map(lambda t: f'"{t}"'),
    st.just('"a = 1 # [x]"'),
    st.just('"""\nb = 2\n[not.a.table]\n"""'),
    st.just("'''\n[[rules]]\n'''"),
    st.just('[\n  "c = 3",\n  [1, 2],  # d = 4\n]'),
    st.just('{ e = 1, "f g" = "h" }'),
)


@st.composite
def _programme_texts(draw: st.DrawFn) -> tuple[str, dict[tuple[object, ...], int]]:
    """A TOML text of tables, [[rules]] and keys, and the line of every key in it."""
    out: list[str] = []
    where: dict[tuple[object, ...], int] = {}
    n_rules = 0
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            path: tuple[object, ...] = ("rules", n_rules)
            n_rules += 1
            out.append("[[rules]]  # a rule")
        else:
            path = (draw(_NAMES), draw(st.sampled_from(["", "columns", "x y"])))
            path = tuple(p for p in path if p)
            shown = ".".join(p if " " not in p else f'"{p}"' for p in path)
            if path in where:
                continue
            out.append(f"[{shown}]")
        where[path] = len(out)
        keys = draw(st.lists(st.one_of(_NAMES, _QUOTED), max_size=4, unique=True))
        for key in keys:
            shown = key if key and key.replace("_", "a").isalnum() else f'"{key}"'
            where[(*path, key)] = len(out) + 1
            out.extend(f"{shown} = {draw(_VALUES)}".split("\n"))
    return "\n".join(out) + "\n", where


@SETTINGS
@given(_programme_texts())
def test_lines_finds_every_table_and_key_where_it_stands(
    case: tuple[str, dict[tuple[object, ...], int]],
) -> None:
    text, where = case
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assume(False)  # a key drawn twice in one table
    lines = Lines(text)
    for path, number in where.items():
        assert lines.line(*path) == number, (path, text)


_TOML_VALUES = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=6),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_FIELDS = [
    (table, key)
    for table, keys in sorted(pairwise.programme._TABLES.items())
    for key in sorted(keys)
] + [("weights", "topics"), ("weights", "colour")]


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(_FIELDS), _TOML_VALUES), max_size=4),
    st.lists(
        st.tuples(
            st.sampled_from(sorted(pairwise.programme.RULES)),
            st.dictionaries(
                st.sampled_from(["k", "score", "pairs", "override", "name", "x"]),
                _TOML_VALUES,
                max_size=2,
            ),
        ),
        max_size=3,
    ),
    st.sampled_from(["pairs", "circles"]),
)
def test_any_value_in_any_field_is_a_programme_or_a_validation_error(
    tmp_path_factory: pytest.TempPathFactory,
    fields: list[tuple[tuple[str, str], object]],
    rules: list[tuple[str, dict[str, object]]],
    kind: str,
) -> None:
    folder = tmp_path_factory.mktemp("p")
    _answers(folder)
    data: dict[str, object] = {
        "programme": {"kind": kind},
        "input": {"file": "answers.csv", "columns": {"Email": "id", "Role": "role"}},
        "rules": [{"type": name, **options} for name, options in rules],
    }
    for (table, key), value in fields:
        data.setdefault(table, {})
        target = data[table]
        if isinstance(target, dict):
            target[key] = value
    try:
        Programme.from_dict(data, base=folder / "p.toml")
    except ValidationError as err:
        assert err.problems
        assert "Traceback" not in str(err) and "keyword argument" not in str(err)


def _input_problems(tmp_path: Path, input_table: str, data: bytes | None = None) -> str:
    if data is None:
        _answers(tmp_path)
    else:
        (tmp_path / "answers.csv").write_bytes(data)
    text = f'[input]\nfile = "answers.csv"\n{input_table}\n'
    if "[input.columns]" not in input_table:
        text += '[input.columns]\n"Email" = "id"\n"Role" = "role"\n'
    (tmp_path / "p.toml").write_text(text)
    with pytest.raises(ValidationError) as err:
        Programme.from_toml(tmp_path / "p.toml")
    return str(err.value)


def test_an_encoding_error_names_the_toml_key_not_a_python_argument(tmp_path: Path) -> None:
    data = "Email,Role\nzoë@x.org,mentee\nann@x.org,mentor\n".encode("cp1252")
    text = _input_problems(tmp_path, "", data)
    assert "[input] file (line 2): [line 2] undecodable bytes" in text
    assert 'set [input] encoding = "cp1252"' in text and "encoding=" not in text
    assert "zo" not in text  # the bytes' neighbourhood is a participant's text
    ok = tmp_path / "p.toml"
    ok.write_text(ok.read_text().replace("[input.columns]", 'encoding = "cp1252"\n[input.columns]'))
    assert Programme.from_toml(ok).cohort().ids.tolist() == ["zoë@x.org", "ann@x.org"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('encoding = "klingon"', "[input] encoding (line 3): unknown encoding: got 'klingon'"),
        ("encoding = 5", "[input] encoding (line 3): [input] encoding has the wrong type"),
        ("delimiter = 5", "[input] delimiter (line 3): [input] delimiter has the wrong type"),
        ('delimiter = ";"', "[input] delimiter (line 3): bad delimiter"),
        ('role = "buddy"', "[input] role (line 3): unknown constant role"),
        ("fold_labels = 1", "[input] fold_labels (line 3): [input] fold_labels has the wrong type"),
        ('keep_latest = "Timestmp"', "[input] keep_latest (line 3): timestamp column not in the "
         "table"),
        ('[input.values]\nrol = { "a" = "mentee" }', '[input.values] rol (line 4): values for an '
         "unknown column (did you mean 'role'?)"),
        ('[input.values]\nrole = { "a" = true }', "[input.values] role (line 4): values of a "
         "column"),
        ('[input.columns]\n"Email " = "id"\n"Role" = { field = "role", role = "mentee" }',
         "[input.columns] Role (line 5): 'role' cannot be read per role"),
        ('[input.columns]\n"Email" = "id"\n"Role" = { field = "role", when = 1 }',
         "[input.columns] Role (line 5): bad column mapping"),
    ],
)  # fmt: skip
def test_input_mistakes_are_located(tmp_path: Path, table: str, message: str) -> None:
    assert message in _input_problems(tmp_path, table)


def test_a_wrong_sheet_lists_the_workbook_sheets(tmp_path: Path) -> None:
    frame = pairwise.make_cohort(6, 2, seed=0).to_frame(flat=True)
    with pd.ExcelWriter(tmp_path / "answers.xlsx") as book:
        frame.to_excel(book, sheet_name="Form responses 1", index=False)
        frame.head(0).to_excel(book, sheet_name="Notes", index=False)
    for sheet, hint in (('"Form responses"', " (did you mean 'Form responses 1'?)"), ("3", "")):
        (tmp_path / "p.toml").write_text(f'[input]\nfile = "answers.xlsx"\nsheet = {sheet}\n')
        with pytest.raises(ValidationError) as err:
            Programme.from_toml(tmp_path / "p.toml")
        assert f"[input] sheet (line 3): no such sheet{hint}" in str(err.value)
        assert "one of the workbook's sheets: 'Form responses 1', 'Notes'" in str(err.value)
    (tmp_path / "p.toml").write_text('[input]\nfile = "answers.xlsx"\nsheet = "Form responses 1"\n')
    assert len(Programme.from_toml(tmp_path / "p.toml").cohort()) == 8


def test_a_peer_circle_form_with_no_role_question_and_a_microsoft_forms_id(tmp_path: Path) -> None:
    peers = pd.read_csv(Path(__file__).parents[1] / "docs" / "recipes" / "peers.csv", dtype=str)
    form = peers.drop(columns=["role"]).rename(columns={"id": "Email", "slots": "Evenings "})
    form.insert(0, "ID", range(1, len(form) + 1))  # Microsoft Forms' response number
    with pd.ExcelWriter(tmp_path / "answers.xlsx") as book:
        form.to_excel(book, sheet_name="Sheet1", index=False)
    (tmp_path / "p.toml").write_text(
        '[programme]\nkind = "circles"\n[input]\nfile = "answers.xlsx"\nrole = "peer"\n'
        '[input.columns]\n"Email" = "id"\n"Evenings" = "slots"\n'
        '[[rules]]\ntype = "SharedSlot"\n[circles]\nmin_size = 4\nmax_size = 6\n'
        "[solve]\ntime_limit = 2\n"
    )
    programme = Programme.from_toml(tmp_path / "p.toml")
    cohort = programme.cohort()
    assert set(cohort.role) == {"peer"} and cohort.ids.tolist() == peers["id"].tolist()
    assert cohort.extra["ID"].tolist() == list(range(1, len(form) + 1))
    circles = programme.run(write=False)
    assert check(programme.problem(), circles) == []


def test_circles_fields_of_the_wrong_type_are_located(tmp_path: Path) -> None:
    peers = Path(__file__).parents[1] / "docs" / "recipes" / "peers.csv"
    (tmp_path / "p.toml").write_text(
        f'[programme]\nkind = "circles"\n[input]\nfile = "{peers}"\n'
        '[circles]\nmin_size = "4"\nbalanced = 1\nmentors = "two"\n'
    )
    with pytest.raises(ValidationError) as err:
        Programme.from_toml(tmp_path / "p.toml")
    text = str(err.value)
    assert "[circles] min_size (line 6): bad min_size (must be a whole number" in text
    assert "[circles] balanced (line 7): bad balanced (must be true or false): got 1" in text
    assert "[circles] mentors (line 8): unknown mentors: got 'two'" in text
