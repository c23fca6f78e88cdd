"""metrics.csv: checked, columnar reading with bounded memory, and truncation for a resume.

The file is scanned once in fixed-size chunks (numpy finds the line ends) to count rows, find
the end of the last complete line and refuse binary data, NUL bytes and absurd line lengths,
before anything is parsed. pandas' C parser then reads the columns directly (its text columns
are compact Arrow strings in pandas >= 3), so memory grows with the file's size, not with one
Python object per cell. A file with more than :data:`~genlab.limits.MAX_METRICS_ROWS` rows is
refused on import and thinned (every k-th row, and the last; parsed in chunks) when read.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from genlab.atomic_file import atomic_write
from genlab.limits import MAX_METRICS_COLUMNS, MAX_METRICS_ROWS
from genlab.run_files import METRICS_FILE, RunFileError, parse_json_bounded

EXTRA_COLUMN = "extra"
MAX_LINE_BYTES = 64 * 1024      # a genlab row is < 2 KB; extra JSON adds a few keys
CHUNK_BYTES = 8 * 1024 * 1024
THIN_CHUNK_ROWS = 200_000
_FIX = "the run's checkpoint is not affected; move {file} out of {folder} to use the run without its curves"


@dataclass
class MetricsScan:
    """What :func:`scan_metrics` found: the header's columns, the number of complete data rows,
    and the byte offset just past the last complete line (a partial last line is ignored)."""

    columns: list[str]
    rows: int
    end: int


_IMPORT_FIX = "the zip is not a genlab export; export the run again"


def _corrupt(path: Path, run_name: str, why: str, fix: str | None = None) -> RunFileError:
    fix = fix or _FIX.format(file=METRICS_FILE, folder=Path(path).parent)
    return RunFileError(run_name, METRICS_FILE, f"is corrupt ({why}); {fix}")


def _header(path: Path, run_name: str, handle, fix: str | None) -> list[str] | None:
    first = handle.readline(MAX_LINE_BYTES + 1)
    if not first.endswith(b"\n"):
        if len(first) > MAX_LINE_BYTES:
            raise _corrupt(path, run_name, f"its header is longer than {MAX_LINE_BYTES} bytes", fix)
        return None   # empty, or a header still being written
    if b"\x00" in first:
        raise _corrupt(path, run_name, "not a text file", fix)
    try:
        columns = next(csv.reader([first.decode("utf-8")]))
    except UnicodeDecodeError:
        raise _corrupt(path, run_name, "not a text file", fix) from None
    except (csv.Error, StopIteration) as err:
        raise _corrupt(path, run_name, str(err) or "no header", fix) from None
    if "step" not in columns:
        raise _corrupt(path, run_name, "its header has no 'step' column", fix)
    if len(columns) > MAX_METRICS_COLUMNS:
        raise _corrupt(path, run_name, f"{len(columns)} columns; at most {MAX_METRICS_COLUMNS} are allowed", fix)
    return columns


def scan_metrics(path: Path, run_name: str, fix: str | None = None) -> MetricsScan | None:
    """Check metrics.csv without parsing it (header, NUL bytes, line lengths); None when it has
    no complete header yet. RunFileError for a file that is not a genlab metrics file."""
    import numpy as np

    try:
        handle = open(path, "rb")
    except OSError as err:
        raise RunFileError(run_name, METRICS_FILE, f"cannot be read ({err.strerror})") from None
    with handle:
        columns = _header(path, run_name, handle, fix)
        if columns is None:
            return None
        offset = end = handle.tell()
        rows, line_start = 0, offset
        while True:
            chunk = handle.read(CHUNK_BYTES)
            if not chunk:
                break
            data = np.frombuffer(chunk, dtype=np.uint8)
            if (data == 0).any():
                raise _corrupt(path, run_name, "not a text file", fix)
            ends = np.flatnonzero(data == 10) + offset
            if len(ends):
                starts = np.concatenate(([line_start], ends[:-1] + 1))
                if int((ends - starts).max()) > MAX_LINE_BYTES:
                    raise _corrupt(path, run_name, f"a line is longer than {MAX_LINE_BYTES} bytes", fix)
                rows += len(ends)
                line_start = end = int(ends[-1]) + 1
            offset += len(chunk)
            if offset - line_start > MAX_LINE_BYTES:
                raise _corrupt(path, run_name, f"a line is longer than {MAX_LINE_BYTES} bytes", fix)
    return MetricsScan(columns, rows, end)


class _Bounded(io.RawIOBase):
    """A read-only view of the first ``limit`` bytes of a file (pandas must not see a partial
    last line that a writer is still appending)."""

    def __init__(self, handle, limit: int):
        self._handle, self._left = handle, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self._left)
        if size <= 0:
            return 0
        data = self._handle.read(size)
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


def read_metrics_frame(path: Path, run_name: str, strict: bool = False):
    """The complete rows of metrics.csv as a DataFrame (empty when none): numbers as numbers,
    ``extra`` JSON expanded into columns, ``changed`` as text. ``strict`` (import) refuses more
    than MAX_METRICS_ROWS rows; otherwise such a file is thinned to about that many rows."""
    import pandas as pd

    if not Path(path).is_file():
        return pd.DataFrame()
    fix = _IMPORT_FIX if strict else None
    scan = scan_metrics(path, run_name, fix)
    if scan is None:
        return pd.DataFrame()
    if strict and scan.rows > MAX_METRICS_ROWS:
        raise RunFileError(run_name, METRICS_FILE, f"has {scan.rows:,} rows; at most {MAX_METRICS_ROWS:,} are allowed")
    every = max(1, math.ceil(scan.rows / MAX_METRICS_ROWS))
    try:
        with open(path, "rb") as handle:
            source = io.BufferedReader(_Bounded(handle, scan.end))
            if every == 1:
                frame = pd.read_csv(source, encoding="utf-8", on_bad_lines="skip", dtype={"changed": "str"})
            else:
                frame = _read_thinned(source, every)
    except UnicodeDecodeError:
        raise _corrupt(path, run_name, "not a text file", fix) from None
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
        raise _corrupt(path, run_name, str(err).splitlines()[0][:120] if str(err) else type(err).__name__, fix) from None
    if EXTRA_COLUMN in frame.columns:
        _expand_extra(frame, frame.pop(EXTRA_COLUMN), path, run_name, fix)
    if "changed" in frame.columns:
        frame["changed"] = frame["changed"].fillna("").astype(str)
    return frame


def _read_thinned(source, every: int):
    """Every ``every``-th row (and the last) of a long metrics file, parsed in chunks so that
    memory holds one chunk and the kept rows."""
    import numpy as np
    import pandas as pd

    pieces, seen, last = [], 0, None
    with pd.read_csv(source, encoding="utf-8", on_bad_lines="skip", dtype={"changed": "str"},
                     chunksize=THIN_CHUNK_ROWS) as reader:
        for chunk in reader:
            keep = np.arange(seen, seen + len(chunk)) % every == 0
            pieces.append(chunk[keep])
            seen += len(chunk)
            last = chunk.iloc[[-1]] if not keep[-1] else None
    if last is not None:
        pieces.append(last)
    return pd.concat(pieces, ignore_index=True)


def _expand_extra(frame, cells, path: Path, run_name: str, fix: str | None) -> None:
    """Add the ``extra`` cells' keys as columns of ``frame`` (later rows' values win over NaN)."""
    import pandas as pd

    values: dict[str, dict] = {}
    for index, cell in cells.dropna().items():
        if not isinstance(cell, str) or not cell:
            continue
        try:
            value = parse_json_bounded(cell)
        except ValueError as err:
            if "nested" in str(err):
                raise _corrupt(path, run_name, f"an 'extra' cell {str(err).removeprefix('it ')}", fix) from None
            continue   # an unreadable cell: the row's other columns stay
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            values.setdefault(str(key), {})[index] = item
        if len(values) + len(frame.columns) > MAX_METRICS_COLUMNS:
            raise _corrupt(path, run_name, f"more than {MAX_METRICS_COLUMNS} columns with its 'extra' cells", fix)
    for key, column in values.items():
        series = pd.Series(column, dtype=object).reindex(frame.index)
        converted = pd.to_numeric(series, errors="coerce")
        series = converted if converted.notna().sum() == series.notna().sum() else series
        frame[key] = frame[key].where(series.isna(), series) if key in frame.columns else series


def _copy_rows_up_to(source, target, scan: MetricsScan, index: int, last_step: int) -> None:
    reader = io.TextIOWrapper(io.BufferedReader(_Bounded(source, scan.end)), encoding="utf-8", newline="")
    target.write(reader.readline().encode("utf-8"))
    for line in reader:
        fields = next(csv.reader([line]), [])
        try:
            if len(fields) > index and float(fields[index]) <= last_step:
                target.write(line.encode("utf-8"))
        except ValueError:
            continue


def truncate_metrics_file(path: Path, run_name: str, last_step: int) -> list[str] | None:
    """Drop rows with ``step > last_step`` (and rows without a readable step), streaming line by
    line into a temp file that replaces metrics.csv. Returns the header (None: no file/header;
    a file without a complete header is removed)."""
    scan = scan_metrics(path, run_name)
    if scan is None:   # no complete header: nothing worth keeping
        if Path(path).is_file():
            Path(path).unlink()
        return None
    index = scan.columns.index("step")

    def write(tmp: str) -> None:
        with open(path, "rb") as source, open(tmp, "wb") as target:
            _copy_rows_up_to(source, target, scan, index, last_step)

    try:
        atomic_write(path, write)
    except (UnicodeDecodeError, csv.Error) as err:   # the file stays as it was
        raise _corrupt(path, run_name, "not a text file" if isinstance(err, UnicodeDecodeError) else str(err)) from None
    return scan.columns

