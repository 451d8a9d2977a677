import copy
import dataclasses
import pickle

import pytest

import pairwise
from pairwise.errors import (
    MAX_LISTED,
    InfeasibleError,
    PairwiseError,
    Problem,
    SolverError,
    ValidationError,
)


def test_hierarchy():
    assert issubclass(ValidationError, PairwiseError)
    assert issubclass(ValidationError, ValueError)
    assert issubclass(InfeasibleError, PairwiseError)
    assert not issubclass(InfeasibleError, ValueError)
    assert issubclass(SolverError, PairwiseError)
    assert issubclass(SolverError, RuntimeError)
    assert issubclass(PairwiseError, Exception)
    assert pairwise.ValidationError is ValidationError
    assert pairwise.InfeasibleError is InfeasibleError
    assert pairwise.SolverError is SolverError
    assert pairwise.PairwiseError is PairwiseError


def test_validation_error_is_caught_as_value_error():
    with pytest.raises(ValueError, match="unknown role"):
        raise ValidationError([Problem("unknown role", row="m3", column="role")])


def test_problems_keep_order_and_wrap_strings():
    p = Problem("bad level", row="a1", column="needs", value=7, expected="1..3")
    err = ValidationError([p, "free-form problem"])
    assert err.problems[0] is p
    assert err.problems[1] == Problem("free-form problem")
    assert err.problems[1].row is None and err.problems[1].column is None
    assert not err.problems[1].has_value


@pytest.mark.parametrize("single", ["file is empty", Problem("file is empty")])
def test_a_single_problem_is_one_problem(single):
    err = ValidationError(single)
    assert err.problems == [Problem("file is empty")]
    assert str(err) == "1 problem found:\n  - file is empty"


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (Problem("empty cohort"), "empty cohort"),
        (Problem("empty id", row="row 3"), "[row 3] empty id"),
        (Problem("missing", column="role"), "[column 'role'] missing"),
        (
            Problem("unknown role", row="m3", column="role", value="mentr", expected="mentee"),
            "[m3, column 'role'] unknown role: got 'mentr'; expected mentee",
        ),
        (Problem("blank", value=None), "blank: got None"),
        (Problem("bad", value=0, expected=""), "bad: got 0"),
        (Problem("bad", expected="x"), "bad; expected x"),
    ],
)
def test_problem_rendering(problem, text):
    assert str(problem) == text


def test_value_none_is_a_recorded_value():
    assert Problem("x", value=None).has_value
    assert not Problem("x").has_value


def test_long_values_are_cut():
    secret = "my private motivation, written at length " * 5
    text = str(Problem("bad", column="capacity", value=secret))
    assert secret not in text
    assert text.endswith("...")
    assert len(text) < len("[column 'capacity'] bad: got ") + 41


def test_problem_is_frozen():
    p = Problem("x", row="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.row = "b"


@pytest.mark.parametrize("n", [0, 1, 2, MAX_LISTED, MAX_LISTED + 1, 3 * MAX_LISTED + 2])
def test_message_counts_lists_and_caps(n):
    problems = [Problem("odd" if i % 2 else "even", row=f"p{i}") for i in range(n)]
    text = str(ValidationError(problems))
    lines = text.splitlines()
    assert lines[0] == f"{n} problem{'' if n == 1 else 's'} found:"
    shown = min(n, MAX_LISTED)
    assert lines[1 : 1 + shown] == [f"  - [p{i}] {problems[i].message}" for i in range(shown)]
    if n <= MAX_LISTED:
        assert len(lines) == n + 1
    else:
        rest = [p.message for p in problems[MAX_LISTED:]]
        counts = [f"{m} x{rest.count(m)}" for m in ("even", "odd") if m in rest]
        assert len(lines) == MAX_LISTED + 2
        assert lines[-1] == f"  ... and {n - MAX_LISTED} more ({'; '.join(counts)})"
        assert f"p{MAX_LISTED}]" not in text


def roundtrip(err):
    return pickle.loads(pickle.dumps(err))


def test_validation_error_pickles():
    err = ValidationError(
        [
            Problem("unknown role", row="m3", column="role", value="mentr", expected="mentee"),
            Problem("empty cohort"),
            "plain text",
        ]
    )
    back = roundtrip(err)
    assert type(back) is ValidationError
    assert back.problems == err.problems
    assert str(back) == str(err)
    assert not back.problems[1].has_value
    assert str(copy.deepcopy(err)) == str(err)


def test_infeasible_error():
    err = InfeasibleError(["mentor x has capacity 1 but 2 required pairs", "m1 has no mentor"])
    assert err.conflicts == ["mentor x has capacity 1 but 2 required pairs", "m1 has no mentor"]
    text = str(err)
    assert "(2 conflict(s))" in text
    for c in err.conflicts:
        assert f"  - {c}" in text
    back = roundtrip(err)
    assert type(back) is InfeasibleError
    assert back.conflicts == err.conflicts
    assert str(back) == text


def test_infeasible_error_accepts_one_string_and_caps_listing():
    assert InfeasibleError("one conflict").conflicts == ["one conflict"]
    many = [f"conflict {i}" for i in range(MAX_LISTED + 5)]
    lines = str(InfeasibleError(many)).splitlines()
    assert lines[1:-1] == [f"  - conflict {i}" for i in range(MAX_LISTED)]
    assert lines[-1] == "  ... and 5 more"


def test_solver_error_pickles_and_is_runtime_error():
    err = SolverError("CP-SAT returned MODEL_INVALID")
    with pytest.raises(RuntimeError, match="MODEL_INVALID"):
        raise err
    back = roundtrip(err)
    assert type(back) is SolverError
    assert str(back) == str(err)


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda: pairwise.rules.MinScore("high"), "minimum score: score"),
        (lambda: pairwise.rules.MinScore(float("nan")), "minimum score: score"),  # was: rule off
        (lambda: pairwise.rules.MinScore(float("inf")), "minimum score: score"),
        (lambda: pairwise.rules.Require(pairs=5), "required pair: pairs must list"),
        (lambda: pairwise.rules.Require(pairs=[("a",), ("a", "b")]), "[pairs[0]] required pair"),
        (lambda: pairwise.rules.Forbid(pairs="ab"), "do-not-pair: pairs must list"),
        (lambda: pairwise.rules.Forbid(use_avoid="yes"), "do-not-pair: use_avoid"),
        (lambda: pairwise.rules.KeepTogether(groups=5), "keep together: groups must list"),
        (lambda: pairwise.rules.KeepTogether(groups=[[]]), "[groups[0]] keep together"),
        (
            lambda: pairwise.rules.MentorsPerMentee(2, min_level="x"),
            "mentors per mentee: min_level",
        ),
        (lambda: pairwise.rules.MentorsPerMentee(0), "mentors per mentee: k"),
    ],
)
def test_rule_options_of_the_wrong_type_are_validation_errors(make, said) -> None:
    # issue 14: MinScore("high") was a bare ValueError, Require(pairs=5) a TypeError,
    # MinScore(nan) silently turned the rule off, an empty keep-together group was accepted
    with pytest.raises(pairwise.ValidationError) as info:
        make()
    assert said in str(info.value)


def test_rule_options_given_as_generators_are_kept() -> None:
    rule = pairwise.rules.Require(pairs=(p for p in [("mentee-0001", "mentor-0001")]))
    assert rule.pairs == (("mentee-0001", "mentor-0001"),)
    problem = pairwise.PairProblem.from_compatibility(
        pairwise.score(pairwise.make_cohort(4, 2, seed=0)), [rule]
    )
    assert problem.required == ((0, 0),)
