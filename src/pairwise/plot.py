"""Figures for results (optional extra: ``pip install pairwise[plot]``, matplotlib).

Every function draws on the ``ax`` it is given (or a new figure's) and returns the Axes;
none calls ``show()``, so they work in notebooks, scripts and headless tests alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pairwise.errors import Problem, ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from pairwise.results import Circles, Matching

__all__ = [
    "circle_composition",
    "contributions",
    "mentor_load",
    "region_flow",
    "score_distribution",
    "tradeoff",
]


def _axes(ax: Axes | None) -> Axes:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - the extra is installed in the dev set-up
        raise ValidationError(
            [Problem("plots need matplotlib", expected="pip install 'pairwise[plot]'")]
        ) from None
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=(6.4, 4.0))
    return new


def score_distribution(matching: Matching, *, bins: int = 30, ax: Axes | None = None) -> Axes:
    """Histogram of the matched pairs' scores against all allowed pairs' scores."""
    ax = _axes(ax)
    p = matching.problem
    allowed = p.scores[p.allowed]
    matched = matching.pairs.score.to_numpy()
    edges = np.histogram_bin_edges(np.concatenate([allowed, matched]), bins=bins).tolist()
    ax.hist(allowed, bins=edges, density=True, alpha=0.5, label=f"allowed pairs ({len(allowed)})")
    ax.hist(matched, bins=edges, density=True, alpha=0.7, label=f"matched pairs ({len(matched)})")
    ax.set_xlabel("score")
    ax.set_ylabel("density")
    ax.set_title("Scores: matched vs allowed")
    ax.legend()
    return ax


def contributions(matching: Matching, mentee_id: Any, *, ax: Axes | None = None) -> Axes:
    """Per-criterion contributions of one mentee's pair(s) (needs a scored cohort)."""
    pairs = matching.pairs
    rows = pairs[pairs.mentee_id == str(mentee_id)]
    if not matching.problem.criteria:
        raise ValidationError([Problem("no criteria: the problem came from a plain matrix")])
    if rows.empty:
        raise ValidationError([Problem("mentee has no pair", value=str(mentee_id))])
    ax = _axes(ax)
    criteria = list(matching.problem.criteria)
    x = np.arange(len(criteria))
    width = 0.8 / len(rows)
    for k, (_, row) in enumerate(rows.iterrows()):
        values = [float(row[c]) for c in criteria]
        ax.bar(x + k * width, values, width=width, label=str(row.mentor_id))
    ax.set_xticks(x + width * (len(rows) - 1) / 2, criteria, rotation=30, ha="right")
    ax.set_ylabel("contribution to the score")
    ax.set_title(f"Why {mentee_id}'s mentor")
    ax.legend(title="mentor")
    return ax


def mentor_load(matching: Matching, *, ax: Axes | None = None) -> Axes:
    """Each mentor's load against her capacity: one bubble per (capacity, mentees).

    A bubble's area and label are the number of mentors with that capacity and load; on
    the diagonal a mentor is full, below it she has room.
    """
    ax = _axes(ax)
    load = matching.load()
    counts = load.groupby(["capacity", "mentees"]).size().reset_index(name="mentors")
    ax.scatter(
        counts.capacity, counts.mentees, s=60 + 40 * counts.mentors, alpha=0.6, label="mentors"
    )
    for row in counts.itertuples():
        ax.annotate(str(row.mentors), (row.capacity, row.mentees), ha="center", va="center")
    top = int(max(load.capacity.max(), load.mentees.max())) if len(load) else 0
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="full")
    ax.set_xlabel("capacity (most mentees)")
    ax.set_ylabel("mentees given")
    ax.set_title("Mentor load against capacity (mentors per bubble)")
    ax.legend(loc="upper left")
    return ax


def region_flow(matching: Matching, column: str = "region", *, ax: Axes | None = None) -> Axes:
    """Matched pairs by mentee's and mentor's ``column`` (region, cluster or chapter)."""
    p = matching.problem
    if p.mentee_labels is None or p.mentor_labels is None:
        raise ValidationError([Problem("no cohort: the problem came from a plain matrix")])
    if column not in ("region", "cluster", "chapter"):
        raise ValidationError(
            [Problem("unknown column", value=column, expected="region, cluster or chapter")]
        )
    ax = _axes(ax)
    i, j = matching.assignment[:, 0], matching.assignment[:, 1]
    a = [str(v) for v in p.mentee_labels.category(column)[i]]
    b = [str(v) for v in p.mentor_labels.category(column)[j]]
    table = pd.crosstab(pd.Series(a, name="mentee"), pd.Series(b, name="mentor"))
    image = ax.imshow(table.to_numpy(), cmap="Blues")
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(table.shape[0]), table.index)
    ax.set_xlabel(f"mentor {column}")
    ax.set_ylabel(f"mentee {column}")
    ax.set_title(f"Pairs by {column}")
    ax.figure.colorbar(image, ax=ax, label="pairs")
    return ax


def circle_composition(
    circles: Circles,
    column: str = "chapter",
    *,
    by: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Members of each circle, stacked by ``column`` (region, chapter, stage, mode, ...).

    ``by`` is another spelling of ``column``. For ``"slots"`` and ``"languages"``, where a
    shared rule publishes the circle's slot or language (``Circles.circles``), every member
    is counted under that published label; otherwise under the first one she listed.
    """
    column = column if by is None else by
    p = circles.problem
    if p.labels is None:
        raise ValidationError([Problem("no cohort: the problem came from a plain matrix")])
    people = p.labels
    published = {"slots": "slot", "languages": "language"}.get(column)
    fields = {rule.field for rule in p.shared}
    if published in fields:
        chosen = circles.circles.set_index("circle")[published]
        labels_of = {int(i): str(chosen.loc[int(g)]) for g, i in circles.assignment.tolist()}
        labels = [labels_of.get(i, "none") for i in range(len(people))]
    elif column in ("languages", "stage", "slots"):
        tags = getattr(people, column)
        labels = [tags.row(i)[0] if tags.row(i) else "none" for i in range(len(people))]
    elif column in ("region", "cluster", "chapter", "mode", "role"):
        labels = [str(v) for v in getattr(people, column)]
    else:
        raise ValidationError([Problem("unknown column", value=column)])
    ax = _axes(ax)
    frame = pd.DataFrame(
        {
            "circle": circles.assignment[:, 0],
            "value": [labels[i] for i in circles.assignment[:, 1]],
        }
    )
    table = _top_columns(pd.crosstab(frame.circle, frame.value), LEGEND_ENTRIES)
    bottom = np.zeros(len(table))
    for value in table.columns:
        ax.bar(table.index, table[value], bottom=bottom, label=value)
        bottom += table[value].to_numpy()
    ax.set_xlabel("circle")
    ax.set_ylabel("members")
    ax.set_title(f"Circle composition by {column}")
    ax.legend(title=column, fontsize="small", ncols=2)
    return ax


#: Most categories a legend lists; the rarest beyond them are drawn together as "other".
LEGEND_ENTRIES = 8


def _top_columns(table: pd.DataFrame, keep: int) -> pd.DataFrame:
    """``table`` with its ``keep - 1`` largest columns and the others summed as "other"."""
    if table.shape[1] <= keep:
        return table
    order = table.sum().sort_values(ascending=False, kind="stable").index
    out = table[list(order[: keep - 1])].copy()
    out["other"] = table[list(order[keep - 1 :])].sum(axis=1)
    return out


def tradeoff(
    sweep: pd.DataFrame,
    *,
    x: str = "min_score",
    y: str = "total_score",
    label: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Trade-off of a sweep (:func:`pairwise.sweep`): total score vs worst-off score.

    Each scenario is a labelled point (no line: the scenarios are not a series); ``label``
    names the column to label them with (default: ``scenario`` when the sweep has one,
    else the row number).
    """
    missing = [c for c in (x, y) if c not in sweep]
    if missing:
        raise ValidationError([Problem("sweep has no such column", value=missing)])
    ax = _axes(ax)
    ok = sweep.dropna(subset=[x, y])
    ax.scatter(ok[x], ok[y])
    label = label if label is not None else ("scenario" if "scenario" in ok else None)
    names = ok[label].astype(str) if label is not None and label in ok else ok.index.astype(str)
    for name, px, py in zip(names, ok[x], ok[y], strict=True):
        ax.annotate(name, (px, py), fontsize="small", xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y.replace("_", " "))
    ax.set_title("Trade-off")
    return ax
