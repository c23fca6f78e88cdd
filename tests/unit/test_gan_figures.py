"""Unit tests for dashboard/figures/gan.py (pure figure builders, synthetic data)."""
from __future__ import annotations

import json
import math
from pathlib import Path

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
    assert types.count("scatter") == 3  # manifold, arrow shafts, arrow heads (SVG)
    assert types.count("scattergl") == 2  # real and fake points (WebGL: cheap to redraw in the replay)
    svg = F.plane_figure(real, fake, heatmap=heat, manifold=manifold, gradients=grads, points_trace="scatter")
    assert [t.type for t in svg.data] == ["heatmap", "scatter", "scatter", "scatter", "scatter", "scatter"]
    assert [t.name for t in svg.data][2:4] == [t.name for t in fig.data][2:4] == ["fake G(z)", "real x ~ p_data"]
    with pytest.raises(ValueError, match="points_trace 'bar': allowed scattergl, scatter"):
        F.plane_figure(real, fake, points_trace="bar")
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
    assert fig.layout.dragmode is None     # Streamlit's click-to-select works only outside drag-select mode


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


def _label_extents(fig) -> list[tuple[float, float, float]]:
    """(row offset in px, left, right) of each change label as a share of the chart's step range,
    estimated as the builder estimates them (F.CHANGE_CHAR_PX per character on F.CHANGE_PLOT_PX)."""
    xs = _values(_json(fig)["data"][0]["x"]).astype(float)
    marks = [a.x for a in fig.layout.annotations]
    lo = min(xs.min(), *marks)
    span = max(xs.max(), *marks) - lo
    out = []
    for a in fig.layout.annotations:
        start = (a.x - lo) / span
        width = (len(a.text) * F.CHANGE_CHAR_PX + 6) / F.CHANGE_PLOT_PX
        left, right = (start - width, start) if a.xanchor == "right" else (start, start + width)
        out.append((a.yshift, left, right))
    return out


def test_change_labels_of_close_changes_never_overlap():
    steps = np.arange(0, 20_000, 10)
    curve = np.linspace(1, 0, len(steps))
    # the case: k=3 and loss=minimax a few steps apart share one label
    fig = F.loss_figure(steps, curve, curve, changes=[(1000, "k=3"), (1040, "loss=minimax")])
    assert len(fig.layout.shapes) == 2 and [a.text for a in fig.layout.annotations] == ["k=3, loss=minimax"]
    # the same setting changed twice in a row: its last value
    fig = F.loss_figure(steps, curve, curve, changes=[(1000, "k_disc=2"), (1010, "k_disc=3, lr_d=0.002")])
    assert [a.text for a in fig.layout.annotations] == ["k_disc=3, lr_d=0.002"]
    # changes close on the chart (a label's width apart): labels in different rows (yshift)
    changes = [(1000, "k=3"), (1800, "loss=minimax"), (2600, "lr_d=0.002"), (9000, "k=1"), (19_990, "loss=lsgan")]
    for builder in (F.loss_figure, F.d_output_figure):
        fig = builder(steps, curve, curve, changes=changes)
        labels = _label_extents(fig)
        assert len(labels) == 5 and labels[0][0] != labels[1][0]
        for i, (row_a, left_a, right_a) in enumerate(labels):
            for row_b, left_b, right_b in labels[i + 1:]:
                assert row_a != row_b or right_a <= left_b or right_b <= left_a, (labels, i)
        # horizontal text, inside the figure: the last change's label ends at its line
        assert all(a.textangle is None for a in fig.layout.annotations)
        assert fig.layout.annotations[-1].xanchor == "right"
    # instructor mode: larger labels, rows spaced for them
    big = F.loss_figure(steps, curve, curve, changes=[(1000, "k=3"), (1300, "loss=minimax"), (1600, "k=2")],
                        label_font=22)
    assert [a.yshift for a in big.layout.annotations] == [0, -30, -59] and big.layout.annotations[0].font.size == 22


def test_plane_draws_real_points_on_top_and_fakes_see_through(plane_data):
    real, fake, heat, manifold, grads = plane_data
    fig = F.plane_figure(real, fake, heatmap=heat, manifold=manifold, gradients=grads)
    names = [t.name for t in fig.data]
    assert names.index("fake G(z)") < names.index("real x ~ p_data")          # real drawn last of the points
    real_t, fake_t = fig.data[names.index("real x ~ p_data")], fig.data[names.index("fake G(z)")]
    assert real_t.marker.opacity == 1 and real_t.marker.line.width >= 1 and real_t.marker.line.color == "white"
    assert fake_t.marker.opacity < 1 and real_t.marker.size == fake_t.marker.size == 6


@pytest.mark.parametrize("span, tick", [(0.5, 0.1), (4.0, 1.0), (6.0, 1.0), (8.0, 2.0), (30.0, 5.0), (0.0, 1.0)])
def test_plane_ticks_are_explicit_and_the_same_on_both_axes(span, tick):
    assert F.plane_tick(span) == pytest.approx(tick)
    if span:
        fig = F.plane_figure(np.zeros((3, 2)), bounds=(-span / 2, span / 2, -span / 2, span / 2))
        assert fig.layout.xaxis.dtick == fig.layout.yaxis.dtick == pytest.approx(tick)
        assert fig.layout.xaxis.tick0 == fig.layout.yaxis.tick0 == 0


def test_the_2d_page_draws_its_controls_without_importing_torch():
    """Issue 23 item 8: what the 2D page imports before it draws its controls (and the job manager
    it asks for only once a job exists) must not import torch (3-10 s on a busy machine): the page
    then says "Loading PyTorch" where it waits for it."""
    import subprocess
    import sys

    code = ("import sys; import dashboard.common, dashboard.gan_jobs, dashboard.live_canvas, dashboard.live_feed, "
            "dashboard.figures.gan, dashboard.safe_text, genlab.errors, genlab.jobs; print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=str(Path(F.__file__).resolve().parents[2]))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


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


# =========================================================================== #
# The pages' pure helpers and training loops (dashboard/gan_jobs.py)
# =========================================================================== #
import time  # noqa: E402

import torch  # noqa: E402

from dashboard import gan_jobs as gj  # noqa: E402
from genlab.errors import GenlabError  # noqa: E402


def test_metric_history_averages_and_stays_bounded():
    h = gj.MetricHistory(["a"], max_points=8)
    for i in range(1, 9):
        h.add({"step": i, "a": float(i)})
    assert len(h) == 8 and h.every == 1
    h.add({"step": 9, "a": 9.0})           # 9 > 8: pairs merge, every doubles
    cols = h.arrays()
    assert h.every == 2
    assert cols["a"][:4].tolist() == [1.5, 3.5, 5.5, 7.5]
    assert cols["step"][:4].tolist() == [2, 4, 6, 8]
    for i in range(10, 200):
        h.add({"step": i, "a": float(i)})
    assert len(h) <= 8
    assert h.arrays()["step"][-1] <= 199


def test_metric_history_ignores_bad_values():
    h = gj.MetricHistory(["a", "b"], max_points=4)
    h.add({"step": 1, "a": "text", "b": float("nan")})
    h.add({"step": 2, "a": 2.0})
    cols = h.arrays()
    assert np.isnan(cols["a"][0]) and cols["a"][1] == 2.0
    assert np.isnan(cols["b"]).all()
    for i in range(3, 20):                  # halving an all-NaN column stays NaN, no warnings
        h.add({"step": i})
    assert np.isnan(h.arrays()["b"]).all()


def test_shapes_round_trip_and_points():
    shapes = gj.parse_shapes("g:-4,-4,0.3; b:3,-1,0,2")
    assert shapes[0] == gj.blob(-4, -4, 0.3)
    assert shapes[1].values == (-1.0, 3.0, 0.0, 2.0)      # corners sorted
    assert gj.parse_shapes(gj.shapes_to_text(shapes)) == shapes
    pts = gj.points_from_shapes(shapes, n=4000, seed=0)
    assert pts.shape == (4000, 2) and pts.dtype == np.float32
    in_box = (pts[:, 0] >= -1) & (pts[:, 0] <= 3) & (pts[:, 1] >= 0) & (pts[:, 1] <= 2)
    assert 0.4 < in_box.mean() < 0.65
    assert gj.parse_shapes("") == [] and gj.parse_shapes(None) == []


@pytest.mark.parametrize("text", ["g:1,2", "x:1,2,3", "g:a,b,c", "g:1,2,0", "b:0,0,1,2", "g:1e9,0,1",
                                  "g:nan,0,1", ";".join(["g:0,0,0.1"] * 41)])
def test_shapes_bad_text(text):
    with pytest.raises(GenlabError):
        gj.parse_shapes(text)


def test_points_from_no_shapes_is_a_clear_error():
    with pytest.raises(GenlabError, match="nothing drawn"):
        gj.points_from_shapes([])


def test_shape_from_plotly_selection():
    assert gj.shape_from_selection(None) is None
    assert gj.shape_from_selection({"selection": {"points": [], "box": [], "lasso": []}}) is None
    box = gj.shape_from_selection({"selection": {"box": [{"x": [2, -1], "y": [0, 1]}], "points": []}})
    assert box.kind == "b" and box.values == (-1.0, 2.0, 0.0, 1.0)
    lasso = gj.shape_from_selection({"selection": {"lasso": [{"x": [0, 1, 0.5], "y": [0, 0, 2]}]}})
    assert lasso.values == (0.0, 1.0, 0.0, 2.0)
    click = gj.shape_from_selection({"selection": {"points": [{"x": 1.5, "y": -2}]}}, blob_std=0.3)
    assert click == gj.blob(1.5, -2, 0.3)


@pytest.mark.parametrize("lr_d, lr_g, k, match", [
    (0.0, 1e-3, 1, r"lr_D must be > 0 and <= 1 \(got 0.0\)"),
    (-1, 1e-3, 1, r"lr_D must be > 0 and <= 1 \(got -1\)"),
    (1e-3, None, 1, r"lr_G must be a number > 0 and <= 1 \(got None\)"),
    (1e-3, 2.0, 1, r"lr_G must be > 0 and <= 1 \(got 2.0\)"),
    (1e-3, 1e-3, 0, r"k .* must be a whole number from 1 to 100 \(got 0\)"),
])
def test_check_live_settings(lr_d, lr_g, k, match):
    with pytest.raises(GenlabError, match=match):
        gj.check_live_settings(lr_d, lr_g, k)
    gj.check_live_settings(1e-3, 2e-4, 3)


@pytest.fixture(scope="module")
def tiny_live():
    torch.set_num_threads(1)
    return gj.build_gan2d_live("ring8", width=8, layers=1, seed=0)


def test_gan2d_live_views_and_single_steps(tiny_live):
    live = tiny_live
    assert live.trainer.train_config.lr_decay == "none"      # the live page never decays lr
    before = live.trainer.step_count
    live.single_step("d")
    live.single_step("g")
    live.single_step("both")
    assert live.trainer.step_count == before + 3
    snap = live.refresh()
    view = snap["view"]
    assert view["fake"].shape == (live.n_display, 2)
    xs, ys, d = view["heatmap"]
    assert d.shape == (len(ys), len(xs)) and 0 <= d.min() and d.max() <= 1
    assert view["manifold"].shape == (live.manifold_n, live.manifold_n, 2)
    assert view["gradients"][1].shape == (live.n_arrows, 2)
    assert snap["n_modes"] == 8
    assert set(snap["evals"]) == {"step", "kl", "js", "modes", "hq"}
    assert 0 <= snap["evals"]["js"][-1] <= np.log(2) + 1e-9
    # the figure builds from a snapshot
    fig = F.plane_figure(snap["real"], view["fake"], heatmap=view["heatmap"], manifold=view["manifold"],
                         gradients=view["gradients"], bounds=snap["bounds"])
    assert len(fig.data) == 6


def test_run_gan2d_job_commands_pause_stop():
    from genlab.jobs import JobManager

    torch.set_num_threads(1)
    manager = JobManager(max_concurrent=1, set_torch_threads=False)
    holder = {"live": None}
    job = manager.submit(
        lambda c: gj.run_gan2d(c, holder, 10_000, publish_every_s=0.05,
                               factory=lambda: gj.build_gan2d_live("two-gaussians", width=8, layers=1)),
        session_id="t")
    try:
        deadline = time.monotonic() + 60
        while (not job.snapshot() or job.snapshot()["step"] < 3) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.snapshot()["step"] >= 3, job.error
        job.send({"set": {"lr_d": 0.005, "k_disc": 2, "loss": "minimax"}})
        job.send({"set": {"lr_g": -1.0}})                       # refused with a message, training goes on
        deadline = time.monotonic() + 30
        while not job.snapshot().get("command_error") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "lr_g" in job.snapshot()["command_error"]
        assert not job.snapshot().get("paused")
        job.pause()
        deadline = time.monotonic() + 30                        # the job publishes where it paused
        while not job.snapshot().get("paused") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job.snapshot()["paused"] is True
        time.sleep(0.3)
        step = job.snapshot()["step"]
        time.sleep(0.3)
        assert job.snapshot()["step"] == step                   # paused: no steps
        version = job.snapshot_version
        job.send({"step": "d"})
        deadline = time.monotonic() + 30
        while job.snapshot_version == version and time.monotonic() < deadline:
            time.sleep(0.02)
        snap = job.snapshot()
        assert snap["step"] == step + 1 and snap["hyperparameters"]["k_disc"] == 2 and snap["paused"]
        assert snap["hyperparameters"]["loss"] == "minimax"
        assert any("lr_d=0.005" in text for _, text in snap["changes"])
        assert snap["steps_per_s_overall"] > 0
    finally:
        job.stop()
        assert job.wait(30)
    assert job.status == "stopped"
    assert holder["live"] is not None                            # the next job continues this model
    timeline = holder["live"].recorded                           # and keeps the timeline so far
    assert timeline is not None and timeline.kind == "gan2d" and len(timeline) >= 2
    assert timeline.steps[0] == 0 and timeline.steps[-1] == holder["live"].trainer.step_count


def test_image_config_matches_the_trainer():
    from genlab.runs import config_hash
    from genlab.train.gan import GANTrainer, gan_configs

    for model, disc in (("dcgan", "patch"), ("cgan", "standard")):
        config = gj.image_config(model, "digits", disc=disc, noise_dim=16, steps=200, seed=3)
        mc, tc = gan_configs(model, "default", disc=disc, noise_dim=16, steps=200, seed=3)
        trainer = GANTrainer(model, "digits", mc, tc)
        assert config_hash(config) == config_hash(trainer.config_dict())
        assert gj.run_name_for(config).startswith(f"{model}-digits-")
    with pytest.raises(GenlabError):
        gj.image_config("dcgan", "cifar")


def test_run_image_gan_stores_the_run(tmp_path):
    from genlab.jobs import JobManager
    from genlab.runs import RunStore
    from genlab.train.recording import load_trainer
    from genlab.train.gan import GANTrainer

    torch.set_num_threads(1)
    config = gj.image_config("cgan", "digits", disc="patch", channels=4, noise_dim=8, steps=4)
    store = RunStore(tmp_path)
    run = store.create(gj.run_name_for(config), config)
    holder = {"live": None}
    manager = JobManager(max_concurrent=1, set_torch_threads=False)
    job = manager.submit(lambda c: gj.run_image_gan(c, holder, 4, run=run,
                                                    factory=lambda: GANTrainer.from_config(config)),
                         session_id="t")
    assert job.wait(240), "image GAN job did not finish"
    assert job.status == "finished", job.error
    snap = job.snapshot()
    assert snap["step"] == 4 and snap["conditional"] and snap["patch"]
    assert snap["view"]["grid"].dtype == np.uint8
    assert snap["view"]["class_rows"].shape[0] == 10 * 10
    assert snap["view"]["patch"]["real_maps"].shape[-2:] == (4, 4)
    # quality numbers are stored in metrics.csv (first and last step at least)
    frame = run.read_metrics()
    fd = frame["frechet_distance"].dropna()
    assert len(fd) >= 2 and frame.loc[fd.index[-1], "step"] == 4
    assert store.find_by_config(config).name == run.name          # identical settings find it
    from genlab.train.history import load_history
    timeline = load_history(store.open(run.name))                 # the run's timeline, frames 0..4
    assert timeline.kind == "image" and list(timeline.steps) == [0, 1, 2, 3, 4]
    # a stored run comes back with its history, without training
    loaded = gj.ImageLive.from_run(load_trainer(store.open(run.name)), store.open(run.name).read_metrics())
    assert loaded.trainer.step_count == 4 and len(loaded.evals) == len(fd)
    assert loaded.compute_view()["grid"].ndim == 2


def test_poll_period_follows_cpu_turns_and_the_number_of_live_pages():
    # every job computes at once: the page's own period
    assert gj.poll_period(0.3, 1, 1, 0.1) == 0.3
    assert gj.poll_period(0.3, 2, 2, 0.1) == 0.3
    # jobs take turns: no faster than a round (a job publishes once per round), and 0.12 s per live page
    assert gj.poll_period(0.3, 4, 1, 0.1) == pytest.approx(0.48)
    assert gj.poll_period(0.3, 3, 2, 0.1) == pytest.approx(0.36)
    assert gj.poll_period(0.3, 5, 1, 0.2) == pytest.approx(1.0)        # a 1 s round
    assert gj.poll_period(0.3, 10, 1, 0.06) == pytest.approx(1.2)      # 10 pages: every 1.2 s
    assert gj.poll_period(0.3, 30, 1, 0.1) == 1.25        # capped: an update at least every 2 s


def test_compare_trains_two_settings_in_lockstep_and_survives_pause_and_reset():
    from genlab.jobs import JobManager

    torch.set_num_threads(1)
    manager = JobManager(max_concurrent=1, set_torch_threads=False)
    holder: dict = {}
    factories = {"k = 1": lambda: gj.build_gan2d_live("ring8", width=8, layers=1, k_disc=1, seed=4),
                 "k = 3": lambda: gj.build_gan2d_live("ring8", width=8, layers=1, k_disc=3, seed=4)}
    job = manager.submit(lambda c: gj.run_gan2d_compare(c, holder, 10_000, publish_every_s=0.05, factories=factories),
                         session_id="t")
    try:
        deadline = time.monotonic() + 60
        while (not job.snapshot() or job.snapshot()["step"] < 5) and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = job.snapshot()
        assert set(snap["pair"]) == {"k = 1", "k = 3"}, job.error
        steps = [pair["step"] for pair in snap["pair"].values()]
        assert max(steps) - min(steps) <= 1                       # lockstep: one step each in turn
        assert [p["hyperparameters"]["k_disc"] for p in snap["pair"].values()] == [1, 3]
        # same seed and data: the same real points and the same fixed noise, only k differs
        assert np.array_equal(snap["pair"]["k = 1"]["real"], snap["pair"]["k = 3"]["real"])
        job.pause()
        deadline = time.monotonic() + 30
        while not job.snapshot().get("paused") and time.monotonic() < deadline:
            time.sleep(0.02)
        paused = job.snapshot()
        assert paused["paused"] and {p["step"] for p in paused["pair"].values()} == {paused["step"]}
        job.resume()
        time.sleep(0.3)
    finally:
        job.stop()
        assert job.wait(30)
    lives = holder["lives"]
    assert {name: live.recorded.kind for name, live in lives.items()} == {"k = 1": "gan2d", "k = 3": "gan2d"}
    # a reset is a new holder: the next job builds both models again, from step 0
    fresh: dict = {}
    again = manager.submit(lambda c: gj.run_gan2d_compare(c, fresh, 3, factories=factories), session_id="t")
    assert again.wait(60) and again.status == "finished", again.error
    assert {live.trainer.step_count for live in fresh["lives"].values()} == {3}
