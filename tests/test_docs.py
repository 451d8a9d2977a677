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
