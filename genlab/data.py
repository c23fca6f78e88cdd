"""Data sets.

Image data sets (``(N, 1, H, W)`` float32 tensors in [0, 1] with integer labels):

* ``digits`` (default, embedded): ``sklearn.datasets.load_digits``, 1797 8x8 digits, pixels / 16.
  The benchmark split used everywhere is
  ``train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)``.
* ``mnist``, ``fashion-mnist``: 28x28, through ``torchvision.datasets`` from ``data_dir``
  (``--data-dir`` / ``GENLAB_DATA_DIR`` / ``~/.cache/genlab/data``). Offline with the files absent,
  a :class:`~genlab.errors.DatasetUnavailable` says which folder and files to provide.

2D toy data sets (``(N, 2)`` float32 arrays): ``ring8``, ``grid25``, ``two-moons``, ``spiral``,
``two-gaussians``, and user points from a CSV with columns ``x,y``.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genlab.errors import DatasetUnavailable, GenlabError

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist")
TOY_DATASETS = ("ring8", "grid25", "two-moons", "spiral", "two-gaussians")
ALL_DATASETS = IMAGE_DATASETS + TOY_DATASETS
SPLITS = ("train", "test", "all")
MAX_CSV_ROWS = 100_000
MAX_CSV_BYTES = 20 * 1024 * 1024

# MNIST-format files that torchvision expects under <data_dir>/<folder>/raw/
_TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass
class ImageDataset:
    """Images ``(N, C, H, W)`` in [0, 1] and integer class labels ``(N,)``."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int = 10

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # (C, H, W)

    def __len__(self) -> int:
        return self.images.shape[0]


def default_data_dir() -> Path:
    """Folder for downloadable data sets: ``$GENLAB_DATA_DIR`` or ``~/.cache/genlab/data``."""
    return Path(os.environ.get("GENLAB_DATA_DIR") or Path.home() / ".cache" / "genlab" / "data")


def check_dataset_name(name: str, allowed: tuple[str, ...] = ALL_DATASETS) -> str:
    if name not in allowed:
        raise GenlabError(f"unknown data set {name!r}; allowed: {', '.join(allowed)}")
    return name


def is_image_dataset(name: str) -> bool:
    return name in IMAGE_DATASETS


# --------------------------------------------------------------------------- images


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits benchmark split: ``x_train (1437, 64), x_test (360, 64), y_train, y_test``.

    Pixels are scaled to [0, 1] by dividing by 16 (float32); the split is
    ``train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)``. Computed once per
    process (a page asks for it several times per visit, and importing scikit-learn takes
    seconds); every call gets its own copies.
    """
    return tuple(a.copy() for a in _digits_split_once())


@functools.lru_cache(maxsize=1)
def _digits_split_once() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    for a in (x_train, x_test, y_train, y_test):
        a.flags.writeable = False       # the cached split itself never changes
    return x_train, x_test, y_train, y_test


def load_image_dataset(name: str = "digits", split: str = "train", data_dir: str | os.PathLike | None = None,
                       download: bool | None = None) -> ImageDataset:
    """Load an image data set as ``ImageDataset`` with images ``(N, 1, H, W)`` in [0, 1].

    ``download``: for mnist/fashion-mnist, whether torchvision may try to fetch missing files
    (default: yes unless ``GENLAB_NO_DOWNLOAD=1``, which the tests set).
    """
    check_dataset_name(name, IMAGE_DATASETS)
    if split not in SPLITS:
        raise GenlabError(f"unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    if name == "digits":
        x_train, x_test, y_train, y_test = digits_split()
        if split == "train":
            x, y = x_train, y_train
        elif split == "test":
            x, y = x_test, y_test
        else:
            x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
        images = torch.from_numpy(x).reshape(-1, 1, 8, 8)  # (N, 1, 8, 8)
        return ImageDataset(name, split, images, torch.from_numpy(y))
    return _load_torchvision(name, split, data_dir, download)


def _load_torchvision(name: str, split: str, data_dir, download: bool | None) -> ImageDataset:
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    raw = root / _TORCHVISION_FOLDERS[name] / "raw"
    if download is None:
        download = os.environ.get("GENLAB_NO_DOWNLOAD", "") not in ("1", "true", "yes")
    where = (f"Put the four files {', '.join(IDX_FILES)} (optionally .gz) into {raw} and try again, "
             "or use --dataset digits.")
    missing = [f for f in IDX_FILES if not (raw / f).is_file() and not (raw / f"{f}.gz").is_file()]
    if missing and not download:
        raise DatasetUnavailable(f"{name} is not on disk and is not downloaded here. {where}")
    if missing and not _downloads_allowed_into(root):
        raise DatasetUnavailable(f"{name} is not on disk, and genlab downloads only into a folder of your own "
                                 f"(your home, a temporary folder or $GENLAB_DATA_DIR), not {root}. {where}")
    if missing and not _mirror_reachable(name):
        raise DatasetUnavailable(f"{name} is not on disk and could not be downloaded (offline?). {where}")
    # torchvision creates <root>/<folder>/raw before it downloads: folders made for a failed
    # download are removed again, so a wrong --data-dir leaves nothing behind
    created = None
    for folder in (raw, *raw.parents):
        if folder.exists():
            break
        created = folder
    try:
        parts = [_torchvision_split(name, root, train, bool(missing)) for train in (True, False)
                 if split == ("train" if train else "test") or split == "all"]
    except Exception as err:  # noqa: BLE001 - a network error, a failed download or unreadable files
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        problem = "could not be downloaded (offline?)" if missing else f"could not be read from {raw} ({type(err).__name__})"
        raise DatasetUnavailable(f"{name} is not on disk and {problem}. {where}"
                                 if missing else f"{name} {problem}. {where}") from None
    images = torch.cat([p.data for p in parts]).float().div_(255.0).unsqueeze(1)  # (N, 1, 28, 28)
    labels = torch.cat([p.targets for p in parts]).long()
    return ImageDataset(name, split, images, labels)


def _torchvision_split(name: str, root: Path, train: bool, fetch: bool):
    """torchvision's MNIST/FashionMNIST split; ``fetch`` lets it download (or unpack .gz files)."""
    import socket

    import torchvision

    cls = torchvision.datasets.MNIST if name == "mnist" else torchvision.datasets.FashionMNIST
    if not fetch:
        return cls(str(root), train=train, download=False)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        return cls(str(root), train=train, download=True)
    finally:
        socket.setdefaulttimeout(old)


def _mirror_reachable(name: str) -> bool:
    """Whether the first download mirror answers within 3 s (offline, torchvision would try every
    mirror for every file: 18 s measured here). Behind a proxy, assume it does."""
    import socket
    from urllib.parse import urlsplit

    import torchvision

    if any(os.environ.get(v) for v in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")):
        return True
    cls = torchvision.datasets.MNIST if name == "mnist" else torchvision.datasets.FashionMNIST
    url = urlsplit(cls.mirrors[0])
    try:
        socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout=3).close()
    except OSError:
        return False
    return True


def _downloads_allowed_into(root: Path) -> bool:
    """Whether ``root`` is a folder of the user's for downloads: the default data folder
    (``$GENLAB_DATA_DIR``), or inside the home folder or the temporary folder."""
    import tempfile

    target = root.expanduser().resolve()
    homes = [default_data_dir(), Path.home(), Path(tempfile.gettempdir())]
    return any(target == home.resolve() or home.resolve() in target.parents for home in homes
               if home.resolve() != Path(home.resolve().anchor))


# --------------------------------------------------------------------------- 2D toy data

RING8_RADIUS, RING8_STD = 2.0, 0.02
GRID25_STD = 0.05


def toy_modes(name: str) -> np.ndarray | None:
    """Centres of the mixture components of ``ring8`` (8) and ``grid25`` (25); None otherwise."""
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([RING8_RADIUS * np.cos(angles), RING8_RADIUS * np.sin(angles)], axis=1).astype(np.float32)
    if name == "grid25":
        values = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        xx, yy = np.meshgrid(values, values, indexing="ij")
        return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    return None


def toy_std(name: str) -> float | None:
    """Standard deviation of each mode of ``ring8`` / ``grid25``; None for the other sets."""
    return {"ring8": RING8_STD, "grid25": GRID25_STD}.get(name)


def sample_toy(name: str, n: int, seed: int = 0) -> np.ndarray:
    """Draw ``n`` points ``(n, 2)`` float32 from a 2D toy distribution with a seeded generator.

    ring8: 8 Gaussians (std 0.02) on a circle of radius 2; grid25: 25 Gaussians (std 0.05) at
    {-4,-2,0,2,4}^2; two-moons: sklearn's moons (noise 0.05) centred and scaled x2;
    spiral: a two-turn spiral with noise; two-gaussians: N((-2,0), 0.5^2 I) and N((2,0), 0.5^2 I).
    """
    check_dataset_name(name, TOY_DATASETS)
    n = int(n)
    if n <= 0:
        raise GenlabError(f"number of points must be > 0 (got {n})")
    rng = np.random.default_rng(seed)
    if name in ("ring8", "grid25"):
        modes = toy_modes(name)
        idx = rng.integers(0, len(modes), size=n)
        points = modes[idx] + toy_std(name) * rng.standard_normal((n, 2))
    elif name == "two-moons":
        from sklearn.datasets import make_moons

        points, _ = make_moons(n_samples=n, noise=0.05, random_state=int(rng.integers(2**31)))
        points = (points - np.array([0.5, 0.25])) * 2.0
    elif name == "spiral":
        t = np.sqrt(rng.uniform(0, 1, n)) * 4 * np.pi  # two turns, uniform along the area
        radius = 0.35 * t
        points = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)
        points += 0.08 * rng.standard_normal((n, 2))
    else:  # two-gaussians
        centres = np.array([[-2.0, 0.0], [2.0, 0.0]])
        points = centres[rng.integers(0, 2, size=n)] + 0.5 * rng.standard_normal((n, 2))
    return points.astype(np.float32)


def load_points_csv(source, max_rows: int = MAX_CSV_ROWS) -> np.ndarray:
    """Read user points ``(N, 2)`` float32 from a CSV with header columns ``x,y``.

    ``source``: a path, bytes, or a file-like object (e.g. a Streamlit upload). Rules: exactly two
    columns, named ``x`` and ``y`` in the header (any case, either order) or a file of two numbers
    per line without a header; 2 to ``max_rows`` rows; numeric and finite values only. The header is
    checked before the body is parsed (a 600 000-column header costs nothing). Anything else raises
    GenlabError saying what is wrong and what is allowed. Never evaluates the content.
    """
    import warnings

    import pandas as pd

    text = _csv_text(source, max_rows)
    first_line, _, rest = text.partition("\n")
    names = _csv_header(first_line)
    text = _short_lines(text, max_rows)
    first_line, _, rest = text.partition("\n")
    body, lines_before = (text, 0) if names is None else (rest, 1)
    names = names or ["x", "y"]
    try:
        with warnings.catch_warnings():
            # a first row with 3 values would silently lose one: make pandas raise instead
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(body), header=None, names=names, index_col=False, dtype=str,
                                nrows=max_rows + 1, skipinitialspace=True, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
        found = re.search(r"Expected 2 fields in line (\d+), saw (\d+)", str(err))
        if found:
            line, count = int(found.group(1)) + lines_before, int(found.group(2))
            raise GenlabError(f"line {line} of the CSV has {count} values; each line must hold exactly "
                              "2 numbers, x and y") from None
        if isinstance(err, pd.errors.ParserWarning):
            raise GenlabError(f"line {lines_before + 1} of the CSV has more than 2 values; each line must "
                              "hold exactly 2 numbers, x and y") from None
        raise GenlabError(f"could not read the file as CSV ({type(err).__name__}); expected columns x,y") from None
    except Exception as err:  # noqa: BLE001 - pandas raises several parser errors
        raise GenlabError(f"could not read the file as CSV ({type(err).__name__}); expected columns x,y") from None
    if len(frame) > max_rows:
        raise GenlabError(f"the CSV has more than {max_rows} rows; allowed: 2 to {max_rows} points")
    if len(frame) < 2:
        raise GenlabError("the CSV needs at least 2 points (rows under the header x,y)")
    values = frame[["x", "y"]].apply(pd.to_numeric, errors="coerce")
    bad = values.isna().any(axis=1)
    if bad.any():
        row = int(np.argmax(bad.to_numpy())) + 1 + lines_before  # one-based, after the header
        raise GenlabError(f"line {row} of the CSV has a value that is not a number (text, empty or NaN); x and y must be finite numbers")
    points = values.to_numpy(dtype=np.float64)
    if not np.isfinite(points).all():
        row = int(np.argmax(~np.isfinite(points).all(axis=1))) + 1 + lines_before
        raise GenlabError(f"line {row} of the CSV has NaN or infinity; x and y must be finite numbers")
    if np.abs(points).max() > 1e6:
        raise GenlabError("coordinates must lie within ±1e6")
    return points.astype(np.float32)


def _csv_text(source, max_rows: int) -> str:
    """The text of a CSV ``source`` (path, bytes or file-like), refused when too large or binary."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise GenlabError(f"CSV file {path} does not exist")
        if path.stat().st_size > MAX_CSV_BYTES:
            raise GenlabError(f"CSV file is too large (max {MAX_CSV_BYTES // (1024 * 1024)} MB, {max_rows} rows)")
        raw = path.read_bytes()
    elif isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    else:
        raw = source.read(MAX_CSV_BYTES + 1)
        if isinstance(raw, str):
            raw = raw.encode()
    if len(raw) > MAX_CSV_BYTES:
        raise GenlabError(f"CSV is too large (max {MAX_CSV_BYTES // (1024 * 1024)} MB and {max_rows} rows)")
    if not raw.strip():
        raise GenlabError("the CSV is empty; expected a header line 'x,y' and one point per line")
    if b"\x00" in raw[:4096]:
        raise GenlabError("this is not a CSV text file; expected a header line 'x,y' and one point per line")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GenlabError("the file is not UTF-8 text; expected a CSV with columns x,y") from None


_MAX_LINE_CHARS = 200  # "x,y" of two float64 reprs with spaces is under 60


def _short_lines(text: str, max_rows: int) -> str:
    """The first ``max_rows + 2`` lines of ``text`` (enough to tell "too many rows"), refused if one is
    longer than a line of two numbers can be: pandas spends minutes on a first row of 600 000 values.
    """
    lines = text.split("\n", max_rows + 2)[: max_rows + 2]
    lengths = list(map(len, lines))
    longest = max(lengths)
    if longest > _MAX_LINE_CHARS:
        number = lengths.index(longest)
        values = lines[number].count(",") + 1
        raise GenlabError(f"line {number + 1} of the CSV is {longest:,} characters long ({values:,} values); "
                          "each line must hold exactly 2 numbers, x and y")
    return "\n".join(lines)


def _csv_header(line: str) -> list[str] | None:
    """Column names of the header ``line`` (``["x", "y"]`` or ``["y", "x"]``), or None when the line is
    already a point (two numbers, no header). Anything else raises GenlabError naming what was found.
    """
    import csv

    allowed = "allowed: exactly 2 columns named x and y (or two numbers per line and no header)"
    if len(line) > _MAX_LINE_CHARS:
        count = line.count(",") + 1
        raise GenlabError(f"the CSV's first line is {len(line):,} characters long ({count:,} columns); {allowed}")
    try:
        fields = next(csv.reader([line.rstrip("\r")]), [])
    except csv.Error:
        fields = [line]
    fields = [field.strip() for field in fields]
    if len(fields) == 2 and all(_is_number(field) for field in fields):
        return None
    names = [field.lower() for field in fields]
    if sorted(names) == ["x", "y"]:
        return names
    shown = ", ".join(fields)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    if len(fields) != 2:
        count = f"{len(fields)} column" + ("" if len(fields) == 1 else "s")
        raise GenlabError(f"the CSV has {count} ({shown}); {allowed}")
    raise GenlabError(f"the CSV needs columns named x and y (found: {shown or 'none'}); {allowed}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
