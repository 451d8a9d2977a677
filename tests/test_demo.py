import re

import pairwise
from pairwise.demo import main


def test_demo_prints_each_shown_mentee_with_best_mentor_and_an_explanation(capsys):
    assert (
        main(["--mentees", "10", "--mentors", "4", "--seed", "3", "--show", "2", "--top", "2"]) == 0
    )
    out = capsys.readouterr().out
    compat = pairwise.score(pairwise.make_cohort(10, 4, seed=3))
    for mentee_id in compat.mentee_ids[:2]:
        assert mentee_id in out
        best = compat.top(mentee_id, 1).mentor_id.iloc[0]
        assert best in out
    assert compat.mentee_ids[2] not in out.split("why")[0]
    why = re.search(r"why (\S+) and (\S+):", out)
    assert why is not None
    assert why.group(1) == compat.mentee_ids[0]
    assert why.group(2) == compat.top(compat.mentee_ids[0], 1).mentor_id.iloc[0]
    for criterion in compat.weights:
        assert criterion in out
    assert "independent check: every hard rule holds" in out
    assert "matched_share" in out


def test_demo_forms_circles_that_keep_every_rule(capsys):
    assert main(["--circles", "--peers", "24", "--mentees", "16", "--mentors", "5"]) == 0
    out = capsys.readouterr().out
    assert out.count("independent check: every hard rule holds") == 2
    assert "shared slot" in out and "at most 2 per chapter" in out
    assert "mentor-led small groups" in out
    assert "Circles(" in out
