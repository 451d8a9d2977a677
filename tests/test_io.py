import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pairwise
from pairwise.cohort import Cohort
from pairwise.errors import ValidationError
from pairwise.io import read_cohort, read_table
from pairwise.synthetic import make_cohort, make_peers
from strategies import assert_listed, questionnaires

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

ROWS = [
    ["id", "role", "languages", "needs", "expertise", "capacity", "avoid"],
    ["m1", "mentee", "en;fr", "fundraising:3;media", "", "", "t2"],
    ["m2", "mentee", "es", "polling:1", "", "", ""],
    ["t1", "mentor", "en", "", "fundraising:2;polling:3", "2", ""],
    ["t2", "mentor", "fr;es", "", "media:1", "", "m2;m1"],
]


def expected_cohort():
    df = pd.DataFrame(ROWS[1:], columns=ROWS[0], dtype=object)
    return Cohort.from_frame(df)


def check_parsed(c):
    assert c.ids.tolist() == ["m1", "m2", "t1", "t2"]
    assert c.languages.row(0) == ["en", "fr"]
    assert c.languages.row(3) == ["es", "fr"]
    assert c.needs.row(0) == {"fundraising": 3, "media": 2}
    assert c.expertise.row(2) == {"fundraising": 2, "polling": 3}
    assert c.capacity.tolist() == [1, 1, 2, 1]
    assert c.avoid == (("t2",), (), (), ("m1", "m2"))
    assert c == expected_cohort()


def write_delimited(path, delimiter, rows=ROWS, encoding="utf-8"):
    def cell(x):
        return f'"{x}"' if delimiter in x else x

    text = "\n".join(delimiter.join(cell(x) for x in row) for row in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("delimiter", "suffix"),
    [(",", ".csv"), (";", ".csv"), ("\t", ".tsv"), ("\t", ".csv"), ("|", ".txt")],
    ids=["comma", "semicolon-quoted", "tab", "tab-in-csv", "pipe"],
)
def test_delimiters_are_sniffed(tmp_path, delimiter, suffix):
    path = write_delimited(tmp_path / f"export{suffix}", delimiter)
    check_parsed(read_cohort(path))
    if delimiter != ";":  # an explicit delimiter must differ from list_sep
        check_parsed(pairwise.read_cohort(str(path), delimiter=delimiter))


def test_comma_file_keeps_semicolon_lists_inside_unquoted_cells(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,role,languages,needs\na,mentee,en;fr;de,media:1;polling\nb,mentor,,\n")
    c = read_cohort(path)
    assert c.languages.row(0) == ["de", "en", "fr"]
    assert c.needs.row(0) == {"media": 1, "polling": 2}
    assert c.languages.row(1) == [] and c.needs.row(1) == {}


def test_other_list_separator(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id;role;languages\na;mentee;en|fr\nb;mentor;de\n")
    c = read_cohort(path, list_sep="|")
    assert c.languages.row(0) == ["en", "fr"]
    with pytest.raises(ValidationError, match="delimiter equals list_sep"):
        read_cohort(path, delimiter=";", list_sep=";")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "utf-16"])
def test_unicode_encodings_are_detected(tmp_path, encoding):
    rows = [*ROWS, ["t3", "mentor", "fr", "", "", "", ""]]
    rows[4] = [*rows[4][:6], ""]
    rows.append(["m9", "mentee", "ük;çé", "", "", "", ""])
    path = write_delimited(tmp_path / "bom.csv", ",", rows, encoding=encoding)
    c = read_cohort(path)
    assert list(c.ids) == ["m1", "m2", "t1", "t2", "t3", "m9"]  # BOM not glued to "id"
    assert c.languages.row(5) == ["çé", "ük"]


LATIN1 = "id,role,region\nm1,mentee,Zürich\nt1,mentor,north\nm2,mentee,Köln\n"


def test_undecodable_bytes_list_every_line_without_their_text(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(LATIN1.encode("latin-1"))
    with pytest.raises(ValidationError, match="undecodable") as info:
        pairwise.read_cohort(path)
    assert_listed(
        info.value,
        [("line 2", None, "undecodable bytes"), ("line 4", None, "undecodable bytes")],
    )
    text = str(info.value)
    for secret in ("Z", "rich", "ln", "\\xfc", "\\xf6"):
        assert secret not in text
    assert "encoding=" in text


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_explicit_encoding_reads_legacy_files(tmp_path, encoding):
    path = tmp_path / "latin.csv"
    path.write_bytes(LATIN1.encode(encoding))
    c = read_cohort(path, encoding=encoding)
    assert c.region.tolist() == ["Zürich", "north", "Köln"]


def test_wrong_explicit_encoding_is_a_validation_error(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(LATIN1.encode("latin-1"))
    with pytest.raises(ValidationError) as info:
        read_cohort(path, encoding="utf-8")
    assert [p.row for p in info.value.problems] == ["line 2", "line 4"]


def test_unknown_encoding(tmp_path):
    path = write_delimited(tmp_path / "x.csv", ",")
    with pytest.raises(ValidationError) as info:
        read_cohort(path, encoding="no-such-codec")
    assert_listed(info.value, [(None, None, "unknown encoding")])
    assert info.value.problems[0].value == "no-such-codec"


@pytest.mark.parametrize("name", ["missing.csv", "missing.xlsx", "."])
def test_missing_file(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(ValidationError, match="file not found") as info:
        read_cohort(path)
    assert_listed(info.value, [(None, None, "file not found")])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "cannot parse CSV"),
        ("quote.csv", b'id,role\n"a,mentor\n', "cannot parse CSV"),
        ("ragged.csv", b"id,role\na,mentor\nb,mentee,extra,fields\n", "cannot parse CSV"),
        ("header-only.csv", b"id,role\n", "empty cohort"),
        ("no-role.csv", b"id,name\na,Ann\n", "missing required column"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "cannot read spreadsheet"),
    ],
)
def test_unreadable_files_are_validation_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message) as info:
        read_cohort(path)
    assert len(info.value.problems) == 1


def test_row_problems_in_a_file_name_participants_by_id(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,role,needs,capacity,motivation\n"
        "m1,mentee,fundraising:5,,I was told I am too young to run\n"
        "t1,mentr,,x,Twenty years of council work\n"
    )
    with pytest.raises(ValidationError) as info:
        read_cohort(path)
    assert_listed(
        info.value,
        [
            ("m1", "needs", "bad level"),
            ("t1", "role", "unknown role"),
            ("t1", "capacity", "not a whole number"),
            (None, "role", "mentees but no mentors"),
        ],
    )
    assert "too young" not in str(info.value) and "council" not in str(info.value)


def test_user_headers_are_mapped(tmp_path):
    path = tmp_path / "form.csv"
    path.write_text(
        "Timestamp,Email,I am a,Which topics?,Languages\n"
        "2024-01-01,a@x.org,Mentee,fundraising:3,en\n"
        "2024-01-02,b@x.org,Mentor,,en;fr\n"
    )
    c = read_cohort(path, columns={"Email": "id", "I am a": "role", "Which topics?": "needs"})
    assert c.ids.tolist() == ["a@x.org", "b@x.org"]
    assert c.role.tolist() == ["mentee", "mentor"]
    assert c.needs.row(0) == {"fundraising": 3}
    assert c.languages.row(1) == ["en", "fr"]  # "Languages" matched case-insensitively
    assert c.extra["Timestamp"].tolist() == ["2024-01-01", "2024-01-02"]


def test_read_table_gives_raw_text_cells(tmp_path):
    path = write_delimited(tmp_path / "x.csv", ",")
    df = read_table(path)
    assert list(df.columns) == ROWS[0]
    assert df["capacity"].tolist()[2] == "2"
    assert df["id"].tolist() == ["m1", "m2", "t1", "t2"]
    assert pd.isna(df["expertise"].tolist()[0])


@pytest.mark.parametrize(
    "cohort",
    [make_cohort(40, 12, seed=3), make_peers(25, seed=2), expected_cohort()],
    ids=["mentoring", "peers", "small"],
)
def test_excel_round_trip(tmp_path, cohort):
    path = tmp_path / "cohort.xlsx"
    cohort.to_frame(flat=True).to_excel(path, index=False, sheet_name="answers")
    assert read_cohort(path) == cohort
    assert read_cohort(path, sheet="answers") == cohort
    with pytest.raises(ValidationError, match="cannot read spreadsheet"):
        read_cohort(path, sheet="no such sheet")


def test_excel_cells_keep_their_types_and_extra_columns(tmp_path):
    df = pd.DataFrame(ROWS[1:], columns=ROWS[0], dtype=object)
    df["capacity"] = [None, None, 2, 1]
    df["age"] = [34, None, 61, 47]
    df["id"] = [101, 102, "t1", "t2"]
    df["avoid"] = ["t2", None, None, "102;101"]
    path = tmp_path / "form.xlsx"
    df.to_excel(path, index=False)
    c = read_cohort(path)
    assert c.ids.tolist() == ["101", "102", "t1", "t2"]
    assert c.capacity.tolist() == [1, 1, 2, 1]
    assert c.avoid[3] == ("101", "102")
    assert c == Cohort.from_frame(df)
    assert pd.isna(c.extra["age"].tolist()[1])


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_round_trip_of_a_synthetic_cohort(tmp_path, sep):
    c = make_cohort(60, 20, seed=11, avoid_rate=0.3, previous_rate=0.3, prefer_rate=0.3)
    path = tmp_path / "cohort.csv"
    c.to_frame(flat=True).to_csv(path, sep=sep, index=False)
    assert read_cohort(path) == c


@SETTINGS
@given(questionnaires(max_size=6), st.sampled_from([",", ";", "\t"]))
def test_csv_round_trip(tmp_path, q, sep):
    c = Cohort.from_frame(q.frame, list_sep=q.list_sep)
    path = tmp_path / "cohort.csv"
    c.to_frame(flat=True, list_sep=q.list_sep).to_csv(path, sep=sep, index=False)
    assert read_cohort(path, list_sep=q.list_sep) == c


# --------------------------------------------------------------------------- export


def _matching_with_hostile_ids() -> pairwise.Matching:
    import numpy as np

    p = pairwise.PairProblem.from_scores(
        np.array([[0.9, 0.1], [0.2, 0.8], [0.5, np.nan]]),
        mentee_ids=["=cmd|' /C calc'!A0", "+ana", "@bea"],
        mentor_ids=["-x", "\tyas"],
    )
    return pairwise.solve(p)


def test_export_neutralises_formulas_in_every_format(tmp_path):
    import json

    m = _matching_with_hostile_ids()
    for name in ("out.xlsx", "out.csv", "out.json"):
        path = pairwise.write_result(m, tmp_path / name)
        assert path.exists()
    sheets = pd.read_excel(tmp_path / "out.xlsx", sheet_name=None, dtype=str)
    assert sorted(sheets) == ["events", "load", "metrics", "pairs", "unmatched"]
    cells = [str(x) for frame in sheets.values() for x in frame.to_numpy().ravel()]
    cells += [str(x) for x in pd.read_csv(tmp_path / "out.csv", dtype=str).to_numpy().ravel()]
    data = json.loads((tmp_path / "out.json").read_text())
    cells += [str(v) for rows in data.values() for row in rows for v in row.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not c[1:2].isdigit()]
    assert "'=cmd|' /C calc'!A0" in sheets["pairs"].mentee_id.tolist()
    assert data["pairs"][0]["score"] == pytest.approx(m.pairs.score.iloc[0])
    assert data["unmatched"][0]["reason"]


def test_failed_export_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    m = _matching_with_hostile_ids()
    target = tmp_path / "published.xlsx"
    target.write_bytes(b"the published version")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_excel", boom)
    with pytest.raises(OSError, match="disk full"):
        pairwise.write_result(m, target)
    assert target.read_bytes() == b"the published version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published.xlsx"]


def test_export_rejects_unknown_formats_and_missing_folders(tmp_path):
    m = _matching_with_hostile_ids()
    with pytest.raises(ValidationError, match="unknown output format"):
        pairwise.write_result(m, tmp_path / "out.parquet")
    with pytest.raises(ValidationError, match="folder does not exist"):
        pairwise.write_result(m, tmp_path / "nope" / "out.csv")


def test_circles_export(tmp_path):
    import numpy as np

    d = np.ones((6, 6))
    c = pairwise.solve(pairwise.CircleProblem.from_affinity(d, min_size=3, max_size=3))
    pairwise.write_result(c, tmp_path / "circles.xlsx")
    sheets = pd.read_excel(tmp_path / "circles.xlsx", sheet_name=None)
    assert sorted(sheets) == ["circles", "events", "members", "metrics", "unplaced"]
    assert len(sheets["members"]) == 6
    assert sheets["circles"].member_ids.str.count(";").tolist() == [2, 2]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("r.json", "{not json", "cannot read the result file"),
        ("r.json", "[1, 2]", "cannot read the result file"),
        ("r.json", "", "cannot read the result file"),
        ("r.json", '{"other": []}', "no 'pairs' table"),
        ("r.json", '{"pairs": [{"mentee": "a"}]}', "lacks a column"),
        ("r.xlsx", "not a zip", "cannot read the result file"),
        ("r.csv", "a,b\n", r"\.json or \.xlsx"),
    ],
)
def test_malformed_result_files_are_validation_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    p = pairwise.PairProblem.from_scores([[0.5]], mentee_ids=["a"], mentor_ids=["x"])
    with pytest.raises(ValidationError, match=message):
        pairwise.io.read_result(path, p)


def test_bad_circle_numbers_in_a_result_file_are_listed(tmp_path):
    import json

    import numpy as np

    p = pairwise.CircleProblem.from_affinity(np.ones((6, 6)), min_size=3, max_size=3)
    rows = [{"circle": g, "person_id": str(i)} for i, g in enumerate([0, 0, 0, 1, "x", 7])]
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"members": rows}))
    with pytest.raises(ValidationError) as err:
        pairwise.io.read_result(path, p)
    assert [q.row for q in err.value.problems] == ["4", "5"]


def test_exports_keep_permissions_and_refuse_folders_they_cannot_write(tmp_path) -> None:
    # issue 14: every export became 0600; a folder or a read-only folder was a bare OSError
    import os
    import stat

    import pairwise

    p = pairwise.PairProblem.from_scores([[0.9, 0.1], [0.2, 0.8]])
    result = pairwise.solve(p)
    new = pairwise.write_result(result, tmp_path / "new.json")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    new.chmod(0o640)
    again = pairwise.write_result(result, new)
    assert stat.S_IMODE(again.stat().st_mode) == 0o640  # the replaced file's
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(pairwise.ValidationError, match="the output is a folder"):
        pairwise.write_result(result, tmp_path / "folder.json")
    real_open = os.open

    def read_only(path, flags, *args):  # a folder the user may not write to (root may)
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", read_only)
        with pytest.raises(pairwise.ValidationError, match="cannot write in the folder"):
            pairwise.write_result(result, tmp_path / "r.json")
    assert [x.name for x in tmp_path.iterdir() if x.name.startswith(".")] == []  # no temp left


def test_duplicate_headers_control_characters_and_non_results_are_clear_errors(tmp_path) -> None:
    import json

    import numpy as np

    import pairwise

    # issue 14: a header naming a column twice was renamed 'region.1' silently
    (tmp_path / "dup.csv").write_text("id,role,region,region\nm1,mentee,north,south\n")
    with pytest.raises(pairwise.ValidationError, match="names a column 2 times") as info:
        pairwise.io.read_table(tmp_path / "dup.csv")
    assert "'region'" in str(info.value)
    pd.DataFrame([["m1", "mentee", "north", "south"]]).to_excel(
        tmp_path / "dup.xlsx", header=["id", "role", "region", "region "], index=False
    )
    with pytest.raises(pairwise.ValidationError, match="names a column 2 times"):
        pairwise.io.read_table(tmp_path / "dup.xlsx")
    # an id with a control character cannot go into a workbook: which cell, not the value
    p = pairwise.PairProblem.from_scores(
        np.ones((2, 2)), mentee_ids=["SECRET\x01x", "c"], mentor_ids=["x", "y"]
    )
    result = pairwise.solve(p)
    with pytest.raises(pairwise.ValidationError, match="control character") as info:
        pairwise.write_result(result, tmp_path / "c.xlsx")
    assert "SECRET" not in str(info.value) and "mentee_id" in str(info.value)
    assert not (tmp_path / "c.xlsx").exists()
    pairwise.write_result(result, tmp_path / "c.json")  # JSON holds it
    # an infinite objective is null in JSON (was a bare ValueError)
    huge = pairwise.PairProblem.from_scores(np.full((2, 2), 1e308), objective="total")
    with np.errstate(over="ignore"):
        data = json.loads(
            pairwise.write_result(pairwise.solve(huge), tmp_path / "i.json").read_text()
        )
    assert {"metric": "objective", "value": None} in data["metrics"]
    with pytest.raises(pairwise.ValidationError, match="not a result"):
        pairwise.write_result("hello", tmp_path / "x.json")  # type: ignore[arg-type]


def test_a_published_workbook_is_readable(tmp_path) -> None:
    import openpyxl

    import pairwise

    compat = pairwise.score(pairwise.make_cohort(20, 6, seed=3))
    result = pairwise.solve(pairwise.PairProblem.from_compatibility(compat))
    path = pairwise.write_result(result, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    pairs = book["pairs"]
    assert pairs.freeze_panes == "A2"
    header = [c.value for c in pairs[1]]
    score = pairs.cell(row=2, column=header.index("score") + 1)
    topics = pairs.cell(row=2, column=header.index("topics") + 1)
    assert score.number_format == "0.0%" and topics.number_format == "0.0%"
    assert 0 <= score.value <= 1  # the fraction, shown as a percentage
    width = pairs.column_dimensions[pairs.cell(row=1, column=1).column_letter].width
    assert width >= len("mentee-0001")
    assert book["unmatched"].freeze_panes == "A2"
    # read back the same
    again = pairwise.io.read_result(path, result.problem)
    assert again.objective == pytest.approx(result.objective)


def test_pseudonymous_exports_hide_every_id(tmp_path, monkeypatch, capsys) -> None:
    import json
    import re
    from pathlib import Path

    import pairwise
    from pairwise.cli import EXIT_OK, main

    monkeypatch.chdir(tmp_path)
    frame = pairwise.make_cohort(20, 6, seed=5).to_frame(flat=True)
    frame["id"] = [f"{x}@example.org" for x in frame.id]
    for column in ("avoid", "previous", "prefer"):
        frame[column] = frame[column].map(
            lambda v: (
                v if not isinstance(v, str) else re.sub(r"(ment\w+-\d+)", r"\1@example.org", v)
            )
        )
    frame.to_csv("answers.csv", index=False)
    Path("programme.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n[solve]\ntime_limit = 5\n'
    )
    assert main(["match", "programme.toml", "--out", "staff.json"]) == EXIT_OK
    first = json.loads(Path("staff.json").read_text())["pairs"][0]
    assert (
        main(
            [
                "rematch",
                "staff.json",
                "--broken",
                f"{first['mentee_id']},{first['mentor_id']}",
                "--out",
                "v2.json",
            ]
        )
        == EXIT_OK
    )
    problem = pairwise.Programme.from_toml("programme.toml").problem()
    v2 = pairwise.io.read_result("v2.json", problem)
    for name in ("shared.json", "shared.xlsx"):
        pairwise.write_result(v2, name, pseudonyms="programme secret")
    text = Path("shared.json").read_text()
    assert "@example.org" not in text  # ids, events, changes' reasons: all pseudonyms
    for sheet in pd.read_excel("shared.xlsx", sheet_name=None).values():
        assert "@example.org" not in sheet.to_string()
    alias = pairwise.io.pseudonym(first["mentee_id"], "programme secret")
    assert alias in text and re.fullmatch(r"p-[0-9a-f]{12}", alias)
    assert alias == pairwise.io.pseudonym(first["mentee_id"], "programme secret")  # stable
    assert alias != pairwise.io.pseudonym(first["mentee_id"], "another key")
    # the command line: a key file made once, the same pseudonyms every time
    capsys.readouterr()
    args = ["match", "programme.toml", "--out", "p1.json", "--pseudonyms", "key.txt"]
    assert main(args) == EXIT_OK
    assert "new pseudonym key" in capsys.readouterr().out
    assert (Path("key.txt").stat().st_mode & 0o077) == 0
    assert main([*args[:3], "p2.json", *args[4:]]) == EXIT_OK
    one, two = (json.loads(Path(f).read_text())["pairs"] for f in ("p1.json", "p2.json"))
    assert one == two and "@example.org" not in Path("p1.json").read_text()
    # and the terminal reports under the same pseudonyms (summary, reasons, warnings)
    capsys.readouterr()
    assert main(["match", "programme.toml", "--pseudonyms", "key.txt"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "@example.org" not in out
    printed = set(re.findall(r"p-[0-9a-f]{12}", out))
    assert printed and "pairs:" in out
    key = Path("key.txt").read_text().strip()
    assert {pairwise.io.pseudonym(x, key) for x in frame.id} >= printed


def test_read_cohort_takes_the_form_export_options(tmp_path) -> None:
    import pairwise

    (tmp_path / "form.csv").write_text(
        "Email,When,Mode\n"
        "a@x,2026-01-01 10:00,No preference\n"
        "a@x,2026-01-02 10:00,Online\n"
        "b@x,2026-01-01 11:00,online\n"
    )
    cohort = pairwise.read_cohort(
        tmp_path / "form.csv",
        columns={"Email": "id", "Mode": "mode"},
        values={"mode": {"No preference": "either"}},
        role="peer",
        keep_latest="When",
    )
    assert list(cohort.ids) == ["a@x", "b@x"] and set(cohort.role) == {"peer"}
    assert list(cohort.mode) == ["online", "online"]
    assert any("resubmission" in n or "dropped" in n for n in cohort.notes)


def _named_programme(tmp_path, monkeypatch, name: str, output: str = "") -> pd.DataFrame:
    """A programme folder whose export has a "Full name" column that [output] includes."""
    from pathlib import Path

    import pairwise

    monkeypatch.chdir(tmp_path)
    frame = pairwise.make_cohort(20, 6, seed=2).to_frame(flat=True)
    frame["Full name"] = [name.format(k) for k in range(len(frame))]
    frame.to_csv("answers.csv", index=False)
    Path("p.toml").write_text(
        '[programme]\nname = "t"\n[input]\nfile = "answers.csv"\n[solve]\ntime_limit = 5\n'
        f'[output]\n{output}include = ["Full name"]\n'
    )
    return frame


def test_output_include_carries_chosen_columns_into_the_file_only(
    tmp_path, monkeypatch, capsys
) -> None:
    from pathlib import Path

    from pairwise.cli import EXIT_BAD_INPUT, EXIT_OK, main

    frame = _named_programme(tmp_path, monkeypatch, "Name-{}-SECRET", 'file = "published.xlsx"\n')
    assert main(["match", "p.toml"]) == EXIT_OK  # [output] file
    assert main(["match", "p.toml", "--out", "r.json"]) == EXIT_OK
    out = capsys.readouterr()
    assert "SECRET" not in out.out + out.err  # beside the ids in the file, never printed
    pairs = pd.read_excel("published.xlsx", sheet_name="pairs")
    assert pairs.columns[:4].tolist() == [
        "mentee_id",
        "mentee_Full name",
        "mentor_id",
        "mentor_Full name",
    ]
    names = dict(zip(frame.id, frame["Full name"], strict=True))
    assert (pairs["mentee_Full name"] == pairs.mentee_id.map(names)).all()
    assert main(["check", "published.xlsx"]) == EXIT_OK  # still read back by id
    assert "mentee_Full name" in Path("r.json").read_text()
    Path("q.toml").write_text(Path("p.toml").read_text().replace('"Full name"', '"Full nme"'))
    capsys.readouterr()
    assert main(["match", "q.toml", "--out", "q.xlsx"]) == EXIT_BAD_INPUT
    out = capsys.readouterr()
    assert "did you mean 'Full name'" in out.err and not Path("q.xlsx").exists()
    assert "independent check" not in out.out  # refused before the solve


def test_a_participants_workbook_people_can_read(tmp_path, monkeypatch) -> None:

    import pairwise
    from pairwise.cli import EXIT_OK, main

    _named_programme(tmp_path, monkeypatch, "Name {}")
    args = ["match", "p.toml", "--out", "handout.xlsx", "--audience", "participants"]
    assert main(args) == EXIT_OK
    book = pd.read_excel("handout.xlsx", sheet_name=None)
    assert list(book) == ["pairs"]
    assert book["pairs"].columns.tolist() == [
        "Mentee",
        "Mentee Full name",
        "Mentor",
        "Mentor Full name",
    ]
    peers = pairwise.make_peers(24, seed=1)
    circles = pairwise.solve(
        pairwise.CircleProblem.from_compatibility(
            pairwise.affinity(peers), [pairwise.rules.SharedSlot()], min_size=4, max_size=6
        ),
        time_limit=2,
    )
    path = pairwise.write_result(circles, "circles.xlsx", audience="participants")
    sheet = pd.read_excel(path, sheet_name="circles")
    assert sheet.columns.tolist() == ["Circle", "Members", "Meeting slot"]


def test_an_empty_line_in_a_csv_keeps_the_row_numbers_true(tmp_path) -> None:
    import pairwise

    frame = pairwise.make_cohort(4, 2, seed=0).to_frame(flat=True)
    frame.loc[4, "id"] = ""  # the spreadsheet's row 6 (header = row 1): named by number
    lines = frame.to_csv(index=False).splitlines()
    lines.insert(2, "")  # an empty line after row 2
    (tmp_path / "a.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(pairwise.ValidationError) as info:
        pairwise.read_cohort(tmp_path / "a.csv")
    assert "row 7" in str(info.value)  # row 6 of the data, one line further down the file


def test_a_result_file_is_parsed_once_per_version(tmp_path) -> None:
    import json

    import pairwise
    from pairwise._tables import result_tables

    m = pairwise.solve(pairwise.PairProblem.from_scores([[0.9, 0.1], [0.2, 0.8]]))
    path = pairwise.write_result(m, tmp_path / "r.json")
    first = result_tables(path)
    first["pairs"].loc[0, "mentee_id"] = "changed by a caller"
    assert result_tables(path)["pairs"].mentee_id[0] == "0"  # each call has its own copy
    data = json.loads(path.read_text())
    data["pairs"][0]["mentee_id"] = "1"
    path.write_text(json.dumps(data))  # edited in place: parsed again
    assert result_tables(path)["pairs"].mentee_id[0] == "1"
    pairwise.write_result(m, path)  # replaced (a new inode): parsed again
    assert result_tables(path)["pairs"].mentee_id[0] == "0"
