"""The training lease of a run: a heartbeat file that says "a process is training this run now".

A run's ``status.json`` says ``running`` from the start of a fit to its end. If the process dies
(a server replica killed, a machine lost) nothing rewrites it, so readers need another sign of
life. The process id works only on the same machine; with several genlab servers sharing one run
store (``make serve-class``, shared storage), a run may be read on another host. So while a run
trains, a background thread rewrites ``<run>/lease.json`` every :data:`BEAT_SECONDS` with the wall
time, host and pid; a lease older than :data:`STALE_SECONDS` means the trainer is gone, on any
host. The lease is removed when the fit ends. Hosts are assumed to keep their clocks in step (NTP);
a beat from the future counts as fresh.

This module is torch-free and knows nothing of the run store's other files.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

from genlab.atomic_file import atomic_write_bytes

LEASE_FILE = "lease.json"
BEAT_SECONDS = 5.0
STALE_SECONDS = 30.0


def write_beat(folder: Path, now: float | None = None) -> None:
    """Write the lease of ``folder`` (atomically): this process, this host, the time ``now``."""
    beat = {"beat": time.time() if now is None else float(now), "host": socket.gethostname(), "pid": os.getpid()}
    atomic_write_bytes(Path(folder) / LEASE_FILE, json.dumps(beat).encode("utf-8"))


def read_beat(folder: Path) -> dict | None:
    """The lease of ``folder`` as ``{"beat": seconds, "host", "pid"}``, or None when there is none
    or it is unreadable (a half-written or foreign file is no sign of life)."""
    try:
        info = json.loads((Path(folder) / LEASE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    beat = info.get("beat") if isinstance(info, dict) else None
    if isinstance(beat, bool) or not isinstance(beat, (int, float)):
        return None
    return {"beat": float(beat), "host": str(info.get("host") or ""), "pid": info.get("pid")}


def lease_state(folder: Path, now: float | None = None, stale_after: float = STALE_SECONDS) -> str:
    """``"none"`` (no readable lease), ``"fresh"`` (beat within ``stale_after`` seconds) or ``"stale"``."""
    info = read_beat(folder)
    if info is None:
        return "none"
    age = (time.time() if now is None else now) - info["beat"]
    return "fresh" if age <= stale_after else "stale"


def remove_lease(folder: Path) -> None:
    """Delete the lease of ``folder`` if there is one."""
    try:
        os.unlink(Path(folder) / LEASE_FILE)
    except FileNotFoundError:
        pass


class Heartbeat:
    """Keeps the lease of ``folder`` fresh from a daemon thread between :meth:`start` and :meth:`stop`.

    The beat does not depend on training steps: a job that is paused or waiting for its CPU turn
    is still alive. A failed write (storage briefly away) is retried at the next beat."""

    def __init__(self, folder: Path, every: float = BEAT_SECONDS):
        self.folder, self.every = Path(folder), float(every)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Heartbeat":
        """Write the first beat now (errors propagate: the run cannot be claimed), then keep beating."""
        write_beat(self.folder)
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.folder.name}", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                write_beat(self.folder)
            except OSError:
                continue

    def stop(self) -> None:
        """Stop beating and remove the lease (the run's status says how the fit ended)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.every + 5)
        try:
            remove_lease(self.folder)
        except OSError:
            pass
