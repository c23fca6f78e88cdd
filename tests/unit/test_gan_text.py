"""The GAN pages' "what trains here" text (dashboard/figures/gan_text.py, issue 20 section 1): it
names what genlab's configs really run, marks each departure from the slide, and the 2D page's
torch-free copy of the presets matches genlab's."""
from __future__ import annotations

from dataclasses import asdict

import pytest

from dashboard.figures import gan_text as gt
from genlab.train.gan import gan_configs
from genlab.train.transformer_gan import tgan_configs


@pytest.mark.parametrize("preset", sorted(gt.GAN2D_PRESETS))
def test_2d_preset_copy_matches_genlab(preset):
    model, train = gan_configs("gan", preset)
    real = {**asdict(model), **asdict(train)}
    for name, value in gt.GAN2D_PRESETS[preset].items():
        assert real[name] == (tuple(value) if isinstance(value, tuple) else value), name


def _configs():
    for model_name in ("gan", "dcgan", "cgan"):
        for preset in ("default", "vanilla"):
            yield f"{model_name}-{preset}", gan_configs(model_name, preset)
    for preset in ("default", "vanilla"):
        yield f"tgan-{preset}", tgan_configs(preset)


@pytest.mark.parametrize("name,configs", list(_configs()), ids=[n for n, _ in _configs()])
def test_every_active_addition_is_named_and_marked(name, configs):
    model, train = (asdict(c) for c in configs)
    summary, details = gt.recipe_summary(train, model), gt.recipe_markdown(train, model)
    for active, word in ((train["ema"] > 0, "EMA of G"), (train["r1_gamma"] > 0, "R1"),
                         (train["lr_decay"] == "linear", "lr decay"),
                         (model.get("noise") == "clusters", "clustered z")):
        assert (word in summary) == active, (word, summary)
    # the default loss is the non-saturating one: named a departure, with Goodfellow et al.'s §3
    assert train["loss"] == "non-saturating" and "non-saturating loss†" in summary
    assert "Goodfellow et al. 2014, §3" in details and "minimax (slide)" in details
    # Adam is not the slide's optimizer, and every "†" of the summary has a reason in the details
    assert "Adam†" in summary and "SGD with momentum" in details
    assert details.count(gt.DEPARTURE) == summary.split(" — ")[0].count("†")


def test_the_slides_recipe_has_no_departure():
    model, train = (asdict(c) for c in gan_configs("gan", "vanilla", loss="minimax", optimizer_d="sgd",
                                                     optimizer_g="sgd"))
    assert "†" not in gt.recipe_summary(train, model)
    details = gt.recipe_markdown(train, model)
    assert gt.DEPARTURE not in details and "the slide's minimax game" in details
    assert "k = 1" in details and "cheapest" in details


def test_dcgan_is_said_to_be_scaled_down():
    line = gt.dcgan_scale_line({"image_size": 8, "channels": 32})
    assert "four" in line and "two" in line and "colour" in line and "2×2×64" in line


def test_shortcuts_are_one_key_per_action_and_none_reserved():
    keys = list(gt.SHORTCUTS.values())
    assert len(set(keys)) == len(keys)
    # C and R are Streamlit's; the arrows belong to sliders and the guided walk
    assert not set(k.upper() for k in keys) & {"C", "R", "LEFT", "RIGHT", "UP", "DOWN"}
    assert gt.shortcut_help("train") == "Keyboard: T."
