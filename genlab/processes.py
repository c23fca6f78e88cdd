"""Is the process that wrote a run's status still the one running? (pid plus start time)

A pid alone is not enough: after a crash the system may give the same pid to an unrelated
process, and a status saying ``running`` would then look alive forever. So a status records the
writer's start time too (:func:`process_start_ticks`, from ``/proc/<pid>/stat`` on Linux) and
:func:`same_process_alive` compares it. Where ``/proc`` is missing (macOS, Windows) it falls back
to the pid alone.
"""
from __future__ import annotations

import os
from datetime import datetime


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (never sends a real signal)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (field 22 of ``/proc/<pid>/stat``), or
    None where that cannot be read."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
        # the command name (field 2) may contain spaces and ')': the fields after the last ')' are fixed
        return int(text.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def process_start_time(pid: int) -> float | None:
    """Start time of ``pid`` as a Unix time (seconds), or None where ``/proc`` cannot tell."""
    ticks = process_start_ticks(pid)
    if ticks is None:
        return None
    try:
        with open("/proc/stat", "rb") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith(b"btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, StopIteration):
        return None


def same_process_alive(pid: int, start_ticks: int | None, written: str | None = None) -> bool:
    """Whether the process that recorded (``pid``, ``start_ticks``) -- and wrote a status at ISO
    time ``written`` -- is still running. A live pid whose start differs from the recorded one
    (or, for statuses without ``start_ticks``, that started after ``written``) is another
    process that reuses the pid."""
    if not pid_alive(pid):
        return False
    if start_ticks is not None:
        now_ticks = process_start_ticks(pid)
        return now_ticks is None or now_ticks == int(start_ticks)
    started = process_start_time(pid)
    if started is None or not written:
        return True
    try:
        written_at = datetime.fromisoformat(written).timestamp()
    except (TypeError, ValueError):
        return True
    return started <= written_at + 2.0   # timestamps have whole seconds; clock tick rounding
