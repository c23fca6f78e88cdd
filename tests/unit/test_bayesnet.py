"""Unit tests for genlab.bayesnet: structure rules, factorization, the exact joint, sampling,
parameter counts, inference by enumeration and the presets."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from genlab import bayesnet as bn
from genlab.bayesnet import BayesianNetwork
from genlab.errors import GenlabError

SPRINKLER = "sprinkler/rain/wet grass"
V_STRUCTURE = "v-structure (collider, explaining away)"


def abc(edges, cpts=None) -> BayesianNetwork:
    return BayesianNetwork({"A": 2, "B": 2, "C": 2}, edges, cpts)


@pytest.fixture
def sprinkler() -> BayesianNetwork:
    return bn.preset_network(SPRINKLER)


# --------------------------------------------------------------------------- structure
def test_factorization_text_and_latex():
    net = abc([("A", "B"), ("A", "C"), ("B", "C")])
    assert net.factorization() == "P(A,B,C) = P(A) P(B | A) P(C | A, B)"
    assert net.factors() == ["P(A)", "P(B | A)", "P(C | A, B)"]
    assert net.factorization_latex() == r"P(A, B, C) = P(A)\,P(B \mid A)\,P(C \mid A, B)"
    assert bn.preset_network("VAE: z → x").factorization() == "P(z,x) = P(z) P(x | z)"


def test_factorization_latex_long_names_and_lines(sprinkler):
    latex = sprinkler.factorization_latex(max_line_chars=36)
    assert latex.startswith(r"\begin{aligned}") and latex.endswith(r"\end{aligned}")
    assert r"\text{Wet grass} \mid \text{Sprinkler}, \text{Rain}" in latex
    # lines: P(Cloudy, ...) | P(Cloudy) P(Sprinkler | Cloudy) | P(Rain | Cloudy) | P(Wet grass | ...)
    assert latex.count(r"\\") == 3
    assert r"P(\text{Cloudy})\,P(\text{Sprinkler} \mid \text{Cloudy}) \\" in latex
    chain = bn.preset_network("chain A → B → C")
    assert chain.factorization_latex(max_line_chars=36) == chain.factorization_latex()  # fits


def test_topological_order_puts_parents_first():
    # variables listed child-first; edges C -> B -> A
    net = BayesianNetwork({"A": 2, "B": 2, "C": 2}, [("C", "B"), ("B", "A")])
    assert net.topological_order() == ["C", "B", "A"]
    assert net.factorization() == "P(A,B,C) = P(C) P(B | C) P(A | B)"
    assert net.depths() == {"C": 0, "B": 1, "A": 2}
    assert net.parents("A") == ("B",) and net.children("C") == ("B",)
    assert net.ancestors("A") == {"B", "C"}


def test_cycle_is_refused_and_named():
    with pytest.raises(GenlabError, match=r"cycle A → B → C → A"):
        abc([("A", "B"), ("B", "C"), ("C", "A")])
    with pytest.raises(GenlabError, match=r"cycle A → A"):
        abc([("A", "A")])


def test_with_edge_refuses_a_cycle_with_the_path():
    chain = bn.preset_network("chain A → B → C")
    with pytest.raises(GenlabError, match=r"adding C → A would close the cycle A → B → C → A"):
        chain.with_edge("C", "A")
    with pytest.raises(GenlabError, match="already in the graph"):
        chain.with_edge("A", "B")
    with pytest.raises(GenlabError, match="itself"):
        chain.with_edge("B", "B")


def test_unknown_nodes_and_bad_names():
    with pytest.raises(GenlabError, match=r"unknown variable 'D'.*A, B, C"):
        abc([("A", "D")])
    with pytest.raises(GenlabError, match="unknown variable"):
        abc([]).parents("Z")
    with pytest.raises(GenlabError, match="unknown variable"):
        abc([], {"A": [[0.5, 0.5]], "B": [[0.5, 0.5]], "C": [[0.5, 0.5]], "D": [[1.0]]})
    with pytest.raises(GenlabError, match="not allowed"):
        BayesianNetwork({"A,B": 2})
    with pytest.raises(GenlabError, match="table column"):
        BayesianNetwork({"probability": 2})
    with pytest.raises(GenlabError, match="between 2 and"):
        BayesianNetwork({"A": ["only"]})
    with pytest.raises(GenlabError, match="must all differ"):
        BayesianNetwork({"A": ["x", "x"]})
    with pytest.raises(GenlabError, match="listed twice"):
        abc([("A", "B"), ("A", "B")])


def test_size_limits():
    with pytest.raises(GenlabError, match=f"at most {bn.MAX_VARIABLES} variables"):
        BayesianNetwork({f"X{i}": 2 for i in range(bn.MAX_VARIABLES + 1)})
    with pytest.raises(GenlabError, match="joint table would have"):
        BayesianNetwork({f"X{i}": 6 for i in range(6)})  # 46,656 configurations
    eight = BayesianNetwork({f"X{i}": 2 for i in range(8)})
    assert eight.joint_size == 256
    with pytest.raises(GenlabError, match="at most 8 variables"):
        eight.with_variable("Y", 2)


# --------------------------------------------------------------------------- CPT validation
def test_cpt_row_sum_error_names_the_row(sprinkler):
    table = sprinkler.cpt("Rain")
    table[1] = [0.3, 0.9]
    with pytest.raises(GenlabError, match=r"CPT of Rain, row 2 \(Cloudy=yes\): the probabilities sum to 1\.2"):
        sprinkler.with_cpt("Rain", table)
    problems = sprinkler.cpt_problems("Rain", table)
    assert [(p.row, p.parents) for p in problems] == [(1, {"Cloudy": "yes"})]


def test_cpt_negative_empty_and_tolerance(sprinkler):
    message = sprinkler.cpt_problems("Cloudy", [[1.2, -0.2]])[0].message
    assert "its only row" in message and "P(Cloudy=yes) = -0.2 is negative" in message
    assert "empty" in sprinkler.cpt_problems("Cloudy", [[np.nan, 1.0]])[0].message
    assert sprinkler.cpt_problems("Cloudy", [[0.5, 0.5 + 5e-7]]) == []  # within 1e-6
    assert sprinkler.cpt_problems("Cloudy", [[0.5, 0.5 + 5e-6]]) != []


def test_cpt_shape_and_missing_tables():
    with pytest.raises(GenlabError, match=r"must have 2 row\(s\) × 2 column\(s\)"):
        abc([("A", "B")], {"A": [[0.5, 0.5]], "B": [[0.5, 0.5]], "C": [[0.5, 0.5]]})
    with pytest.raises(GenlabError, match="missing a table for C"):
        abc([], {"A": [[0.5, 0.5]], "B": [[0.5, 0.5]]})
    # N-D layout (|A|, |B|, |C|) is accepted and equals the 2-D one
    nd = np.array([[[0.1, 0.9], [0.2, 0.8]], [[0.3, 0.7], [0.4, 0.6]]])
    net = abc([("A", "C"), ("B", "C")], {"A": [0.5, 0.5], "B": [[0.5, 0.5]], "C": nd})
    np.testing.assert_allclose(net.cpt("C"), nd.reshape(4, 2))


def test_normalize_rows():
    rows = bn.normalize_rows([[2.0, 2.0], [0.0, 0.0], [-1.0, 3.0], [np.nan, 0.5]])
    np.testing.assert_allclose(rows, [[0.5, 0.5], [0.5, 0.5], [0.0, 1.0], [0.0, 1.0]])


def test_cpt_frame_round_trip(sprinkler):
    frame = sprinkler.cpt_frame("Wet grass")
    assert list(frame.columns) == ["Sprinkler", "Rain", "Wet grass=no", "Wet grass=yes"]
    assert frame.iloc[3][["Sprinkler", "Rain"]].tolist() == ["yes", "yes"]
    np.testing.assert_allclose(sprinkler.cpt_from_frame("Wet grass", frame), sprinkler.cpt("Wet grass"))


# --------------------------------------------------------------------------- the joint
@pytest.mark.parametrize("name", bn.PRESET_NAMES)
def test_every_preset_joint_sums_to_one(name):
    net = bn.preset_network(name)
    joint = net.joint_table()
    assert len(joint) == net.joint_size
    assert joint[bn.PROBABILITY_COLUMN].sum() == pytest.approx(1.0, abs=1e-12)
    assert (joint[bn.PROBABILITY_COLUMN] >= 0).all()
    preset = bn.PRESETS[name]
    assert net.conditional(preset.query, preset.evidence).sum() == pytest.approx(1.0)


def test_joint_is_the_product_of_the_cpts(sprinkler):
    joint = sprinkler.joint_table()
    row = joint[(joint.Cloudy == "yes") & (joint.Sprinkler == "no") & (joint.Rain == "yes") & (joint["Wet grass"] == "yes")]
    assert float(row[bn.PROBABILITY_COLUMN].iloc[0]) == pytest.approx(0.5 * 0.9 * 0.8 * 0.9)
    terms = sprinkler.product_rule_terms({"Cloudy": "yes", "Sprinkler": "no", "Rain": "yes", "Wet grass": "yes"})
    assert [v for _, v in terms] == pytest.approx([0.5, 0.9, 0.8, 0.9])
    assert terms[3][0] == "P(Wet grass=yes | Sprinkler=no, Rain=yes)"


def test_joint_with_parents_listed_after_children():
    """Axis bookkeeping: the child is listed before its parents."""
    net = BayesianNetwork(
        {"C": ["c0", "c1"], "A": ["a0", "a1", "a2"], "B": ["b0", "b1"]},
        [("A", "C"), ("B", "C")],
        {
            "A": [[0.2, 0.3, 0.5]],
            "B": [[0.6, 0.4]],
            "C": [[0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6], [0.5, 0.5], [0.9, 0.1]],
        },
    )
    joint = net.joint_array()
    pa, pb = [0.2, 0.3, 0.5], [0.6, 0.4]
    for c, a, b in itertools.product(range(2), range(3), range(2)):
        expected = pa[a] * pb[b] * net.cpt("C")[a * 2 + b, c]
        assert joint[c, a, b] == pytest.approx(expected)


def test_marginal_and_probability(sprinkler):
    assert sprinkler.marginal("Cloudy").tolist() == pytest.approx([0.5, 0.5])
    # P(Rain=yes) = 0.5*0.2 + 0.5*0.8
    assert sprinkler.marginal("Rain")["yes"] == pytest.approx(0.5)
    assert sprinkler.probability({"Rain": "yes"}) == pytest.approx(0.5)
    assert sprinkler.probability({}) == pytest.approx(1.0)
    with pytest.raises(GenlabError, match="has no state 'maybe'; its states are no, yes"):
        sprinkler.probability({"Rain": "maybe"})


# --------------------------------------------------------------------------- inference
def test_conditional_by_enumeration_against_hand_values(sprinkler):
    # hand computation: P(W=yes) = 0.6471, P(R=yes, W=yes) = 0.4581, P(S=yes, W=yes) = 0.2781
    rain = sprinkler.conditional("Rain", {"Wet grass": "yes"})
    assert rain["yes"] == pytest.approx(0.4581 / 0.6471, abs=1e-6)
    sprinkler_on = sprinkler.conditional("Sprinkler", {"Wet grass": "yes"})
    assert sprinkler_on["yes"] == pytest.approx(0.2781 / 0.6471, abs=1e-6)
    assert sprinkler.probability({"Wet grass": "yes"}) == pytest.approx(0.6471)
    assert rain.name == "P(Rain | Wet grass=yes)"


def test_conditional_small_chain_by_hand():
    chain = bn.preset_network("chain A → B → C")
    # P(A=1 | C=1) = P(A=1) Σ_b P(b|A=1) P(C=1|b) / P(C=1)
    num = 0.4 * (0.3 * 0.1 + 0.7 * 0.75)
    den = num + 0.6 * (0.8 * 0.1 + 0.2 * 0.75)
    assert chain.conditional("A", {"C": "1"})["1"] == pytest.approx(num / den)


def test_explaining_away_in_the_v_structure():
    net = bn.preset_network(V_STRUCTURE)
    prior = net.marginal("Burglary")["yes"]
    alarm = net.conditional("Burglary", {"Alarm": "yes"})["yes"]
    explained = net.conditional("Burglary", {"Alarm": "yes", "Earthquake": "yes"})["yes"]
    assert alarm > prior  # the alarm makes a burglary more likely ...
    assert explained < alarm  # ... and the earthquake explains it away
    # marginally independent causes, dependent given the common effect
    assert net.conditional("Burglary", {"Earthquake": "yes"})["yes"] == pytest.approx(prior)


def test_conditional_independences_of_chain_and_fork():
    chain = bn.preset_network("chain A → B → C")
    assert chain.conditional("C", {"A": "0", "B": "1"}).tolist() == pytest.approx(
        chain.conditional("C", {"B": "1"}).tolist()
    )
    assert chain.conditional("C", {"A": "0"})["1"] != pytest.approx(chain.marginal("C")["1"])
    fork = bn.preset_network("common cause (fork)")
    given = fork.conditional("Sunburn", {"Hot day": "yes", "Ice cream": "yes"})
    assert given.tolist() == pytest.approx(fork.conditional("Sunburn", {"Hot day": "yes"}).tolist())


def test_conditional_errors(sprinkler):
    with pytest.raises(GenlabError, match="both the query and evidence"):
        sprinkler.conditional("Rain", {"Rain": "yes"})
    zero = sprinkler.with_cpt("Cloudy", [[1.0, 0.0]])
    with pytest.raises(GenlabError, match="probability 0"):
        zero.conditional("Rain", {"Cloudy": "yes"})


# --------------------------------------------------------------------------- parameter counts
@pytest.mark.parametrize(
    ("name", "with_graph", "full"),
    [
        ("VAE: z → x", 2 + 3 * 3, 3 * 4 - 1),
        ("chain A → B → C", 1 + 2 + 2, 7),
        ("common cause (fork)", 1 + 2 + 2, 7),
        (V_STRUCTURE, 1 + 1 + 4, 7),
        (SPRINKLER, 1 + 2 + 2 + 4, 15),
        ("naive Bayes", 1 + 2 + 2 + 2, 15),
        ("empty graph (build your own)", 3, 7),
    ],
)
def test_parameter_counts_of_the_presets(name, with_graph, full):
    net = bn.preset_network(name)
    assert net.parameter_count() == with_graph
    assert net.full_joint_parameter_count() == full


def test_parameter_count_formulas(sprinkler):
    assert sprinkler.parameter_count_formula() == "1 + 2 + 2 + 4 = 9"
    assert sprinkler.full_joint_parameter_count_formula() == "2·2·2·2 − 1 = 15"
    terms = sprinkler.parameter_terms()
    assert [(t.variable, t.states, t.parent_configurations) for t in terms][-1] == ("Wet grass", 2, 4)
    mixed = BayesianNetwork({"A": 3, "B": 4}, [("A", "B")])
    assert mixed.parameter_count() == (3 - 1) + (4 - 1) * 3


# --------------------------------------------------------------------------- sampling
def test_sampling_is_seeded_and_prefix_consistent(sprinkler):
    a = sprinkler.sample(200, seed=3)
    b = sprinkler.sample(200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(sprinkler.sample(200, seed=4))
    np.testing.assert_array_equal(sprinkler.sample_indices(50, 7), sprinkler.sample_indices(500, 7)[:50])
    assert list(a.columns) == list(sprinkler.names)
    assert set(a["Rain"].astype(str)) <= {"no", "yes"}


def test_sampling_respects_zero_probabilities(sprinkler):
    samples = sprinkler.sample(5000, seed=0)
    dry = samples[(samples.Sprinkler == "no") & (samples.Rain == "no")]
    assert (dry["Wet grass"] == "no").all()  # P(W=yes | S=no, R=no) = 0


def test_sample_frequencies_converge_to_the_joint(sprinkler):
    small = sprinkler.empirical_vs_exact(100, seed=0)
    large = sprinkler.empirical_vs_exact(100_000, seed=0)
    assert large.tv < 0.01
    assert large.tv < small.tv
    assert large.table["empirical"].sum() == pytest.approx(1.0)
    assert int(large.table["count"].sum()) == 100_000
    np.testing.assert_allclose(large.table["exact"], sprinkler.joint_table()[bn.PROBABILITY_COLUMN])


def test_tv_curve_shrinks_and_matches_single_runs(sprinkler):
    curve = sprinkler.tv_by_sample_size([10, 100, 1_000, 10_000, 100_000], seed=1)
    assert list(curve["n"]) == [10, 100, 1_000, 10_000, 100_000]
    assert curve["tv"].iloc[-1] < curve["tv"].iloc[0]
    assert curve["tv"].iloc[-1] < 0.02
    assert curve["tv"].iloc[2] == pytest.approx(sprinkler.empirical_vs_exact(1_000, seed=1).tv)
    assert curve["expected"].is_monotonic_decreasing


def test_marginal_comparison(sprinkler):
    frame = sprinkler.compare_marginals(sprinkler.sample(20_000, seed=0))
    assert len(frame) == 8
    assert (frame["empirical"] - frame["exact"]).abs().max() < 0.02


def test_total_variation_and_sample_limits(sprinkler):
    assert bn.total_variation([0.5, 0.5], [1.0, 0.0]) == pytest.approx(0.5)
    assert bn.total_variation([0.2, 0.8], [0.2, 0.8]) == 0.0
    with pytest.raises(GenlabError, match="number of samples n must be >= 1"):
        sprinkler.sample(0)
    with pytest.raises(GenlabError, match="same size"):
        bn.total_variation([1.0], [0.5, 0.5])


# --------------------------------------------------------------------------- editing, init, JSON
def test_structure_edits_keep_unaffected_tables(sprinkler):
    grown = sprinkler.with_edge("Cloudy", "Wet grass")
    assert grown.parents("Wet grass") == ("Cloudy", "Sprinkler", "Rain")
    np.testing.assert_allclose(grown.cpt("Wet grass"), 0.5)  # new rows: uniform
    np.testing.assert_array_equal(grown.cpt("Rain"), sprinkler.cpt("Rain"))  # untouched
    assert grown.without_edge("Cloudy", "Wet grass").parents("Wet grass") == ("Sprinkler", "Rain")
    smaller = sprinkler.without_variable("Cloudy")
    assert smaller.names == ("Sprinkler", "Rain", "Wet grass")
    np.testing.assert_array_equal(smaller.cpt("Wet grass"), sprinkler.cpt("Wet grass"))
    bigger = sprinkler.with_variable("Dog", ["quiet", "barks", "howls"])
    assert bigger.states("Dog") == ["quiet", "barks", "howls"] and bigger.parameter_count() == 9 + 2
    with pytest.raises(GenlabError, match="already a variable"):
        sprinkler.with_variable("Rain", 2)
    with pytest.raises(GenlabError, match="no edge"):
        sprinkler.without_edge("Rain", "Cloudy")


def test_uniform_and_random_initialisation():
    net = BayesianNetwork.uniform({"A": 3, "B": 2}, [("A", "B")])
    np.testing.assert_allclose(net.cpt("A"), [[1 / 3, 1 / 3, 1 / 3]])
    one = BayesianNetwork.random({"A": 3, "B": 2}, [("A", "B")], seed=5)
    two = BayesianNetwork.random({"A": 3, "B": 2}, [("A", "B")], seed=5)
    assert one == two and one != BayesianNetwork.random({"A": 3, "B": 2}, [("A", "B")], seed=6)
    for name in one.names:
        np.testing.assert_allclose(one.cpt(name).sum(axis=1), 1.0)
        np.testing.assert_allclose(one.cpt(name) * 100, np.round(one.cpt(name) * 100), atol=1e-9)


def test_to_dict_from_dict_round_trip(sprinkler):
    data = json.loads(json.dumps(sprinkler.to_dict()))
    assert BayesianNetwork.from_dict(data) == sprinkler
    with pytest.raises(GenlabError, match="variables"):
        BayesianNetwork.from_dict({"edges": []})


def test_presets_and_unknown_preset():
    assert bn.PRESET_NAMES[:6] == (
        "VAE: z → x",
        "chain A → B → C",
        "common cause (fork)",
        V_STRUCTURE,
        SPRINKLER,
        "naive Bayes",
    )
    vae = bn.PRESETS["VAE: z → x"]
    assert "continuous" in vae.description and "ELBO" in vae.description
    assert "p(x) = Σ_z p(z) p(x | z)" in vae.description
    with pytest.raises(GenlabError, match="unknown preset"):
        bn.preset_network("nope")


# --------------------------------------------------------------------------- figures (dashboard/figures/bayesnet.py)
def test_network_figure_draws_nodes_in_layers_and_one_arrow_per_edge(sprinkler):
    from dashboard.figures import bayesnet as figs

    fig = figs.network_figure(sprinkler, observed=["Wet grass"], query="Rain")
    nodes = fig.data[-1]
    assert list(nodes.text) == ["Cloudy", "Sprinkler", "Rain", "Wet grass"]
    assert figs.wrap_label("Ice cream sales") == ["Ice cream", "sales"]
    assert list(nodes.y) == [0.0, -1.0, -1.0, -2.0]  # parents above children
    assert len(fig.layout.annotations) == len(sprinkler.edges)
    assert nodes.marker.color[3] == figs.OBSERVED_FILL and nodes.marker.line.color[2] == figs.QUERY_COLOUR


def test_network_figure_curves_an_edge_that_would_cross_a_node():
    from dashboard.figures import bayesnet as figs

    net = bn.preset_network("chain A → B → C").with_edge("A", "C")  # A, B, C in one column
    fig = figs.network_figure(net)
    curves = [t for t in fig.data if t.mode == "lines"]
    assert len(curves) == 1 and len(fig.layout.annotations) == 3


def test_graph_types_figure_draws_the_network_directed_undirected_and_as_a_factor_graph(sprinkler):
    from dashboard.figures import bayesnet as figs

    assert figs.moral_edges(sprinkler)[1] == [("Sprinkler", "Rain")]          # co-parents of Wet grass, married
    assert figs.moral_edges(bn.preset_network("chain A → B → C"))[1] == []
    assert figs.short_labels(sprinkler.names) == {"Cloudy": "C", "Sprinkler": "S", "Rain": "R", "Wet grass": "W"}
    assert figs.short_labels(["Spam", "Spin"], longest=2) == {"Spam": "X1", "Spin": "X2"}
    fig = figs.graph_types_figure(sprinkler)
    assert {t.xaxis for t in fig.data} == {"x", "x2", "x3"}                   # three panels
    dashed = [t for t in fig.data if t.line and t.line.dash == "dash"]
    assert len(dashed) == 1 and dashed[0].xaxis == "x2"                        # the moral edge, undirected panel
    factors = [t for t in fig.data if t.marker and t.marker.symbol == "square"]
    assert len(factors[0].x) == len(sprinkler.names) and "P(W | S, R)" in factors[0].hovertext
    assert sum(1 for a in fig.layout.annotations if a.showarrow) == len(sprinkler.edges)


def test_comparison_figures(sprinkler):
    from dashboard.figures import bayesnet as figs

    comparison = sprinkler.empirical_vs_exact(500, seed=0)
    bars = figs.joint_comparison_figure(comparison.table, sprinkler.names, 500)
    assert [len(t.x) for t in bars.data] == [16, 16] and bars.data[0].x[0] == "no/no/no/no"
    marginals = figs.marginal_comparison_figure(sprinkler.compare_marginals(sprinkler.sample(100)), 100)
    assert list(marginals.data[0].x[:2]) == ["Cloudy=no", "Cloudy=yes"]
    curve = figs.tv_curve_figure(sprinkler.tv_by_sample_size([10, 100]), 50, 0.1)
    assert len(curve.data) == 3 and curve.layout.xaxis.type == "log"
    query = figs.query_figure(sprinkler.marginal("Rain"), sprinkler.conditional("Rain", {"Wet grass": "yes"}))
    assert [t.name for t in query.data] == ["P(Rain)", "P(Rain | Wet grass=yes)"]
