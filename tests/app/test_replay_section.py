"""The replay section (issue 21 §2): a recorded run's timeline with the slider bound to ?t=, a
speed, the GIF download, and messages (never a traceback) for a missing or damaged history."""
from __future__ import annotations

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab.runs import RunStore
from genlab.train import registry
from genlab.train.recording import train_run

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    """A store with a 30-step 2D GAN run (every step a frame) and a copy whose history is damaged."""
    root = tmp_path_factory.mktemp("replay-runs")
    store = RunStore(root)
    trainer = registry.build_trainer("gan", "ring8", {"steps": 30}, device="cpu")
    run = store.create("ring", trainer.config_dict())
    assert train_run(trainer, run, 30) == "finished"
    damaged = store.create("damaged", trainer.config_dict())
    for name in ("config.json", "metrics.csv", "checkpoint.pt", "status.json"):
        (damaged.path / name).write_bytes((run.path / name).read_bytes())
    (damaged.path / "history.npz").write_bytes(b"PK\x03\x04 not a real archive")
    return root


def _replay_page():
    import os

    from dashboard import common
    from dashboard.replay_section import replay_section, run_source
    from genlab.runs import RunStore

    ctx = common.setup_page("Replay test")
    store = RunStore(os.environ["REPLAY_ROOT"])
    replay_section([run_source("A ring", store.open("ring"), "a 30-step run"),
                    run_source("Damaged", store.open("damaged"))],
                   palette=ctx.palette, metrics=("loss_d", "loss_g"))


def _page(root, **params) -> AppTest:
    import os

    os.environ["REPLAY_ROOT"] = str(root)
    at = AppTest.from_function(_replay_page, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if not params:                                        # drawn on demand: switch it on
        at.toggle(key="replay_on").set_value(True)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def _title(at: AppTest) -> str:
    """The step of the frame the timeline's picture opens at (its Plotly slider's active frame)."""
    import json

    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    return "step " + figure["frames"][figure["layout"]["sliders"][0]["active"]]["name"]


def test_the_timeline_opens_at_the_end_and_moves_with_the_slider(runs_root):
    at = _page(runs_root)
    slider = at.select_slider(key="timeline")
    assert slider.value == 30 and _title(at) == "step 30"
    slider.set_value(5)
    at.run()
    assert _title(at) == "step 5" and at.query_params["t"] in ("5", ["5"])
    assert any("Download as GIF" in b.proto.label for b in at.get("download_button"))


def test_a_link_with_t_opens_that_moment_and_a_bad_t_warns(runs_root):
    at = _page(runs_root, t="12")
    assert at.select_slider(key="timeline").value == 12 and _title(at) == "step 12"
    bad = _page(runs_root, t="soon")
    assert any("not a step number" in w.value for w in bad.warning)
    assert bad.select_slider(key="timeline").value == 30


def test_a_damaged_history_gives_a_message(runs_root):
    at = _page(runs_root)
    at.radio(key="replay").set_value("damaged")
    at.run()
    assert not at.exception
    assert any("cannot be shown" in w.value and "damaged" in w.value for w in at.warning)
