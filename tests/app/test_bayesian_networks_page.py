"""AppTest for dashboard/pages/bayesian_networks.py: presets, URL settings, CPT edits (valid and
invalid, normalize), graph edits (cycles refused), ancestral sampling and queries."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "pages" / "bayesian_networks.py")


def run_page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def editor_key(at: AppTest, variable: str) -> str:
    keys = [e.key for e in at.data_editor if e.key and e.key.endswith(f"_{variable}")]
    assert len(keys) == 1, [e.key for e in at.data_editor]
    return keys[0]


def edit_cell(at: AppTest, variable: str, row: int, changes: dict) -> AppTest:
    at.session_state[editor_key(at, variable)] = {
        "edited_rows": {row: changes},
        "added_rows": [],
        "deleted_rows": [],
    }
    return rerun(at)


def metric(at: AppTest, label_start: str) -> str:
    values = [m.value for m in at.metric if m.label.startswith(label_start)]
    assert values, [m.label for m in at.metric]
    return values[0]


def latex_text(at: AppTest) -> str:
    return "\n".join(e.value for e in at.latex)


def query_table(at: AppTest):
    for frame in at.dataframe:
        value = frame.value
        if "P(X) before" in value.columns:
            return value
    raise AssertionError("query table not found")


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_default_page_sprinkler():
    at = run_page()
    assert at.title[0].value == "Bayesian networks"
    assert at.selectbox(key="preset").value == "sprinkler/rain/wet grass"
    assert r"\text{Wet grass} \mid \text{Sprinkler}, \text{Rain}" in latex_text(at)
    assert metric(at, "with graph") == "9"
    assert metric(at, "full table") == "15"
    assert "1 + 2 + 2 + 4" in latex_text(at).replace(r"\;", "")
    assert {e.key.rsplit("_", 1)[1] for e in at.data_editor} == {"Cloudy", "Sprinkler", "Rain", "Wet grass"}
    assert not errors(at)
    # the preset's suggested query: P(Rain | Wet grass = yes) ≈ 0.708
    table = query_table(at)
    assert table.columns[-1] == "P(X | Wet grass=yes)"
    assert table.iloc[1, -1] == pytest.approx(0.7079, abs=1e-4)


def test_choose_preset_vae():
    at = run_page()
    at.selectbox(key="preset").set_value("VAE: z → x")
    rerun(at)
    assert "P(z, x) = P(z)" in latex_text(at)
    assert metric(at, "with graph") == "11" and metric(at, "full table") == "11"
    assert any("continuous" in m.value and "ELBO" in m.value for m in at.markdown)
    assert at.selectbox(key="bn_query").value == "z"
    assert at.selectbox(key="bn_ev_x").value == "x2"
    assert at.query_params["preset"] in ("VAE: z → x", ["VAE: z → x"])


def test_settings_come_from_the_url():
    at = run_page(preset="naive Bayes", n="20000", seed="3")
    assert at.selectbox(key="preset").value == "naive Bayes"
    assert at.number_input(key="n").value == 20000
    assert at.number_input(key="seed").value == 3
    assert metric(at, "with graph") == "7"
    assert float(metric(at, "TV distance")) < 0.05


def test_valid_cpt_edit_changes_the_results():
    at = run_page()
    before = query_table(at)
    assert before.iloc[1, 1] == pytest.approx(0.5)  # P(Rain=yes) with the preset
    edit_cell(at, "Rain", 1, {"Rain=no": 0.4, "Rain=yes": 0.6})
    assert not errors(at)
    # P(Rain=yes) = 0.5·0.2 + 0.5·0.6
    assert query_table(at).iloc[1, 1] == pytest.approx(0.4)
    assert not any("Normalize" in b.label for b in at.button)


def test_invalid_cpt_edit_is_reported_then_normalized():
    at = run_page()
    edit_cell(at, "Rain", 1, {"Rain=yes": 0.5})  # row 2 now 0.2 + 0.5 = 0.7
    messages = errors(at)
    assert any("CPT of Rain, row 2 (Cloudy=yes)" in m and "sum to 0.7" in m for m in messages), messages
    assert any("Rain" in w.value for w in at.warning)
    # the rest of the page keeps using the last valid table: P(Rain=yes) is still 0.5
    assert query_table(at).iloc[1, 1] == pytest.approx(0.5)
    normalize = [b for b in at.button if b.label.startswith("Normalize rows")]
    assert len(normalize) == 1
    normalize[0].click()
    rerun(at)
    assert not errors(at)
    # normalized row: (0.2, 0.5) / 0.7 → P(Rain=yes) = 0.5·0.2 + 0.5·(5/7)
    assert query_table(at).iloc[1, 1] == pytest.approx(0.5 * 0.2 + 0.5 * 5 / 7)


def test_empty_and_negative_cells_do_not_crash():
    at = run_page()
    edit_cell(at, "Cloudy", 0, {"Cloudy=no": None})
    assert any("empty or not a number" in m for m in errors(at))
    edit_cell(at, "Cloudy", 0, {"Cloudy=no": -0.5, "Cloudy=yes": 1.5})
    assert any("is negative" in m for m in errors(at))


def test_sampling_controls():
    at = run_page()
    tv_small = float(metric(at, "TV distance"))
    at.number_input(key="n").set_value(100_000)
    rerun(at)
    tv_large = float(metric(at, "TV distance"))
    assert tv_large < 0.01 < tv_small
    at.number_input(key="seed").set_value(5)
    rerun(at)
    assert at.query_params["seed"] in ("5", ["5"]) and at.query_params["n"] in ("100000", ["100000"])


def test_add_edge_cycle_is_refused_and_valid_edge_added():
    at = run_page(preset="chain A → B → C")
    at.selectbox(key="bn_edge_parent").set_value("C")
    at.selectbox(key="bn_edge_child").set_value("A")
    rerun(at)
    at.button(key="bn_add_edge").click()
    rerun(at)
    assert any("would close the cycle A → B → C → A" in m for m in errors(at)), errors(at)
    at.selectbox(key="bn_edge_parent").set_value("A")
    at.selectbox(key="bn_edge_child").set_value("C")
    rerun(at)
    at.button(key="bn_add_edge").click()
    rerun(at)
    assert not errors(at)
    assert r"P(C \mid A, B)" in latex_text(at)
    assert metric(at, "with graph") == "7"


def test_add_and_remove_variables_and_edges():
    at = run_page(preset="empty graph (build your own)")
    at.text_input(key="bn_new_name").input("Dog")
    at.number_input(key="bn_new_states").set_value(3)
    at.text_input(key="bn_new_state_names").input("quiet, barks, howls")
    rerun(at)
    [b for b in at.button if b.label == "Add variable"][0].click()
    rerun(at)
    assert not errors(at)
    assert "P(A, B, C, \\text{Dog})" in latex_text(at)
    assert metric(at, "full table") == "23"  # 2·2·2·3 − 1
    at.selectbox(key="bn_edge_parent").set_value("Dog")
    at.selectbox(key="bn_edge_child").set_value("A")
    rerun(at)
    at.button(key="bn_add_edge").click()
    rerun(at)
    assert r"P(A \mid \text{Dog})" in latex_text(at)
    assert metric(at, "with graph") == str(1 * 3 + 1 + 1 + 2)  # A now has a row per Dog state
    [b for b in at.button if b.label == "Remove edge"][0].click()
    rerun(at)
    assert r"\mid" not in latex_text(at).split("prod")[-1]
    # a bad name is reported, not raised
    at.text_input(key="bn_new_name").input("9lives")
    rerun(at)
    [b for b in at.button if b.label == "Add variable"][0].click()
    rerun(at)
    assert any("not allowed" in m for m in errors(at))


def test_query_explaining_away():
    at = run_page(preset="v-structure (collider, explaining away)")
    alarm_only = query_table(at).iloc[1, -1]
    at.selectbox(key="bn_ev_Earthquake").set_value("yes")
    rerun(at)
    table = query_table(at)
    assert table.columns[-1] == "P(X | Earthquake=yes, Alarm=yes)"
    assert table.iloc[1, -1] < alarm_only


def test_zero_probability_evidence_is_an_error_not_a_crash():
    at = run_page(preset="sprinkler/rain/wet grass")
    edit_cell(at, "Cloudy", 0, {"Cloudy=no": 1.0, "Cloudy=yes": 0.0})
    at.selectbox(key="bn_query").set_value("Rain")
    at.selectbox(key="bn_ev_Cloudy").set_value("yes")
    rerun(at)
    assert any("probability 0" in m for m in errors(at))


def test_reset_and_random_tables():
    at = run_page(preset="chain A → B → C")
    [b for b in at.button if b.label == "Random tables"][0].click()
    rerun(at)
    assert any("Changed from the preset" in c.value for c in at.caption)
    [b for b in at.button if b.label == "Reset to preset"][0].click()
    rerun(at)
    assert not any("Changed from the preset" in c.value for c in at.caption)


# --------------------------------------------------------------------------- the link to this view
def link_of(at: AppTest) -> dict[str, str]:
    """The page's query parameters as a copied link holds them."""
    return {key: (value[0] if isinstance(value, list) else value) for key, value in at.query_params.items()}


def editor_frame(at: AppTest, variable: str):
    [editor] = [e for e in at.data_editor if e.key == editor_key(at, variable)]
    return editor.value


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_cpt_edit_is_in_the_link_and_a_fresh_page_shows_the_same_table():
    at = run_page()
    assert link_of(at) == {}  # the preset as it is: nothing to say
    edit_cell(at, "Rain", 1, {"Rain=no": 0.4, "Rain=yes": 0.6})
    link = link_of(at)
    assert link == {"cpt": "Rain:0.8,0.2;0.4,0.6"}, link
    fresh = run_page(**link)
    assert not warnings(fresh)
    frame = editor_frame(fresh, "Rain")
    assert frame["Rain=no"].tolist() == [0.8, 0.4] and frame["Rain=yes"].tolist() == [0.2, 0.6]
    assert editor_frame(fresh, "Cloudy").equals(editor_frame(at, "Cloudy"))
    assert query_table(fresh).equals(query_table(at))
    assert any("Changed from the preset" in c.value for c in fresh.caption)
    assert link_of(fresh) == link  # the fresh page keeps describing the same view


def test_graph_query_and_evidence_are_in_the_link():
    at = run_page(preset="chain A → B → C", n="300", seed="4")
    at.selectbox(key="bn_edge_parent").set_value("A")
    at.selectbox(key="bn_edge_child").set_value("C")
    rerun(at)
    at.button(key="bn_add_edge").click()
    rerun(at)
    [b for b in at.button if b.label == "Random tables"][0].click()
    rerun(at)
    at.selectbox(key="bn_query").set_value("A")
    rerun(at)
    at.selectbox(key="bn_ev_C").set_value("1")
    rerun(at)
    link = link_of(at)
    assert link["edges"] == "A>B,A>C,B>C" and "vars" not in link
    assert link["query"] == "A" and link["ev"] == "C:1" and link["n"] == "300" and link["seed"] == "4"
    assert set(link["cpt"].split("|")[0].split(":")[:1]) <= {"A", "B", "C"}
    fresh = run_page(**link)
    assert not warnings(fresh)
    assert latex_text(fresh) == latex_text(at) and r"P(C \mid A, B)" in latex_text(fresh)
    for variable in ("A", "B", "C"):
        assert editor_frame(fresh, variable).equals(editor_frame(at, variable)), variable
    assert fresh.selectbox(key="bn_query").value == "A" and fresh.selectbox(key="bn_ev_C").value == "1"
    assert fresh.selectbox(key="bn_ev_B").value == "(not observed)"
    assert query_table(fresh).equals(query_table(at))
    assert metric(fresh, "TV distance") == metric(at, "TV distance")


def test_added_variable_and_no_evidence_are_in_the_link():
    at = run_page()
    at.text_input(key="bn_new_name").input("Dog")
    at.number_input(key="bn_new_states").set_value(3)
    rerun(at)
    [b for b in at.button if b.label == "Add variable"][0].click()
    rerun(at)
    at.selectbox(key="bn_ev_Wet grass").set_value("(not observed)")
    rerun(at)
    link = link_of(at)
    assert link["vars"].endswith("|Dog:0,1,2") and link["ev"] == "none" and "cpt" not in link
    fresh = run_page(**link)
    assert not warnings(fresh)
    assert "Dog" in {e.key.rsplit("_", 1)[1] for e in fresh.data_editor}
    assert metric(fresh, "full table") == metric(at, "full table") == "47"  # 2·2·2·2·3 − 1
    assert query_table(fresh).columns[-1] == "P(X) before"  # no evidence


def test_a_table_typed_but_not_valid_yet_is_in_the_link_too():
    at = run_page()
    edit_cell(at, "Rain", 1, {"Rain=no": 0.4, "Rain=yes": 0.6})  # valid: the page uses it
    edit_cell(at, "Rain", 1, {"Rain=yes": 0.5})                   # then a row that sums to 0.9
    link = link_of(at)
    assert link["cpt"] == "Rain:0.8,0.2;0.4,0.6" and link["draft"] == "Rain:0.8,0.2;0.4,0.5"
    fresh = run_page(**link)
    assert any("CPT of Rain, row 2 (Cloudy=yes)" in m and "sum to 0.9" in m for m in errors(fresh))
    assert editor_frame(fresh, "Rain")["Rain=yes"].tolist() == [0.2, 0.5]
    # the rest of the page still uses the last valid table, as in the session the link came from
    assert query_table(fresh).iloc[1, 1] == pytest.approx(0.4) == query_table(at).iloc[1, 1]
    assert not [w for w in warnings(fresh) if "link" in w]


@pytest.mark.parametrize(
    "params, names",
    [
        ({"cpt": "Rain:abc,0.5;0.2,0.8"}, ["`cpt`", "not a number"]),
        ({"cpt": "Rain:0.5,0.5"}, ["`cpt`", "2 row(s)"]),                     # wrong shape
        ({"cpt": "Nope:0.5,0.5"}, ["`cpt`", "'Nope'"]),                         # unknown variable
        ({"cpt": "no colon here"}, ["`cpt`", "Name:p,p;p,p"]),
        ({"cpt": "Rain:0.8,0.2;0.9,0.9"}, ["`cpt`", "not a valid CPT"]),        # shown as typed, in red
        ({"draft": "Rain:1,2,3"}, ["`draft`", "column"]),
        ({"vars": "A"}, ["`vars`", "Name:state1,state2"]),
        ({"vars": "9lives:no,yes"}, ["`vars`", "not allowed"]),
        ({"edges": "Cloudy>Nope"}, ["`edges`", "unknown variable"]),
        ({"edges": "Rain>Cloudy,Cloudy>Rain"}, ["`edges`", "cycle"]),
        ({"edges": "Cloudy>Nope", "cpt": "Rain:0.8,0.2;0.4,0.6"}, ["`edges`", "ignored"]),
        ({"query": "Nope"}, ["`query`", "Nope"]),
        ({"ev": "Wet grass:maybe"}, ["`ev`", "Wet grass=maybe"]),
        ({"ev": "garbage"}, ["`ev`", "Variable:state"]),
        ({"preset": "no such network"}, ["`preset`", "no such network"]),
        ({"cpt": "Rain:" + "0.5," * 30_000}, ["`cpt`", "characters long"]),
    ],
)
def test_a_bad_link_falls_back_to_the_preset_with_a_warning(params, names):
    at = run_page(**params)  # run_page asserts: no exception
    found = [w for w in warnings(at) if names[0] in w]
    assert found and all(name in found[0] for name in names), warnings(at)
    assert metric(at, "with graph") == "9"  # the sprinkler preset's graph
    if "cpt" not in params or "not a valid" not in names[1]:
        assert not errors(at), errors(at)
    # the URL now describes what is shown: the bad parameter is gone
    link = link_of(at)
    for key in params:
        assert key not in link or ("not a valid" in names[1] and key == "cpt"), link


def test_a_bad_table_leaves_the_good_ones_of_the_link():
    at = run_page(cpt="Rain:0.8,0.2;0.4,0.6|Cloudy:7")
    assert any("`cpt`" in w and "Cloudy" in w for w in warnings(at)), warnings(at)
    assert editor_frame(at, "Rain")["Rain=yes"].tolist() == [0.2, 0.6]
    assert link_of(at) == {"cpt": "Rain:0.8,0.2;0.4,0.6"}


def test_choosing_another_preset_drops_the_old_changes_from_the_link():
    at = run_page(cpt="Rain:0.8,0.2;0.4,0.6", query="Cloudy")
    at.selectbox(key="preset").set_value("naive Bayes")
    rerun(at)
    link = link_of(at)
    assert set(link) == {"preset"}, link
    assert not any("Changed from the preset" in c.value for c in at.caption)


def test_hide_explanations_hides_the_teaching_captions():
    shown = run_page()
    hidden = run_page(hide="explanations", instructor="1")
    everything = " ".join(c.value for c in shown.caption)
    left = " ".join(c.value for c in hidden.caption)
    for text in ("must be acyclic", "Hover a variable"):
        assert text in everything and text not in left
    assert "Grey = observed" in left  # the graph's legend stays
    assert any("A **Bayesian network**" in m.value for m in shown.markdown)
    assert not any("A **Bayesian network**" in m.value for m in hidden.markdown)  # explain() text too


def _top_level_layout(at: AppTest) -> list[str]:
    """The kinds of the page's top-level elements, in order (their places in the page)."""
    return [getattr(node, "type", type(node).__name__) for _, node in sorted(at.main.children.items())]


def test_a_cell_edit_keeps_every_element_in_its_place():
    """Issue 23: each CPT edit jumped the page back to the top. An element inserted near the top (the
    "Changed from the preset" note) moved every later element to a new place, so the browser rebuilt
    them all; a new editor key on every edit rebuilt the grid. Both stay put now."""
    at = run_page()
    keys, layout = sorted(e.key for e in at.data_editor), _top_level_layout(at)
    edit_cell(at, "Rain", 1, {"Rain=yes": 0.5})  # invalid: an error, a Normalize button, a warning
    assert any("CPT of Rain" in m for m in errors(at))
    assert any("Changed from the preset" in c.value for c in at.caption)
    assert sorted(e.key for e in at.data_editor) == keys
    assert _top_level_layout(at) == layout
    edit_cell(at, "Rain", 1, {"Rain=yes": 0.8})  # valid again: the preset's table
    assert not errors(at)
    assert sorted(e.key for e in at.data_editor) == keys
    assert _top_level_layout(at) == layout
    # pressing Normalize replaces the table: only then does its editor start afresh (a new key)
    edit_cell(at, "Rain", 1, {"Rain=yes": 0.5})
    next(b for b in at.button if b.label.startswith("Normalize rows")).click()
    rerun(at)
    assert editor_key(at, "Rain") not in keys
    assert _top_level_layout(at) == layout


def question_box(at: AppTest, question_id: str) -> bool:
    """True when the page holds the question's box, st.container(key="predict-<id>")."""
    from streamlit.testing.v1.element_tree import Block

    def blocks(node):
        for child in getattr(node, "children", {}).values():
            if isinstance(child, Block):
                yield child
                yield from blocks(child)

    return any(str(getattr(b.proto, "id", "")).endswith(f"-predict-{question_id}") for b in blocks(at._tree))


def test_explaining_away_question_reveals_what_enumeration_computes(monkeypatch, tmp_path):
    """Issue 20 §2: the sprinkler question sits in its box before the answer; locking in a wrong
    prediction reveals the answer computed by the page's own inference, with both probabilities."""
    from genlab import bayesnet as bn

    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path))      # the poll's answers go there
    net = bn.PRESETS["sprinkler/rain/wet grass"].network()
    before = net.conditional("Rain", {"Wet grass": "yes"})["yes"]
    after = net.conditional("Rain", {"Wet grass": "yes", "Sprinkler": "yes"})["yes"]
    at = run_page()
    assert question_box(at, "bn-explaining-away")
    assert not any("explains the alarm away" in m.value for m in at.markdown)   # no hint before the answer
    at.radio(key="predict_bn-explaining-away_before").set_value("More likely")
    rerun(at).button(key="predict_bn-explaining-away_before_lock").click()
    rerun(at)
    revealed = " ".join(w.value for w in at.warning)
    assert "Not this time" in revealed and "**Less likely**" in revealed and after < before
    assert f"{before:.4f}" in revealed and f"{after:.4f}" in revealed
    assert not question_box(run_page(hide="predict"), "bn-explaining-away")      # ?hide=predict: the plain page
