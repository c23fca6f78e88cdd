"""CLI tests: every command end to end on tiny runs, resume, determinism, and one-line bad-input errors.

Most tests call ``genlab.cli.main(argv)`` in-process (importing torch once); two tests run
``python -m genlab`` as a real subprocess (exit status, Ctrl-C).
"""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab import cli
from genlab.runs import RunStore

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
STEPS = 4
# (model, dataset, extra training options) of the shared tiny runs
RUNS = {
    "ae": ("ae", "digits", []),
    "vae": ("vae", "digits", ["--latent-dim", "3"]),
    "dcgan": ("dcgan", "digits", ["--batch-size", "32"]),
    "cgan": ("cgan", "digits", ["--batch-size", "32"]),
    "gan": ("gan", "ring8", []),
}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class TrainedRuns:
    """Tiny runs, each trained on first use and shared by the whole module."""

    def __init__(self, root: Path):
        self.root = root
        self.paths: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self.paths:
            model, dataset, extra = RUNS[name]
            path = self.root / name
            code = cli.main(["train", model, "--dataset", dataset, "--out", str(path), "--steps", str(STEPS),
                             "--device", "cpu", "--seed", "1", "--quiet", *extra])
            assert code == 0, name
            self.paths[name] = path
        return self.paths[name]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> TrainedRuns:
    return TrainedRuns(tmp_path_factory.mktemp("runs"))


def assert_one_line_error(code: int, err: str, *needles: str, status: int = 2) -> None:
    assert code == status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle.lower() in err.lower(), err


# --------------------------------------------------------------------------- end to end


@pytest.mark.parametrize("name", list(RUNS))
def test_train_writes_a_complete_run_and_eval_prints_one_json_object(trained, capsys, name):
    path = trained[name]
    assert {p.name for p in path.iterdir()} >= {"config.json", "metrics.csv", "checkpoint.pt", "samples.png", "status.json"}
    assert json.loads((path / "status.json").read_text())["status"] == "finished"
    code, out, err = run_cli(capsys, "eval", path, "--device", "cpu")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1
    result = json.loads(out)
    assert result["step"] == STEPS and result["model"] == RUNS[name][0] and result["status"] == "finished"
    assert len(result) > 6 and all(isinstance(v, (int, float, str, type(None))) for v in result.values())


@pytest.mark.parametrize("name", list(RUNS))
def test_sample(trained, capsys, tmp_path, name):
    out = tmp_path / "s.npy"
    code, _, err = run_cli(capsys, "sample", trained[name], "--n", 5, "--out", out, "--seed", 3, "--device", "cpu")
    assert code == 0, err
    samples = np.load(out, allow_pickle=False)
    assert samples.dtype == np.float32
    if name == "gan":
        assert samples.shape == (5, 2) and np.isfinite(samples).all()
    else:
        assert samples.shape == (5, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    again = tmp_path / "t.npy"
    run_cli(capsys, "sample", trained[name], "--n", 5, "--out", again, "--seed", 3, "--device", "cpu")
    np.testing.assert_array_equal(np.load(again), samples)  # same seed, same samples


def test_sample_with_a_label_for_cgan(trained, capsys, tmp_path):
    out = tmp_path / "seven.npy"
    code, _, err = run_cli(capsys, "sample", trained["cgan"], "--n", 4, "--out", out, "--label", 7, "--device", "cpu")
    assert code == 0, err
    assert np.load(out).shape == (4, 1, 8, 8)
    code, _, err = run_cli(capsys, "sample", trained["cgan"], "--n", 4, "--out", out, "--label", 10)
    assert_one_line_error(code, err, "--label must be a class from 0 to 9")


@pytest.mark.parametrize("name", ["ae", "vae"])
def test_encode_and_reconstruct(trained, capsys, tmp_path, name):
    images = np.random.default_rng(0).uniform(0, 1, size=(6, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "flat.npy", images.reshape(6, 64))
    code, _, err = run_cli(capsys, "encode", trained[name], "--input", tmp_path / "x.npy", "--out", tmp_path / "z.npy")
    assert code == 0, err
    z = np.load(tmp_path / "z.npy")
    assert z.shape == (6, 3 if name == "vae" else 2) and z.dtype == np.float32
    code, _, err = run_cli(capsys, "reconstruct", trained[name], "--input", tmp_path / "flat.npy", "--out", tmp_path / "r.npy")
    assert code == 0, err
    recon = np.load(tmp_path / "r.npy")
    assert recon.shape == (6, 1, 8, 8) and recon.min() >= 0 and recon.max() <= 1


def test_runs_lists_the_store(trained, capsys, tmp_path):
    for name in RUNS:
        trained[name]  # noqa: B018 - trains it if not yet
    code, out, _ = run_cli(capsys, "runs", "--root", trained.root)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:5] == ["NAME", "STATUS", "MODEL", "DATASET", "STEP"]
    assert {line.split()[0] for line in lines[1:]} >= set(RUNS)
    assert all(" finished " in line for line in lines[1:])
    code, out, _ = run_cli(capsys, "runs", "--root", tmp_path)
    assert code == 0 and "no runs" in out


@pytest.mark.parametrize("model, dataset", [("vae", "digits"), ("gan", "ring8")])
def test_same_seed_gives_identical_metrics(capsys, tmp_path, model, dataset):
    results = []
    for name in ("a", "b", "other-seed"):
        seed = 8 if name == "other-seed" else 7
        code, _, err = run_cli(capsys, "train", model, "--dataset", dataset, "--out", tmp_path / name, "--steps", 3,
                               "--seed", seed, "--device", "cpu", "--quiet")
        assert code == 0, err
        code, out, _ = run_cli(capsys, "eval", tmp_path / name, "--device", "cpu")
        result = json.loads(out)
        for key in ("run", "train_seconds"):
            result.pop(key)
        results.append(result)
    assert results[0] == results[1]
    assert results[0] != results[2]
    frames = [RunStore(tmp_path).open(n).read_metrics().drop(columns=["wall_time"]) for n in ("a", "b")]
    assert frames[0].equals(frames[1])


def test_gan_on_user_points_and_image_gan_options(capsys, tmp_path):
    (tmp_path / "pts.csv").write_text("x,y\n0,0\n1,1\n2,0.5\n3,3\n")
    (tmp_path / "other.csv").write_text("x,y\n0,0\n1,1\n2,0.5\n3,4\n")
    out = tmp_path / "mine"
    code, _, err = run_cli(capsys, "train", "gan", "--points", tmp_path / "pts.csv", "--out", out, "--steps", 2,
                           "--batch-size", 4, "--preset", "vanilla", "--device", "cpu", "--quiet")
    assert code == 0, err
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == "points" and config["points"][3] == [3.0, 3.0]  # the run keeps its points
    code, _, err = run_cli(capsys, "sample", out, "--n", 7, "--out", tmp_path / "p.npy")
    assert code == 0, err
    assert np.load(tmp_path / "p.npy").shape == (7, 2)
    code, _, err = run_cli(capsys, "train", "gan", "--points", tmp_path / "other.csv", "--out", out, "--steps", 3)
    assert_one_line_error(code, err, "trained on other points")
    code, _, err = run_cli(capsys, "train", "gan", "--points", tmp_path / "pts.csv", "--out", out, "--steps", 3, "--quiet")
    assert code == 0, err

    code, _, err = run_cli(capsys, "train", "cgan", "--out", tmp_path / "patch", "--epochs", 1, "--batch-size", 720,
                           "--disc", "patch", "--optimizer", "sgd", "--latent-dim", 8, "--device", "cpu", "--quiet")
    assert code == 0, err
    config = json.loads((tmp_path / "patch" / "config.json").read_text())
    assert config["model_config"]["disc"] == "patch" and config["model_config"]["noise_dim"] == 8
    assert config["train_config"]["optimizer_d"] == config["train_config"]["optimizer_g"] == "sgd"
    assert config["train_config"]["steps"] == 2  # 1 epoch of 1437 digits in batches of 720
    assert json.loads((tmp_path / "patch" / "status.json").read_text())["step"] == 2


def test_a_run_being_trained_is_not_trained_twice(capsys, trained, tmp_path):
    import shutil

    copy = tmp_path / "busy"
    shutil.copytree(trained["ae"], copy)
    status = json.loads((copy / "status.json").read_text())
    from genlab.processes import process_start_ticks

    # pid 1 is alive, and its start time is recorded (a pid alone may be reused: issue 24 item 7)
    (copy / "status.json").write_text(json.dumps({**status, "status": "running", "pid": 1,
                                                  "pid_start": process_start_ticks(1)}))
    code, _, err = run_cli(capsys, "train", "ae", "--out", copy, "--steps", 10)
    assert_one_line_error(code, err, "is being trained right now")


def test_train_again_resumes_and_checks_options(capsys, tmp_path):
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "ae", "--out", out, "--steps", 2, "--lr", 0.01, "--device", "cpu")
    assert code == 0, err
    assert "step 2/2" in err and "finished 2 steps" in err  # progress lines go to stderr
    code, _, err = run_cli(capsys, "train", "ae", "--out", out, "--steps", 5, "--device", "cpu", "--quiet")
    assert code == 0, err
    assert list(RunStore(tmp_path).open("r").read_metrics()["step"]) == [1, 2, 3, 4, 5]
    code, _, err = run_cli(capsys, "train", "ae", "--out", out, "--steps", 6, "--lr", 0.5)
    assert_one_line_error(code, err, "exists with lr=0.01", "new --out")
    code, _, err = run_cli(capsys, "train", "vae", "--out", out, "--steps", 6)
    assert_one_line_error(code, err, "is a ae run")


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def bad_files(tmp_path) -> Path:
    np.save(tmp_path / "wrong_shape.npy", np.zeros((3, 5), dtype=np.float32))
    np.save(tmp_path / "out_of_range.npy", np.full((2, 1, 8, 8), 255.0, dtype=np.float32))
    np.save(tmp_path / "nan.npy", np.full((2, 64), np.nan, dtype=np.float32))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "text.npy").write_text("not an array")
    (tmp_path / "points.csv").write_text("x,y\n1,2\nfoo,3\n")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    return tmp_path


BAD_TRAIN = [
    (["train", "transformer", "--out", "{tmp}/x"], "unknown model 'transformer'"),
    (["train", "vae", "--dataset", "cifar", "--out", "{tmp}/x"], "data set 'cifar' cannot be used with vae"),
    (["train", "gan", "--dataset", "digits", "--out", "{tmp}/x"], "gan needs 2D point sets"),
    (["train", "dcgan", "--dataset", "ring8", "--out", "{tmp}/x"], "dcgan needs image data sets"),
    (["train", "vae", "--out", "{tmp}/x", "--lr", "0"], "lr must be > 0"),
    (["train", "vae", "--out", "{tmp}/x", "--lr", "-1"], "lr must be > 0"),
    (["train", "vae", "--out", "{tmp}/x", "--lr", "nan"], "lr must be a finite number"),
    (["train", "gan", "--out", "{tmp}/x", "--k-disc", "0"], "k_disc must be a whole number from 1"),
    (["train", "vae", "--out", "{tmp}/x", "--batch-size", "5000"], "larger than the digits training set"),
    (["train", "vae", "--out", "{tmp}/x", "--latent-dim", "0"], "latent_dim must be a whole number from 1"),
    (["train", "vae", "--out", "{tmp}/x", "--epochs", "0"], "epochs must be a whole number from 1"),
    (["train", "vae", "--out", "{tmp}/x", "--steps", "-5"], "steps must be a whole number from 1"),
    (["train", "vae", "--out", "{tmp}/x", "--steps", "100000000000"], "steps must be a whole number from 1"),
    (["train", "vae", "--out", "{tmp}/x", "--steps", "abc"], "invalid int value"),
    (["train", "vae", "--out", "{tmp}/x", "--steps", "3", "--epochs", "2"], "not allowed with argument"),
    (["train", "vae", "--out", "{tmp}/x", "--k-disc", "2"], "--k-disc is not an option of vae"),
    (["train", "ae", "--out", "{tmp}/x", "--beta", "2"], "--beta is not an option of ae"),
    (["train", "vae", "--out", "{tmp}/x", "--arch", "resnet"], "choose one of: mlp, conv"),
    (["train", "gan", "--out", "{tmp}/x", "--loss", "wasserstein"], "choose one of: minimax, non-saturating, lsgan"),
    (["train", "vae", "--out", "{tmp}/../x"], "contains '..'"),
    (["train", "vae", "--out", "{tmp}/bad name"], "run name"),
    (["train", "vae", "--out", ""], "empty"),
    (["train", "vae", "--dataset", "mnist", "--data-dir", "{tmp}/nodata", "--out", "{tmp}/x"], "mnist is not on disk"),
    (["train", "vae", "--device", "tpu", "--out", "{tmp}/x"], "invalid choice: 'tpu'"),
    (["train", "gan", "--points", "{tmp}/points.csv", "--out", "{tmp}/x"], "line 3 of the csv"),
    (["train", "gan", "--points", "{tmp}/missing.csv", "--out", "{tmp}/x"], "does not exist"),
    (["train", "gan", "--disc", "patch", "--out", "{tmp}/x"], "--disc is not an option of gan"),
    (["train", "gan", "--epochs", "2", "--out", "{tmp}/x"], "--epochs is not an option of gan"),
    (["train", "dcgan", "--points", "{tmp}/points.csv", "--out", "{tmp}/x"], "--points is not an option of dcgan"),
    (["train", "gan", "--dataset", "ring8", "--points", "{tmp}/points.csv", "--out", "{tmp}/x"], "either --dataset or --points"),
    (["train", "gan", "--noise-dim", "300", "--out", "{tmp}/x", "--steps", "1"], "noise_dim must be"),
    (["train", "vae", "--latent-dim", "65", "--out", "{tmp}/x", "--steps", "1"], "latent_dim must be"),
    (["train", "dcgan", "--batch-size", "1438", "--out", "{tmp}/x"], "larger than the digits training set"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "required: COMMAND"),
]


@pytest.mark.parametrize("argv, needle", BAD_TRAIN, ids=[" ".join(a[:2]) + f"-{i}" for i, (a, _) in enumerate(BAD_TRAIN)])
def test_bad_train_input_exits_2_with_one_line(capsys, bad_files, monkeypatch, argv, needle):
    monkeypatch.setenv("GENLAB_NO_DOWNLOAD", "1")
    code, _, err = run_cli(capsys, *[a.replace("{tmp}", str(bad_files)) for a in argv])
    assert_one_line_error(code, err, needle)
    assert not (bad_files / "x").exists()


BAD_USE = [
    (["eval", "{tmp}/missing"], "does not exist"),
    (["eval", "{tmp}/../missing"], "contains '..'"),
    (["eval", "{tmp}/corrupt"], "not a genlab run folder"),
    (["sample", "{runs}/vae", "--n", "0", "--out", "{tmp}/s.npy"], "--n must be a whole number from 1 to 100000 (got 0)"),
    (["sample", "{runs}/vae", "--n", "10000000", "--out", "{tmp}/s.npy"], "--n must be a whole number from 1 to 100000"),
    (["sample", "{runs}/vae", "--n", "3", "--out", "{tmp}/s.txt"], "must be a .npy file"),
    (["sample", "{runs}/vae", "--n", "3", "--out", "{tmp}/nofolder/s.npy"], "does not exist"),
    (["sample", "{runs}/vae", "--n", "3", "--out", "{tmp}/s.npy", "--label", "3"], "--label is only for cgan"),
    (["sample", "{runs}/gan", "--n", "3", "--out", "{tmp}/s.npy", "--label", "3"], "--label is only for cgan"),
    (["encode", "{runs}/gan", "--input", "{tmp}/wrong_shape.npy", "--out", "{tmp}/z.npy"], "works on ae and vae runs"),
    (["encode", "{runs}/vae", "--input", "{tmp}/wrong_shape.npy", "--out", "{tmp}/z.npy"], "(N, 1, 8, 8) or (N, 64)"),
    (["encode", "{runs}/vae", "--input", "{tmp}/out_of_range.npy", "--out", "{tmp}/z.npy"], "must lie in [0, 1]"),
    (["encode", "{runs}/vae", "--input", "{tmp}/nan.npy", "--out", "{tmp}/z.npy"], "NaN"),
    (["reconstruct", "{runs}/ae", "--input", "{tmp}/objects.npy", "--out", "{tmp}/r.npy"], "Python objects"),
    (["reconstruct", "{runs}/ae", "--input", "{tmp}/text.npy", "--out", "{tmp}/r.npy"], "not a valid .npy"),
    (["reconstruct", "{runs}/ae", "--input", "{tmp}/none.npy", "--out", "{tmp}/r.npy"], "does not exist"),
    (["runs", "--root", "{tmp}/nowhere"], "is not a folder"),
]


@pytest.mark.parametrize("argv, needle", BAD_USE, ids=[" ".join(a[:1]) + f"-{i}" for i, (a, _) in enumerate(BAD_USE)])
def test_bad_use_input_exits_2_with_one_line(capsys, trained, bad_files, argv, needle):
    runs = trained.root
    for name in ("ae", "vae", "gan"):
        if "{runs}/" + name in argv:
            trained[name]  # noqa: B018 - trains it if not yet
    (bad_files / "corrupt" / "status.json").write_text("{}")
    argv = [a.replace("{tmp}", str(bad_files)).replace("{runs}", str(runs)) for a in argv]
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, needle)


def test_corrupt_checkpoint_exits_2(capsys, trained, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained["vae"], copy)
    (copy / "checkpoint.pt").write_bytes((copy / "checkpoint.pt").read_bytes()[:100])
    code, _, err = run_cli(capsys, "eval", copy)
    assert_one_line_error(code, err, "checkpoint.pt is corrupt or truncated")
    code, _, err = run_cli(capsys, "sample", copy, "--n", 2, "--out", tmp_path / "s.npy")
    assert_one_line_error(code, err, "corrupt")


def test_unexpected_errors_exit_1_with_one_line_and_debug_traceback(capsys, monkeypatch, tmp_path):
    def boom(args):
        raise RuntimeError("disk on fire\nmore detail")

    monkeypatch.setitem(cli.COMMANDS, "runs", boom)
    code, _, err = run_cli(capsys, "runs", "--root", tmp_path)
    assert_one_line_error(code, err, "internal error: RuntimeError: disk on fire", "GENLAB_DEBUG=1", status=1)
    monkeypatch.setenv("GENLAB_DEBUG", "1")
    code, _, err = run_cli(capsys, "runs", "--root", tmp_path)
    assert code == 1 and "Traceback" in err


# --------------------------------------------------------------------------- real processes


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "GENLAB_NO_DOWNLOAD": "1"}


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_a_resumable_checkpoint(tmp_path):
    out = tmp_path / "long"
    process = subprocess.Popen(
        [sys.executable, "-m", "genlab", "train", "ae", "--out", str(out), "--steps", "1000000", "--device", "cpu",
         "--checkpoint-every", "1000000"],
        stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
    )
    first = process.stderr.readline()  # the first progress line: training has started
    assert first.startswith("step 1/1000000"), first
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    assert process.wait(timeout=120) == 130
    assert "Traceback" not in rest and "run the same command again to resume" in rest
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "stopped"
    store = RunStore(tmp_path)
    assert store.open("long").load_checkpoint()["step_count"] == status["step"] >= 1
    assert store.list()[0].status == "stopped"
    # (resuming an existing --out is tested in-process in test_train_again_resumes_and_checks_options)


# --------------------------------------------------------------------------- hostile and careless input (issue 24)


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "/full/disk/file")


def test_a_full_disk_while_sampling_is_a_plain_message_and_leaves_no_file(capsys, trained, monkeypatch, tmp_path):
    monkeypatch.setattr(np, "save", _no_space)
    code, _, err = run_cli(capsys, "sample", trained["gan"], "--n", 4, "--out", tmp_path / "s.npy")
    assert_one_line_error(code, err, "error: the disk is full (/full/disk/file)", "free some space")
    assert "internal error" not in err and list(tmp_path.iterdir()) == []   # no half-written .s.npy.tmp


def test_a_full_disk_while_training_is_a_plain_message(capsys, monkeypatch, tmp_path):
    from genlab.runs import Run

    monkeypatch.setattr(Run, "save_checkpoint", _no_space)
    code, _, err = run_cli(capsys, "train", "gan", "--steps", 3, "--out", tmp_path / "g", "--quiet")
    assert_one_line_error(code, err, "the disk is full", "run the command again")


@pytest.mark.parametrize("error, needles", [
    (RecursionError("maximum recursion depth exceeded"), ["nested too deeply", "at most 32 levels"]),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), ["the disk is full"]),
    (PermissionError(errno.EACCES, "Permission denied", "/etc/MNIST"), ["not allowed", "/etc/MNIST", "folder of your own"]),
    (OSError(errno.EROFS, "Read-only file system", "/ro/x"), ["not allowed", "Read-only file system"]),
])
def test_errors_of_the_machine_the_user_can_fix_exit_2(capsys, monkeypatch, tmp_path, error, needles):
    def fail(args):
        raise error

    monkeypatch.setitem(cli.COMMANDS, "runs", fail)
    code, _, err = run_cli(capsys, "runs", "--root", tmp_path)
    assert_one_line_error(code, err, *needles)
    assert "internal error" not in err


def test_other_os_errors_are_still_internal_errors(capsys, monkeypatch, tmp_path):
    def fail(args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setitem(cli.COMMANDS, "runs", fail)
    code, _, err = run_cli(capsys, "runs", "--root", tmp_path)
    assert_one_line_error(code, err, "internal error: OSError", status=1)


def test_a_run_whose_config_is_deeply_nested_exits_2(capsys, trained, tmp_path):
    import shutil

    copy = tmp_path / "deep"
    shutil.copytree(trained["gan"], copy)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps(config)[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}")
    for argv in (["eval", copy], ["sample", copy, "--n", 2, "--out", tmp_path / "s.npy"],
                 ["train", "gan", "--steps", 8, "--out", copy, "--quiet"]):
        code, _, err = run_cli(capsys, *argv)
        assert_one_line_error(code, err, "run 'deep'", "config.json", "nested")
        assert "RecursionError" not in err


def test_text_from_a_file_cannot_drive_the_terminal(capsys, tmp_path):
    """A CSV header (anybody's text) with a terminal escape sequence and a right-to-left override is
    printed as visible escapes, never sent to the terminal."""
    csv = tmp_path / "points.csv"
    csv.write_bytes("\x1b]0;owned\x07\x1b[2J,\u202ey\n1,2\n3,4\n".encode())
    code, _, err = run_cli(capsys, "train", "gan", "--points", csv, "--out", tmp_path / "p", "--quiet")
    assert_one_line_error(code, err, "columns named x and y", r"\x1b]0;owned\x07\x1b[2J", r"\u202ey")
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err
