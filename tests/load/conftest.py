"""Fixtures of the load tests (tests/load): a genlab server of their own and chromium.

``genlab_server(tmp_dir, **env)`` starts ``streamlit run dashboard/serve.py`` on a free localhost
port with extra environment variables (e.g. ``GENLAB_MAX_JOBS``) and yields a :class:`Server`
whose ``pid`` gives memory and CPU readings from /proc (peak RSS = ``VmHWM``). ``browser`` is
the session-wide headless /usr/bin/chromium of tests/browser/conftest.py (skips with the reason
when chromium is missing). Everything talks to 127.0.0.1 only.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser.conftest import ROOT, SERVER_START_TIMEOUT, _free_port, wait_healthy  # `browser`: tests/conftest.py


def _proc_status(pid: int) -> dict[str, int]:
    """Numeric fields of /proc/<pid>/status (kB for memory, a count for Threads)."""
    values = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class Server:
    base: str
    pid: int
    log: Path
    samples: list[tuple[float, int]] = field(default_factory=list)   # (time, RSS kB)

    def status(self) -> dict[str, int]:
        return _proc_status(self.pid)

    def rss_mb(self) -> float:
        return self.status().get("VmRSS", 0) / 1024

    def peak_rss_mb(self) -> float:
        """The kernel's high-water mark of the server's resident memory (VmHWM)."""
        return self.status().get("VmHWM", 0) / 1024

    def threads(self) -> int:
        return self.status().get("Threads", 0)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def cpu_share(self, seconds: float) -> float:
        """Cores the server used on average over the next ``seconds``."""
        start_cpu, start = self.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        return (self.cpu_seconds() - start_cpu) / (time.monotonic() - start)


class MemorySampler(threading.Thread):
    """Reads the server's RSS every ``every`` seconds into ``server.samples`` until stopped."""

    def __init__(self, server: Server, every: float = 0.5):
        super().__init__(name="rss-sampler", daemon=True)
        self.server, self.every = server, every
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.server.samples.append((time.time(), self.server.status().get("VmRSS", 0)))
            self._stop_event.wait(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


@contextlib.contextmanager
def genlab_server(tmp_dir: Path, **env: str):
    """``streamlit run dashboard/serve.py`` on 127.0.0.1:<free port>; yields a :class:`Server`."""
    port = _free_port()
    log_path = tmp_dir / f"server-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "dashboard/serve.py",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "full",
    ]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "GENLAB_RUNS_DIR": str(tmp_dir / "runs"), **env}
    with open(log_path, "w") as log:
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process, base, log_path, SERVER_START_TIMEOUT * 2, "streamlit")
        yield Server(base=base, pid=process.pid, log=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
