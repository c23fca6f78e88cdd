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
