"""dashboard.common: query-param-bound widgets, hiding, instructor mode, figures, share link.

Runs tiny scripts with Streamlit's AppTest (no server, no browser).
"""
from __future__ import annotations

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

SCRIPT = """
import streamlit as st
from dashboard import common

ctx = common.setup_page("Widget test")
values = {
    "lr": common.qp_slider("Learning rate", "lr", 0.0001, 0.1, 0.001, step=0.0001, format="%.4f"),
    "steps": common.qp_slider("Steps", "steps", 1, 100, 10),
    "band": common.qp_slider("Band", "band", 0, 10, (2, 5)),
    "data": common.qp_select("Data set", "data", ["digits", "mnist", "fashion-mnist"], "digits"),
    "k": common.qp_radio("k", "k", [1, 2, 3], 1),
    "n": common.qp_number("Samples", "n", 1, 50, 5),
    "beta": common.qp_number("beta", "beta", 0.0, 10.0, 1.0, step=0.5),
    "show": common.qp_toggle("Show p", "show", False),
}
common.explain("An explanation.")
st.session_state["values"] = values
st.session_state["ctx"] = ctx
st.session_state["url"] = common.copy_link_button()
"""


def run(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=30)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def values(at: AppTest) -> dict:
    return at.session_state["values"]


def test_defaults_without_query_params():
    at = run()
    assert values(at) == {"lr": 0.001, "steps": 10, "band": (2, 5), "data": "digits", "k": 1,
                          "n": 5, "beta": 1.0, "show": False}
    assert any("An explanation." in m.value for m in at.markdown)
    # Defaults are not written to the URL: links stay short.
    assert not {"lr", "steps", "band", "data", "k", "n", "beta", "show"} & set(at.query_params)


def test_valid_query_params_set_initial_values():
    at = run({"lr": "0.02", "steps": "42", "band": "3,7", "data": "mnist", "k": "3", "n": "7",
              "beta": "2.5", "show": "1"})
    assert values(at) == {"lr": 0.02, "steps": 42, "band": (3, 7), "data": "mnist", "k": 3,
                          "n": 7, "beta": 2.5, "show": True}
    assert at.slider(key="steps").value == 42
    assert at.selectbox(key="data").value == "mnist"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (  # clamped, reordered, or default when unusable
            {"lr": "5", "steps": "abc", "band": "9,1", "data": "imagenet", "k": "7", "n": "1000",
             "show": "maybe"},
            {"lr": 0.1, "steps": 10, "band": (1, 9), "data": "digits", "k": 1, "n": 50, "show": False},
        ),
        (
            {"lr": "-1", "steps": "2.5", "band": "1", "beta": "1e9"},
            {"lr": 0.0001, "steps": 10, "band": (2, 5), "beta": 10.0},
        ),
        ({"lr": "nan", "band": "a,b"}, {"lr": 0.001, "band": (2, 5)}),
    ],
    ids=["clamp-and-defaults", "below-min-and-malformed", "not-finite"],
)
def test_bad_query_params_fall_back_quietly(params, expected):
    at = run(params)
    got = values(at)
    assert {name: got[name] for name in expected} == expected
    assert not at.error


def test_changes_are_written_back_to_the_url():
    at = run()
    at.slider(key="steps").set_value(30).run()
    at.radio(key="k").set_value(2).run()
    at.toggle(key="show").set_value(True).run()
    assert at.query_params["steps"] == "30"
    assert at.query_params["k"] == "2"
    assert at.query_params["show"] == "1"
    # Back to the default: removed from the URL.
    at.radio(key="k").set_value(1).run()
    assert "k" not in at.query_params
    assert "k=1" not in at.session_state["url"]
    assert "steps=30" in at.session_state["url"]


def test_invalid_value_is_cleaned_from_the_url():
    at = run({"steps": "abc"})
    assert "steps" not in at.query_params


def test_hidden_controls_and_explanations():
    at = run({"hide": "steps,explanations", "steps": "20"})
    assert values(at)["steps"] == 20  # value still from the URL
    assert "steps" not in [s.key for s in at.slider]  # but no widget drawn
    assert at.slider(key="lr")  # others still drawn
    assert not any("An explanation." in m.value for m in at.markdown)
    assert at.session_state["ctx"].hidden == frozenset({"steps", "explanations"})


def test_instructor_mode_from_url_and_toggle():
    at = run({"instructor": "1"})
    assert at.session_state["ctx"].instructor
    toggle = at.sidebar.toggle(key="_genlab_instructor_w")
    assert toggle.value is True
    toggle.set_value(False).run()
    assert "instructor" not in at.query_params
    assert at.session_state["ctx"].instructor is False
    at.sidebar.toggle(key="_genlab_instructor_w").set_value(True).run()
    assert at.query_params["instructor"] == "1"


def test_share_url_contains_page_params():
    at = run({"steps": "42", "instructor": "1"})
    url = at.session_state["url"]
    assert url.startswith("http")
    assert "steps=42" in url and "instructor=1" in url
    assert at.code[0].value == url


STYLE_SCRIPT = """
import plotly.graph_objects as go
import streamlit as st
from dashboard import common

common.setup_page("Figure test")
fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0], mode="lines+markers", marker=dict(size=6)))
fig.add_annotation(x=0.5, y=0.5, text="note")
common.show_figure(fig, key="demo")
st.session_state["fig"] = fig
"""


def _styled(params: dict[str, str] | None = None, dark: bool = False) -> go.Figure:
    at = AppTest.from_string(STYLE_SCRIPT, default_timeout=30)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    if dark:
        at.sidebar.toggle(key="_genlab_dark_w").set_value(True).run()
    assert not at.exception, at.exception
    return at.session_state["fig"]


def test_style_figure_normal_and_instructor():
    normal = _styled()
    assert normal.layout.font.size == 15
    assert normal.data[0].marker.size == 6
    projector = _styled({"instructor": "1"})
    assert projector.layout.font.size == 22
    assert projector.data[0].marker.size >= 12
    assert projector.data[0].line.width >= 4
    assert projector.layout.annotations[0].font.size >= 22


def test_style_figure_dark_template():
    fig = _styled(dark=True)
    assert fig.layout.template.layout.paper_bgcolor is not None
    assert fig.layout.paper_bgcolor == "#0f1117"


CAPTION_SCRIPT = """
from dashboard import common

common.setup_page("Caption test")
common.caption("Dots: test images.", explanation="Close codes mean similar digits.")
common.caption(explanation="Only teaching text here.")
common.caption("Only a legend.")
"""


@pytest.mark.parametrize("hide, expected", [
    (None, ["Dots: test images. Close codes mean similar digits.", "Only teaching text here.", "Only a legend."]),
    ("explanations", ["Dots: test images.", "Only a legend."]),
    ("seed", ["Dots: test images. Close codes mean similar digits.", "Only teaching text here.", "Only a legend."]),
])
def test_caption_hides_its_explanation_with_the_explanations(hide, expected):
    at = AppTest.from_string(CAPTION_SCRIPT, default_timeout=30)
    if hide:
        at.query_params["hide"] = hide
    at.query_params["instructor"] = "1"
    at.run()
    assert not at.exception
    assert [c.value for c in at.main.caption] == expected


def test_instructor_css_enlarges_captions_and_keeps_metric_values_big():
    from dashboard import common

    css = common._INSTRUCTOR_CSS
    assert '[data-testid="stCaptionContainer"]' in css and "font-size: 1rem" in css
    assert '[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p' in css


@pytest.mark.parametrize("name", ["plotly_white", "plotly_dark"])
def test_set_template_gives_the_figure_update_layout_gives_and_copies_it(name):
    import plotly.graph_objects as go

    from dashboard import common

    def figure():
        return go.Figure(go.Scatter(x=[0, 1], y=[1, 0]), layout=dict(title=dict(text="t")))

    slow, fast, other = figure(), figure(), figure()
    slow.update_layout(template=name)
    common.set_template(fast, name)
    common.set_template(other, name)
    assert fast.to_plotly_json() == slow.to_plotly_json()
    fast.layout.template.layout.font.size = 99          # each figure owns its copy
    assert other.layout.template.layout.font.size != 99


# --------------------------------------------------------------------------- #
# Page switches: lesson settings stay with their page, display options carry
# --------------------------------------------------------------------------- #
ROUTER = """
import streamlit as st
st.navigation([st.Page("page_a.py", title="A", default=True), st.Page("page_b.py", title="B")]).run()
"""
# Two pages that use the same query names (k, loss, tab) with different ranges, options and defaults.
PAGE_A = """
import streamlit as st
from dashboard import common
ctx = common.setup_page("Page A")
st.session_state.setdefault("own", "A's own note")
common.page_state("own")
st.session_state["seen"] = ("A", common.qp_slider("k", "k", 0, 10, 0),
                            common.qp_select("Loss", "loss", ["minimax", "wgan"], "minimax"))
tabs = common.qp_tabs(["First", "Second"], "tab")
st.session_state["tabs"] = [t.open for t in tabs]
st.session_state["ctx"] = ctx
"""
PAGE_B = """
import streamlit as st
from dashboard import common
ctx = common.setup_page("Page B")
st.session_state["seen"] = ("B", common.qp_slider("k", "k", 1, 64, 2),
                            common.qp_select("Loss", "loss", ["bce", "minimax"], "bce"),
                            st.session_state.get("own"))
st.session_state["ctx"] = ctx
st.session_state["url"] = common.share_url()
"""


@pytest.fixture
def two_pages(tmp_path) -> AppTest:
    (tmp_path / "app.py").write_text(ROUTER)
    (tmp_path / "page_a.py").write_text(PAGE_A)
    (tmp_path / "page_b.py").write_text(PAGE_B)
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def _switch(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_a_page_switch_does_not_carry_settings_to_a_page_with_the_same_names(two_pages):
    at = two_pages
    at.slider(key="k").set_value(7).run()
    at.selectbox(key="loss").set_value("wgan").run()
    at.session_state["tab"] = "Second"
    at.run()
    assert at.session_state["seen"] == ("A", 7, "wgan")
    assert dict(at.query_params) == {"k": "7", "loss": "wgan", "tab": "second"}
    _switch(at, "page_b.py")
    # B opens with its own defaults and a clean address, as from its own link; A's own
    # registered session key is gone too.
    assert at.session_state["seen"] == ("B", 2, "bce", None)
    assert at.slider(key="k").value == 2
    assert dict(at.query_params) == {}
    at.slider(key="k").set_value(40).run()
    _switch(at, "page_a.py")
    assert at.session_state["seen"] == ("A", 0, "minimax")   # not B's 40, not A's old 7
    assert at.session_state["tabs"] == [True, False]
    assert dict(at.query_params) == {}


def test_a_link_that_carries_settings_still_sets_them(two_pages):
    at = two_pages
    at.slider(key="k").set_value(7).run()
    at.query_params["k"] = "30"          # the link to B says k=30 (A's URL said 7)
    _switch(at, "page_b.py")
    assert at.session_state["seen"][:2] == ("B", 30)
    assert at.query_params["k"] == "30"


def test_display_options_carry_across_pages(two_pages):
    at = two_pages
    at.sidebar.toggle(key="_genlab_instructor_w").set_value(True).run()
    at.sidebar.toggle(key="_genlab_dark_w").set_value(True).run()
    at.slider(key="k").set_value(7).run()
    _switch(at, "page_b.py")
    ctx = at.session_state["ctx"]
    assert ctx.instructor and ctx.dark
    assert dict(at.query_params) == {"instructor": "1", "theme": "dark"}
    assert "theme=dark" in at.session_state["url"] and "instructor=1" in at.session_state["url"]
    assert at.session_state["seen"][:2] == ("B", 2)


def test_same_page_reruns_keep_their_settings(two_pages):
    at = two_pages
    at.slider(key="k").set_value(7).run()
    at.run()
    assert at.session_state["seen"] == ("A", 7, "minimax")
    assert at.session_state["own"] == "A's own note"


# --------------------------------------------------------------------------- #
# ?theme= and qp_tabs
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("theme", "dark", "kept"), [
    ("dark", True, "dark"), ("DARK", True, "dark"), ("light", False, None), ("purple", False, None), ("", False, None),
])
def test_theme_from_the_url_and_bad_values_fall_back(theme, dark, kept):
    at = run({"theme": theme})
    assert not at.error
    assert at.session_state["ctx"].dark is dark
    assert at.sidebar.toggle(key="_genlab_dark_w").value is dark
    assert at.query_params.get("theme") == kept
    assert ("theme=dark" in at.session_state["url"]) is dark


def test_dark_toggle_writes_the_theme_into_the_link():
    at = run()
    at.sidebar.toggle(key="_genlab_dark_w").set_value(True).run()
    assert at.query_params["theme"] == "dark"
    assert "theme=dark" in at.session_state["url"]
    at.sidebar.toggle(key="_genlab_dark_w").set_value(False).run()
    assert "theme" not in at.query_params


TABS_SCRIPT = """
import streamlit as st
from dashboard import common
common.setup_page("Tabs test")
labels = ["β: posterior collapse", "S: Monte-Carlo samples", "Third"]
tabs = common.qp_tabs(labels, "tab", names=st.session_state.get("names"))
st.session_state["open"] = [t.open for t in tabs]
st.session_state["url"] = common.share_url()
"""


@pytest.mark.parametrize(("names", "url", "expected_open"), [
    (None, None, [True, False, False]),
    (None, "s-monte-carlo-samples", [False, True, False]),
    (None, "posterior-collapse", [True, False, False]),
    (None, "no-such-tab", [True, False, False]),
    (["beta", "s", "third"], "s", [False, True, False]),
    (["beta", "s", "third"], "third", [False, False, True]),
])
def test_qp_tabs_open_the_tab_the_link_names(names, url, expected_open):
    at = AppTest.from_string(TABS_SCRIPT, default_timeout=30)
    if names:
        at.session_state["names"] = names
    if url:
        at.query_params["tab"] = url
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["open"] == expected_open
    # the first tab (the default) and unknown names leave the URL
    assert at.query_params.get("tab") == (url if expected_open[0] is False else None)


def test_qp_tabs_write_the_open_tab_into_the_link():
    at = AppTest.from_string(TABS_SCRIPT, default_timeout=30)
    at.run()
    at.session_state["tab"] = "Third"      # what a click on the tab does
    at.run()
    assert at.session_state["open"] == [False, False, True]
    assert at.query_params["tab"] == "third"
    assert "tab=third" in at.session_state["url"]


def test_qp_tabs_reject_labels_they_cannot_name():
    from dashboard import common

    assert common._tab_names(["β", "Same", "same"], None) == ["1", "same", "3"]
    with pytest.raises(ValueError):
        common._tab_names(["a", "b"], ["x", "x"])
