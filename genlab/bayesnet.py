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
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from genlab.errors import GenlabError, check_range

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
# The network
# --------------------------------------------------------------------------- #
class BayesianNetwork:
    """A discrete Bayesian network: named variables with states, a DAG and one CPT per variable.

    Args:
        variables: ``{name: [state, ...]}`` in the order the tables should list them
            (2 to :data:`MAX_STATES` states each; an int ``k`` means states ``"0".."k-1"``).
        edges: ``(parent, child)`` pairs; the graph must be acyclic.
        cpts: ``{name: table}`` with the layout described in the module docstring (a 2-D
            ``(Π|parents|, |X|)`` table or the same numbers shaped ``(|U_1|, ..., |U_k|, |X|)``).
            ``None`` gives uniform tables. When given, every variable needs a table.

    Raises:
        GenlabError: unknown variables in edges or tables, a cycle (named), a table of the
            wrong shape, or a row that is not a probability distribution (named).

    The object is immutable: the ``with_*`` methods return a new network.
    """

    def __init__(
        self,
        variables: Mapping[str, Sequence[Any] | int],
        edges: Iterable[Sequence[str]] = (),
        cpts: Mapping[str, Any] | None = None,
    ) -> None:
        self._variables: dict[str, tuple[str, ...]] = _check_variables(variables)
        self._names: tuple[str, ...] = tuple(self._variables)
        self._index: dict[str, int] = {name: i for i, name in enumerate(self._names)}
        self._edges: tuple[tuple[str, str], ...] = _check_edges(edges, self._index)
        self._parents: dict[str, tuple[str, ...]] = {
            name: tuple(p for p in self._names if (p, name) in self._edges) for name in self._names
        }
        self._children: dict[str, tuple[str, ...]] = {
            name: tuple(c for c in self._names if (name, c) in self._edges) for name in self._names
        }
        cycle = _find_cycle(self._names, self._children)
        if cycle:
            raise GenlabError(
                f"the edges make a cycle {' → '.join(cycle)}; a Bayesian network's graph must be "
                "acyclic (no variable may be its own ancestor) — remove one of these edges"
            )
        self._order: tuple[str, ...] = _topological_order(self._names, self._parents)
        if self.joint_size > MAX_JOINT_SIZE:
            raise GenlabError(
                f"the joint table would have {self.joint_size:,} rows (Π of the state counts); at most "
                f"{MAX_JOINT_SIZE:,} are allowed so the exact joint stays small — use fewer variables or states"
            )
        tables: dict[str, np.ndarray] = {}
        if cpts is None:
            for name in self._names:
                tables[name] = self._uniform_table(name)
        else:
            if not isinstance(cpts, Mapping):
                raise GenlabError("cpts must be a dict {variable name: table} (or None for uniform tables)")
            unknown = [str(k) for k in cpts if k not in self._index]
            if unknown:
                raise GenlabError(
                    f"cpts has tables for unknown variable(s) {', '.join(unknown)}; "
                    f"the variables are {', '.join(self._names)}"
                )
            missing = [name for name in self._names if name not in cpts]
            if missing:
                raise GenlabError(
                    f"cpts is missing a table for {', '.join(missing)}; give one for every variable "
                    "(or cpts=None for uniform tables)"
                )
            for name in self._names:
                table = self._shape_table(name, cpts[name])
                problems = self.cpt_problems(name, table)
                if problems:
                    more = f" (and {len(problems) - 1} more row(s))" if len(problems) > 1 else ""
                    raise GenlabError(problems[0].message + more)
                tables[name] = table
        for table in tables.values():
            table.setflags(write=False)
        self._cpts = tables

    # ------------------------------------------------------------------ basics
    @property
    def names(self) -> tuple[str, ...]:
        """Variable names in the network's order (the column order of every table)."""
        return self._names

    @property
    def variables(self) -> dict[str, list[str]]:
        """``{name: [state, ...]}`` (a copy)."""
        return {name: list(states) for name, states in self._variables.items()}

    def states(self, name: str) -> list[str]:
        """The states of variable ``name``."""
        return list(self._variables[self._check_name(name)])

    @property
    def edges(self) -> list[tuple[str, str]]:
        """``(parent, child)`` pairs, sorted by the variable order."""
        return sorted(self._edges, key=lambda e: (self._index[e[0]], self._index[e[1]]))

    @property
    def state_counts(self) -> tuple[int, ...]:
        """|X_d| for every variable, in variable order."""
        return tuple(len(self._variables[name]) for name in self._names)

    @property
    def joint_size(self) -> int:
        """Number of joint configurations Π_d |X_d|."""
        return int(np.prod(self.state_counts))

    def parents(self, name: str) -> tuple[str, ...]:
        """parents(X): the variables with an edge into ``name``, in variable order."""
        return self._parents[self._check_name(name)]

    def children(self, name: str) -> tuple[str, ...]:
        """The variables ``name`` has an edge into, in variable order."""
        return self._children[self._check_name(name)]

    def topological_order(self) -> list[str]:
        """An order in which every parent comes before its children (ties: variable order).

        This is the order of the factors in :meth:`factorization` and of ancestral sampling.
        """
        return list(self._order)

    def depths(self) -> dict[str, int]:
        """Length of the longest directed path from a root (a variable without parents) to each variable.

        Roots have depth 0; drawing the graph in layers by depth makes every edge point downwards.
        """
        depth: dict[str, int] = {}
        for name in self._order:
            depth[name] = 1 + max((depth[p] for p in self._parents[name]), default=-1)
        return depth

    def ancestors(self, name: str) -> set[str]:
        """All variables with a directed path into ``name``."""
        found: set[str] = set()
        stack = list(self.parents(name))
        while stack:
            node = stack.pop()
            if node not in found:
                found.add(node)
                stack.extend(self._parents[node])
        return found

    def _check_name(self, name: str) -> str:
        if name not in self._index:
            raise GenlabError(f"unknown variable {name!r}; the variables are {', '.join(self._names)}")
        return name

    # -------------------------------------------------------------- the CPTs
    def parent_configurations(self, name: str) -> int:
        """Number of rows of the CPT of ``name``: Π_{U ∈ parents} |U| (1 for a root)."""
        return int(np.prod([len(self._variables[p]) for p in self.parents(name)], dtype=int))

    def cpt(self, name: str) -> np.ndarray:
        """The CPT of ``name`` as a ``(Π|parents|, |X|)`` array (a copy)."""
        return np.array(self._cpts[self._check_name(name)])

    def cpt_row_assignments(self, name: str) -> list[dict[str, str]]:
        """The parent assignment of each CPT row, e.g. ``[{"Cloudy": "no"}, {"Cloudy": "yes"}]``."""
        parents = self.parents(name)
        return [
            dict(zip(parents, combo))
            for combo in itertools.product(*(self._variables[p] for p in parents))
        ]

    def cpt_frame(self, name: str) -> pd.DataFrame:
        """The CPT of ``name`` as a table: one column per parent (its state in that row) and
        one column ``"<name>=<state>"`` per state of ``name`` holding P(name = state | row)."""
        parents = self.parents(name)
        table = self._cpts[self._check_name(name)]
        frame = pd.DataFrame(self.cpt_row_assignments(name), columns=list(parents))
        for s, state in enumerate(self._variables[name]):
            frame[self.state_column(name, state)] = table[:, s]
        return frame

    @staticmethod
    def state_column(name: str, state: str) -> str:
        """Column name ``"<name>=<state>"`` used by :meth:`cpt_frame` for P(name = state | parents)."""
        return f"{name}={state}"

    def cpt_from_frame(self, name: str, frame: pd.DataFrame) -> np.ndarray:
        """Read the probability columns of a (possibly edited) :meth:`cpt_frame` back into an array.

        Empty cells become NaN (which :meth:`cpt_problems` reports); text that is not a number
        raises GenlabError.
        """
        columns = [self.state_column(name, s) for s in self.states(name)]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise GenlabError(f"the table for {name} is missing the column(s) {', '.join(missing)}")
        try:
            values = frame[columns].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise GenlabError(f"every probability in the table for {name} must be a number between 0 and 1") from None
        return values

    def _uniform_table(self, name: str) -> np.ndarray:
        k = len(self._variables[name])
        return np.full((self.parent_configurations(name), k), 1.0 / k)

    def _shape_table(self, name: str, table: Any) -> np.ndarray:
        """Accept a 2-D ``(rows, |X|)`` table or an N-D ``(|U_1|, ..., |U_k|, |X|)`` one."""
        rows, k = self.parent_configurations(name), len(self._variables[name])
        try:
            array = np.array(table, dtype=float)
        except (TypeError, ValueError):
            raise GenlabError(f"the CPT of {name} must be a table of numbers") from None
        parent_shape = tuple(len(self._variables[p]) for p in self.parents(name))
        if array.shape == (k,) and rows == 1:
            array = array[None, :]
        elif array.shape == parent_shape + (k,):
            array = array.reshape(rows, k)
        if array.shape != (rows, k):
            parents = self.parents(name)
            why = (
                f"one row per assignment of its parents {', '.join(parents)}" if parents else "a single row (it has no parents)"
            )
            raise GenlabError(
                f"the CPT of {name} must have {rows} row(s) × {k} column(s) ({why}; one column per state "
                f"{', '.join(self._variables[name])}), got shape {array.shape}"
            )
        return array

    def cpt_problems(self, name: str, table: Any) -> list[CptRowProblem]:
        """Every row of ``table`` (a candidate CPT for ``name``) that is not a distribution.

        A row is valid when all entries are numbers ≥ 0 and Σ_s P(X = s | row) = 1 within
        :data:`ROW_TOLERANCE`. Returns an empty list for a valid table; raises GenlabError only
        for a table of the wrong shape. Messages name the row, e.g.
        ``CPT of Rain, row 2 (Cloudy=yes): the probabilities sum to 1.2; each row must sum to 1``.
        """
        array = self._shape_table(self._check_name(name), table)
        problems: list[CptRowProblem] = []
        assignments = self.cpt_row_assignments(name)
        states = self._variables[name]
        for r, row in enumerate(array):
            given = assignments[r]
            where = (
                f"row {r + 1} ({', '.join(f'{p}={s}' for p, s in given.items())})"
                if given
                else "its only row (no parents)"
            )
            prefix = f"CPT of {name}, {where}: "
            if not np.all(np.isfinite(row)):
                bad = [states[s] for s in range(len(row)) if not np.isfinite(row[s])]
                message = f"{prefix}the entry for {', '.join(bad)} is empty or not a number; enter probabilities between 0 and 1"
            elif np.any(row < 0):
                s = int(np.argmin(row))
                message = f"{prefix}P({name}={states[s]}) = {row[s]:g} is negative; probabilities must be between 0 and 1"
            elif abs(row.sum() - 1.0) > ROW_TOLERANCE:
                message = (
                    f"{prefix}the probabilities sum to {row.sum():.6g}; each row must sum to 1 "
                    f"(±{ROW_TOLERANCE:g}) — fix the numbers or normalize the row"
                )
            else:
                continue
            problems.append(CptRowProblem(name, r, dict(given), message))
        return problems

    # ------------------------------------------------------ the factorization
    def factorization(self) -> str:
        """The product rule for this graph as text, factors in topological order, e.g.
        ``"P(A,B,C) = P(A) P(B | A) P(C | A, B)"``."""
        return f"P({','.join(self._names)}) = " + " ".join(self.factors())

    def factors(self) -> list[str]:
        """The factors P(X_d | parents(X_d)) as text, in topological order."""
        out = []
        for name in self._order:
            parents = self._parents[name]
            out.append(f"P({name} | {', '.join(parents)})" if parents else f"P({name})")
        return out

    def factorization_latex(self, max_line_chars: int | None = None) -> str:
        r"""The factorization in LaTeX (for ``st.latex``), e.g.
        ``P(A, B, C) = P(A)\,P(B \mid A)\,P(C \mid A, B)``.

        With ``max_line_chars`` the formula is broken into lines for narrow columns and projectors
        (an ``aligned`` environment): P(X_1, ..., X_D) on the first line, then the factors packed
        into lines of at most about ``max_line_chars`` characters of plain text. A formula that
        fits on one line stays on one line.
        """
        lhs = "P(" + ", ".join(_latex_name(n) for n in self._names) + ")"
        factors = []
        for name in self._order:
            parents = self._parents[name]
            if parents:
                factors.append(
                    f"P({_latex_name(name)} \\mid {', '.join(_latex_name(p) for p in parents)})"
                )
            else:
                factors.append(f"P({_latex_name(name)})")
        one_line = lhs + " = " + r"\,".join(factors)
        if max_line_chars is None or len(self.factorization()) <= max_line_chars:
            return one_line
        limit = int(check_range("max_line_chars", max_line_chars, 1))
        lines: list[list[int]] = []
        width = 0
        for i, text in enumerate(self.factors()):
            if lines and width + 1 + len(text) <= limit:
                lines[-1].append(i)
                width += 1 + len(text)
            else:
                lines.append([i])
                width = len(text)
        rows = [r"\,".join(factors[i] for i in line) for line in lines]
        body = f"&{lhs} \\\\ &\\quad= {rows[0]}" + "".join(f" \\\\ &\\qquad {row}" for row in rows[1:])
        return r"\begin{aligned}" + body + r"\end{aligned}"

    def product_rule_terms(self, assignment: Mapping[str, Any]) -> list[tuple[str, float]]:
        """For a full assignment x: each factor P(x_d | x_parents(d)) as ``(text, value)``.

        Their product is the joint probability P(x) (see :meth:`probability`).
        """
        idx = self._full_assignment(assignment)
        terms = []
        for name in self._order:
            parents = self._parents[name]
            state = self._variables[name][idx[name]]
            row = self._row_of({p: idx[p] for p in parents}, name)
            given = ", ".join(f"{p}={self._variables[p][idx[p]]}" for p in parents)
            text = f"P({name}={state} | {given})" if parents else f"P({name}={state})"
            terms.append((text, float(self._cpts[name][row, idx[name]])))
        return terms

    def _full_assignment(self, assignment: Mapping[str, Any]) -> dict[str, int]:
        missing = [n for n in self._names if n not in assignment]
        if missing:
            raise GenlabError(f"give a state for every variable; missing: {', '.join(missing)}")
        return self._assignment_indices(assignment)

    def _assignment_indices(self, assignment: Mapping[str, Any]) -> dict[str, int]:
        return {
            self._check_name(name): _state_index(self._variables[name], name, state)
            for name, state in assignment.items()
        }

    def _row_of(self, parent_indices: Mapping[str, int], name: str) -> int:
        parents = self._parents[name]
        if not parents:
            return 0
        return int(
            np.ravel_multi_index(
                tuple(parent_indices[p] for p in parents), tuple(len(self._variables[p]) for p in parents)
            )
        )

    # ------------------------------------------------------- parameter counts
    def parameter_terms(self) -> list[ParameterTerm]:
        """Each variable's free parameters (|X_d| − 1) · Π_{U ∈ parents(X_d)} |U|, in topological order.

        A CPT row has |X_d| entries but only |X_d| − 1 are free (the last is 1 minus the others).
        """
        terms = []
        for name in self._order:
            k = len(self._variables[name])
            rows = self.parent_configurations(name)
            terms.append(ParameterTerm(name, k, rows, (k - 1) * rows))
        return terms

    def parameter_count(self) -> int:
        """Free parameters of the network: Σ_d (|X_d| − 1) · Π_{U ∈ parents(X_d)} |U|."""
        return sum(t.count for t in self.parameter_terms())

    def full_joint_parameter_count(self) -> int:
        """Free parameters of an unrestricted joint table (no independence assumptions): Π_d |X_d| − 1."""
        return self.joint_size - 1

    def parameter_count_formula(self) -> str:
        """The sum behind :meth:`parameter_count`, e.g. ``"1 + 2 + 2 + 4 = 9"``."""
        terms = self.parameter_terms()
        return " + ".join(str(t.count) for t in terms) + f" = {self.parameter_count()}"

    def full_joint_parameter_count_formula(self) -> str:
        """The product behind :meth:`full_joint_parameter_count`, e.g. ``"2·2·2·2 − 1 = 15"``."""
        return "·".join(str(k) for k in self.state_counts) + f" − 1 = {self.full_joint_parameter_count()}"

    # ------------------------------------------------------------ the joint
    def joint_array(self) -> np.ndarray:
        """The exact joint as an array of shape (|X_1|, ..., |X_D|), by the product rule
        P(x_1, ..., x_D) = Π_d P(x_d | x_parents(d)) (each CPT broadcast over the other axes)."""
        sizes = self.state_counts
        joint = np.ones(sizes)
        for name in self._names:
            axes = [self._index[p] for p in self._parents[name]] + [self._index[name]]
            table = self._cpts[name].reshape([sizes[a] for a in axes])
            table = table.transpose(np.argsort(axes))
            joint = joint * table.reshape([sizes[a] if a in axes else 1 for a in range(len(sizes))])
        return joint

    def joint_table(self) -> pd.DataFrame:
        """Every joint configuration with its exact probability (column :data:`PROBABILITY_COLUMN`).

        Rows follow ``itertools.product`` order over the variables' states; the probabilities
        sum to 1.
        """
        frame = self._configurations_frame()
        frame[PROBABILITY_COLUMN] = self.joint_array().ravel()
        return frame

    def _configurations_frame(self) -> pd.DataFrame:
        rows = list(itertools.product(*(self._variables[n] for n in self._names)))
        return pd.DataFrame(rows, columns=list(self._names))

    def probability(self, assignment: Mapping[str, Any]) -> float:
        """P(assignment) for a full or partial assignment, e.g. ``{"Rain": "yes"}``: the sum of
        the joint over the variables not named."""
        idx = self._assignment_indices(assignment)
        joint = self.joint_array()
        index = tuple(idx.get(name, slice(None)) for name in self._names)
        return float(np.sum(joint[index]))

    def marginal(self, name: str) -> pd.Series:
        """P(name = s) for every state s: Σ of the joint over all other variables."""
        axis = self._index[self._check_name(name)]
        other = tuple(a for a in range(len(self._names)) if a != axis)
        values = self.joint_array().sum(axis=other)
        return pd.Series(values, index=pd.Index(self.states(name), name=name), name=f"P({name})")

    def conditional(self, query: str, evidence: Mapping[str, Any] | None = None) -> pd.Series:
        """P(query | evidence) by enumeration.

        P(q | e) = Σ_h P(q, e, h) / Σ_{q', h} P(q', e, h), where h runs over the variables that are
        neither the query nor evidence. ``evidence`` maps variable names to observed states.

        Raises GenlabError for unknown names/states, a query that is also evidence, or evidence of
        probability 0 (then P(query | evidence) is undefined).
        """
        self._check_name(query)
        evidence = dict(evidence or {})
        if query in evidence:
            raise GenlabError(f"{query} is both the query and evidence; choose a query variable that is not observed")
        idx = self._assignment_indices(evidence)
        joint = self.joint_array()
        index = tuple(idx.get(name, slice(None)) for name in self._names)
        # After fixing the evidence, the remaining axes are the unobserved variables in order.
        remaining = [name for name in self._names if name not in idx]
        restricted = joint[index]
        q_axis = remaining.index(query)
        other = tuple(a for a in range(len(remaining)) if a != q_axis)
        unnormalized = restricted.sum(axis=other) if other else restricted
        total = float(unnormalized.sum())
        given = ", ".join(f"{k}={v}" for k, v in evidence.items())
        if total <= 0.0:
            raise GenlabError(
                f"the evidence {given} has probability 0 in this network, so P({query} | {given}) is "
                "undefined; choose other evidence or change the CPTs"
            )
        label = f"P({query} | {given})" if evidence else f"P({query})"
        return pd.Series(unnormalized / total, index=pd.Index(self.states(query), name=query), name=label)

    # ------------------------------------------------------------ sampling
    def sample_indices(self, n: int, seed: int | None = 0) -> np.ndarray:
        """``n`` ancestral samples as state indices, shape (n, D) in variable order.

        Ancestral sampling: visit the variables in topological order and draw each X_d from
        P(X_d | parents) with the parents' already drawn values. Sample i uses the uniform numbers
        u[i, :] of ``numpy.random.default_rng(seed).random((n, D))`` (inverse-CDF per variable), so
        the first n rows of ``sample_indices(m, seed)`` equal ``sample_indices(n, seed)``.
        """
        n = int(check_range("number of samples n", n, 1, MAX_SAMPLES))
        rng = np.random.default_rng(seed)
        uniforms = rng.random((n, len(self._names)))
        out = np.zeros((n, len(self._names)), dtype=np.int64)
        for name in self._order:
            col = self._index[name]
            parents = self._parents[name]
            if parents:
                rows = np.ravel_multi_index(
                    tuple(out[:, self._index[p]] for p in parents),
                    tuple(len(self._variables[p]) for p in parents),
                )
            else:
                rows = np.zeros(n, dtype=np.int64)
            # inverse CDF: the drawn state is the number of cumulative sums F(s | row) <= u
            cumulative = np.cumsum(self._cpts[name], axis=1)
            cumulative /= cumulative[:, -1:]  # rows sum to 1 only within ROW_TOLERANCE
            u = uniforms[:, col]
            draws = np.zeros(n, dtype=np.int64)
            for s in range(cumulative.shape[1] - 1):
                draws += u >= (cumulative[rows, s] if parents else cumulative[0, s])
            out[:, col] = draws
        return out

    def sample(self, n: int, seed: int | None = 0) -> pd.DataFrame:
        """``n`` ancestral samples (see :meth:`sample_indices`) as a table of states, one
        categorical column per variable (categories in state order)."""
        indices = self.sample_indices(n, seed)
        return pd.DataFrame(
            {
                name: pd.Categorical.from_codes(indices[:, i], categories=list(self._variables[name]))
                for i, name in enumerate(self._names)
            }
        )

    def _indices_from_samples(self, samples: pd.DataFrame | np.ndarray) -> np.ndarray:
        if isinstance(samples, np.ndarray):
            array = np.asarray(samples, dtype=np.int64)
            if array.ndim != 2 or array.shape[1] != len(self._names):
                raise GenlabError(f"samples must have one column per variable ({len(self._names)})")
            return array
        missing = [n for n in self._names if n not in samples.columns]
        if missing:
            raise GenlabError(f"the samples have no column for {', '.join(missing)}")
        columns = []
        for name in self._names:
            states = list(self._variables[name])
            codes = pd.Categorical(samples[name].astype(str), categories=states).codes
            if np.any(codes < 0):
                raise GenlabError(f"the samples of {name} contain states other than {', '.join(states)}")
            columns.append(codes.astype(np.int64))
        return np.stack(columns, axis=1) if columns else np.zeros((0, 0), dtype=np.int64)

    def joint_counts(self, samples: pd.DataFrame | np.ndarray) -> np.ndarray:
        """How many samples fall on each joint configuration (flat, ``joint_table`` row order)."""
        indices = self._indices_from_samples(samples)
        flat = np.ravel_multi_index(tuple(indices.T), self.state_counts)
        return np.bincount(flat, minlength=self.joint_size)

    def compare_joint(self, samples: pd.DataFrame | np.ndarray) -> SampleComparison:
        """Sample frequencies of each joint configuration against the exact joint, with
        TV = ½ Σ_x |count(x)/n − P(x)|."""
        counts = self.joint_counts(samples)
        n = int(counts.sum())
        if n == 0:
            raise GenlabError("need at least one sample to compare with the exact joint")
        table = self._configurations_frame()
        table["exact"] = self.joint_array().ravel()
        table["count"] = counts
        table["empirical"] = counts / n
        return SampleComparison(table=table, tv=total_variation(table["empirical"], table["exact"]), n=n)

    def empirical_vs_exact(self, n: int, seed: int | None = 0) -> SampleComparison:
        """Draw ``n`` ancestral samples with ``seed`` and compare their frequencies with the exact
        joint (see :meth:`compare_joint`); the TV shrinks roughly like 1/√n."""
        return self.compare_joint(self.sample_indices(n, seed))

    def compare_marginals(self, samples: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        """Per variable and state: exact marginal P(X_d = s) and the sample frequency
        (columns ``variable``, ``state``, ``exact``, ``empirical``) — readable when the joint is large."""
        indices = self._indices_from_samples(samples)
        n = len(indices)
        if n == 0:
            raise GenlabError("need at least one sample to compare with the exact marginals")
        rows = []
        for i, name in enumerate(self._names):
            exact = self.marginal(name).to_numpy()
            counts = np.bincount(indices[:, i], minlength=len(exact))
            for s, state in enumerate(self._variables[name]):
                rows.append((name, state, float(exact[s]), counts[s] / n))
        return pd.DataFrame(rows, columns=["variable", "state", "exact", "empirical"])

    def tv_by_sample_size(self, sizes: Iterable[int], seed: int | None = 0) -> pd.DataFrame:
        """TV(sample frequencies, exact joint) for growing sample sizes, with the 1/√n reference.

        Draws ``max(sizes)`` ancestral samples once with ``seed`` and uses the first n of them for
        each n, so the curve shows one growing sample approaching the joint. Columns: ``n``,
        ``tv`` and ``expected`` (the typical TV of :func:`expected_tv`).
        """
        sizes = sorted({int(check_range("sample size", s, 1, MAX_SAMPLES)) for s in sizes})
        if not sizes:
            raise GenlabError("give at least one sample size")
        flat = np.ravel_multi_index(tuple(self.sample_indices(sizes[-1], seed).T), self.state_counts)
        exact = self.joint_array().ravel()
        rows = []
        for n in sizes:
            empirical = np.bincount(flat[:n], minlength=self.joint_size) / n
            rows.append((n, total_variation(empirical, exact), expected_tv(exact, n)))
        return pd.DataFrame(rows, columns=["n", "tv", "expected"])

    # ------------------------------------------------- building new networks
    def _rebuild(
        self,
        variables: Mapping[str, Sequence[str]],
        edges: Iterable[tuple[str, str]],
        overrides: Mapping[str, Any] | None = None,
    ) -> BayesianNetwork:
        """A network with new structure; a variable keeps its CPT when its states and its parents
        (with their states) are unchanged, otherwise it gets a uniform CPT."""
        draft = BayesianNetwork(variables, edges)  # validates the structure, uniform tables
        cpts: dict[str, Any] = {}
        for name in draft.names:
            same = (
                name in self._variables
                and self._variables[name] == tuple(variables[name])
                and draft.parents(name) == self._parents[name]
                and all(self._variables[p] == tuple(variables[p]) for p in draft.parents(name))
            )
            cpts[name] = self._cpts[name] if same else draft._cpts[name]
        cpts.update(overrides or {})
        return BayesianNetwork(variables, draft.edges, cpts)

    def with_cpt(self, name: str, table: Any) -> BayesianNetwork:
        """A copy with a new CPT for ``name`` (validated: GenlabError names a bad row)."""
        self._check_name(name)
        return self._rebuild(self._variables, self._edges, {name: table})

    def with_edge(self, parent: str, child: str) -> BayesianNetwork:
        """A copy with the edge parent → child added; refuses cycles, naming the cycle it would close.

        The child's CPT becomes uniform (it gains a parent, so its table gets more rows).
        """
        self._check_name(parent)
        self._check_name(child)
        if parent == child:
            raise GenlabError(
                f"an edge from {parent} to itself would be a cycle; a Bayesian network must be acyclic — "
                "pick two different variables"
            )
        if (parent, child) in self._edges:
            raise GenlabError(f"the edge {parent} → {child} is already in the graph")
        path = self._directed_path(child, parent)
        if path:
            cycle = " → ".join(path + [child])
            raise GenlabError(
                f"adding {parent} → {child} would close the cycle {cycle}; a Bayesian network must be "
                f"acyclic — remove an edge of that cycle first or add {child} → {parent} instead"
            )
        return self._rebuild(self._variables, list(self._edges) + [(parent, child)])

    def without_edge(self, parent: str, child: str) -> BayesianNetwork:
        """A copy without the edge parent → child (the child's CPT becomes uniform)."""
        if (parent, child) not in self._edges:
            listed = ", ".join(f"{p} → {c}" for p, c in self.edges) or "none"
            raise GenlabError(f"there is no edge {parent} → {child}; the edges are: {listed}")
        return self._rebuild(self._variables, [e for e in self._edges if e != (parent, child)])

    def with_edges(self, edges: Iterable[Sequence[str]]) -> BayesianNetwork:
        """A copy with exactly these edges (CPTs kept where a variable's parents did not change)."""
        return self._rebuild(self._variables, [tuple(e) for e in edges])

    def with_variable(self, name: str, states: Sequence[Any] | int = 2) -> BayesianNetwork:
        """A copy with one more variable (no edges yet, uniform CPT); ``states`` is a list of state
        names or a count k (states ``"0".."k-1"``)."""
        name = str(name).strip()
        if name in self._variables:
            raise GenlabError(f"there is already a variable called {name}; choose another name")
        if len(self._variables) >= MAX_VARIABLES:
            raise GenlabError(
                f"a network here has at most {MAX_VARIABLES} variables (so the exact joint stays small); "
                "remove one first"
            )
        variables: dict[str, Any] = dict(self._variables)
        variables[name] = states
        checked = _check_variables(variables)
        return self._rebuild(checked, self._edges)

    def without_variable(self, name: str) -> BayesianNetwork:
        """A copy without ``name`` and its edges (its children's CPTs become uniform)."""
        self._check_name(name)
        if len(self._variables) == 1:
            raise GenlabError("a network needs at least one variable; add another before removing this one")
        variables = {k: v for k, v in self._variables.items() if k != name}
        edges = [e for e in self._edges if name not in e]
        return self._rebuild(variables, edges)

    def with_uniform_cpts(self) -> BayesianNetwork:
        """A copy where every CPT row is uniform: P(X = s | parents) = 1/|X|."""
        return BayesianNetwork(self._variables, self._edges)

    def with_random_cpts(self, seed: int | None = 0, concentration: float = 1.0, decimals: int = 2) -> BayesianNetwork:
        """A copy with random CPTs: each row drawn from Dirichlet(concentration, ..., concentration)
        and rounded to ``decimals`` places (rows still sum to exactly 1)."""
        check_range("concentration", concentration, 0, None, low_inclusive=False)
        rng = np.random.default_rng(seed)
        cpts = {}
        for name in self._names:
            k = len(self._variables[name])
            rows = rng.dirichlet(np.full(k, float(concentration)), size=self.parent_configurations(name))
            cpts[name] = _round_rows(rows, decimals) if decimals is not None else rows
        return BayesianNetwork(self._variables, self._edges, cpts)

    @classmethod
    def uniform(cls, variables: Mapping[str, Sequence[Any] | int], edges: Iterable[Sequence[str]] = ()) -> BayesianNetwork:
        """A network with uniform CPTs (every row 1/|X|)."""
        return cls(variables, edges)

    @classmethod
    def random(
        cls,
        variables: Mapping[str, Sequence[Any] | int],
        edges: Iterable[Sequence[str]] = (),
        seed: int | None = 0,
        concentration: float = 1.0,
    ) -> BayesianNetwork:
        """A network with random CPTs (rows ~ Dirichlet(concentration), rounded to 2 places)."""
        return cls(variables, edges).with_random_cpts(seed, concentration)

    def _directed_path(self, start: str, goal: str) -> list[str]:
        """A directed path start → ... → goal (list of names), or [] when there is none."""
        previous: dict[str, str | None] = {start: None}
        queue = [start]
        while queue:
            node = queue.pop(0)
            if node == goal:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])  # type: ignore[arg-type]
                return path[::-1]
            for child in self._children[node]:
                if child not in previous:
                    previous[child] = node
                    queue.append(child)
        return []

    # ------------------------------------------------------ (de)serialising
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description: ``{"variables": {name: [states]}, "edges": [[parent, child]],
        "cpts": {name: [[row], ...]}}``; :meth:`from_dict` reads it back."""
        return {
            "variables": self.variables,
            "edges": [list(e) for e in self.edges],
            "cpts": {name: self._cpts[name].tolist() for name in self._names},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BayesianNetwork:
        """Build a network from :meth:`to_dict` output (validated like the constructor)."""
        if not isinstance(data, Mapping) or "variables" not in data:
            raise GenlabError('a network description must be a dict with "variables", "edges" and "cpts"')
        edges = data.get("edges") or []
        if not isinstance(edges, (list, tuple)) or not all(isinstance(e, (list, tuple)) for e in edges):
            raise GenlabError('"edges" must be a list of [parent, child] pairs')
        return cls(data["variables"], edges, data.get("cpts"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BayesianNetwork):
            return NotImplemented
        return (
            self._variables == other._variables
            and set(self._edges) == set(other._edges)
            and all(np.array_equal(self._cpts[n], other._cpts[n]) for n in self._names)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BayesianNetwork({self.factorization()!r})"


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
    """A directed cycle as a closed path [a, b, ..., a], or [] for an acyclic graph (DFS colouring)."""
    colour = {name: 0 for name in names}  # 0 = new, 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        colour[node] = 1
        path.append(node)
        for child in children[node]:
            if colour[child] == 1:
                return path[path.index(child) :] + [child]
            if colour[child] == 0:
                found = visit(child)
                if found:
                    return found
        path.pop()
        colour[node] = 2
        return []

    for name in names:
        if colour[name] == 0:
            found = visit(name)
            if found:
                return found
    return []


def _topological_order(names: Sequence[str], parents: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Kahn's algorithm; among the variables whose parents are all placed, the earliest in
    ``names`` goes first."""
    placed: list[str] = []
    remaining = list(names)
    while remaining:
        for name in remaining:
            if all(p in placed for p in parents[name]):
                placed.append(name)
                remaining.remove(name)
                break
        else:  # pragma: no cover - _find_cycle ran first
            raise GenlabError("the graph has a cycle")
    return tuple(placed)


# --------------------------------------------------------------------------- #
# Presets
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Preset:
    """A ready-made network with a short explanation and a suggested query P(query | evidence)."""

    name: str
    description: str
    variables: dict[str, list[str]]
    edges: list[tuple[str, str]]
    cpts: dict[str, list[list[float]]]
    query: str
    evidence: dict[str, str] = field(default_factory=dict)

    def network(self) -> BayesianNetwork:
        """The preset as a :class:`BayesianNetwork`."""
        return BayesianNetwork(self.variables, self.edges, self.cpts)


_NY = ["no", "yes"]

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            name="VAE: z → x",
            description=(
                "The VAE's generative model as a two-node network: first draw a latent code "
                "z ~ p(z), then an observation x ~ p(x | z). Here z has 3 states and x has 4, so "
                "everything can be enumerated. In the real VAE z is continuous (z ~ N(0, I)) and x is "
                "an image whose p(x | z) is the decoder network. The data likelihood is the marginal "
                "p(x) = Σ_z p(z) p(x | z) (an integral over z in the VAE): that is the quantity the "
                "ELBO bounds from below, log p(x) ≥ E_q(z|x)[log p(x | z)] − KL(q(z | x) ‖ p(z)). "
                "Asking for P(z | x) below gives the exact posterior that the VAE's encoder q(z | x) "
                "approximates. Note: with only z → x there is no independence assumption, so the "
                "parameter counts with and without the graph are equal."
            ),
            variables={"z": ["z1", "z2", "z3"], "x": ["x1", "x2", "x3", "x4"]},
            edges=[("z", "x")],
            cpts={
                "z": [[0.5, 0.3, 0.2]],
                "x": [
                    [0.7, 0.2, 0.05, 0.05],
                    [0.1, 0.6, 0.2, 0.1],
                    [0.05, 0.15, 0.3, 0.5],
                ],
            },
            query="z",
            evidence={"x": "x2"},
        ),
        Preset(
            name="chain A → B → C",
            description=(
                "A causal chain: A influences C only through B. P(A,B,C) = P(A) P(B | A) P(C | B) — "
                "C's table does not mention A. So A and C are dependent, but independent given B "
                "(observing B blocks the path): compare P(C | B=1) with P(C | A=0, B=1)."
            ),
            variables={"A": ["0", "1"], "B": ["0", "1"], "C": ["0", "1"]},
            edges=[("A", "B"), ("B", "C")],
            cpts={
                "A": [[0.6, 0.4]],
                "B": [[0.8, 0.2], [0.3, 0.7]],
                "C": [[0.9, 0.1], [0.25, 0.75]],
            },
            query="C",
            evidence={"A": "1"},
        ),
        Preset(
            name="common cause (fork)",
            description=(
                "A common cause: a hot day makes both ice-cream sales and sunburn more likely. Ice "
                "cream and sunburn are correlated (observing one changes the probability of the other) "
                "without causing each other; once the common cause is observed they become "
                "independent: P(Sunburn | Ice cream, Hot day) = P(Sunburn | Hot day)."
            ),
            variables={"Hot day": _NY, "Ice cream": _NY, "Sunburn": _NY},
            edges=[("Hot day", "Ice cream"), ("Hot day", "Sunburn")],
            cpts={
                "Hot day": [[0.7, 0.3]],
                "Ice cream": [[0.8, 0.2], [0.2, 0.8]],
                "Sunburn": [[0.9, 0.1], [0.4, 0.6]],
            },
            query="Sunburn",
            evidence={"Ice cream": "yes"},
        ),
        Preset(
            name="v-structure (collider, explaining away)",
            description=(
                "Two independent causes of one effect: a burglary or an earthquake can set off the "
                "alarm. Burglary and Earthquake are independent — until the alarm is observed. Given "
                "Alarm=yes, also learning Earthquake=yes *lowers* the probability of a burglary: the "
                "earthquake explains the alarm away. Compare P(Burglary | Alarm=yes) with "
                "P(Burglary | Alarm=yes, Earthquake=yes)."
            ),
            variables={"Burglary": _NY, "Earthquake": _NY, "Alarm": _NY},
            edges=[("Burglary", "Alarm"), ("Earthquake", "Alarm")],
            cpts={
                "Burglary": [[0.9, 0.1]],
                "Earthquake": [[0.8, 0.2]],
                "Alarm": [[0.95, 0.05], [0.4, 0.6], [0.1, 0.9], [0.05, 0.95]],
            },
            query="Burglary",
            evidence={"Alarm": "yes"},
        ),
        Preset(
            name="sprinkler/rain/wet grass",
            description=(
                "The classic example (Russell & Norvig; K. Murphy): cloudy weather makes rain likely "
                "and the sprinkler unlikely; either one wets the grass. The graph saves parameters: "
                "1 + 2 + 2 + 4 = 9 free numbers instead of 2⁴ − 1 = 15 for a full joint table. "
                "Seeing wet grass makes rain more likely (P(Rain=yes | Wet grass=yes) ≈ 0.708)."
            ),
            variables={"Cloudy": _NY, "Sprinkler": _NY, "Rain": _NY, "Wet grass": _NY},
            edges=[("Cloudy", "Sprinkler"), ("Cloudy", "Rain"), ("Sprinkler", "Wet grass"), ("Rain", "Wet grass")],
            cpts={
                "Cloudy": [[0.5, 0.5]],
                "Sprinkler": [[0.5, 0.5], [0.9, 0.1]],
                "Rain": [[0.8, 0.2], [0.2, 0.8]],
                "Wet grass": [[1.0, 0.0], [0.1, 0.9], [0.1, 0.9], [0.01, 0.99]],
            },
            query="Rain",
            evidence={"Wet grass": "yes"},
        ),
        Preset(
            name="naive Bayes",
            description=(
                "Naive Bayes: a class variable (is this e-mail spam?) is the only parent of every "
                "feature (does the mail contain 'free', 'money', 'meeting'?). The features are assumed "
                "independent given the class, so P(Spam, F1..F3) = P(Spam) Π_i P(F_i | Spam): "
                "1 + 2 + 2 + 2 = 7 parameters instead of 15, and the count grows linearly, not "
                "exponentially, with the number of features. Classify with P(Spam | features)."
            ),
            variables={"Spam": _NY, "Free": _NY, "Money": _NY, "Meeting": _NY},
            edges=[("Spam", "Free"), ("Spam", "Money"), ("Spam", "Meeting")],
            cpts={
                "Spam": [[0.6, 0.4]],
                "Free": [[0.9, 0.1], [0.3, 0.7]],
                "Money": [[0.95, 0.05], [0.4, 0.6]],
                "Meeting": [[0.6, 0.4], [0.95, 0.05]],
            },
            query="Spam",
            evidence={"Free": "yes", "Money": "yes"},
        ),
        Preset(
            name="empty graph (build your own)",
            description=(
                "Three binary variables and no edges: with no edges the factorization says they are "
                "all independent, P(A,B,C) = P(A) P(B) P(C) — 3 parameters instead of 7. Add edges "
                "and variables below to build your own network."
            ),
            variables={"A": ["0", "1"], "B": ["0", "1"], "C": ["0", "1"]},
            edges=[],
            cpts={"A": [[0.5, 0.5]], "B": [[0.7, 0.3]], "C": [[0.2, 0.8]]},
            query="A",
            evidence={},
        ),
    ]
}

PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)


def preset_network(name: str) -> BayesianNetwork:
    """The network of the preset called ``name`` (one of :data:`PRESET_NAMES`)."""
    if name not in PRESETS:
        raise GenlabError(f"unknown preset {name!r}; choose one of: {'; '.join(PRESET_NAMES)}")
    return PRESETS[name].network()
