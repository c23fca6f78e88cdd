"""Unit tests for dashboard/figures/gan.py (pure figure builders, synthetic data)."""
from __future__ import annotations

import json
import math

import numpy as np
import plotly.io as pio
import pytest

from dashboard.figures import gan as F


def _json(fig) -> dict:
    """Round-trip through plotly's JSON (what st.plotly_chart sends) and decode typed arrays."""
    return json.loads(pio.to_json(fig, validate=False))


def _values(array_or_spec) -> np.ndarray:
    """Plotly 6+ sends numpy arrays as {"dtype", "bdata"[, "shape"]}; decode either form."""
    if isinstance(array_or_spec, dict) and "bdata" in array_or_spec:
        import base64

        raw = base64.b64decode(array_or_spec["bdata"])
        values = np.frombuffer(raw, dtype=np.dtype(array_or_spec["dtype"]))
        shape = array_or_spec.get("shape")
        if shape:
            values = values.reshape([int(s) for s in str(shape).split(",")])
        return values
    return np.asarray(array_or_spec, dtype=float)


@pytest.fixture
def plane_data():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 2))
    fake = 0.5 * rng.normal(size=(150, 2))
    xs = np.linspace(-3, 3, 30)
    ys = np.linspace(-3, 3, 25)
    d = rng.uniform(size=(25, 30))
    manifold = rng.normal(size=(8, 9, 2))
    grads = (fake[:40], rng.normal(size=(40, 2)))
    return real, fake, (xs, ys, d), manifold, grads


def _names(fig) -> list[str]:
    return [t.name for t in fig.data if t.showlegend is not False]


def test_plane_all_layers(plane_data):
    real, fake, heat, manifold, grads = plane_data
    fig = F.plane_figure(real, fake, heatmap=heat, manifold=manifold, gradients=grads)
    types = [t.type for t in fig.data]
    assert types[0] == "heatmap"  # drawn first = underneath
    assert types.count("scatter") == 5  # manifold, real, fake, arrow shafts, arrow heads
    data = _json(fig)["data"]
    heat_json = data[0]
    assert heat_json["zmin"] == 0 and heat_json["zmax"] == 1
    z = _values(heat_json["z"])
    assert z.shape == (25, 30)
    real_trace = next(t for t in data if t.get("name") == "real x ~ p_data")
    assert len(_values(real_trace["x"])) == 200
    fake_trace = next(t for t in data if t.get("name") == "fake G(z)")
    assert len(_values(fake_trace["y"])) == 150
    # manifold: R + C lines of C resp. R points, each followed by a NaN gap
    man = next(t for t in data if t.get("name") == F.LAYER_LABELS["manifold"])
    xs = _values(man["x"])
    assert len(xs) == 8 * (9 + 1) + 9 * (8 + 1)
    assert np.isnan(xs).sum() == 8 + 9
    # equal aspect so circles look round
    assert fig.layout.yaxis.scaleanchor == "x"


def test_plane_layers_toggle(plane_data):
    real, fake, heat, manifold, grads = plane_data
    only_real = F.plane_figure(real, fake, heatmap=heat, manifold=manifold, gradients=grads, layers=["real"])
    assert [t.name for t in only_real.data] == ["real x ~ p_data"]
    no_layers = F.plane_figure(real, fake, heatmap=heat, layers=[])
    assert len(no_layers.data) == 0
    with pytest.raises(ValueError, match="unknown layers"):
        F.plane_figure(real, fake, layers=["bogus"])


def test_plane_without_optional_data():
    fig = F.plane_figure(np.zeros((0, 2)), None)
    assert len(fig.data) == 0
    x0, x1, y0, y1 = F.bounds_for(np.zeros((0, 2)))
    assert x0 < x1 and y0 < y1


def test_plane_bounds_square_and_fixed(plane_data):
    real, fake, *_ = plane_data
    x0, x1, y0, y1 = F.bounds_for(real)
    assert math.isclose(x1 - x0, y1 - y0)
    assert x0 < real[:, 0].min() and x1 > real[:, 0].max()
    fig = F.plane_figure(real, fake, bounds=(-1, 1, -2, 2))
    assert tuple(fig.layout.xaxis.range) == (-1, 1)
    assert tuple(fig.layout.yaxis.range) == (-2, 2)


def test_gradient_arrows_scaled_and_pointing(plane_data):
    pts = np.array([[0.0, 0.0], [1.0, 1.0]])
    vec = np.array([[0.0, 10.0], [5.0, 0.0]])  # up, right (half as long)
    fig = F.plane_figure(np.zeros((1, 2)), pts, gradients=(pts, vec), bounds=(-5, 5, -5, 5),
                         layers=["gradients"])
    shafts, heads = fig.data
    x, y = _values(_json(fig)["data"][0]["x"]), _values(_json(fig)["data"][0]["y"])
    # longest arrow = 9% of the span (10) = 0.9
    assert np.isclose(y[1] - y[0], 0.9, atol=1e-5) and np.isclose(x[1], x[0])
    assert np.isclose(x[4] - x[3], 0.45, atol=1e-5)
    angles = _values(_json(fig)["data"][1]["marker"]["angle"])
    assert np.allclose(angles, [0.0, 90.0])  # clockwise from up
    # NaN / empty input is dropped, never raises
    bad = F.plane_figure(np.zeros((1, 2)), pts, gradients=(pts, np.full((2, 2), np.nan)), layers=["gradients"])
    assert len(bad.data) == 0


def test_draw_canvas_has_click_grid():
    fig = F.draw_canvas_figure(np.array([[0.0, 1.0]]), grid_n=11)
    grid, pts = fig.data
    assert len(_values(_json(fig)["data"][0]["x"])) == 121
    assert pts.name == "your points (1)"
    assert fig.layout.dragmode == "select"


def test_history_figures():
    steps = np.arange(3000)
    loss_d = np.linspace(1.4, 1.2, 3000)
    loss_g = np.linspace(0.7, 0.9, 3000)
    fig = F.loss_figure(steps, loss_d, loss_g, loss_name="minimax", changes=[(100, "lr_d=0.001"), (2000, "k_disc=3")])
    assert [t.name for t in fig.data] == ["loss_D", "loss_G"]
    assert "minimax" in fig.layout.title.text
    assert len(fig.layout.shapes) == 2 and fig.layout.shapes[1].x0 == 2000
    # long histories are thinned for the live page
    assert len(_values(_json(fig)["data"][0]["x"])) <= 1500
    d = F.d_output_figure(steps, np.full(3000, 0.7), np.full(3000, 0.3))
    assert [t.name for t in d.data] == ["D(x) real", "D(G(z)) fake"]
    assert any(s.y0 == 0.5 for s in d.layout.shapes)
    div = F.divergence_figure(steps[:10], np.ones(10), np.full(10, 0.5), bins=30)
    assert "30×30" in div.layout.title.text
    assert any(math.isclose(s.y0, math.log(2)) for s in div.layout.shapes)
    modes = F.modes_figure(steps[:10], np.arange(10) % 9, np.linspace(0, 1, 10), n_modes=8)
    assert modes.data[1].yaxis == "y2" and modes.layout.yaxis.range[1] > 8
    q = F.quality_figure([100, 200], [30.0, 12.0])
    assert q.data[0].mode == "lines+markers"


def test_history_with_nan_and_empty():
    fig = F.loss_figure([], [], [])
    assert len(fig.data) == 2
    fig = F.d_output_figure([1, 2, 3], [0.5, float("nan"), 0.6], [0.4, 0.4, None])
    _json(fig)  # serialisable


def test_history_columns():
    rows = [{"step": 1, "loss_d": 1.0}, {"step": 2, "loss_d": "x", "loss_g": 2.0}]
    cols = F.history_columns(rows, ["step", "loss_d", "loss_g"])
    assert cols["step"].tolist() == [1, 2]
    assert np.isnan(cols["loss_d"][1]) and np.isnan(cols["loss_g"][0])


def test_saturation_figure():
    fig = F.saturation_figure(0.05, loss="minimax")
    minimax, ns = fig.data
    x, y = _values(_json(fig)["data"][0]["x"]), _values(_json(fig)["data"][0]["y"])
    # minimax gradient through the logit is D itself: tiny where D(G(z)) ~ 0
    assert y[0] < 0.01 and np.allclose(x, y, atol=1e-6)
    y_ns = _values(_json(fig)["data"][1]["y"])
    assert y_ns[0] > 0.99
    assert fig.layout.shapes[0].x0 == pytest.approx(0.05)
    assert "minimax" in fig.layout.title.text
    F.saturation_figure(None)
    F.saturation_figure(float("nan"))


def test_image_grid_upscales_crisply():
    imgs = np.zeros((20, 1, 8, 8), dtype=np.float32)
    imgs[:, :, 2:4, 2:4] = 1.0
    grid = F.image_grid(imgs, nrow=10, pad=1, scale=4)
    # make_grid: 10 columns x 2 rows of (8 + 1 pad) plus the outer pad
    assert grid.dtype == np.uint8 and grid.shape == ((2 * 9 + 1) * 4, (10 * 9 + 1) * 4)
    auto = F.image_grid(imgs, nrow=10, target_width=720)
    assert auto.shape[1] <= 720 and auto.shape[1] >= 360
    colour = F.image_grid(np.random.default_rng(0).uniform(size=(4, 3, 8, 8)), nrow=2, scale=1)
    assert colour.shape == (19, 19, 3)
    # NaN and values outside [0, 1] are clamped, not propagated
    weird = F.image_grid(np.full((2, 1, 4, 4), np.nan), nrow=2, scale=1, pad=0)
    assert weird.max() == 0
    with pytest.raises(ValueError):
        F.image_grid(np.zeros((0, 1, 8, 8)))


def test_patch_map_figure():
    rng = np.random.default_rng(1)
    real = rng.uniform(size=(8, 1, 8, 8))
    fake = rng.uniform(size=(8, 1, 8, 8))
    fig = F.patch_map_figure(real, rng.uniform(size=(8, 1, 2, 2)), fake, rng.uniform(size=(8, 2, 2)), n=4)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2 * 4 * 2  # image + patch map per cell
    maps = heatmaps[1::2]
    assert sum(bool(t.showscale) for t in maps) == 1
    # each patch cell covers 4x4 pixels of the 8x8 image
    assert maps[0].dx == 4 and maps[0].x0 == pytest.approx(1.5)
    with pytest.raises(ValueError):
        F.patch_map_figure(real[:0], real[:0], fake, fake)
