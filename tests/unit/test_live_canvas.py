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


# --------------------------------------------------------------------------- #
# The Plotly renderer (GENLAB_LIVE_RENDERER=plotly): plotly.js itself, dashboard/live_plotly.js
# --------------------------------------------------------------------------- #
from dashboard import common, live_canvas, live_feed  # noqa: E402
from tests.conftest import run_coroutine  # noqa: E402

PLOTLY_JS, VIEW_JS = JS.with_name("live_plotly.js"), JS.with_name("live_view.js")


@pytest.mark.parametrize("value, served, expected", [("", True, "canvas"), ("plotly", True, "plotly"),
                                                     (" Plotly ", True, "plotly"), ("canvas", True, "canvas"),
                                                     ("webgl", True, "canvas"), ("plotly", False, "canvas")])
def test_the_renderer_comes_from_the_environment(monkeypatch, value, served, expected):
    monkeypatch.setenv("GENLAB_LIVE_RENDERER", value)
    monkeypatch.setattr(live_feed, "_MOUNTED", {"base": "" if served else None})   # plotly.js needs the route
    assert live_canvas.choose_renderer() == expected


@pytest.mark.parametrize("renderer", live_canvas.RENDERERS)
def test_each_renderer_and_the_component_make_one_valid_module(tmp_path, renderer):
    if NODE is None:
        pytest.skip("node is not installed")
    path = tmp_path / "component.mjs"
    path.write_text("\n".join(JS.with_name(n).read_text() for n in (f"live_{renderer}.js", "live_view.js")))
    done = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _get(app, path: str) -> tuple[int, dict, bytes]:
    """One GET through the ASGI app: (status, headers, body). The client stays connected (a file
    response listens for a disconnect while it sends)."""
    import asyncio

    messages, asked = [], []

    async def receive():
        if asked:
            await asyncio.Event().wait()
        asked.append(1)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1")], "server": ("127.0.0.1", 8501), "client": ("127.0.0.1", 5000)}
    run_coroutine(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_the_feed_route_serves_plotly_js_from_the_plotly_package(monkeypatch):
    from starlette.applications import Starlette

    monkeypatch.setattr(live_feed, "_MOUNTED", {"base": None})
    app = Starlette(routes=live_feed.routes("class/"))
    assert live_feed.plotly_url() == "/class/genlab/plotly.min.js"
    status, headers, body = _get(app, live_feed.plotly_url())
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert b"plotly.js v" in body[:200] and b"window.Plotly" in body[-2000:]


def test_plotly_spec_keeps_every_trace_and_value_without_hover_texts_or_template():
    for fig in _live_figures().values():
        spec = live_canvas.plotly_spec(fig)
        assert "hovertemplate" not in json.dumps(spec) and "template" not in spec["layout"]
        assert len(spec["data"]) == len(fig.data)
        for trace, original in zip(spec["data"], fig.data):
            assert trace["type"] == original.type and trace.get("zsmooth") == getattr(original, "zsmooth", None)
            for axis in ("x", "y", "z"):
                if getattr(original, axis, None) is not None:
                    np.testing.assert_allclose(_decode(trace[axis]).astype(float),
                                               np.asarray(getattr(original, axis), dtype=float), equal_nan=True)


def _styled(tmp_path, specs: list[dict], options: dict, width: int = 500) -> list[dict]:
    """live_plotly.js's styledFigure of each spec (in node)."""
    if NODE is None:
        pytest.skip("node is not installed: the Plotly renderer's styling is not checked")
    module, data = tmp_path / "plotly_renderer.mjs", tmp_path / "specs.json"
    module.write_text(PLOTLY_JS.read_text() + "\n" + VIEW_JS.read_text() + "\nexport { styledFigure };\n")
    data.write_text(json.dumps({"specs": specs, "options": options, "width": width}))
    script = (f"const {{ styledFigure }} = await import({json.dumps(str(module))});"
              f"const input = JSON.parse(require('fs').readFileSync({json.dumps(str(data))}, 'utf8'));"
              "process.stdout.write(JSON.stringify(input.specs.map((s) => styledFigure(s, input.options, input.width))));")
    done = subprocess.run([NODE, "--input-type=commonjs", "-e", f"(async () => {{ {script} }})()"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("dark, instructor", [(False, False), (True, False), (False, True), (True, True)])
def test_plotly_renderer_styles_each_figure_as_the_paused_page_does(tmp_path, monkeypatch, dark, instructor):
    """live_plotly.js applies dashboard.common.style_figure's theme and projector sizes in the browser:
    the live figure has the paused figure's fonts, margins, backgrounds, marker sizes and line widths."""
    monkeypatch.setattr(common, "is_dark", lambda: dark)
    monkeypatch.setattr(common, "is_instructor", lambda: instructor)
    template = {"layout": {"colorway": ["#123456"]}}            # handed through as the component's data has it
    options = {"font": common.INSTRUCTOR_FONT if instructor else common.NORMAL_FONT, "dark": dark,
               "instructor": instructor, "markerMin": common.INSTRUCTOR_MARKER, "lineMin": common.INSTRUCTOR_LINE,
               "template": template}
    live = _styled(tmp_path, [live_canvas.plotly_spec(f) for f in _live_figures().values()], options)
    for name, styled in zip(_live_figures(), live):
        paused = common.style_figure(_live_figures()[name]).to_plotly_json()
        lay, want = styled["layout"], paused["layout"]
        assert lay["template"] == template and lay["width"] == 500
        assert lay["font"]["size"] == want["font"]["size"]
        for key in ("paper_bgcolor", "plot_bgcolor", "height", "margin"):
            assert lay.get(key) == want.get(key), (name, key)
        if instructor:
            assert lay["title"]["font"]["size"] == want["title"]["font"]["size"]
            for axis in ("xaxis", "yaxis", "yaxis2"):
                if axis in want:
                    assert lay[axis]["title"]["font"]["size"] == want[axis]["title"]["font"]["size"]
                    assert lay[axis]["tickfont"]["size"] == want[axis]["tickfont"]["size"]
            assert [a["font"]["size"] for a in lay.get("annotations", [])] == \
                [a["font"]["size"] for a in want.get("annotations", [])]
        for trace, original in zip(styled["data"], paused["data"]):
            # lines and markers drawn with WebGL; sizes as the paused figure's
            assert trace["type"] == ("scattergl" if original["type"] in ("scatter", "scattergl") else original["type"])
            for part, size in (("marker", "size"), ("line", "width")):
                if instructor and original["type"] != "heatmap":
                    assert trace[part][size] == original[part][size], (name, part)
