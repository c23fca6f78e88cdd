"""'Replay the training': a page section that scrubs and plays a recorded training (issue 21).

A page lists where timelines come from -- its own finished training, the run it shows, shipped demos
-- as :class:`ReplaySource` items; :func:`replay_section` draws a picker (when there are several),
the timeline (:func:`dashboard.timeline.timeline_view`: slider ``timeline`` bound to ``?t=``, Play /
Pause, speed, Download as GIF) and the run's metrics with the shown moment marked. A history that
is missing or damaged gives a message, never a traceback; the run itself is untouched.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import streamlit as st

from dashboard import common
from dashboard.figures import timeline as timeline_figures
from dashboard.safe_text import md

SOURCE_KEY = "replay"          # ?replay=<source id>: a link opens that training (with ?t=, its moment)


@dataclass(frozen=True)
class ReplaySource:
    """One timeline a page offers: ``id`` (short, in the address as ``?replay=``), ``label`` shown in
    the picker, ``load()`` -> History (may raise GenlabError), ``cache_key`` naming it (run folder +
    file time, or the page's model id), ``title`` for the GIF frames, ``note`` a line under the picker."""

    id: str
    label: str
    load: Callable[[], object]
    cache_key: str
    title: str = ""
    note: str = ""
    recorded: bool = True          # False: a run from before timelines were recorded (nothing to load)


def run_source(label: str, run, note: str = "", id: str | None = None) -> ReplaySource:
    """A source for a stored or shipped run (a :class:`genlab.runs.Run`): its ``history.npz``."""
    from genlab.replay import run_title
    from genlab.train.history import load_history

    path = Path(run.path) / "history.npz"
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    try:
        title = run_title(run.config)
    except Exception:  # noqa: BLE001 - a damaged config: the history's own check reports the run
        title = run.name
    return ReplaySource(id or run.name, label, lambda: load_history(run), f"{run.path}:{stamp}", title, note,
                        recorded=path.is_file())


def demo_sources(names: Sequence[tuple[str, str, str]]) -> list[ReplaySource]:
    """Sources for shipped demos: ``(demo name, label, note)``; demos that are not shipped are left out."""
    from genlab.demos import open_demo
    from genlab.errors import GenlabError

    sources = []
    for name, label, note in names:
        try:
            source = run_source(label, open_demo(name), note, id=name)
        except GenlabError:
            continue
        if source.recorded:           # demos made before timelines were recorded have none to offer
            sources.append(source)
    return sources


def _metric_chart(history, index: int, names: Sequence[str], palette):
    """The history's metrics ``names`` (those it has) over its frames, the shown moment marked."""
    import numpy as np
    import plotly.graph_objects as go

    colours = [palette.real, palette.fake, palette.second]
    fig = go.Figure()
    present = [name for name in names if name in history.metric_names]
    for colour, name in zip(colours, present):
        column = history.metrics[:, list(history.metric_names).index(name)]
        keep = np.isfinite(column)
        fig.add_trace(go.Scatter(x=history.steps[keep], y=column[keep], mode="lines+markers", name=name,
                                 line=dict(color=colour, width=2), marker=dict(size=4)))
    fig.update_layout(height=300, margin=dict(l=50, r=10, t=60, b=40), title="Metrics at the recorded frames",
                      xaxis=dict(title="step"), legend=dict(orientation="h", x=1, xanchor="right", y=1.02,
                                                            yanchor="bottom"))
    return timeline_figures.mark_step(fig, int(history.steps[index]))


def replay_section(sources: Sequence[ReplaySource], *, palette, metrics: Sequence[str] = (),
                   heading: str = "Replay a training", key: str = "replay") -> int | None:
    """Draw the replay of the chosen source; returns the shown frame's index (None: nothing shown)."""
    from genlab.errors import GenlabError

    st.subheader(heading)
    # drawn on demand (or when the address asks for a moment): the timeline's pictures are a few MB
    # that every rerun would otherwise send to every open page
    common.page_state("replay_on")
    asked = "t" in st.query_params or SOURCE_KEY in st.query_params
    if not st.toggle("Show the training's timeline", value=asked, key=f"{key}_on") and not asked:
        return None
    if not sources:
        st.info("No recorded training to replay yet: train a model here (its timeline is kept), or "
                "create the shipped demos with `python -m genlab demos`.")
        return None
    by_id = {source.id: source for source in sources}
    if len(sources) > 1:
        chosen = common.qp_radio("Which training", SOURCE_KEY, list(by_id), sources[0].id,
                                 format_func=lambda i: by_id[i].label, horizontal=True)
    else:
        chosen = sources[0].id
    source = by_id[chosen]
    if source.note:
        st.caption(source.note)
    if not source.recorded:
        st.info("This run was trained before genlab recorded training timelines, so there is nothing to "
                "replay; train it again (same settings) to record one.")
        return None
    try:
        history = source.load()
    except GenlabError as err:
        st.warning(f"This training's timeline cannot be shown: {md(str(err), 300)}")
        return None
    if history is None or len(history) < 2:
        st.info("This training has no recorded timeline yet (it needs at least two frames).")
        return None

    def gif() -> bytes:
        from genlab.replay import history_gif

        return history_gif(history, source.title)

    index = common_timeline(history, source, palette, gif, key)
    if metrics:
        common.show_figure(_metric_chart(history, index, metrics, palette), key=f"{key}-metrics")
    return index


def common_timeline(history, source: ReplaySource, palette, gif, key: str) -> int:
    """The timeline view of ``history`` (a seam for tests and pages that draw their own metrics)."""
    from dashboard.timeline import timeline_view

    safe_name = "".join(c if c.isalnum() or c in "-_" else "-" for c in source.label)[:40] or "training"
    return timeline_view(history, cache_key=source.cache_key, gif=gif, gif_name=f"genlab-{safe_name}.gif",
                         title=source.title, key=f"{key}-view")
