"""Class polls: the room's answers to a page's prediction questions (issue 20, section 3).

Every student's browser talks to the same server, or to one of several replicas behind a load
balancer; the instructor's view must count the whole room either way. So the answers live in
the shared run store, not in one server's memory: one small JSON file per question and round
(``before`` the reveal, ``after`` "ask again") in ``<runs root>/.polls/`` (a hidden folder,
which the run store's listing skips). Each file maps an anonymous token to an option index:

* the token is a hash of a random id made per browser session (:func:`new_session_token`),
  not an address or a name; nothing in the file identifies anyone;
* one answer per session and question: a changed answer replaces the old one, and a flood of
  answers from one session still counts once;
* at most :data:`MAX_ANSWERS` answers per file (the oldest answer goes first), so the files
  stay small whatever arrives.

Writes take an exclusive ``fcntl`` lock on a lock file beside the answers (replicas on one
machine or on a shared POSIX file system see each other's lock), read the file, change it and
move a complete new file into place with ``os.replace``; readers never see a half-written
file. A damaged or foreign file reads as an empty tally, never as an error.

No torch here (the KL pages load this module and otherwise never load torch): writes go through
the torch-free ``genlab.atomic_file``.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import uuid
from pathlib import Path
from typing import Iterator

from genlab.atomic_file import atomic_write_bytes
from genlab.errors import GenlabError

__all__ = ["MAX_ANSWERS", "ROUNDS", "PollStore", "default_polls_dir", "new_session_token"]

MAX_ANSWERS = 2000
ROUNDS = ("before", "after")
MAX_OPTIONS = 26
MAX_FILE_BYTES = 200_000  # 2000 answers take ~50 KB; anything much larger is not ours
_QUESTION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TOKEN_HASH = re.compile(r"^[0-9a-f]{16}$")
POLLS_FOLDER = ".polls"


def default_polls_dir() -> Path:
    """``<runs root>/.polls``: the runs root is ``$GENLAB_RUNS_DIR`` or ``./runs``, as in
    :func:`genlab.runs.default_runs_root` (not imported: that module loads torch)."""
    return Path(os.environ.get("GENLAB_RUNS_DIR") or "runs") / POLLS_FOLDER


def new_session_token() -> str:
    """A random id for one browser session (uuid4): the only thing a poll knows of a student."""
    return uuid.uuid4().hex


def _token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode("utf-8", "replace")).hexdigest()[:16]


def _check_question(question_id: str) -> str:
    if not isinstance(question_id, str) or not _QUESTION_ID.match(question_id):
        raise GenlabError(f"poll question id {question_id!r} is not allowed: use 1-64 characters from "
                          "lower-case letters, digits, - and _, starting with a letter or digit")
    return question_id


def _check_round(round_name: str) -> str:
    if round_name not in ROUNDS:
        raise GenlabError(f"poll round {round_name!r} is not one of {', '.join(ROUNDS)}")
    return round_name


class PollStore:
    """The answer files of every question, in ``folder`` (default :func:`default_polls_dir`).

    Several stores (in several processes or replicas) on one folder share the same tallies.
    """

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else default_polls_dir()

    def __repr__(self) -> str:
        return f"PollStore({str(self.folder)!r})"

    def _path(self, question_id: str, round_name: str) -> Path:
        return self.folder / f"{_check_question(question_id)}.{_check_round(round_name)}.json"

    def _read(self, path: Path) -> dict[str, int]:
        """The file's answers (token hash -> option index); empty when missing, damaged or foreign."""
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return {}
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            return {}
        answers = data.get("answers") if isinstance(data, dict) else None
        if not isinstance(answers, dict):
            return {}
        return {k: v for k, v in answers.items()
                if isinstance(k, str) and _TOKEN_HASH.match(k)
                and isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MAX_OPTIONS}

    @contextlib.contextmanager
    def _locked(self, question_id: str) -> Iterator[None]:
        """An exclusive lock on the question's lock file, across processes (fcntl.flock)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"{_check_question(question_id)}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, path: Path, answers: dict[str, int]) -> None:
        atomic_write_bytes(path, json.dumps({"answers": answers}, separators=(",", ":")).encode("utf-8"))

    def record(self, question_id: str, round_name: str, token: str, option: int) -> None:
        """Count ``token``'s answer ``option`` (an index) to the question in that round; a session's
        new answer replaces its old one. GenlabError when the ids are bad or the folder cannot be
        written (the message says why)."""
        path = self._path(question_id, round_name)
        if isinstance(option, bool) or not isinstance(option, int) or not 0 <= option < MAX_OPTIONS:
            raise GenlabError(f"poll option {option!r} is not an option index 0-{MAX_OPTIONS - 1}")
        key = _token_hash(token)
        try:
            with self._locked(question_id):
                answers = self._read(path)
                answers.pop(key, None)  # re-inserted last: the newest answer is the last to go
                answers[key] = option
                while len(answers) > MAX_ANSWERS:
                    del answers[next(iter(answers))]
                self._write(path, answers)
        except OSError as err:
            raise GenlabError(f"the answer could not be counted: cannot write {self.folder} "
                              f"({err.strerror or err})") from None

    def answer_of(self, question_id: str, round_name: str, token: str) -> int | None:
        """The option ``token``'s session chose in that round, None if it has not answered."""
        return self._read(self._path(question_id, round_name)).get(_token_hash(token))

    def tally(self, question_id: str, round_name: str, n_options: int) -> list[int]:
        """Answers per option (``n_options`` counts; answers to options the question no longer has
        are left out)."""
        counts = [0] * max(0, int(n_options))
        for option in self._read(self._path(question_id, round_name)).values():
            if option < len(counts):
                counts[option] += 1
        return counts

    def reset(self, question_id: str) -> None:
        """Forget every answer to the question, in both rounds."""
        try:
            with self._locked(question_id):
                for round_name in ROUNDS:
                    with contextlib.suppress(FileNotFoundError):
                        self._path(question_id, round_name).unlink()
        except OSError as err:
            raise GenlabError(f"the poll could not be reset: cannot write {self.folder} "
                              f"({err.strerror or err})") from None
