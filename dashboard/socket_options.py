"""TCP_NODELAY on the server's connections (``dashboard/serve.py`` calls :func:`enable_tcp_nodelay`).

Why: Streamlit's Starlette server binds its listening socket itself, as ``socket.socket(family)``,
whose protocol number is 0, not ``IPPROTO_TCP``. asyncio turns Nagle's algorithm off on each new
connection only when the socket's protocol number says TCP (``asyncio.base_events._set_nodelay``),
so on these connections it stayed on. A response written in two pieces (headers, then body) then
held its last small piece until the browser acknowledged the first, and browsers delay that
acknowledgement: every HTTP answer arrived ~40 ms late (measured: ``/_stcore/health`` 44 ms per
request on a kept-alive connection, plain uvicorn 0.3 ms), so the ~100 files of the front end's
first load took ~0.7 s on localhost.

The fix: asyncio's check also accepts protocol 0 on an IPv4/IPv6 stream socket (which is TCP), so
every connection the event loop makes from then on has TCP_NODELAY, as asyncio means it to.
"""
from __future__ import annotations

import asyncio.base_events
import socket

_INET = (socket.AF_INET, socket.AF_INET6)
ASYNCIO_SET_NODELAY = asyncio.base_events._set_nodelay   # asyncio's own check, kept for the tests


def set_tcp_nodelay(sock) -> None:
    """TCP_NODELAY on ``sock`` when it is a TCP socket (protocol ``IPPROTO_TCP`` or the default 0)."""
    if sock.family in _INET and sock.type == socket.SOCK_STREAM and sock.proto in (0, socket.IPPROTO_TCP):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def enable_tcp_nodelay() -> None:
    """From now on, every TCP connection of this process's asyncio event loops has TCP_NODELAY."""
    if hasattr(socket, "TCP_NODELAY"):
        asyncio.base_events._set_nodelay = set_tcp_nodelay
