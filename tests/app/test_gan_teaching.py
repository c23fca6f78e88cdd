"""AppTest of what the three GAN pages teach (issue 20): each states what it trains with the
departures from the slide marked, offers the slide's loss "minimax (slide)", asks a question
before it shows the answer (answered by the shipped demos or the page's own run) and gives its
training buttons keyboard shortcuts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from dashboard.figures import gan_text as gt
from genlab.jobs import get_job_manager

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "dashboard" / "pages"
GAN2D, IMAGES, TGAN = (str(PAGES / name) for name in ("gan_2d.py", "gan_images.py", "transformer_gan.py"))
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(autouse=True)
def _quiet(tmp_path, monkeypatch):
    """One torch thread, a temporary run store (and poll files), no job left running."""
    torch.set_num_threads(1)
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path / "runs"))
    yield
    manager = get_job_manager()
    for job in manager.jobs(active_only=True):
        job.stop()
        job.wait(60)


def _page(path: str, **params) -> AppTest:
    at = AppTest.from_file(path, default_timeout=300)
    for name, value in params.items():
        at.query_params[name] = str(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.info]
    parts += [e.value for e in at.success] + [e.value for e in at.warning]
    return "\n".join(str(p) for p in parts).replace("\u00a0", " ")


def _lock(at: AppTest, question: str, option: str) -> AppTest:
    at.radio(key=f"predict_{question}_before").set_value(option).run()
    at.button(key=f"predict_{question}_before_lock").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _demo_eval(name: str) -> dict:
    return json.loads((ROOT / "demos" / name / "status.json").read_text())["eval"]


def test_gan2d_says_what_it_trains_and_teaches_the_slide():
    at = _page(GAN2D)
    text = _text(at)
    # the default: the non-saturating loss and Adam, both marked as departures, the reasons below
    assert "**Trains:** non-saturating loss† · Adam† · k = 1" in text
    assert "Goodfellow et al. 2014, §3" in text and "SGD with momentum" in text
    assert at.selectbox(key="preset").options == ["vanilla: Adam, Gaussian z, nothing added",
                                                  "stabilised: clustered z, z + MLP(z), EMA of G"]
    # the slide's objective, its alternating training and the backpropagation-through-z question
    for words in ("L = J + J′", "block coordinate descent", "k = 1, the least expensive option",
                  "Can we backpropagate through z", "reparameterization"):
        assert words in text, words
    # the slide's recipe: minimax and SGD -> nothing marked
    at.radio(key="loss").set_value("minimax").run()
    at.selectbox(key="opt_d").set_value("sgd").run()
    at.selectbox(key="opt_g").set_value("sgd").run()
    assert "**Trains:** minimax (slide) loss · SGD + momentum · k = 1 · m = 64 — the slide's recipe." in _text(at)
    at.selectbox(key="preset").set_value("default").run()       # the noise stays the one picked: Gaussian
    assert "m = 256 · z + MLP(z)† · EMA of G†" in _text(at)


def test_gan_buttons_have_keyboard_shortcuts_named_in_their_help():
    at = _page(GAN2D)
    for key, action in (("_gan2d_play", "train"), ("_gan2d_pause", "pause"), ("_gan2d_step_d", "step_d"),
                        ("_gan2d_step_g", "step_g"), ("_gan2d_step_both", "step")):
        button = at.button(key=key)
        assert button.proto.shortcut.upper() == gt.SHORTCUTS[action] and gt.shortcut_help(action) in button.help, key
    at = _page(IMAGES)
    for key, action in (("_ganimg_train", "train"), ("_ganimg_pause", "pause"), ("_ganimg_stop", "stop")):
        assert at.button(key=key).proto.shortcut.upper() == gt.SHORTCUTS[action]


def test_gan2d_questions_answer_from_the_demos_and_the_run():
    at = _page(GAN2D)
    assert "Predict first." in _text(at)
    vanilla, stabilised = _demo_eval("gan-ring8-vanilla"), _demo_eval("gan-ring8")
    _lock(at, "gan2d-preset-modes", "stabilised")
    text = _text(at)
    assert f"vanilla demo covered **{vanilla['modes_covered']:g} of 8**" in text
    assert f"the stabilised one **{stabilised['modes_covered']:g} of 8**" in text
    held = stabilised["modes_covered"] > vanilla["modes_covered"]
    assert ("Your prediction held" in text) == held
    # the k question needs a run the page does not have: it says what to run
    _lock(at, "gan2d-more-d-steps", gt.D_STEPS_OPTIONS[0])
    assert "This question is about a run the page does not have yet" in _text(at)
    # only asked on ring8
    at = _page(GAN2D, data="grid25")
    assert "predict_gan2d-more-d-steps_before" not in [r.key for r in at.radio]


def test_gan2d_questions_hide_with_the_link():
    at = _page(GAN2D, hide="predict")
    assert "Predict first." not in _text(at) and not [r for r in at.radio if r.key.startswith("predict_")]


def test_images_loss_option_recipe_and_question():
    at = _page(IMAGES)
    select = at.selectbox(key="loss")
    assert select.options == ["minimax (slide)", "non-saturating", "least squares (LSGAN)"]
    text = _text(at)
    assert "non-saturating loss† · Adam† · k = 1 · m = 64 · lazy R1† · EMA of G† · lr decay†" in text
    assert "four** fractionally-strided convolutions" in text and "**two**" in text
    select.set_value("minimax").run()
    at.selectbox(key="preset").set_value("vanilla").run()
    text = _text(at)
    assert "minimax (slide) loss · Adam† · k = 1 · m = 64 — † departs" in text
    assert "R1†" not in text and "EMA of G†" not in text
    assert at.query_params["loss"] == "minimax"
    # the question: answered by the two shipped digit demos
    dcgan, cgan = _demo_eval("dcgan-digits"), _demo_eval("cgan-digits")
    _lock(at, "ganimg-conditional", gt.CONDITIONAL_OPTIONS[0])
    assert f"DCGAN **{dcgan['frechet_distance']:.1f}**, conditional GAN **{cgan['frechet_distance']:.1f}**" in _text(at)


@pytest.fixture
def tiny_race(tmp_path, monkeypatch):
    """A finished tiny race (dim 32, 1 block, 2 heads, 30 s as its budget) in an otherwise empty
    demo folder."""
    from genlab import demos
    from genlab.train.race import EqualTimeRace, build_race_trainers, race_configs, race_key

    configs = race_configs(4, 32, 1, 2, 0, True)
    race = EqualTimeRace(build_race_trainers(configs), 0.3, eval_every_s=0.3, sample_n=8)
    race.run()
    race.seconds = 30.0
    demos.install_race_demo(race, race_key(configs, 30.0), tmp_path / "demos")
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(tmp_path / "demos"))
    return race


def test_tgan_credits_loss_option_and_race_question(tiny_race):
    at = _page(TGAN, dim=32, depth=1, heads=2, seconds=30)
    text = _text(at)
    assert "not inherently a generative model" in text and "upsamples it in stages" in text
    assert "grid self-attention" in text and "like ViTGAN's, generates the image patch by patch" in text
    assert "**Both models train:** non-saturating loss† · Adam† · k = 1 · m = 64 · lazy R1†" in text
    assert "(γ = 4, on every 4th D update)" in text and "(γ = 1, on every 4th D update)" in text
    assert at.selectbox(key="loss").options[0] == "minimax (slide)"
    # the race view is covered until the student answers; the answer comes from the race shown
    assert "Answer the question above" in _text(at)
    _lock(at, "tgan-race", gt.RACE_OPTIONS[0])
    last = {name: [v for v in tiny_race.evals[name]["frechet_distance"] if v == v][-1] for name in ("tgan", "dcgan")}
    assert f"transformer GAN **{last['tgan']:.1f}**, DCGAN **{last['dcgan']:.1f}**" in _text(at)
    # the slide's loss is another race: none stored for it, so the question says what to run
    at.selectbox(key="loss").set_value("minimax").run()
    assert "Press **Train**" in _text(at) and at.query_params["loss"] == "minimax"
