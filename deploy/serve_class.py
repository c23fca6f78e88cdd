"""``make serve-class REPLICAS=N``: N genlab servers behind HAProxy on this machine.

Starts N ``streamlit run dashboard/serve.py`` replicas on consecutive ports of 127.0.0.1, all with
one run store (``$GENLAB_RUNS_DIR``, default ``runs/``) and one ``server.cookieSecret``, and HAProxy
in front on ``--address:--port`` (:mod:`deploy.haproxy_config`: sticky cookie, health checks).
Ctrl-C (or SIGTERM) stops them all. A replica that dies is reported and left down: HAProxy sends
its students to the others, and its runs become resumable there.

The cookie secret: ``$GENLAB_COOKIE_SECRET`` if set, else the file ``<run store>/.cookie-secret``
(created once, mode 600). Kept in the shared run store, every machine that mounts the store uses
the same secret, so a student moved to another server still passes Streamlit's XSRF check on
uploads. It reaches Streamlit through its environment, not its command line (``ps`` shows that).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from deploy.haproxy_config import backends_from, render

ROOT = Path(__file__).resolve().parents[1]
SECRET_FILE = ".cookie-secret"


def cookie_secret(runs_dir: Path) -> str:
    """``$GENLAB_COOKIE_SECRET``, else the run store's secret file (made once; a second process
    racing to make it reads the first one's)."""
    from_env = os.environ.get("GENLAB_COOKIE_SECRET", "").strip()
    if from_env:
        return from_env
    runs_dir.mkdir(parents=True, exist_ok=True)
    path = runs_dir / SECRET_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):                       # the maker may still be writing it
            text = path.read_text(encoding="utf-8").strip()
            if text:
                return text
            time.sleep(0.1)
        raise SystemExit(f"error: {path} is empty; delete it or set GENLAB_COOKIE_SECRET")
    value = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def replica_command(port: int) -> list[str]:
    """The command line of one replica on 127.0.0.1:``port`` (only HAProxy talks to it)."""
    return [sys.executable, "-m", "streamlit", "run", "dashboard/serve.py", "--server.headless", "true",
            "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]


def wait_healthy(port: int, process: subprocess.Popen, timeout_s: float) -> None:
    """Return once the replica answers /_stcore/health; SystemExit if it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"error: the replica on port {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"error: the replica on port {port} did not answer within {timeout_s:.0f} s")


def stop_all(processes: list[subprocess.Popen]) -> None:
    """SIGTERM every process still running, then SIGKILL what has not exited after 20 s."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 20
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _interrupt(signum, frame) -> None:
    """SIGTERM, and Ctrl-C wherever we were started from, stop everything."""
    raise KeyboardInterrupt


def serve(replicas: int, address: str, port: int, first_port: int, haproxy: str, start_timeout_s: float) -> int:
    """Start the replicas and HAProxy, then wait until Ctrl-C / SIGTERM or HAProxy exits."""
    runs_dir = Path(os.environ.get("GENLAB_RUNS_DIR") or ROOT / "runs").resolve()
    env = {**os.environ, "GENLAB_RUNS_DIR": str(runs_dir), "PYTHONUNBUFFERED": "1",
           "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret(runs_dir)}
    ports = [first_port + i for i in range(replicas)]
    config_dir = Path(tempfile.mkdtemp(prefix="genlab-haproxy-"))
    config = config_dir / "haproxy.cfg"
    config.write_text(render(backends_from([f"127.0.0.1:{p}" for p in ports]), f"{address}:{port}"))
    processes: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)      # also when started in the background (SIGINT ignored)
    try:
        for replica_port in ports:
            processes.append(subprocess.Popen(replica_command(replica_port), cwd=ROOT, env=env))
        for replica_port, process in zip(ports, processes):
            wait_healthy(replica_port, process, start_timeout_s)
        balancer = subprocess.Popen([haproxy, "-db", "-f", str(config)])
        processes.append(balancer)
        print(f"genlab: {replicas} servers (127.0.0.1:{ports[0]}-{ports[-1]}) behind HAProxy on "
              f"http://{address}:{port}; run store {runs_dir}. Ctrl-C stops all.", flush=True)
        reported: set[int] = set()
        while balancer.poll() is None:
            for replica_port, process in zip(ports, processes):
                if process.poll() is not None and replica_port not in reported:
                    reported.add(replica_port)
                    print(f"genlab: the server on port {replica_port} exited ({process.returncode}); "
                          "HAProxy sends its students to the others", flush=True)
            time.sleep(1)
        return balancer.returncode or 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all(processes)
        shutil.rmtree(config_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Command line of ``make serve-class``."""
    parser = argparse.ArgumentParser(prog="python -m deploy.serve_class", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="how many genlab servers (1-64)")
    parser.add_argument("--address", default="127.0.0.1", help="where HAProxy listens for students")
    parser.add_argument("--port", type=int, default=8500, help="HAProxy's port")
    parser.add_argument("--first-port", type=int, default=8511, help="the first replica's port (then +1, +2, ...)")
    parser.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    parser.add_argument("--start-timeout", type=float, default=300.0, help="seconds a replica may take to start")
    args = parser.parse_args(argv)
    if not 1 <= args.replicas <= 64:
        parser.error(f"--replicas must be a whole number from 1 to 64 (got {args.replicas})")
    if not Path(args.haproxy).exists():
        parser.error(f"{args.haproxy} is missing; install HAProxy (Debian: apt-get install haproxy)")
    return serve(args.replicas, args.address, args.port, args.first_port, args.haproxy, args.start_timeout)


if __name__ == "__main__":
    sys.exit(main())
