"""Predict, then reveal, and the class poll (issue 20, sections 2-3): the component and its two KL pages."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from genlab.polls import PollStore

ROOT = Path(__file__).resolve().parents[2]
DISCRETE = str(ROOT / "dashboard" / "pages" / "kl_discrete.py")
GAUSSIAN = str(ROOT / "dashboard" / "pages" / "gaussian_kl.py")


@pytest.fixture(autouse=True)
def poll_folder(tmp_path, monkeypatch) -> PollStore:
    """Every test counts its answers in a folder of its own."""
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path))
    monkeypatch.delenv("GENLAB_INSTRUCTOR_KEY", raising=False)
    return PollStore()


def _question_page():
    import streamlit as st

    from dashboard import common, predict

    common.setup_page("Predict test")
    asked = predict.predict("t-q", "Which one?", ["A", "B", "C"], answer=1, why="Because the figure shows B.")
    with predict.covered(asked.revealed, "t-answer"):
        st.metric("the answer", "B")
    st.caption(f"revealed={asked.revealed}")


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page(**params: str) -> AppTest:
    at = AppTest.from_function(_question_page, default_timeout=30)
    for name, value in params.items():
        at.query_params[name] = value
    return _run(at)


def _answer(at: AppTest, option: str, round_name: str = "before", question: str = "t-q") -> AppTest:
    at.radio(key=f"predict_{question}_{round_name}").set_value(option)
    _run(at)
    return _click(at, f"predict_{question}_{round_name}_lock")


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return _run(at)


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_the_answer_stays_covered_until_the_student_locks_in(poll_folder):
    at = _page()
    assert "revealed=False" in _captions(at)
    assert any("Answer the question above" in c for c in _captions(at))
    assert at.button(key="predict_t-q_before_lock").disabled  # nothing picked yet
    assert not at.success and not at.warning
    _answer(at, "B")
    assert "revealed=True" in _captions(at)
    assert "Your prediction held: **B**" in at.success[0].value and "figure shows B" in at.success[0].value
    assert poll_folder.tally("t-q", "before", 3) == [0, 1, 0]


def test_a_wrong_prediction_says_so_and_skip_reveals_without_counting(poll_folder):
    at = _answer(_page(), "C")
    assert "Not this time: the answer here is **B**" in at.warning[0].value
    other = _click(_page(), "predict_t-q_skip")
    assert "You skipped the question" in other.info[0].value and "revealed=True" in _captions(other)
    assert poll_folder.tally("t-q", "before", 3) == [0, 0, 1]


def test_ask_again_counts_a_second_round_and_a_changed_answer_replaces_the_old(poll_folder):
    at = _answer(_page(), "C")
    _click(at, "predict_t-q_again")
    assert "Now what do you think?" in " ".join(m.value for m in at.markdown)
    _answer(at, "A", "after")
    assert "Before: **C**; now: **A**" in at.warning[0].value
    assert poll_folder.tally("t-q", "before", 3) == [0, 0, 1]
    assert poll_folder.tally("t-q", "after", 3) == [1, 0, 0]


def _pending_page():
    from dashboard import common, predict

    common.setup_page("Predict test")
    asked = predict.predict("t-pending", "Which one?", ["A", "B"])
    asked.reveal(None, pending="No run yet: train one, then come back.")


def test_ask_again_waits_until_the_result_is_shown():
    at = _run(AppTest.from_function(_pending_page, default_timeout=30))
    _answer(at, "A", question="t-pending")
    assert "No run yet" in at.info[0].value
    assert "predict_t-pending_again" not in [b.key for b in at.button]
    shown = _answer(_page(), "B")
    assert "predict_t-q_again" in [b.key for b in shown.button]


def test_a_flood_of_answers_from_one_session_counts_once(poll_folder):
    at = _page()
    for option in ["A", "B", "C"] * 5:  # the same browser session answers again and again
        at.session_state["_genlab_predict_t-q"] = {"stage": "ask", "first": None, "second": None}
        _run(at)
        _answer(at, option)
    assert poll_folder.tally("t-q", "before", 3) == [0, 0, 1]  # one answer: the latest


def test_hide_predict_turns_the_questions_off():
    at = _page(hide="predict")
    assert not [r for r in at.radio if r.key.startswith("predict_")]
    assert not [b for b in at.button if b.label.startswith(("Lock in", "Skip"))]
    assert "revealed=True" in _captions(at)
    assert not any("Answer the question above" in c for c in _captions(at))


def test_the_instructor_sees_the_room_and_is_not_counted(poll_folder):
    _answer(_page(), "B")
    _answer(_page(), "A")
    teacher = _page(instructor="1")
    room = [m.value for m in teacher.markdown if "The room" in m.value]
    assert room and room[0].endswith("2 answers")
    _answer(teacher, "C")
    assert poll_folder.tally("t-q", "before", 3) == [1, 1, 0]
    _click(teacher, "poll_t-q_reset")
    assert "Poll reset: no answers counted." in _captions(teacher)
    assert poll_folder.tally("t-q", "before", 3) == [0, 0, 0]


def test_reset_needs_the_instructor_key_when_the_server_has_one(poll_folder, monkeypatch):
    monkeypatch.setenv("GENLAB_INSTRUCTOR_KEY", "s3cret")
    _answer(_page(), "B")
    teacher = _page(instructor="1")
    _click(teacher, "poll_t-q_reset")
    assert "needs the instructor key" in teacher.warning[0].value
    teacher.text_input(key="_genlab_instructor_key_w").input("wrong")
    _run(teacher)
    _click(teacher, "poll_t-q_reset")
    assert "not the one this server was started with" in teacher.warning[0].value
    assert poll_folder.tally("t-q", "before", 3) == [0, 1, 0]
    assert "s3cret" not in str(dict(teacher.query_params)) and "wrong" not in str(dict(teacher.query_params))
    teacher.text_input(key="_genlab_instructor_key_w").input("s3cret")
    _run(teacher)
    _click(teacher, "poll_t-q_reset")
    assert poll_folder.tally("t-q", "before", 3) == [0, 0, 0]


def test_no_key_box_without_a_server_key_or_outside_instructor_mode(monkeypatch):
    assert not _page(instructor="1").text_input
    monkeypatch.setenv("GENLAB_INSTRUCTOR_KEY", "s3cret")
    assert not _page().text_input
    assert _page(instructor="1").text_input(key="_genlab_instructor_key_w").label == "Instructor key"


# --------------------------------------------------------------------------- #
# The two KL pages answer from what they compute
# --------------------------------------------------------------------------- #
def _page_file(path: str, **params: str) -> AppTest:
    at = AppTest.from_file(path, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    return _run(at)


def test_kl_discrete_slide_example_is_equal_both_ways(poll_folder):
    at = _page_file(DISCRETE)
    assert any("Answer the question above" in c for c in _captions(at))
    _answer(at, "They are equal", question="kl-larger")
    assert "Your prediction held: **They are equal**" in at.success[0].value
    assert "KL(q‖p) = 1.758 and KL(p‖q) = 1.758 nats" in at.success[0].value
    assert not any("Answer the question above" in c for c in _captions(at))
    assert poll_folder.tally("kl-larger", "before", 3) == [0, 0, 1]


def test_kl_discrete_answer_follows_the_table():
    at = _page_file(DISCRETE, preset="Uniform q vs peaked p (4 outcomes)")
    _answer(at, "They are equal", question="kl-larger")
    metrics = {m.label: float(m.value.split()[0]) for m in at.metric}
    larger = "KL(q‖p) is larger" if metrics["KL(q‖p)"] > metrics["KL(p‖q)"] else "KL(p‖q) is larger"
    assert f"the answer here is **{larger}**" in at.warning[0].value
    invalid = _page_file(DISCRETE, table='[["a",0.5,0.5],["b",0.9,0.5]]')
    _click(invalid, "predict_kl-larger_skip")
    assert any("not a pair of probability distributions yet" in i.value for i in invalid.info)


def test_gaussian_kl_locking_in_reveals_the_optimum():
    at = _page_file(GAUSSIAN)
    assert at.toggle(key="reveal").value is False
    _answer(at, "argmin KL(q‖p) is narrower", question="gkl-narrow")
    assert at.toggle(key="reveal").value is True
    assert "Your prediction held" in at.success[0].value and "ρ = 0.9" in at.success[0].value
    round_ = _page_file(GAUSSIAN, rho="0")
    _answer(round_, "argmin KL(q‖p) is narrower", question="gkl-narrow")
    assert "the answer here is **Both have the same widths**" in round_.warning[0].value


def test_gaussian_kl_mixture_mode_seeking_and_a_revealed_optimum_asks_nothing():
    at = _page_file(GAUSSIAN, mode="Mixture p (PRML Fig. 10.3)")
    _answer(at, "The KL(q‖p) fit sits on one mode", question="gkl-modes")
    assert "Your prediction held" in at.success[0].value and "mode-seeking" in at.success[0].value
    shown = _page_file(GAUSSIAN, reveal="1")
    assert "predict_gkl-narrow_before" not in [r.key for r in shown.radio]
    assert any("switch it off to predict first" in c for c in _captions(shown))
