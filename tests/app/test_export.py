"""AppTest tests of exporting and importing runs, and of loading the shipped demos (issue 6).

The download buttons' bytes are read from the AppTest media file manager (the buttons build their
data lazily, when clicked): the metrics CSV parses, and the run zip imports into another run store
and loads as a trainer. Uploading zips: a good one is imported and selected; bad or malicious ones
(not a zip, a path outside the run folder, a pickled checkpoint, no config) give a clear message
and create nothing.
"""
from __future__ import annotations

import io
import pickle
import zipfile

import pandas as pd
import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.testing.v1 import AppTest

from genlab import demos
from genlab.runs import RunStore
from genlab.train.recording import load_trainer
from tests.app.test_runs_page import demo_template, env, ok, one_thread, run_page, texts, tiny_run  # noqa: F401


@pytest.fixture
def media(monkeypatch) -> list:
    """The MediaFileManager of every AppTest run in this test (to read download buttons' data)."""
    managers: list = []
    original = app_test_module.MediaFileManager

    def factory(storage):
        manager = original(storage)
        managers.append(manager)
        return manager

    monkeypatch.setattr(app_test_module, "MediaFileManager", factory)
    return managers


def download(managers: list, file_name: str) -> bytes:
    """The bytes the download button named ``file_name`` would send (from the latest run)."""
    for manager in reversed(managers):
        for entry in list(manager._deferred_callables.values()):
            if entry["filename"] == file_name:
                data = entry["callable"]()
                return data.encode() if isinstance(data, str) else data
    raise AssertionError(f"no download button for {file_name!r}")


def _upload(at: AppTest, file_name: str, data: bytes, name: str = "") -> AppTest:
    at.file_uploader(key="import_zip").set_value((file_name, data, "application/zip"))
    ok(at)
    at.text_input(key="import_name").set_value(name)
    ok(at)
    at.button(key="import").click()
    return ok(at)


def test_metrics_csv_and_run_zip_downloads(env, media, tmp_path):
    store, _ = env
    tiny_run(store, "exported", steps=12)
    at = run_page({"run": "run/exported"})
    labels = {b.key: b.label for b in at.download_button}
    assert labels == {"download_csv": "Metrics (CSV)", "download_zip": "Run (zip)"}
    frame = pd.read_csv(io.BytesIO(download(media, "exported-metrics.csv")))
    assert list(frame["step"]) == list(range(1, 13))
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= set(frame.columns)
    data = download(media, "exported.zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == sorted(["config.json", "metrics.csv", "checkpoint.pt", "samples.png",
                                                     "status.json", "history.npz"])
    # genlab loads the zip again: import into another store, rebuild the trainer
    other = RunStore(tmp_path / "elsewhere")
    run = other.import_zip(data, "again")
    trainer = load_trainer(run)
    assert trainer.step_count == 12 and tuple(trainer.sample(4, seed=0).shape) == (4, 2)


def test_demo_downloads_too(env, media):
    at = run_page({"run": "demo/gan-ring8"})
    frame = pd.read_csv(io.BytesIO(download(media, "gan-ring8-metrics.csv")))
    assert len(frame) == 12
    data = download(media, "gan-ring8.zip")
    assert zipfile.ZipFile(io.BytesIO(data)).read("config.json")
    assert at.download_button


def test_import_a_zip_selects_the_new_run(env, media):
    store, _ = env
    tiny_run(store, "source")
    at = run_page({"run": "run/source"})
    data = download(media, "source.zip")
    _upload(at, "my run.zip", data, name="")        # empty name: from the file name
    assert store.exists("my-run")
    assert at.selectbox(key="run").value == "run/my-run"
    assert "Imported run `my-run`" in texts(at)
    _upload(at, "x.zip", data, name="source")       # the name is taken
    assert "already exists" in texts(at) and "Import failed" in texts(at)
    _upload(at, "x.zip", data, name="../evil")      # a bad name
    assert "path separator" in texts(at)
    assert sorted(store.names()) == ["my-run", "source"]


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("case", ["not-a-zip", "path-traversal", "pickle-checkpoint", "no-config", "bad-config"])
def test_bad_or_malicious_zips_are_refused_with_a_message(env, case):
    store, _ = env
    good = tiny_run(store, "good")
    config = (good.path / "config.json").read_bytes()
    data = {
        "not-a-zip": b"this is not a zip file",
        "path-traversal": _zip({"config.json": config, "../../escape.txt": b"x"}),
        "pickle-checkpoint": _zip({"config.json": config, "checkpoint.pt": pickle.dumps(_Evil())}),
        "no-config": _zip({"metrics.csv": b"step\n1\n"}),
        "bad-config": _zip({"config.json": b"{\"hello\": 1}"}),
    }[case]
    at = run_page()
    _upload(at, f"{case}.zip", data, name="imported")
    message = "\n".join(e.value for e in at.error)
    assert message.startswith("Import failed:"), message
    expected = {"not-a-zip": "not a zip file", "path-traversal": "not allowed", "pickle-checkpoint": "checkpoint.pt",
                "no-config": "no config.json", "bad-config": "'model' and 'dataset'"}[case]
    assert expected in message
    assert store.names() == ["good"]
    assert not (store.root.parent / "escape.txt").exists()
    assert not [p for p in store.root.iterdir() if p.name.startswith(".import")]


def _demo_page():
    """A page that loads a trained model the way docs/ARCHITECTURE.md ("Demos") tells pages to."""
    import streamlit as st

    from genlab import demos as d
    from genlab.runs import RunStore as Store
    from genlab.train.registry import build_config

    config = build_config("gan", "ring8", {"seed": 0, "steps": int(st.query_params.get("steps", "12"))})
    run, source = d.resolve_run(config, Store())
    st.markdown(d.source_message(run, source, config))
    if source == "demo":
        trainer = d.load_demo_trainer(run.name)
        st.metric("step", trainer.step_count)
        st.metric("samples", len(trainer.sample(16, seed=0)))


def test_demo_loading_in_a_page(env):
    store, _ = env
    at = AppTest.from_function(_demo_page, default_timeout=60)
    ok(at)
    assert "shipped demo run" in at.markdown[0].value and "python -m genlab demos" in at.markdown[0].value
    assert "differs" not in at.markdown[0].value
    assert [m.value for m in at.metric] == ["12", "16"]
    at.query_params["steps"] = "500"   # other run length: the demo still serves, and says so
    ok(at)
    assert "run length differs" in at.markdown[0].value
    demos.copy_demo("gan-ring8", store, "mine")   # the user's own run wins
    at.query_params["steps"] = "12"
    ok(at)
    assert "your stored run `mine`" in at.markdown[0].value and not at.metric
