"""Start-up shim of the ``cold_app_server`` fixture (tests/browser/conftest.py), never of the app: the
first import of pandas takes 2 s more, as on a slow or busy machine. Only then is a first visit that
imports pandas itself slow enough for its spinner (Streamlit shows one after 0.5 s); on a fast machine
the test of that spinner would otherwise fail for want of a slow visit."""
import builtins
import sys
import time

_import = builtins.__import__


def _slow_first_pandas(name, *args, **kwargs):
    if name == "pandas" and "pandas" not in sys.modules:
        time.sleep(2.0)
    return _import(name, *args, **kwargs)


builtins.__import__ = _slow_first_pandas
