"""dashboard/socket_options.py: the server's connections get TCP_NODELAY (no ~40 ms Nagle waits)."""
from __future__ import annotations

import asyncio
import asyncio.base_events
import socket
import threading

from dashboard import socket_options


def _server_side_nodelay() -> int:
    """TCP_NODELAY of the server side of one connection to a listening socket bound the way
    Streamlit binds it (``socket.socket(family)``: protocol number 0)."""
    async def main() -> int:
        listener = socket.socket(socket.AF_INET)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        accepted: asyncio.Future = asyncio.get_running_loop().create_future()

        def on_connect(reader, writer):
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        value = await asyncio.wait_for(accepted, 10)
        writer.close()
        server.close()
        await server.wait_closed()
        return value

    result = []   # in a thread of its own: the test's thread may already run an event loop
    thread = threading.Thread(target=lambda: result.append(asyncio.run(main())))
    thread.start()
    thread.join(20)
    return result[0]


def test_streamlit_like_sockets_lack_nodelay_without_the_fix_and_have_it_with_it(monkeypatch):
    # asyncio's own check (another test in this process may have put the fix in already)
    monkeypatch.setattr(asyncio.base_events, "_set_nodelay", socket_options.ASYNCIO_SET_NODELAY)
    assert socket.socket(socket.AF_INET).proto == 0      # why asyncio's own check skipped them
    assert _server_side_nodelay() == 0
    socket_options.enable_tcp_nodelay()
    assert _server_side_nodelay() != 0


def test_set_tcp_nodelay_leaves_other_sockets_alone():
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    socket_options.set_tcp_nodelay(udp)            # no TCP options on a datagram socket: no error
    udp.close()
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    socket_options.set_tcp_nodelay(tcp)
    assert tcp.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    tcp.close()
