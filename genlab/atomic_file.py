"""genlab's one way to write a file that readers may open at any moment: write a temp file next to
it, flush it to disk, then ``os.replace`` it into place. A reader sees the old file or the new one,
never half of one; a crash or a full disk mid-write leaves the old file and no temp file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def atomic_write(path: str | os.PathLike, write: Callable[[str], object], *, mode: int | None = None,
                 make_folder: bool = False) -> None:
    """Call ``write(tmp)`` to fill a temp file (a path in the folder of ``path``), fsync it, then
    move it onto ``path``. ``mode``: the file's permissions (temp files are 0600, e.g. 0o644 for
    a cache others read); ``make_folder``: create the folder first. On any error the temp file is
    removed and the error re-raised."""
    path = Path(path)
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, **options) -> None:
    """:func:`atomic_write` of ``data`` (options as there)."""
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), **options)
