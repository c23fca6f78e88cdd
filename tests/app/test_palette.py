"""The figure palette option (issue 20 §5) in a page: ``?palette=cb`` and the sidebar toggle draw the
figures in the colour-blind-safe palette, the choice carries to the next page like the theme, and an
unknown value falls back to the default colours with a warning."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.figures.palette import COLOUR_BLIND, DEFAULT

ROOT = Path(__file__).resolve().parents[2]
DISCRETE = str(ROOT / "dashboard" / "pages" / "kl_discrete.py")
TOGGLE = "_genlab_palette_w"


def _open(**params) -> AppTest:
    at = AppTest.from_file(DISCRETE, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _bar_colours(at: AppTest) -> set[str]:
    """The bar colours of the page's plotly figures."""
    colours = set()
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            colour = (trace.get("marker") or {}).get("color")
            if isinstance(colour, str):
                colours.add(colour)
    return colours


def test_palette_cb_in_the_address_recolours_the_figures():
    default = _bar_colours(_open())
    assert {DEFAULT.q, DEFAULT.p, DEFAULT.kl_qp, DEFAULT.kl_pq} <= default
    at = _open(palette="cb")
    cb = _bar_colours(at)
    assert {COLOUR_BLIND.q, COLOUR_BLIND.p, COLOUR_BLIND.kl_qp, COLOUR_BLIND.kl_pq} <= cb
    assert not cb & default
    assert at.toggle(key=TOGGLE).value is True and at.query_params["palette"] == "cb"
    assert not at.warning


def test_sidebar_toggle_sets_the_palette_and_the_address():
    at = _open()
    assert at.toggle(key=TOGGLE).value is False and "palette" not in at.query_params
    at.toggle(key=TOGGLE).set_value(True).run()
    assert at.query_params["palette"] == "cb" and COLOUR_BLIND.q in _bar_colours(at)
    at.toggle(key=TOGGLE).set_value(False).run()
    assert "palette" not in at.query_params and DEFAULT.q in _bar_colours(at)


def test_unknown_palette_falls_back_to_the_default_with_a_warning():
    at = _open(palette="[neon](http://example.com)")
    warnings = [w.value for w in at.warning]
    assert any("unknown figure palette" in w and "palette=cb" in w for w in warnings), warnings
    assert not any("](http" in w for w in warnings), "the address's text is shown literally, not as a link"
    assert DEFAULT.q in _bar_colours(at) and "palette" not in at.query_params
    at.run()        # said once: the address no longer has the bad value
    assert not any("unknown figure palette" in w.value for w in at.warning)


def test_palette_carries_to_the_next_page():
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.query_params["palette"] = "cb"
    at.switch_page("pages/kl_discrete.py").run()
    assert not at.exception and COLOUR_BLIND.q in _bar_colours(at)
    for name in list(at.query_params):          # a sidebar click opens the page without a query string
        del at.query_params[name]
    at.switch_page("pages/gaussian_kl.py").run()
    assert not at.exception, at.exception
    assert at.query_params["palette"] == "cb" and at.toggle(key=TOGGLE).value is True
    lines = {t.get("line", {}).get("color") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]}
    assert COLOUR_BLIND.p in lines and DEFAULT.p not in lines


def test_gan2d_live_view_draws_in_the_sessions_palette(tmp_path, monkeypatch):
    """The live canvas draws what the page's live feeds send: with ?palette=cb the plane's real and fake
    points and the loss chart come in the colour-blind palette's colours while the model trains."""
    import time

    import torch

    from dashboard import live_feed
    from genlab.jobs import get_job_manager

    torch.set_num_threads(1)
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(live_feed, "_MOUNTED", {"base": ""})       # as if mounted by dashboard/serve.py
    at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / "gan_2d.py"), default_timeout=120)
    for name, value in {"layers": "1", "width": "16", "palette": "cb"}.items():
        at.query_params[name] = value
    at.run()
    try:
        at.button(key="_gan2d_play").click().run()
        assert not at.exception, [e.value for e in at.exception]
        deadline = time.monotonic() + 120
        while not get_job_manager().jobs(active_only=True) and time.monotonic() < deadline:
            time.sleep(0.2)
        job = get_job_manager().jobs(active_only=True)[-1]
        while job.snapshot().get("step", 0) < 3 and not job.done and time.monotonic() < deadline:
            time.sleep(0.2)
        at.run()
        feeds = {f.name: f for f in live_feed.feeds() if f.name in ("gan2d_plane", "gan2d_charts")}
        tokens = {name: next(t for t, f in live_feed._FEEDS.items() if f is feed) for name, feed in feeds.items()}
        plane = json.loads(live_feed.read(tokens["gan2d_plane"])[1])["figures"][0]["spec"]["data"]
        colours = {t.get("name"): (t.get("marker") or {}).get("color") for t in plane}
        assert colours["real x ~ p_data"] == COLOUR_BLIND.real and colours["fake G(z)"] == COLOUR_BLIND.fake
        heat = next(t for t in plane if t["type"] == "heatmap")
        assert [list(s) for s in heat["colorscale"]] == [list(s) for s in COLOUR_BLIND.d_colorscale]
        charts = json.loads(live_feed.read(tokens["gan2d_charts"])[1])["figures"]
        loss = next(f for f in charts if f["key"] == "gan2d_loss")["spec"]["data"]
        assert [t["line"]["color"] for t in loss] == [COLOUR_BLIND.real, COLOUR_BLIND.fake]
    finally:
        for job in get_job_manager().jobs(active_only=True):
            job.stop()
        for job in get_job_manager().jobs(active_only=True):
            job.wait(60)


def _page_text(path: str, **params) -> str:
    at = AppTest.from_file(path, default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info") for e in at.get(kind))


def test_page_text_names_the_colours_of_the_sessions_palette():
    """Text that names a colour names the one drawn: under ?palette=cb real points are blue, not green."""
    gan = str(ROOT / "dashboard" / "pages" / "gan_2d.py")
    default, cb = _page_text(gan), _page_text(gan, palette="cb")
    assert "Green points are real" in default and "purple where it says *fake*" in default
    assert "Blue points are real" in cb and "orange where it says *fake*" in cb and "pink **arrows**" in cb
    assert "Green points" not in cb and "purple" not in cb
    gaussian = str(ROOT / "dashboard" / "pages" / "gaussian_kl.py")
    assert "the light blue label in the plot's corner" in _page_text(gaussian, palette="cb", descent="1")
