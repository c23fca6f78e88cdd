"""Predict, then reveal, and the live class poll in Chromium (issue 20, sections 2-3).

Students and the instructor are separate browser contexts (separate sessions, as separate laptops).
"""
from __future__ import annotations

import re

from tests.browser.conftest import assert_no_exception, open_page, serve_app, wait_for_js, wait_for_streamlit

QUESTION = ".st-key-predict-kl-larger"
POLL = ".st-key-poll-kl-larger"
COVER = '[class*="st-key-predict-cover-kl-numbers"]'


def _tab(context, url: str, width: int = 1280, height: int = 900):
    """A new tab (its own Streamlit session, like another student's laptop) at ``url``."""
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, url)
    return page


def _poll_count(page) -> int:
    """The number of answers the poll box shows now."""
    text = page.locator(POLL).inner_text()
    found = re.search(r"(\d+) answers?", text)
    assert found, text
    return int(found.group(1))


def _answer(page, option: str) -> None:
    box = page.locator(QUESTION)
    box.get_by_text(option, exact=True).click()
    wait_for_streamlit(page)
    box.get_by_role("button", name="Lock in my answer").click()
    wait_for_streamlit(page)


def _poll_says(page, text: str) -> None:
    """Wait until the poll box (refreshed by its fragment) shows ``text``."""
    wait_for_js(page, "([sel, t]) => (document.querySelector(sel) || {innerText: ''}).innerText.includes(t)",
                arg=[POLL, text], timeout_ms=60_000, what=f"poll shows {text!r}")


def _reset(page) -> None:
    page.locator(POLL).get_by_role("button", name="Reset poll").click()
    wait_for_streamlit(page)


def test_lock_in_reveals_and_the_instructor_sees_the_room_live(browser_context, app_server):
    """One context, several tabs: each tab is a session of its own (and the app's JavaScript is cached)."""
    pages = []
    try:
        teacher = _tab(browser_context, f"{app_server}/kl_discrete?instructor=1", 1920, 1080)
        pages.append(teacher)
        before = _poll_count(teacher)  # other tests on this server may have answered already

        student = _tab(browser_context, f"{app_server}/kl_discrete")
        pages.append(student)
        assert student.locator(COVER).count() == 1  # the two numbers are covered until the answer
        assert student.locator(POLL).count() == 0  # students do not see the room
        _answer(student, "KL(q‖p) is larger")
        assert student.locator(COVER).count() == 0
        result = student.locator(QUESTION).inner_text()
        assert "Not this time: the answer here is They are equal" in result, result
        _poll_says(teacher, _answers(before + 1))

        other = _tab(browser_context, f"{app_server}/kl_discrete")
        pages.append(other)
        _answer(other, "They are equal")
        assert "Your prediction held" in other.locator(QUESTION).inner_text()
        _poll_says(teacher, _answers(before + 2))
        _reset(teacher)
        _poll_says(teacher, "— 0 answers")
        for page in pages:
            assert_no_exception(page)
    finally:
        for page in pages:
            page.close()


def _answers(n: int) -> str:
    return f"— {n} answer" if n == 1 else f"— {n} answers"


def test_reset_needs_the_instructor_key_typed_into_the_sidebar(browser_context, tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_INSTRUCTOR_KEY", "projector-safe")
    with serve_app(tmp_path) as base:
        pages = []
        try:
            student = _tab(browser_context, f"{base}/kl_discrete")
            pages.append(student)
            _answer(student, "They are equal")
            teacher = _tab(browser_context, f"{base}/kl_discrete?instructor=1", 1920, 1080)
            pages.append(teacher)
            _poll_says(teacher, "— 1 answer")
            _reset(teacher)
            _poll_says(teacher, "needs the instructor key")
            key_box = teacher.get_by_label("Instructor key", exact=True).and_(teacher.locator("input"))
            key_box.fill("a wrong guess")
            key_box.press("Enter")
            wait_for_streamlit(teacher)
            _reset(teacher)
            _poll_says(teacher, "not the one this server was started with")
            _poll_says(teacher, "— 1 answer")
            key_box.fill("projector-safe")
            key_box.press("Enter")
            wait_for_streamlit(teacher)
            _reset(teacher)
            _poll_says(teacher, "— 0 answers")
            assert "projector-safe" not in teacher.url and "wrong" not in teacher.url
            assert_no_exception(teacher)
        finally:
            for page in pages:
                page.close()
