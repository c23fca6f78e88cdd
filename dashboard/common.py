"""Shared helpers for every genlab dashboard page.

Call :func:`setup_page` first in each page script; it renders the page title,
the sidebar display options (instructor mode, dark theme, figure download
format) and injects the CSS for the chosen mode.

Widgets made with the ``qp_*`` helpers keep their value in the URL
(``st.query_params``) so a copied link reproduces the view:

* the widget's session-state key is the query-parameter name (``key``), so
  AppTest can find it with e.g. ``at.slider(key="lr_d")``;
* the first value comes from the URL when it is valid (numbers are clamped to
  the range, unknown options fall back to the default), otherwise from
  ``value``; a bad URL value never raises;
* every change is written back to the URL; a value equal to the default is
  removed from the URL to keep links short;
* ``?hide=key1,key2`` hides those controls: the helper returns the value from
  the URL (or the default) without drawing anything.  ``?hide=explanations``
  hides every :func:`explain` block and the explanatory half of every
  :func:`caption` (what a figure shows stays; why it matters goes). ``?hide=predict``
  turns off the prediction questions (:mod:`dashboard.predict`): the page shows its answers.

``?instructor=1`` (or the sidebar toggle) switches on instructor mode: larger
fonts on the page and projector-sized fonts, markers and lines in figures.
``?theme=dark`` (or the sidebar toggle) switches on the dark theme.
``?palette=cb`` (or the sidebar toggle) draws every figure in the colour-blind-safe
palette (:mod:`dashboard.figures.palette`); pages pass ``ctx.palette`` to the figure
builders. An unknown ``?palette=`` value falls back to the default with a warning.

Display options (instructor mode, dark theme, palette, hidden controls, figure format)
are global: they carry across pages. Lesson settings are per page: when
:func:`setup_page` sees another page than the session's previous run, it drops
every session-state key a ``qp_*`` helper (or :func:`page_state`) registered, so
a page reached through the sidebar opens as it does from its own address, and
a query name shared by two pages (``k``, ``steps``, ``loss``) never carries one
page's value into the other.
"""
from __future__ import annotations

import functools
import json
import math
import os
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import plotly.graph_objects as go
import streamlit as st

from dashboard.figures.palette import DEFAULT as DEFAULT_PALETTE
from dashboard.figures.palette import PALETTE_PARAM, PALETTES, Palette
from dashboard.safe_text import md

__all__ = [
    "PageContext",
    "setup_page",
    "is_instructor",
    "is_dark",
    "palette",
    "explain",
    "caption",
    "style_figure",
    "show_figure",
    "qp_slider",
    "qp_select",
    "qp_radio",
    "qp_number",
    "qp_toggle",
    "qp_tabs",
    "page_state",
    "open_lesson_view",
    "copy_link_button",
    "control_hidden",
    "share_url",
    "instructor_key",
    "first_visit_spinner",
]

# Session-state keys owned by this module (persist across page switches).
_INSTRUCTOR = "_genlab_instructor"
_DARK = "_genlab_dark"
_HIDE = "_genlab_hide"
_IMG_FMT = "_genlab_image_format"
_PALETTE = "_genlab_palette"                  # the name of the session's palette
_PALETTE_WARNING = "_genlab_palette_warning"  # an unknown ?palette= value, to warn about once
_KEY = "_genlab_instructor_key"  # typed into the sidebar; never in the URL (the projector shows it)
# The page whose lesson settings session state holds, and the keys of those settings.
_PAGE = "_genlab_page"
_PAGE_KEYS = "_genlab_page_keys"
_PAGE_URL = "_genlab_page_url"
# Query parameters that are display options: global, they stay in the URL across pages.
_GLOBAL_PARAMS = frozenset({"instructor", "hide", "theme", PALETTE_PARAM})
_WIDGET = "_w"  # suffix of the sidebar widgets' own keys

# Figure sizes.
NORMAL_FONT = 15
INSTRUCTOR_FONT = 22
INSTRUCTOR_MARKER = 12
INSTRUCTOR_LINE = 4.0

_TRUE = {"1", "true", "yes", "on"}
_THEMES = {"dark", "light"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class PageContext:
    """What :func:`setup_page` decided for this run of the page."""

    title: str
    instructor: bool
    dark: bool
    hidden: frozenset[str]
    palette: Palette = DEFAULT_PALETTE   # pass it to the figure builders (``palette=ctx.palette``)

    @property
    def plotly_template(self) -> str:
        return "plotly_dark" if self.dark else "plotly_white"


# --------------------------------------------------------------------------- #
# URL helpers
# --------------------------------------------------------------------------- #
def _qp_get(name: str) -> str | None:
    try:
        value = st.query_params.get(name)
    except Exception:  # pragma: no cover - no script context
        return None
    return None if value is None else str(value)


def _qp_set(name: str, value: str | None) -> None:
    """Set (or remove, for None) one query parameter, only if it changes."""
    try:
        current = st.query_params.get(name)
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
        elif current != value:
            st.query_params[name] = value
        if value is None:
            _page_url().pop(name, None)
        else:
            _page_url()[name] = value
    except Exception:  # pragma: no cover - no script context
        pass


def _page_url() -> dict[str, str]:
    """The query parameters the current page's URL had (at the start of its last run, and as
    written by this module since)."""
    url = st.session_state.get(_PAGE_URL)
    if url is None:
        url = st.session_state[_PAGE_URL] = {}
    return url


def _parse_bool(text: str | None) -> bool | None:
    if text is None:
        return None
    text = text.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _parse_hide(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    return frozenset(part.strip() for part in text.split(",") if part.strip())


# --------------------------------------------------------------------------- #
# Page setup, modes, theme
# --------------------------------------------------------------------------- #
def _sync_modes_from_url() -> None:
    """URL wins when it names a mode; otherwise the session keeps its mode."""
    ss = st.session_state
    flag = _parse_bool(_qp_get("instructor"))
    if flag is not None:
        ss[_INSTRUCTOR] = flag
    ss.setdefault(_INSTRUCTOR, False)
    hide = _qp_get("hide")
    if hide is not None:
        ss[_HIDE] = _parse_hide(hide)
    ss.setdefault(_HIDE, frozenset())
    theme = _qp_get("theme")
    if theme is not None and theme.strip().lower() in _THEMES:
        ss[_DARK] = theme.strip().lower() == "dark"
    ss.setdefault(_DARK, False)
    _sync_palette_from_url()
    ss.setdefault(_IMG_FMT, "png")
    # Keep the URL describing the view even after a page switch cleared it (an unknown
    # ?theme= value is replaced by the theme in use).
    if ss[_INSTRUCTOR]:
        _qp_set("instructor", "1")
    if ss[_HIDE] and hide is None:
        _qp_set("hide", ",".join(sorted(ss[_HIDE])))
    _qp_set("theme", "dark" if ss[_DARK] else None)


def _palette_param(name: str) -> str | None:
    """The URL value of palette ``name`` (None: the default palette has no parameter)."""
    return None if name == DEFAULT_PALETTE.name else name


def _sync_palette_from_url() -> None:
    """``?palette=`` names the session's palette; an unknown value keeps the palette in use and is
    remembered for :func:`_palette_warning`. The URL is then rewritten to the palette in use."""
    ss = st.session_state
    text = _qp_get(PALETTE_PARAM)
    if text is not None:
        name = text.strip().lower()
        if name in PALETTES:
            ss[_PALETTE] = name
        else:
            ss[_PALETTE_WARNING] = text
    ss.setdefault(_PALETTE, DEFAULT_PALETTE.name)
    _qp_set(PALETTE_PARAM, _palette_param(ss[_PALETTE]))


def _moved_notice() -> None:
    """Once per session, after the class load balancer moved this browser off a server that went
    away (deploy/haproxy_config.py sets the ``genlab_moved`` cookie for 2 minutes): say why the page
    started afresh and where the runs are. Streamlit itself only flashes "Connecting"."""
    try:
        moved = st.context.cookies.get("genlab_moved")
    except Exception:  # noqa: BLE001 - no browser request behind this session (tests, bare mode)
        return
    if moved and not st.session_state.get("_genlab_moved_shown"):
        st.session_state["_genlab_moved_shown"] = True
        st.toast("Your server stopped: this page now runs on another one and started afresh. "
                 "Saved runs are kept.", icon=":material/sync_problem:", duration="infinite")


def _palette_warning() -> None:
    """Say once that the address asked for a palette that does not exist."""
    text = st.session_state.pop(_PALETTE_WARNING, None)
    if text is None:
        return
    allowed = ", ".join(f"`{PALETTE_PARAM}={name}`" for name in PALETTES if name != DEFAULT_PALETTE.name)
    st.warning(f"The address asks for an unknown figure palette ({PALETTE_PARAM}=“{md(text, 40)}”); the "
               f"figures keep the {palette().label}. Allowed: {allowed} (colour-blind safe), or no "
               f"`{PALETTE_PARAM}` parameter for the default colours.")


def _on_instructor_change() -> None:
    on = bool(st.session_state[_INSTRUCTOR + _WIDGET])
    st.session_state[_INSTRUCTOR] = on
    _qp_set("instructor", "1" if on else None)


def _on_dark_change() -> None:
    on = bool(st.session_state[_DARK + _WIDGET])
    st.session_state[_DARK] = on
    _qp_set("theme", "dark" if on else None)


def _on_key_change() -> None:
    st.session_state[_KEY] = str(st.session_state[_KEY + _WIDGET] or "")


def instructor_key() -> str:
    """The instructor key typed into the sidebar in this session ("" if none); the server's
    ``GENLAB_INSTRUCTOR_KEY`` guards what only the instructor may do (resetting a class poll)."""
    return str(st.session_state.get(_KEY, ""))


def _on_palette_change() -> None:
    name = "cb" if st.session_state[_PALETTE + _WIDGET] else DEFAULT_PALETTE.name
    st.session_state[_PALETTE] = name
    _qp_set(PALETTE_PARAM, _palette_param(name))


def _on_format_change() -> None:
    st.session_state[_IMG_FMT] = st.session_state[_IMG_FMT + _WIDGET]


def _on_show_hidden() -> None:
    st.session_state[_HIDE] = frozenset()
    _qp_set("hide", None)


def _sidebar_options() -> None:
    ss = st.session_state
    with st.sidebar:
        st.markdown("**Display**")
        # Re-seed the widget keys from the persistent keys each run, so the
        # choices survive page switches (Streamlit drops state of widgets that
        # a run does not draw).
        ss[_INSTRUCTOR + _WIDGET] = ss[_INSTRUCTOR]
        st.toggle(
            "Instructor mode",
            key=_INSTRUCTOR + _WIDGET,
            on_change=_on_instructor_change,
            help="Projector-sized text and figures. Same as adding ?instructor=1 to the URL.",
        )
        if ss[_INSTRUCTOR] and os.environ.get("GENLAB_INSTRUCTOR_KEY"):
            ss[_KEY + _WIDGET] = ss.get(_KEY, "")
            st.text_input("Instructor key", type="password", key=_KEY + _WIDGET, on_change=_on_key_change,
                          help="The key this server was started with (GENLAB_INSTRUCTOR_KEY): it lets you "
                               "reset the class polls. Kept in this browser session only, never in the link.")
        ss[_DARK + _WIDGET] = ss[_DARK]
        st.toggle("Dark theme", key=_DARK + _WIDGET, on_change=_on_dark_change,
                  help="Same as adding ?theme=dark to the URL.")
        ss[_PALETTE + _WIDGET] = ss[_PALETTE] == "cb"
        st.toggle("Colour-blind-safe colours", key=_PALETTE + _WIDGET, on_change=_on_palette_change,
                  help="Okabe–Ito colours in every figure: real vs fake, q vs p and the other pairs stay "
                       "apart with red-green or blue-yellow colour blindness (class plots add a marker "
                       "shape per class). Same as adding ?palette=cb to the URL.")
        ss[_IMG_FMT + _WIDGET] = ss[_IMG_FMT]
        st.radio(
            "Figure download format",
            ["png", "svg"],
            key=_IMG_FMT + _WIDGET,
            format_func=str.upper,
            horizontal=True,
            on_change=_on_format_change,
            help="Format of the camera button in each figure's toolbar.",
        )
        if ss[_HIDE]:
            st.caption("Hidden by this link: " + ", ".join(sorted(ss[_HIDE])))
            st.button("Show hidden controls", on_click=_on_show_hidden)


_BASE_CSS = """
<style>
/* Tighter top padding: more room for figures. */
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
/* Long page titles wrap instead of being cut off with an ellipsis. */
[data-testid="stSidebarNavLink"] span, [data-testid="stSidebarNavLink"] div,
[data-testid="stSidebarNavLink"] p, [data-testid="stPageLink"] p,
[data-testid="stPageLink"] span { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; }
[data-testid="stSidebarNavLink"] { height: auto !important; min-height: 2rem; }
</style>
"""

INSTRUCTOR_ROOT_FONT_PX = 22

_INSTRUCTOR_CSS = """
<style>
/* Instructor mode: everything rem-based grows with the root font size. */
html { font-size: %dpx; }
[data-testid="stMarkdownContainer"] p,
[data-testid="stMarkdownContainer"] li { font-size: 1.1rem; line-height: 1.5; }
[data-testid="stWidgetLabel"] p { font-size: 1.05rem; font-weight: 600; }
/* Captions grow too (0.875rem would be 19 px; body text is 24 px). */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 1rem; line-height: 1.45; }
/* st.metric values are markdown too: keep them big (the rule above made them body-sized). */
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p { font-size: 1.9rem; line-height: 1.25; }
/* Widgets whose text is sized in px. */
.stApp input, .stApp textarea, [role="listbox"] [role="option"], [data-testid="stSliderThumbValue"],
[data-testid="stSliderTickBar"] div, .stApp button p { font-size: 1rem !important; }
[data-testid="stCode"] code { font-size: 0.9rem !important; }
[data-testid="stSidebar"] { min-width: 380px; }
</style>
""" % INSTRUCTOR_ROOT_FONT_PX

_DARK_CSS = """
<style>
/* Dark theme (sidebar toggle): repaint the light theme's surfaces and text. */
.stApp, [data-testid="stAppViewContainer"], [data-testid="stHeader"],
[data-testid="stBottomBlockContainer"] { background-color: #0f1117 !important; color: #e8eaf0; }
[data-testid="stSidebar"], [data-testid="stSidebarContent"] { background-color: #1a1d26 !important; }
.stApp h1, .stApp h2, .stApp h3, .stApp h4, .stApp h5, .stApp h6, .stApp p, .stApp li,
.stApp label, .stApp th, .stApp td, [data-testid="stSidebarNav"] span,
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] { color: #e8eaf0 !important; }
.stApp a, .stApp a span, [data-testid="stPageLink"] span { color: #8fbcff !important; }
.stApp code { background-color: #262a36 !important; color: #f0f2f6 !important; }
[data-testid="stCode"] pre { background-color: #262a36 !important; }
[data-testid="stVerticalBlock"] { border-color: #3a3f4f !important; }
/* Badges keep their hue, on a dark ground. */
.stMarkdownBadge { filter: invert(0.9) hue-rotate(180deg); }
.stApp input, .stApp textarea, [data-testid="stSelectbox"] [role="group"],
[data-testid="stMultiSelect"] [role="group"], [data-testid="stNumberInputContainer"],
[role="listbox"], [role="option"] { background-color: #262a36 !important; color: #e8eaf0 !important; }
.stApp button[kind="secondary"] { background-color: #262a36 !important; color: #e8eaf0 !important;
  border-color: #3a3f4f !important; }
[data-testid="stExpander"] details, [data-testid="stExpander"] summary { border-color: #3a3f4f !important;
  background-color: #161a23 !important; }
[data-testid="stDataFrame"] { filter: invert(0.92) hue-rotate(180deg); }
/* Off switches and help icons would vanish on the dark ground. */
[data-testid="stCheckbox"] label:has(input[role="switch"]:not(:checked)) > div:not([data-testid]) {
  background-color: #4a5062 !important; }
[data-testid="stTooltipIcon"] button, [data-testid="stTooltipIcon"] svg { color: #b8bdc9 !important; }
/* The "?" icon's strokes take the theme's faded text colour (dark grey), not currentColor. */
.stApp [data-testid="stTooltipHoverTarget"] svg, .stApp [data-testid="stTooltipHoverTarget"] svg * {
  stroke: #b8bdc9 !important; }
/* File uploaders keep a light drop zone otherwise. */
[data-testid="stFileUploaderDropzone"] { background-color: #262a36 !important; border-color: #3a3f4f !important; }
[data-testid="stFileUploaderDropzone"] span, [data-testid="stFileUploaderDropzone"] small,
[data-testid="stFileUploaderDropzone"] svg { color: #e8eaf0 !important; }
/* Message boxes (st.info/warning/error/success, exceptions): the light theme paints them with a pale
   ground that the light text above made unreadable; a dark tint of each hue instead, icon in the hue. */
[data-testid="stAlertContainer"] { background-color: #1b2a42 !important; color: #9cc3ff !important; }
[data-testid="stAlertContainer"]:has([data-testid="stAlertContentWarning"]) {
  background-color: #3a3113 !important; color: #ffd866 !important; }
[data-testid="stAlertContainer"]:has([data-testid="stAlertContentError"]),
[data-testid="stException"] > div { background-color: #451c20 !important; color: #ff9c9c !important; }
[data-testid="stAlertContainer"]:has([data-testid="stAlertContentSuccess"]) {
  background-color: #173825 !important; color: #8fe0a8 !important; }
/* Disabled buttons look disabled: dim text, no fill (the rules above would paint them like live ones). */
.stApp button:disabled, .stApp button:disabled:hover { background-color: transparent !important;
  border-color: #353a48 !important; cursor: not-allowed; }
.stApp button:disabled, .stApp button:disabled p, .stApp button:disabled span { color: #5d6374 !important; }
</style>
"""


def _leave_pages_folder_mode() -> None:
    """Make sure the page runs under dashboard/app.py's navigation.

    Streamlit takes a ``pages/`` folder beside the entry script for an old-style
    multipage app until the entry script has called ``st.navigation`` once. So
    after a server start, a deep link (``/kl_discrete?...``) ran the page alone,
    with an automatic file-name navigation. Switch that mode off and rerun:
    the rerun goes through app.py and lands on the same page.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - other Streamlit versions
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def _page_identity(title: str) -> str:
    """What tells this page from the others: its script's hash under st.navigation, and its title."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        run_ctx = get_script_run_ctx()
        script_hash = run_ctx.page_script_hash if run_ctx is not None else ""
    except Exception:  # pragma: no cover - other Streamlit versions
        script_hash = ""
    return f"{script_hash}|{title}"


def _forget_other_pages_settings(page: str) -> None:
    """Drop the lesson settings of the page the session showed before, if it was another one.

    The qp_* widgets keep their value in st.session_state under the query name, and session
    state outlives a page switch: without this, a sidebar click from a page with ``k = 0`` opened
    the next page with its own ``k`` at 0 (and wrote ``?k=0`` into its address).
    """
    ss = st.session_state
    previous = ss.get(_PAGE)
    ss[_PAGE] = page
    try:
        params = st.query_params.to_dict()
    except Exception:  # pragma: no cover - no script context
        params = {}
    if previous is not None and previous != page:
        _drop_page_settings()
        # The browser's sidebar opens the page without a query string; a page switch that kept
        # the previous page's (st.switch_page, AppTest) must not hand its values on either.
        left_over = [name for name, value in params.items()
                     if name not in _GLOBAL_PARAMS and ss.get(_PAGE_URL, {}).get(name) == value]
        for name in left_over:
            del st.query_params[name]
            del params[name]
    ss[_PAGE_URL] = params


def _drop_page_settings() -> None:
    """Forget the current page's lesson settings held in session state (see :func:`page_state`)."""
    ss = st.session_state
    for key in ss.get(_PAGE_KEYS, ()):
        if key in ss:
            del ss[key]
    ss[_PAGE_KEYS] = set()


def open_lesson_view(params: dict[str, str]) -> None:
    """Draw the current page as its address with ``params`` (and the display options) would.

    Forgets the page's lesson settings in session state and replaces every query parameter that
    is not a display option with ``params``, so the qp_* widgets drawn after this read their values
    from the URL again (a guided walk's step sets the page up this way).
    """
    _drop_page_settings()
    for name in list(st.query_params.to_dict()):
        if name not in _GLOBAL_PARAMS and name not in params:
            _qp_set(name, None)
    for name, value in params.items():
        _qp_set(name, value)


def page_state(*keys: str) -> None:
    """Register session-state keys as lesson settings of the current page.

    They are dropped when the session moves to another page (so the page opens as from its
    address next time), like the keys of the ``qp_*`` widgets, which register themselves. Use it
    for a page's own widgets bound to the URL, or state that the URL describes.
    """
    registered = st.session_state.get(_PAGE_KEYS)
    if registered is None:
        registered = st.session_state[_PAGE_KEYS] = set()
    registered.update(keys)


def setup_page(title: str, *, show_title: bool = True) -> PageContext:
    """First call in every page script.

    Drops the previous page's lesson settings when the session arrives from another page,
    reads ``?instructor=``, ``?theme=``, ``?palette=`` and ``?hide=`` from the URL, draws the
    sidebar display options, injects the CSS for instructor mode / dark theme and
    (unless ``show_title=False``) renders ``title`` as the page heading, so
    pages should not call ``st.title`` themselves.
    """
    _leave_pages_folder_mode()
    _forget_other_pages_settings(_page_identity(title))
    _sync_modes_from_url()
    _sidebar_options()
    css = _BASE_CSS
    if is_instructor():
        css += _INSTRUCTOR_CSS
    if is_dark():
        css += _DARK_CSS
    st.html(css)
    if show_title:
        st.title(title)
    _palette_warning()
    _moved_notice()
    return PageContext(
        title=title,
        instructor=is_instructor(),
        dark=is_dark(),
        hidden=_hidden(),
        palette=palette(),
    )


FIRST_VISIT_NOTE = "the first visit after a server start also loads pandas and plotly"


def first_visit_spinner(what: str = "Building the page") -> Callable[[], None]:
    """Open a spinner "<what> (the first visit after a server start also loads pandas and
    plotly)…" and return the function that closes it; call that at the end of the page.

    Call it right after :func:`setup_page`, before the page's heavy imports. Streamlit shows a
    spinner only after 0.5 s, so quick reruns never flash it, and it takes no place in the page.
    """
    spinner = st.spinner(f"{what} ({FIRST_VISIT_NOTE})…")
    spinner.__enter__()
    return lambda: spinner.__exit__(None, None, None)


def is_instructor() -> bool:
    """True in instructor mode (``?instructor=1`` or the sidebar toggle)."""
    if _INSTRUCTOR in st.session_state:
        return bool(st.session_state[_INSTRUCTOR])
    return bool(_parse_bool(_qp_get("instructor")))


def is_dark() -> bool:
    """True when the dark theme is on (sidebar toggle or Streamlit's own dark theme)."""
    if st.session_state.get(_DARK):
        return True
    try:
        return st.context.theme.type == "dark"
    except Exception:  # pragma: no cover - no script context / old frontend
        return False


def palette() -> Palette:
    """The session's figure palette (``?palette=cb`` or the sidebar toggle; else the default).

    Pass it to the figure builders (``palette=``): it is per session, never a module global
    (Streamlit runs every session's script in a thread of its own)."""
    name = st.session_state.get(_PALETTE)
    if name is None:
        text = _qp_get(PALETTE_PARAM)
        name = text.strip().lower() if text else None
    return PALETTES.get(name or "", DEFAULT_PALETTE)


def _hidden() -> frozenset[str]:
    if _HIDE in st.session_state:
        return frozenset(st.session_state[_HIDE])
    return _parse_hide(_qp_get("hide"))


def control_hidden(key: str) -> bool:
    """True when the link asked to hide this control (``?hide=key1,key2``)."""
    return key in _hidden()


def explain(markdown: str) -> None:
    """Explanatory text; not drawn when the link says ``?hide=explanations``."""
    if control_hidden("explanations"):
        return
    st.markdown(markdown)


def caption(text: str = "", explanation: str = "") -> None:
    """A caption (small print under a figure or table) in two parts.

    ``text`` says what is shown (legend, numbers, what to hover) and is always drawn;
    ``explanation`` says what it means or what to try, and is left out like :func:`explain`
    when the link says ``?hide=explanations`` (the instructor says it instead). Nothing is
    drawn when what is left is empty. Use it instead of ``st.caption`` for any caption with
    teaching text in it, so that instructor links hide all of it consistently.
    """
    parts = [text.strip()]
    if not control_hidden("explanations"):
        parts.append(explanation.strip())
    shown = " ".join(part for part in parts if part)
    if shown:
        st.caption(shown)


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #
def _scalar(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


@functools.lru_cache(maxsize=None)
def _template_json(name: str) -> str:
    """The registered plotly template ``name`` as JSON text (made once per template)."""
    import plotly.io as pio

    return json.dumps(pio.templates[name].to_plotly_json())


def set_template(fig: go.Figure, name: str) -> None:
    """``fig.layout.template = name``, the same figure for a fraction of the cost.

    Plotly deep-copies and re-validates the whole registered template (the defaults of every
    trace type) each time a template is assigned by name: 10-20 ms per figure on the course
    machine, more than building a typical figure. The registered templates are valid already,
    so the figure gets a fresh copy of the template (``json.loads`` of the text made once)
    assigned with plotly's validation switched off for this one property. The figure's JSON is
    identical to the one ``update_layout(template=name)`` gives.
    """
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = json.loads(_template_json(name))
    finally:
        layout._validate = True


def style_figure(fig: go.Figure) -> go.Figure:
    """Apply the theme template and, in instructor mode, projector sizes.

    Modifies ``fig`` in place and returns it; calling it twice is harmless.
    """
    instructor = is_instructor()
    dark = is_dark()
    font = INSTRUCTOR_FONT if instructor else NORMAL_FONT
    set_template(fig, "plotly_dark" if dark else "plotly_white")
    fig.update_layout(font=dict(size=font), hoverlabel=dict(font_size=font))
    if dark:
        fig.update_layout(paper_bgcolor="#0f1117", plot_bgcolor="#161a23")
    if not instructor:
        return fig
    # projector margins, but never smaller than the builder's own (room it made for titles or legends)
    projector = dict(l=70, r=30, t=80 if fig.layout.title.text else 40, b=70)
    margin = {side: max(value, _scalar(getattr(fig.layout.margin, side)) or 0) for side, value in projector.items()}
    fig.update_layout(title_font_size=font + 4, legend_font_size=font, margin=margin)
    if fig.layout.height is None:
        fig.update_layout(height=560)
    fig.update_xaxes(title_font_size=font, tickfont_size=font - 2)
    fig.update_yaxes(title_font_size=font, tickfont_size=font - 2)
    for annotation in fig.layout.annotations or ():
        size = _scalar(annotation.font.size)
        annotation.font.size = max(size or 0, font)
    for trace in fig.data:
        if trace.type not in ("scatter", "scattergl", "scatter3d", "scatterpolar"):
            continue
        marker_size = _scalar(trace.marker.size) if trace.marker.size is not None else 0.0
        if marker_size is not None:  # arrays of sizes are left alone
            trace.marker.size = max(marker_size, INSTRUCTOR_MARKER)
        if trace.type != "scatter3d" or trace.line is not None:
            width = _scalar(trace.line.width) if trace.line.width is not None else 0.0
            if width is not None:
                trace.line.width = max(width, INSTRUCTOR_LINE)
    return fig


def _image_format() -> str:
    return st.session_state.get(_IMG_FMT, "png")


def show_figure(fig: go.Figure, key: str | None = None, **kwargs: Any) -> Any:
    """``st.plotly_chart`` with :func:`style_figure` and a download button.

    The toolbar's camera button saves PNG or SVG (sidebar "Figure download
    format"); the file is named after ``key``.  Extra keyword arguments go to
    ``st.plotly_chart`` (e.g. ``on_select="rerun"``).
    """
    fmt = _image_format()
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": fmt,
            "filename": f"genlab-{key or 'figure'}",
            "scale": 2 if fmt == "png" else 1,
        },
    }
    config.update(kwargs.pop("config", {}) or {})
    kwargs.setdefault("width", "stretch")
    return st.plotly_chart(style_figure(fig), key=key, theme=None, config=config, **kwargs)


# --------------------------------------------------------------------------- #
# Query-param-bound widgets
# --------------------------------------------------------------------------- #
def _is_float(*values: Any) -> bool:
    return any(isinstance(v, float) for v in values if v is not None)


def _fmt_number(value: float | int) -> str:
    if isinstance(value, float):
        return format(value, ".10g")
    return str(int(value))


def _parse_number(text: str, as_float: bool) -> float | int | None:
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    if as_float:
        return number
    if number != int(number):
        return None
    return int(number)


def _clamp(value, lo, hi):
    if lo is not None and value < lo:
        value = lo
    if hi is not None and value > hi:
        value = hi
    return value


def _snap(value, lo, step, as_float):
    """Move ``value`` onto the grid lo + k*step (sliders need it)."""
    if step is None or lo is None or step <= 0:
        return value
    snapped = lo + round((value - lo) / step) * step
    return round(snapped, 10) if as_float else int(snapped)


def _on_qp_change(key: str, to_text: Callable[[Any], str], default_text: str) -> None:
    text = to_text(st.session_state[key])
    _qp_set(key, None if text == default_text else text)


def _bind(
    key: str,
    default: Any,
    parse: Callable[[str], Any],
    to_text: Callable[[Any], str],
    draw: Callable[..., Any],
    kwargs: dict[str, Any],
) -> Any:
    """Common logic of the qp_* widgets (see module docstring)."""
    page_state(key)
    url_text = _qp_get(key)
    url_value = parse(url_text) if url_text is not None else None
    initial = default if url_value is None else url_value
    if control_hidden(key):
        return initial
    default_text = to_text(default)
    if key not in st.session_state:
        st.session_state[key] = initial
    user_on_change = kwargs.pop("on_change", None)
    user_args = kwargs.pop("args", ()) or ()
    user_kwargs = kwargs.pop("kwargs", {}) or {}

    def on_change() -> None:
        _on_qp_change(key, to_text, default_text)
        if user_on_change is not None:
            user_on_change(*user_args, **user_kwargs)

    value = draw(key=key, on_change=on_change, **kwargs)
    text = to_text(value)
    _qp_set(key, None if text == default_text else text)
    return value


def qp_slider(label: str, key: str, min_value, max_value, value, step=None, **kw):
    """``st.slider`` bound to ``?key=``; ``value`` may be a number or a (lo, hi) pair."""
    as_float = _is_float(min_value, max_value, step, *(value if isinstance(value, (tuple, list)) else (value,)))
    if as_float:
        min_value, max_value = float(min_value), float(max_value)
        step = None if step is None else float(step)
    if step is None:
        step = 0.01 if as_float else 1

    def one(text: str):
        number = _parse_number(text, as_float)
        if number is None:
            return None
        return _snap(_clamp(number, min_value, max_value), min_value, step, as_float)

    if isinstance(value, (tuple, list)):
        default = tuple(float(v) if as_float else v for v in value)

        def parse(text: str):
            parts = text.split(",")
            if len(parts) != 2:
                return None
            lo, hi = one(parts[0]), one(parts[1])
            if lo is None or hi is None:
                return None
            return (min(lo, hi), max(lo, hi))

        def to_text(v):
            return ",".join(_fmt_number(float(x) if as_float else int(x)) for x in v)
    else:
        default = float(value) if as_float else value
        parse = one

        def to_text(v):
            return _fmt_number(float(v) if as_float else int(v))

    def draw(**kwargs):
        return st.slider(label, min_value=min_value, max_value=max_value, step=step, **kwargs)

    return _bind(key, default, parse, to_text, draw, kw)


def qp_number(label: str, key: str, min_value, max_value, value, step=None, **kw):
    """``st.number_input`` bound to ``?key=`` (clamped to [min_value, max_value])."""
    as_float = _is_float(min_value, max_value, value, step)
    if as_float:
        min_value = None if min_value is None else float(min_value)
        max_value = None if max_value is None else float(max_value)
        value = float(value)

    def parse(text: str):
        number = _parse_number(text, as_float)
        return None if number is None else _clamp(number, min_value, max_value)

    def to_text(v):
        return _fmt_number(float(v) if as_float else int(v))

    def draw(**kwargs):
        return st.number_input(label, min_value=min_value, max_value=max_value, step=step, **kwargs)

    return _bind(key, value, parse, to_text, draw, kw)


def _choice(options: Sequence[Any], value: Any) -> tuple[list[Any], Any, Callable, Callable]:
    options = list(options)
    if not options:
        raise ValueError("qp_select/qp_radio need at least one option")
    default = value if value in options else options[0]
    by_text = {str(o): o for o in options}

    def parse(text: str):
        return by_text.get(text)

    return options, default, parse, str


def qp_select(label: str, key: str, options: Sequence[Any], value: Any, **kw):
    """``st.selectbox`` bound to ``?key=`` (the URL holds ``str(option)``)."""
    options, default, parse, to_text = _choice(options, value)

    def draw(**kwargs):
        return st.selectbox(label, options, **kwargs)

    return _bind(key, default, parse, to_text, draw, kw)


def qp_radio(label: str, key: str, options: Sequence[Any], value: Any, **kw):
    """``st.radio`` bound to ``?key=`` (the URL holds ``str(option)``)."""
    options, default, parse, to_text = _choice(options, value)

    def draw(**kwargs):
        return st.radio(label, options, **kwargs)

    return _bind(key, default, parse, to_text, draw, kw)


def qp_toggle(label: str, key: str, value: bool, **kw) -> bool:
    """``st.toggle`` bound to ``?key=1`` / ``?key=0``."""

    def draw(**kwargs):
        return st.toggle(label, **kwargs)

    return _bind(key, bool(value), _parse_bool, lambda v: "1" if v else "0", draw, kw)


def _tab_names(labels: Sequence[str], names: Sequence[str] | None) -> list[str]:
    """URL values of the tabs: ``names`` if given, else the labels' ASCII words joined by "-"
    ("β: posterior collapse" -> "posterior-collapse"); the tab's number where that is empty or taken."""
    if names is not None:
        names = [str(name) for name in names]
        if len(names) != len(labels) or len(set(names)) != len(names) or not all(names):
            raise ValueError("qp_tabs: names must be as many as labels, non-empty and unique")
        return names
    slugs: list[str] = []
    for number, label in enumerate(labels, start=1):
        slug = re.sub(r"[^a-z0-9]+", "-", str(label).lower()).strip("-")
        slugs.append(slug if slug and slug not in slugs else str(number))
    return slugs


def qp_tabs(labels: Sequence[str], key: str, names: Sequence[str] | None = None) -> Sequence[Any]:
    """``st.tabs`` whose open tab is kept in ``?key=`` (so a link reopens the same tab).

    The URL holds the tab's name (``names``, or a slug of its label; see :func:`_tab_names`);
    the first tab is the default and is left out of the URL; an unknown name opens the first tab.
    Switching tabs reruns the page (that is how Streamlit tells the server which tab is open),
    so a page may skip the work of a tab that is not open: ``if tab.open: ...``.
    Returns the tab containers, like ``st.tabs``.
    """
    labels = [str(label) for label in labels]
    if not labels or len(set(labels)) != len(labels):
        raise ValueError("qp_tabs needs at least one label, all different")
    by_name = dict(zip(_tab_names(labels, names), labels))
    name_of = {label: name for name, label in by_name.items()}
    page_state(key)
    initial = by_name.get(_qp_get(key) or "", labels[0])
    if st.session_state.get(key) not in name_of:
        st.session_state[key] = initial

    def write_url() -> None:
        open_label = st.session_state.get(key)
        _qp_set(key, None if open_label == labels[0] else name_of.get(open_label))

    tabs = st.tabs(labels, key=key, on_change=write_url)
    write_url()
    return tabs


# --------------------------------------------------------------------------- #
# Shareable link
# --------------------------------------------------------------------------- #
def share_url() -> str:
    """The URL of this page with the current query parameters."""
    base = None
    try:
        base = st.context.url
    except Exception:  # pragma: no cover
        base = None
    if not base:
        host = None
        try:
            host = st.context.headers.get("Host")
        except Exception:  # pragma: no cover
            host = None
        base = f"http://{host or 'localhost:8501'}/"
    try:
        params = st.query_params.to_dict()
    except Exception:  # pragma: no cover
        params = {}
    query = urllib.parse.urlencode(params, safe=",")
    return f"{base}?{query}" if query else base


def copy_link_button(label: str = "Link to this view") -> str:
    """A button that opens the page's shareable URL in a code block (with a copy icon).

    In a popover: Streamlit's code block brings a 1.5 MB syntax highlighter to the browser, which
    would otherwise be fetched and run on every page's first load, before its first chart.
    Call it after the page's qp_* widgets so the link has their values. Returns the URL.
    """
    url = share_url()
    with st.popover(f":material/link: {label}", help="A link that reopens this page with the same settings"):
        st.caption(f":material/link: {label} — copy it with the icon on the right; "
                   "it reopens this page with the same settings.")
        st.code(url, language=None, wrap_lines=True)
    return url


# --------------------------------------------------------------------------- #
# Session id for background jobs
# --------------------------------------------------------------------------- #
def _session_id() -> str:
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        run_ctx = get_script_run_ctx()
        if run_ctx is not None:
            return str(run_ctx.session_id)
    except Exception:  # pragma: no cover
        pass
    return "local"


def _release_session(session_id: str) -> None:
    from dashboard import live_feed
    from genlab.jobs import release_session

    release_session(session_id)
    live_feed.drop_session(session_id)


@st.cache_resource(scope="session", on_release=_release_session, show_spinner=False)
def _release_on_close(session_id: str) -> str:
    """Session-scoped: when the tab's session ends, Streamlit calls genlab.jobs.release_session
    (its jobs stop) and dashboard.live_feed.drop_session (its live feeds go)."""
    return session_id


def job_session() -> str:
    """This browser session's id for ``genlab.jobs`` ("local" outside a server), registered once
    per session so that closing the tab releases it: its jobs stop unless another session shares them."""
    session_id = _session_id()
    _release_on_close(session_id)
    return session_id
