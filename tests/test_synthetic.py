import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairwise.cohort import MODES, Cohort
from pairwise.errors import ValidationError
from pairwise.synthetic import SLOTS, STAGES, TOPICS, make_cohort, make_peers

SETTINGS = settings(max_examples=20, deadline=None)


@pytest.fixture(scope="module")
def big():
    return make_cohort(2000, 600, seed=7)


def test_same_seed_same_cohort_and_different_seeds_differ():
    a = make_cohort(50, 15, seed=1)
    assert make_cohort(50, 15, seed=1) == a
    others = [make_cohort(50, 15, seed=s) for s in (2, 3, 4)]
    assert all(o != a for o in others)
    assert make_peers(30, seed=5) == make_peers(30, seed=5)
    assert make_peers(30, seed=5) != make_peers(30, seed=6)


def test_generator_seed_is_used():
    a = make_cohort(20, 5, seed=np.random.default_rng(42))
    assert a == make_cohort(20, 5, seed=np.random.default_rng(42))
    assert a == make_cohort(20, 5, seed=42)  # an int seed means default_rng(seed)
    rng = np.random.default_rng(0)
    first, second = make_cohort(20, 5, seed=rng), make_cohort(20, 5, seed=rng)
    assert first != second  # the generator moved on
    assert len(make_cohort(5, 2, seed=None)) == 7


@SETTINGS
@given(st.integers(0, 60), st.integers(1, 25), st.integers(0, 2**32))
def test_sizes_roles_ids_and_validity(n_mentees, n_mentors, seed):
    c = make_cohort(n_mentees, n_mentors, seed=seed)
    assert (c.n_mentees, c.n_mentors, len(c)) == (n_mentees, n_mentors, n_mentees + n_mentors)
    assert c.role.tolist() == ["mentee"] * n_mentees + ["mentor"] * n_mentors
    assert len(set(c.ids)) == len(c)
    assert all(x.startswith("mentee-") for x in c.mentees.ids)
    assert all(x.startswith("mentor-") for x in c.mentors.ids)
    assert Cohort.from_frame(c.to_frame()) == c
    assert Cohort.from_frame(c.to_frame(flat=True)) == c
    assert set(c.mode) <= set(MODES)
    assert set(c.topics) <= set(TOPICS)
    assert set(c.stage.vocab) <= set(STAGES)
    assert set(c.slots.vocab) <= set(SLOTS)
    assert (c.slots.matrix.sum(axis=1) >= 1).all()
    assert (c.languages.matrix.sum(axis=1) >= 1).all()
    assert c.region.tolist().count(None) == 0 and c.cluster.tolist().count(None) == 0
    mentees, mentors = c.mentees, c.mentors
    assert (mentees.stage.matrix.sum(axis=1) == 1).all()
    assert (mentees.needs.matrix.astype(bool).sum(axis=1) >= 1).all()
    assert not mentees.expertise.matrix.any()
    assert (mentors.expertise.matrix.astype(bool).sum(axis=1) >= 1).all()
    assert not mentors.needs.matrix.any()
    assert ((mentors.capacity >= 1) & (mentors.capacity <= 5)).all()
    assert set(np.unique(c.needs.matrix)) <= {0, 1, 2, 3}
    assert set(np.unique(c.expertise.matrix)) <= {0, 1, 2, 3}


@SETTINGS
@given(st.integers(1, 80), st.integers(0, 2**32))
def test_peers(n, seed):
    p = make_peers(n, seed=seed, avoid_rate=0.3, previous_rate=0.3)
    assert len(p) == n
    assert set(p.role) == {"peer"}
    assert all(x.startswith("peer-") for x in p.ids)
    assert (p.needs.matrix.astype(bool).sum(axis=1) >= 1).all()
    assert (p.expertise.matrix.astype(bool).sum(axis=1) >= 1).all()
    assert (p.stage.matrix.sum(axis=1) == 1).all()
    assert Cohort.from_frame(p.to_frame()) == p
    check_links(p, other_role=False)


def check_links(c, *, other_role):
    position = {x: i for i, x in enumerate(c.ids)}
    n_links = 0
    for name in ("avoid", "previous", "prefer"):
        for i, targets in enumerate(getattr(c, name)):
            assert list(targets) == sorted(set(targets))
            for t in targets:
                n_links += 1
                assert t in position, (name, c.ids[i], t)
                j = position[t]
                assert j != i, (name, c.ids[i])
                if other_role:
                    assert c.role[j] != c.role[i], (name, c.ids[i], t)
                    assert c.role[i] == "mentee"
    return n_links


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_links_name_valid_ids_of_the_other_role_never_self(seed):
    c = make_cohort(300, 80, seed=seed, avoid_rate=0.3, previous_rate=0.3, prefer_rate=0.3)
    assert check_links(c, other_role=True) > 100
    pos = {x: i for i, x in enumerate(c.ids)}
    for i, targets in enumerate(c.previous):  # earlier partners live in the same region
        assert all(c.region[pos[t]] == c.region[i] for t in targets)
    for i, targets in enumerate(c.prefer):  # wishes stay within the region cluster
        assert all(c.cluster[pos[t]] == c.cluster[i] for t in targets)
    same_chapter = [c.chapter[pos[t]] == c.chapter[i] for i, ts in enumerate(c.avoid) for t in ts]
    assert np.mean(same_chapter) > 0.5  # conflicts arise mostly within a chapter


def test_link_rates_zero_means_no_links():
    c = make_cohort(200, 50, seed=0, avoid_rate=0, previous_rate=0, prefer_rate=0)
    assert check_links(c, other_role=True) == 0


def test_default_links_are_few_but_present(big):
    assert 0 < sum(map(len, big.avoid)) < 0.1 * big.n_mentees
    assert check_links(big, other_role=True) > 0


def test_capacities_within_1_to_5_and_mostly_small(big):
    cap = big.mentors.capacity
    assert cap.min() >= 1 and cap.max() <= 5
    assert len(set(cap.tolist())) == 5
    assert np.mean(cap <= 2) > 0.5
    assert (big.mentees.capacity == 1).all()


def test_a_few_mentors_are_unvetted(big):
    share = 1 - big.mentors.vetted.mean()
    assert 0 < share < 0.2
    assert big.mentees.vetted.all()


def test_topic_skew(big):
    topics = list(big.topics)
    asked = (big.mentees.needs.matrix > 0).mean(axis=0)
    offered = (big.mentors.expertise.matrix > 0).mean(axis=0)
    top = topics.index("fundraising")
    assert asked[top] == asked.max()
    assert asked[top] > 3 * asked.min()
    assert offered[top] < asked[top]
    # the sought-after topic is scarce: fewer mentors per asking mentee than for the rarest ask
    rare = int(np.argmin(asked))
    assert offered[top] / asked[top] < offered[rare] / asked[rare]
    # popularity follows the documented order, roughly: the first three beat the last three
    order = [topics.index(t) for t in TOPICS]
    assert asked[order[:3]].min() > asked[order[-3:]].max()


def test_languages_follow_the_cluster(big):
    vocab = list(big.languages.vocab)
    main = {}
    for cluster in sorted(set(big.cluster)):
        inside = big.cluster == cluster
        share = big.languages.matrix[inside].mean(axis=0)
        main[cluster] = vocab[int(np.argmax(share))]
        assert share.max() > 0.8
    assert len(set(main.values())) >= 3  # clusters do not all speak one language
    for cluster, lang in main.items():
        clusters_with_it = {c for c, m in main.items() if m == lang}
        outside = ~np.isin(big.cluster, list(clusters_with_it))
        inside = big.cluster == cluster
        k = vocab.index(lang)
        if outside.any():
            assert big.languages.matrix[outside, k].mean() < 0.6
            assert big.languages.matrix[inside, k].mean() > big.languages.matrix[outside, k].mean()


def test_geography_is_uneven_and_chapters_sit_in_regions(big):
    counts = np.unique(big.region, return_counts=True)[1]
    assert counts.max() > 2 * counts.min()
    for chapter in set(big.chapter):
        regions = set(big.region[big.chapter == chapter])
        assert len(regions) == 1
        assert chapter.startswith(f"{regions.pop()}/")
    for region in set(big.region):
        assert len(set(big.cluster[big.region == region])) == 1


def test_in_person_is_rarer_than_online(big):
    modes = big.mode.tolist()
    assert modes.count("in-person") < modes.count("online")


def test_a_modest_large_cohort_is_generated():
    c = make_cohort(4000, 1000, seed=3)
    assert (c.n_mentees, c.n_mentors) == (4000, 1000)
    assert len(set(c.ids)) == 5000
    assert c.ids[0] == "mentee-0001" and c.ids[-1] == "mentor-1000"
    check_links(c, other_role=True)


@pytest.mark.parametrize(
    ("args", "part"),
    [
        ((-1, 5), "must be an integer >= 0"),
        ((5, -2), "must be an integer >= 0"),
        ((2.5, 3), "must be an integer >= 0"),
        ((True, 3), "must be an integer >= 0"),
        (("10", 3), "must be an integer >= 0"),
        ((5, 0), "a mentee cohort needs mentors"),
        ((0, 0), "empty cohort"),
    ],
)
def test_bad_sizes_are_validation_errors(args, part):
    with pytest.raises(ValidationError, match=part):
        make_cohort(*args)


@pytest.mark.parametrize(("n", "part"), [(0, "empty cohort"), (-3, "integer >= 0")])
def test_bad_peer_sizes(n, part):
    with pytest.raises(ValidationError, match=part):
        make_peers(n)


def test_both_bad_sizes_are_reported_together():
    with pytest.raises(ValidationError) as info:
        make_cohort(-1, "x")
    assert [p.column for p in info.value.problems] == ["n_mentees", "n_mentors"]
