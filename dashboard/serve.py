"""genlab's server: ``streamlit run dashboard/serve.py`` (what ``make run`` starts) from the repo root.

The same app as ``dashboard/app.py`` (the router that ``st.App`` runs for every session), served
with one extra route: ``GET /genlab/live/{token}``, the live feeds of training pages
(``dashboard/live_feed.py``). Through it a tab fetches its live figures itself while a model
trains, instead of rerunning a Streamlit fragment per refresh: that is what lets many students
share one server. ``streamlit run dashboard/app.py`` still works; its live pages then poll
with fragment reruns.

It also puts instructor mode's root font size into the app's HTML page when the address says
``?instructor=1`` (``dashboard/first_paint.py``): tables then mount at projector size on the
first load instead of at 14 px; on every page but Home it also starts loading the front end's Plotly
chunk while the app connects and the page's script runs. And it imports what the pages need before
it listens, the rarer one-time costs in a thread (``dashboard/warm_up.py``), so the first page after a start does not
pay for torch and Plotly.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `from dashboard import live_feed` (the pages import the same module)
    sys.path.insert(0, str(ROOT))

from dashboard import socket_options, warm_up  # noqa: E402

socket_options.enable_tcp_nodelay()  # answers without Nagle's ~40 ms wait (dashboard/socket_options.py)
warm_up.start()  # the pages' heavy imports before the server listens (dashboard/warm_up.py)

import streamlit as st  # noqa: E402
from streamlit import config, delta_generator  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402

# dashboard/pages/ would make Streamlit run a deep link's page script alone (its old pages-folder
# mode) until a script calls st.navigation; the page then reruns itself through app.py
# (common._leave_pages_folder_mode). Every script here runs under app.py's st.navigation, so the
# first page after a start goes there at once instead of running twice.
PagesManager.uses_pages_directory = False
# Streamlit's first element in a process checks that it was not imported outside `streamlit run`
# with inspect.stack(), which maps every imported module to its file in the first page's script.
# This file only ever runs under `streamlit run`; there is nothing to warn about.
delta_generator._use_warning_has_been_displayed = True

from starlette.middleware import Middleware  # noqa: E402

from dashboard import live_feed  # noqa: E402
from dashboard.common import INSTRUCTOR_ROOT_FONT_PX  # noqa: E402
from dashboard.first_paint import InstructorFirstPaint, plotly_chunk  # noqa: E402

# GENLAB_LOG=debug (or info, warning): genlab's own log lines (job turns, publishes, feed builds)
# on the server's console; Streamlit's logger.level setting is left to Streamlit.
_level = os.environ.get("GENLAB_LOG", "").strip().upper()
if _level:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.getLogger("genlab").addHandler(_handler)
    if _level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        logging.getLogger("genlab").setLevel(_level)
    else:
        logging.getLogger("genlab").warning("GENLAB_LOG=%r is not a log level (debug, info, warning, error): "
                                            "ignored", _level.lower())

app = st.App("app.py", routes=live_feed.routes(config.get_option("server.baseUrlPath")),
             middleware=[Middleware(warm_up.NoteRequests),
                         Middleware(InstructorFirstPaint, root_font_px=INSTRUCTOR_ROOT_FONT_PX,
                                    plotly=plotly_chunk())])
