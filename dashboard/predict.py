"""Predict, then reveal (issue 20, section 2), with the class poll (section 3).

A page asks a question at the moment it matters, before it shows the answer::

    from dashboard import predict

    asked = predict.predict(
        "kl-larger", "Which is larger for this table, KL(q‖p) or KL(p‖q)?",
        ["KL(q‖p)", "KL(p‖q)", "They are equal"],
        answer=0 if kl_qp > kl_pq else 1 if kl_pq > kl_qp else 2,   # from what the page computed
        why=f"KL(q‖p) = {kl_qp:.3f} and KL(p‖q) = {kl_pq:.3f}: see the two numbers on the right.",
    )
    with predict.covered(asked.revealed, "kl-numbers"):   # blurred until the student answers
        st.metric("KL(q‖p)", ...)

The student picks an option and presses "Lock in my answer" (or "Skip"); the page reruns with
``revealed`` true, and the question's box says whether the prediction held and why (``why``,
which should point at the figure). "Ask again" then asks the same question a second time
("now what do you think?"), once the student has seen the demo. ``answer`` may be an option
index, an option's text, a callable returning one (called only once the answer is shown), or
None when the page has no result for the question yet (``pending`` then says so); or leave it
out and call ``asked.reveal(answer, why)`` further down, once the page has computed it.

``?hide=predict`` turns every question off: ``predict`` then draws nothing and returns a
:class:`Prediction` that is revealed. In instructor mode each question's box also shows the
room's answers (:func:`poll_box`), which refresh every few seconds; the instructor's own
answers are not counted.
"""
from __future__ import annotations

import contextlib
import hmac
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import streamlit as st

from dashboard import common, safe_text
from dashboard.figures import poll as pollfig
from genlab.errors import GenlabError
from genlab.polls import MAX_OPTIONS, PollStore, new_session_token

__all__ = ["Prediction", "predict", "covered", "poll_box", "questions_hidden", "POLL_REFRESH_S"]

POLL_REFRESH_S = 2.0
_TOKEN = "_genlab_poll_token"
_STATE = "_genlab_predict_"  # + question id: this session's answers to the question
_NOTE = "_genlab_poll_note_"  # + question id: the last reset's message, and when it was given
_VOTE_NOTE = "_genlab_poll_vote_note_"  # + question id: why this session's answer was not counted
_NOTE_SECONDS = 20
_LATER = object()  # ``answer`` not given: the page calls Prediction.reveal itself
_COVER_CSS = """<style>
[class*="st-key-predict-cover-"] { filter: blur(14px); user-select: none; }
</style>"""


def questions_hidden() -> bool:
    """True when the link says ``?hide=predict`` (the plain page, without questions)."""
    return common.control_hidden("predict")


def _token() -> str:
    """This browser session's anonymous poll token (random, made once per session)."""
    token = st.session_state.get(_TOKEN)
    if not token:
        token = st.session_state[_TOKEN] = new_session_token()
    return token


def _state(question_id: str) -> dict[str, Any]:
    """This session's progress on a question: first/second answer (None: skipped), and stage."""
    key = _STATE + question_id
    if key not in st.session_state:
        st.session_state[key] = {"stage": "ask", "first": None, "second": None}
    return st.session_state[key]


def _count(question_id: str, round_name: str, option: int) -> None:
    """Add the answer to the class poll (not the instructor's own); a store error is a caption."""
    if common.is_instructor():
        return
    try:
        PollStore().record(question_id, round_name, _token(), option)
    except GenlabError as err:
        st.session_state[_VOTE_NOTE + question_id] = f"Your answer was not added to the class poll: {err}"


def _on_lock(question_id: str, round_name: str, choice_key: str, options: Sequence[str],
             on_reveal: Callable[[], None] | None = None) -> None:
    chosen = st.session_state.get(choice_key) if choice_key else None  # no key: skipped
    state = _state(question_id)
    index = list(options).index(chosen) if chosen in options else None
    if round_name == "before":
        state.update(stage="revealed", first=index)
    else:
        state.update(stage="done", second=index)
    if index is not None:
        _count(question_id, round_name, index)
    if on_reveal is not None and round_name == "before":
        on_reveal()


def _on_again(question_id: str) -> None:
    _state(question_id)["stage"] = "again"


def _resolve(answer: Any, options: Sequence[str]) -> int | None:
    """The correct option's index from an index, an option's text, None, or a callable of them."""
    if callable(answer):
        answer = answer()
    if answer is None:
        return None
    if isinstance(answer, str):
        if answer not in options:
            raise ValueError(f"predict: answer {answer!r} is not one of the options")
        return list(options).index(answer)
    index = int(answer)
    if not 0 <= index < len(options):
        raise ValueError(f"predict: answer index {index} is out of range")
    return index


@dataclass
class Prediction:
    """What :func:`predict` asked, and what this session answered. True (``bool``) once revealed."""

    question_id: str
    options: tuple[str, ...]
    revealed: bool
    first: int | None = None  # the first answer's index; None when skipped or not answered
    second: int | None = None  # the answer when asked again
    stage: str = "ask"  # "ask", "revealed", "again" (asked again) or "done"; "off" for ?hide=predict
    _slot: Any = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.revealed

    def reveal(self, answer: Any, why: str | Callable[[int | None], str] = "", *,
               pending: str | None = None) -> None:
        """Say, in the question's box, whether the prediction held and why. Does nothing before
        the student locked in (or skipped), or with ``?hide=predict``. See :func:`predict`."""
        if self._slot is None or not self.revealed:
            return
        with self._slot.container():
            _draw_result(self, _resolve(answer, self.options), why, pending)


def _draw_result(asked: Prediction, correct: int | None, why: str | Callable[[int | None], str],
                 pending: str | None) -> None:
    options = asked.options
    because = (why(correct) if callable(why) else why).strip()
    if correct is None:  # no result yet: nothing to ask again about
        st.info(pending or "The page has no result for this question yet: run it, then come back to the "
                           "answer here.")
        return
    right = options[correct]
    latest = asked.second if asked.stage == "done" else asked.first
    if asked.stage == "done" and asked.first is not None and asked.second is not None:
        said = f"Before: **{options[asked.first]}**; now: **{options[asked.second]}**. "
    elif latest is not None:
        said = f"You predicted **{options[latest]}**. "
    else:
        said = "You skipped the question. "
    if latest is None:
        st.info(f"{said}The answer here: **{right}**. {because}")
    elif latest == correct:
        st.success(f"{said}Your prediction held: **{right}**. {because}")
    else:
        st.warning(f"{said}Not this time: the answer here is **{right}**. {because}")
    if asked.stage == "revealed":  # only once the result is shown
        st.button("Ask again: now what do you think?", key=f"predict_{asked.question_id}_again",
                  on_click=_on_again, args=(asked.question_id,),
                  help="Answer once more, now that you have seen the result; the class poll "
                       "shows the first and the second answers side by side.")


def _ask(question_id: str, options: Sequence[str], round_name: str, on_reveal: Callable[[], None] | None) -> None:
    """The options and the Lock in (and Skip) buttons of one round."""
    choice_key = f"predict_{question_id}_{round_name}"
    choice = st.radio("Your answer", options, index=None, key=choice_key, label_visibility="collapsed")
    with st.container(horizontal=True):
        st.button("Lock in my answer" if round_name == "before" else "Lock in my new answer",
                  key=f"predict_{question_id}_{round_name}_lock", type="primary", disabled=choice is None,
                  on_click=_on_lock, args=(question_id, round_name, choice_key, tuple(options), on_reveal),
                  help="Your answer is counted once, anonymously, in the class poll.")
        if round_name == "before":
            st.button("Skip", key=f"predict_{question_id}_skip", on_click=_on_lock,
                      args=(question_id, round_name, "", tuple(options), on_reveal),
                      help="Show the answer without answering.")


def predict(question_id: str, question: str, options: Sequence[str], *, answer: Any = _LATER,
            why: str | Callable[[int | None], str] = "", pending: str | None = None,
            on_reveal: Callable[[], None] | None = None, shown_anyway: str | None = None) -> Prediction:
    """Ask ``question`` (markdown) with ``options`` in a box keyed ``predict-<question_id>``.

    Returns a :class:`Prediction`, true once this session locked in an answer or skipped (and
    with ``?hide=predict``); until then the page keeps its answer out of sight (e.g. with
    :func:`covered`). ``answer``: the correct option (index, text, callable, or None when the page
    has no result yet, with ``pending`` saying so); left out, call ``.reveal`` later. ``why``: one or
    two sentences that explain the answer and point at the figure (or a callable of the correct
    index giving them). ``on_reveal``: called (as a widget callback) when the student locks in or
    skips, e.g. to switch on the page's own "reveal" control. ``shown_anyway``: when the page shows
    the answer already (its own reveal switch is on), the text that says so; the box then asks
    nothing until the page hides it again. In instructor mode the box also shows the class poll.
    """
    options = tuple(str(option) for option in options)
    if not 2 <= len(options) <= MAX_OPTIONS or len(set(options)) != len(options):
        raise ValueError(f"predict: 2 to {MAX_OPTIONS} different options are needed")
    if questions_hidden():
        return Prediction(question_id, options, revealed=True, stage="off")
    state = _state(question_id)
    asked = Prediction(question_id, options, revealed=state["stage"] != "ask" or bool(shown_anyway),
                       first=state["first"], second=state["second"], stage=state["stage"])
    with st.container(key=f"predict-{question_id}", border=True):
        if asked.stage == "again":
            st.markdown(f"**:material/psychology_alt: Now what do you think?** {question}")
        else:
            st.markdown(f"**:material/psychology_alt: Predict first.** {question}")
        if asked.stage == "ask" and shown_anyway:
            st.caption(shown_anyway)
        elif asked.stage in ("ask", "again"):
            _ask(question_id, options, "before" if asked.stage == "ask" else "after", on_reveal)
        if asked.stage in ("revealed", "done"):  # (asked again: the new answer first, then the result)
            asked._slot = st.empty()
            if answer is not _LATER:
                asked.reveal(answer, why, pending=pending)
            vote_note = st.session_state.pop(_VOTE_NOTE + question_id, None)
            if vote_note:
                st.caption(safe_text.md(vote_note, 400))
        if common.is_instructor():
            with st.container(key=f"poll-{question_id}"):
                poll_box(question_id, options)
    return asked


@contextlib.contextmanager
def covered(revealed: bool, key: str,
            note: str = "Answer the question above (or skip it) to see this.") -> Iterator[None]:
    """A container whose content is blurred until ``revealed`` (the layout does not jump when the
    answer shows). ``key`` names it (unique on the page)."""
    if revealed:
        with st.container(key=f"predict-shown-{key}"):
            yield
        return
    st.html(_COVER_CSS)
    st.caption(f":material/visibility_off: {note}")
    with st.container(key=f"predict-cover-{key}"):
        yield


def _reset_refusal() -> str | None:
    """Why this session may not reset a poll (None: it may). With ``GENLAB_INSTRUCTOR_KEY`` set,
    the key typed into the sidebar must match it."""
    expected = os.environ.get("GENLAB_INSTRUCTOR_KEY")
    if not expected:
        return None
    typed = common.instructor_key()
    if not typed:
        return "Resetting needs the instructor key: type it into the sidebar (Instructor key)."
    if not hmac.compare_digest(typed.encode(), expected.encode()):
        return ("The instructor key in the sidebar is not the one this server was started with; "
                "the poll was not reset.")
    return None


def _on_reset(question_id: str) -> None:
    refusal = _reset_refusal()
    if refusal is None:
        try:
            PollStore().reset(question_id)
            refusal = ""
        except GenlabError as err:
            refusal = str(err)
    st.session_state[_NOTE + question_id] = (refusal, time.time())


def _answers(n: int) -> str:
    return f"{n} answer" if n == 1 else f"{n} answers"


@st.fragment(run_every=POLL_REFRESH_S)
def poll_box(question_id: str, options: Sequence[str]) -> None:
    """The room's answers to the question (instructor mode): bars per option with the number of
    answers, the second round beside the first once the question was asked again, and "Reset
    poll". Reruns every :data:`POLL_REFRESH_S` seconds on its own (a fragment)."""
    store = PollStore()
    before = store.tally(question_id, "before", len(options))
    after = store.tally(question_id, "after", len(options))
    n_before, n_after = sum(before), sum(after)
    if n_after:
        counted = f"Before: {_answers(n_before)} · after: {_answers(n_after)}"
    else:
        counted = _answers(n_before)
    st.markdown(f"**:material/groups: The room** — {counted}")
    st.caption("Anonymous, one per browser session, refreshes by itself; instructor-mode answers don't count.")
    if n_before or n_after:
        common.show_figure(pollfig.poll_figure(options, before, after if n_after else None),
                           key=f"poll_figure_{question_id}", config={"displayModeBar": False})
    note = st.session_state.get(_NOTE + question_id)
    if note and time.time() - note[1] < _NOTE_SECONDS:
        if note[0]:
            st.warning(safe_text.md(note[0], 400))
        else:
            st.caption("Poll reset: no answers counted.")
    st.button("Reset poll", key=f"poll_{question_id}_reset", on_click=_on_reset, args=(question_id,),
              help="Forget the room's answers to this question (both rounds). Your own answers in "
                   "instructor mode are not counted.")
