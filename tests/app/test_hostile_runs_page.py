"""The Runs page with a store full of runs handed in by others (issue 24): every run's view loads
without an exception, shows broken runs as broken (name and file), escapes every text that came
from a run, and keeps its Delete button; importing such zips says "Import failed: run ...".
"""
from __future__ import annotations

import re

import pytest

from tests.app.test_runs_page import demo_template, env, ok, one_thread, run_page, texts, tiny_run  # noqa: F401
from tests.hostile_runs import DEEP_JSON, EVIL, fill_store, hostile_files, zip_of

# an unescaped Markdown link or image, or a raw HTML tag, from a run
INJECTED = re.compile(r"(?<!\\)\]\((?!https://docs)|(?<!\\)<(a|img)\b|(?<!\\)!\[")


@pytest.fixture
def hostile(env, tmp_path):
    store, _ = env
    good = tiny_run(store, "zz-good")
    names = fill_store(store.root, good.path, tmp_path / "outside")
    return store, names


def _all_text(at) -> str:
    parts = [texts(at)] + [h.value for h in at.subheader]
    return "\n".join(parts)


def test_every_hostile_run_view_loads_escaped_and_deletable(hostile):
    store, names = hostile
    at = run_page()                                         # the first (a hostile) run is the default
    assert at.selectbox(key="run").value == f"run/{sorted(names)[0]}"
    for name in names:
        at = run_page({"run": f"run/{name}"})
        shown = _all_text(at)
        assert name in shown.replace("\\", ""), name
        assert not INJECTED.search(shown), (name, INJECTED.search(shown).group(0), shown[:2000])
        assert at.button(key="delete"), f"no Delete button for {name}"
    table = at.dataframe[0].value.set_index("run")
    for name, file in [("aa-target-steps-text", "status.json"), ("aa-eval-text", "status.json"),
                       ("aa-config-deep", "config.json"), ("aa-no-config", "config.json")]:
        assert table.loc[name, "status"].startswith(f"corrupt: run '{name}': {file}"), table.loc[name, "status"]
    assert table.loc["zz-good", "status"] == "finished"


def test_broken_samples_and_metrics_are_named_and_the_rest_of_the_run_shows(hostile):
    at = run_page({"run": "run/aa-samples-bomb"})
    assert "samples.png" in texts(at) and "pixels" in texts(at)
    at = run_page({"run": "run/aa-real-9000-png"})
    assert "9000 x 9000 pixels" in texts(at)
    at = run_page({"run": "run/aa-extra-deep"})
    assert "metrics.csv is corrupt" in texts(at) and "nested deeper than 32" in texts(at)
    at = run_page({"run": "run/aa-million-rows"})
    assert "1,000,000 rows" not in texts(at) and "draws every" in texts(at)   # thinned for the chart


@pytest.mark.parametrize("name", ["aa-no-config", "aa-symlink", "aa-config-deep"])
def test_broken_and_linked_runs_can_be_deleted_on_the_page(hostile, name, tmp_path):
    store, _ = hostile
    at = run_page({"run": f"run/{name}"})
    at.button(key="delete").click()
    ok(at)
    at.button(key="delete_yes").click()
    ok(at)
    assert "Deleted run" in texts(at) and name not in store.names()
    assert (tmp_path / "outside" / "config.json").is_file()          # the link's target is untouched


def test_hostile_zips_are_refused_on_the_page_naming_run_and_file(env):
    from tests.app.test_export import _upload

    store, _ = env
    good = tiny_run(store, "good")
    cases = hostile_files(good.path)
    for case in ("config-deep", "samples-bomb", "huge-model", "target-steps-text"):
        files, bad_file, needle = cases[case]
        at = run_page()
        _upload(at, f"{case}.zip", zip_of(files), name=f"imp-{case}")
        message = "\n".join(e.value for e in at.error).replace("\\", "")
        assert message.startswith(f"Import failed: run 'imp-{case}': {bad_file}"), message
        assert needle.replace("\\", "") in message, message
    injected = zip_of({"config.json": DEEP_JSON, f"[x]({EVIL}).txt": b"x"})
    at = run_page()
    _upload(at, "evil.zip", injected, name="evil")
    message = "\n".join(e.value for e in at.error)
    assert "not allowed" in message and not INJECTED.search(message), message
    assert store.names() == ["good"]


def test_resume_refuses_an_imported_config_over_the_model_cap(hostile):
    """hidden=4096, layers=16 built a 755M-parameter model (1.1 -> 3.97 GB) before failing."""
    from tests.app.test_runs_page import _wait_job

    store, _ = hostile
    store.open("aa-huge-model").set_status("stopped", step=12, target_steps=24)
    at = run_page({"run": "run/aa-huge-model"})
    at.button(key="resume").click()
    ok(at)
    job = _wait_job(at)
    assert job.status == "failed" and "parameters; this server allows at most 10,000,000" in str(job.error), job.error
    at = ok(at)
    message = "\n".join(e.value for e in at.error).replace("\\", "")
    assert "Resuming failed: run 'aa-huge-model': config.json cannot be trained or loaded here" in message, message
