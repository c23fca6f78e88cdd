"""The :class:`BayesianNetwork`: variables, DAG and CPTs, and the edits that return a new network."""

from __future__ import annotations

import itertools
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from genlab.bayesnet.structure import (
    MAX_VARIABLES,
    MAX_JOINT_SIZE,
    ROW_TOLERANCE,
    _round_rows,
    CptRowProblem,
    _check_variables,
    _check_edges,
    _find_cycle,
    _topological_order,
)
from genlab.bayesnet.factorization import FactorizationMixin
from genlab.bayesnet.inference import InferenceMixin
from genlab.errors import GenlabError, check_range


# --------------------------------------------------------------------------- #
# The network
# --------------------------------------------------------------------------- #
class BayesianNetwork(FactorizationMixin, InferenceMixin):
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
