"""``python -m genlab replay`` (issue 21, export): an animated GIF of a run's history whose pictures
change from frame to frame, the step written on each frame, and one-line errors (exit 2) for bad
arguments."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from genlab import cli
from genlab.errors import GenlabError
from genlab.replay import CAPTION, frame_image, history_gif, replay_gif, write_replay
from genlab.run_files import HISTORY_FILE
from genlab.run_history import History
from genlab.runs import RunStore
from genlab.train import registry
from genlab.train.history import load_history
from genlab.train.recording import train_run

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny runs of the three kinds: every step a frame (25 frames each), the cGAN with PatchGAN."""
    store = RunStore(tmp_path_factory.mktemp("replay-runs"))
    out = {}
    for name, model, dataset, options in (("gan", "gan", "ring8", {}), ("cgan", "cgan", "digits", {"disc": "patch"}),
                                          ("vae", "vae", "digits", {"latent_dim": 2})):
        trainer = registry.build_trainer(model, dataset, {"steps": 24, **options}, device="cpu")
        run = store.create(name, trainer.config_dict())
        assert train_run(trainer, run, 24) == "finished"
        out[name] = run
    trainer = registry.build_trainer("gan", "ring8", {"steps": 3}, device="cpu")
    old = store.create("old", trainer.config_dict())
    train_run(trainer, old, 3, history=False)
    out["old"] = old
    return out


def _frames(data: bytes) -> list[np.ndarray]:
    frames = []
    with Image.open(io.BytesIO(data)) as image:
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
    return frames


@pytest.mark.parametrize("kind", ["gan", "cgan", "vae"])
def test_the_gif_has_a_frame_per_recorded_step_and_its_pictures_change(runs, kind):
    data = replay_gif(runs[kind], fps=10)
    frames = _frames(data)
    assert len(frames) == len(load_history(runs[kind])) == 25
    pictures = [frame[CAPTION:] for frame in frames]
    changed = sum(not np.array_equal(a, b) for a, b in zip(pictures, pictures[1:]))
    assert changed >= 20, changed                                     # the picture, not only the label
    assert not np.array_equal(pictures[0], pictures[-1])
    with Image.open(io.BytesIO(data)) as image:
        assert image.info.get("loop") == 0 and image.info.get("duration") == 100


def test_every_keeps_every_kth_frame_and_the_last(runs):
    assert len(_frames(replay_gif(runs["gan"], every=5))) == 6       # steps 0, 5, 10, 15, 20 and 24


def test_the_step_is_written_on_each_frame(runs):
    """Two frames with the same picture and different steps differ only in the caption strip."""
    history = load_history(runs["gan"])
    same = History(history.kind, np.array([3, 400]), {
        name: np.stack([value[3], value[3]]) if value.shape[:1] == (len(history),) else value
        for name, value in history.arrays.items()})
    first, second = (np.asarray(frame_image(same, i)) for i in (0, 1))
    assert np.array_equal(first[CAPTION:], second[CAPTION:])
    assert not np.array_equal(first[:CAPTION], second[:CAPTION])
    assert (first[:CAPTION] < 100).any()                               # dark text on the white strip


def test_the_cli_writes_the_gif(runs, tmp_path, capsys):
    out = tmp_path / "a.gif"
    assert cli.main(["replay", str(runs["vae"].path), "--out", str(out), "--fps", "20", "--every", "2"]) == 0
    assert len(_frames(out.read_bytes())) == 13
    assert "13 frames" in capsys.readouterr().err


@pytest.mark.parametrize("args, says", [
    (["missing-run"], "does not exist"),
    (["OLD"], "has no recorded history"),
    (["GAN", "--fps", "0"], "--fps must be > 0"),
    (["GAN", "--fps", "-3"], "--fps must be > 0"),
    (["GAN", "--fps", "nan"], "--fps must be > 0"),
    (["GAN", "--every", "0"], "--every must be a whole number"),
    (["GAN", "--out-name", "a.png"], "must be a .gif file name"),
    (["GAN", "--out-name", "no/such/folder/a.gif"], "does not exist"),
])
def test_bad_arguments_get_one_line_and_exit_2(runs, tmp_path, capsys, args, says):
    run = {"GAN": str(runs["gan"].path), "OLD": str(runs["old"].path)}.get(args[0], str(tmp_path / args[0]))
    out = str(tmp_path / "a.gif")
    rest = list(args[1:])
    if rest[:1] == ["--out-name"]:
        out, rest = str(tmp_path / rest[1]), rest[2:]
    assert cli.main(["replay", run, "--out", out, *rest]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not list(tmp_path.glob("*.gif")) and not list(tmp_path.glob(".*.tmp"))


def test_a_damaged_history_is_refused_with_its_message(runs, tmp_path):
    run = runs["gan"]
    good = (run.path / HISTORY_FILE).read_bytes()
    try:
        (run.path / HISTORY_FILE).write_bytes(good[:100])
        with pytest.raises(GenlabError, match=f"run 'gan': {HISTORY_FILE} is damaged"):
            write_replay(run, tmp_path / "a.gif")
    finally:
        (run.path / HISTORY_FILE).write_bytes(good)


def test_history_gif_refuses_bad_options(runs):
    history = load_history(runs["gan"])
    for fps, every in ((0, 1), (51, 1), (10, 0), (10, 1.5)):
        with pytest.raises(GenlabError):
            history_gif(history, fps=fps, every=every)


def test_diverged_and_one_dimensional_histories_still_draw():
    """NaN / huge fakes (a diverged GAN), NaN heatmaps, and codes of K = 1 draw without errors."""
    rng = np.random.default_rng(0)
    fake = rng.normal(size=(3, 50, 2)).astype(np.float16)
    fake[1, :10] = np.nan
    fake[2, :10] = 6e4
    heat = rng.random((3, 8, 8)).astype(np.float16)
    heat[1] = np.nan
    plane = History("gan2d", np.array([0, 1, 2]), {
        "fake": fake, "heatmap": heat, "manifold": rng.normal(size=(3, 4, 4, 2)).astype(np.float16),
        "real": rng.normal(size=(20, 2)).astype(np.float16), "extent": np.array([-3, 3, -3, 3], np.float32)})
    latent = History("latent", np.array([0, 4]), {
        "codes": rng.normal(size=(2, 30, 1)).astype(np.float16), "labels": np.arange(30) % 10,
        "decodes": rng.integers(0, 255, size=(2, 4, 1, 8, 8), dtype=np.uint8)})
    for history in (plane, latent):
        frames = _frames(history_gif(history, "test"))
        assert len(frames) == len(history) and not np.array_equal(frames[0][CAPTION:], frames[-1][CAPTION:])
