"""dashboard/warm_up.py: the server's start-up imports."""
import logging
import sys

import pytest

from dashboard import warm_up


def test_warm_up_imports_and_skips_a_broken_module(caplog):
    sys.modules.pop("colorsys", None)
    with caplog.at_level(logging.WARNING, logger="genlab.warm_up"):
        seconds = warm_up.warm_up(("colorsys", "genlab_no_such_module"))
    assert "colorsys" in sys.modules
    assert seconds >= 0
    assert "genlab_no_such_module" in caplog.text


def test_every_listed_module_exists():
    import importlib.util

    missing = [name for name in warm_up.MODULES if importlib.util.find_spec(name) is None]
    assert missing == []


def test_calls_run_after_the_imports_and_a_failing_call_is_logged(caplog):
    done = []

    def broken():
        raise RuntimeError("no classifier")

    with caplog.at_level(logging.WARNING, logger="genlab.warm_up"):
        warm_up.warm_up(("colorsys",), calls=(("first", lambda: done.append(1)), ("broken", broken),
                                               ("last", lambda: done.append(2))))
    assert done == [1, 2]
    assert "broken failed: no classifier" in caplog.text


def test_the_warm_up_waits_while_a_page_script_runs_but_not_forever():
    import threading
    import time

    release = threading.Event()
    script = threading.Thread(target=release.wait, name=warm_up.SCRIPT_THREAD, daemon=True)
    script.start()
    try:
        start = time.monotonic()
        warm_up._yield_to_pages(max_s=0.3)                   # still running after 0.3 s: go on anyway
        assert 0.25 <= time.monotonic() - start < 2
        threading.Timer(0.2, release.set).start()
        start = time.monotonic()
        warm_up._yield_to_pages(max_s=5)                     # the script ends after 0.2 s
        assert 0.15 <= time.monotonic() - start < 2
    finally:
        release.set()
    start = time.monotonic()
    warm_up._yield_to_pages(max_s=5)                         # no script: at once
    assert time.monotonic() - start < 0.1


def test_the_warm_up_waits_until_browsers_stop_fetching(monkeypatch):
    import time

    monkeypatch.setattr(warm_up, "QUIET_S", 0.3)
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    call = warm_up.NoteRequests(app)({"type": "http", "path": "/static/js/x.js"}, None, None)
    with pytest.raises(StopIteration):   # run the coroutine by hand: this thread may already run a loop
        call.send(None)
    assert seen == ["http"]
    start = time.monotonic()
    warm_up._yield_to_pages(max_s=5)                         # a request just now: wait QUIET_S
    assert 0.2 <= time.monotonic() - start < 2
    start = time.monotonic()
    warm_up._yield_to_pages(max_s=5)                         # quiet since: at once
    assert time.monotonic() - start < 0.1
    warm_up.note_request()
    start = time.monotonic()
    warm_up._yield_to_pages(max_s=0.1)                       # never more than max_s
    assert time.monotonic() - start < 0.25


def test_the_one_time_calls_pay_what_a_first_page_would():
    from genlab import data

    assert [name for name, _ in warm_up.FIRST_CALLS + warm_up.LATER_CALLS] == ["first optimizer", "digits split",
                                                                                "cached classifier, its statistics, latent demos",
                                                                                "digit classifier",
                                                                                "classifier statistics",
                                                                                "latent spaces demos"]
    warm_up._first_optimizer()
    assert "torch._dynamo" in sys.modules                    # what the first optimizer of a process imports
    warm_up._digits()
    assert data._digits_split_once.cache_info().currsize == 1


def test_the_later_calls_start_after_the_first_request(monkeypatch):
    import threading
    import time

    calls = []
    monkeypatch.setattr(warm_up, "_last_request", float("-inf"))
    monkeypatch.setattr(warm_up, "QUIET_S", 0.05)
    monkeypatch.setattr(warm_up, "LATER_CALLS", (("note", lambda: calls.append(time.monotonic())),))
    monkeypatch.setattr(warm_up.gc, "freeze", lambda: None)
    thread = threading.Thread(target=warm_up._later, kwargs={"first_request_wait_s": 5}, daemon=True)
    thread.start()
    time.sleep(0.3)
    assert calls == []                                       # no request yet: nothing runs
    requested = time.monotonic()
    warm_up.note_request()
    thread.join(5)
    assert calls and calls[0] >= requested + 0.05            # after the request and a quiet moment
    start = time.monotonic()
    monkeypatch.setattr(warm_up, "_last_request", float("-inf"))
    warm_up._later(first_request_wait_s=0.2)                 # no request ever: it goes on after the wait
    assert len(calls) == 2 and time.monotonic() - start < 2


def test_the_latent_demos_are_loaded_and_scored_once_per_process(monkeypatch, tmp_path):
    """The Latent spaces page's first visit finds the shipped default AE / VAE encoded and scored."""
    from dashboard import latent_jobs as lj

    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path))        # an empty store: the shipped demos
    monkeypatch.setattr(lj, "_LOADED", type(lj._LOADED)())
    warm_up._latent_demos()
    d = lj.DEFAULTS
    configs = lj.pair_configs(d["dataset"], d["latent_dim"], d["beta"], d["epochs"], d["seed"], d["mc_samples"])
    for model, config in configs.items():
        run = lj.find_finished(config)
        assert run is not None and lj.is_demo(run)
        loaded = lj.load_model(run)
        assert {"codes", ("scores", 0)} <= set(loaded._cache)
