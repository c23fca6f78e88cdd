"""Live figures while a model trains: one component (``dashboard/live_view.js``) that draws Plotly figures.

``show_live_figures`` mounts one Streamlit component (``st.components.v2``) that draws several
Plotly figures in a grid. The component keeps its figures between reruns, so a live refresh only
redraws them. Two renderers, chosen once per server by the environment variable
``GENLAB_LIVE_RENDERER`` (:data:`RENDERER`): ``canvas`` (the default; ``dashboard/live_canvas.js``,
our own renderer of the Plotly subset that :func:`dashboard.figures.canvas.canvas_spec` keeps) or
``plotly`` (``dashboard/live_plotly.js``: plotly.js itself, WebGL traces, served by the live feed's
route, so only with ``dashboard/serve.py``). bench/RESULTS.md ("Live view: hand-written canvas vs
Plotly.js") has both measured on the load test. Pages show the interactive Plotly figures (hover,
zoom, download) whenever training is not running.
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Callable, Sequence

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from dashboard import common, live_feed
from dashboard.figures import canvas

log = logging.getLogger("genlab.dashboard.live_canvas")

RENDERERS = ("canvas", "plotly")


def choose_renderer() -> str:
    """``GENLAB_LIVE_RENDERER`` (canvas or plotly; canvas when unset, unknown, or without the live
    feed's route, which serves plotly.js)."""
    name = os.environ.get("GENLAB_LIVE_RENDERER", "").strip().lower() or "canvas"
    if name not in RENDERERS:
        log.warning("GENLAB_LIVE_RENDERER=%r is not one of %s: the live view draws with 'canvas'",
                    name, ", ".join(RENDERERS))
        return "canvas"
    if name == "plotly" and not live_feed.available():
        log.warning("GENLAB_LIVE_RENDERER=plotly needs dashboard/serve.py (it serves plotly.js): drawing with 'canvas'")
        return "canvas"
    return name


RENDERER = choose_renderer()
_HERE = Path(__file__).parent
_JS = "\n".join((_HERE / name).read_text(encoding="utf-8") for name in (f"live_{RENDERER}.js", "live_view.js"))
_CSS = """
.genlab-live { display: grid; gap: 0.75rem 1rem; width: 100%; }
.genlab-live-cell { min-width: 0; }
.genlab-live-figure { display: block; width: 100%; }
.genlab-live-status { margin: 0 0 1rem 0; line-height: 1.6; }
.genlab-live-status-main { overflow: hidden; box-sizing: border-box; }
.genlab-live-status-text { font-size: 0.875rem; }   /* as the text of Streamlit's st.progress */
.genlab-live-status[data-kind="warning"] .genlab-live-status-main { padding: 0.5rem 1rem; border-radius: 0.5rem;
  background: rgba(255, 189, 69, 0.2); color: inherit; }
.genlab-live-bar { height: 0.5rem; margin-top: 0.35rem; border-radius: 0.25rem; background: rgba(151, 166, 195, 0.3);
  overflow: hidden; }
.genlab-live-bar > div { height: 100%; background: var(--genlab-primary, #2f5fd0); }
.genlab-live-error { margin-top: 0.5rem; padding: 0.75rem 1rem; border-radius: 0.5rem;
  background: rgba(255, 43, 43, 0.09); color: #c0392b; }
.genlab-live-error[hidden], .genlab-live-bar[hidden] { display: none; }
"""
# registered once, at import (Streamlit re-registers it on a new runtime, e.g. each AppTest)
_component = st.components.v2.component("genlab_live_canvas", js=_JS, css=_CSS, isolate_styles=False)


def plotly_spec(fig: go.Figure) -> dict:
    """``{"data", "layout"}`` of ``fig`` for plotly.js, arrays as plotly.py's base64 typed arrays
    and without hover texts or template (the browser adds the theme's)."""
    traces, layout = canvas._raw_parts(fig)
    data = [canvas._plain({k: v for k, v in trace.items() if k != "hovertemplate"}) for trace in traces]
    return {"data": data, "layout": canvas._plain({k: v for k, v in layout.items() if k != "template"})}


def live_payload(figures: Sequence[tuple[str, go.Figure]]) -> list[dict]:
    """The component's figure entries ``{key, spec, rev}`` of ``(key, figure)`` pairs. Pure: a live
    feed's ``build`` calls it in a server thread."""
    convert = plotly_spec if RENDERER == "plotly" else canvas.canvas_spec
    return [live_feed.figure_entry(name, convert(fig)) for name, fig in figures]


@functools.lru_cache(maxsize=2)
def _template(name: str) -> dict:
    return pio.templates[name].to_plotly_json()


def show_live_figures(figures: Sequence[tuple[str, go.Figure]] | None = None, *, key: str, columns: int = 1,
                      feed: str | None = None, poll_s: float = 0.5, status_height: int | None = None,
                      on_ended: Callable[[], None] | None = None) -> None:
    """Draw figures live, ``columns`` per row, in the page's theme and font size
    (instructor mode: projector sizes).

    Either ``figures`` ((key, figure) pairs, sent with this script run) or ``feed``: the token of a
    :mod:`dashboard.live_feed` the browser then polls itself every ``poll_s`` seconds (the feed's
    answers may change the period) for its figures and status line. ``on_ended`` runs (and the
    fragment or page around the component reruns) when the feed says the job stopped running.
    ``status_height``: the feed's status line (text and progress bar) is this many pixels high,
    whatever its text, so that the figures below it never move."""
    instructor = common.is_instructor()
    payload = {
        "columns": int(columns),
        "font": common.INSTRUCTOR_FONT if instructor else common.NORMAL_FONT,
        "instructor": instructor,
        "dark": common.is_dark(),
        # style_figure's projector sizes, so that the canvas and the Plotly figure agree
        "marker_min": common.INSTRUCTOR_MARKER,
        "line_min": common.INSTRUCTOR_LINE,
        "status_height": status_height,
    }
    if RENDERER == "plotly":
        payload["template"] = _template("plotly_dark" if payload["dark"] else "plotly_white")
        payload["plotly_url"] = live_feed.plotly_url()
    if feed is not None:
        payload["feed"] = {"url": live_feed.url(feed), "poll_ms": round(1000 * poll_s),
                           "generation": live_feed.generation(feed)}
    else:
        payload["figures"] = live_payload(figures or [])
    _component(key=key, data=payload, height="content", on_ended_change=on_ended or (lambda: None))
