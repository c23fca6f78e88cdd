"""Run zips: export a run, import one that anybody may have made.

:func:`import_zip` bounds what an import may cost before it decompresses anything (from the
zip's directory: number of entries, each file's size, their total, the compression ratio), then
streams each entry to a hidden temp folder while counting bytes (a directory that lies stops at
the limit), then checks every file the way reading a run does (:mod:`genlab.run_files`,
:mod:`genlab.run_metrics`, :mod:`genlab.run_history`) plus the model size (:mod:`genlab.limits`), and only then renames the
folder into the store. Every message names the run being imported and the file.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from genlab.errors import GenlabError
from genlab.limits import (
    IMPORT_FILE_LIMITS,
    MAX_COMPRESSION_RATIO,
    MAX_IMPORT_ENTRIES,
    MAX_IMPORT_TOTAL_BYTES,
    MAX_IMPORT_ZIP_BYTES,
    SMALL_ENTRY_BYTES,
    check_model_size,
)
from genlab.run_files import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    RUN_FILES,
    SAMPLES_FILE,
    STATUS_FILE,
    RunFileError,
    check_samples_png,
    load_checkpoint_file,
    read_config,
    read_status,
    shown_value,
)
from genlab.run_history import read_history_file
from genlab.run_metrics import read_metrics_frame

COPY_CHUNK = 1024 * 1024


def export_zip(folder: Path) -> bytes:
    """The run's known files as a zip (flat names); partial temp files are never included."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in RUN_FILES:
            path = Path(folder) / name
            if path.is_file():
                archive.write(path, name)
    return buffer.getvalue()


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size:,} bytes"


def check_zip_directory(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    """The zip's entries if their names, count, sizes and compression ratios are allowed
    (decompresses nothing); GenlabError naming the run and the entry otherwise."""
    allowed = ", ".join(RUN_FILES)
    entries = archive.infolist()
    if len(entries) > MAX_IMPORT_ENTRIES:
        raise GenlabError(f"run {name!r}: the zip has {len(entries)} entries; a run has at most "
                          f"{MAX_IMPORT_ENTRIES} ({allowed})")
    seen: set[str] = set()
    total = 0
    for entry in entries:
        entry_name = entry.filename
        if entry_name not in RUN_FILES or entry.is_dir():
            raise GenlabError(f"run {name!r}: the zip contains {shown_value(entry_name)}, which is not allowed; "
                              f"allowed files: {allowed}")
        if entry_name in seen:
            raise GenlabError(f"run {name!r}: the zip contains {entry_name!r} twice; each of {allowed} may appear once")
        seen.add(entry_name)
        if entry.flag_bits & 0x1:
            raise GenlabError(f"run {name!r}: {entry_name} in the zip is encrypted; export the run again without a password")
        limit = IMPORT_FILE_LIMITS[entry_name]
        if entry.file_size > limit:
            raise GenlabError(f"run {name!r}: {entry_name} in the zip is too large ({_mb(entry.file_size)}; "
                              f"at most {_mb(limit)})")
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > SMALL_ENTRY_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise GenlabError(f"run {name!r}: {entry_name} in the zip is compressed {ratio:,.0f}:1; more than "
                              f"{MAX_COMPRESSION_RATIO}:1 is refused (a zip bomb, not a genlab export)")
        total += entry.file_size
    if total > MAX_IMPORT_TOTAL_BYTES:
        raise GenlabError(f"run {name!r}: the zip's files are too large together ({_mb(total)} uncompressed; "
                          f"at most {_mb(MAX_IMPORT_TOTAL_BYTES)})")
    if CONFIG_FILE not in seen:
        raise GenlabError(f"run {name!r}: the zip has no {CONFIG_FILE}; a genlab run export has {allowed}")
    return entries


def _extract(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path, name: str) -> None:
    """Stream one entry to ``target``, stopping at the file's limit whatever the directory says."""
    limit = IMPORT_FILE_LIMITS[entry.filename]
    written = 0
    try:
        with archive.open(entry) as source, open(target, "wb") as sink:
            while True:
                chunk = source.read(COPY_CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > limit:
                    raise GenlabError(f"run {name!r}: {entry.filename} in the zip is too large (at most {_mb(limit)})")
                sink.write(chunk)
    except (zipfile.BadZipFile, RuntimeError, EOFError, NotImplementedError, ValueError) as err:
        raise GenlabError(f"run {name!r}: cannot read {entry.filename} from the zip ({type(err).__name__}); "
                          "the zip is damaged") from None
    except OSError as err:
        if isinstance(err, GenlabError):
            raise
        raise GenlabError(f"run {name!r}: cannot write {entry.filename} ({err.strerror or err})") from None


def check_run_folder(folder: Path, name: str) -> dict:
    """Check every file of the run in ``folder`` as ``name`` (config, model size, checkpoint,
    metrics, samples, history, status); returns the status dict. RunFileError/GenlabError otherwise."""
    config = read_config(folder / CONFIG_FILE, name)
    try:
        check_model_size(config)
    except RunFileError:
        raise
    except GenlabError as err:
        raise RunFileError(name, CONFIG_FILE, f"is refused: {err}") from None
    if (folder / CHECKPOINT_FILE).is_file():
        load_checkpoint_file(folder / CHECKPOINT_FILE, name)
    if (folder / METRICS_FILE).is_file():
        read_metrics_frame(folder / METRICS_FILE, name, strict=True)
    if (folder / SAMPLES_FILE).is_file():
        check_samples_png(folder / SAMPLES_FILE, name)
    if (folder / HISTORY_FILE).is_file():
        read_history_file(folder / HISTORY_FILE, name)
    return read_status(folder / STATUS_FILE, name)


def import_zip(root: Path, data: bytes, name: str, finish) -> Path:
    """Unpack run zip ``data`` as run ``name`` under ``root`` (see the module docstring); returns
    the new folder. ``finish(folder, status)`` writes the imported status before the rename."""
    final = Path(root) / name
    if final.exists() or final.is_symlink():
        raise GenlabError(f"run {name!r} already exists in {root}; choose another name for the import")
    if len(data) > MAX_IMPORT_ZIP_BYTES:
        raise GenlabError(f"run {name!r}: the zip is too large ({_mb(len(data))}); at most {_mb(MAX_IMPORT_ZIP_BYTES)}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise GenlabError(f"run {name!r}: the upload is not a zip file; export a run from genlab and upload that zip") from None
    Path(root).mkdir(parents=True, exist_ok=True)
    with archive:
        entries = check_zip_directory(archive, name)
        tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=root))
        try:
            for entry in entries:
                _extract(archive, entry, tmp / entry.filename, name)
            status = check_run_folder(tmp, name)
            finish(tmp, status)
            try:
                os.rename(tmp, final)
            except OSError:
                raise GenlabError(f"run {name!r} already exists in {root}; choose another name") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final
