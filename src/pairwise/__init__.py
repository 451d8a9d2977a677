"""pairwise: match mentees with mentors, or peers into circles, under hard programme rules.

The pipeline (see ``docs/architecture.md``)::

    questionnaire table -> Cohort -> Compatibility -> Problem -> solve -> Matching | Circles
"""

from pairwise import rules
from pairwise.check import check
from pairwise.circles import CircleProblem
from pairwise.cohort import Cohort
from pairwise.errors import InfeasibleError, PairwiseError, SolverError, ValidationError
from pairwise.io import read_cohort, write_result
from pairwise.problem import PairProblem
from pairwise.programme import Programme
from pairwise.rematch import Rematch, checkin, rematch
from pairwise.report import CohortReport, inspect
from pairwise.results import Circles, Matching
from pairwise.scoring import Compatibility, Criterion, Scorer, affinity, score
from pairwise.solvers import solve
from pairwise.suggest import Suggestions, suggest
from pairwise.sweep import sweep
from pairwise.synthetic import make_cohort, make_peers

__all__ = [
    "CircleProblem",
    "Circles",
    "Cohort",
    "CohortReport",
    "Compatibility",
    "Criterion",
    "InfeasibleError",
    "Matching",
    "PairProblem",
    "PairwiseError",
    "Programme",
    "Rematch",
    "Scorer",
    "SolverError",
    "Suggestions",
    "ValidationError",
    "affinity",
    "check",
    "checkin",
    "inspect",
    "make_cohort",
    "make_peers",
    "read_cohort",
    "rematch",
    "rules",
    "score",
    "solve",
    "suggest",
    "sweep",
    "write_result",
]

__version__ = "0.1.0"

# the compiled kernels load in a background thread while the caller reads and scores data
# (see pairwise.solvers.warmup; PAIRWISE_PRELOAD=0 turns it off)
from pairwise.solvers import warmup as _warmup

_warmup.start()
