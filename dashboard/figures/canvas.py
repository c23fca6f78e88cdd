"""Plotly figure -> the JSON the live canvas draws (``dashboard/live_canvas.js``). Pure: no ``st.*``.

While a model trains, the 2D GAN page draws its plane and charts with a small canvas renderer
instead of Plotly (a Plotly redraw of the five figures cost headless Chromium 0.5-1 s per refresh;
the canvas, a few milliseconds). The figures themselves are still the Plotly builders' figures
(``dashboard/figures/gan.py``): :func:`canvas_spec` keeps the part of their JSON the renderer
draws, so the live picture and the paused, interactive one come from the same code.
"""
from __future__ import annotations

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go

__all__ = ["SUPPORTED_TRACES", "TRACE_KEYS", "LAYOUT_KEYS", "canvas_spec"]

# what live_canvas.js draws; anything else in a figure is dropped (hover texts, templates, ...)
SUPPORTED_TRACES = ("scatter", "scattergl", "heatmap")
TRACE_KEYS = ("type", "x", "y", "z", "mode", "name", "line", "marker", "yaxis", "showlegend", "visible",
              "zmin", "zmax", "colorscale", "colorbar", "showscale")
LAYOUT_KEYS = ("title", "height", "margin", "showlegend", "xaxis", "yaxis", "yaxis2", "shapes", "annotations")


def _plain(value: Any) -> Any:
    """JSON-ready copy: numeric numpy arrays become plotly.py's typed arrays ({dtype, bdata[, shape]},
    which the renderer decodes as plotly.js does), numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        if kind in "fiu":
            if kind == "f" and value.dtype.itemsize not in (4, 8):
                value = value.astype(np.float32)
            if kind in "iu" and value.dtype.itemsize == 8:      # plotly.js has no 64-bit integer arrays
                value, kind = value.astype(np.float64), "f"
            array = np.ascontiguousarray(value)
            spec = {"dtype": f"{kind}{array.dtype.itemsize}", "bdata": base64.b64encode(array.tobytes()).decode()}
            if array.ndim > 1:
                spec["shape"] = ", ".join(str(n) for n in array.shape)
            return spec
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _raw_parts(fig: go.Figure) -> tuple[list[dict], dict]:
    """The figure's traces and layout as plain dicts. plotly keeps them in ``_data`` / ``_layout``
    (plotly 7; a figure built with ``_validate=False`` holds exactly the builder's dicts): reading
    them skips ``to_plotly_json``'s deep copy, most of the cost of a live refresh. Falls back to the
    public ``to_plotly_json`` when those are missing."""
    data, layout = getattr(fig, "_data", None), getattr(fig, "_layout", None)
    if not isinstance(data, list) or not isinstance(layout, dict):
        full = fig.to_plotly_json()
        data, layout = full.get("data", []), full.get("layout", {})
    return data, layout


def canvas_spec(fig: go.Figure) -> dict[str, Any]:
    """``{"data": [...], "layout": {...}}``: the figure's traces and layout cut down to
    :data:`TRACE_KEYS` and :data:`LAYOUT_KEYS`, arrays as plotly.py's base64 typed arrays.

    Raises ``ValueError`` for a trace type the renderer cannot draw.
    """
    traces, layout = _raw_parts(fig)
    data = []
    for trace in traces:
        kind = trace.get("type") or "scatter"
        if kind not in SUPPORTED_TRACES:
            raise ValueError(f"the live canvas cannot draw a {kind!r} trace (it draws {', '.join(SUPPORTED_TRACES)})")
        data.append(_plain({k: trace[k] for k in TRACE_KEYS if k in trace}))
    return {"data": data, "layout": _plain({k: v for k, v in layout.items() if k in LAYOUT_KEYS})}
