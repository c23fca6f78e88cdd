"""Guided walks (issue 20 section 4): ``?tour=N`` opens step N, a step's settings land in the
address and the controls, bad ``tour`` values fall back with a warning, Back / Next / Close work,
and ``tour`` stays on its page."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import tours
from dashboard.tour import parse_step

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "dashboard" / "pages"
APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def _poll_folder(tmp_path, monkeypatch):
    """The pages' prediction questions keep class polls in the run store: a temporary one."""
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path))


def _open(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    return _run(at)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _qp(at: AppTest, name: str) -> str | None:
    """One query value as the page left it (AppTest gives a string or a one-item list)."""
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _heading(at: AppTest) -> str:
    heads = [md.value for md in at.markdown if ":material/directions_walk:" in md.value]
    return heads[0] if heads else ""


def test_every_walk_has_four_to_eight_steps():
    for page, steps in tours.WALKS.items():
        assert (PAGES / f"{page}.py").is_file(), page
        assert 4 <= len(steps) <= 8, (page, len(steps))
        assert len({step.title for step in steps}) == len(steps), page
        for step in steps:
            assert step.text.strip() and step.title.strip()
            assert "tour" not in step.settings
            assert all(isinstance(v, str) and v for v in step.settings.values()), (page, step.title)


@pytest.mark.parametrize("text, count, expected", [
    ("1", 6, (1, None)), ("6", 6, (6, None)), (" 3 ", 6, (3, None)),
])
def test_parse_step_accepts_the_step_numbers(text, count, expected):
    assert parse_step(text, count) == expected


@pytest.mark.parametrize("text, shown", [("0", 1), ("-2", 1), ("99", 6), ("abc", 1), ("", 1), ("2.5", 1)])
def test_parse_step_falls_back_with_a_message(text, shown):
    number, message = parse_step(text, 6)
    assert number == shown
    assert "steps are numbered 1 to 6" in message and f"Showing step {shown}" in message


def test_tour_1_and_tour_2_show_different_steps():
    first = _open("kl_discrete", tour="1")
    second = _open("kl_discrete", tour="2")
    count = len(tours.WALKS["kl_discrete"])
    assert f"Step 1 of {count}" in _heading(first)
    assert f"Step 2 of {count}" in _heading(second)
    assert tours.WALKS["kl_discrete"][0].title in _heading(first)
    assert tours.WALKS["kl_discrete"][1].title in _heading(second)


def test_without_tour_the_sidebar_offers_the_walk_and_it_opens_step_1():
    at = _open("kl_discrete")
    assert not _heading(at)
    at.button(key="tour_open").click()
    _run(at)
    assert _qp(at, "tour") == "1"
    assert "Step 1 of" in _heading(at)


def test_a_steps_settings_land_in_the_address_and_the_controls():
    step = tours.WALKS["bayesian_networks"][2]          # ancestral sampling: n = 100
    at = _open("bayesian_networks", tour="3")
    assert step.settings and all(_qp(at, name) == value for name, value in step.settings.items())
    assert at.number_input(key="n").value == 100
    die = tours.WALKS["kl_discrete"][2]
    at = _open("kl_discrete", tour="3")
    assert at.selectbox(key="preset").value == die.settings["preset"] == _qp(at, "preset")


def test_a_step_starts_from_the_pages_defaults():
    """Opened from a link with other lesson settings, the step shows its own view; display options stay."""
    at = _open("bayesian_networks", tour="1", n="500", seed="3", instructor="1")
    assert "n" not in at.query_params and "seed" not in at.query_params
    assert _qp(at, "instructor") == "1"
    assert at.number_input(key="n").value == 1000


@pytest.mark.parametrize("value, shown", [("0", 1), ("99", None), ("abc", 1)])
def test_an_unknown_tour_value_warns_and_falls_back(value, shown):
    count = len(tours.WALKS["kl_discrete"])
    shown = shown or count
    at = _open("kl_discrete", tour=value)
    assert any(f"tour={value}" in w.value and f"1 to {count}" in w.value for w in at.warning), \
        [w.value for w in at.warning]
    assert f"Step {shown} of {count}" in _heading(at)
    assert _qp(at, "tour") == str(shown)


def test_next_back_and_close():
    walk = tours.WALKS["kl_discrete"]
    at = _open("kl_discrete", tour="2")
    assert "preset" not in at.query_params
    at.button(key="tour_next").click()
    _run(at)
    assert "Step 3 of" in _heading(at) and _qp(at, "tour") == "3"
    assert _qp(at, "preset") == walk[2].settings["preset"]
    assert at.selectbox(key="preset").value == walk[2].settings["preset"]
    at.button(key="tour_next").click()
    _run(at)
    assert "Step 4 of" in _heading(at) and _qp(at, "preset") == walk[3].settings["preset"]
    at.button(key="tour_back").click()
    _run(at)
    assert "Step 3 of" in _heading(at) and _qp(at, "preset") == walk[2].settings["preset"]
    # a change made during a step stays until the next step
    at.radio(key="unit").set_value("bits")
    _run(at)
    assert _qp(at, "unit") == "bits" and "Step 3 of" in _heading(at)
    at.button(key="tour_close").click()
    _run(at)
    assert "tour" not in at.query_params and not _heading(at)
    assert _qp(at, "unit") == "bits" and _qp(at, "preset") == walk[2].settings["preset"]   # Close keeps the view


def test_the_last_step_finishes_the_walk():
    count = len(tours.WALKS["kl_discrete"])
    at = _open("kl_discrete", tour=str(count))
    assert at.button(key="tour_next").label == "Finish"
    assert at.button(key="tour_back").disabled is False
    at.button(key="tour_next").click()
    _run(at)
    assert "tour" not in at.query_params


def test_tour_does_not_follow_to_another_page():
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/kl_discrete.py")
    at.query_params["tour"] = "2"
    _run(at)
    assert "Step 2 of" in _heading(at)
    at.switch_page("pages/bayesian_networks.py")   # AppTest keeps the query string: the page must drop it
    _run(at)
    assert "tour" not in at.query_params and "preset" not in at.query_params
    assert not _heading(at)


def test_with_the_questions_hidden_a_question_step_says_so():
    at = _open("kl_discrete", tour="1", hide="predict")
    captions = " ".join(c.value for c in at.caption)
    assert "questions are hidden by this link" in captions
    assert "Look at the question" not in captions
