"""Unit tests for the latent pages' figure builders (dashboard/figures/latent.py) and their
background-training glue (dashboard/latent_jobs.py): tiny runs (1 epoch of digits) in a temporary
run store."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import torch

from dashboard import latent_jobs as lj
from dashboard.figures import latent as lf
from genlab.errors import GenlabError
from genlab.jobs import JobManager
from genlab.train.history import load_history
from genlab.latent import grid_values, gradient_variance_experiment, latent_grid
from genlab.runs import RunStore, config_hash

torch.set_num_threads(1)


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #
def test_latent_scatter_one_trace_per_class_with_hover_and_prior():
    points = np.random.default_rng(0).normal(size=(60, 2))
    labels = np.arange(60) % 10
    fig = lf.latent_scatter(points, labels, "t", prior_circles=True, prior_points=points[:5], xy_range=(-4, 4))
    classes = [t for t in fig.data if t.name != "z ~ N(0, I)"]
    assert len(classes) == 10 and all(len(t.x) == 6 for t in classes)
    assert "digit 3" in classes[3].hovertemplate
    assert fig.data[-1].name == "z ~ N(0, I)" and len(fig.data[-1].x) == 5
    assert len(fig.layout.shapes) == 3  # circles of radius 1, 2, 3
    assert tuple(fig.layout.xaxis.range) == (-4, 4) and fig.layout.yaxis.scaleanchor == "x"
    named = lf.latent_scatter(points, labels, class_names=("T-shirt",) * 10, item="class", show_legend=False)
    assert "class T-shirt" in named.data[0].hovertemplate and named.layout.showlegend is False


def test_latent_strip_for_k_1():
    fig = lf.latent_strip(np.linspace(-1, 1, 20), np.arange(20) % 4)
    assert len(fig.data) == 4 and list(fig.layout.yaxis.tickvals) == [0, 1, 2, 3]


def test_image_mosaic_layout_gaps_and_ticks():
    images = np.ones((6, 1, 8, 8)) * 0.5
    mosaic, h, w = lf._mosaic_array(images, 4)
    assert mosaic.shape == (2 * 9 - 1, 4 * 9 - 1) and (h, w) == (8, 8)
    assert np.isnan(mosaic[:, 8]).all() and np.isnan(mosaic[8]).all()  # gaps between tiles
    assert np.isnan(mosaic[9:, 18:]).all()  # the two missing tiles of the last row stay empty
    fig = lf.image_mosaic(images, 3, x_ticks=["a", "b", "c"])
    assert _pixels(fig.data[0]).shape == (2 * 9 - 1, 3 * 9 - 1, 3)        # one picture, mosaic pixels
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "c"] and fig.layout.yaxis.autorange == "reversed"
    assert list(fig.layout.xaxis.tickvals) == [3.5, 12.5, 21.5]            # tile centres


def _pixels(trace) -> np.ndarray:
    """The RGB pixels (H, W, 3) of an image trace's PNG data URI."""
    import base64
    import io

    from PIL import Image

    assert trace.type == "image" and trace.source.startswith("data:image/png;base64,")
    data = base64.b64decode(trace.source.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize("builder", [
    lambda images: lf.image_mosaic(images, 2),
    lambda images: lf.image_row(images, ["a", "b", "c", "d"], "row"),
    lambda images: lf.latent_grid_figure(images, np.array([-1.0, 1.0])),
])
def test_digits_are_white_ink_on_black_with_white_gaps(builder):
    """The digits/MNIST convention of the GAN pages: pixel 1 (ink) white, pixel 0 (ground) black;
    the lines between tiles are a trace of their own, white whatever the theme's plot background."""
    images = np.zeros((4, 1, 8, 8))
    images[:, :, 2:6, 3:5] = 1.0        # a white stroke on black
    fig = builder(images)
    (picture,) = fig.data
    pixels = _pixels(picture)
    mosaic, _, _ = lf._mosaic_array(images, 2 if pixels.shape[1] < 20 else 4)
    ink, ground, gap = mosaic == 1.0, mosaic == 0.0, np.isnan(mosaic)
    assert (pixels[ink] == 255).all() and (pixels[ground] == 0).all()     # drawn as they are, not inverted
    assert lf.GAP_COLOUR == "#ffffff" and (pixels[gap] == 255).all()       # white lines between the tiles
    assert gap.any() and ink.any() and ground.any()


def test_styled_mosaic_keeps_white_on_black_in_the_dark_theme(monkeypatch):
    """The dark theme changes the plot background, never the digits or the gap lines."""
    from dashboard import common

    monkeypatch.setattr(common, "is_dark", lambda: True)
    monkeypatch.setattr(common, "is_instructor", lambda: False)
    images = np.zeros((2, 1, 8, 8))
    images[0] = 1.0
    light = _pixels(lf.image_mosaic(images, 2).data[0])
    fig = common.style_figure(lf.image_mosaic(images, 2))
    assert fig.layout.plot_bgcolor == "#161a23"
    assert np.array_equal(_pixels(fig.data[0]), light) and light[0, 0, 0] == 255 and light[0, 9, 0] == 0


def test_latent_scatter_prior_marks_follow_the_background():
    points = np.zeros((4, 2))
    light = lf.latent_scatter(points, [0, 1, 2, 3], prior_circles=True, prior_points=np.ones((2, 2)))
    dark = lf.latent_scatter(points, [0, 1, 2, 3], prior_circles=True, prior_points=np.ones((2, 2)),
                             dark_background=True)
    assert light.data[-1].marker.color == "rgb(0,0,0)" and dark.data[-1].marker.color == "rgb(255,255,255)"
    assert light.layout.shapes[0].line.color.startswith("rgba(0,0,0") and dark.layout.shapes[0].line.color.startswith(
        "rgba(255,255,255")


def test_latent_grid_figure_axes_follow_the_grid_values():
    torch.manual_seed(0)
    from genlab.models.autoencoder import Autoencoder, AutoencoderConfig

    model = Autoencoder(AutoencoderConfig(kind="vae", latent_dim=2, hidden_dims=(8,)))
    values = grid_values(2.0, 5).numpy()
    fig = lf.latent_grid_figure(latent_grid(model, 2.0, 5).numpy(), values)
    assert list(fig.layout.xaxis.ticktext) == ["-2.0", "-1.0", "0.0", "1.0", "2.0"]
    assert list(fig.layout.yaxis.ticktext) == ["2.0", "1.0", "0.0", "-1.0", "-2.0"]  # z2 grows upwards
    assert "z₁" in fig.layout.xaxis.title.text and "z₂" in fig.layout.yaxis.title.text


def test_side_by_side_keeps_traces_shapes_and_equal_aspect():
    points = np.random.default_rng(1).normal(size=(30, 2))
    a = lf.latent_scatter(points, np.arange(30) % 3, prior_circles=True, xy_range=(-5, 5))
    b = lf.image_mosaic(np.zeros((4, 1, 8, 8)), 2)
    fig = lf.side_by_side([a, b], ["AE", "VAE"], height=300)
    assert len(fig.data) == len(a.data) + 1   # the mosaic: one picture
    assert fig.data[-1].xaxis == "x2" and fig.data[-2].xaxis == "x" and fig.data[0].xaxis == "x"
    assert len(fig.layout.shapes) == 3 and all(s.xref == "x" for s in fig.layout.shapes)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis2.scaleanchor == "x2"
    assert tuple(fig.layout.xaxis.range) == (-5, 5) and fig.layout.yaxis2.autorange == "reversed"
    assert [ann.text for ann in fig.layout.annotations] == ["AE", "VAE"] and fig.layout.height == 300
    assert fig.layout.showlegend is False


def test_side_by_side_one_legend_and_axis_annotations():
    rows = gradient_variance_experiment(0.5, 1.0, "cos", (1, 10), repeats=20, seed=0)
    fig = lf.side_by_side([lf.gradient_estimates_figure(rows, p) for p in ("mu", "sigma")], ["mu", "sigma"],
                          legend=True)
    shown = [t.showlegend for t in fig.data]
    assert shown == [None, None, False, False] and fig.layout.showlegend is True
    lines = [s for s in fig.layout.shapes]
    assert [s.yref for s in lines] == ["y", "y2"] and [s.xref for s in lines] == ["x domain", "x2 domain"]
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("true ∂/∂μ") for t in texts) and any(t.startswith("true ∂/∂σ") for t in texts)


def _frame(K=2, epochs=3, per_epoch=4):
    rows = []
    step = 0
    for epoch in range(1, epochs + 1):
        for i in range(per_epoch):
            step += 1
            row = {"step": step, "epoch": epoch, "loss": 30.0 - step, "recon_loss": 28.0 - step, "kl_loss": 2.0 + 0.1 * step,
                   "test_elbo": -(30.0 - step) if i == per_epoch - 1 else np.nan}
            row.update({f"kl_dim_{k}": 1.0 + k + 0.01 * step for k in range(K)})
            rows.append(row)
    return pd.DataFrame(rows)


def test_elbo_history_is_per_epoch_and_sums_the_terms():
    fig = lf.elbo_history(_frame(), beta=4.0)
    total, recon, kl, test = fig.data
    assert len(total.x) == 3 and list(total.x) == [4, 8, 12]
    np.testing.assert_allclose(np.asarray(total.y), np.asarray(recon.y) + np.asarray(kl.y))
    assert list(test.y) == [26.0, 22.0, 18.0]
    assert "4·KL" in fig.layout.xaxis.title.text


def test_elbo_history_total_line_stays_visible_in_the_dark_theme():
    light = lf.elbo_history(_frame()).data[0].line.color
    dark = lf.elbo_history(_frame(), dark_background=True).data[0].line.color
    assert light == "#333333" and dark == lf.ELBO_LINE_ON_DARK     # dark grey would vanish on #161a23


def test_elbo_history_projector_legend_is_below_the_whole_plot():
    normal = lf.elbo_history(_frame(), height=400)
    big = lf.elbo_history(_frame(), height=400, projector=True)
    assert normal.layout.legend.yref in (None, "paper") and normal.layout.height == 400
    # instructor mode: the legend sits in its own strip at the figure's bottom edge, under the x-axis
    # title, and the figure grows by that strip (a legend beside the plot left it a third of 1280 px)
    assert big.layout.legend.yref == "container" and big.layout.legend.y == 0
    assert big.layout.legend.orientation == "h" and big.layout.height > 400


def test_kl_per_dim_history_lines_then_heatmap_and_bars():
    assert [t.name for t in lf.kl_per_dim_history(_frame(K=3), 3).data] == ["z1", "z2", "z3"]
    heat = lf.kl_per_dim_history(_frame(K=12), 12)
    assert heat.data[0].type == "heatmap" and len(heat.data[0].y) == 12
    bars = lf.kl_per_dim_bars([0.001, 0.5])
    assert bars.data[0].marker.color[0] == "#bbbbbb" and bars.data[0].marker.color[1] != "#bbbbbb"


def test_gradient_figures_from_the_experiment():
    rows = gradient_variance_experiment(1.0, 1.0, "square", (1, 10, 100), repeats=50, seed=0)
    fig = lf.gradient_variance_figure(rows, "mu")
    names = [t.name for t in fig.data]
    assert names == ["score function", "reparameterization", "∝ 1/S"]
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    score, reparam = fig.data[0].y, fig.data[1].y
    assert all(s > r for s, r in zip(score, reparam))  # z²: reparameterization wins at every S
    estimates = lf.gradient_estimates_figure(rows, "sigma")
    assert len(estimates.data) == 2 and len(estimates.data[0].error_y.array) == 3


def test_beta_sweep_figure_sorted_by_beta():
    rows = [{"beta": 4.0, "recon": 30.0, "kl": 0.5, "active": 1}, {"beta": 0.5, "recon": 20.0, "kl": 6.0, "active": 2}]
    fig = lf.beta_sweep_figure(rows)
    assert list(fig.data[0].x) == [0.5, 4.0] and list(fig.data[2].y) == [2, 1]


def test_class_key_html_escapes_names():
    html = lf.class_key_html([0, 1], ("<T>", "b"), prefix="Colour:")
    assert "&lt;T&gt;" in html and html.startswith("Colour:")


# --------------------------------------------------------------------------- #
# Settings and configs
# --------------------------------------------------------------------------- #
def test_check_settings_messages():
    ok = lj.check_settings("digits", 2, 1, 100)
    assert ok == {"dataset": "digits", "latent_dim": 2, "beta": 1.0, "epochs": 100, "mc_samples": 1, "seed": 0}
    for args, text in [(("digits", 0, 1, 10), "latent size K must be a whole number from 1 to 64"),
                       (("digits", 2.5, 1, 10), "latent size K"),
                       (("digits", 2, 1, 0), "Epochs must be a whole number from 1 to 500"),
                       (("digits", 2, 1, 501), "Epochs"),
                       (("digits", 2, -1, 10), "β must be a number from 0 to 100"),
                       (("svhn", 2, 1, 10), "unknown data set 'svhn'")]:
        with pytest.raises(GenlabError, match=text):
            lj.check_settings(*args)
    with pytest.raises(GenlabError, match="Monte-Carlo samples S"):
        lj.check_settings("digits", 2, 1, 10, mc_samples=0)


def test_mnist_offline_gives_genlabs_dataset_message(tmp_path, monkeypatch):
    from genlab.errors import DatasetUnavailable

    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path))
    lj._AVAILABLE.discard("mnist")
    with pytest.raises(DatasetUnavailable, match="not on disk"):
        lj.check_dataset_available("mnist")
    lj.check_dataset_available("digits")  # built in: never a problem


@pytest.mark.parametrize("model", ["ae", "vae"])
def test_config_is_exactly_what_the_trainer_stores(model):
    """The page finds runs by config hash: its config must equal the trainer's config_dict()."""
    from genlab.train.registry import build_trainer

    options = {"latent_dim": 3, "epochs": 2, "seed": 1}
    if model == "vae":
        options.update(beta=0.5, mc_samples=2)
    trainer = build_trainer(model, "digits", options)
    config = lj.autoencoder_config(model, "digits", 3, 0.5, 2, 2, 1)
    assert config_hash(config) == config_hash(trainer.config_dict())
    assert lj.expected_steps(config) == trainer.default_steps


def test_pair_shares_everything_but_the_kl_and_ae_ignores_beta():
    a, b = lj.pair_configs(latent_dim=2, beta=1.0), lj.pair_configs(latent_dim=2, beta=4.0)
    assert config_hash(a["ae"]) == config_hash(b["ae"])  # one AE run serves every β
    assert config_hash(a["vae"]) != config_hash(b["vae"])
    assert a["ae"]["model_config"]["hidden_dims"] == a["vae"]["model_config"]["hidden_dims"]
    assert lj.job_key(a) == lj.job_key(list(reversed(list(a.values()))))
    assert lj.run_name(a["vae"]).startswith("latent-vae-digits-K2-")


def test_robust_limit_and_prior_z():
    codes = np.concatenate([np.zeros((99, 2)), [[100.0, 100.0]]])
    assert lj.robust_limit(codes) == pytest.approx(3.3)  # one outlier does not blow up the view
    assert lj.robust_limit(np.full((10, 2), 10.0)) == pytest.approx(11.0)
    z = lj.prior_z(3, 5, seed=0)
    assert z.shape == (5, 3) and np.array_equal(z, lj.prior_z(3, 5, seed=0))
    assert np.array_equal(lj.prior_z(3, 2, seed=0), z[:2])  # the shown draws are the first scored ones


# --------------------------------------------------------------------------- #
# Training jobs
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 1-epoch AE + VAE pair (K = 2) in a temporary store."""
    root = tmp_path_factory.mktemp("runs")
    manager = JobManager(1, set_torch_threads=False)
    configs = lj.pair_configs(epochs=1, latent_dim=2)
    job = lj.submit_training(manager, configs, "s1", "pair", root)
    twin = lj.submit_training(manager, configs, "s2", "pair", root)
    job.wait(120)
    return {"root": root, "manager": manager, "configs": configs, "job": job, "twin": twin}


def test_pair_trains_side_by_side_into_the_store(trained):
    job = trained["job"]
    assert trained["twin"] is job  # identical settings share one job
    assert job.status == "finished", job.error
    assert job.result == {"ae": "finished", "vae": "finished"}
    snapshot = job.snapshot()
    assert set(snapshot["codes"]) <= {"ae", "vae"} and snapshot["models"]["vae"]["step"] == 23
    store = RunStore(trained["root"])
    for model, config in trained["configs"].items():
        run = lj.find_finished(config, trained["root"])
        assert run is not None and run.name == lj.run_name(config)
        frame = lj.read_metrics(run)
        assert len(frame) == 23 and frame["test_elbo"].dtype.kind == "f"  # "nan" cells became NaN
        assert store.open(run.name).status()["status"] == "finished"
        timeline = load_history(store.open(run.name))           # the run's timeline: every step of 23
        assert timeline.kind == "latent" and timeline.steps[0] == 0 and timeline.steps[-1] == 23


def test_identical_settings_never_train_twice(trained):
    again = lj.submit_training(trained["manager"], trained["configs"], "s3", "pair", trained["root"])
    again.wait(60)
    assert again is not trained["job"] and again.result == {"ae": "reused", "vae": "reused"}


def test_stop_keeps_a_resumable_checkpoint(tmp_path):
    manager = JobManager(1, set_torch_threads=False)
    configs = {"vae": lj.autoencoder_config("vae", epochs=20, latent_dim=2, seed=3)}
    job = lj.submit_training(manager, configs, "s", "vae", tmp_path)
    deadline = time.monotonic() + 60
    while (job.snapshot().get("models") or {}).get("vae", {}).get("step", 0) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    job.stop()
    assert job.wait(60) and job.status == "stopped"
    run = RunStore(tmp_path).open(lj.run_name(configs["vae"]))
    assert run.status()["status"] == "stopped" and run.has_checkpoint()
    assert lj.find_finished(configs["vae"], tmp_path) is None


def test_failed_model_fails_the_job_with_its_message(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GENLAB_NO_DOWNLOAD", "1")
    manager = JobManager(1, set_torch_threads=False)
    configs = {"vae": lj.autoencoder_config("vae", "mnist", epochs=1)}
    job = lj.submit_training(manager, configs, "s", "mnist", tmp_path / "runs")
    job.wait(60)
    assert job.status == "failed" and "vae: mnist is not on disk" in job.error


def test_loaded_model_codes_decode_and_prior_scores(trained):
    run = lj.find_finished(trained["configs"]["vae"], trained["root"])
    model = lj.load_model(run, "VAE")
    assert lj.load_model(run) is model  # cached
    images, labels = model.test_images()
    assert images.shape == (360, 1, 8, 8) and labels.shape == (360,)
    assert model.codes().shape == (360, 2)
    assert model.decode(np.zeros((3, 2))).shape == (3, 1, 8, 8)
    scores = model.prior_scores(0)
    assert scores["n"] == 360 and scores["frechet"] > 0 and 0.1 <= scores["confidence"] <= 1
    assert scores["class_share"].shape == (10,) and scores["class_share"].sum() == pytest.approx(1.0)
    assert model.prior_scores(0) is scores


def test_vae_variants_finds_runs_that_differ_in_beta_only(trained, tmp_path):
    settings = lj.check_settings("digits", 2, 1.0, 1)
    rows = lj.vae_variants(settings, "beta", trained["root"])
    assert [r["beta"] for r in rows] == [1.0] and rows[0]["S"] == 1
    assert rows[0]["recon"] > 0 and rows[0]["elbo"] < 0 and 0 <= rows[0]["active"] <= 2
    assert lj.vae_variants({**settings, "epochs": 2}, "beta", trained["root"]) == []
    assert lj.vae_variants(settings, "mc_samples", tmp_path) == []  # an empty store
    assert lj.INACTIVE_KL == lf.INACTIVE_KL


def test_slot_text_says_why_a_model_has_no_steps():
    """The progress line of a pair job: a model already stored waits for the other one, a model
    being trained by another job says so, one that is preparing says what it does."""
    from types import SimpleNamespace as NS

    assert lj.slot_text(NS(label="ae", state="training", step=120, target=2300, message="")) == "AE step 120 of 2,300"
    assert lj.slot_text(NS(label="vae", state="reused", step=2300, target=2300, message="")) == \
        "VAE already trained (stored run)"
    assert lj.slot_text(NS(label="vae", state="waiting", step=40, target=2300,
                           message="another job is training it")) == \
        "VAE waits: another job is training it (step 40 of 2,300)"
    assert lj.slot_text(NS(label="ae", state="waiting", step=0, target=2300, message="")) == \
        "AE preparing (data set and model)"


def test_placeholder_message_survives_side_by_side():
    """A panel with no codes yet shows its message in its own half (it used to vanish: a blank panel)."""
    points = np.zeros((3, 2))
    fig = lf.side_by_side([lf.latent_scatter(points, [0, 1, 2]), lf.placeholder_figure("VAE: preparing")],
                          ["AE", "VAE"])
    message = [a for a in fig.layout.annotations if a.text == "VAE: preparing"]
    assert len(message) == 1 and message[0].xref == "x2 domain" and message[0].yref == "y2 domain"
    assert fig.layout.xaxis2.visible is False and fig.layout.yaxis2.visible is False
