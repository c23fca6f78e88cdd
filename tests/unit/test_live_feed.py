"""dashboard.live_feed: what the browser fetches while a model trains (no Streamlit rerun)."""
from __future__ import annotations

import json
import math
import threading

import pytest
from starlette.applications import Starlette

from dashboard import live_feed
from tests.conftest import run_coroutine


@pytest.fixture(autouse=True)
def _fresh_feeds(monkeypatch):
    """Each test its own feed tables; routes() here never marks this test process as a feed server
    (the AppTest page tests in the same worker must keep their fragment polling)."""
    monkeypatch.setattr(live_feed, "_FEEDS", {})
    monkeypatch.setattr(live_feed, "_TOKENS", {})
    monkeypatch.setattr(live_feed, "_MOUNTED", {"base": None})


class Source:
    """A stand-in job: ``version`` changes when it publishes; ``build`` counts its calls."""

    def __init__(self):
        self.version, self.calls = 0, 0

    def changed(self):
        return self.version

    def build(self):
        self.calls += 1
        return {"state": "running", "step": self.version, "figures": []}


def test_a_token_is_random_and_stays_the_same_for_a_session_and_name():
    a, b = Source(), Source()
    token = live_feed.publish("session-1", "plane", a.build, a.changed)
    assert len(token) >= 24 and token.replace("-", "").replace("_", "").isalnum()
    assert live_feed.publish("session-1", "plane", b.build, b.changed) == token   # a rerun: same URL
    assert live_feed.generation(token) == 1
    assert live_feed.publish("session-1", "charts", a.build, a.changed) != token
    assert live_feed.publish("session-2", "plane", a.build, a.changed) != token
    assert live_feed.read(token)[0] == 200 and b.calls == 1 and a.calls == 0       # the newest build serves


def test_read_builds_only_when_the_source_changed_and_answers_204_to_a_client_that_has_it():
    source = Source()
    token = live_feed.publish("s", "plane", source.build, source.changed)
    status, body = live_feed.read(token)
    payload = json.loads(body)
    assert status == 200 and payload["version"] == 1 and payload["state"] == "running"
    assert live_feed.read(token) == (200, body) and source.calls == 1         # no change: the same bytes
    assert live_feed.read(token, since="1") == (204, b"")                      # the client has version 1
    source.version += 1                                                         # the job published
    status, body = live_feed.read(token, since="1")
    assert status == 200 and json.loads(body) == {"state": "running", "step": 1, "figures": [], "version": 2}
    assert source.calls == 2
    live_feed.publish("s", "plane", source.build, source.changed)              # new options (a rerun)
    status, body = live_feed.read(token, since="2")
    assert status == 200 and json.loads(body)["version"] == 3 and source.calls == 3


def test_unknown_and_dropped_feeds_are_gone():
    source = Source()
    assert live_feed.read("no-such-token") == (404, b'{"gone":true}')
    token = live_feed.publish("tab", "plane", source.build, source.changed)
    other = live_feed.publish("other tab", "plane", source.build, source.changed)
    assert live_feed.drop_session("tab") == 1
    assert live_feed.read(token)[0] == 404 and live_feed.read(other)[0] == 200
    assert live_feed.drop_session("tab") == 0


def test_a_failing_build_answers_500_with_the_reason_and_the_feed_recovers(caplog):
    state = {"fail": True, "version": 0}

    def build():
        if state["fail"]:
            raise ValueError("no snapshot yet")
        return {"ok": True}

    token = live_feed.publish("s", "plane", build, lambda: state["version"])
    status, body = live_feed.read(token)
    assert status == 500 and json.loads(body) == {"error": "ValueError: no snapshot yet"}
    assert "live feed plane of session s failed" in caplog.text
    state["fail"] = False
    assert live_feed.read(token)[0] == 200


def test_nan_and_infinity_become_null():
    text = live_feed.to_json({"a": [1.0, math.nan], "b": {"c": math.inf}, "d": "x"})
    assert json.loads(text) == {"a": [1.0, None], "b": {"c": None}, "d": "x"}
    first, same, other = (live_feed.figure_entry("k", {"data": [1]}), live_feed.figure_entry("k", {"data": [1]}),
                          live_feed.figure_entry("k", {"data": [2]}))
    assert first["rev"] == same["rev"] != other["rev"]          # the browser redraws only what changed


def test_reads_from_many_threads_build_once_per_change():
    source = Source()
    token = live_feed.publish("s", "plane", source.build, source.changed)
    results = []

    def reader():
        for _ in range(50):
            results.append(live_feed.read(token)[0])

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) == {200} and source.calls == 1


def _request(app, path: str, query: str = "", method: str = "GET") -> tuple[int, dict, bytes]:
    """One HTTP request through the ASGI app (what uvicorn hands it): (status, headers, body)."""
    messages = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
             "headers": [(b"host", b"127.0.0.1")], "server": ("127.0.0.1", 8501), "client": ("127.0.0.1", 5000)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    run_coroutine(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


@pytest.mark.parametrize("base_url, path", [("", "/genlab/live/"), ("class/", "/class/genlab/live/"),
                                            ("/a/b", "/a/b/genlab/live/")])
def test_the_route_serves_feeds_over_http(base_url, path):
    source = Source()
    assert not live_feed.available()
    app = Starlette(routes=live_feed.routes(base_url))
    assert live_feed.available()
    token = live_feed.publish("s", "plane", source.build, source.changed)
    assert live_feed.url(token) == path + token
    status, headers, body = _request(app, path + token)
    assert status == 200 and json.loads(body)["version"] == 1
    assert headers["cache-control"] == "no-store" and headers["content-type"].startswith("application/json")
    assert _request(app, path + token, "since=1")[0] == 204
    assert _request(app, path + "not-a-token")[0] == 404
    assert _request(app, path + token, method="POST")[0] == 405         # read only
    assert _request(app, path + "a/../" + token)[0] == 404              # one path segment, never a file path


def test_a_rerun_with_the_same_options_keeps_the_feed_and_new_options_rebuild_it():
    first, second = Source(), Source()
    token = live_feed.publish("s", "plane", first.build, first.changed, options=("job-1", ("real",)))
    assert live_feed.read(token)[0] == 200 and first.calls == 1
    live_feed.publish("s", "plane", second.build, second.changed, options=("job-1", ("real",)))
    assert live_feed.generation(token) == 0 and live_feed.read(token, since="1") == (204, b"")
    live_feed.publish("s", "plane", second.build, second.changed, options=("job-1", ()))   # a layer off
    assert live_feed.generation(token) == 1 and live_feed.read(token, since="1")[0] == 200
    assert second.calls == 1 and first.calls == 1


def test_long_polling_answers_as_soon_as_the_job_publishes_and_204_after_the_wait():
    import time

    source = Source()
    app = Starlette(routes=live_feed.routes("", check_every_s=0.01))
    token = live_feed.publish("s", "plane", source.build, source.changed)
    path = live_feed.url(token)
    assert json.loads(_request(app, path)[2])["version"] == 1
    began = time.monotonic()
    assert _request(app, path, "since=1&wait=0.3")[0] == 204            # nothing new: held, then 204
    assert 0.25 <= time.monotonic() - began < 2
    threading.Timer(0.1, lambda: setattr(source, "version", 1)).start()  # the job publishes meanwhile
    began = time.monotonic()
    status, _, body = _request(app, path, "since=1&wait=1.5")
    assert status == 200 and json.loads(body)["version"] == 2
    assert time.monotonic() - began < 1.0
    for wait in ("abc", "nan", "-5"):                                    # a bad wait: no hold
        assert _request(app, path, f"since=2&wait={wait}")[0] == 204
    assert live_feed.has_news("no-such-token", "1") and not live_feed.has_news(token, "2")
