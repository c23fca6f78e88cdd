"""The factorization of a Bayesian network as text and LaTeX, the product rule for one assignment,
and the parameter counts (network vs full joint table).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from genlab.bayesnet.structure import (
    _latex_name,
    _state_index,
    ParameterTerm,
)
from genlab.errors import GenlabError, check_range


class FactorizationMixin:
    """Methods of :class:`~genlab.bayesnet.network.BayesianNetwork` about its factorization."""

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
