"""Page switches through the app's navigation (issue 23): a page opened again after another one opens
as a fresh visit of its address does, whatever was set on it or on the page before."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import PAGES_DIR

pytestmark = pytest.mark.skipif(not (PAGES_DIR / "bayesian_networks.py").is_file(),
                                reason="the Bayesian networks page is not present")


def _switch(at: AppTest, page: str) -> AppTest:
    """What a click in the sidebar does: the browser opens the page's address without a query string
    (AppTest's switch_page alone would keep the previous page's)."""
    for name in list(at.query_params):
        del at.query_params[name]
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_bayesian_networks_opened_again_is_fresh():
    at = AppTest.from_file(str(PAGES_DIR.parent / "app.py"), default_timeout=120)
    _switch(at, "pages/bayesian_networks.py")
    fresh_query = at.selectbox(key="bn_query").value
    assert dict(at.query_params) == {}
    other = next(name for name in at.selectbox(key="bn_query").options if name != fresh_query)
    at.selectbox(key="bn_query").set_value(other).run()
    assert at.query_params["query"] == other
    _switch(at, "pages/home.py")
    assert dict(at.query_params) == {}
    _switch(at, "pages/bayesian_networks.py")
    # the preset's query and evidence again, and nothing in the address (the leak wrote query=Cloudy&ev=none)
    assert at.selectbox(key="bn_query").value == fresh_query
    assert dict(at.query_params) == {}


def test_bayesian_networks_visited_twice_without_changes_keeps_its_preset_query():
    """The walk that found it: Bayesian networks, another page, Bayesian networks again. The query
    widget's state had gone with the page, the network had not: the page took the first variable as
    query and no evidence (?query=Cloudy&ev=none) instead of the preset's."""
    at = AppTest.from_file(str(PAGES_DIR.parent / "app.py"), default_timeout=120)
    _switch(at, "pages/bayesian_networks.py")
    fresh_query = at.selectbox(key="bn_query").value
    _switch(at, "pages/kl_discrete.py")
    _switch(at, "pages/bayesian_networks.py")
    assert at.selectbox(key="bn_query").value == fresh_query
    assert dict(at.query_params) == {}
