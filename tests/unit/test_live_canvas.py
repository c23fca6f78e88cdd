"""Unit tests for dashboard/figures/canvas.py: the Plotly figures of the 2D GAN page cut down to
what the live canvas (dashboard/live_canvas.js) draws, with the data intact."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard.figures import canvas as C
from dashboard.figures import gan as F

JS = Path(C.__file__).resolve().parents[1] / "live_canvas.js"


def _decode(spec) -> np.ndarray:
    """What live_canvas.js's decode() does: plotly.py typed arrays or plain lists."""
    if isinstance(spec, dict) and "bdata" in spec:
        values = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]))
        if spec.get("shape"):
            values = values.reshape([int(s) for s in str(spec["shape"]).split(",")])
        return values
    return np.asarray(spec, dtype=float)


def _live_figures():
    """Every figure the 2D GAN page draws live, with all layers and live-change marks."""
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(300, 2)), 0.5 * rng.normal(size=(200, 2))
    xs = np.linspace(-3, 3, 40)
    heat = (xs, xs, rng.uniform(size=(40, 40)))
    manifold = rng.normal(size=(15, 15, 2))
    arrows = (fake[:50], rng.normal(size=(50, 2)))
    steps = np.arange(0, 3000, 10)
    curve = rng.uniform(size=len(steps))
    changes = [(500, "lr_d=0.002"), (1200, "k=3")]
    return {
        "plane": F.plane_figure(real, fake, heatmap=heat, manifold=manifold, gradients=arrows,
                                bounds=(-3, 3, -3, 3), show_legend=False),
        "loss": F.loss_figure(steps, curve, 1 - curve, loss_name="non-saturating", changes=changes),
        "d_output": F.d_output_figure(steps, curve, 1 - curve, changes=changes),
        "divergence": F.divergence_figure(steps[::10], curve[::10], curve[::10] / 2, bins=40),
        "modes": F.modes_figure(steps[::10], np.full(30, 8.0), curve[::10], n_modes=8),
        "saturation": F.saturation_figure(0.3, loss="minimax"),
    }


@pytest.mark.parametrize("name", list(_live_figures()))
def test_live_figures_convert_to_the_drawn_subset(name):
    fig = _live_figures()[name]
    spec = C.canvas_spec(fig)
    text = json.dumps(spec)                         # what the component sends: plain JSON
    assert "template" not in spec["layout"] and "hovertemplate" not in text
    assert set(spec["layout"]) <= set(C.LAYOUT_KEYS)
    for trace in spec["data"]:
        assert trace["type"] in C.SUPPORTED_TRACES and set(trace) <= set(C.TRACE_KEYS)
    # every trace keeps its data: same number of traces, same values (float32 as plotted)
    assert len(spec["data"]) == len(fig.data)
    for trace, original in zip(spec["data"], fig.data):
        for axis in ("x", "y", "z"):
            if getattr(original, axis, None) is not None:
                np.testing.assert_allclose(_decode(trace[axis]).astype(float),
                                           np.asarray(getattr(original, axis), dtype=float), equal_nan=True)


def test_plane_spec_keeps_layers_heatmap_grid_and_equal_axes():
    spec = C.canvas_spec(_live_figures()["plane"])
    types = [t["type"] for t in spec["data"]]
    assert types[0] == "heatmap" and types.count("scattergl") == 2      # D(x) under real + fake points
    heat = spec["data"][0]
    assert _decode(heat["z"]).shape == (40, 40)
    assert heat["colorbar"]["ticktext"] == ["0 fake", "0.5", "1 real"]
    assert spec["layout"]["yaxis"]["scaleanchor"] == "x"                  # equal units: the ring stays round
    arrows = [t for t in spec["data"] if (t.get("marker") or {}).get("symbol") == "triangle-up"]
    assert len(arrows) == 1 and len(_decode(arrows[0]["marker"]["angle"])) == len(_decode(arrows[0]["x"]))
    assert len(json.dumps(spec)) < 60_000                                 # a light message, 3+ times a second


def test_unsupported_trace_type_is_refused_with_the_allowed_list():
    fig = go.Figure(go.Bar(x=[1, 2], y=[3, 4]))
    with pytest.raises(ValueError, match="cannot draw a 'bar' trace.*scatter, scattergl, heatmap"):
        C.canvas_spec(fig)


def test_renderer_reads_every_key_the_converter_keeps():
    """The JS reads each kept trace / layout key (a key kept but never drawn would be a silent gap)."""
    js = JS.read_text()
    for key in C.TRACE_KEYS + C.LAYOUT_KEYS:
        assert re.search(rf"\.{key}\b|\"{key}\"", js), f"live_canvas.js never reads {key!r}"
