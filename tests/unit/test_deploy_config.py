"""deploy/: the HAProxy configuration of ``make serve-class`` (sticky by an inserted cookie, never
by the client's address; health checks; websocket timeouts) and the shared cookie secret."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from deploy import haproxy_config
from deploy.haproxy_config import backends_from, parse_address, render
from deploy.serve_class import SECRET_FILE, cookie_secret, replica_command


def _config(n: int = 2) -> str:
    return render(backends_from([f"127.0.0.1:{8631 + i}" for i in range(n)]), "127.0.0.1:8630")


def test_sessions_stick_by_an_inserted_cookie_not_by_address():
    text = _config(3)
    assert "cookie SERVERID insert indirect nocache" in text
    assert "balance roundrobin" in text
    assert "balance source" not in text and "stick on src" not in text
    for i, port in enumerate((8631, 8632, 8633), start=1):
        assert f"server r{i} 127.0.0.1:{port} cookie r{i} check" in text
    assert "bind 127.0.0.1:8630" in text


def test_health_checks_redispatch_and_websocket_timeouts():
    text = _config()
    assert "option httpchk GET /_stcore/health" in text
    assert "option redispatch" in text                 # a cookie naming a dead server goes elsewhere
    assert "timeout tunnel 8h" in text                 # a lesson-long websocket stays open
    assert "timeout check 10s" in text                 # a busy server is not taken for a dead one
    # a browser moved off the server its cookie names learns where it came from (the page's notice)
    assert "http-request set-var(txn.was) req.cook(SERVERID)" in text
    assert ('http-response add-header Set-Cookie "genlab_moved=%[var(txn.was)]; Max-Age=120; Path=/; SameSite=Lax" '
            "if { var(txn.was) -m found } !{ srv_name,strcmp(txn.was) eq 0 }") in text


@pytest.mark.skipif(shutil.which("haproxy") is None and not os.path.exists("/usr/sbin/haproxy"),
                    reason="haproxy is not installed (make haproxy)")
def test_haproxy_accepts_the_generated_config(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(_config(4))
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    result = subprocess.run([haproxy, "-c", "-f", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("text", ["app1", "app1:", ":80", "app1:0", "app1:70000", "app 1:80", "app1:80:81"])
def test_a_bad_address_says_what_is_allowed(text):
    with pytest.raises(ValueError, match="use host:port with a port from 1 to 65535"):
        parse_address(text)


def test_servers_must_be_listed_once_and_at_least_one():
    assert parse_address("[::1]:8501") == ("[::1]", 8501)
    with pytest.raises(ValueError, match="at least one server"):
        backends_from([])
    with pytest.raises(ValueError, match="listed twice"):
        backends_from(["app1:8501", "app1:8501"])


def test_the_command_prints_the_config_or_an_error(capsys):
    assert haproxy_config.main(["--listen", "0.0.0.0:80", "--server", "app1:8501", "--server", "app2:8501"]) == 0
    out = capsys.readouterr().out
    assert "server r2 app2:8501 cookie r2" in out and "bind 0.0.0.0:80" in out
    assert haproxy_config.main(["--server", "app1"]) == 2
    assert "is not an address" in capsys.readouterr().err


def test_one_cookie_secret_per_run_store(tmp_path, monkeypatch):
    monkeypatch.delenv("GENLAB_COOKIE_SECRET", raising=False)
    first = cookie_secret(tmp_path / "runs")
    assert len(first) >= 32
    assert cookie_secret(tmp_path / "runs") == first          # every replica / machine reads the same
    mode = stat.S_IMODE((tmp_path / "runs" / SECRET_FILE).stat().st_mode)
    assert mode == 0o600
    assert cookie_secret(tmp_path / "other") != first
    monkeypatch.setenv("GENLAB_COOKIE_SECRET", "from-the-environment")
    assert cookie_secret(tmp_path / "runs") == "from-the-environment"


def test_replicas_listen_on_localhost_only_and_keep_the_secret_off_the_command_line():
    command = replica_command(8631)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8631"
    assert not any("cookieSecret" in part for part in command)


def test_stop_all_ends_every_process_it_started():
    import sys

    from deploy.serve_class import stop_all

    sleepers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(2)]
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait(timeout=30)
    stop_all([*sleepers, finished])
    assert all(p.poll() is not None for p in sleepers)
