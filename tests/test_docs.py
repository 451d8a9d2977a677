"""Every ``pycon`` example in the docs runs and prints what the page shows."""

import doctest
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"```pycon\n(.*?)```", re.DOTALL)
PAGES = sorted(p for p in DOCS.glob("**/*.md") if BLOCK.search(p.read_text(encoding="utf-8")))


def test_docs_have_examples():
    assert {p.name for p in PAGES} >= {"quickstart.md", "concepts.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page, monkeypatch):
    monkeypatch.chdir(page.parent)  # examples read files beside the page
    text = "\n".join(BLOCK.findall(page.read_text(encoding="utf-8")))
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_the_command_line_session_runs_as_written(tmp_path: Path, monkeypatch, capsys) -> None:
    """docs/cli.md's session (match, check, explain, two re-matches, history) as printed."""
    import shlex
    import shutil

    from pairwise.cli import main

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    session = text.split("A session from a spreadsheet", 1)[1].split("```bash", 1)[1]
    commands = [line.split("#")[0] for line in session.split("```", 1)[0].splitlines()]
    shown = text.split("For the session above:", 1)[1].split("```text", 1)[1].split("```")[0]
    shutil.copytree(DOCS, tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    for command in filter(str.strip, commands):
        args = shlex.split(command)
        assert args[0] == "pairwise"
        capsys.readouterr()
        assert main(args[1:]) == 0, command
    printed = capsys.readouterr().out  # the last command: history
    assert [line.rstrip() for line in printed.strip().splitlines()] == [
        line.rstrip() for line in shown.strip().splitlines()
    ]
