"""dashboard.first_paint: the instructor font goes into the app's HTML page, nothing else changes."""
from __future__ import annotations

import gzip

from dashboard.first_paint import InstructorFirstPaint, head_snippet, plotly_chunk, preload_snippet
from tests.conftest import run_coroutine

PAGE = b"<!DOCTYPE html><html><head><title>x</title></head><body></body></html>"


def _inner(body: bytes, content_type: bytes = b"text/html; charset=utf-8", gzip_if_asked: bool = True):
    seen: dict = {}

    async def app(scope, receive, send):
        seen["headers"] = dict(scope["headers"])
        data, headers = body, [(b"content-type", content_type), (b"etag", b'"abc"')]
        if gzip_if_asked and b"gzip" in seen["headers"].get(b"accept-encoding", b""):
            data = gzip.compress(body)
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(data)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data[:10], "more_body": True})
        await send({"type": "http.response.body", "body": data[10:]})

    return app, seen


def _get(app, path: str) -> tuple[dict, bytes]:
    sent: list = []

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": [(b"accept-encoding", b"gzip, br")]}
    run_coroutine(app(scope, receive, send))
    headers = dict(sent[0]["headers"])
    return headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_the_page_gets_the_snippet_at_the_start_of_head():
    inner, seen = _inner(PAGE)
    headers, body = _get(InstructorFirstPaint(inner, root_font_px=22), "/kl_discrete")
    assert b"accept-encoding" not in seen["headers"]          # asked uncompressed, so it can be edited
    assert body == PAGE.replace(b"<head>", b"<head>" + head_snippet(22))
    assert b"html.genlab-instructor{font-size:22px}" in body
    assert headers[b"content-length"] == str(len(body)).encode()
    assert b"etag" not in headers


def test_files_and_streamlit_endpoints_pass_through_untouched():
    for path in ("/static/js/main.js", "/_stcore/health", "/genlab/live/abc", "/media/x.png"):
        inner, seen = _inner(PAGE)
        headers, body = _get(InstructorFirstPaint(inner), path)
        assert gzip.decompress(body) == PAGE, path              # still compressed, unchanged
        assert seen["headers"][b"accept-encoding"] == b"gzip, br"


def test_other_content_types_are_left_alone():
    inner, _ = _inner(b'{"a": "<head>"}', content_type=b"application/json", gzip_if_asked=False)
    headers, body = _get(InstructorFirstPaint(inner), "/api")
    assert body == b'{"a": "<head>"}'
    assert headers[b"etag"] == b'"abc"'


def test_plotly_chunk_is_preloaded_on_every_page_but_home(tmp_path):
    js = tmp_path / "static" / "js"
    js.mkdir(parents=True)
    (js / "PlotlyChart.abc123.js").write_text("export default 1")
    (js / "index.x.js").write_text("")
    chunk = plotly_chunk(tmp_path)
    assert chunk == "PlotlyChart.abc123.js"
    app = InstructorFirstPaint(_inner(PAGE)[0], root_font_px=22, plotly=chunk)
    _, body = _get(app, "/kl_discrete")
    assert body == PAGE.replace(b"<head>", b"<head>" + head_snippet(22) + preload_snippet(chunk))
    assert b'rel="modulepreload" crossorigin href="./static/js/PlotlyChart.abc123.js"' in body
    assert b"import('./static/js/PlotlyChart.abc123.js')" in body
    for home in ("/", "/home"):
        _, body = _get(InstructorFirstPaint(_inner(PAGE)[0], root_font_px=22, plotly=chunk), home)
        assert body == PAGE.replace(b"<head>", b"<head>" + head_snippet(22)), home


def test_no_plotly_chunk_no_preload(tmp_path):
    assert plotly_chunk(tmp_path) is None                      # no static/js folder at all
    assert plotly_chunk() is not None                          # the installed Streamlit has one
    _, body = _get(InstructorFirstPaint(_inner(PAGE)[0], root_font_px=22, plotly=None), "/kl_discrete")
    assert body == PAGE.replace(b"<head>", b"<head>" + head_snippet(22))
