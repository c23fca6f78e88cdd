"""dashboard/warm_up.py: the server's start-up imports."""
import logging
import sys

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
