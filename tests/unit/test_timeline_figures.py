"""The timeline figures (issue 21): a recorded history's moment as a picture, and the whole
history as one Plotly animation that plays in the browser."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dashboard.figures import timeline as T
from dashboard.figures.palette import COLOUR_BLIND, DEFAULT
from genlab.train import registry
from genlab.train.history import RecordHistory

torch.set_num_threads(1)


def _history(model: str, steps: int, **options):
    dataset = "ring8" if model == "gan" else "digits"
    trainer = registry.build_trainer(model, dataset, {"steps": steps, **options}, device="cpu")
    recorder = RecordHistory(steps=steps)
    trainer.fit(steps, callbacks=[recorder])
    return recorder.history


@pytest.fixture(scope="module")
def gan_history():
    return _history("gan", 12)


def test_nearest_frame_is_the_last_frame_at_or_before_the_step():
    steps = [0, 1, 5, 20]
    assert [T.nearest_frame(steps, s) for s in (-3, 0, 4, 5, 19, 20, 10_000)] == [0, 0, 1, 2, 2, 3, 3]


def test_the_plane_at_two_moments_differs_and_names_its_step(gan_history):
    first, last = T.plane_at(gan_history, 0), T.plane_at(gan_history, len(gan_history) - 1)
    assert "step 0" in first.layout.title.text and f"step {int(gan_history.steps[-1])}" in last.layout.title.text
    fake = [t for t in first.data if t.name == "fake G(z)"][0]
    fake_last = [t for t in last.data if t.name == "fake G(z)"][0]
    assert not np.allclose(np.asarray(fake.x, dtype=float), np.asarray(fake_last.x, dtype=float))
    assert any(t.type == "heatmap" for t in first.data)
    cb = T.plane_at(gan_history, 0, palette=COLOUR_BLIND)
    real = [t for t in cb.data if t.name.startswith("real")][0]
    assert real.marker.color == COLOUR_BLIND.real != DEFAULT.real


def test_the_animation_plays_every_frame_as_a_picture_and_opens_where_asked(gan_history):
    fig = T.animated(gan_history, start=3, fps=20)
    assert len(fig.frames) == len(gan_history)
    assert [f.name for f in fig.frames] == [str(int(s)) for s in gan_history.steps]
    assert all(f.data[0].type == "image" and f.data[0].source.startswith("data:image/png") for f in fig.frames)
    assert fig.frames[0].data[0].source != fig.frames[-1].data[0].source          # the pictures change
    play = fig.layout.updatemenus[0].buttons[0]
    assert play.label.endswith("Play") and play.args[1]["frame"]["duration"] == 42   # 20 frames/s, less a draw
    assert fig.layout.sliders[0].active == 3 and fig.data[0].source == fig.frames[3].data[0].source
    thinned = T.animated(gan_history, every=5)
    assert thinned.frames[-1].name == str(int(gan_history.steps[-1]))              # the last frame stays


def test_image_and_latent_moments():
    images = _history("dcgan", 2)
    fig = T.samples_at(images, 1)
    assert fig.data[0].type == "image" and fig.data[0].source.startswith("data:image/png;base64,")
    assert "step 1" in fig.layout.title.text
    codes = _history("vae", 2)
    scatter = T.latent_at(codes, 0)
    assert {t.type for t in scatter.data} == {"scattergl"} and scatter.layout.xaxis.range[1] >= 3


def test_mark_step_draws_the_moment_on_a_chart():
    import plotly.graph_objects as go

    fig = T.mark_step(go.Figure(go.Scatter(x=[0, 10], y=[1, 2])), 7)
    assert fig.layout.shapes[0].x0 == 7 and "step 7" in fig.layout.annotations[0].text
