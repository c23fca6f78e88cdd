"""The equal-time race's timelines (issue 21): each model's history recorded at the same training
times through the fit seam, saved into its race run, read back by load_race, joined side by side
(genlab.train.race_history.race_timeline) and replayed as a GIF."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.errors import GenlabError
from genlab.run_files import HISTORY_FILE
from genlab.runs import RunStore
from genlab.train.race import EqualTimeRace, load_race, race_key, save_race
from genlab.train.race_history import GAP_VALUE, frame_seconds, race_timeline
from genlab.train.transformer_gan import TransformerGANTrainer, tgan_configs

torch.set_num_threads(1)

TINY = {"dim": 16, "heads": 2, "depth_g": 1, "depth_d": 1, "noise_dim": 8, "batch_size": 16}


@pytest.fixture(scope="module")
def finished_race():
    from genlab.train.gan import GANTrainer, gan_configs

    tgan = TransformerGANTrainer("digits", *tgan_configs(**TINY))
    dcgan = GANTrainer("dcgan", "digits", *gan_configs("dcgan", channels=4, noise_dim=8, batch_size=16))
    race = EqualTimeRace({"tgan": tgan, "dcgan": dcgan}, 0.5, eval_every_s=0.5, sample_n=4)
    assert race.run() == "finished"
    return race


def test_race_records_each_models_history_at_the_same_training_times(finished_race):
    histories = finished_race.histories()
    for name, trainer in finished_race.trainers.items():
        history = histories[name]
        assert history is not None and history.kind == "image" and len(history) >= min(trainer.step_count + 1, 5)
        assert history.steps[0] == 0 and history.steps[-1] == trainer.step_count
        assert history.arrays["samples"].shape[1:] == (64, 1, 8, 8)       # the fixed-noise 8 x 8 grid
        assert {"loss_d", "loss_g", "wall_time"} <= set(history.metric_names)
        seconds = frame_seconds(history)
        assert seconds[0] == 0 and seconds[-1] == pytest.approx(trainer.elapsed_seconds, abs=1e-3)
        # planned in training time (every 0.01 s of this 0.5 s race): nothing between step 0 and the first plan
        assert np.all(np.diff(seconds) >= 0) and seconds[1] >= 0.01
    assert not np.array_equal(histories["tgan"].arrays["samples"][0], histories["tgan"].arrays["samples"][-1])


def test_race_timeline_puts_both_grids_side_by_side_at_the_same_time(finished_race):
    histories = finished_race.histories()
    joined = race_timeline(histories)
    assert joined.kind == "image" and np.array_equal(joined.steps, histories["tgan"].steps)
    assert int(joined.arrays["nrow"]) == 17 and joined.arrays["samples"].shape[1:] == (8 * 17, 1, 8, 8)
    last = joined.frame(len(joined) - 1)
    assert np.all(last["samples"][8] == GAP_VALUE)                       # the grey column between the models
    assert np.array_equal(last["samples"][9:17], histories["dcgan"].arrays["samples"][-1][:8])
    assert last["metrics"]["dcgan step"] == finished_race.trainers["dcgan"].step_count
    tgan_times, dcgan_times = frame_seconds(histories["tgan"]), frame_seconds(histories["dcgan"])
    picked = np.searchsorted(histories["dcgan"].steps, joined.metrics[:, 2])
    # each frame's DCGAN grid is DCGAN's recording nearest in training time
    gaps = np.abs(dcgan_times[picked] - tgan_times)
    assert gaps.max() <= max(np.diff(tgan_times).max(), np.diff(dcgan_times).max())
    only = race_timeline({"tgan": histories["tgan"]})
    assert int(only.arrays["nrow"]) == 8 and only.arrays["samples"].shape[1] == 64
    with pytest.raises(GenlabError, match="at least one"):
        race_timeline({})


def test_save_race_writes_each_history_and_load_race_reads_it(finished_race, tmp_path):
    from genlab.replay import write_replay

    store = RunStore(tmp_path / "runs")
    configs = {name: t.config_dict() for name, t in finished_race.trainers.items()}
    key = race_key(configs, finished_race.seconds)
    names = save_race(finished_race, store, key)
    for run_name in names.values():
        path = store.open(run_name).path / HISTORY_FILE
        assert 0 < path.stat().st_size <= 2 * 2**20
    loaded = load_race(store, key)
    assert loaded.history_problem == ""
    for name, history in loaded.histories().items():
        assert np.array_equal(history.steps, finished_race.histories()[name].steps)
    # python -m genlab replay on either race run: the race, both grids side by side, one frame per TGAN frame
    from genlab.race_timeline import race_replay_history

    joined, title = race_replay_history(store.open(names["dcgan"]).path, names["dcgan"])
    assert title == "TGAN left, DCGAN right" and int(joined.arrays["nrow"]) == 17
    frames, size = write_replay(store.open(names["dcgan"]).path, tmp_path / "race.gif")
    assert frames == len(finished_race.histories()["tgan"]) and size > 0
    # a race stored before histories were recorded still loads, and says why it has no timeline
    for run_name in names.values():
        (store.open(run_name).path / HISTORY_FILE).unlink()
    old = load_race(store, key)
    assert old is not None and old.histories() == {"tgan": None, "dcgan": None}
    assert "before genlab recorded training timelines" in old.history_problem
    (store.open(names["dcgan"]).path / HISTORY_FILE).write_bytes(b"not a zip")
    damaged = load_race(store, key)
    assert damaged is not None and "damaged" in damaged.history_problem
