"""Seeded synthetic cohorts with realistic structure, for tests, benchmarks, docs and notebooks.

The generator is vectorised (numpy over whole cohorts), so 100,000 participants take a
second or two. What makes the cohorts realistic rather than uniform noise:

* **topic skew**: topic popularity among mentees follows a Zipf-like law (fundraising and
  campaign strategy are asked for by many), while mentors offer the popular topics
  *less* often than the rest, so the sought-after expertise is scarce;
* **geography**: regions come in clusters of neighbouring regions, people are spread
  unevenly across regions (Dirichlet weights), chapters sit inside regions;
* **languages** correlate with the region cluster (a main language per cluster, English as
  a common second language, a few minority languages);
* **stages**: each mentee is at one stage; each mentor has lived through several;
* **modes, slots**: in-person is rarer than online; evenings and weekend mornings are the
  popular slots;
* **capacities** 1-5 (most mentors take one or two), a few unvetted mentors;
* **links**: a few ``avoid`` pairs (mostly inside one chapter, where conflicts arise),
  ``previous`` partners in the same region and stated ``prefer`` wishes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pairwise._validate import is_int
from pairwise.cohort import Cohort, Levels, Tags
from pairwise.errors import Problem, ValidationError

__all__ = ["SLOTS", "STAGES", "TOPICS", "make_cohort", "make_peers"]

#: Topics in order of popularity among mentees (most asked for first).
TOPICS: tuple[str, ...] = (
    "fundraising",
    "campaign-strategy",
    "public-speaking",
    "media-relations",
    "social-media",
    "policy-development",
    "negotiation",
    "constituency-work",
    "coalition-building",
    "online-harassment",
    "work-life-balance",
    "budgeting",
    "legislative-process",
    "volunteer-management",
    "leadership",
)
STAGES: tuple[str, ...] = (
    "considering-running",
    "campaigning",
    "after-a-loss",
    "first-term",
    "new-member",
    "emerging-leader",
)
_STAGE_P_MENTEE = np.array([0.22, 0.2, 0.08, 0.2, 0.18, 0.12])
_STAGE_P_MENTOR = np.array([0.7, 0.8, 0.35, 0.75, 0.5, 0.45])  # lived through, independently
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PARTS = ("morning", "lunch", "evening")
#: Weekly slots, e.g. ``"tue-evening"``.
SLOTS: tuple[str, ...] = tuple(f"{d}-{p}" for d in _DAYS for p in _PARTS)
_SLOT_W = np.array(
    [
        {"morning": 0.5, "lunch": 0.7, "evening": 2.0}[p] * (1.6 if d in ("sat", "sun") else 1.0)
        for d in _DAYS
        for p in _PARTS
    ]
)
_CLUSTERS: tuple[tuple[str, str], ...] = (
    ("north", "en"),
    ("south", "es"),
    ("east", "fr"),
    ("west", "en"),
)
_MINORITY_LANGUAGES = ("ar", "pl", "pt", "tr")
_REGIONS_PER_CLUSTER = 4


def _check(n_mentees: int, n_mentors: int) -> None:
    problems = []
    for name, v in (("n_mentees", n_mentees), ("n_mentors", n_mentors)):
        if not is_int(v) or v < 0:
            problems.append(Problem("must be an integer >= 0", column=name, value=v))
    if not problems and n_mentees > 0 and n_mentors == 0:
        problems.append(Problem("a mentee cohort needs mentors", column="n_mentors", value=0))
    if not problems and n_mentees + n_mentors == 0:
        problems.append(Problem("empty cohort", expected="at least one participant"))
    if problems:
        raise ValidationError(problems)


def _topk_mask(
    rng: np.random.Generator, weights: npt.NDArray[np.floating[Any]], k: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Per row, a weighted sample of ``k[i]`` distinct columns, no replacement (Gumbel top-k)."""
    n, m = len(k), len(weights)
    keys = np.log(weights)[None, :] + rng.gumbel(size=(n, m))
    ranks = np.argsort(np.argsort(-keys, axis=1), axis=1)
    return ranks < np.minimum(k, m)[:, None]


class _Geography:
    def __init__(self, rng: np.random.Generator, n_people: int) -> None:
        self.cluster_names = [c for c, _ in _CLUSTERS]
        self.region_names = [
            f"{c}-{r + 1}" for c in self.cluster_names for r in range(_REGIONS_PER_CLUSTER)
        ]
        self.region_cluster = np.repeat(np.arange(len(_CLUSTERS)), _REGIONS_PER_CLUSTER)
        self.region_w = rng.dirichlet(np.full(len(self.region_names), 2.0))
        self.chapters_per_region = int(
            np.clip(round(n_people / (len(self.region_names) * 40)), 2, 40)
        )

    def place(
        self, rng: np.random.Generator, n: int, flatten: float = 0.0
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        w = (1 - flatten) * self.region_w + flatten / len(self.region_w)
        region = rng.choice(len(w), size=n, p=w / w.sum())
        chapter = (
            region * self.chapters_per_region
            + rng.zipf(1.6, size=n).clip(1, self.chapters_per_region)
            - 1
        )
        return region.astype(np.int64), chapter.astype(np.int64)

    def chapter_name(self, code: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
        names = np.array(
            [
                f"{self.region_names[r]}/ch{c + 1:02d}"
                for r in range(len(self.region_names))
                for c in range(self.chapters_per_region)
            ],
            dtype=object,
        )
        return names[code]


def _languages(rng: np.random.Generator, cluster: npt.NDArray[np.int64]) -> Tags:
    vocab = tuple(sorted({lang for _, lang in _CLUSTERS} | set(_MINORITY_LANGUAGES)))
    pos = {v: k for k, v in enumerate(vocab)}
    n = len(cluster)
    m = np.zeros((n, len(vocab)), dtype=bool)
    main = np.array([pos[lang] for _, lang in _CLUSTERS])[cluster]
    speaks_main = rng.random(n) < 0.93
    m[np.arange(n)[speaks_main], main[speaks_main]] = True
    m[:, pos["en"]] |= rng.random(n) < 0.45
    extra = rng.random(n) < 0.08
    minority = np.array([pos[x] for x in _MINORITY_LANGUAGES])[
        rng.integers(0, len(_MINORITY_LANGUAGES), n)
    ]
    m[np.arange(n)[extra], minority[extra]] = True
    none = ~m.any(axis=1)
    m[np.arange(n)[none], pos["en"]] = True
    return Tags(vocab, m)


def _levels_matrix(
    rng: np.random.Generator,
    n: int,
    weights: npt.NDArray[np.floating[Any]],
    k_low: int,
    k_high: int,
    level_p: tuple[float, float, float],
) -> npt.NDArray[np.int8]:
    k = rng.integers(k_low, k_high + 1, size=n)
    chosen = _topk_mask(rng, weights, k)
    levels = rng.choice(np.array([1, 2, 3], dtype=np.int8), size=chosen.shape, p=list(level_p))
    return np.where(chosen, levels, 0).astype(np.int8)


def _modes(
    rng: np.random.Generator, n: int, p: tuple[float, float, float]
) -> npt.NDArray[np.object_]:
    return np.array(["online", "in-person", "either"], dtype=object)[
        rng.choice(3, size=n, p=list(p))
    ]


def _slots(rng: np.random.Generator, n: int) -> Tags:
    k = rng.integers(2, 7, size=n)
    return Tags(SLOTS, _topk_mask(rng, _SLOT_W, k))


def _ids(prefix: str, n: int) -> list[str]:
    width = max(4, len(str(n)))
    return [f"{prefix}-{i + 1:0{width}d}" for i in range(n)]


def _pick_in_group(
    rng: np.random.Generator,
    who: npt.NDArray[np.int64],
    who_group: npt.NDArray[np.int64],
    pool_group: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """For each ``who``, a random pool member of the same group (-1 if the group is empty)."""
    order = np.argsort(pool_group, kind="stable")
    sorted_groups = pool_group[order]
    lo = np.searchsorted(sorted_groups, who_group[who], side="left")
    hi = np.searchsorted(sorted_groups, who_group[who], side="right")
    size = hi - lo
    pick = np.minimum(lo + (rng.random(len(who)) * size).astype(np.int64), len(order) - 1)
    return np.where(size > 0, order[pick], -1).astype(np.int64)


def _links(
    rng: np.random.Generator,
    source: npt.NDArray[np.int64],
    pool: npt.NDArray[np.int64],
    group: npt.NDArray[np.int64],
    rate: float,
    ids: list[str],
    out: list[list[str]],
) -> None:
    """Give a share ``rate`` of ``source`` one link to a pool member of the same group."""
    chosen = source[rng.random(len(source)) < rate]
    if len(chosen) == 0 or len(pool) == 0:
        return
    target = _pick_in_group(rng, chosen, group, group[pool])
    for s, t in zip(chosen.tolist(), target.tolist(), strict=True):
        if t >= 0 and pool[t] != s:
            out[s].append(ids[int(pool[t])])


def _no_links(n: int) -> dict[str, list[list[str]]]:
    return {k: [[] for _ in range(n)] for k in ("avoid", "previous", "prefer")}


def _assemble(
    rng: np.random.Generator,
    geo: _Geography,
    ids: list[str],
    region: npt.NDArray[np.int64],
    chapter: npt.NDArray[np.int64],
    needs: npt.NDArray[np.int8],
    expertise: npt.NDArray[np.int8],
    stage: npt.NDArray[np.bool_],
    links: dict[str, list[list[str]]],
    *,
    mode: npt.NDArray[np.object_] | tuple[float, float, float],
    role: npt.NDArray[np.object_] | None = None,
    capacity: npt.NDArray[np.int64] | None = None,
    vetted: npt.NDArray[np.bool_] | None = None,
) -> Cohort:
    """Draw the languages, the modes (when ``mode`` gives their shares) and the slots; build.

    ``mode`` is the modes, or the shares of online, in-person and either to draw them with.
    ``role``, ``capacity`` and ``vetted`` default to a peer cohort's: peers, capacity 1,
    vetted.
    """
    n = len(ids)
    cluster = geo.region_cluster[region]
    languages = _languages(rng, cluster)
    if isinstance(mode, tuple):
        mode = _modes(rng, n, mode)
    slots = _slots(rng, n)
    order = np.argsort(np.array(TOPICS, dtype=object), kind="stable")
    topics = tuple(TOPICS[i] for i in order)
    stage_order = np.argsort(np.array(STAGES, dtype=object), kind="stable")
    return Cohort(
        ids=np.array(ids, dtype=object),
        role=np.full(n, "peer", dtype=object) if role is None else role,
        region=np.array(geo.region_names, dtype=object)[region],
        cluster=np.array(geo.cluster_names, dtype=object)[cluster],
        chapter=geo.chapter_name(chapter),
        languages=languages,
        needs=Levels(topics, needs[:, order]),
        expertise=Levels(topics, expertise[:, order]),
        stage=Tags(tuple(STAGES[i] for i in stage_order), stage[:, stage_order]),
        mode=mode,
        slots=Tags(
            tuple(sorted(SLOTS)), slots.matrix[:, np.argsort(np.array(SLOTS, dtype=object))]
        ),
        capacity=np.ones(n, dtype=np.int64) if capacity is None else capacity,
        vetted=np.ones(n, dtype=bool) if vetted is None else vetted,
        avoid=tuple(tuple(sorted(set(x))) for x in links["avoid"]),
        previous=tuple(tuple(sorted(set(x))) for x in links["previous"]),
        prefer=tuple(tuple(sorted(set(x))) for x in links["prefer"]),
        extra=pd.DataFrame(index=range(n)),
    )


def make_cohort(
    n_mentees: int,
    n_mentors: int,
    *,
    seed: int | np.random.Generator | None = 0,
    avoid_rate: float = 0.02,
    previous_rate: float = 0.05,
    prefer_rate: float = 0.03,
) -> Cohort:
    """A realistic synthetic mentoring cohort: ``n_mentees`` mentees then ``n_mentors`` mentors.

    Parameters
    ----------
    n_mentees, n_mentors : int
        Cohort sizes (mentors may be 0 only when mentees are 0).
    seed : int, numpy Generator or None, default 0
        Same seed, same cohort.
    avoid_rate, previous_rate, prefer_rate : float
        Share of mentees with one ``avoid`` link (mostly a mentor of their own chapter), one
        ``previous`` mentor (same region) and one stated ``prefer`` wish (same cluster).

    Returns
    -------
    Cohort
        Ids ``mentee-0001``... and ``mentor-0001``...

    Examples
    --------
    >>> from pairwise.synthetic import make_cohort
    >>> c = make_cohort(30, 10, seed=1)
    >>> c.n_mentees, c.n_mentors
    (30, 10)
    >>> make_cohort(30, 10, seed=1) == c
    True
    """
    _check(n_mentees, n_mentors)
    rng = np.random.default_rng(seed)
    n = n_mentees + n_mentors
    geo = _Geography(rng, n)
    is_mentor = np.arange(n) >= n_mentees
    region = np.empty(n, dtype=np.int64)
    chapter = np.empty(n, dtype=np.int64)
    region[~is_mentor], chapter[~is_mentor] = geo.place(rng, n_mentees)
    region[is_mentor], chapter[is_mentor] = geo.place(rng, n_mentors, flatten=0.3)

    popularity = 1.0 / np.arange(1, len(TOPICS) + 1) ** 1.1
    scarcity = popularity**-0.35  # the more asked for, the fewer mentors offer it
    needs = np.zeros((n, len(TOPICS)), dtype=np.int8)
    expertise = np.zeros((n, len(TOPICS)), dtype=np.int8)
    needs[~is_mentor] = _levels_matrix(rng, n_mentees, popularity, 1, 5, (0.3, 0.4, 0.3))
    expertise[is_mentor] = _levels_matrix(rng, n_mentors, scarcity, 2, 6, (0.2, 0.4, 0.4))

    stage = np.zeros((n, len(STAGES)), dtype=bool)
    stage[
        np.flatnonzero(~is_mentor), rng.choice(len(STAGES), size=n_mentees, p=_STAGE_P_MENTEE)
    ] = True
    stage[is_mentor] = rng.random((n_mentors, len(STAGES))) < _STAGE_P_MENTOR

    mode = np.empty(n, dtype=object)
    mode[~is_mentor] = _modes(rng, n_mentees, (0.45, 0.2, 0.35))
    mode[is_mentor] = _modes(rng, n_mentors, (0.35, 0.15, 0.5))

    capacity = np.ones(n, dtype=np.int64)
    capacity[is_mentor] = rng.choice(np.arange(1, 6), size=n_mentors, p=[0.3, 0.3, 0.2, 0.1, 0.1])
    vetted = np.ones(n, dtype=bool)
    vetted[is_mentor] = rng.random(n_mentors) < 0.92

    ids = _ids("mentee", n_mentees) + _ids("mentor", n_mentors)
    links = _no_links(n)
    mentees, mentors = np.flatnonzero(~is_mentor), np.flatnonzero(is_mentor)
    cluster = geo.region_cluster[region]
    _links(rng, mentees, mentors, chapter, avoid_rate, ids, links["avoid"])
    _links(rng, mentees, mentors, region, previous_rate, ids, links["previous"])
    _links(rng, mentees, mentors, cluster, prefer_rate, ids, links["prefer"])

    return _assemble(
        rng,
        geo,
        ids,
        region,
        chapter,
        needs,
        expertise,
        stage,
        links,
        mode=mode,
        role=np.where(is_mentor, "mentor", "mentee").astype(object),
        capacity=capacity,
        vetted=vetted,
    )


def make_peers(
    n: int,
    *,
    seed: int | np.random.Generator | None = 0,
    avoid_rate: float = 0.02,
    previous_rate: float = 0.03,
) -> Cohort:
    """A realistic synthetic cohort of ``n`` peers for co-development circles.

    Peers both ask (``needs``, 1-4 topics) and offer (``expertise``, 1-4 topics); each is at
    one stage. A few peers avoid, or earlier met, another peer of their own chapter / region.

    Parameters
    ----------
    n : int
        Number of peers.
    seed : int, numpy Generator or None, default 0
        Same seed, same cohort.
    avoid_rate, previous_rate : float
        Share of peers with one ``avoid`` / ``previous`` link.

    Returns
    -------
    Cohort
        Ids ``peer-0001``...; every role is ``peer``.

    Examples
    --------
    >>> from pairwise.synthetic import make_peers
    >>> p = make_peers(24, seed=3)
    >>> len(p), set(p.role)
    (24, {'peer'})
    """
    _check(n, 1)
    if n == 0:
        raise ValidationError([Problem("empty cohort", expected="at least one participant")])
    rng = np.random.default_rng(seed)
    geo = _Geography(rng, n)
    region, chapter = geo.place(rng, n)
    popularity = 1.0 / np.arange(1, len(TOPICS) + 1) ** 1.1
    needs = _levels_matrix(rng, n, popularity, 1, 4, (0.3, 0.4, 0.3))
    expertise = _levels_matrix(rng, n, popularity**-0.35, 1, 4, (0.3, 0.4, 0.3))
    stage = np.zeros((n, len(STAGES)), dtype=bool)
    stage[np.arange(n), rng.choice(len(STAGES), size=n, p=_STAGE_P_MENTEE)] = True
    ids = _ids("peer", n)
    links = _no_links(n)
    everyone = np.arange(n, dtype=np.int64)
    _links(rng, everyone, everyone, chapter, avoid_rate, ids, links["avoid"])
    _links(rng, everyone, everyone, region, previous_rate, ids, links["previous"])
    return _assemble(
        rng, geo, ids, region, chapter, needs, expertise, stage, links, mode=(0.7, 0.05, 0.25)
    )
