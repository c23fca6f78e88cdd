"""The Bayesian-networks page's state in its URL (no Streamlit calls; pure functions).

Everything the page shows follows from the preset (``?preset=``) plus the differences from it,
so a link stays short when little was changed. The query parameters, each left out when it
equals the preset's value:

==========  =================================================================================
``vars``    the variables and their states, in order: ``Cloudy:no,yes|Rain:no,yes``
``edges``   the edges ``parent>child``, comma-separated: ``Cloudy>Rain,Rain>Wet grass``;
            ``none`` for a graph without edges
``cpt``     the (valid) tables that differ from the preset's: ``Rain:0.8,0.2;0.4,0.6`` — rows
            separated by ``;``, one number per state, tables by ``|``. A variable whose states
            or parents differ from the preset starts from a uniform table (as on the page).
``draft``   tables as typed when they are not valid yet (red rows on the page), same format;
            an empty entry is an empty cell
``query``   the query variable X
``ev``      the evidence ``Wet grass:yes|Cloudy:no``; ``none`` for no evidence
==========  =================================================================================

Variable names cannot contain ``: , ; | >`` (see :mod:`genlab.bayesnet`), state names neither,
so these separators are unambiguous. :func:`state_from_link` never raises: a part of the link
that cannot be used is replaced by the preset's value and described in ``LinkState.warnings``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from genlab import bayesnet as bn
from genlab.errors import GenlabError

PARAMS = ("vars", "edges", "cpt", "draft", "query", "ev")
"""The page's query parameters besides ``preset``, ``n`` and ``seed`` (in the order they are read)."""
NONE = "none"
MAX_PARAM_CHARS = 60_000
"""A longer value cannot come from the page (8 variables, 10,000 joint entries) and is refused."""


class LinkError(ValueError):
    """A query parameter that cannot be read; the message says what is wrong."""


@dataclass
class LinkState:
    """What a link describes: the network (valid tables), the tables as typed, query, evidence."""

    network: bn.BayesianNetwork
    typed: dict[str, np.ndarray]
    query: str | None
    evidence: dict[str, str]
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- #
# Text formats
# --------------------------------------------------------------------------- #
def _check_length(param: str, text: str) -> None:
    if len(text) > MAX_PARAM_CHARS:
        raise LinkError(f"`{param}` is {len(text):,} characters long (at most {MAX_PARAM_CHARS:,})")


def encode_variables(variables: Mapping[str, list[str]]) -> str:
    return "|".join(f"{name}:{','.join(states)}" for name, states in variables.items())


def decode_variables(text: str) -> dict[str, list[str]]:
    _check_length("vars", text)
    variables: dict[str, list[str]] = {}
    for part in text.split("|"):
        name, sep, states = part.partition(":")
        name = name.strip()
        if not sep or not name or not states.strip():
            raise LinkError(f"`vars` entry {part!r} is not of the form Name:state1,state2")
        if name in variables:
            raise LinkError(f"`vars` names {name!r} twice")
        variables[name] = [s.strip() for s in states.split(",")]
    return variables


def encode_edges(edges: list[tuple[str, str]]) -> str:
    return ",".join(f"{p}>{c}" for p, c in edges) if edges else NONE


def decode_edges(text: str) -> list[tuple[str, str]]:
    _check_length("edges", text)
    if text.strip().lower() == NONE:
        return []
    edges = []
    for part in text.split(","):
        parent, sep, child = part.partition(">")
        if not sep or not parent.strip() or not child.strip():
            raise LinkError(f"`edges` entry {part!r} is not of the form Parent>Child")
        edges.append((parent.strip(), child.strip()))
    return edges


def _fmt(value: float) -> str:
    return "" if math.isnan(value) else format(float(value), ".10g")


def encode_tables(tables: Mapping[str, Any]) -> str:
    return "|".join(
        f"{name}:" + ";".join(",".join(_fmt(v) for v in row) for row in np.asarray(table, dtype=float))
        for name, table in tables.items()
    )


def decode_tables(param: str, text: str) -> dict[str, np.ndarray]:
    """``{name: 2-D array}`` (empty entries are NaN); shapes are checked by :func:`state_from_link`."""
    _check_length(param, text)
    tables: dict[str, np.ndarray] = {}
    for part in text.split("|"):
        name, sep, body = part.partition(":")
        name = name.strip()
        if not sep or not name:
            raise LinkError(f"`{param}` entry {part[:40]!r} is not of the form Name:p,p;p,p")
        rows = []
        for row in body.split(";"):
            try:
                rows.append([float(v) if v.strip() else math.nan for v in row.split(",")])
            except ValueError:
                raise LinkError(f"`{param}`: the table of {name} has an entry that is not a number ({row[:40]!r})") from None
        if len({len(r) for r in rows}) != 1:
            raise LinkError(f"`{param}`: the rows of {name}'s table have different lengths")
        tables[name] = np.array(rows, dtype=float)
    return tables


def encode_evidence(evidence: Mapping[str, str]) -> str:
    return "|".join(f"{name}:{state}" for name, state in evidence.items()) if evidence else NONE


def decode_evidence(text: str) -> dict[str, str]:
    _check_length("ev", text)
    if text.strip().lower() == NONE:
        return {}
    evidence = {}
    for part in text.split("|"):
        name, sep, state = part.partition(":")
        if not sep or not name.strip() or not state.strip():
            raise LinkError(f"`ev` entry {part!r} is not of the form Variable:state")
        evidence[name.strip()] = state.strip()
    return evidence


# --------------------------------------------------------------------------- #
# Network <-> parameters
# --------------------------------------------------------------------------- #
def base_network(preset: bn.BayesianNetwork, variables: Mapping[str, list[str]], edges) -> bn.BayesianNetwork:
    """The structure (``variables``, ``edges``) with the preset's table for every variable whose
    states, parents and parents' states are the preset's, and uniform tables for the others —
    what the page's graph builder gives."""
    plain = bn.BayesianNetwork(variables, edges)
    old = preset.variables
    cpts = {}
    for name in plain.names:
        same = (
            name in old
            and old[name] == plain.states(name)
            and plain.parents(name) == preset.parents(name)
            and all(old[p] == plain.states(p) for p in plain.parents(name))
        )
        cpts[name] = preset.cpt(name) if same else plain.cpt(name)
    return bn.BayesianNetwork(variables, plain.edges, cpts)


def _same_structure(a: bn.BayesianNetwork, b: bn.BayesianNetwork) -> tuple[bool, bool]:
    same_vars = list(a.variables.items()) == list(b.variables.items())
    return same_vars, set(a.edges) == set(b.edges)


def link_params(
    preset: bn.BayesianNetwork,
    network: bn.BayesianNetwork,
    typed: Mapping[str, Any],
) -> dict[str, str | None]:
    """``vars``, ``edges``, ``cpt`` and ``draft`` for ``network`` (None = leave out of the URL)."""
    same_vars, same_edges = _same_structure(network, preset)
    base = base_network(preset, network.variables, network.edges)
    changed = {n: network.cpt(n) for n in network.names if not np.array_equal(network.cpt(n), base.cpt(n))}
    drafts = {}
    for name in network.names:
        table = np.asarray(typed.get(name, network.cpt(name)), dtype=float)
        if table.shape == network.cpt(name).shape and not np.array_equal(table, network.cpt(name), equal_nan=True):
            drafts[name] = table
    return {
        "vars": None if same_vars else encode_variables(network.variables),
        "edges": None if same_edges else encode_edges(network.edges),
        "cpt": encode_tables(changed) if changed else None,
        "draft": encode_tables(drafts) if drafts else None,
    }


def query_params_for(preset: bn.Preset, query: str | None, evidence: Mapping[str, str]) -> dict[str, str | None]:
    """``query`` and ``ev`` (None = the preset's suggestion, left out of the URL)."""
    return {
        "query": None if query is None or query == preset.query else query,
        "ev": None if dict(evidence) == dict(preset.evidence) else encode_evidence(evidence),
    }


def _warn(warnings: list[str], param: str, err: Exception, fallback: str) -> None:
    warnings.append(f"This link's `{param}` setting could not be used ({err}); {fallback}.")


def _query_and_evidence(preset, network: bn.BayesianNetwork, params: Mapping[str, str | None],
                        warnings: list[str]) -> tuple[str | None, dict[str, str]]:
    """The link's query variable and evidence (``query``, ``ev``) for ``network``; a part it cannot
    use falls back to the preset's, with a sentence added to ``warnings``."""
    query: str | None = preset.query if preset.query in network.names else None
    if params.get("query") is not None:
        if params["query"] in network.names:
            query = params["query"]
        else:
            warnings.append(
                f"This link's `query` setting {params['query']!r} is not a variable of the network "
                f"({', '.join(network.names)}); the query is {query or network.names[0]} instead."
            )
    default_evidence = {k: v for k, v in preset.evidence.items() if k in network.names and v in network.states(k)}
    evidence = dict(default_evidence)
    if params.get("ev") is not None:
        try:
            wanted = decode_evidence(params["ev"])
        except LinkError as err:
            _warn(warnings, "ev", err, "using the preset's evidence")
        else:
            evidence, bad = {}, []
            for name, state in wanted.items():
                if name in network.names and state in network.states(name):
                    evidence[name] = state
                else:
                    bad.append(f"{name}={state}")
                    if name in default_evidence:  # a bad value of a known variable: the preset's value
                        evidence[name] = default_evidence[name]
            if bad:
                warnings.append(
                    f"This link's `ev` setting names evidence the network does not have ({', '.join(bad)}); "
                    "the preset's value is used there instead."
                )
    return query, evidence


def state_from_link(preset_name: str, params: Mapping[str, str | None]) -> LinkState:
    """The page state described by ``preset_name`` and the link's ``params`` (see module doc).

    Never raises for bad parameters: each unusable part falls back to the preset's value, with a
    sentence in ``warnings`` that says which parameter was ignored and why.
    """
    preset = bn.PRESETS[preset_name]
    preset_net = preset.network()
    warnings: list[str] = []

    # structure
    variables, edges = preset_net.variables, preset_net.edges
    structure_ok = True
    try:
        if params.get("vars") is not None:
            variables = decode_variables(params["vars"])
        if params.get("edges") is not None:
            edges = decode_edges(params["edges"])
        base = base_network(preset_net, variables, edges)
    except (LinkError, GenlabError) as err:
        which = " / ".join(f"`{p}`" for p in ("vars", "edges") if params.get(p) is not None)
        ignored = [f"`{p}`" for p in ("cpt", "draft") if params.get(p) is not None]
        warnings.append(
            f"This link's graph ({which}) could not be used ({err}); showing the graph and tables of the "
            f"preset “{preset_name}” instead"
            + (f" (its tables, {' and '.join(ignored)}, were ignored with it)." if ignored else ".")
        )
        base, structure_ok = preset_net, False

    # tables
    network = base
    typed = {name: base.cpt(name) for name in base.names}
    for param in ("cpt", "draft") if structure_ok else ():
        text = params.get(param)
        if text is None:
            continue
        try:
            tables = decode_tables(param, text)
        except LinkError as err:
            _warn(warnings, param, err, "showing the tables without it")
            continue
        for name, table in tables.items():
            if name not in network.names:
                warnings.append(
                    f"This link's `{param}` setting has a table for {name!r}, which is not a variable of the "
                    f"network ({', '.join(network.names)}); that table was ignored."
                )
                continue
            try:
                problems = network.cpt_problems(name, table)
            except GenlabError as err:  # wrong shape
                _warn(warnings, param, err, f"{name} keeps its default table")
                continue
            typed[name] = np.asarray(table, dtype=float).reshape(network.cpt(name).shape)
            if param == "cpt":
                if problems:
                    warnings.append(
                        f"This link's `cpt` table for {name} is not a valid CPT ({problems[0].message}); it is "
                        "shown as typed, and the page uses the default table until it is fixed."
                    )
                else:
                    network = network.with_cpt(name, typed[name])

    query, evidence = _query_and_evidence(preset, network, params, warnings)
    return LinkState(network, typed, query, evidence, warnings)
