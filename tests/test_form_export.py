"""Reading real form exports: recoding, several questions per field, a constant role, an
explicit mapping that wins, folded labels, tolerant headers, resubmissions, blank rows,
spreadsheet row numbers; and no participant's answer in any message."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pairwise import Cohort, ValidationError
from pairwise.cohort import mapping_problems

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = "Ursula Morgan, chemo until May"
ROLE_VALUES = {"Mentee (I want support)": "mentee", "Mentor (I can help)": "mentor"}


def form(**extra: list[object]) -> pd.DataFrame:
    """A small Google-Forms-like export: question texts as headers."""
    data: dict[str, list[object]] = {
        "Timestamp": ["2026-03-01 10:00:00", "2026-03-01 11:00:00", "2026-03-02 09:30:00"],
        "Email address": ["a@x.org", "b@x.org", "c@x.org"],
        "I am joining as": [
            "Mentee (I want support)",
            "Mentor (I can help)",
            "Mentor (I can help)",
        ],
        "Topics I want help with": ["Fundraising, Media, press and comms", None, None],
        "Topics I can help with": [None, "fundraising", "Media, press and comms, Polling"],
    }
    data.update(extra)
    return pd.DataFrame(data, dtype=object)


COLUMNS = {
    "Email address": "id",
    "I am joining as": "role",
    "Topics I want help with": "needs",
    "Topics I can help with": "expertise",
}
TOPICS = {"Fundraising": "fundraising", "Media, press and comms": "media", "Polling": "polling"}


def read(df: pd.DataFrame, **kwargs: object) -> Cohort:
    options: dict[str, object] = {
        "columns": COLUMNS,
        "list_sep": ", ",
        "values": {"role": ROLE_VALUES, "needs": TOPICS, "expertise": TOPICS},
    }
    options.update(kwargs)
    return Cohort.from_frame(df, **options)  # type: ignore[arg-type]


def test_answers_are_recoded_and_an_answer_holding_the_separator_stays_whole() -> None:
    c = read(form())
    assert c.role.tolist() == ["mentee", "mentor", "mentor"]
    assert c.needs.row(0) == {"fundraising": 2, "media": 2}
    assert c.expertise.row(1) == {"fundraising": 2}  # "fundraising" is already a value
    assert c.expertise.row(2) == {"media": 2, "polling": 2}
    assert c.topics == ("fundraising", "media", "polling")


def test_every_unmapped_answer_is_listed_by_row_and_column_never_shown() -> None:
    df = form()
    df.loc[0, "I am joining as"] = f"Other: {SECRET}"
    df.loc[2, "Topics I can help with"] = f"Polling, {SECRET}, Gardening"
    with pytest.raises(ValidationError) as info:
        read(df)
    text = str(info.value) + repr(info.value.problems)
    assert SECRET not in text and "Ursula" not in text and "Gardening" not in text
    found = [(p.row, p.column, p.message) for p in info.value.problems]
    assert found == [
        ("row 2, id a@x.org", "I am joining as", "1 answer(s) not listed in values['role'] "
         "(answers hidden)"),
        ("row 4, id c@x.org", "Topics I can help with", "3 answer(s) not listed in "
         "values['expertise'] (answers hidden)"),
    ]  # fmt: skip
    assert not any(p.has_value for p in info.value.problems)


def test_wildcards_drop_other_answers_and_numbers_recode_capacities() -> None:
    df = form(**{"How many mentees can you take?": [None, "2-3", "1"]})
    df.loc[0, "Topics I want help with"] = f"Fundraising, Other: {SECRET}"
    values = {
        "role": ROLE_VALUES,
        "needs": {**TOPICS, "Other: *": ""},
        "expertise": TOPICS,
        "capacity": {"1": 1, "2-3": 3},
    }
    columns = {**COLUMNS, "How many mentees can you take?": "capacity"}
    c = read(df, values=values, columns=columns)
    assert c.needs.row(0) == {"fundraising": 2}
    assert c.capacity.tolist() == [1, 3, 1]


def test_several_questions_feed_one_field_per_role_or_first_non_empty() -> None:
    df = form(
        **{
            "Where are you in your journey?": ["Candidate", "ignored: a mentor", None],
            "Which stages have you been through?": [None, "Candidate, Elected", "Elected"],
        }
    )
    columns = {
        **COLUMNS,
        "Where are you in your journey?": {"field": "stage", "role": "mentee"},
        "Which stages have you been through?": "stage",
    }
    c = read(df, columns=columns)
    assert [c.stage.row(i) for i in range(3)] == [
        ["Candidate"],
        ["Candidate", "Elected"],
        ["Elected"],
    ]


def test_a_constant_role_needs_no_role_question() -> None:
    df = pd.DataFrame({"Email": ["a", "b", "c", "d"], "Slots": ["Tue", "tue ", "Wed", "TUE"]})
    c = Cohort.from_frame(
        df, columns={"Email": "id", "Slots": "slots"}, role="peer", fold_labels=True
    )
    assert c.role.tolist() == ["peer"] * 4
    assert c.slots.vocab == ("TUE", "Wed") or c.slots.vocab == ("Tue", "Wed")
    assert c.notes and c.notes[0].startswith("slots: ")
    with pytest.raises(ValidationError, match="unknown constant role"):
        Cohort.from_frame(df, columns={"Email": "id"}, role="buddy")
    with pytest.raises(ValidationError, match="a constant role and a column mapped to 'role'"):
        Cohort.from_frame(df, columns={"Email": "id", "Slots": "role"}, role="peer")


def test_an_explicit_mapping_wins_over_a_microsoft_forms_id_column() -> None:
    df = form(ID=[1, 2, 3])
    c = read(df)
    assert c.ids.tolist() == ["a@x.org", "b@x.org", "c@x.org"]
    assert c.extra["ID"].tolist() == [1, 2, 3]


def test_labels_folded_by_case_and_spaces_keep_the_most_written_spelling() -> None:
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "role": ["mentee", "mentee", "mentor", "mentor"],
            "languages": ["English;french", "english ;French", "English;French", "FRENCH"],
            "region": ["North  East", "north east", "North East", None],
            "needs": ["Fundraising:3", "fundraising:1", None, None],
            "expertise": [None, None, "fundraising:2;FUNDRAISING:3", "Fundraising"],
        }
    )
    c = Cohort.from_frame(df, fold_labels=True)
    assert c.languages.vocab == ("English", "French")
    assert c.region.tolist() == ["North East", "North East", "North East", None]
    assert c.topics == ("Fundraising",)
    assert c.expertise.row(2) == {"Fundraising": 3}  # two spellings in one cell: the higher level
    assert "languages: 'english' folded into 'English'" in c.notes
    assert any(n.startswith("region: ") and "'north east'" in n for n in c.notes)
    plain = Cohort.from_frame(df)  # off by default for the API
    assert plain.languages.vocab == ("English", "FRENCH", "French", "english", "french")
    assert "languages: 'french', 'FRENCH' folded into 'French'" in c.notes


def test_headers_match_despite_stray_spaces_and_case_with_a_did_you_mean() -> None:
    df = form().rename(
        columns={"Email address": "Email address ", "I am joining as": "i am JOINING as"}
    )
    assert read(df).ids.tolist() == ["a@x.org", "b@x.org", "c@x.org"]
    problems = mapping_problems(
        list(df.columns), columns={"Emial address": "id", "I am joining as": "role"}
    )
    assert [(p.column, p.message) for p in problems] == [
        ("Emial address", "mapped column not in the table (did you mean 'Email address '?)"),
    ]  # not also "missing required column 'id'": the mapping's problem says it


def test_resubmissions_keep_the_latest_per_id_and_say_which_rows_went() -> None:
    df = form()
    again = pd.DataFrame(
        {
            "Timestamp": ["2026-03-05 08:00:00", "2026-02-01 08:00:00"],
            "Email address": ["a@x.org", "b@x.org"],
            "I am joining as": ["Mentee (I want support)", "Mentor (I can help)"],
            "Topics I want help with": ["Polling", None],
            "Topics I can help with": [None, "Polling"],
        },
        dtype=object,
    )
    df = pd.concat([df, again], ignore_index=True)
    with pytest.raises(ValidationError, match=r"duplicate id \(rows 2 and 5\)"):
        read(df)
    c = read(df, keep_latest="Timestamp")
    assert c.ids.tolist() == ["b@x.org", "c@x.org", "a@x.org"]
    assert c.needs.row(2) == {"polling": 2}  # a's later answer
    assert c.expertise.row(0) == {"fundraising": 2}  # b's resubmission was the earlier one
    assert "resubmission: id a@x.org: kept row 5, dropped row(s) 2" in c.notes
    assert "resubmission: id b@x.org: kept row 3, dropped row(s) 6" in c.notes


def test_unreadable_timestamps_and_a_missing_timestamp_column_are_problems() -> None:
    df = form()
    df.loc[1, "Timestamp"] = SECRET
    with pytest.raises(ValidationError) as info:
        read(df, keep_latest="Timestamp")
    assert [(p.row, p.column) for p in info.value.problems] == [("row 3", "Timestamp")]
    assert SECRET not in str(info.value)
    with pytest.raises(ValidationError, match=r"timestamp column not in the table \(did you mean"):
        read(form(), keep_latest="Timestmp")


def test_blank_rows_are_skipped_and_row_numbers_are_the_spreadsheets() -> None:
    df = form()
    blank = pd.DataFrame([[None] * df.shape[1]] * 3, columns=df.columns, dtype=object)
    df = pd.concat([df.iloc[:1], blank.iloc[:1], df.iloc[1:], blank.iloc[1:]], ignore_index=True)
    c = read(df)
    assert len(c) == 3 and "blank rows skipped: 3, 6, 7" in c.notes
    df.loc[3, "I am joining as"] = "Mentee (I want support)"  # b, spreadsheet row 5
    df.loc[3, "Email address"] = None
    with pytest.raises(ValidationError) as info:
        read(df)
    assert [(p.row, p.column) for p in info.value.problems] == [("row 5", "id")]


_CELLS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-3, 5),
    st.floats(allow_nan=True),
    st.lists(st.text(max_size=5), max_size=3),
)


@SETTINGS
@given(
    st.lists(st.tuples(_CELLS, _CELLS, _CELLS, _CELLS), min_size=1, max_size=6),
    st.dictionaries(
        st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers(0, 4)), max_size=4
    ),
    st.booleans(),
)
def test_any_cells_and_values_tables_give_a_cohort_or_a_validation_error_never_an_answer(
    rows: list[tuple[object, ...]], table: dict[str, object], fold: bool
) -> None:
    marker = "<<SENTINEL-7f3a>>"
    data = [(f"p{i}", r[0], r[1], f"{marker}{r[2]}", r[3]) for i, r in enumerate(rows)]
    df = pd.DataFrame(data, columns=["Email", "Role", "Topics", "Why?", "Cap"], dtype=object)
    df.loc[0, "Topics"] = marker
    df.loc[len(df) - 1, "Role"] = f"{marker} Other"
    values = {"role": {**ROLE_VALUES, **table}, "needs": table, "capacity": table}
    try:
        Cohort.from_frame(
            df,
            columns={"Email": "id", "Role": "role", "Topics": "needs", "Cap": "capacity"},
            values=values,  # type: ignore[arg-type]
            fold_labels=fold,
        )
    except ValidationError as err:
        text = str(err) + repr(err.problems)
        assert "SENTINEL" not in text


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rol": {"a": "mentee"}}, "values for an unknown column (did you mean 'role'?)"),
        ({"id": {"a": "b"}}, "values for an unknown column"),
        ({"role": "mentee"}, "values of a column map answers to values"),
        ({"role": {"a": True}}, "values of a column map answers to values"),
        ({"role": {"a": ["mentee"]}}, "values of a column map answers to values"),
        ("role", "values must map a column to a table"),
    ],
)
def test_bad_values_tables_are_listed(values: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        read(form(), values=values)
    assert message in str(info.value)


# ---------------------------------------------------------------- the export shipped in docs/

import re  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pairwise  # noqa: E402
from pairwise import Programme  # noqa: E402
from pairwise.cli import main as cli  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXPORT = DOCS / "form-export"


def test_the_shipped_export_has_the_oddities_the_page_describes() -> None:
    raw = pd.read_csv(EXPORT / "responses.csv", dtype=str, keep_default_na=False)
    ids = raw["Email address"]
    assert ids[ids != ""].duplicated().sum() == 1  # a resubmission
    assert (raw == "").all(axis=1).tail(2).all()  # blank rows at the end
    needs = raw["Which topics would you like support with?"]
    assert needs.str.contains("Other: ").any() and needs.str.contains(", ").any()
    assert needs.str.contains("Media, press and comms").any()
    assert {"2-3", "4 or more"} <= set(raw["How many mentees could you take on?"])
    region = raw["Which region do you live in?"]
    assert {"North East", "north east", "North East "} <= set(region)


def test_the_page_commands_run_and_publish_ids_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(EXPORT, tmp_path / "form-export")
    monkeypatch.chdir(tmp_path)
    page = (DOCS / "form-export.md").read_text(encoding="utf-8")
    commands = [
        line
        for block in re.findall(r"```bash\n(.*?)```", page, re.DOTALL)
        for line in block.splitlines()
        if line.strip()
    ]
    assert [c.split()[:2] for c in commands] == [["pairwise", "match"], ["pairwise", "check"]]
    for command in commands:
        assert cli(shlex.split(command)[1:]) == 0, command
    assert "every hard rule holds" in capsys.readouterr().out
    book = pd.read_excel(tmp_path / "matching.xlsx", sheet_name=None)
    published = "\n".join(frame.to_csv() for frame in book.values())
    raw = pd.read_csv(EXPORT / "responses.csv", dtype=str)
    for private in ("Your full name", "Anything else we should know?"):
        for text in raw[private].dropna():
            assert text not in published


@pytest.mark.parametrize(
    "column",
    [c for c in pd.read_csv(EXPORT / "responses.csv", nrows=0).columns if c != "Email address"],
)  # ids may be shown: they are how messages name people
def test_a_sentinel_in_any_column_of_the_export_never_reaches_a_message(
    tmp_path: Path, column: str
) -> None:
    """Every cell of one column replaced by a sentinel (or one appended to it)."""
    shutil.copytree(EXPORT, tmp_path / "form-export")
    path = tmp_path / "form-export" / "responses.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    sentinel = "SENTINEL Zebedee Quartermaine"
    for k, cell in enumerate(raw[column]):
        if cell:
            raw.loc[k, column] = sentinel if k % 2 else f"{cell}, {sentinel}"
    raw.to_csv(path, index=False)
    programme = Programme.from_toml(tmp_path / "form-export" / "programme.toml")
    try:
        programme.run(write=False)
    except pairwise.PairwiseError as err:
        assert "Zebedee" not in str(err) and "SENTINEL" not in str(err)


def test_answers_a_column_reads_as_they_are_need_no_values_entry() -> None:
    df = form(**{"Meet": ["Online", "in person", "No preference"], "Cap": [None, "3", "2-3"]})
    columns = {**COLUMNS, "Meet": "mode", "Cap": "capacity"}
    values = {
        "role": ROLE_VALUES,
        "needs": TOPICS,
        "expertise": TOPICS,
        "mode": {"No preference": "either"},
        "capacity": {"2-3": 3},
    }
    c = read(df, columns=columns, values=values)
    assert c.mode.tolist() == ["online", "in-person", "either"]
    assert c.capacity.tolist() == [1, 3, 3]
    df.loc[1, "Meet"] = "carrier pigeon"
    with pytest.raises(ValidationError, match=r"not listed in values\['mode'\]") as info:
        read(df, columns=columns, values=values)
    assert len(info.value.problems) == 1  # not also "unknown mode"


_KEYS = {
    "Media, press and comms": "media",
    "Media": "media-only",
    "press": "press",
    "comms, and more": "more",
    "Fundraising": "fundraising",
}


@SETTINGS
@given(st.lists(st.sampled_from(sorted(_KEYS)), min_size=1, max_size=6))
def test_multi_select_answers_holding_the_separator_are_recoded_whole(answers: list[str]) -> None:
    df = pd.DataFrame(
        {"id": ["a", "b"], "role": ["mentee", "mentor"], "needs": [", ".join(answers), None]}
    )
    c = Cohort.from_frame(df, list_sep=", ", values={"needs": _KEYS})
    assert set(c.needs.row(0)) == {_KEYS[a] for a in answers}


_SPELLINGS = st.sampled_from(["English", "english", " ENGLISH", "Welsh", "welsh ", "Urdu"])


@SETTINGS
@given(st.lists(st.lists(_SPELLINGS, min_size=1, max_size=3), min_size=2, max_size=8))
def test_folding_leaves_one_label_per_spelling_and_is_stable(cells: list[list[str]]) -> None:
    n = len(cells)
    df = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "role": ["peer"] * n,
            "languages": [";".join(c) for c in cells],
        }
    )
    c = Cohort.from_frame(df, fold_labels=True)
    keys = {" ".join(x.split()).casefold() for cell in cells for x in cell}
    assert len(c.languages.vocab) == len(keys)
    for i, cell in enumerate(cells):
        assert {x.casefold() for x in c.languages.row(i)} == {x.strip().casefold() for x in cell}
    again = Cohort.from_frame(c.to_frame(), fold_labels=True)
    assert again == c and again.notes == ()


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 5)), min_size=1, max_size=10))
def test_keep_latest_keeps_each_ids_latest_row_and_notes_every_dropped_one(
    rows: list[tuple[str, int]],
) -> None:
    df = pd.DataFrame(
        {
            "id": [i for i, _ in rows],
            "role": ["peer"] * len(rows),
            "Timestamp": [f"2026-03-01 10:{m:02d}:00" for _, m in rows],
            "row": list(range(len(rows))),
        }
    )
    c = Cohort.from_frame(df, keep_latest="Timestamp")
    latest = {}
    for k, (i, m) in enumerate(rows):
        if i not in latest or m >= rows[latest[i]][1]:
            latest[i] = k
    assert sorted(c.extra["row"].tolist()) == sorted(latest.values())
    assert c.ids.tolist() == [rows[k][0] for k in sorted(latest.values())]
    dropped = sum(
        n.partition("dropped row(s) ")[2].count(",") + 1
        for n in c.notes
        if n.startswith("resubmission")
    )
    assert dropped == len(rows) - len(latest)
