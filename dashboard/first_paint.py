"""Instructor mode from the first paint: an ASGI middleware for ``dashboard/serve.py``.

Why: Streamlit's tables (``st.dataframe``, ``st.data_editor``) draw on a canvas with pixel sizes
that the front end computes once, when the table mounts, from the root font size. Instructor
mode sets that size (22 px) with CSS that arrives as an ``st.html`` element; on a fresh load
that element's code is fetched lazily and its style lands after the first tables mounted, so they
stayed at 14 px (measured: data editor 14 px, body text 24 px) until the page was loaded again.

The middleware adds a few lines to the ``<head>`` of the app's HTML page (the one answer that is
``text/html``): a rule ``html.genlab-instructor { font-size: 22px }`` and a script that sets that
class whenever the address says ``instructor=1`` (at load, and on every ``history`` change,
which is how Streamlit writes query parameters). So a link with ``?instructor=1`` renders at
projector size before anything mounts. ``dashboard/common.py`` keeps its own CSS (served by plain
``streamlit run dashboard/app.py`` too); both say the same size.

The same insertion starts loading Plotly's chunk of Streamlit's front end (``plotly_chunk``) on every
page but Home: Streamlit fetches, compiles and runs that 4.7 MB module only when the first chart
arrives, after the page's script has run; started from ``<head>``, it loads while the app connects
and the script runs on the server (issue 22 §1: pages ready within 2 s). Home draws no chart, so it
does not load it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable

__all__ = ["InstructorFirstPaint", "head_snippet", "plotly_chunk", "preload_snippet"]

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

# Paths that never answer the HTML page: Streamlit's own endpoints and files, the live feeds.
_NOT_PAGES = ("/_stcore/", "/static/", "/media/", "/component/", "/genlab/", "/app/static/")


def head_snippet(root_font_px: int) -> bytes:
    """The ``<style>`` and ``<script>`` put at the start of ``<head>``."""
    return (
        "<style>html.genlab-instructor{font-size:%dpx}</style>"
        "<script>(function(){var d=document.documentElement;"
        "function sync(){var m=/[?&]instructor=([^&#]*)/.exec(location.search);"
        "d.classList.toggle('genlab-instructor',!!m&&/^(1|true|yes|on)$/i.test(decodeURIComponent(m[1])));}"
        "sync();['pushState','replaceState'].forEach(function(n){var o=history[n];"
        "history[n]=function(){var r=o.apply(this,arguments);sync();return r;};});"
        "addEventListener('popstate',sync);})();</script>" % root_font_px
    ).encode()


def plotly_chunk(static_dir: str | Path | None = None) -> str | None:
    """The file name of the front end's Plotly chunk (``PlotlyChart.<hash>.js``), or None when this
    Streamlit has none (then nothing is preloaded). ``static_dir``: Streamlit's ``static`` folder."""
    if static_dir is None:
        import streamlit

        static_dir = Path(streamlit.__file__).parent / "static"
    found = sorted((Path(static_dir) / "static" / "js").glob("PlotlyChart.*.js"))
    return found[0].name if len(found) == 1 else None


def preload_snippet(chunk: str) -> bytes:
    """``<head>`` lines that fetch and compile the front end's chunk ``chunk`` at once (off the main
    thread) and run it as soon as the app has mounted (its root says a script state): the browser
    then waits for its websocket and for the page's script on the server, and the module's
    evaluation fills that wait instead of delaying the script's first elements. An ES module runs
    once per page load, whoever imports it first. Relative, like Streamlit's own asset links, so
    they resolve under a base URL path too."""
    href = f"./static/js/{chunk}"
    script = ("(function(){var done=false;function go(){if(done)return;done=true;o.disconnect();"
              "import('%s').catch(function(){});}"
              "var o=new MutationObserver(function(){var a=document.querySelector('[data-testid=\"stApp\"]');"
              "if(a&&a.getAttribute('data-test-script-state'))go();});"
              "o.observe(document.documentElement,{subtree:true,attributes:true,"
              "attributeFilter:['data-test-script-state'],childList:true});})();" % href)
    return f'<link rel="modulepreload" crossorigin href="{href}"><script>{script}</script>'.encode()


def _is_home(path: str) -> bool:
    return path.rstrip("/").rsplit("/", 1)[-1] in ("", "home")


def _maybe_page(path: str) -> bool:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return "." not in last and not any(part in path + "/" for part in _NOT_PAGES)


class InstructorFirstPaint:
    """ASGI middleware: inserts :func:`head_snippet` into the app's HTML page (see the module docstring).

    Only GET requests for page paths are touched; their answer is read whole (the page is ~2 kB)
    and asked for without compression, so the snippet can be inserted. Other answers pass through.
    ``plotly``: the Plotly chunk's file name (:func:`plotly_chunk`), preloaded on every page but Home.
    """

    def __init__(self, app: ASGIApp, root_font_px: int = 22, plotly: str | None = None) -> None:
        self.app = app
        self.snippet = head_snippet(root_font_px)
        self.preload = preload_snippet(plotly) if plotly else b""

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET" or not _maybe_page(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        snippet = self.snippet if _is_home(scope.get("path", "")) else self.snippet + self.preload
        scope = dict(scope)
        scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_page(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await self._send_page(start, b"".join(chunks), send, snippet)

        await self.app(scope, receive, send_page)

    async def _send_page(self, start: Message, body: bytes, send, snippet: bytes) -> None:
        headers = list(start.get("headers", []))
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        encoded = any(k.lower() == b"content-encoding" for k, _ in headers)
        if content_type.startswith(b"text/html") and not encoded and b"<head>" in body:
            body = body.replace(b"<head>", b"<head>" + snippet, 1)
            headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"etag")]
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
