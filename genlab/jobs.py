"""Background jobs for the dashboard: threads, a FIFO queue, per-session caps, pause/stop.

A dashboard page must not train inside its script run (every widget change reruns the script),
so it submits a *job*: a function ``fn(ctx)`` that runs in a daemon thread and talks to the page
through a :class:`JobContext` -- it checks ``ctx.should_stop()``, blocks in
``ctx.wait_if_paused()``, reads commands the page sent (``ctx.take_commands()``), and publishes
the latest state for the page to draw (``ctx.publish(step=..., points=array)``). The page polls
``job.status``, ``job.progress``, ``job.snapshot()`` on each rerun. No streamlit here.

Policies (chosen for a classroom server where every student has a browser session):

* **Concurrency.** At most ``max_concurrent`` jobs run at once (``GENLAB_MAX_JOBS``, else
  ``max(1, min(cores // 2, 4))``: the server needs CPU for reruns, and jobs are threads sharing the
  GIL); the rest wait in a FIFO queue and know their position (``job.queue_position()``).
* **Torch threads.** ``torch.set_num_threads(max(1, (cores // 2) // max_concurrent))``, process-wide
  (``set_torch_threads=False`` leaves it alone): an oversubscribed CPU makes torch's kernels spin-wait.
* **CPU turns.** Running jobs beyond ``compute_slots`` (``GENLAB_COMPUTE_SLOTS``, same default) take
  turns: a job calls ``ctx.wait_for_cpu()`` before each step and, after ``turn_s`` (0.1 s) of computing
  while another waits, hands its slot to the longest-waiting job (FIFO), so the pages' reruns keep a
  core. With more jobs than fit in a round of ``round_s`` (0.6 s), turns shrink (to >= 0.02 s).
* **One job per session.** Submitting another job *replaces* the session's job (the old one is asked
  to stop after its current step, its run checkpoint kept): change a setting, press Train again.
* **Shared jobs.** ``submit(..., key=config_hash)`` returns the active job with the same key; the
  session becomes one of its watchers, and it stops only when no watching session is left.
* **Pausing** keeps the job's slot; a job paused longer than ``paused_timeout_s`` (30 minutes) stops.
* **Failures.** An exception in ``fn`` ends the job ``failed`` with a one-line ``job.error``
  (GenlabError messages verbatim); the traceback goes to the server log (logger ``genlab.jobs``).

Training in a job is :func:`genlab.train.in_job.train_in_job` (re-exported here): ``Trainer.fit`` with
the job's stop / pause / commands, CPU turns and publishing as callbacks.

Page pattern::

    manager = get_job_manager()
    job = manager.submit(fn, session_id=session_id, key=config_hash(config), name="GAN ring8")
    ...
    st.cache_resource(scope="session", on_release=release_session)  # stops the tab's jobs
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from typing import Any, Callable

import numpy as np

from genlab.errors import GenlabError, check_number

log = logging.getLogger("genlab.jobs")

JOB_STATUSES = ("queued", "running", "paused", "finished", "stopped", "failed")
ACTIVE_STATUSES = ("queued", "running", "paused")
DEFAULT_PAUSED_TIMEOUT_S = 30 * 60
MAX_JOBS_LIMIT = 256
DEFAULT_TURN_S = 0.1          # seconds of computing before a job hands its slot to a waiting one
DEFAULT_ROUND_S = 0.6         # many jobs sharing the slots: turns shrink so a whole round takes about this
MIN_TURN_S = 0.02


def _count_setting(variable: str, cores: int | None) -> int:
    """``$variable`` if set (a whole number 1-256), else ``max(1, min(cores // 2, 4))``."""
    value = os.environ.get(variable, "").strip()
    if value:
        try:
            number = int(value)
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_JOBS_LIMIT:
            raise GenlabError(f"{variable} must be a whole number from 1 to {MAX_JOBS_LIMIT} (got {value!r})")
        return number
    cores = cores or os.cpu_count() or 1
    return max(1, min(cores // 2, 4))


def default_max_concurrent(cores: int | None = None) -> int:
    """``$GENLAB_MAX_JOBS`` if set (1-256), else ``max(1, min(cores // 2, 4))``."""
    return _count_setting("GENLAB_MAX_JOBS", cores)


def default_compute_slots(cores: int | None = None) -> int:
    """``$GENLAB_COMPUTE_SLOTS`` if set (1-256), else ``max(1, min(cores // 2, 4))``: how many jobs
    compute at the same moment (the others wait for their turn)."""
    return _count_setting("GENLAB_COMPUTE_SLOTS", cores)


def _copy_value(value):
    """Copy published values so the UI never sees an array the training thread mutates."""
    if isinstance(value, np.ndarray):
        return value.copy()
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy().copy()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


class JobContext:
    """What a job function sees: stop/pause checks, commands from the UI, progress and snapshots."""

    def __init__(self, job: "Job"):
        self.job = job
        self._turn_answer: bool | None = None      # what cpu_turn_over() last said (see wait_for_cpu)

    def should_stop(self) -> bool:
        """True once the job was asked to stop; return from ``fn`` soon after."""
        return self.job._stop_requested

    def is_paused(self) -> bool:
        return self.job._paused

    def wait_if_paused(self, timeout: float | None = None) -> bool:
        """Block while the job is paused; return ``not should_stop()``.

        Returns early when a command arrives (so a paused job can run a single step on a
        ``"step"`` command: take the commands, act, and call this again), when resumed or stopped,
        or after ``timeout`` seconds. A pause longer than the manager's ``paused_timeout_s``
        stops the job.
        """
        job = self.job
        manager = job._manager
        deadline = None if timeout is None else time.monotonic() + timeout
        with manager._cond:
            if job._paused:
                manager._release_cpu(job)          # a paused job leaves its turn to the others
            while job._paused and not job._stop_requested and not job._commands:
                now = time.monotonic()
                waits = [1.0]
                if manager.paused_timeout_s is not None and job._paused_since is not None:
                    left = manager.paused_timeout_s - (now - job._paused_since)
                    if left <= 0:
                        job._stop_requested = True
                        job.message = "stopped: paused for too long"
                        break
                    waits.append(left)
                if deadline is not None:
                    if now >= deadline:
                        break
                    waits.append(deadline - now)
                manager._cond.wait(min(waits))
            return not job._stop_requested

    def publish(self, **snapshot) -> None:
        """Merge ``snapshot`` into the job's latest snapshot (values copied; thread-safe)."""
        copied = {name: _copy_value(value) for name, value in snapshot.items()}
        with self.job._manager._cond:
            self.job._snapshot.update(copied)
            self.job._snapshot_version += 1

    def set_progress(self, fraction: float, message: str | None = None) -> None:
        """Set progress (clipped to [0, 1]) and optionally the status message."""
        with self.job._manager._cond:
            self.job.progress = float(min(1.0, max(0.0, fraction)))
            if message is not None:
                self.job.message = str(message)

    def take_commands(self) -> list:
        """Return and clear the commands sent with :meth:`Job.send` (oldest first)."""
        with self.job._manager._cond:
            commands = list(self.job._commands)
            self.job._commands.clear()
        return commands

    def cpu_turn_over(self) -> bool:
        """True when this job has computed for its turn (``turn_s``) and another job waits for a
        slot: the next :meth:`wait_for_cpu` hands the slot over (publish first, so the page shows
        where this turn ended)."""
        self._turn_answer = self.job._manager._turn_over(self.job)
        return self._turn_answer

    def wait_for_cpu(self) -> bool:
        """Block until this job holds a compute slot (see "CPU turns"); call before each step.
        Returns ``not should_stop()``. After :meth:`cpu_turn_over` it follows that answer: a turn
        ending unseen in between would go without the caller's publish (its page waits a round more)."""
        answer, self._turn_answer = self._turn_answer, None
        return self.job._manager._wait_for_cpu(self.job, turn_over=answer)

    def release_cpu(self) -> None:
        """Give the compute slot back (e.g. before a long pause); :meth:`wait_for_cpu` takes one again."""
        self.job._manager._release_cpu(self.job)


class Job:
    """A submitted job. Read ``status``, ``progress``, ``message``, ``error``, ``result``;
    control it with :meth:`pause`, :meth:`resume`, :meth:`stop`, :meth:`send`."""

    _ids = itertools.count(1)

    def __init__(self, manager: "JobManager", fn: Callable[[JobContext], Any], *, session_id: str,
                 key: str | None, name: str):
        self.id = f"job-{next(Job._ids)}"
        self.name = name
        self.key = key
        self.sessions: set[str] = {session_id}
        self.status = "queued"
        self.progress = 0.0
        self.message = ""
        self.error: str | None = None
        self.result: Any = None
        self.created_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._manager = manager
        self._fn = fn
        self._stop_requested = False
        self._paused = False
        self._paused_since: float | None = None
        self._paused_total = 0.0
        self._commands: deque = deque()
        self._snapshot: dict = {}
        self._snapshot_version = 0
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Job({self.id}, {self.name!r}, status={self.status}, progress={self.progress:.2f})"

    # ----------------------------------------------------------------- state
    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def done(self) -> bool:
        return not self.active

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    @property
    def snapshot_version(self) -> int:
        """Increases with every publish (lets a page skip redrawing an unchanged snapshot)."""
        return self._snapshot_version

    def queue_position(self) -> int | None:
        """1-based position in the queue (1 = starts next), None when not queued."""
        with self._manager._cond:
            try:
                return self._manager._queue.index(self) + 1
            except ValueError:
                return None

    def jobs_ahead(self) -> int | None:
        """How many queued jobs start before this one ("2 jobs ahead of you"); None if not queued."""
        position = self.queue_position()
        return None if position is None else position - 1

    def snapshot(self) -> dict:
        """A copy of the latest published snapshot."""
        with self._manager._cond:
            return {name: _copy_value(value) for name, value in self._snapshot.items()}

    def active_seconds(self) -> float:
        """Seconds spent running (paused time excluded)."""
        if self.started_at is None:
            return 0.0
        end = self.finished_at or time.time()
        paused = self._paused_total
        if self._paused_since is not None:
            paused += time.monotonic() - self._paused_since
        return max(0.0, end - self.started_at - paused)

    def eta_seconds(self) -> float | None:
        """Estimated seconds to finish from progress so far; None when unknown or not running."""
        if self.status not in ("running", "paused") or not 0.0 < self.progress < 1.0:
            return 0.0 if self.status == "finished" else None
        elapsed = self.active_seconds()
        return elapsed * (1.0 - self.progress) / self.progress

    # ----------------------------------------------------------------- control
    def pause(self) -> None:
        """Pause at the job's next ``wait_if_paused`` (a queued job starts paused)."""
        with self._manager._cond:
            if self.done or self._paused:
                return
            self._paused = True
            self._paused_since = time.monotonic()
            if self.status == "running":
                self.status = "paused"
            self._manager._cond.notify_all()

    def resume(self) -> None:
        with self._manager._cond:
            if not self._paused:
                return
            self._paused = False
            if self._paused_since is not None:
                self._paused_total += time.monotonic() - self._paused_since
            self._paused_since = None
            if self.status == "paused":
                self.status = "running"
            self._manager._cond.notify_all()

    def stop(self) -> None:
        """Ask the job to stop; a queued job is removed from the queue at once."""
        self._manager._stop_job(self)

    def send(self, command) -> None:
        """Queue a command for the job (e.g. ``{"set": {"lr": 1e-3}}`` or ``"step"``)."""
        with self._manager._cond:
            if self.done:
                raise GenlabError(f"the job {self.name or self.id} has already ended ({self.status}); start a new one")
            self._commands.append(command)
            self._manager._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ended; return whether it did within ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._manager._cond:
            while self.active:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._manager._cond.wait(remaining if remaining is not None else 1.0)
        return True


class JobManager:
    """Runs jobs in daemon threads with a FIFO queue and the policies in the module docstring."""

    def __init__(self, max_concurrent: int | None = None, *, set_torch_threads: bool = True,
                 paused_timeout_s: float | None = DEFAULT_PAUSED_TIMEOUT_S, keep_finished: int = 200,
                 compute_slots: int | None = None, turn_s: float = DEFAULT_TURN_S,
                 round_s: float = DEFAULT_ROUND_S):
        cores = os.cpu_count() or 1
        if max_concurrent is None:
            max_concurrent = default_max_concurrent(cores)
        if compute_slots is None:
            compute_slots = default_compute_slots(cores)
        self.compute_slots = check_number("compute_slots", compute_slots, lo=1, hi=MAX_JOBS_LIMIT, integer=True)
        self.turn_s = float(turn_s)
        self.round_s = float(round_s)
        self._holders: dict[Job, float] = {}     # jobs holding a compute slot -> when their turn began
        self._waiting: deque = deque()            # jobs waiting for a slot, oldest first
        self.max_concurrent = check_number("max_concurrent", max_concurrent, lo=1, hi=MAX_JOBS_LIMIT, integer=True)
        # threads per job: the jobs that compute at once (at most compute_slots) share half the cores
        self.torch_threads = max(1, (cores // 2) // min(max_concurrent, compute_slots))
        self.set_torch_threads = set_torch_threads
        self.paused_timeout_s = paused_timeout_s
        self.keep_finished = keep_finished
        self._cond = threading.Condition(threading.RLock())
        self._queue: list[Job] = []
        self._running: list[Job] = []
        self._jobs: dict[str, Job] = {}
        if set_torch_threads:
            import torch

            torch.set_num_threads(self.torch_threads)

    # ----------------------------------------------------------------- submitting
    def submit(self, fn: Callable[[JobContext], Any], *, session_id: str, key: str | None = None,
               name: str = "") -> Job:
        """Queue ``fn(ctx)`` for ``session_id`` and return its :class:`Job`.

        With ``key``: an active job with the same key is returned instead (shared). The session's
        previous active job (if different) is detached and stopped unless others watch it.
        """
        if not callable(fn):
            raise GenlabError("a job needs a function fn(ctx) to run")
        session_id = str(session_id)
        with self._cond:
            if key is not None:
                shared = next((j for j in self._jobs.values() if j.active and j.key == key), None)
                if shared is not None:
                    for old in self._session_jobs(session_id):
                        if old is not shared:
                            self._detach(old, session_id)
                    shared.sessions.add(session_id)
                    return shared
            for old in self._session_jobs(session_id):
                self._detach(old, session_id)
            job = Job(self, fn, session_id=session_id, key=key, name=name)
            self._jobs[job.id] = job
            self._queue.append(job)
            self._prune()
            self._schedule()
            if job.status == "queued" and log.isEnabledFor(logging.INFO):
                log.info("%s (%s) queued: %d ahead; running: %s", job.id, job.name, len(self._queue) - 1,
                         ", ".join(f"{j.id} ({j.name}, {j.status})" for j in self._running))
            return job

    def _session_jobs(self, session_id: str) -> list[Job]:
        return [j for j in self._jobs.values() if j.active and session_id in j.sessions]

    def _detach(self, job: Job, session_id: str) -> None:
        job.sessions.discard(session_id)
        if not job.sessions:
            self._stop_job(job)

    def _stop_job(self, job: Job) -> None:
        with self._cond:
            if job.done:
                return
            job._stop_requested = True
            if job.status == "queued" and job in self._queue:
                self._queue.remove(job)
                job.status = "stopped"
                job.message = "stopped before it started"
                job.finished_at = time.time()
            elif not job.message.startswith("stopp"):
                job.message = "stopping after the current step"
            log.info("%s (%s) asked to stop (%s)", job.id, job.name, job.status)
            self._cond.notify_all()

    def _schedule(self) -> None:
        """Start queued jobs while fewer than ``max_concurrent`` run (caller holds the lock)."""
        while self._queue and len(self._running) < self.max_concurrent:
            job = self._queue.pop(0)
            job.status = "paused" if job._paused else "running"
            job.started_at = time.time()
            self._running.append(job)
            thread = threading.Thread(target=self._work, args=(job,), name=f"genlab-{job.id}", daemon=True)
            job._thread = thread
            log.info("%s (%s) started for session %s", job.id, job.name, ", ".join(sorted(job.sessions)))
            thread.start()
        self._cond.notify_all()

    def _work(self, job: Job) -> None:
        if self.set_torch_threads:
            import torch

            torch.set_num_threads(self.torch_threads)
        context = JobContext(job)
        result, error = None, None
        try:
            result = job._fn(context)
        except BaseException as err:  # noqa: BLE001 - a job must never kill the server
            log.exception("job %s (%s) failed", job.id, job.name)
            if isinstance(err, GenlabError):
                error = str(err)
            else:
                text = str(err).splitlines()[0] if str(err) else ""
                error = f"{type(err).__name__}: {text}" if text else type(err).__name__
        finally:
            # One locked section: whoever sees the job ended (``wait``, ``running()``) also sees
            # it out of the running list and its CPU slot free.
            with self._cond:
                if error is not None:
                    job.status = "failed"
                    job.error = error
                    job.message = "failed"
                elif job._stop_requested:
                    job.result = result
                    job.status = "stopped"
                    if not job.message.startswith("stopped"):
                        job.message = "stopped"
                else:
                    job.result = result
                    job.status = "finished"
                    job.progress = 1.0
                if job._paused_since is not None:
                    job._paused_total += time.monotonic() - job._paused_since
                    job._paused_since = None
                job._paused = False
                job.finished_at = time.time()
                log.info("%s (%s) %s after %.1f s%s", job.id, job.name, job.status,
                         job.finished_at - (job.started_at or job.finished_at),
                         f": {job.error}" if job.error else "")
                self._release_cpu(job)
                if job in self._running:
                    self._running.remove(job)
                self._schedule()
                self._cond.notify_all()

    # ----------------------------------------------------------------- CPU turns
    def turn_length(self) -> float:
        """Seconds a turn lasts now: ``turn_s``, shortened when more jobs share the slots than fit in
        a round of ``round_s`` (every job computes about once per ``round_s``), never below 0.02 s."""
        with self._cond:
            per_slot = (len(self._holders) + len(self._waiting)) / self.compute_slots
        if per_slot <= 1:
            return self.turn_s
        return max(MIN_TURN_S, min(self.turn_s, self.round_s / per_slot))

    def _turn_over(self, job: Job) -> bool:
        with self._cond:
            began = self._holders.get(job)
            return began is not None and bool(self._waiting) and time.monotonic() - began >= self.turn_length()

    def _wait_for_cpu(self, job: Job, turn_over: bool | None = None) -> bool:
        with self._cond:
            if job in self._holders:
                if not (self._turn_over(job) if turn_over is None else turn_over):
                    return not job._stop_requested
                self._release_cpu(job)            # turn over: to the back of the line
            if job not in self._waiting:
                self._waiting.append(job)
            self._grant()
            while job not in self._holders and not job._stop_requested:
                self._cond.wait(1.0)
                self._grant()
            if job not in self._holders and job in self._waiting:   # stopped while waiting
                self._waiting.remove(job)
            return not job._stop_requested

    def _release_cpu(self, job: Job) -> None:
        with self._cond:
            if self._holders.pop(job, None) is not None or job in self._waiting:
                if job in self._waiting:
                    self._waiting.remove(job)
                self._grant()

    def _grant(self) -> None:
        """Hand free slots to the longest-waiting jobs (caller holds the lock)."""
        granted = False
        while self._waiting and len(self._holders) < self.compute_slots:
            self._holders[self._waiting.popleft()] = time.monotonic()
            granted = True
        if granted:
            self._cond.notify_all()

    def _prune(self) -> None:
        ended = [j for j in self._jobs.values() if j.done]
        for job in ended[: max(0, len(ended) - self.keep_finished)]:
            del self._jobs[job.id]

    # ----------------------------------------------------------------- queries
    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def jobs(self, session_id: str | None = None, *, active_only: bool = False) -> list[Job]:
        """Known jobs (oldest first), optionally only a session's and/or only active ones."""
        with self._cond:
            jobs = list(self._jobs.values())
        if session_id is not None:
            jobs = [j for j in jobs if str(session_id) in j.sessions]
        if active_only:
            jobs = [j for j in jobs if j.active]
        return jobs

    def job_for_session(self, session_id: str) -> Job | None:
        """The session's active job, else its most recent job, else None."""
        jobs = self.jobs(session_id)
        active = [j for j in jobs if j.active]
        return (active or jobs or [None])[-1]

    def job_for_key(self, key: str) -> Job | None:
        with self._cond:
            return next((j for j in self._jobs.values() if j.active and j.key == key), None)

    def queued(self) -> list[Job]:
        with self._cond:
            return list(self._queue)

    def running(self) -> list[Job]:
        """Jobs holding a slot (running or paused)."""
        with self._cond:
            return list(self._running)

    # ----------------------------------------------------------------- lifecycle
    def release_session(self, session_id: str) -> list[Job]:
        """Detach ``session_id`` from its jobs; stop those no other session watches. Returns them."""
        session_id = str(session_id)
        with self._cond:
            jobs = self._session_jobs(session_id)
            for job in jobs:
                self._detach(job, session_id)
            return jobs

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop every job and wait up to ``timeout`` seconds; return whether all ended."""
        with self._cond:
            jobs = [j for j in self._jobs.values() if j.active]
            for job in jobs:
                self._stop_job(job)
        deadline = time.monotonic() + timeout
        return all(job.wait(max(0.0, deadline - time.monotonic())) for job in jobs)


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def get_job_manager() -> JobManager:
    """The process-wide JobManager (created on first use with the default policies)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER


def release_session(session_id) -> list[Job]:
    """Stop the jobs of ``session_id`` in the process-wide manager (for ``on_release`` hooks)."""
    return get_job_manager().release_session(str(session_id))


from genlab.train.in_job import train_in_job  # noqa: E402,F401 - re-exported: the pages train through genlab.jobs
