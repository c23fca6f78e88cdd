"""Runs handed in by others (issue 24): zips that cost more than they weigh, files of the wrong
type, deep JSON, huge models and pictures, symlinked runs, leftovers of killed writers.

Every case is built here (tests/hostile_runs.py), imported as a zip (refused with a message naming
the run and the file, nothing written) and put into a store as a folder (listed or read as broken,
the other runs unaffected, deletable).
"""
from __future__ import annotations

import json
import os
import time
import zipfile

import numpy as np
import pytest
import torch

from genlab import limits, run_import, run_metrics
from genlab.errors import GenlabError
from genlab.run_files import RunFileError, check_samples_png, parse_json_bounded, remove_temp_files
from genlab.runs import RunStore
from genlab.train.recording import load_trainer, train_run
from genlab.train.registry import build_trainer
from tests.hostile_runs import DEEP_JSON, hostile_files, png_header_only, zip_of

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """A finished 12-step 2D GAN run (config, metrics, checkpoint, samples, status)."""
    store = RunStore(tmp_path_factory.mktemp("good") / "runs")
    trainer = build_trainer("gan", "ring8", {"seed": 0, "steps": 12})
    run = store.create("good", trainer.config_dict())
    train_run(trainer, run, 12, checkpoint_every=5)
    return run


@pytest.fixture
def store(tmp_path, good_run):
    """A store holding a copy of the good run."""
    import shutil

    store = RunStore(tmp_path / "runs")
    store.root.mkdir()
    shutil.copytree(good_run.path, store.root / "good")
    return store


def _files(run) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in run.path.iterdir() if p.is_file()}


def _nothing_left(store: RunStore) -> bool:
    return [p.name for p in store.root.iterdir()] == ["good"]


# --------------------------------------------------------------------------- item 1: tiny zip, big cost


def test_a_metrics_zip_bomb_is_refused_from_the_zip_directory(store):
    metrics = b"step\n" + b"1\n" * (32 * 2**20 - 3)                 # 64 MB, the per-file limit
    data = zip_of({**_files(store.open("good")), "metrics.csv": metrics})
    assert len(zip_of({"metrics.csv": metrics})) < 100_000                # the "66 KB"
    start = time.perf_counter()
    with pytest.raises(GenlabError) as info:
        store.import_zip(data, "bomb")
    seconds = time.perf_counter() - start
    message = str(info.value)
    assert "run 'bomb'" in message and "metrics.csv" in message and "compressed" in message, message
    assert seconds < 2.0, seconds                                   # was 83.5 s and 8.45 GB
    assert _nothing_left(store)


def test_metrics_over_the_row_cap_are_refused_on_import_and_thinned_on_read(store, monkeypatch):
    monkeypatch.setattr(run_metrics, "MAX_METRICS_ROWS", 1000)
    rows = np.random.default_rng(0).random((2500, 3))
    text = "step,loss,other,extra\n" + "".join(f"{i + 1},{float(a)!r},{float(b)!r},\n" for i, (_, a, b) in enumerate(rows))
    data = zip_of({**_files(store.open("good")), "metrics.csv": text.encode()})
    with pytest.raises(RunFileError, match=r"run 'long': metrics.csv has 2,500 rows; at most 1,000"):
        store.import_zip(data, "long")
    assert _nothing_left(store)
    store.open("good").metrics_path.write_text(text)
    frame = store.open("good").read_metrics()
    assert 500 <= len(frame) <= 1000 and frame["step"].iloc[0] == 1 and frame["step"].iloc[-1] == 2500


def test_zip_directory_limits_entries_total_size_and_lying_sizes(store, monkeypatch):
    files = _files(store.open("good"))
    too_many = io_zip_with_duplicates(files, extra=2)
    with pytest.raises(GenlabError, match="entries; a run has at most 6"):
        store.import_zip(too_many, "many")
    monkeypatch.setattr(run_import, "MAX_IMPORT_TOTAL_BYTES", 10_000)
    with pytest.raises(GenlabError, match=r"run 'total': the zip's files are too large together"):
        store.import_zip(zip_of(files), "total")
    assert _nothing_left(store)


def io_zip_with_duplicates(files: dict[str, bytes], extra: int) -> bytes:
    import io
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in files.items():
                archive.writestr(name, data)
            for _ in range(extra):
                archive.writestr("status.json", files["status.json"])
    return buffer.getvalue()


def test_a_200000_step_2d_gan_run_exports_and_imports_within_the_limits(store, tmp_path):
    """One metrics row per step, with a real 2D GAN's columns and full-precision floats."""
    run = store.open("good")
    header = run.metrics_path.read_text().split("\n", 1)[0]
    columns = header.split(",")
    rng = np.random.default_rng(0)
    values = rng.random((200_000, len(columns)))
    with open(run.metrics_path, "w") as handle:
        handle.write(header + "\n")
        for step, row in enumerate(values, start=1):
            cells = [str(step) if c == "step" else "both" if c == "phase" else "" if c in ("changed", "extra")
                     else repr(float(v)) for c, v in zip(columns, row)]
            handle.write(",".join(cells) + "\n")
    size = run.metrics_path.stat().st_size
    assert size <= limits.IMPORT_FILE_LIMITS["metrics.csv"]
    start = time.perf_counter()
    data = run.export_zip()
    copy = RunStore(tmp_path / "other").import_zip(data, "long-gan")
    seconds = time.perf_counter() - start
    frame = copy.read_metrics()
    assert len(frame) == 200_000 and frame["step"].iloc[-1] == 200_000
    assert frame["loss_d"].to_numpy() == pytest.approx(values[:, columns.index("loss_d")])
    assert load_trainer(copy).step_count == 12
    print(f"200,000-row 2D GAN run: metrics {size / 2**20:.1f} MB, zip {len(data) / 2**20:.1f} MB, "
          f"export + import {seconds:.1f} s")


# --------------------------------------------------------------------------- items 2, 4, 5: every file checked


CASES = ["target-steps-text", "eval-text", "samples-random", "samples-bomb", "samples-9000", "config-deep",
         "status-deep", "extra-deep", "metrics-binary", "huge-model", "checkpoint-garbage"]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_file_is_refused_on_import_with_the_run_and_file_named(store, good_run, case):
    files, bad_file, needle = hostile_files(good_run.path)[case]
    with pytest.raises(GenlabError) as info:
        store.import_zip(zip_of(files), "handed-in")
    message = str(info.value)
    assert "run 'handed-in'" in message and bad_file in message and needle in message, message
    assert ".import-" not in message and "\n" not in message
    assert _nothing_left(store)


@pytest.mark.parametrize("case", CASES)
def test_a_bad_file_in_the_store_is_caught_on_read_and_the_run_can_be_deleted(store, good_run, case):
    files, bad_file, needle = hostile_files(good_run.path)[case]
    folder = store.root / "aa-bad"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    infos = {i.name: i for i in store.list()}
    assert infos["good"].status == "finished"
    run = store.open("aa-bad")
    if bad_file in ("config.json", "status.json") and case != "huge-model":
        assert infos["aa-bad"].status.startswith("corrupt: run 'aa-bad': " + bad_file) and needle in infos["aa-bad"].status
    elif bad_file == "samples.png":
        with pytest.raises(RunFileError, match=needle):
            check_samples_png(folder / "samples.png", "aa-bad")
    elif bad_file == "metrics.csv":
        with pytest.raises(RunFileError, match=needle):
            run.read_metrics()
    else:   # the checkpoint, or a model over the cap: refused before anything is built
        with pytest.raises(GenlabError, match=needle):
            load_trainer(run)
    store.delete("aa-bad")
    assert store.names() == ["good"] and len(store.open("good").read_metrics()) == 12


def test_model_size_cap_counts_without_building(good_run):
    config = json.loads((good_run.path / "config.json").read_text())
    assert limits.count_parameters(config) < 200_000
    huge = {**config, "model_config": {**config["model_config"], "hidden": 4096, "layers": 16}}
    start = time.perf_counter()
    with pytest.raises(GenlabError, match=r"parameters; this server allows at most 10,000,000"):
        limits.check_model_size(huge)
    assert time.perf_counter() - start < 1.0
    assert limits.count_parameters({"model": "something-else", "dataset": "x"}) is None


def test_images_over_the_pixel_cap_are_refused_before_decoding(tmp_path):
    path = tmp_path / "samples.png"
    path.write_bytes(png_header_only(100, 100))
    assert check_samples_png(path, "r") == (100, 100)
    path.write_bytes(png_header_only(2001, 2000))
    with pytest.raises(RunFileError, match="2001 x 2000 pixels; at most 4,000,000"):
        check_samples_png(path, "r")


def test_deep_json_gives_a_message_not_a_recursion_error():
    with pytest.raises(ValueError, match="nested deeper than 32"):
        parse_json_bounded(DEEP_JSON)
    with pytest.raises(ValueError, match="nested deeper than 32"):
        parse_json_bounded("[" * 100 + "]" * 100)
    assert parse_json_bounded('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}


# --------------------------------------------------------------------------- item 7: smaller


def test_deleting_a_symlinked_run_removes_only_the_link(store, tmp_path):
    outside = tmp_path / "elsewhere"
    import shutil

    shutil.copytree(store.open("good").path, outside)
    (store.root / "linked").symlink_to(outside, target_is_directory=True)
    assert "linked" in store.names()
    store.delete("linked")
    assert not (store.root / "linked").exists() and (outside / "config.json").is_file()
    (store.root / "dangling").symlink_to(tmp_path / "missing", target_is_directory=True)
    assert "dangling" not in store.names()
    store.delete("dangling")
    assert not (store.root / "dangling").is_symlink()
    with pytest.raises(GenlabError, match="no run 'gone'"):
        store.delete("gone")


def test_stale_temp_files_of_killed_writers_are_removed(store):
    run = store.open("good")
    stale = run.path / ".checkpoint.pt.k9x1.tmp"
    fresh = run.path / ".checkpoint.pt.live.tmp"
    foreign = run.path / ".notes.tmp"
    for path in (stale, fresh, foreign):
        path.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    store.list()
    assert not stale.exists() and fresh.exists() and foreign.exists()
    assert remove_temp_files(run.path, older_than=None) == [fresh.name]
    assert foreign.exists()
