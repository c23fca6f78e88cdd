"""A Bayesian network's building blocks: limits, name rules, small table helpers, result records,
and the checks of the structure (variables, edges, no cycle, topological order).
"""

from __future__ import annotations

import graphlib
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from genlab.errors import GenlabError, check_range

MAX_VARIABLES = 8
"""At most this many variables, so the exact joint (Π_d |X_d| entries) stays small."""
MAX_STATES = 6
"""At most this many states per variable."""
MAX_JOINT_SIZE = 10_000
"""At most this many joint configurations Π_d |X_d| (e.g. 8 variables with 3 states = 6,561)."""
MAX_SAMPLES = 1_000_000
"""At most this many ancestral samples in one call."""
ROW_TOLERANCE = 1e-6
"""A CPT row is accepted when its entries sum to 1 within this tolerance."""
PROBABILITY_COLUMN = "probability"
"""Name of the probability column of :meth:`BayesianNetwork.joint_table`."""

# Column names used by the tables this module returns; variables may not use them.
_RESERVED_NAMES = {"probability", "exact", "empirical", "count", "n", "tv", "variable", "state"}
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]{0,23}$")
_STATE_RE = re.compile(r"^[A-Za-z0-9_.+\- ]{1,16}$")


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #
def default_state_names(count: int) -> list[str]:
    """State names ``"0", "1", ..., str(count - 1)`` for a variable with ``count`` states."""
    count = int(check_range("number of states", count, 2, MAX_STATES))
    return [str(i) for i in range(count)]


def normalize_rows(table: Any) -> np.ndarray:
    """Turn every row of ``table`` into a probability distribution.

    Computes ``p_s ← max(p_s, 0) / Σ_t max(p_t, 0)`` per row: empty (NaN) and negative entries
    become 0 first; a row that then sums to 0 becomes uniform (1/|X| each).
    """
    array = np.array(table, dtype=float, copy=True)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] == 0:
        raise GenlabError(f"normalize_rows needs a 2-D table with at least one column (got shape {array.shape})")
    array[~np.isfinite(array)] = 0.0
    array = np.clip(array, 0.0, None)
    sums = array.sum(axis=1, keepdims=True)
    uniform = np.full_like(array, 1.0 / array.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums > 0, array / np.where(sums > 0, sums, 1.0), uniform)


def total_variation(p: Any, q: Any) -> float:
    """Total-variation distance TV(p, q) = ½ Σ_x |p(x) − q(x)| (0 = identical, 1 = disjoint)."""
    p_arr = np.asarray(p, dtype=float).ravel()
    q_arr = np.asarray(q, dtype=float).ravel()
    if p_arr.shape != q_arr.shape:
        raise GenlabError(f"total_variation needs two tables of the same size (got {p_arr.size} and {q_arr.size})")
    return float(0.5 * np.abs(p_arr - q_arr).sum())


def expected_tv(p: Any, n: int) -> float:
    """Typical TV between ``p`` and the frequencies of ``n`` samples from it.

    Uses the normal approximation E|p̂(x) − p(x)| ≈ √(2 p(x)(1 − p(x)) / (π n)), so
    E[TV] ≈ ½ Σ_x √(2 p(x)(1 − p(x)) / (π n)) — it shrinks like 1/√n.
    """
    p_arr = np.asarray(p, dtype=float).ravel()
    n = int(check_range("n", n, 1))
    return float(0.5 * np.sqrt(2.0 * p_arr * (1.0 - p_arr) / (math.pi * n)).sum())


def _round_rows(table: np.ndarray, decimals: int = 2) -> np.ndarray:
    """Round each row to ``decimals`` places keeping the row sum exactly 1 (largest remainder)."""
    scale = 10**decimals
    scaled = table * scale
    floors = np.floor(scaled)
    remainder = (scale - floors.sum(axis=1)).astype(int)
    order = np.argsort(-(scaled - floors), axis=1)
    for r in range(table.shape[0]):
        floors[r, order[r, : remainder[r]]] += 1
    return floors / scale


def _latex_name(name: str) -> str:
    """A variable name in LaTeX: one letter in math italics, longer names as upright text."""
    if len(name) == 1:
        return name
    return r"\text{" + name.replace("_", r"\_") + "}"


def _state_index(states: Sequence[str], name: str, state: Any) -> int:
    text = str(state)
    if text not in states:
        raise GenlabError(f"{name} has no state {text!r}; its states are {', '.join(states)}")
    return list(states).index(text)


# --------------------------------------------------------------------------- #
# Result records
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class CptRowProblem:
    """One invalid row of a CPT: its 0-based ``row``, its parent assignment and what is wrong."""

    variable: str
    row: int
    parents: dict[str, str]
    message: str


@dataclass(frozen=True)
class ParameterTerm:
    """One variable's share of the free parameters: (|X_d| − 1) · Π |parents| = ``count``."""

    variable: str
    states: int
    parent_configurations: int
    count: int


@dataclass(frozen=True)
class SampleComparison:
    """Sample frequencies against the exact joint.

    ``table`` has one row per joint configuration: the variables' states, ``exact`` = P(x),
    ``count`` (how many samples equal x) and ``empirical`` = count / n. ``tv`` is
    TV = ½ Σ_x |empirical(x) − exact(x)|.
    """

    table: pd.DataFrame
    tv: float
    n: int


# --------------------------------------------------------------------------- #
# Validation of the structure
# --------------------------------------------------------------------------- #
def _check_variables(variables: Mapping[str, Sequence[Any] | int]) -> dict[str, tuple[str, ...]]:
    if not isinstance(variables, Mapping) or not variables:
        raise GenlabError("give at least one variable as {name: [states]}")
    if len(variables) > MAX_VARIABLES:
        raise GenlabError(
            f"at most {MAX_VARIABLES} variables are allowed (got {len(variables)}) so the exact joint stays small"
        )
    checked: dict[str, tuple[str, ...]] = {}
    lower_names: set[str] = set()
    for raw_name, raw_states in variables.items():
        name = str(raw_name).strip()
        if not _NAME_RE.match(name):
            raise GenlabError(
                f"variable name {raw_name!r} is not allowed; use 1-24 letters, digits, spaces or _ , "
                "starting with a letter"
            )
        if name.lower() in _RESERVED_NAMES:
            raise GenlabError(
                f"{name!r} is used for a table column; choose another variable name "
                f"(not one of {', '.join(sorted(_RESERVED_NAMES))})"
            )
        if name.lower() in lower_names:
            raise GenlabError(f"two variables are called {name!r}; names must differ (ignoring case)")
        lower_names.add(name.lower())
        if isinstance(raw_states, (int, np.integer)) and not isinstance(raw_states, bool):
            states = default_state_names(int(raw_states))
        elif isinstance(raw_states, str) or not isinstance(raw_states, Sequence):
            raise GenlabError(f"the states of {name} must be a list of names like ['no', 'yes'] or a count")
        else:
            states = [str(s).strip() for s in raw_states]
        if not 2 <= len(states) <= MAX_STATES:
            raise GenlabError(f"{name} must have between 2 and {MAX_STATES} states (got {len(states)})")
        for state in states:
            if not _STATE_RE.match(state):
                raise GenlabError(
                    f"state {state!r} of {name} is not allowed; use 1-16 letters, digits, spaces or _ . + -"
                )
        if len(set(states)) != len(states):
            raise GenlabError(f"the states of {name} must all differ (got {', '.join(states)})")
        checked[name] = tuple(states)
    return checked


def _check_edges(edges: Iterable[Sequence[str]], index: Mapping[str, int]) -> tuple[tuple[str, str], ...]:
    checked: list[tuple[str, str]] = []
    for edge in edges:
        if isinstance(edge, str) or len(edge) != 2:
            raise GenlabError(f"an edge must be a (parent, child) pair (got {edge!r})")
        parent, child = (str(x).strip() for x in edge)
        for node in (parent, child):
            if node not in index:
                raise GenlabError(
                    f"the edge {parent} → {child} uses the unknown variable {node!r}; the variables are "
                    f"{', '.join(index)}"
                )
        if parent == child:
            raise GenlabError(
                f"the edges make a cycle {parent} → {parent} (an edge from a variable to itself); "
                "a Bayesian network's graph must be acyclic"
            )
        if (parent, child) in checked:
            raise GenlabError(f"the edge {parent} → {child} is listed twice")
        checked.append((parent, child))
    return tuple(checked)


def _find_cycle(names: Sequence[str], children: Mapping[str, Sequence[str]]) -> list[str]:
    """A directed cycle as a closed path [a, b, ..., a] that starts at its earliest variable in
    ``names``, or [] for an acyclic graph (found by :class:`graphlib.TopologicalSorter`)."""
    parents: dict[str, list[str]] = {name: [] for name in names}
    for parent in names:
        for child in children[parent]:
            parents[child].append(parent)
    try:
        graphlib.TopologicalSorter(parents).prepare()
    except graphlib.CycleError as err:
        # graphlib lists the cycle so that each node is a parent of the next one
        nodes = list(err.args[1][:-1])
        start = min(range(len(nodes)), key=lambda k: list(names).index(nodes[k]))
        nodes = nodes[start:] + nodes[:start]
        return nodes + [nodes[0]]
    return []


def _topological_order(names: Sequence[str], parents: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """A topological order by :class:`graphlib.TopologicalSorter`; among the variables whose parents
    are all placed, the earliest in ``names`` goes first (so tables list variables in a stable order)."""
    index = {name: k for k, name in enumerate(names)}
    sorter = graphlib.TopologicalSorter({name: parents[name] for name in names})
    sorter.prepare()
    ready: list[str] = []
    placed: list[str] = []
    while sorter.is_active():
        ready.extend(sorter.get_ready())
        name = min(ready, key=index.__getitem__)
        ready.remove(name)
        placed.append(name)
        sorter.done(name)
    return tuple(placed)
