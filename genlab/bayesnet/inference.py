"""Exact inference by enumeration (the joint, marginals, conditionals) and ancestral sampling of a
Bayesian network, with the comparison of samples against the exact joint.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from genlab.bayesnet.structure import (
    MAX_SAMPLES,
    PROBABILITY_COLUMN,
    total_variation,
    expected_tv,
    SampleComparison,
)
from genlab.errors import GenlabError, check_range


class InferenceMixin:
    """Methods of :class:`~genlab.bayesnet.network.BayesianNetwork`: the joint, queries and sampling."""

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
