"""Unit tests for dashboard/figures/canvas.py: the Plotly figures of the 2D GAN page cut down to
what the live canvas (dashboard/live_canvas.js) draws, with the data intact."""
from __future__ import annotations

import base64
import math
import json
import re
import shutil
import subprocess
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


# --------------------------------------------------------------------------- #
# What the renderer draws (live_canvas.js in node, on a recording stand-in for a canvas)
# --------------------------------------------------------------------------- #
NODE = shutil.which("node")
HARNESS = Path(__file__).with_name("live_canvas_harness.mjs")


def _draw(tmp_path, figures: list[tuple[go.Figure, dict]], width: int = 456) -> list[list[dict]]:
    """The calls (texts with their font, marker arcs) live_canvas.js makes to draw each figure."""
    if NODE is None:
        pytest.skip("node is not installed: the renderer's drawing is not checked")
    data = {"figures": [{"spec": C.canvas_spec(fig), "options": {"font": 15, **options}, "width": width}
                        for fig, options in figures]}
    path = tmp_path / "figures.json"
    path.write_text(json.dumps(data))
    done = subprocess.run([NODE, str(HARNESS), str(JS), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _plotly_ticks(start: float, end: float, dtick: float) -> list[str]:
    """Plotly's labels of a linear axis with tick0 = 0 and this dtick over [start, end]."""
    first = math.ceil(start / dtick - 1e-9)
    values = [round(k * dtick, 10) for k in range(first, int(math.floor(end / dtick + 1e-9)) + 1)]
    return [f"{v:g}".replace("-", "−") for v in values]


def test_canvas_draws_the_plane_with_plotlys_ticks_sizes_and_colour_bar(tmp_path):
    plane = _live_figures()["plane"]                     # bounds (-3, 3, -3, 3)
    normal, instructor = _draw(tmp_path, [(plane, {}), (plane, {"instructor": True, "font": 22,
                                                                "markerMin": 12, "lineMin": 4})])
    ticks = [c["text"] for c in normal if c["op"] == "text" and c["font"].strip().startswith("15px")]
    expected = _plotly_ticks(-3, 3, plane.layout.xaxis.dtick)
    assert ticks[:len(expected)] == expected and ticks[len(expected):2 * len(expected)] == expected   # x, then y
    assert {"0 fake", "0.5", "1 real"} <= set(ticks)                   # the colour bar's labels at the tick size
    titles = {c["text"]: c["font"].split("px")[0].strip() for c in normal if c["op"] == "text"}
    assert titles["x₁"] == titles["D(x)"] == "18"                       # Plotly: axis / colour-bar titles 1.2 x font
    # instructor mode (font 22): style_figure's axis titles 22 and ticks 20; the colour bar keeps Plotly's 26 / 22
    big = {c["text"]: c["font"].split("px")[0].strip() for c in instructor if c["op"] == "text"}
    assert (big["x₁"], big["−2"], big["D(x)"], big["1 real"]) == ("22", "20", "26", "22")
    # markers at Plotly's sizes: 6 px (radius 3); instructor mode: style_figure's 12 px at least
    real = [c for c in normal if c["op"] == "arc" and c["color"] == F.REAL_COLOR]
    assert real and {c["r"] for c in real} == {3}
    assert {c["r"] for c in instructor if c["op"] == "arc" and c["color"] == F.REAL_COLOR} == {6}
    # the fakes see-through, drawn before (under) the real points
    fakes = [i for i, c in enumerate(normal) if c["op"] == "arc" and c["color"] == F.FAKE_COLOR]
    assert {normal[i]["alpha"] for i in fakes} == {F.FAKE_OPACITY} and max(fakes) < normal.index(real[0])


def test_canvas_draws_change_labels_in_their_rows(tmp_path):
    steps = np.arange(0, 20_000, 10)
    curve = np.linspace(1, 0, len(steps))
    fig = F.loss_figure(steps, curve, curve, changes=[(1000, "k=3"), (1300, "loss=minimax")])
    (calls,) = _draw(tmp_path, [(fig, {})])
    at = {c["text"]: c for c in calls if c["op"] == "text"}
    shift = [a.yshift for a in fig.layout.annotations]
    assert shift[0] != shift[1]
    assert at["loss=minimax"]["y"] - at["k=3"]["y"] == pytest.approx(shift[0] - shift[1])
    assert at["k=3"]["font"].strip().startswith("11px")
    # Plotly's automatic ticks (plotly.js autoTicks: at most one per 80 px on x, per 40 px on y, 5 to 10,
    # spaced 2, 5 or 10 x 10^n): a 376 x 140 px plot of steps 0-19 990 and values 0-1
    texts = [c["text"] for c in calls if c["op"] == "text" and c["font"].strip().startswith("15px")]
    assert texts[:7] == ["0", "5k", "10k", "15k", "0", "0.5", "1"]
