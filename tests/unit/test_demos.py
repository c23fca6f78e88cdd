"""genlab.demos: the shipped demo runs (specs, building with the CLI, slimming, matching, loading).

Tiny demos (tens of steps) are built into a temporary folder; the real shipped demos in demos/
are checked for presence, size, loading and agreement with the current defaults.
"""
from __future__ import annotations

import csv
import io
import json
import os

import pytest
import torch

from genlab import demos
from genlab.cli import build_parser, main
from genlab.demos import DemoSpec
from genlab.errors import GenlabError
from genlab.runs import Run, RunStore, config_hash
from genlab.train.recording import load_trainer, train_run
from genlab.train.registry import build_config, build_trainer

TINY_GAN = DemoSpec("gan-ring8", "gan", "ring8", {"seed": 0, "steps": 20}, "gan_2d.py", "tiny")
TINY_AE = DemoSpec("ae-digits-k2", "ae", "digits", {"latent_dim": 2, "epochs": 1, "seed": 0}, "latent_spaces.py", "tiny")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demos")
    for spec in (TINY_GAN, TINY_AE):
        demos.build_demo(spec, root, log=lambda text: None)
    return root


def _spec(name: str) -> DemoSpec:
    return demos.SPECS_BY_NAME[name]


# --------------------------------------------------------------------------- specs


def _fingerprint(model: str, dataset: str, **options) -> str:
    from genlab.train.registry import build_trainer

    return demos.trainer_fingerprint(build_trainer(model, dataset, options, device="cpu"))


def test_fingerprint_is_what_the_model_is_not_its_source_text(monkeypatch):
    """The fingerprint follows the recipe version, the default config and the networks' shapes;
    the source bytes (comments, refactors) do not enter it."""
    from genlab.models import gan as gan_models
    from genlab.train.gan import GANTrainer

    base = _fingerprint("gan", "ring8", seed=0)
    assert len(base) == 16
    assert _fingerprint("gan", "ring8", seed=1) == base            # a seed is no architecture
    assert _fingerprint("gan", "ring8", seed=0, noise_dim=4) != base  # another noise size: other shapes
    assert _fingerprint("ae", "digits") != _fingerprint("vae", "digits") != base
    monkeypatch.setattr(GANTrainer, "recipe_version", GANTrainer.recipe_version + 1)
    assert _fingerprint("gan", "ring8", seed=0) != base            # bumped by hand: a new recipe
    monkeypatch.undo()
    # an architecture change the config does not show (one more layer) changes it too
    original = gan_models.Generator2D.__init__

    def one_more_layer(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.extra = torch.nn.Linear(2, 2)

    monkeypatch.setattr(gan_models.Generator2D, "__init__", one_more_layer)
    assert _fingerprint("gan", "ring8", seed=0) != base


def test_a_comment_in_the_model_code_leaves_every_demo_ok(tmp_path):
    """Issue 19: appending a comment to gan.py / autoencoder.py / dcgan.py keeps `demos --list` all ok
    (checked in a subprocess on copies of the sources, so the working tree is never touched)."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "repo"
    shutil.copytree(demos.REPO_ROOT / "genlab", copy / "genlab", ignore=shutil.ignore_patterns("__pycache__"))
    for relative in ("genlab/train/gan.py", "genlab/models/autoencoder.py", "genlab/models/dcgan.py"):
        with open(copy / relative, "a", encoding="utf-8") as handle:
            handle.write("\n# a comment added by test_a_comment_in_the_model_code_leaves_every_demo_ok\n")
    script = ("from genlab import demos; from genlab.demos import TRAIN_SPECS; "
              "print({spec.name: demos.demo_state(spec) for spec in TRAIN_SPECS})")
    env = {**os.environ, "GENLAB_DEMOS_DIR": str(demos.DEMO_DIR), "PYTHONPATH": str(copy)}
    output = subprocess.run([sys.executable, "-c", script], cwd=copy, env=env, capture_output=True,
                            text=True, timeout=240, check=True).stdout
    states = eval(output.strip().splitlines()[-1])  # noqa: S307 - our own dict literal
    assert set(states.values()) == {"ok"}, states


def test_specs_cover_the_page_defaults_and_parse_as_cli_commands():
    names = [s.name for s in demos.DEMO_SPECS]
    assert len(names) == len(set(names))
    assert {"ae-digits-k2", "vae-digits-k2", "vae-digits-k8", "gan-ring8", "gan-grid25", "gan-ring8-vanilla",
            "dcgan-digits", "cgan-digits", "tgan-race"} == set(names)
    assert [s.name for s in demos.TRAIN_SPECS] == names[:-1]
    parser = build_parser()
    for spec in demos.TRAIN_SPECS:
        args = parser.parse_args(spec.argv(f"demos/{spec.name}"))
        assert (args.command, args.model, args.out, args.device) == ("train", spec.model, f"demos/{spec.name}", "cpu")
        assert spec.command().startswith(f"python -m genlab train {spec.model} --dataset {spec.dataset}")
        assert f"--out demos/{spec.name}" in spec.command()
    assert "--preset vanilla" in _spec("gan-ring8-vanilla").command()
    assert "--latent-dim 8" in _spec("vae-digits-k8").command()


def test_spec_configs_equal_the_page_configs():
    """The latent page and the image GAN page build exactly the config of their demo (same hash),
    so find_demo finds it by hash; the 2D page's default (vanilla) matches apart from run length."""
    latent_jobs = pytest.importorskip("dashboard.latent_jobs")
    gan_jobs = pytest.importorskip("dashboard.gan_jobs")
    pairs = {
        "ae-digits-k2": latent_jobs.autoencoder_config("ae", "digits", 2, 1.0, 100, 1, 0),
        "vae-digits-k2": latent_jobs.autoencoder_config("vae", "digits", 2, 1.0, 100, 1, 0),
        "vae-digits-k8": latent_jobs.autoencoder_config("vae", "digits", 8, 1.0, 100, 1, 0),
        "dcgan-digits": gan_jobs.image_config("dcgan", "digits", preset="default", disc="standard",
                                              loss="non-saturating", noise_dim=32, steps=6000, seed=0),
        "cgan-digits": gan_jobs.image_config("cgan", "digits", preset="default", disc="standard",
                                             loss="non-saturating", noise_dim=32, steps=6000, seed=0),
    }
    for name, page_config in pairs.items():
        mine = demos.complete_config(_spec(name).build_config())
        theirs = demos.complete_config(page_config)
        assert mine == theirs, name
    from dataclasses import asdict

    from genlab.train.gan import gan_configs

    model_config, train_config = gan_configs("gan", "vanilla", **gan_jobs.gan2d_overrides(
        width=128, layers=3, noise_dim=2, noise="gaussian", seed=0, lr_d=1e-3, lr_g=1e-3, k_disc=1,
        loss="non-saturating", optimizer_d="adam", optimizer_g="adam"))
    page_2d = {"model": "gan", "dataset": "ring8", "model_config": asdict(model_config),
               "train_config": asdict(train_config)}
    assert demos._settings_key(demos.complete_config(page_2d)) == \
        demos._settings_key(demos.complete_config(_spec("gan-ring8-vanilla").build_config()))


# --------------------------------------------------------------------------- building


def test_built_demo_is_slim_loads_and_samples(demo_root):
    run = demos.open_demo("gan-ring8", demo_root)
    payload = torch.load(run.checkpoint_path, weights_only=True)
    state = payload["state"]
    weights = list(state["generator"].values())
    assert all(t.dtype == torch.float16 for t in weights if t.is_floating_point())
    assert state["optimizer_d"]["state"] == {} and state["optimizer_d"]["param_groups"]
    status = run.read_status_file()
    assert status["status"] == "finished" and status["step"] == 20
    assert status["pid"] is None and status["host"] is None
    assert "modes_covered" in status["eval"]
    trainer = demos.load_demo_trainer("gan-ring8", root=demo_root)
    assert trainer.step_count == 20
    assert trainer.generator.state_dict()[next(iter(trainer.generator.state_dict()))].dtype == torch.float32
    assert tuple(trainer.sample(5, seed=0).shape) == (5, 2)
    ae = demos.load_demo_trainer("ae-digits-k2", root=demo_root)
    assert tuple(ae.encode(ae.test_images[:3]).shape) == (3, 2)
    assert not (demo_root / demos.BUILD_DIR_NAME).exists()
    index = (demo_root / "README.md").read_text() if (demo_root / "README.md").exists() else ""
    assert index == "" or "python -m genlab demos" in index


def test_missing_demo_and_unknown_name_say_what_to_do(demo_root):
    with pytest.raises(GenlabError, match="python -m genlab demos"):
        demos.open_demo("nope", demo_root)
    with pytest.raises(GenlabError, match="gan-ring8"):
        demos.spec("nope")


# --------------------------------------------------------------------------- matching


def test_find_demo_by_hash_by_defaults_and_by_settings(demo_root):
    run = demos.open_demo("gan-ring8", demo_root)
    assert demos.find_demo(run.config, root=demo_root).name == "gan-ring8"            # same hash
    assert demos.find_demo(build_config("gan", "ring8", {"steps": 20}), root=demo_root).name == "gan-ring8"  # partial
    default = _spec("gan-ring8").build_config()                                        # 4000 steps: other length
    found = demos.find_demo(default, root=demo_root)
    assert found is not None and found.name == "gan-ring8"
    assert not demos.is_exact(found, default) and demos.is_exact(found, run.config)
    assert demos.find_demo(default, exact=True, root=demo_root) is None
    assert demos.find_demo(_spec("gan-ring8-vanilla").build_config(), root=demo_root) is None   # other preset
    assert demos.find_demo(build_config("gan", "ring8", {"seed": 1}), root=demo_root) is None
    assert demos.find_demo(build_config("gan", "grid25", {}), root=demo_root) is None
    assert demos.find_demo(_spec("ae-digits-k2").build_config(), root=demo_root).name == "ae-digits-k2"
    assert demos.find_demo(build_config("ae", "digits", {"latent_dim": 3}), root=demo_root) is None
    for bad in ({}, {"model": "nope", "dataset": "x"}, None, {"model": "gan", "dataset": "ring8", "train_config": 5}):
        assert demos.find_demo(bad, root=demo_root) is None
    assert demos.find_demo(default, root=demo_root / "missing") is None


def test_resolve_run_prefers_the_users_finished_run(demo_root, tmp_path):
    store = RunStore(tmp_path / "runs")
    config = demos.open_demo("gan-ring8", demo_root).config
    run, source = demos.resolve_run(config, store, demo_root=demo_root)
    assert (run.name, source) == ("gan-ring8", "demo")
    assert "shipped demo run" in demos.source_message(run, source, config)
    assert "run length differs" in demos.source_message(run, source, _spec("gan-ring8").build_config())
    mine = demos.copy_demo("gan-ring8", store, "mine", root=demo_root)
    run, source = demos.resolve_run(config, store, demo_root=demo_root)
    assert (run.name, source) == ("mine", "store")
    assert "your stored run" in demos.source_message(run, source)
    assert demos.resolve_run(build_config("gan", "spiral", {}), store, demo_root=demo_root) == (None, None)
    assert "training now" in demos.source_message(None, None)
    assert mine.path.parent == store.root


def test_copied_demo_trains_further_from_the_slim_checkpoint(demo_root, tmp_path):
    store = RunStore(tmp_path / "runs")
    run = demos.copy_demo("gan-ring8", store, root=demo_root)
    with pytest.raises(GenlabError, match="already exists"):
        demos.copy_demo("gan-ring8", store, root=demo_root)
    trainer = build_trainer("gan", "ring8", {"seed": 0, "steps": 20})
    assert config_hash(trainer.config_dict()) == run.config_hash
    assert train_run(trainer, run, 26) == "finished"
    assert load_trainer(run).step_count == 26
    assert run.read_metrics()["step"].iloc[-1] == 26


# --------------------------------------------------------------------------- slimming


def test_thin_metrics_keeps_evaluation_rows_and_the_last_row(tmp_path):
    path = tmp_path / "metrics.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["step", "loss", "test_elbo", "changed", "extra"])
    for step in range(1, 2001):
        writer.writerow([step, 1.0 / step, -step if step % 50 == 0 else "nan", "lr=0.1" if step == 777 else "", ""])
    path.write_text(buffer.getvalue())
    demos.thin_metrics(path, max_rows=100)
    frame = Run(tmp_path).read_metrics()
    steps = set(frame["step"].astype(int))
    assert len(frame) <= 100 + 40 + 2
    assert {s for s in range(50, 2001, 50)} <= steps and 2000 in steps and 1 in steps and 777 in steps
    short = tmp_path / "short.csv"
    short.write_text("step,loss\n1,2\n")
    demos.thin_metrics(short, max_rows=100)
    assert short.read_text() == "step,loss\n1,2\n"


def test_slim_state_keeps_integers_and_rng_states():
    state = {"step_count": 3, "rng": torch.ByteTensor([1, 2, 3]), "w": torch.ones(2),
             "optimizer": {"state": {0: {"exp_avg": torch.ones(2)}}, "param_groups": [{"lr": 0.1, "params": [0]}]},
             "nested": [torch.zeros(1, dtype=torch.int64), (torch.ones(1),)]}
    slim = demos.slim_state(state)
    assert slim["rng"].dtype == torch.uint8 and slim["w"].dtype == torch.float16
    assert slim["optimizer"] == {"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]}
    assert slim["nested"][0].dtype == torch.int64 and slim["nested"][1][0].dtype == torch.float16
    assert state["w"].dtype == torch.float32  # the input is not modified


# --------------------------------------------------------------------------- CLI


def test_cli_demos_list_check_and_errors(demo_root, capsys, monkeypatch):
    assert main(["demos", "--list", "--root", str(demo_root)]) == 0
    out = capsys.readouterr().out
    assert "gan-ring8" in out and "missing" in out and "total" in out
    assert main(["demos", "--check", "--root", str(demo_root)]) == 1
    assert "python -m genlab demos" in capsys.readouterr().err
    assert main(["demos", "--only", "nope"]) == 2
    assert "gan-ring8" in capsys.readouterr().err


def test_regenerate_trains_missing_demos_and_skips_up_to_date_ones(tmp_path, monkeypatch):
    tiny = DemoSpec("gan-tiny", "gan", "ring8", {"seed": 0, "steps": 5}, "gan_2d.py", "tiny")
    monkeypatch.setattr(demos, "DEMO_SPECS", (tiny,))
    monkeypatch.setattr(demos, "SPECS_BY_NAME", {tiny.name: tiny})
    messages: list[str] = []
    assert demos.regenerate(root=tmp_path, log=messages.append) == ["gan-tiny"]
    assert demos.demo_state(tiny, tmp_path) == "ok"
    assert demos.regenerate(root=tmp_path, log=messages.append) == []
    assert any("up to date" in m for m in messages)
    assert demos.open_demo("gan-tiny", tmp_path).read_status_file()["code"] == _fingerprint("gan", "ring8", seed=0)
    # the training recipe changed (same config): the demo is retrained
    from genlab.train.gan import GANTrainer

    monkeypatch.setattr(GANTrainer, "recipe_version", GANTrainer.recipe_version + 1)
    assert demos.demo_state(tiny, tmp_path) == "code-changed"
    assert demos.regenerate(root=tmp_path, log=messages.append) == ["gan-tiny"]
    assert demos.demo_state(tiny, tmp_path) == "ok"
    index = (tmp_path / "README.md").read_text()
    assert "gan-tiny" in index and "python -m genlab demos" in index


# --------------------------------------------------------------------------- the shipped demos


def test_shipped_demos_are_complete_small_loadable_and_current():
    """demos/ in the repository: every spec present, at most 5 MB, loads, trained with the current
    defaults (if this fails after a change of a trainer's defaults: `python -m genlab demos`)."""
    root = demos.DEMO_DIR
    if not root.is_dir() or not RunStore(root).names():
        pytest.skip("no shipped demos yet (python -m genlab demos)")
    assert demos.folder_bytes(root) <= demos.MAX_TOTAL_BYTES
    stale = []
    for spec in demos.TRAIN_SPECS:
        run = demos.open_demo(spec.name, root)
        assert run.status()["status"] == "finished", spec.name
        mine, shipped = demos.complete_config(spec.build_config()), demos.complete_config(run.config)
        if json.dumps(mine, sort_keys=True) != json.dumps(shipped, sort_keys=True):
            stale.append(spec.name)
            continue
        assert demos.find_demo(spec.build_config(), root=root).name == spec.name
        trainer = demos.load_demo_trainer(spec.name, root=root)
        assert trainer.step_count == run.status()["step"]
    assert not stale, f"shipped demos out of date: {stale}; run `python -m genlab demos`"


# --------------------------------------------------------------------------- the Transformer GAN race


TINY_RACE = demos.RaceDemoSpec("tgan-race", {"dim": 32, "heads": 2, "seed": 0}, 1.0, "transformer_gan.py", "tiny")


def test_race_demo_uses_the_pages_default_race():
    from genlab.train import race as tg

    race = demos.RACE_DEMO
    assert race.settings == tg.RACE_DEFAULTS and race.seconds == tg.RACE_DEFAULT_SECONDS
    assert race.configs() == tg.race_configs()           # the page calls race_configs with its widgets' defaults
    assert race.key() == tg.race_key(tg.race_configs(), 120)
    assert race.run_names() == [f"race-{race.key()}-tgan", f"race-{race.key()}-dcgan"]
    assert demos.spec("tgan-race") is race and demos.spec(race.run_names()[0]) is race
    assert race.command() == "python -m genlab demos --only tgan-race"
    codes = {name: demos.config_fingerprint(config) for name, config in race.configs().items()}
    assert codes["tgan"] != codes["dcgan"]


def test_race_demo_missing_ok_stale_and_loads_back(tmp_path):
    from genlab.train.race import load_race

    assert demos.demo_state(TINY_RACE, tmp_path) == "missing"
    runs = demos.build_race_demo(TINY_RACE, tmp_path, log=lambda text: None)
    assert [run.name for run in runs] == TINY_RACE.run_names()
    assert demos.demo_state(TINY_RACE, tmp_path) == "ok"
    assert not (tmp_path / demos.BUILD_DIR_NAME).exists()
    # slimmed like the other demos, and the page's load_race rebuilds the race from it
    state = torch.load(runs[0].checkpoint_path, weights_only=True)["state"]
    assert all(t.dtype == torch.float16 for t in state["generator"].values() if t.is_floating_point())
    status = runs[0].read_status_file()
    assert status["code"] == demos.config_fingerprint(TINY_RACE.configs()["tgan"]) and status["race_seconds"] == 1.0
    race = load_race(demos.demo_store(tmp_path), TINY_RACE.key(), ("tgan", "dcgan"))
    assert race is not None and race.seconds == 1.0
    assert race.evals["tgan"]["frechet_distance"] and race.trainers["tgan"].step_count == status["step"] > 0
    assert tuple(race.snapshot()["models"]["dcgan"]["samples"].shape)[1:] == (1, 8, 8)
    # each model's timeline ships too, at a demo's frame budget (python -m genlab replay on a race run)
    from genlab.train.history import DEMO_HISTORY_FRAMES

    assert race.history_problem == "" and all(2 <= len(h) <= DEMO_HISTORY_FRAMES for h in race.histories().values())
    # race runs are found by their key only, never as a demo for a page's DCGAN config
    assert demos.find_demo(runs[1].config, root=tmp_path) is None
    # the settings change (here: the budget): the shipped race is stale; a rebuild replaces it
    longer = demos.RaceDemoSpec("tgan-race", TINY_RACE.settings, 2.0, "transformer_gan.py", "tiny")
    assert demos.demo_state(longer, tmp_path) == "stale"
    demos.build_race_demo(longer, tmp_path, log=lambda text: None)
    assert demos.demo_state(longer, tmp_path) == "ok"
    assert sorted(demos.demo_store(tmp_path).names()) == sorted(longer.run_names())
    assert demos.demo_state(TINY_RACE, tmp_path) == "stale"
    # an unfinished run of the current key: broken (regenerate retrains it)
    demos.demo_store(tmp_path).open(longer.run_names()[0]).set_status("running")
    assert demos.demo_state(longer, tmp_path) == "broken"


def test_regenerate_and_cli_list_the_race_demo(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demos, "DEMO_SPECS", (TINY_RACE,))
    monkeypatch.setattr(demos, "SPECS_BY_NAME", {TINY_RACE.name: TINY_RACE})
    assert main(["demos", "--check", "--root", str(tmp_path)]) == 1
    assert "tgan-race" in capsys.readouterr().out
    messages: list[str] = []
    assert demos.regenerate(root=tmp_path, log=messages.append) == ["tgan-race"]
    assert demos.regenerate(root=tmp_path, log=messages.append) == []
    assert any("up to date" in m for m in messages)
    assert main(["demos", "--list", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tgan-race" in out and "ok" in out
    race_line = next(line for line in out.splitlines() if line.startswith("tgan-race"))
    assert "+" in race_line and " 0 KB" not in race_line      # both models' steps and folder sizes
    index = (tmp_path / "README.md").read_text()
    assert "tgan-race" in index and TINY_RACE.run_names()[0] in index and "--only tgan-race" in index


def test_shipped_race_demo_is_current():
    """demos/ in the repository ships the page's default race (else: `python -m genlab demos --only tgan-race`)."""
    root = demos.DEMO_DIR
    if not root.is_dir() or not RunStore(root).names():
        pytest.skip("no shipped demos yet (python -m genlab demos)")
    assert demos.demo_state(demos.RACE_DEMO, root) == "ok", "run `python -m genlab demos --only tgan-race`"
