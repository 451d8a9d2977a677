"""Programme files: every recipe runs and keeps its rules; bad files list every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

import pairwise
from pairwise import Programme, ValidationError, check

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
        "bad options for Capacity",
        "needs a type",
        "time_limit has the wrong type",
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
