"""Guided walks (issue 20 section 4): the box that leads a student through a lesson page.

A page calls :func:`tour_box` once, right after ``common.setup_page``. With ``?tour=N`` in the
address the page shows step N of its walk (dashboard/tours.py) in a box keyed ``tour`` that stays
in view while the page scrolls: "Step N of M", what to do and notice, and Back / Next / Close
(keyboard ← / →: Streamlit button shortcuts, which Streamlit does not fire while a slider, a text
or number field or a tab has focus, so a focused control keeps its arrow keys; checked in chromium
by tests/browser/test_tour.py). Opening a step sets the page's controls: the page is drawn as its
address with the step's settings would draw it, so ``?tour=3`` from a slide and two presses of
Next from step 1 show the same view. The elements a step points at are outlined and scrolled into
view once. Without ``?tour=`` the sidebar offers "Walk me through this page".

``tour`` is a lesson setting of its page: common.setup_page drops it on a page switch, like the
page's other query values.
"""
from __future__ import annotations

import html
import json
import re

import streamlit as st

from dashboard import common, tours

QUERY = "tour"
# The step whose settings this session applied last (None: the walk is not open).
_APPLIED = "_genlab_tour_applied"
BACK_KEY, NEXT_KEY = "Left", "Right"
HIGHLIGHT = "#f59e0b"  # amber: reads on white and on the dark theme's ground

__all__ = ["QUERY", "parse_step", "tour_box"]


def parse_step(text: str | None, count: int) -> tuple[int, str | None]:
    """Step number (1..count) that ``?tour=text`` asks for, and a message when the text is not one.

    Not a whole number or below 1: step 1; above ``count``: the last step. The message says what
    was asked, what is allowed and what is shown instead.
    """
    raw = "" if text is None else str(text).strip()
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is not None and 1 <= number <= count:
        return number, None
    shown = count if number is not None and number > count else 1
    asked = html.escape(raw[:40]) if raw else "(empty)"
    return shown, (f"`tour={asked}` is not a step of this page's walk: steps are numbered 1 to {count}. "
                   f"Showing step {shown}.")


def _go(number: int | None) -> None:
    """Button callback: open step ``number`` (None closes the walk, keeping the page's settings)."""
    if number is None:
        if QUERY in st.query_params:
            del st.query_params[QUERY]
        st.session_state.pop(_APPLIED, None)
        return
    st.query_params[QUERY] = str(number)


def _apply(number: int, step: tours.Step) -> None:
    common.open_lesson_view({QUERY: str(number), **step.settings})
    st.session_state[_APPLIED] = number
    common.page_state(_APPLIED)


def _questions_hidden() -> bool:
    return common.control_hidden("predict")


def _targets(step: tours.Step) -> tuple[str, ...]:
    """Keys of the elements the step points at: its question's box (unless the link hides the
    questions), then its ``look_at``."""
    box = (f"predict-{step.question}",) if step.question and not _questions_hidden() else ()
    return box + tuple(step.look_at)


def _selector(keys: tuple[str, ...]) -> str:
    """CSS selector of the elements with these keys (Streamlit gives an element with ``key=k``
    the class ``st-key-k``, other characters than letters, digits, ``_`` and ``-`` made ``-``)."""
    return ", ".join(".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip()) for key in keys)


def _css(look_at: tuple[str, ...]) -> str:
    """The box stays at the top while the page scrolls; the step's elements are outlined."""
    ground = "#0f1117" if common.is_dark() else "#ffffff"
    # sticky on the box's layout wrapper: the box itself is as tall as the wrapper, so it could not move
    css = (f"[data-testid='stLayoutWrapper']:has(> .st-key-{QUERY}) {{ position: sticky; top: 3.75rem; "
           f"z-index: 990; }} .st-key-{QUERY} {{ background-color: {ground}; border-radius: 0.6rem; "
           f"box-shadow: 0 4px 14px rgba(0,0,0,0.18); }}")
    if look_at:
        css += (f"{_selector(look_at)} {{ outline: 3px solid {HIGHLIGHT}; outline-offset: 6px; "
                f"border-radius: 6px; }}")
    return f"<style>{css}</style>"


def _walk_script(step_id: str, look_at: tuple[str, ...]) -> str:
    """A script that brings the step's first element into view once per step and tab (the
    question first, if the step asks one). The same script is drawn on every run of the step; the
    browser remembers which step it scrolled to, so a rerun (a slider moved) never scrolls again.
    The element may be drawn a while after the script runs (a page that loads a model): it is
    looked for during 20 s and kept in place for 5 s more while figures above it load, unless the
    reader scrolls first. An element still covered by its
    question (predict.covered) gives way to the question above it. (No "<" in the script: Streamlit's
    HTML sanitizer drops a script whose text has "<" before a letter or digit.)"""
    selector, step_json = json.dumps(_selector(look_at)), json.dumps(step_id)
    return ("<script>(function(){const step=" + step_json + ";if(window.__genlabTourScrolled===step)return;"
            "window.__genlabTourScrolled=step;let tries=0,checks=0;const main=document.querySelector("
            "'[data-testid=stMain]');let last=main?main.scrollTop:0;const go=()=>{"
            "if(main&&Math.abs(main.scrollTop-last)>40)return;"   # the reader scrolled: leave the page be
            "let el=document.querySelector(" + selector + ");"
            # covered until its question is answered: bring the question above it into view instead
            "const cover=el&&el.closest('[class*=\"st-key-predict-cover-\"]');if(cover){"
            "const asks=[...document.querySelectorAll('[class*=\"st-key-predict-\"]')].filter(q=>"
            "q.querySelector('[role=radiogroup]')&&!/predict-(cover|shown)-/.test(q.className)"
            "&&(q.compareDocumentPosition(cover)&4));if(asks.length)el=asks[asks.length-1];}"
            "if(!el){if(++tries>100)return;setTimeout(go,200);return;}"
            "if(!main){el.scrollIntoView({block:'center'});return;}"
            # centred in the room under the sticky box (3.75rem from the top), or just below the box
            # when taller than that room; checked again for a few seconds, as figures above it load
            "const box=document.querySelector('.st-key-" + QUERY + "');"
            "const below=(box?box.getBoundingClientRect().height:0)+72;const r=el.getBoundingClientRect();"
            "const pad=Math.max(0,(window.innerHeight-below-r.height)/2);"
            "const target=main.scrollTop+r.top-below-pad;"
            "if(Math.abs(target-main.scrollTop)>8)main.scrollTo({top:target});last=main.scrollTop;"
            "if(12>++checks)setTimeout(go,400);};setTimeout(go,300);})();</script>")


def _open_button() -> None:
    st.sidebar.button("Walk me through this page", key="tour_open", icon=":material/directions_walk:",
                      on_click=_go, args=(1,), width="stretch",
                      help="A guided walk of a few steps: each sets the page up, says where to look and "
                           "what to notice. Same as adding ?tour=1 to the address.")


def _look_caption(step: tours.Step) -> None:
    where = []
    if step.question:
        where.append("the question" if not _questions_hidden() else "")
    if step.look_label:
        where.append(step.look_label)
    where = [w for w in where if w]
    if where:
        outlined = " (outlined on the page)" if _targets(step) else ""
        st.caption(f":material/visibility: Look at {' and '.join(where)}{outlined}.")
    if step.question and _questions_hidden():
        st.caption("The questions are hidden by this link (hide=predict): think of your answer, then look.")


def _buttons(number: int, count: int) -> None:
    """Back / Next (Finish on the last step) / Close, keys ← and →."""
    with st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.button("Back", key="tour_back", icon=":material/arrow_back:", on_click=_go, args=(number - 1,),
                  disabled=number <= 1, shortcut=BACK_KEY, help="The previous step (key ←).")
        if number < count:
            st.button("Next", key="tour_next", icon=":material/arrow_forward:", on_click=_go, args=(number + 1,),
                      type="primary", shortcut=NEXT_KEY, help="The next step (key →).")
        else:
            st.button("Finish", key="tour_next", icon=":material/check:", on_click=_go, args=(None,),
                      type="primary", shortcut=NEXT_KEY,
                      help="End the walk; the page keeps this step's settings (key →).")
        st.button("Close", key="tour_close", icon=":material/close:", on_click=_go, args=(None,),
                  help="Leave the walk; the page keeps this step's settings.")


def tour_box(page_id: str) -> None:
    """Draw the guided walk of page ``page_id`` (a key of ``tours.WALKS``) when the address asks for it.

    Call it right after ``common.setup_page`` and before the page's controls: a step sets them.
    """
    steps = tours.WALKS[page_id]
    raw = st.query_params.get(QUERY)
    if raw is None:
        st.session_state.pop(_APPLIED, None)
        _open_button()
        return
    number, problem = parse_step(raw, len(steps))
    if st.session_state.get(_APPLIED) != number or str(raw) != str(number):
        _apply(number, steps[number - 1])
    step = steps[number - 1]
    st.html(_css(_targets(step)))
    with st.container(key=QUERY, border=True):
        if problem:
            st.warning(problem, icon=":material/warning:")
        head, nav = st.columns([3, 2], vertical_alignment="center")
        head.markdown(f":material/directions_walk: **Step {number} of {len(steps)} · {step.title}**")
        with nav:
            _buttons(number, len(steps))
        st.markdown(step.text)
        _look_caption(step)
    targets = _targets(step)
    if targets:
        st.html(_walk_script(f"{page_id}:{number}", targets[:1]), unsafe_allow_javascript=True)
