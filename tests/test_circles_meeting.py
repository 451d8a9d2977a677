"""Each circle's meeting slot and language are part of the solution (issue 12, part 3)."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import pairwise
from pairwise import CircleProblem, check
from pairwise.rules import MaxPerChapter, SharedLanguage, SharedSlot


def _solved(seed: int, rules: list[object]) -> tuple[CircleProblem, pairwise.Circles]:
    frame = pairwise.make_peers(36, seed=seed).to_frame()
    # everyone speaks one of two languages, some both: circles can always agree on one
    rng = np.random.default_rng(seed)
    frame["languages"] = [["en", "fr"][: int(k)] for k in rng.integers(1, 3, len(frame))]
    # and everyone can meet on Monday, most on a second or third evening too
    extra = ["Tue 18:00", "Wed 18:00", "Thu 12:00"]
    frame["slots"] = [
        [*rng.permutation(extra)[: int(k)].tolist(), "Mon 18:00"][:: int(rng.choice([-1, 1]))]
        for k in rng.integers(0, 3, len(frame))
    ]
    people = pairwise.Cohort.from_frame(frame)
    p = CircleProblem.from_compatibility(pairwise.affinity(people), rules)  # type: ignore[arg-type]
    return p, pairwise.solve(p, time_limit=2)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["slot", "language"]))
def test_every_published_slot_is_held_by_every_member(seed: int, field: str) -> None:
    rule = SharedSlot() if field == "slot" else SharedLanguage()
    p, c = _solved(seed, [rule, MaxPerChapter(3)])
    frame = c.circles
    assert {field, f"{field}_alternatives"} <= set(frame)
    tags = p.labels.slots if field == "slot" else p.labels.languages  # type: ignore[union-attr]
    for row in frame.itertuples():
        ms = c.members(row.circle)
        chosen = getattr(row, field)
        assert tags.matrix[ms, tags.vocab.index(chosen)].all()
        common = {tags.vocab[x] for x in np.flatnonzero(tags.matrix[ms].all(axis=0))}
        assert set(getattr(row, f"{field}_alternatives")) == common - {chosen}
    assert check(p, c) == []


def test_the_slot_most_members_list_first_wins() -> None:
    frame = pairwise.make_peers(8, seed=0).to_frame()
    frame["slots"] = [["Tue 18:00", "Mon 18:00"]] * 5 + [["Mon 18:00", "Tue 18:00"]] * 3
    people = pairwise.Cohort.from_frame(frame)
    p = CircleProblem.from_compatibility(
        pairwise.affinity(people), [SharedSlot()], min_size=8, max_size=8
    )
    c = pairwise.solve(p, time_limit=1)
    row = c.circles.iloc[0]
    assert (row.slot, row.slot_alternatives) == ("Tue 18:00", ("Mon 18:00",))
    e = c.explain(circle=0)
    assert e.meeting["slot"] == "Tue 18:00"
    assert "slot: Tue 18:00 (also possible: Mon 18:00)" in repr(e)


def test_check_catches_a_published_slot_a_member_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    p, c = _solved(1, [SharedSlot()])
    bad = c.circles.copy()
    slots = p.labels.slots  # type: ignore[union-attr]
    g = int(bad.circle[0])
    lacking = [s for s in slots.vocab if not slots.matrix[c.members(g), slots.vocab.index(s)].all()]
    bad.loc[0, "slot"] = lacking[0]
    monkeypatch.setattr(type(c), "circles", property(lambda self: bad))
    assert any("lack its published weekly slot" in v for v in check(p, c))


def test_workbook_and_json_carry_the_slot(tmp_path: object) -> None:
    from pathlib import Path

    _, c = _solved(2, [SharedSlot()])
    out = Path(str(tmp_path))
    pairwise.io.write_result(c, out / "c.json")
    data = json.loads((out / "c.json").read_text())
    assert [r["slot"] for r in data["circles"]] == c.circles.slot.tolist()
    pairwise.io.write_result(c, out / "c.xlsx")
    import pandas as pd

    sheet = pd.read_excel(out / "c.xlsx", sheet_name="circles")
    assert sheet.slot.tolist() == c.circles.slot.tolist()


def test_plot_counts_members_under_their_circle_slot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from pairwise import plot

    _, c = _solved(3, [SharedSlot()])
    ax = plot.circle_composition(c, by="slots")
    heights = {}
    for container, label in zip(ax.containers, ax.get_legend_handles_labels()[1], strict=False):
        heights[label] = [bar.get_height() for bar in container]
    sizes = c.circles.set_index("circle")
    for label, hs in heights.items():
        for g, h in enumerate(hs):
            expected = sizes.loc[g, "size"] if sizes.loc[g, "slot"] == label else 0
            assert h == expected
