"""AppTest for the issue-9 pages "Transformer GAN" and "Image editing with a VAE".

Both pages read their models from the run store ($GENLAB_RUNS_DIR, a temporary folder here): the
editing page a VAE with its settings (trained for a few steps here) and the cached conditional VAE
($GENLAB_CACHE_DIR, random weights here); the transformer page a stored race (a tiny race is run and
saved here). Shipped demos are switched off ($GENLAB_DEMOS_DIR -> an empty folder).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab import editing as ed
from genlab import metrics
from genlab.jobs import get_job_manager

ROOT = Path(__file__).resolve().parents[2]
EDIT_PAGE = str(ROOT / "dashboard" / "pages" / "image_editing.py")
TGAN_PAGE = str(ROOT / "dashboard" / "pages" / "transformer_gan.py")

torch.set_num_threads(1)
# A page's first run imports torch and trains nothing, but on the shared 2-core machine a busy minute
# can stretch it far beyond the default limit (pyproject: 300 s per test, fixture included).
pytestmark = pytest.mark.timeout(900)


def prepare_stores(root: Path) -> dict[str, str]:
    """Fill ``root`` with a run store (a K = 8 VAE trained for a few steps with the editing page's
    settings; a tiny stored race for ``?dim=32&depth=1&heads=2&seconds=15``), a cache (the digit
    classifier's weights copied, a conditional VAE with random weights) and an empty demo folder.
    Returns the environment variables that point the app at them (also used by the browser tests)."""
    from genlab.runs import RunStore
    from genlab.train.recording import train_run
    from genlab.train.registry import build_trainer
    from genlab.train.race import EqualTimeRace, build_race_trainers, race_configs, race_key, save_race

    runs, cache, demos = root / "runs", root / "cache", root / "demos"
    demos.mkdir(parents=True, exist_ok=True)
    # train (or load) the digit classifier and its reference distances in the user's cache first: on a
    # fresh machine the pages would otherwise train it inside a script run, beside a training job
    metrics.real_floor_frechet("digits"), metrics.gmm_baseline_frechet("digits")
    classifier = metrics.classifier_cache_dir()
    (cache / "classifier").mkdir(parents=True, exist_ok=True)
    if classifier.is_dir():
        for path in [*classifier.glob("digits-*.pt"), *classifier.glob("baselines.json")]:
            shutil.copy(path, cache / "classifier" / path.name)
    env = {"GENLAB_RUNS_DIR": str(runs), "GENLAB_CACHE_DIR": str(cache), "GENLAB_DEMOS_DIR": str(demos)}
    mp = pytest.MonkeyPatch()
    for name, value in env.items():
        mp.setenv(name, value)
    try:
        store = RunStore(runs)
        options = {"latent_dim": 8, "epochs": 100, "seed": 0, "beta": 1.0, "mc_samples": 1}
        trainer = build_trainer("vae", "digits", options)
        train_run(trainer, store.create("vae-k8", trainer.config_dict()), 10)
        config = ed.ConditionalVAEConfig()
        path = ed.conditional_vae_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(0)
        torch.save(ed.ConditionalVAE(config).state_dict(), path)
        configs = race_configs(4, 32, 1, 2, 0, True)        # the page's default patch size 4
        race = EqualTimeRace(build_race_trainers(configs), 0.3, eval_every_s=0.3, sample_n=8)
        race.run()
        race.seconds = 15.0
        save_race(race, store, race_key(configs, 15.0))
    finally:
        mp.undo()
    return env


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    env = prepare_stores(tmp_path_factory.mktemp("beyond"))
    mp = pytest.MonkeyPatch()
    for name, value in env.items():
        mp.setenv(name, value)
    yield env
    for job in get_job_manager().jobs(active_only=True):
        job.stop()
    mp.undo()


def run_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(page, default_timeout=240)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    assert not at.exception, at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.info]
    parts += [e.value for e in at.error] + [e.value for e in at.warning]
    return "\n".join(parts)


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def wait_for_job(prefix: str, timeout: float = 240) -> None:
    manager = get_job_manager()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = [j for j in manager.jobs(active_only=True) if (j.key or "").startswith(prefix)]
        if not active:
            return
        time.sleep(0.5)
    raise AssertionError(f"job {prefix} still running after {timeout} s")


# --------------------------------------------------------------------------- image editing


def test_editing_inpainting_default(stores):
    at = run_page(EDIT_PAGE, steps=25)
    assert not at.error
    text = texts(at)
    assert "stored run" in text and "Conditional VAE: trained and cached" in text
    assert at.radio(key="task").value == "inpaint" and at.radio(key="mask").value == "bottom"
    assert at.selectbox(key="k").value == 8
    assert charts(at) >= 5            # picker, panels, conditional-VAE draws, restarts, convergence
    assert any(b.label == "Score the test split" for b in at.button)


def _leaves(block) -> list:
    """The elements under ``block`` (at.main, at.sidebar) in page order."""
    from streamlit.testing.v1.element_tree import Block

    out = []
    for index in sorted(block.children):
        child = block.children[index]
        out += _leaves(child) if isinstance(child, Block) else [child]
    return out


def test_editing_settings_on_top_of_the_page_and_one_link_at_the_bottom(stores):
    """The VAE's and the optimization's settings sit at the top of the page (not in the sidebar,
    below the page list); "Link to this view" appears once, at the bottom of the page."""
    settings = {"k", "lam", "restarts", "steps", "seed"}
    for query in ({"steps": 25}, {"steps": 25, "task": "superres"}):
        at = run_page(EDIT_PAGE, **query)
        main, sidebar = _leaves(at.main), _leaves(at.sidebar)
        assert not settings & {getattr(e, "key", None) for e in sidebar}
        keys = [getattr(e, "key", None) for e in main]
        assert settings <= set(keys) and max(keys.index(k) for k in settings) < keys.index("task")
        links = [e for e in main if e.type == "code" and e.value.startswith("http")]
        assert len(links) == 1 and main[-1] is links[0] and "Link to this view" in main[-2].value
        assert not [e for e in sidebar if e.type == "code"]


def test_editing_url_state_rectangle_and_superres(stores):
    at = run_page(EDIT_PAGE, mask="rectangle", rows="1,3", cols="2,6", digit=7, steps=25, restarts=3)
    assert at.slider(key="rows").value == (1, 3) and at.slider(key="cols").value == (2, 6)
    assert at.number_input(key="digit").value == 7 and at.slider(key="restarts").value == 3
    at.radio(key="task").set_value("superres")
    rerun(at)
    assert at.query_params["task"] == "superres"
    assert charts(at) >= 3 and "Bilinear upsampling can only smooth" not in texts(at)   # the answer's reason...
    at.button(key="predict_edit-superres_skip").click()
    assert "Bilinear upsampling can only smooth" in texts(rerun(at))                   # ...after the question


def test_editing_bad_url_values_fall_back(stores):
    at = run_page(EDIT_PAGE, k=5, lam="abc", digit=99999, restarts=-3, mask="nope", task="x", steps=25)
    assert at.selectbox(key="k").value == 8 and at.selectbox(key="lam").value == ed.DEFAULT_LAMBDA
    assert at.number_input(key="digit").value == 359 and at.slider(key="restarts").value == 1
    assert at.radio(key="mask").value == "bottom" and at.radio(key="task").value == "inpaint"
    assert not at.error


def test_editing_scores_the_test_split(stores):
    at = run_page(EDIT_PAGE, n_eval=60, steps=0, restarts=1)
    [button] = [b for b in at.button if b.label == "Score the test split"]
    button.click()
    rerun(at)
    wait_for_job("edit-score:")
    rerun(at)
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value
    assert list(table["task"])[-1] == "super-resolution" and len(table) == 6
    assert "Classifier accuracy on 60 test digits" in str(at.get("plotly_chart")[-1].proto.spec) or charts(at) >= 6


def test_editing_without_a_vae_trains_one_in_the_background(stores, tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path))
    at = run_page(EDIT_PAGE, k=2, steps=25)
    assert "being trained now" in texts(at)
    main = _leaves(at.main)
    assert main[-1].type == "code" and main[-1].value.startswith("http")     # the link ends the page here too
    jobs = [j for j in get_job_manager().jobs(active_only=True) if (j.key or "").startswith("edit-models:")]
    assert jobs
    for job in jobs:
        job.stop()
        job.wait(30)


# --------------------------------------------------------------------------- transformer GAN


def test_tgan_page_before_training(stores):
    at = run_page(TGAN_PAGE, seconds=30)
    assert not at.error
    assert at.radio(key="patch").value == 4 and at.slider(key="seconds").value == 30
    assert "Press **Train**" in texts(at) and "4 patch tokens of 16 pixels" in texts(at)
    assert charts(at) == 1                            # the patch grid
    at.radio(key="patch").set_value(2)
    rerun(at)
    assert "16 patch tokens of 4 pixels" in texts(at) and at.query_params["patch"] == "2"


def test_tgan_settings_sit_on_the_page_and_the_link_once_at_its_bottom(stores):
    """Issue 23, item 4: the race settings at the top of the page (the sidebar holds only the page
    list and the display options), "Link to this view" once, at the bottom."""
    at = run_page(TGAN_PAGE, seconds=30)
    keys = {"patch", "dim", "depth", "heads", "seconds", "dcgan", "seed"}
    kinds = ("radio", "selectbox", "slider", "toggle", "number_input")
    in_sidebar = {w.key for kind in kinds for w in getattr(at.sidebar, kind)}
    in_main = {w.key for kind in kinds for w in getattr(at.main, kind)}
    assert not in_sidebar & keys and keys <= in_main
    links = [c for c in at.caption if "Link to this view" in c.value]
    assert len(links) == 1 and at.main.caption[-1].value == links[0].value


def test_tgan_first_visit_loads_say_what_they_do():
    """Issue 23, item 8: the page's cached first-visit loads (seconds on a busy server) show a
    spinner with text instead of a silent wait."""
    source = Path(TGAN_PAGE).read_text()
    for name in ("_digits", "_reference_lines", "_stored_race"):
        head = source[:source.index(f"def {name}(")].rstrip().splitlines()[-1]
        assert 'show_spinner="' in head, (name, head)


def test_tgan_page_shows_a_stored_race(stores):
    at = run_page(TGAN_PAGE, dim=32, depth=1, heads=2, seconds=15)
    text = texts(at)
    assert "A stored race has exactly these settings" in text
    assert "Transformer GAN" in text and "DCGAN" in text and len(at.metric) == 2
    assert charts(at) >= 4                            # patches, race curve, attention, patch by patch
    assert at.selectbox(key="head").options == ["mean", "1", "2"]
    at.selectbox(key="head").set_value("2")
    assert at.slider(key="tokens").max == 4           # patch 4: the generator emits 4 tokens
    at.slider(key="tokens").set_value(3)
    rerun(at)
    assert at.query_params["head"] == "2" and at.query_params["tokens"] == "3"
    assert [b for b in at.button if b.label == "Train"][0].disabled


def test_tgan_page_shows_the_shipped_demo_race(stores, tmp_path, monkeypatch):
    """No race of the user's for these settings, but the demo folder ships one (a tiny race saved the
    way `python -m genlab demos` ships the page's default race): shown at once, Train disabled."""
    from genlab import demos
    from genlab.train.race import EqualTimeRace, build_race_trainers, race_configs, race_key

    configs = race_configs(4, 32, 1, 2, 0, True)
    race = EqualTimeRace(build_race_trainers(configs), 0.3, eval_every_s=0.3, sample_n=8)
    race.run()
    race.seconds = 30.0
    demos.install_race_demo(race, race_key(configs, 30.0), tmp_path)
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(tmp_path))
    at = run_page(TGAN_PAGE, dim=32, depth=1, heads=2, seconds=30)
    text = texts(at)
    assert "Showing the shipped demo race (made with `python -m genlab demos`, no waiting)" in text
    assert "A stored race" not in text and "Press **Train**" not in text
    assert len(at.metric) == 2 and charts(at) >= 4      # both models, race curve, attention, patch by patch
    assert [b for b in at.button if b.label == "Train"][0].disabled
    # other settings: no demo, no stored race -> train it yourself
    at = run_page(TGAN_PAGE, dim=32, depth=1, heads=2, seconds=45)
    assert "Press **Train**" in texts(at) and "shipped demo race" not in texts(at)
    assert not [b for b in at.button if b.label == "Train"][0].disabled


def test_tgan_page_replays_the_stored_race(stores):
    """Issue 21: the stored race's timeline (both models' sample grids at the same training time) on
    the slider ``timeline`` bound to ?t=, with the moment's time and steps and the GIF download."""
    at = run_page(TGAN_PAGE, dim=32, depth=1, heads=2, seconds=15)
    at.toggle(key="replay_on").set_value(True)
    rerun(at)
    slider = at.select_slider(key="timeline")
    steps = [int(option.split()[-1].replace(",", "")) for option in slider.options]   # "step 1,234"
    assert len(steps) >= 2 and slider.value == steps[-1]      # the race's few steps (0.3 s, fewer under load)
    assert "Both models' fixed-noise samples at the same **training time**" in texts(at)
    assert any("Download as GIF" in b.proto.label for b in at.get("download_button"))
    slider.set_value(steps[0])
    rerun(at)
    assert at.query_params["t"] == str(steps[0])
    [shown] = [c.value for c in at.caption if c.value.startswith("Shown:")]
    assert "Transformer GAN step" in shown and "DCGAN step" in shown
    linked = run_page(TGAN_PAGE, dim=32, depth=1, heads=2, seconds=15, t=steps[0])   # a link opens the moment
    assert linked.select_slider(key="timeline").value == steps[0]


def test_tgan_page_says_an_old_race_has_no_timeline(stores, tmp_path, monkeypatch):
    """A shipped race from before timelines were recorded: shown as before, its replay says why
    there is none and how the demo gets one (no traceback)."""
    from genlab import demos
    from genlab.train.race import EqualTimeRace, build_race_trainers, race_configs, race_key

    configs = race_configs(4, 32, 1, 2, 0, True)
    race = EqualTimeRace(build_race_trainers(configs), 0.2, eval_every_s=0.2, sample_n=8)
    race.run()
    race.seconds = 45.0
    for run in demos.install_race_demo(race, race_key(configs, 45.0), tmp_path):
        (run.path / "history.npz").unlink()
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(tmp_path))
    at = run_page(TGAN_PAGE, dim=32, depth=1, heads=2, seconds=45, replay="race")
    assert "Showing the shipped demo race" in texts(at) and len(at.metric) == 2
    assert "stored before genlab recorded training timelines" in texts(at)
    assert "python -m genlab demos --only tgan-race --force" in texts(at)
    assert not at.get("select_slider") or not [s for s in at.select_slider if s.key == "timeline"]


def test_tgan_bad_url_values_fall_back(stores):
    at = run_page(TGAN_PAGE, patch=3, dim=7, seconds="abc", head=9, depth=0, tokens=99, digit=-4)
    assert at.radio(key="patch").value == 4 and at.selectbox(key="dim").value == 64
    assert at.slider(key="seconds").value == 120 and at.number_input(key="digit").value == 0
    assert not at.error


def test_tgan_train_and_stop(stores):
    at = run_page(TGAN_PAGE, dim=32, depth=1, heads=2, seconds=60, dcgan=0, seed=3)
    [train] = [b for b in at.button if b.label == "Train"]
    train.click()
    rerun(at)
    jobs = [j for j in get_job_manager().jobs(active_only=True) if (j.key or "").startswith("race:")]
    assert len(jobs) == 1
    time.sleep(1.0)
    [stop] = [b for b in at.button if b.label == "Stop"]
    stop.click()
    rerun(at)
    deadline = time.monotonic() + 180          # a step or an evaluation in progress finishes first
    while not jobs[0].done and time.monotonic() < deadline:
        time.sleep(0.5)
    assert jobs[0].status == "stopped", jobs[0].error
    rerun(at)
    assert not [b for b in at.button if b.label == "Train"][0].disabled


# --------------------------------------------------------------------------- image editing: predict, then reveal


def _question_box(at: AppTest, question_id: str) -> bool:
    """True when the page holds the question's box, st.container(key="predict-<id>")."""
    from streamlit.testing.v1.element_tree import Block

    def blocks(node):
        for child in getattr(node, "children", {}).values():
            if isinstance(child, Block):
                yield child
                yield from blocks(child)

    return any(str(getattr(b.proto, "id", "")).endswith(f"-predict-{question_id}") for b in blocks(at._tree))


def test_editing_questions_reveal_the_classifier_reading_and_the_mse(stores):
    """Issue 20 §2: inpainting asks which completion the classifier reads right, super-resolution
    which reconstruction is closer; skipping reveals the answer the page computed."""
    at = run_page(EDIT_PAGE, steps=25)
    assert _question_box(at, "edit-inpaint")
    at.button(key="predict_edit-inpaint_skip").click()
    revealed = " ".join(i.value for i in rerun(at).info)
    assert "The answer here" in revealed and "The classifier reads the encoder's version as a" in revealed
    at = run_page(EDIT_PAGE, steps=25, task="superres")
    assert _question_box(at, "edit-superres")
    at.button(key="predict_edit-superres_skip").click()
    assert "Mean squared error to the original 8×8 digit: bilinear" in " ".join(i.value for i in rerun(at).info)
