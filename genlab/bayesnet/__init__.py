"""Small discrete Bayesian networks (directed graphical models) — issue 9.

A Bayesian network over the variables X_1, ..., X_D consists of

* a directed acyclic graph G, the *qualitative* specification (which variable directly
  influences which; from domain knowledge, or learned from data), and
* one conditional probability table (CPT) P(X_d | parents(X_d)) per variable, the
  *quantitative* specification.

Together they define the joint distribution by the product rule (the factorization)::

    P(X_1, ..., X_D) = Π_d P(X_d | parents(X_d))

Every variable here is discrete (binary or categorical, 2 to :data:`MAX_STATES` named states), and
a network has at most :data:`MAX_VARIABLES` variables, so the exact joint table stays small enough
to enumerate: marginals and conditionals are computed *by enumeration* (summing joint entries).

CPT layout
----------
The CPT of a variable X with parents U_1, ..., U_k (listed in the network's variable order) is a
2-D array with Π_j |U_j| rows and |X| columns. Row r belongs to the r-th parent assignment in
``itertools.product`` order (the last parent varies fastest); column s is P(X = s-th state | row).
A variable without parents has a single row, its prior. Every row is a probability distribution:
non-negative entries summing to 1 (within :data:`ROW_TOLERANCE`).

Example::

    net = BayesianNetwork(
        {"Rain": ["no", "yes"], "Wet": ["no", "yes"]},
        edges=[("Rain", "Wet")],
        cpts={"Rain": [[0.8, 0.2]], "Wet": [[0.9, 0.1], [0.2, 0.8]]},
    )
    net.factorization()                   # 'P(Rain,Wet) = P(Rain) P(Wet | Rain)'
    net.conditional("Rain", {"Wet": "yes"})   # P(Rain | Wet = yes), by enumeration


The package is split by responsibility: :mod:`~genlab.bayesnet.structure` (limits, name rules, the
structure checks), :mod:`~genlab.bayesnet.network` (the network and its edits),
:mod:`~genlab.bayesnet.factorization` (factorization text and parameter counts),
:mod:`~genlab.bayesnet.inference` (the joint, queries, sampling) and :mod:`~genlab.bayesnet.presets`.
"""

from genlab.bayesnet.network import BayesianNetwork
from genlab.bayesnet.presets import PRESET_NAMES, PRESETS, Preset, preset_network
from genlab.bayesnet.structure import (
    MAX_JOINT_SIZE,
    MAX_SAMPLES,
    MAX_STATES,
    MAX_VARIABLES,
    PROBABILITY_COLUMN,
    ROW_TOLERANCE,
    CptRowProblem,
    ParameterTerm,
    SampleComparison,
    default_state_names,
    expected_tv,
    normalize_rows,
    total_variation,
)

__all__ = [
    "MAX_VARIABLES",
    "MAX_STATES",
    "MAX_JOINT_SIZE",
    "MAX_SAMPLES",
    "ROW_TOLERANCE",
    "PROBABILITY_COLUMN",
    "BayesianNetwork",
    "CptRowProblem",
    "ParameterTerm",
    "SampleComparison",
    "Preset",
    "PRESETS",
    "PRESET_NAMES",
    "preset_network",
    "normalize_rows",
    "total_variation",
    "expected_tv",
    "default_state_names",
]
