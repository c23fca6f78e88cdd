"""The timeline of a recorded training (issue 21): scrub, play, link to a moment, download a GIF.

``timeline_view(history, ...)`` draws, for a finished, loaded or shipped-demo run:

* a slider over the recorded steps (``st.select_slider``, key ``timeline``) bound to ``?t=<step>``
  in the address, so a link opens that moment ("the step where it collapsed");
* the moment's picture as one Plotly animation of the whole history (its Play / Pause buttons and
  its own slider play the frames in the browser at the chosen speed, with no server round trip);
* "Download as GIF" (:func:`genlab.replay.history_gif`, made when clicked).

It returns the index of the frame the slider shows, so a page can mark that step on its metric
charts (:func:`dashboard.figures.timeline.mark_step`).
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from threading import Lock
from typing import Callable

import plotly.graph_objects as go
import streamlit as st

from dashboard import common
from dashboard.figures import timeline as timeline_figures
from dashboard.safe_text import md

TIMELINE_KEY = "timeline"
STEP_PARAM = "t"
SPEED_KEY = "timeline_fps"

_ANIMATIONS: OrderedDict = OrderedDict()    # (cache key, palette, fps) -> animated figure (dict)
_ANIMATIONS_LOCK = Lock()
_MAX_ANIMATIONS = 8


def _url_step(steps: list[int], param: str = STEP_PARAM) -> int | None:
    """``?t=`` (or ``?<param>=``) as a step of the history (the last frame at or before it); None if
    absent. A value that is no whole number is dropped with a warning."""
    text = st.query_params.get(param)
    if text is None:
        return None
    try:
        step = int(float(text))
    except (TypeError, ValueError, OverflowError):
        st.warning(f"The link's moment {param}={md(text, 40)} is not a step number; showing the end of the "
                   f"run. Use ?{param}=<step>, e.g. ?{param}=1500.")
        del st.query_params[param]
        return None
    return steps[timeline_figures.nearest_frame(steps, step)]


def _on_slide(key: str, param: str) -> None:
    value = st.session_state.get(key)
    if value is not None:
        st.query_params[param] = str(int(value))


def timeline_slider(history, label: str = "Moment of the training", *, key: str = TIMELINE_KEY,
                    param: str = STEP_PARAM) -> int:
    """The slider (session key ``key``, address ``?<param>=<step>``) over ``history.steps``; returns
    the index of the frame it shows."""
    steps = [int(s) for s in history.steps]
    common.page_state(key)
    wanted = _url_step(steps, param)
    if st.session_state.get(key) not in steps:             # a new history, or the first visit
        st.session_state[key] = wanted if wanted is not None else steps[-1]
    elif wanted is not None:                               # the address wins (a link was opened)
        st.session_state[key] = wanted
    step = st.select_slider(label, options=steps, key=key, on_change=_on_slide, args=(key, param),
                            format_func=lambda s: f"step {s:,}",
                            help=f"Drag to any recorded moment; the address then links to it (?{param}=<step>).")
    return timeline_figures.nearest_frame(steps, step)


def _animation(history, cache_key: str, fps: int, title: str) -> dict:
    """The animated figure of the whole history, built once per (run, speed): at most 64 pictures
    (every other frame of a 120-frame history) keep the figure a few MB."""
    key = (cache_key, int(fps))
    with _ANIMATIONS_LOCK:
        if key in _ANIMATIONS:
            _ANIMATIONS.move_to_end(key)
            return _ANIMATIONS[key]
    every = max(1, -(-len(history) // 64))
    figure = timeline_figures.animated(history, start=len(history) - 1, fps=fps, every=every, title=title).to_plotly_json()
    with _ANIMATIONS_LOCK:
        _ANIMATIONS[key] = figure
        while len(_ANIMATIONS) > _MAX_ANIMATIONS:
            _ANIMATIONS.popitem(last=False)
    return figure


def _at_moment(animation: dict, index_in_frames: int) -> go.Figure:
    """A copy of the animation that opens at frame ``index_in_frames``."""
    animation = copy.deepcopy(animation)      # go.Figure consumes the dicts it is given; the cache must stay whole
    frame = animation["frames"][index_in_frames]
    fig = go.Figure(data=frame["data"], layout=animation["layout"], frames=animation["frames"])
    fig.layout.sliders[0].active = index_in_frames
    return fig


def timeline_view(history, *, cache_key: str, gif: Callable[[], bytes] | None = None,
                  gif_name: str = "training.gif", title: str = "", key: str = "timeline-view") -> int:
    """Slider, animated picture, speed and GIF download of ``history``; returns the shown frame's
    index. ``cache_key`` names the history (e.g. the run folder and its history file's mtime)."""
    index = timeline_slider(history)
    columns = st.columns([2, 1])
    with columns[0]:
        st.session_state.setdefault(SPEED_KEY, 10)
        fps = st.select_slider("Playback speed (frames per second)", options=list(timeline_figures.SPEEDS),
                               key=SPEED_KEY,
                               help="How fast ▶ Play runs through the recorded frames in your browser.")
    with columns[1]:
        if gif is not None:
            st.download_button("Download as GIF", data=gif, file_name=gif_name, mime="image/gif",
                               key=f"{key}-gif", help="An animated GIF of this timeline, the step written on each frame.")
    animation = _animation(history, cache_key, fps, title)
    names = [frame["name"] for frame in animation["frames"]]
    shown = timeline_figures.nearest_frame([int(n) for n in names], int(history.steps[index]))
    with st.container(key=key):
        common.show_figure(_at_moment(animation, shown), key=f"{key}-figure")
    return index
