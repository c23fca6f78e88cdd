"""What the Image GANs page says about the run it shows (issue 23, items 5 and 10): the settings
line over its figures, the differences from the page's settings, the one-point quality chart and
the colours of its digits."""
from __future__ import annotations

import numpy as np

from dashboard import gan_jobs as gj
from dashboard.figures import gan as gf
from dashboard.figures import transformer as tf


def test_describe_image_config_names_model_discriminator_and_steps():
    config = gj.image_config("dcgan", "digits", disc="patch", noise_dim=32, steps=1500, seed=2)
    text = gj.describe_image_config(config)
    assert text == "DCGAN · digits · PatchGAN D · non-saturating · z 32 · 1,500 steps · seed 2"
    assert gj.describe_image_config(gj.image_config("cgan", "digits", steps=4000)).startswith(
        "conditional GAN · digits · standard D")


def test_image_settings_differences_lists_what_changed():
    shown = gj.image_config("dcgan", "digits", steps=4000)
    assert gj.image_settings_differences(shown, gj.image_config("dcgan", "digits", steps=4000)) == []
    wanted = gj.image_config("dcgan", "digits", disc="patch", steps=1500)
    assert gj.image_settings_differences(shown, wanted) == [
        "discriminator: standard D → PatchGAN D", "steps: 4,000 steps → 1,500 steps"]
    # a difference the page has no control for (the vanilla preset) is still reported
    vanilla = gj.image_config("dcgan", "digits", preset="vanilla", steps=4000)
    assert gj.image_settings_differences(shown, vanilla) == [
        "other training settings (preset or a stored run's own recipe)"]


def test_quality_figure_with_one_point_starts_at_step_zero():
    fig = gf.quality_figure([4000], [10.3])
    lo, hi = fig.layout.xaxis.range
    assert lo == 0 and 4000 < hi <= 4000 * 1.2        # not Plotly's 3,999 to 4,001
    assert fig.data[0].text[0].strip() == "10.3 at step 4,000"
    many = gf.quality_figure([100, 200], [30.0, 12.0])
    assert many.layout.xaxis.range is None and many.data[0].mode == "lines+markers"


def test_digit_grids_are_white_ink_on_black():
    """The team's convention (issue 23, item 10): white digits on black, on every page."""
    from genlab.data import load_image_dataset

    digits = load_image_dataset("digits", "test").images[:16]        # ink = 1, background = 0
    for grid in (gf.image_grid(digits, nrow=4, pad=0), tf.image_grid(digits, nrow=4, pad=0)):
        pixels = np.asarray(grid, dtype=float) / 255
        assert pixels[0, 0] == 0 and np.median(pixels) < 0.2          # black ground (every corner pixel is 0)
        assert pixels.max() > 0.9                                      # white strokes
    assert tf.GRAY == [[0.0, "#000000"], [1.0, "#ffffff"]]            # the transformer page's heatmaps
    # the same grey lines between the digits on both GAN pages
    import inspect

    assert inspect.signature(tf.image_grid).parameters["pad_value"].default == gj.GRID_PAD


def test_sample_spread_is_one_for_real_digits_and_zero_for_a_collapsed_generator():
    from types import SimpleNamespace

    from genlab.data import load_image_dataset

    live = gj.ImageLive(SimpleNamespace(dataset="digits"))
    real = load_image_dataset("digits", "test").images[:64]
    assert live.sample_spread(real) == 1.0
    assert live.sample_spread(real[:1].repeat(64, 1, 1, 1)) == 0.0      # 64 identical samples
    assert 0.5 < live.sample_spread(load_image_dataset("digits", "train").images[:64]) < 1.5
