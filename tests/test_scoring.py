"""Tests of pairwise.scoring: criteria against slow references, invariants, Scorer, affinity."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pairwise
from pairwise import scoring
from pairwise.cohort import Cohort
from pairwise.errors import ValidationError
from pairwise.scoring import (
    DEFAULT_WEIGHTS,
    AvailabilityOverlap,
    Compatibility,
    Criterion,
    ModeCompatibility,
    RegionProximity,
    Scorer,
    SharedLanguage,
    StageExperience,
    StatedPreference,
    TopicCoverage,
    default_criteria,
)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(SETTINGS, max_examples=20)
# criteria return float32; references are exact rationals computed in float64
F32_TOL = 1e-6

# ---------------------------------------------------------------------------- strategies

REGIONS = ("r1", "r2", "r3")
CLUSTERS = ("c1", "c2")
LANGUAGES = ("en", "es", "fr")
TOPIC_NAMES = ("budget", "media", "polling", "speaking")
STAGE_NAMES = ("campaigning", "first-term", "new-member")
SLOT_NAMES = ("mon-evening", "sat-morning", "tue-lunch", "wed-evening")
# canonical modes, a missing cell (-> either) and aliases from_frame accepts
MODE_CELLS = ("online", "in-person", "either", None, "remote", "face-to-face", "hybrid")


@st.composite
def synthetic_cohorts(draw: st.DrawFn) -> Cohort:
    """``make_cohort`` with random sizes, seed and a preference rate high enough to matter."""
    return pairwise.make_cohort(
        draw(st.integers(1, 30)),
        draw(st.integers(1, 30)),
        seed=draw(st.integers(0, 2**32 - 1)),
        prefer_rate=draw(st.sampled_from([0.0, 0.3, 1.0])),
    )


@st.composite
def frame_tables(
    draw: st.DrawFn, *, roles: tuple[str, ...] = ("mentee", "mentor"), max_size: int = 12
) -> pd.DataFrame:
    """A small questionnaire table with missing regions/clusters, empty lists, every mode."""
    n = draw(st.integers(2, max_size))
    role = draw(st.lists(st.sampled_from(roles), min_size=n, max_size=n))
    if roles == ("mentee", "mentor"):
        if "mentor" not in role:
            role[-1] = "mentor"
        if "mentee" not in role:
            role[0] = "mentee"
    ids = [f"p{i:02d}" for i in range(n)]
    levels = st.dictionaries(st.sampled_from(TOPIC_NAMES), st.integers(1, 3), max_size=4)
    rows = []
    for i in range(n):
        others = ids[:i] + ids[i + 1 :]
        rows.append(
            {
                "id": ids[i],
                "role": role[i],
                "region": draw(st.none() | st.sampled_from(REGIONS)),
                "cluster": draw(st.none() | st.sampled_from(CLUSTERS)),
                "languages": draw(st.lists(st.sampled_from(LANGUAGES), unique=True)),
                "needs": draw(levels),
                "expertise": draw(levels),
                "stage": draw(st.lists(st.sampled_from(STAGE_NAMES), unique=True)),
                "mode": draw(st.sampled_from(MODE_CELLS)),
                "slots": draw(st.lists(st.sampled_from(SLOT_NAMES), unique=True)),
                "prefer": draw(st.lists(st.sampled_from(others), unique=True, max_size=2)),
            }
        )
    return pd.DataFrame(rows)


def frame_cohorts(**kwargs: object) -> st.SearchStrategy[Cohort]:
    return frame_tables(**kwargs).map(Cohort.from_frame)  # type: ignore[arg-type]


cohorts = st.one_of(synthetic_cohorts(), frame_cohorts())
peer_cohorts = st.one_of(
    st.builds(pairwise.make_peers, st.integers(2, 30), seed=st.integers(0, 2**32 - 1)),
    frame_cohorts(roles=("peer",)),
)


def table(rows: list[dict[str, object]]) -> Cohort:
    return Cohort.from_frame(pd.DataFrame(rows))


# ---------------------------------------------------------------------------- references
# Slow, per-pair transcriptions of the documented formulas, on the row accessors only.


def ref_topics(a: Cohort, b: Cohort, i: int, j: int) -> float:
    need, have = a.needs.row(i), b.expertise.row(j)
    total = sum(need.values())
    if total == 0:
        return 0.0
    return sum(min(level, have.get(topic, 0)) for topic, level in need.items()) / total


def ref_stage(a: Cohort, b: Cohort, i: int, j: int) -> float:
    mine = set(a.stage.row(i))
    if not mine:
        return 0.0
    return len(mine & set(b.stage.row(j))) / len(mine)


def ref_language(a: Cohort, b: Cohort, i: int, j: int) -> float:
    return 1.0 if set(a.languages.row(i)) & set(b.languages.row(j)) else 0.0


def ref_region(a: Cohort, b: Cohort, i: int, j: int, cluster_value: float = 0.5) -> float:
    if a.region[i] is not None and a.region[i] == b.region[j]:
        return 1.0
    if a.cluster[i] is not None and a.cluster[i] == b.cluster[j]:
        return cluster_value
    return 0.0


def ref_mode(a: Cohort, b: Cohort, i: int, j: int) -> float:
    online = a.mode[i] in ("online", "either") and b.mode[j] in ("online", "either")
    same_region = a.region[i] is not None and a.region[i] == b.region[j]
    in_person = (
        a.mode[i] in ("in-person", "either")
        and b.mode[j] in ("in-person", "either")
        and same_region
    )
    return 1.0 if online or in_person else 0.0


def ref_availability(a: Cohort, b: Cohort, i: int, j: int, target: int = 2) -> float:
    return min(len(set(a.slots.row(i)) & set(b.slots.row(j))) / target, 1.0)


def ref_preference(a: Cohort, b: Cohort, i: int, j: int) -> float:
    return 1.0 if str(b.ids[j]) in a.prefer[i] or str(a.ids[i]) in b.prefer[j] else 0.0


Reference = Callable[[Cohort, Cohort, int, int], float]
CASES: list[tuple[Criterion, Reference]] = [
    (TopicCoverage(), ref_topics),
    (StageExperience(), ref_stage),
    (SharedLanguage(), ref_language),
    (RegionProximity(), ref_region),
    (ModeCompatibility(), ref_mode),
    (AvailabilityOverlap(), ref_availability),
    (StatedPreference(), ref_preference),
]
CASE_IDS = [c.name for c, _ in CASES]


def reference(ref: Reference, a: Cohort, b: Cohort) -> np.ndarray:
    return np.array(
        [[ref(a, b, i, j) for j in range(len(b))] for i in range(len(a))], dtype=np.float64
    ).reshape(len(a), len(b))


def assert_matches(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    assert np.issubdtype(got.dtype, np.floating)
    np.testing.assert_allclose(got, want, rtol=0, atol=F32_TOL)


def test_cases_cover_every_builtin_criterion():
    assert sorted(CASE_IDS) == sorted(c.name for c in default_criteria())
    assert sorted(CASE_IDS) == sorted(DEFAULT_WEIGHTS)


# ---------------------------------------------------------------------------- 1. references


@pytest.mark.parametrize(("criterion", "ref"), CASES, ids=CASE_IDS)
@SETTINGS
@given(cohort=cohorts)
def test_builtin_criterion_matches_reference(criterion, ref, cohort):
    a, b = cohort.mentees, cohort.mentors
    assert_matches(criterion(a, b), reference(ref, a, b))


@SETTINGS
@given(cohort=cohorts, cluster_value=st.floats(0, 1))
def test_region_proximity_with_custom_cluster_value_matches_reference(cohort, cluster_value):
    a, b = cohort.mentees, cohort.mentors
    got = RegionProximity(cluster_value=cluster_value)(a, b)

    def ref(a, b, i, j):
        return ref_region(a, b, i, j, cluster_value)

    assert_matches(got, reference(ref, a, b))


@SETTINGS
@given(cohort=cohorts, target=st.integers(1, 4))
def test_availability_with_custom_target_matches_reference(cohort, target):
    a, b = cohort.mentees, cohort.mentors
    got = AvailabilityOverlap(target=target)(a, b)

    def ref(a, b, i, j):
        return ref_availability(a, b, i, j, target)

    assert_matches(got, reference(ref, a, b))


@pytest.mark.parametrize(
    ("criterion", "ref"), [(RegionProximity(), ref_region), (ModeCompatibility(), ref_mode)]
)
@SETTINGS
@given(cohort=cohorts)
def test_code_table_and_broadcasting_give_identical_values(criterion, ref, cohort):
    a, b = cohort.mentees, cohort.mentors
    table_values = criterion(a, b)
    with pytest.MonkeyPatch.context() as mp:
        # no table is small enough: every pair function runs on broadcast code arrays
        mp.setattr(scoring, "_MAX_TABLE_CODES", 0)
        broadcast_values = criterion(a, b)
    np.testing.assert_array_equal(table_values, broadcast_values)
    assert_matches(broadcast_values, reference(ref, a, b))


def test_many_distinct_regions_and_clusters_match_reference():
    # 70 regions x 70 clusters is more (region, cluster) codes than _MAX_TABLE_CODES allows,
    # so the real (unpatched) broadcasting branch runs
    rows = [
        {
            "id": f"x{i:03d}",
            "role": "mentee" if i % 2 else "mentor",
            "region": f"reg{i // 2}",
            # mentee 2k+1 shares a cluster with mentor 2k+6, in another region
            "cluster": f"clu{(i // 2 + 3 * (i % 2)) % 70}",
            "mode": ("online", "in-person", "either")[i % 3],
        }
        for i in range(140)
    ]
    cohort = table(rows)
    n_places = (len(set(cohort.region)) + 1) * (len(set(cohort.cluster)) + 1)
    assert n_places + 1 > scoring._MAX_TABLE_CODES
    a, b = cohort.mentees, cohort.mentors
    region = RegionProximity()(a, b)
    assert_matches(region, reference(ref_region, a, b))
    assert set(np.unique(region).tolist()) == {0.0, 0.5, 1.0}
    assert_matches(ModeCompatibility()(a, b), reference(ref_mode, a, b))


@pytest.mark.parametrize(("criterion", "ref"), CASES, ids=CASE_IDS)
@FEW
@given(base=cohorts, n=st.integers(64, 160), seed=st.integers(0, 2**32 - 1))
def test_distinct_row_dedupe_gives_identical_values(criterion, ref, base, n, seed):
    # >= 64 mentees drawn from at most 30 distinct ones: _by_distinct_rows deduplicates
    small = base.mentees
    picks = np.random.default_rng(seed).integers(0, len(small), size=n)
    many, mentors = small.take(picks), base.mentors
    assert len(small) <= n // 2
    deduped = criterion(many, mentors)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scoring, "_by_distinct_rows", lambda a, fn: fn(a))
        direct = criterion(many, mentors)
    np.testing.assert_array_equal(deduped, direct)
    if criterion.name != "preference":  # ids repeat in `many`, so preferences are ambiguous
        np.testing.assert_array_equal(deduped, criterion(small, mentors)[picks])
        assert_matches(deduped, reference(ref, many, mentors))


@FEW
@given(n_mentees=st.integers(64, 150), n_mentors=st.integers(1, 20), seed=st.integers(0, 99))
def test_builtins_match_reference_on_larger_synthetic_cohorts(n_mentees, n_mentors, seed):
    cohort = pairwise.make_cohort(n_mentees, n_mentors, seed=seed, prefer_rate=0.5)
    a, b = cohort.mentees, cohort.mentors
    for criterion, ref in CASES:
        assert_matches(criterion(a, b), reference(ref, a, b))


# ---------------------------------------------------------------------------- 2. invariants

weight_maps = st.dictionaries(
    st.sampled_from(list(DEFAULT_WEIGHTS)),
    st.floats(0, 10, allow_nan=False) | st.integers(0, 10),
    max_size=len(DEFAULT_WEIGHTS),
)


def expected_weights(given_weights: dict[str, float]) -> dict[str, float]:
    raw = {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in given_weights.items()}}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items() if v > 0}


@SETTINGS
@given(cohort=cohorts, weights=weight_maps, data=st.data())
def test_compatibility_invariants(cohort, weights, data):
    if not any(v > 0 for v in {**DEFAULT_WEIGHTS, **weights}.values()):
        with pytest.raises(ValidationError, match="all weights are 0"):
            Scorer(weights)
        return
    compat = Scorer(weights).score(cohort)
    a, b = cohort.mentees, cohort.mentors
    shape = (len(a), len(b))

    # weights: normalised, in canonical order, zero weights dropped
    want = expected_weights(weights)
    assert list(compat.weights) == list(want) == compat.criteria
    for name, w in want.items():
        assert compat.weights[name] == pytest.approx(w, rel=1e-12)
    assert sum(compat.weights.values()) == pytest.approx(1.0, abs=1e-12)
    assert running_sum(compat.weights.values()) <= 1.0  # so no cell can exceed 1

    # matrix and components
    assert compat.shape == shape
    assert compat.matrix.dtype == np.float64
    assert ((compat.matrix >= 0) & (compat.matrix <= 1)).all()
    assert set(compat.components) == set(want)
    combined = np.zeros(shape)
    for name, v in compat.components.items():
        assert v.shape == shape
        assert ((v >= 0) & (v <= 1)).all()
        combined += compat.weights[name] * v.astype(np.float64)
    np.testing.assert_allclose(compat.matrix, combined, rtol=0, atol=1e-12)
    assert list(compat.mentee_ids) == list(a.ids)
    assert list(compat.mentor_ids) == list(b.ids)

    # read-only
    for arr in (compat.matrix, compat.mentee_ids, compat.mentor_ids, *compat.components.values()):
        assert not arr.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        compat.matrix[0, 0] = 2.0

    # explain: one row per criterion, contributions sum to the cell
    i = data.draw(st.integers(0, shape[0] - 1), label="i")
    j = data.draw(st.integers(0, shape[1] - 1), label="j")
    e = compat.explain(a.ids[i], b.ids[j])
    assert list(e.columns) == ["criterion", "value", "weight", "contribution"]
    assert e.criterion.tolist() == list(want)
    assert e.value.tolist() == [float(compat.components[c][i, j]) for c in want]
    assert e.weight.tolist() == [compat.weights[c] for c in want]
    np.testing.assert_allclose(e.contribution, e.weight * e.value, rtol=1e-15, atol=0)
    assert e.contribution.sum() == pytest.approx(compat.matrix[i, j], abs=1e-12)
    assert compat.score(a.ids[i], b.ids[j]) == compat.matrix[i, j]

    # top(k)
    k = data.draw(st.integers(0, shape[1] + 2), label="k")
    top = compat.top(a.ids[i], k)
    row = compat.matrix[i]
    assert len(top) == min(k, shape[1])
    assert top["rank"].tolist() == list(range(1, len(top) + 1))
    scores = top.score.to_numpy()
    assert (np.diff(scores) <= 0).all()
    pos = [list(b.ids).index(m) for m in top.mentor_id]
    assert len(set(pos)) == len(pos)
    assert scores.tolist() == row[pos].tolist()
    for r in range(len(pos) - 1):
        if scores[r] == scores[r + 1]:
            assert pos[r] < pos[r + 1]  # ties broken by mentor order
    if len(top):
        assert scores[0] == row.max()
        rest = np.setdiff1d(np.arange(shape[1]), pos)
        # every mentor left out is worse, or tied but later in mentor order
        assert all(row[m] < scores[-1] or (row[m] == scores[-1] and m > pos[-1]) for m in rest)
        contributions = top[list(want)].sum(axis=1).to_numpy()
        np.testing.assert_allclose(contributions, scores, rtol=0, atol=1e-12)

    # to_frame: long format, row-major
    frame = compat.to_frame()
    assert list(frame.columns) == ["mentee_id", "mentor_id", "score", *want]
    assert len(frame) == shape[0] * shape[1]
    np.testing.assert_array_equal(frame.score.to_numpy(), compat.matrix.ravel())
    assert frame.mentee_id.tolist() == [x for x in a.ids for _ in range(shape[1])]
    assert frame.mentor_id.tolist() == list(b.ids) * shape[0]
    for name in want:
        np.testing.assert_array_equal(frame[name].to_numpy(), compat.components[name].ravel())

    # determinism
    again = Scorer(weights).score(cohort)
    np.testing.assert_array_equal(again.matrix, compat.matrix)
    for name in want:
        np.testing.assert_array_equal(again.components[name], compat.components[name])


def running_sum(values) -> float:
    total = 0.0
    for v in values:  # in order, one rounding per step, like Scorer's accumulation
        total += v
    return total


def test_score_stays_at_most_one_when_normalised_weights_round_up():
    raw = {"a": 1.1, "b": 4, "c": 9, "d": 1.5}
    total = sum(raw.values())
    assert running_sum(w / total for w in raw.values()) > 1.0  # naive normalisation rounds up
    weights = {**{k: 0 for k in DEFAULT_WEIGHTS}, **raw}
    compat = pairwise.score(
        pairwise.make_cohort(3, 2), weights, criteria=[Constant(k, 1.0) for k in raw]
    )
    assert compat.matrix.max() <= 1.0
    assert compat.matrix.min() == pytest.approx(1.0, abs=1e-15)
    e = compat.explain(compat.mentee_ids[0], compat.mentor_ids[0])
    assert e.contribution.sum() == compat.matrix[0, 0]


@FEW
@given(cohort=cohorts)
def test_explain_sums_exactly_with_default_weights(cohort):
    compat = pairwise.score(cohort)
    for i in range(min(len(compat.mentee_ids), 3)):
        for j in range(min(len(compat.mentor_ids), 3)):
            e = compat.explain(compat.mentee_ids[i], compat.mentor_ids[j])
            assert e.contribution.sum() == compat.matrix[i, j]


def test_top_breaks_ties_by_mentor_order_not_by_id():
    same = {"role": "mentor", "region": "r1", "languages": "en", "expertise": "budget:2"}
    cohort = table(
        [
            {"id": "m", "role": "mentee", "region": "r1", "languages": "en", "needs": "budget:2"},
            {"id": "zed", **same},
            {"id": "amy", **same},
            {"id": "kim", **same},
            {"id": "bob", "role": "mentor", "region": "r9"},  # strictly worse
        ]
    )
    compat = pairwise.score(cohort)
    row = compat.matrix[0]
    assert row[0] == row[1] == row[2] > row[3]
    assert compat.top("m", 3).mentor_id.tolist() == ["zed", "amy", "kim"]
    assert compat.top("m", 2).mentor_id.tolist() == ["zed", "amy"]
    assert compat.top("m", 10).mentor_id.tolist() == ["zed", "amy", "kim", "bob"]
    assert compat.top("m", 0).empty


def test_repr_and_shape():
    compat = pairwise.score(pairwise.make_cohort(5, 3, seed=1))
    assert compat.shape == (5, 3)
    assert "5 x 3" in repr(compat)
    assert isinstance(compat, Compatibility)


# ---------------------------------------------------------------------------- 3. Scorer


def test_weights_override_defaults():
    scorer = Scorer({"topics": 6, "region": 3.5})
    raw = {**DEFAULT_WEIGHTS, "topics": 6.0, "region": 3.5}
    total = sum(raw.values())
    assert scorer.weights == pytest.approx({k: v / total for k, v in raw.items()}, rel=1e-12)
    assert list(scorer.weights) == list(DEFAULT_WEIGHTS)


def test_zero_weight_removes_the_criterion():
    cohort = pairwise.make_cohort(8, 4, seed=5, prefer_rate=1.0)
    compat = pairwise.score(cohort, {"preference": 0, "mode": 0})
    assert "preference" not in compat.weights and "mode" not in compat.weights
    assert set(compat.components) == set(DEFAULT_WEIGHTS) - {"preference", "mode"}
    e = compat.explain(compat.mentee_ids[0], compat.mentor_ids[0])
    assert set(e.criterion) == set(DEFAULT_WEIGHTS) - {"preference", "mode"}
    # only one criterion left: the score is exactly its value
    only = pairwise.score(cohort, {k: 0 for k in DEFAULT_WEIGHTS if k != "language"})
    assert only.weights == {"language": 1.0}
    np.testing.assert_array_equal(
        only.matrix, SharedLanguage()(cohort.mentees, cohort.mentors).astype(np.float64)
    )


def test_every_bad_weight_is_listed_at_once():
    weights = {
        "bogus": 1.0,
        "topics": -1.0,
        "stage": float("nan"),
        "language": True,
        "region": "2",
        "mode": float("inf"),
        "availability": np.bool_(True),
        "preference": 1,  # fine
    }
    with pytest.raises(ValidationError) as info:
        Scorer(weights)
    problems = info.value.problems
    assert len(problems) == 7
    assert any("unknown criterion" in p.message and p.value == "bogus" for p in problems)
    for name in ("topics", "stage", "language", "region", "mode", "availability"):
        assert any(name in p.message for p in problems), name
    text = str(info.value)
    assert text.startswith("7 problems found")
    assert "'bogus'" in text and "'topics'" in text and "'availability'" in text


@pytest.mark.parametrize(
    "weights",
    [
        {k: 0 for k in DEFAULT_WEIGHTS},
        {k: 0.0 for k in DEFAULT_WEIGHTS},
    ],
)
def test_all_zero_weights_rejected(weights):
    with pytest.raises(ValidationError, match="all weights are 0"):
        Scorer(weights)
    with pytest.raises(ValueError, match="all weights are 0"):  # ValidationError is a ValueError
        pairwise.score(pairwise.make_cohort(3, 2), weights)


def test_bad_weight_on_a_custom_criterion_is_reported():
    with pytest.raises(ValidationError, match="'age'"):
        Scorer({"age": -2}, criteria=[SameAgeBand()])


class SameAgeBand:
    name = "age"

    def __call__(self, mentees, mentors):
        a = mentees.extra["age_band"].to_numpy()
        b = mentors.extra["age_band"].to_numpy()
        return (a[:, None] == b[None, :]).astype(np.float32)


def cohort_with_age_band() -> Cohort:
    return Cohort.from_frame(
        pd.DataFrame(
            {
                "id": ["e1", "e2", "e3", "o1", "o2"],
                "role": ["mentee", "mentee", "mentee", "mentor", "mentor"],
                "languages": ["en", "fr", "en", "en", "fr"],
                "age_band": ["18-25", "26-40", "41+", "26-40", "18-25"],
            }
        )
    )


def test_custom_criterion_on_an_extra_column_is_used_and_explained():
    cohort = cohort_with_age_band()
    assert isinstance(SameAgeBand(), Criterion)
    compat = pairwise.score(cohort, {"age": 3}, criteria=[SameAgeBand()])
    total = sum(DEFAULT_WEIGHTS.values()) + 3
    assert list(compat.weights)[-1] == "age"
    assert compat.weights["age"] == pytest.approx(3 / total, rel=1e-12)
    expected = np.array([[0, 1], [1, 0], [0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(compat.components["age"], expected)
    e = compat.explain("e1", "o2").set_index("criterion")
    assert e.loc["age", "value"] == 1.0
    assert e.loc["age", "contribution"] == pytest.approx(3 / total, rel=1e-12)
    assert e.contribution.sum() == pytest.approx(compat.score("e1", "o2"), abs=1e-12)
    assert "age" in compat.top("e1", 2).columns
    # default weight of a custom criterion is 1.0
    default = pairwise.score(cohort, criteria=[SameAgeBand()])
    assert default.weights["age"] == pytest.approx(1 / (total - 2), rel=1e-12)
    # the custom criterion changes the scores exactly by its weighted values
    without = Scorer().score(cohort)
    scale = sum(DEFAULT_WEIGHTS.values()) / total
    np.testing.assert_allclose(
        compat.matrix,
        without.matrix * scale + 3 / total * expected.astype(float),
        rtol=0,
        atol=1e-12,
    )


class Constant:
    def __init__(self, name, value, shape=None):
        self.name, self.value, self.shape = name, value, shape

    def __call__(self, mentees, mentors):
        shape = self.shape or (len(mentees), len(mentors))
        return np.full(shape, self.value)


class PlantedBad:
    """Fine everywhere except one cell."""

    def __init__(self, name, value, cell=(1, 0)):
        self.name, self.value, self.cell = name, value, cell

    def __call__(self, mentees, mentors):
        out = np.full((len(mentees), len(mentors)), 0.5)
        out[self.cell] = self.value
        return out


@pytest.mark.parametrize("bad", [1.5, -0.2, float("nan"), float("inf"), -float("inf")])
def test_custom_criterion_with_a_value_outside_unit_interval_is_named(bad):
    cohort = cohort_with_age_band()
    with pytest.raises(ValidationError, match="'odd'") as info:
        pairwise.score(cohort, criteria=[PlantedBad("odd", bad)])
    (problem,) = info.value.problems
    assert "outside [0, 1]" in problem.message
    assert problem.row == "e2" and problem.column == "o1"  # cell (1, 0) by id
    want = float(np.float32(bad))  # reported as scored, in float32
    assert problem.value == want or (math.isnan(problem.value) and math.isnan(want))


def test_custom_criterion_with_wrong_shape_is_named():
    cohort = cohort_with_age_band()
    with pytest.raises(ValidationError, match="'flat'") as info:
        pairwise.score(cohort, criteria=[Constant("flat", 0.5, shape=(2, 3))])
    (problem,) = info.value.problems
    assert "(2, 3)" in problem.message and problem.expected == "(3, 2)"


def test_every_misbehaving_criterion_is_listed():
    cohort = cohort_with_age_band()
    criteria = [
        Constant("wide", 0.5, shape=(3, 5)),
        PlantedBad("high", 7.0),
        PlantedBad("nan", float("nan"), cell=(2, 1)),
        Constant("fine", 0.25),
    ]
    with pytest.raises(ValidationError) as info:
        pairwise.score(cohort, criteria=criteria)
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 3
    for name in ("wide", "high", "nan"):
        assert any(f"'{name}'" in m for m in messages), name
    assert not any("'fine'" in m for m in messages)


def test_custom_values_within_tolerance_are_clipped_into_unit_interval():
    cohort = cohort_with_age_band()
    compat = pairwise.score(
        cohort,
        {k: 0 for k in DEFAULT_WEIGHTS},
        criteria=[Constant("up", 1 + 1e-7), Constant("down", -1e-7)],
    )
    assert compat.components["up"].max() == 1.0
    assert compat.components["down"].min() == 0.0
    assert ((compat.matrix >= 0) & (compat.matrix <= 1)).all()


def test_custom_criterion_replaces_a_builtin_by_name():
    cohort = pairwise.make_cohort(6, 3, seed=2)
    compat = pairwise.score(cohort, criteria=[Constant("topics", 0.25)])
    assert list(compat.weights) == list(DEFAULT_WEIGHTS)  # same place, same default weight
    assert compat.weights["topics"] == pytest.approx(
        DEFAULT_WEIGHTS["topics"] / sum(DEFAULT_WEIGHTS.values()), rel=1e-12
    )
    assert (compat.components["topics"] == np.float32(0.25)).all()
    builtin = pairwise.score(cohort)
    assert not np.array_equal(builtin.components["topics"], compat.components["topics"])
    for name in DEFAULT_WEIGHTS:
        if name != "topics":
            np.testing.assert_array_equal(builtin.components[name], compat.components[name])


def test_builtin_with_custom_parameters_replaces_the_default():
    cohort = table(
        [
            {"id": "e", "role": "mentee", "region": "r1", "cluster": "c"},
            {"id": "o", "role": "mentor", "region": "r2", "cluster": "c"},
        ]
    )
    compat = pairwise.score(cohort, criteria=[RegionProximity(cluster_value=0.25)])
    assert compat.components["region"][0, 0] == np.float32(0.25)


@pytest.mark.parametrize(
    "kwargs",
    [{"cluster_value": 1.5}, {"cluster_value": -0.1}, {"cluster_value": float("nan")}],
)
def test_region_proximity_rejects_cluster_value_outside_unit_interval(kwargs):
    with pytest.raises(ValidationError, match="cluster_value"):
        RegionProximity(**kwargs)


@pytest.mark.parametrize("target", [0, -1, float("nan"), float("inf"), True])
def test_availability_overlap_rejects_a_non_positive_target(target):
    with pytest.raises(ValidationError, match="target"):
        AvailabilityOverlap(target=target)


def no_name(mentees, mentors):
    return np.zeros((len(mentees), len(mentors)))


class NotCallable:
    name = "still-not"


def test_objects_that_are_not_criteria_are_all_listed():
    bad = [42, "topics", object(), no_name, NotCallable(), Constant("", 0.5), TopicCoverage]
    with pytest.raises(ValidationError) as info:
        Scorer(criteria=bad)
    problems = info.value.problems
    assert len(problems) == len(bad)
    assert all(p.message == "not a criterion" for p in problems)
    assert [p.value for p in problems] == [
        "int",
        "str",
        "object",
        "function",
        "NotCallable",
        "Constant",
        "type",
    ]


def test_bad_criteria_and_bad_weights_are_listed_together():
    with pytest.raises(ValidationError) as info:
        Scorer({"nope": 1, "stage": -3}, criteria=[object()])
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 3
    assert "not a criterion" in messages and "unknown criterion" in messages
    assert any("'stage'" in m for m in messages)


def test_builtins_are_criteria():
    for c in default_criteria():
        assert isinstance(c, Criterion)
    assert isinstance(TopicCoverage(), pairwise.Criterion)
    assert not isinstance(object(), Criterion)
    assert [c.name for c in default_criteria()] == list(DEFAULT_WEIGHTS)


# ---------------------------------------------------------------------------- 4. score, affinity


def test_score_on_peers_only_cohort_is_rejected():
    with pytest.raises(ValidationError) as info:
        pairwise.score(pairwise.make_peers(6, seed=1))
    messages = [p.message for p in info.value.problems]
    assert messages == ["no mentees to score", "no mentors to score"]


@SETTINGS
@given(cohort=peer_cohorts, data=st.data())
def test_affinity_is_symmetric_with_zero_diagonal(cohort, data):
    aff = pairwise.affinity(cohort)
    n = len(cohort)
    assert aff.symmetric and aff.shape == (n, n)
    assert list(aff.mentee_ids) == list(aff.mentor_ids) == list(cohort.ids)
    m = aff.matrix
    assert m.dtype == np.float64
    assert (m == m.T).all()
    assert (np.diagonal(m) == 0).all()
    assert ((m >= 0) & (m <= 1)).all()
    assert not m.flags.writeable
    # each component is the two-way mean of the criterion's reference, 0 on the diagonal
    for criterion, ref in CASES:
        v = aff.components[criterion.name]
        assert (v == v.T).all() and (np.diagonal(v) == 0).all()
        r = reference(ref, cohort, cohort)
        want = (r + r.T) / 2
        np.fill_diagonal(want, 0.0)
        assert_matches(v, want)
    i = data.draw(st.integers(0, n - 1), label="i")
    j = data.draw(st.integers(0, n - 1), label="j")
    e = aff.explain(cohort.ids[i], cohort.ids[j])
    assert e.contribution.sum() == pytest.approx(m[i, j], abs=1e-12)
    top = aff.top(cohort.ids[i], n)
    assert top.score.iloc[0] == m[i].max()


@pytest.mark.parametrize(
    "cohort",
    [pairwise.make_peers(1), pairwise.make_cohort(5, 2)],
    ids=["one-peer", "no-peers"],
)
def test_affinity_of_fewer_than_two_people_is_rejected(cohort):
    with pytest.raises(ValidationError, match="fewer than two people"):
        pairwise.affinity(cohort)


def test_affinity_over_mentees_and_mentors():
    cohort = pairwise.make_cohort(7, 3, seed=4)
    aff = pairwise.affinity(cohort, roles=("mentee", "mentor"))
    assert aff.shape == (10, 10)
    assert list(aff.mentee_ids) == list(cohort.ids)
    assert (aff.matrix == aff.matrix.T).all() and (np.diagonal(aff.matrix) == 0).all()
    # a mentee's needs against a mentor's expertise counts one way only: half of score()
    compat = pairwise.score(cohort)
    topics = aff.components["topics"][:7, 7:]
    assert_matches(topics, compat.components["topics"] / 2)
    only_mentors = pairwise.affinity(cohort, roles=("mentor",))
    assert list(only_mentors.mentee_ids) == list(cohort.mentors.ids)


def test_affinity_respects_weights_and_custom_criteria():
    cohort = pairwise.make_peers(9, seed=8)
    aff = pairwise.affinity(cohort, {"topics": 0}, criteria=[Constant("const", 1.0)])
    assert "topics" not in aff.weights
    c = aff.components["const"]
    assert (c[~np.eye(9, dtype=bool)] == 1.0).all() and (np.diagonal(c) == 0).all()


# ---------------------------------------------------------------------------- 5. unknown ids


def test_unknown_ids_raise_validation_error_not_key_error():
    compat = pairwise.score(pairwise.make_cohort(4, 2, seed=0))
    mentee, mentor = compat.mentee_ids[0], compat.mentor_ids[0]
    calls = [
        lambda: compat.explain("nobody", mentor),
        lambda: compat.explain(mentee, "nobody"),
        lambda: compat.score("nobody", mentor),
        lambda: compat.score(mentor, mentee),  # right ids, wrong sides
        lambda: compat.top("nobody"),
        lambda: compat.top(mentor),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match="unknown") as info:
            call()
        assert not isinstance(info.value, KeyError)
    with pytest.raises(ValidationError) as info:
        compat.explain("ghost-1", "ghost-2")
    assert [p.value for p in info.value.problems] == ["ghost-1", "ghost-2"]
    assert [p.message for p in info.value.problems] == ["unknown mentee id", "unknown mentor id"]


def test_integer_ids_can_be_looked_up_as_numbers_or_text():
    cohort = Cohort.from_frame(
        pd.DataFrame({"id": [101, 102, 201], "role": ["mentee", "mentee", "mentor"]})
    )
    compat = pairwise.score(cohort)
    assert compat.score(101, 201) == compat.score("101", "201") == compat.score(101.0, 201)
    assert compat.top(np.int64(102), 1).mentor_id.tolist() == ["201"]
    with pytest.raises(ValidationError):
        compat.score(101.5, 201)


# ---------------------------------------------------------------------------- 6. spot checks


def pair(mentee: dict[str, object], mentor: dict[str, object]) -> Cohort:
    return table([{"id": "e", "role": "mentee", **mentee}, {"id": "o", "role": "mentor", **mentor}])


def mode_value(mentee_mode: str, mentor_mode: str, mentee_region, mentor_region) -> float:
    cohort = pair(
        {"mode": mentee_mode, "region": mentee_region},
        {"mode": mentor_mode, "region": mentor_region},
    )
    return float(ModeCompatibility()(cohort.mentees, cohort.mentors)[0, 0])


@pytest.mark.parametrize(
    ("mentee_mode", "mentor_mode", "same", "different", "missing"),
    [
        # value when both are in one region / in different regions / both regions missing
        ("in-person", "in-person", 1, 0, 0),
        ("in-person", "either", 1, 0, 0),
        ("either", "in-person", 1, 0, 0),
        ("online", "in-person", 0, 0, 0),
        ("in-person", "online", 0, 0, 0),
        ("online", "online", 1, 1, 1),
        ("online", "either", 1, 1, 1),
        ("either", "online", 1, 1, 1),
        ("either", "either", 1, 1, 1),
    ],
)
def test_mode_semantics(mentee_mode, mentor_mode, same, different, missing):
    assert mode_value(mentee_mode, mentor_mode, "r1", "r1") == same
    assert mode_value(mentee_mode, mentor_mode, "r1", "r2") == different
    assert mode_value(mentee_mode, mentor_mode, None, None) == missing


def test_missing_mode_means_either():
    cohort = pair({"region": "r1"}, {"mode": "in-person", "region": "r2"})
    assert cohort.mode.tolist() == ["either", "in-person"]
    assert ModeCompatibility()(cohort.mentees, cohort.mentors)[0, 0] == 0


@pytest.mark.parametrize(
    ("mentee", "mentor", "value"),
    [
        ({"region": "r1", "cluster": "c1"}, {"region": "r1", "cluster": "c1"}, 1.0),
        ({"region": "r1"}, {"region": "r1"}, 1.0),  # same region, clusters missing
        ({"region": "r1", "cluster": "c1"}, {"region": "r2", "cluster": "c1"}, "cluster"),
        ({"region": "r1", "cluster": "c1"}, {"region": "r2", "cluster": "c2"}, 0.0),
        ({"region": "r1", "cluster": "c1"}, {"cluster": "c2"}, 0.0),
        ({"region": "r1"}, {}, 0.0),  # mentor's region missing
        ({}, {}, 0.0),  # both missing: missing never matches missing
        ({"cluster": "c1"}, {"cluster": "c1"}, "cluster"),  # regions missing, same cluster
    ],
)
@pytest.mark.parametrize("cluster_value", [0.5, 0.3, 0.0, 1.0])
def test_region_semantics(mentee, mentor, value, cluster_value):
    cohort = pair(mentee, mentor)
    got = RegionProximity(cluster_value=cluster_value)(cohort.mentees, cohort.mentors)[0, 0]
    want = cluster_value if value == "cluster" else value
    assert got == np.float32(want)
    if cluster_value == 0.5:
        assert RegionProximity()(cohort.mentees, cohort.mentors)[0, 0] == np.float32(want)


def test_topic_coverage_weights_needs_by_level():
    cohort = pair({"needs": "budget:3;media:1"}, {"expertise": "budget:1;media:3;polling:3"})
    # min(1, 3) + min(3, 1) over 3 + 1
    assert TopicCoverage()(cohort.mentees, cohort.mentors)[0, 0] == np.float32(2 / 4)
    nothing = pair({}, {"expertise": "budget:3"})
    assert TopicCoverage()(nothing.mentees, nothing.mentors)[0, 0] == 0


def test_stage_language_availability_preference_spot_checks():
    cohort = table(
        [
            {
                "id": "e",
                "role": "mentee",
                "stage": "campaigning",
                "languages": "fr;en",
                "slots": "a;b;c",
                "prefer": "o2",
            },
            {"id": "o1", "role": "mentor", "stage": "campaigning;first-term", "languages": "en"},
            {"id": "o2", "role": "mentor", "stage": "first-term", "slots": "a", "prefer": ""},
            {"id": "o3", "role": "mentor", "languages": "es", "slots": "a;c;d", "prefer": "e"},
        ]
    )
    a, b = cohort.mentees, cohort.mentors

    def values(criterion):
        return criterion(a, b)[0].tolist()

    assert values(StageExperience()) == [1.0, 0.0, 0.0]
    assert values(SharedLanguage()) == [1.0, 0.0, 0.0]
    assert values(AvailabilityOverlap()) == [0.0, 0.5, 1.0]
    assert values(AvailabilityOverlap(target=1)) == [0.0, 1.0, 1.0]
    assert values(StatedPreference()) == [0.0, 1.0, 1.0]  # e named o2; o3 named e


def test_affinity_takes_one_role_as_text_and_rejects_unknown_roles():
    peers = pairwise.make_peers(8, seed=1)
    one = pairwise.affinity(peers, roles="peer")
    np.testing.assert_array_equal(one.matrix, pairwise.affinity(peers, roles=("peer",)).matrix)
    with pytest.raises(ValidationError, match="unknown role"):
        pairwise.affinity(peers, roles=("peers",))


def test_two_custom_criteria_with_one_name_are_refused():
    class Same:
        name = "same"

        def __call__(self, mentees, mentors):
            return np.ones((len(mentees), len(mentors)), dtype=np.float32)

    with pytest.raises(ValidationError, match="two criteria share one name"):
        pairwise.Scorer(criteria=[Same(), Same()])
