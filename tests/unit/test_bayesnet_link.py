"""dashboard.bayesnet_link: the Bayesian-networks page's state as query parameters (pure functions)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard import bayesnet_link as link
from genlab import bayesnet as bn

SPRINKLER = "sprinkler/rain/wet grass"


def test_formats_round_trip():
    variables = {"Wet grass": ["no", "yes"], "Z": ["a-1", "b.2", "c+3"]}
    assert link.decode_variables(link.encode_variables(variables)) == variables
    edges = [("Wet grass", "Z")]
    assert link.decode_edges(link.encode_edges(edges)) == edges
    assert link.encode_edges([]) == "none" and link.decode_edges("none") == []
    tables = {"Z": np.array([[0.25, 0.5, 0.25], [1 / 3, 1 / 3, 1 / 3]]), "Wet grass": np.array([[math.nan, -0.5]])}
    back = link.decode_tables("cpt", link.encode_tables(tables))
    assert np.allclose(back["Z"], tables["Z"], atol=1e-10)
    assert math.isnan(back["Wet grass"][0, 0]) and back["Wet grass"][0, 1] == -0.5
    assert link.decode_evidence(link.encode_evidence({"Wet grass": "yes"})) == {"Wet grass": "yes"}
    assert link.encode_evidence({}) == "none" and link.decode_evidence("none") == {}


def test_the_preset_itself_needs_no_parameters():
    preset = bn.PRESETS[SPRINKLER]
    net = preset.network()
    assert link.link_params(net, net, {n: net.cpt(n) for n in net.names}) == dict.fromkeys(
        ("vars", "edges", "cpt", "draft"))
    assert link.query_params_for(preset, preset.query, preset.evidence) == {"query": None, "ev": None}
    state = link.state_from_link(SPRINKLER, {})
    assert state.network == net and not state.warnings
    assert state.query == preset.query and state.evidence == preset.evidence


def test_changed_structure_and_tables_round_trip():
    preset = bn.PRESETS[SPRINKLER].network()
    net = preset.with_variable("Dog", 3).with_edge("Dog", "Rain").with_random_cpts(seed=3)
    typed = {n: net.cpt(n) for n in net.names}
    typed["Dog"] = np.array([[0.5, 0.7, math.nan]])  # typed, not valid yet
    params = link.link_params(preset, net, typed)
    assert params["vars"].endswith("|Dog:0,1,2") and "Dog>Rain" in params["edges"]
    assert params["draft"] == "Dog:0.5,0.7,"  # the empty cell is an empty entry
    state = link.state_from_link(SPRINKLER, params)
    assert not state.warnings
    assert state.network == net
    assert np.array_equal(state.typed["Dog"], typed["Dog"], equal_nan=True)


def test_base_network_keeps_the_tables_the_graph_builder_keeps():
    preset = bn.PRESETS[SPRINKLER].network()
    variables = preset.variables
    edges = [e for e in preset.edges if e != ("Rain", "Wet grass")]
    base = link.base_network(preset, variables, edges)
    assert np.array_equal(base.cpt("Cloudy"), preset.cpt("Cloudy"))
    assert np.allclose(base.cpt("Wet grass"), 0.5)  # its parents changed: uniform, as on the page


@pytest.mark.parametrize("params", [
    {"vars": "A:"}, {"vars": "A:x|A:y"}, {"edges": "A>"}, {"cpt": ":1"}, {"cpt": "Rain:1,2;3"},
    {"ev": "x"}, {"query": "nobody"}, {"vars": "A:0,1", "edges": "A>A"}, {"cpt": "Rain:" + "1" * 70_000},
])
def test_bad_parameters_never_raise(params):
    state = link.state_from_link(SPRINKLER, params)
    assert state.warnings
    assert state.network.names  # a usable network
