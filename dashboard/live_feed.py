"""Live feeds: the browser fetches a training page's live figures itself, between Streamlit reruns.

Why: refreshing the 2D GAN page's live canvas through a Streamlit fragment rerun cost the browser
~150 ms of main-thread time per refresh (measured, headless Chromium on 2 cores: Streamlit's
front end re-renders the page's ~40 elements and hands the component its new data) and the server
~35 ms of script-run overhead on top of building the figures. Ten students' tabs on one 2-core
machine starved each other (issue 8). A feed is one small HTTP GET per refresh instead: the server
builds the figures' JSON only when the job published something new, the browser parses it and
redraws only the canvases whose figure changed; no script rerun, no React re-render.

Pieces:

* the page (script thread) calls :func:`publish` with a pure ``build()`` (no ``st.*``: it runs in a
  server worker thread) and a ``changed()`` key that differs whenever ``build()`` would return
  something new, and hands the returned token's :func:`url` to the component;
* ``GET {baseUrlPath}/genlab/live/{token}?since=N&wait=S`` (:func:`routes`, mounted by
  ``dashboard/serve.py``, the server ``make run`` starts) answers ``build()``'s JSON with its
  ``version`` as soon as there is something newer than version ``N`` (long polling, up to ``S``
  seconds), else 204; 404 when the feed is gone;
* :func:`drop_session` forgets a closed tab's feeds (``common.job_session``'s ``on_release``).

Tokens are random (``secrets.token_urlsafe``): a feed is readable only by the page it was made
for, and nothing in the request reaches a file path, a shell or ``eval``. Served by plain
``streamlit run dashboard/app.py`` (no route), :func:`available` is False and pages fall back to
polling with a fragment.
"""
from __future__ import annotations

import json
import logging
import math
import secrets
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable

__all__ = ["PLOTLY_ROUTE", "ROUTE", "Feed", "available", "drop_session", "figure_entry", "has_news", "plotly_url",
           "publish", "read", "routes", "url"]

log = logging.getLogger("genlab.dashboard.live_feed")

ROUTE = "/genlab/live/{token}"
PLOTLY_ROUTE = "/genlab/plotly.min.js"      # the plotly package's own plotly.js (the Plotly live renderer)
_UNSET = object()


@dataclass
class Feed:
    """One live view of one session: what :func:`read` serves for its token."""

    session_id: str
    name: str
    build: Callable[[], dict]
    changed: Callable[[], Hashable]
    options: Hashable = None
    generation: int = 0                 # bumped when publish() brings new options (e.g. a layer toggled)
    version: int = 0                    # number of the payload last built
    reads: int = 0
    builds: int = 0
    _last_key: Any = _UNSET
    _body: bytes = b""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


_FEEDS: dict[str, Feed] = {}                  # token -> feed
_TOKENS: dict[tuple[str, str], str] = {}      # (session id, name) -> token
_LOCK = threading.Lock()
_MOUNTED = {"base": None}                     # set by routes(): the URL prefix the route answers under


def publish(session_id: str, name: str, build: Callable[[], dict], changed: Callable[[], Hashable],
            options: Hashable = None) -> str:
    """Serve ``build()`` as the live feed ``name`` of session ``session_id``; return its token.

    The token stays the same for the session and ``name``, so the page's component keeps polling
    one URL. ``options`` says what ``build`` draws with (e.g. the layers shown): a rerun with the
    same options keeps the feed as it is (and the browser is not asked to fetch again); other
    options replace ``build`` and ``changed`` and bump the feed's generation (the next read rebuilds)."""
    key = (str(session_id), str(name))
    with _LOCK:
        token = _TOKENS.get(key)
        feed = _FEEDS.get(token) if token else None
        if feed is None:
            token = secrets.token_urlsafe(18)
            feed = Feed(session_id=key[0], name=key[1], build=build, changed=changed, options=options)
            _FEEDS[token] = feed
            _TOKENS[key] = token
            return token
    with feed.lock:
        if options is None or options != feed.options:
            feed.build, feed.changed, feed.options = build, changed, options
            feed.generation += 1
    return token


def generation(token: str) -> int:
    """How often the feed's ``build`` was replaced (0 for an unknown token)."""
    feed = _FEEDS.get(token)
    return feed.generation if feed else 0


def drop_session(session_id: str) -> int:
    """Forget every feed of ``session_id`` (its tab closed); return how many there were."""
    session_id = str(session_id)
    with _LOCK:
        keys = [k for k in _TOKENS if k[0] == session_id]
        for key in keys:
            _FEEDS.pop(_TOKENS.pop(key), None)
    return len(keys)


def feeds() -> list[Feed]:
    """The live feeds (tests and the load test's figures)."""
    with _LOCK:
        return list(_FEEDS.values())


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def to_json(payload: Any) -> str:
    """Compact JSON; NaN and infinities become null (the browser's JSON.parse refuses them)."""
    try:
        return json.dumps(payload, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(payload), separators=(",", ":"), allow_nan=False)


def figure_entry(key: str, spec: dict) -> dict:
    """``{"key", "spec", "rev"}``: ``rev`` (a CRC-32 of the spec's JSON) lets the browser skip
    redrawing a figure that did not change since it last drew it."""
    text = to_json(spec)
    return {"key": key, "spec": spec, "rev": zlib.crc32(text.encode())}


def read(token: str, since: str | int | None = None) -> tuple[int, bytes]:
    """``(HTTP status, body)`` for a request of feed ``token``: 200 and the JSON of ``build()``
    with ``"version"`` added (rebuilt only when ``changed()`` or the generation differs from the
    last build), 204 when the client already has that version (``since``), 404 for an unknown
    token, 500 (message logged) when ``build`` fails."""
    feed = _FEEDS.get(str(token))
    if feed is None:
        return 404, b'{"gone":true}'
    with feed.lock:
        feed.reads += 1
        try:
            key = (feed.generation, feed.changed())
            if key != feed._last_key:
                payload = dict(feed.build())
                feed.version += 1
                feed.builds += 1
                payload["version"] = feed.version
                feed._body = to_json(payload).encode()
                feed._last_key = key
        except Exception as err:  # noqa: BLE001 - the page keeps polling; the log says why
            log.exception("live feed %s of session %s failed", feed.name, feed.session_id)
            return 500, to_json({"error": f"{type(err).__name__}: {err}"}).encode()
        if since is not None and str(since) == str(feed.version):
            return 204, b""
        return 200, feed._body


def has_news(token: str, since: str | int | None) -> bool:
    """Whether a read of ``token`` would answer more than 204 to a client that has version ``since``
    (cheap: no build). Unknown tokens have news (the 404)."""
    feed = _FEEDS.get(str(token))
    if feed is None or since is None or str(since) != str(feed.version):
        return True
    try:
        return (feed.generation, feed.changed()) != feed._last_key
    except Exception:  # noqa: BLE001 - read() reports it
        return True


def available() -> bool:
    """Whether this server answers feed requests (``dashboard/serve.py`` mounted :func:`routes`)."""
    return _MOUNTED["base"] is not None


def url(token: str) -> str:
    """The path the browser fetches for ``token`` (under Streamlit's ``server.baseUrlPath``)."""
    return f"{_MOUNTED['base'] or ''}/genlab/live/{token}"


def plotly_url() -> str:
    """The path of plotly.js on this server (the plotly package's ``package_data/plotly.min.js``)."""
    return f"{_MOUNTED['base'] or ''}{PLOTLY_ROUTE}"


def routes(base_url: str | None = "", *, check_every_s: float = 0.05, max_wait_s: float = 2.0) -> list:
    """The Starlette routes of the feeds and of plotly.js (:func:`plotly_url`, for the Plotly live
    renderer), for ``st.App(..., routes=...)``; ``base_url`` is Streamlit's ``server.baseUrlPath``
    (user routes are not prefixed with it by Streamlit).

    Long polling: with ``?since=N&wait=S`` the request is held (up to ``S`` seconds, at most
    ``max_wait_s``) until the feed has something newer than version ``N``, checked every
    ``check_every_s``: the browser gets each publish of the job within ~50 ms instead of at its next
    poll, and an idle feed costs one request per ``S`` seconds."""
    import asyncio

    import plotly
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    base = "/" + base_url.strip("/") if base_url and base_url.strip("/") else ""
    # held requests -> what they wait for; one ticker checks them all (one wakeup per tick, not
    # one per held request: every wakeup needs the GIL, which the training threads want too)
    waiting: dict[asyncio.Event, tuple[str, str | None]] = {}
    ticker: dict[str, asyncio.Task | None] = {"task": None}

    async def tick() -> None:
        try:
            while waiting:
                await asyncio.sleep(check_every_s)
                for event, (token, since) in list(waiting.items()):
                    if has_news(token, since):
                        event.set()
        finally:
            ticker["task"] = None

    async def live_feed(request):
        token = request.path_params["token"]
        since = request.query_params.get("since")
        try:
            wait = min(max(float(request.query_params.get("wait", 0)), 0.0), max_wait_s)
        except ValueError:
            wait = 0.0
        if not math.isfinite(wait):
            wait = 0.0
        if wait > 0 and not has_news(token, since):
            event = asyncio.Event()
            waiting[event] = (token, since)
            if ticker["task"] is None or ticker["task"].done():
                ticker["task"] = asyncio.get_running_loop().create_task(tick())
            try:
                await asyncio.wait_for(event.wait(), wait)
            except asyncio.TimeoutError:
                pass
            finally:
                waiting.pop(event, None)
        # build() takes the GIL for milliseconds: a worker thread, never the event loop that
        # carries every session's websocket
        status, body = await run_in_threadpool(read, token, since)
        return Response(body, status_code=status, media_type=None if status == 204 else "application/json",
                        headers={"Cache-Control": "no-store"})

    plotly_js = Path(plotly.__file__).with_name("package_data") / "plotly.min.js"

    async def plotly_script(request):
        return FileResponse(plotly_js, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    _MOUNTED["base"] = base
    return [Route(base + ROUTE, live_feed, methods=["GET"]),
            Route(base + PLOTLY_ROUTE, plotly_script, methods=["GET"])]
