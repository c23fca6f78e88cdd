"""The training history (issue 21): the frame schedule, RecordHistory in train_run for every model
family the CLI trains, the sizes of history.npz, resuming, and damaged files (a message naming the
run and the file; the run itself still loads and a zip with such a file is refused on import)."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch

from genlab.run_files import HISTORY_FILE, RunFileError
from genlab.run_history import History, history_bytes
from genlab.runs import Run, RunStore
from genlab.train import registry
from genlab.train.gan_config import DEFAULT_STEPS
from genlab.train.history import HISTORY_FRAMES, RecordHistory, frame_schedule, load_history, thin_frames
from genlab.train.recording import load_trainer, train_run

torch.set_num_threads(1)


def _train(store: RunStore, name: str, model: str, steps: int, history: bool = True, **options):
    dataset = "ring8" if model == "gan" else "digits"
    trainer = registry.build_trainer(model, dataset, {"steps": steps, **options}, device="cpu")
    run = store.create(name, trainer.config_dict())
    assert train_run(trainer, run, steps, history=history) == "finished"
    return run


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return RunStore(tmp_path_factory.mktemp("history-runs"))


@pytest.fixture(scope="module")
def gan_run(store):
    """A 2D GAN trained for 119 steps: every step is a frame, 120 in all (the default budget)."""
    return _train(store, "gan", "gan", HISTORY_FRAMES - 1)


# --------------------------------------------------------------------------- the schedule


@pytest.mark.parametrize("target", [DEFAULT_STEPS["gan"], DEFAULT_STEPS["dcgan"], 100 * 23, 300 * 23])
def test_a_default_run_gets_the_whole_budget_of_at_least_50_frames(target):
    steps = frame_schedule(target)
    assert len(steps) == HISTORY_FRAMES >= 50
    assert steps[0] == 0 and steps[-1] == target and (np.diff(steps) > 0).all()


def test_a_200000_step_run_keeps_the_same_frame_budget():
    long, default = frame_schedule(200_000), frame_schedule(DEFAULT_STEPS["gan"])
    assert len(long) == len(default) == HISTORY_FRAMES
    assert long[0] == 0 and long[-1] == 200_000 and (np.diff(long) > 0).all()


@pytest.mark.parametrize("target", [2_000, 6_000, 200_000])
def test_the_schedule_is_log_spaced_at_the_start_and_covers_the_whole_run(target):
    steps = frame_schedule(target)
    assert list(steps[:8]) == list(range(8))                       # every one of the first steps
    assert (steps <= target / 10).sum() >= len(steps) / 3          # a third of the frames in the first tenth
    gaps = np.diff(steps)
    assert gaps.max() <= 2 * target / (HISTORY_FRAMES // 2)         # the linear half: no long blind stretch
    assert np.median(gaps[: len(gaps) // 3]) < np.median(gaps[-len(gaps) // 3:])


@pytest.mark.parametrize("budget", [HISTORY_FRAMES, 64, 2])
def test_every_target_gets_its_frames_and_the_schedule_always_ends(budget):
    # Targets a little over the budget (120-180 steps for 120 frames) once looped forever: rounding
    # merged the dense early log points, so even one log point per step could not fill the budget.
    for target in range(0, 1001):
        steps = frame_schedule(target, budget)
        assert len(steps) == min(target + 1, budget), target
        assert steps[0] == 0 and steps[-1] == target and (np.diff(steps) > 0).all(), target


def test_a_short_run_records_every_step_and_thinning_keeps_the_ends():
    assert list(frame_schedule(10)) == list(range(11))
    keep = thin_frames(np.arange(301), HISTORY_FRAMES)
    assert len(keep) == HISTORY_FRAMES and keep[0] == 0 and keep[-1] == 300 and (np.diff(keep) > 0).all()
    assert len(thin_frames(np.arange(HISTORY_FRAMES + 1), HISTORY_FRAMES)) == HISTORY_FRAMES   # one extra: one dropped
    assert list(thin_frames(np.arange(2 * HISTORY_FRAMES), HISTORY_FRAMES)[:4]) == [0, 2, 4, 6]   # twice: every other


# --------------------------------------------------------------------------- recording


def test_a_2d_gan_run_records_its_timeline_compactly(gan_run):
    history = load_history(gan_run)
    assert history.kind == "gan2d" and list(history.steps) == list(range(HISTORY_FRAMES))
    assert history.arrays["fake"].shape == (HISTORY_FRAMES, 500, 2) and history.arrays["fake"].dtype == np.float16
    assert history.arrays["heatmap"].shape[1:] == (40, 40) and history.arrays["manifold"].shape[1:] == (15, 15, 2)
    assert not np.array_equal(history.arrays["fake"][0], history.arrays["fake"][-1])
    size = (gan_run.path / HISTORY_FILE).stat().st_size
    print(f"2D GAN history, {HISTORY_FRAMES} frames: {size / 1024:.0f} KB")
    assert size <= 1024 * 1024
    # each frame carries its step's metrics row (step 0: none yet)
    metrics = gan_run.read_metrics()
    frame = history.frame(50)
    assert frame["metrics"]["loss_d"] == pytest.approx(float(metrics.loc[metrics["step"] == 50, "loss_d"].iloc[0]), rel=1e-5)
    assert np.isnan(history.frame(0)["metrics"]["loss_d"])


def test_recording_the_history_does_not_change_the_training(store, gan_run):
    plain = _train(store, "gan-plain", "gan", HISTORY_FRAMES - 1, history=False)
    assert not (plain.path / HISTORY_FILE).exists()
    ours, theirs = gan_run.read_metrics(), plain.read_metrics()
    for column in ("loss_d", "loss_g", "d_real"):
        assert ours[column].tolist() == theirs[column].tolist()


@pytest.mark.parametrize("model, options, limit", [
    ("dcgan", {}, 2), ("cgan", {"disc": "patch"}, 2), ("vae", {"latent_dim": 2}, 2), ("ae", {"latent_dim": 8}, 2)])
def test_image_and_latent_runs_record_their_views_within_the_size_limit(store, model, options, limit):
    steps = HISTORY_FRAMES - 1 if model in ("dcgan", "vae") else 6
    run = _train(store, f"{model}-sizes", model, steps, **options)
    history = load_history(run)
    assert list(history.steps) == list(range(steps + 1))
    size = (run.path / HISTORY_FILE).stat().st_size
    print(f"{model} history, {len(history)} frames: {size / 1024:.0f} KB")
    assert size * HISTORY_FRAMES / len(history) <= limit * 1024 * 1024
    if model in ("dcgan", "cgan"):
        samples = history.arrays["samples"]
        assert samples.dtype == np.uint8 and samples.shape[2:] == (1, 8, 8)
        assert not np.array_equal(samples[0], samples[-1])
    if model == "cgan":   # one row per class, and PatchGAN's per-patch maps of fakes and real images
        assert int(history.arrays["nrow"]) == 8 and list(history.arrays["labels"][:9]) == [0] * 8 + [1]
        assert history.arrays["patch_fake"].shape[1:] == (6, 4, 4)
        assert history.arrays["patch_real_maps"].shape == history.arrays["patch_fake"].shape
    if model in ("vae", "ae"):
        codes = history.arrays["codes"]
        assert codes.shape[1:] == (360, options["latent_dim"]) and history.arrays["labels"].shape == (360,)
        assert history.arrays["decodes"].shape[1:] == (36, 1, 8, 8)
        assert not np.array_equal(codes[0], codes[-1])


def test_a_resumed_run_keeps_its_frames_up_to_the_checkpoint(store):
    trainer = registry.build_trainer("gan", "ring8", {"steps": 40}, device="cpu")
    run = store.create("gan-resumed", trainer.config_dict())
    assert train_run(trainer, run, 20, checkpoint_every=10) == "finished"
    assert list(load_history(run).steps) == list(range(21))
    again = registry.build_trainer("gan", "ring8", {"steps": 40}, device="cpu")
    assert train_run(again, run, 40, checkpoint_every=10) == "finished"
    assert again.step_count == 40
    assert list(load_history(run).steps) == list(range(41))


def test_a_history_kept_in_memory_for_a_page():
    trainer = registry.build_trainer("gan", "ring8", {"steps": 500}, device="cpu")
    recorder = RecordHistory(None, 500)
    trainer.fit(12, callbacks=[recorder])
    history = recorder.history
    assert list(history.steps) == list(range(13)) and recorder.save() == 0
    assert History(history.kind, history.steps, history.arrays).frame(3)["fake"].shape == (500, 2)


# --------------------------------------------------------------------------- damaged files


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _damages(good: bytes) -> dict[str, bytes]:
    arrays = dict(np.load(io.BytesIO(good)))
    swapped = dict(arrays, steps=arrays["steps"][::-1].copy())
    short = dict(arrays, fake=arrays["fake"][:3])
    pickled = io.BytesIO()
    with zipfile.ZipFile(pickled, "w") as archive:   # an object array: a pickle payload
        archive.writestr("steps.npy", _npy(np.array([object()], dtype=object)))
    huge = io.BytesIO()
    with zipfile.ZipFile(huge, "w", zipfile.ZIP_DEFLATED) as archive:   # a header claiming 8 GB
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**30,)})
        archive.writestr("fake.npy", header.getvalue() + b"\x00" * 1000)
    return {
        "garbage": b"not a zip at all",
        "truncated": good[: len(good) // 2],
        "steps-backwards": _npz(**swapped),
        "frames-missing": _npz(**short),
        "pickle": pickled.getvalue(),
        "huge-header": huge.getvalue(),
        "foreign-array": _npz(**arrays, secret=np.zeros(3)),
    }


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def test_a_damaged_history_gives_a_message_and_the_run_still_loads(store, gan_run):
    good = (gan_run.path / HISTORY_FILE).read_bytes()
    for case, data in _damages(good).items():
        run = store.create(f"damaged-{case}", gan_run.config)
        for name in ("checkpoint.pt", "metrics.csv", "status.json"):
            (run.path / name).write_bytes((gan_run.path / name).read_bytes())
        (run.path / HISTORY_FILE).write_bytes(data)
        with pytest.raises(RunFileError) as info:
            load_history(run)
        message = str(info.value)
        assert f"run 'damaged-{case}': {HISTORY_FILE}" in message and "Traceback" not in message, (case, message)
        assert Run(run.path).info().ok, case
        assert load_trainer(run).step_count == HISTORY_FRAMES - 1, case
        with pytest.raises(RunFileError, match=HISTORY_FILE):
            store.import_zip(run.export_zip(), f"imported-{case}")
        assert not store.exists(f"imported-{case}")


def test_a_run_zip_carries_its_history_and_the_import_checks_it(store, gan_run):
    data = gan_run.export_zip()
    assert HISTORY_FILE in zipfile.ZipFile(io.BytesIO(data)).namelist()
    copy = store.import_zip(data, "gan-imported")
    history = load_history(copy)
    assert len(history) == HISTORY_FRAMES and np.array_equal(history.arrays["fake"], load_history(gan_run).arrays["fake"])


def test_a_run_without_history_says_so():
    with pytest.raises(RunFileError, match="has no recorded history"):
        load_history(Run("/nonexistent/old-run"))


def test_history_bytes_round_trip(tmp_path):
    steps = np.array([0, 5, 9])
    history = History("latent", steps, {"codes": np.zeros((3, 4, 2), np.float16),
                                        "decodes": np.zeros((3, 2, 1, 8, 8), np.uint8)}, ("loss",),
                      np.ones((3, 1), np.float32))
    (tmp_path / HISTORY_FILE).write_bytes(history_bytes(history))
    back = load_history(tmp_path)
    assert back.kind == "latent" and list(back.steps) == [0, 5, 9] and back.index_at(7) == 1
    assert back.frame(2)["metrics"] == {"loss": 1.0}


def test_a_shipped_demo_keeps_a_lighter_history(store, gan_run):
    from genlab.train.history import DEMO_HISTORY_FRAMES, slim_history

    demo = store.create("gan-demo", gan_run.config)
    (demo.path / HISTORY_FILE).write_bytes((gan_run.path / HISTORY_FILE).read_bytes())
    full = (demo.path / HISTORY_FILE).stat().st_size
    size = slim_history(demo)
    history = load_history(demo)
    assert len(history) == DEMO_HISTORY_FRAMES and size < 0.7 * full
    assert history.steps[0] == 0 and history.steps[-1] == HISTORY_FRAMES - 1
    assert np.array_equal(history.arrays["fake"][1], load_history(gan_run).arrays["fake"][history.steps[1]])
