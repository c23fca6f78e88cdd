"""Live figures drawn on <canvas> while a model trains (see ``dashboard/live_canvas.js``).

``show_live_figures`` mounts one Streamlit component (``st.components.v2``) that draws several
Plotly figures (converted by :func:`dashboard.figures.canvas.canvas_spec`) in a grid. The
component keeps its canvases between reruns, so a live refresh only redraws them: a few
milliseconds in the browser instead of Plotly's full redraw. Pages show the interactive Plotly
figures (hover, zoom, download) whenever training is not running.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import plotly.graph_objects as go
import streamlit as st

from dashboard import common
from dashboard.figures.canvas import canvas_spec

_JS = (Path(__file__).with_name("live_canvas.js")).read_text(encoding="utf-8")
_CSS = """
.genlab-live { display: grid; gap: 0.75rem 1rem; width: 100%; }
.genlab-live-cell { min-width: 0; }
.genlab-live-figure { display: block; width: 100%; }
"""
# registered once, at import (Streamlit re-registers it on a new runtime, e.g. each AppTest)
_component = st.components.v2.component("genlab_live_canvas", js=_JS, css=_CSS, isolate_styles=False)


def show_live_figures(figures: Sequence[tuple[str, go.Figure]], *, key: str, columns: int = 1) -> None:
    """Draw ``figures`` ((key, figure) pairs) on canvases, ``columns`` per row, in the page's theme
    and font size (instructor mode: projector sizes)."""
    instructor = common.is_instructor()
    payload = {
        "figures": [{"key": name, "spec": canvas_spec(fig)} for name, fig in figures],
        "columns": int(columns),
        "font": common.INSTRUCTOR_FONT if instructor else common.NORMAL_FONT,
        "instructor": instructor,
        "dark": common.is_dark(),
    }
    _component(key=key, data=payload, height="content")
