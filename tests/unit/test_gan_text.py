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


PAGE = dict(gt.VANILLA_DEMO_SETTINGS)
LIVE = {**gt.VANILLA_DEMO_LIVE, "k_disc": 5}


def _snap(modes, steps, live=LIVE, changes=()):
    return {"step": steps[-1], "hyperparameters": live, "changes": list(changes),
            "evals": {"step": list(steps), "modes": list(modes)}}


def test_more_d_steps_answer_comes_from_the_run_against_the_demo():
    demo = {"modes_covered": 7.0}
    # no run, a run still short of the demo's step, a run that differs from the demo: not answered yet
    assert gt.more_d_steps_answer(None, PAGE, demo)[0] is None
    index, text = gt.more_d_steps_answer(_snap([5, 6], [2000, 4000]), PAGE, demo)
    assert index is None and "is at step 4\u2009000" in text
    index, text = gt.more_d_steps_answer(_snap([8], [6100], live={**LIVE, "k_disc": 1}), PAGE, demo)
    assert index is None and "k = 1" in text
    index, text = gt.more_d_steps_answer(_snap([8], [6100]), {**PAGE, "width": 64}, demo)
    assert index is None and "width 64" in text
    index, _ = gt.more_d_steps_answer(_snap([8], [6100], changes=[(300, "k_disc=5")]), PAGE, demo)
    assert index is None
    # the first evaluation at or after step 6000 decides
    for modes, expected in ((8, 0), (7, 1), (4, 2)):
        index, text = gt.more_d_steps_answer(_snap([3, modes, 1], [5000, 6050, 7000]), PAGE, demo)
        assert index == expected and f"covered **{modes:g} of 8** modes at step 6\u2009050" in text
    assert gt.more_d_steps_answer(_snap([8], [6100]), PAGE, None)[0] is None      # no demo on this server


def test_demo_and_race_answers():
    assert gt.preset_modes_answer({"modes_covered": 7, "high_quality_share": 0.6},
                                  {"modes_covered": 8, "high_quality_share": 0.99})[0] == 1
    assert gt.preset_modes_answer(None, {"modes_covered": 8})[0] is None
    assert gt.conditional_fd_answer({"frechet_distance": 10.3}, {"frechet_distance": 7.5})[0] == 0
    assert gt.conditional_fd_answer({"frechet_distance": 10.0}, {"frechet_distance": 10.5})[0] == 1
    curves = {"tgan": {"frechet_distance": [40.0, 12.0]}, "dcgan": {"frechet_distance": [30.0, 20.0]}}
    assert gt.race_answer(curves, finished=True)[0] == 0
    assert gt.race_answer(curves, finished=False)[0] is None
    assert "does not have yet" in gt.race_answer(None, finished=False)[1]
