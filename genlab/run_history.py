"""A run's training history (``history.npz``): the file format, its checked reader and its writer.

The history is a timeline of snapshots recorded while a run trains (:mod:`genlab.train.history`
records them; :mod:`genlab.replay` turns them into a GIF; the pages scrub through them). It is an
``.npz`` archive of plain arrays (no pickles), one frame per recorded step:

* every kind: ``version`` (), ``kind`` () text, ``steps`` (F,) int64 strictly increasing,
  ``metric_names`` (M,) text and ``metrics`` (F, M) float32 (the training row of each frame's
  step; NaN where a frame has none, e.g. step 0);
* ``gan2d`` (2D GANs): ``fake`` (F, N, 2) float16 fakes of one fixed noise batch, ``heatmap``
  (F, R, R) float16 D(x) on a grid over ``extent`` (4,) = (x_min, x_max, y_min, y_max) with
  row = y, ``manifold`` (F, A, B, 2) float16 G's image of a noise grid, ``real`` (N_real, 2)
  float16 real points;
* ``image`` (image GANs): ``samples`` (F, N, C, H, W) uint8 of fixed noise, ``nrow`` () the grid's
  row length, optional ``labels`` (N,) (cgan), and for PatchGAN ``patch_fake`` (F, P, h, w)
  float16 D's per-patch map of ``samples[:, :P]``, ``patch_real`` (P, C, H, W) uint8 fixed
  test images and ``patch_real_maps`` (F, P, h, w) float16;
* ``latent`` (AE / VAE): ``codes`` (F, N, K) float16 encoder means of a fixed test subset,
  ``labels`` (N,) its classes, ``decodes`` (F, D, C, H, W) uint8 decoded prior draws
  ``prior_z`` (D, K) float32.

Runs come from anybody, so :func:`read_history_file` checks everything before it decompresses
an array (entry names, dtypes and shapes from the ``.npy`` headers, the total size), then the
frame counts and the step order; a bad file raises :class:`~genlab.run_files.RunFileError`
naming the run. A damaged history never stops the run itself from loading: nothing else reads it.
This module imports no torch (the pages read histories).
"""
from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genlab.atomic_file import atomic_write_bytes
from genlab.limits import IMPORT_FILE_LIMITS
from genlab.run_files import HISTORY_FILE, RunFileError

HISTORY_VERSION = 1
HISTORY_KINDS = ("gan2d", "image", "latent")
MAX_HISTORY_FRAMES = 1000          # the recorder keeps 120; resumed and imported files get room
MAX_HISTORY_ARRAY_BYTES = 96 * 1024 * 1024   # all arrays together, decompressed
MAX_HEADER_BYTES = 10_000

# name -> (allowed dtype kinds, ndim, per frame); "T" = text
_COMMON = {
    "version": ("iu", 0, False), "kind": ("U", 0, False), "steps": ("iu", 1, True),
    "metric_names": ("U", 1, False), "metrics": ("f", 2, True),
}
_ARRAYS = {
    "gan2d": {"fake": ("f", 3, True), "heatmap": ("f", 3, True), "manifold": ("f", 4, True),
              "extent": ("f", 1, False), "real": ("f", 2, False)},
    "image": {"samples": ("u", 5, True), "nrow": ("iu", 0, False), "labels": ("iu", 1, False),
              "patch_fake": ("f", 4, True), "patch_real": ("u", 4, False), "patch_real_maps": ("f", 4, True)},
    "latent": {"codes": ("f", 3, True), "labels": ("iu", 1, False), "decodes": ("u", 5, True),
               "prior_z": ("f", 2, False)},
}
_REQUIRED = {
    "gan2d": ("fake", "heatmap", "manifold", "extent", "real"),
    "image": ("samples", "nrow"),
    "latent": ("codes", "decodes"),
}


@dataclass
class History:
    """A run's timeline: ``kind`` (gan2d, image, latent), ``steps`` (F,), ``arrays`` (name ->
    array as stored, see the module docstring), ``metric_names`` / ``metrics`` (F, M)."""

    kind: str
    steps: np.ndarray
    arrays: dict = field(default_factory=dict)
    metric_names: tuple = ()
    metrics: np.ndarray | None = None

    def __len__(self) -> int:
        return int(len(self.steps))

    def frame(self, index: int) -> dict:
        """Frame ``index``: ``step``, each per-frame array's slice, the fixed arrays, and ``metrics``
        (metric name -> value)."""
        frames = len(self)
        out = {"step": int(self.steps[index])}
        for name, value in self.arrays.items():
            out[name] = value[index] if is_per_frame(self.kind, name) and len(value) == frames else value
        if self.metrics is not None:
            out["metrics"] = dict(zip(self.metric_names, (float(v) for v in self.metrics[index])))
        return out

    def index_at(self, step: int) -> int:
        """The index of the last frame at or before ``step`` (the first frame if none is)."""
        return max(0, int(np.searchsorted(self.steps, int(step), side="right")) - 1)

    def nbytes(self) -> int:
        """Bytes of the arrays in memory."""
        arrays = [self.steps, *self.arrays.values()] + ([self.metrics] if self.metrics is not None else [])
        return int(sum(np.asarray(a).nbytes for a in arrays))


def is_per_frame(kind: str, name: str) -> bool:
    """Whether array ``name`` of a ``kind`` history has one entry per frame (else: stored once)."""
    spec = _ARRAYS.get(kind, {}).get(name) or _COMMON.get(name)
    return bool(spec and spec[2])


# --------------------------------------------------------------------------- thinning


def thin_frames(steps, budget: int) -> np.ndarray:
    """Indices of the frames to keep so that at most ``budget`` remain: the excess frames are dropped
    evenly spread over the interior (twice the budget: every other frame), the first and the last
    kept, so the timeline keeps its density profile (dense at the start). For histories that grew
    past the budget (a run stopped and resumed, a page that trains on in chunks) and for the
    lighter histories of the shipped demos."""
    count, budget = len(steps), max(2, int(budget))
    if count <= budget:
        return np.arange(count)
    excess, interior = count - budget, count - 2
    drop = 1 + ((np.arange(excess) + 0.5) * interior / excess).astype(np.int64)   # distinct: spacing >= 1
    return np.setdiff1d(np.arange(count), drop)


def thin_history(history: History, budget: int) -> History:
    """``history`` with at most ``budget`` frames (:func:`thin_frames`)."""
    keep = thin_frames(history.steps, budget)
    arrays = {name: value[keep] if is_per_frame(history.kind, name) else value for name, value in history.arrays.items()}
    metrics = history.metrics[keep] if history.metrics is not None else None
    return History(history.kind, history.steps[keep], arrays, history.metric_names, metrics)


# --------------------------------------------------------------------------- writing


def history_bytes(history: History) -> bytes:
    """``history`` as the bytes of a compressed ``.npz`` (what :func:`write_history_file` stores)."""
    arrays = {"version": np.array(HISTORY_VERSION, dtype=np.int64), "kind": np.array(history.kind),
              "steps": np.asarray(history.steps, dtype=np.int64)}
    if history.metrics is not None:
        arrays["metric_names"] = np.array([str(n) for n in history.metric_names], dtype=str)
        arrays["metrics"] = np.asarray(history.metrics, dtype=np.float32)
    arrays.update(history.arrays)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def write_history_file(path: Path, history: History) -> int:
    """Write ``history`` to ``path`` atomically (temp file + rename); returns the file's size."""
    data = history_bytes(history)
    atomic_write_bytes(Path(path), data)
    return len(data)


# --------------------------------------------------------------------------- reading


def read_history_file(path: Path, run_name: str) -> History:
    """The checked history at ``path`` (see the module docstring); RunFileError for a missing,
    damaged, oversized or foreign file, naming the run and saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise RunFileError(run_name, HISTORY_FILE, "is missing: the run has no recorded history "
                                                   "(it was trained before genlab recorded histories); train it again")
    limit = IMPORT_FILE_LIMITS[HISTORY_FILE]
    try:
        size = path.stat().st_size
        if size > limit:
            raise RunFileError(run_name, HISTORY_FILE, f"is {size:,} bytes; at most {limit:,} are allowed")
        raw = path.read_bytes()
    except OSError as err:
        raise RunFileError(run_name, HISTORY_FILE, f"cannot be read ({err.strerror})") from None
    try:
        arrays = _read_arrays(raw, run_name)
    except RunFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, NotImplementedError) as err:
        raise RunFileError(run_name, HISTORY_FILE, f"is damaged ({type(err).__name__}); "
                                                   "the run still loads, but its timeline cannot be shown") from None
    return _check_history(arrays, run_name)


def _bad(run_name: str, problem: str) -> RunFileError:
    return RunFileError(run_name, HISTORY_FILE, f"{problem}; the run still loads, but its timeline cannot be shown")


def _read_arrays(raw: bytes, run_name: str) -> dict:
    """The archive's arrays, after checking names, dtypes and sizes from the headers alone."""
    allowed = set(_COMMON) | {name for names in _ARRAYS.values() for name in names}
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        entries = archive.infolist()
        if len(entries) > len(allowed):
            raise _bad(run_name, f"has {len(entries)} arrays; a history has at most {len(allowed)}")
        headers, total = {}, 0
        for entry in entries:
            name = entry.filename.removesuffix(".npy")
            if not entry.filename.endswith(".npy") or name not in allowed or name in headers:
                raise _bad(run_name, "holds an entry that is not one of its arrays")
            if entry.flag_bits & 0x1:
                raise _bad(run_name, "is encrypted")
            with archive.open(entry) as handle:
                shape, dtype = _header(handle, run_name, name)
            headers[name] = (shape, dtype)
            total += int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            if total > MAX_HISTORY_ARRAY_BYTES:
                raise _bad(run_name, f"holds more than {MAX_HISTORY_ARRAY_BYTES // 2**20} MB of arrays")
        arrays = {}
        for entry in entries:
            with archive.open(entry) as handle:
                arrays[entry.filename.removesuffix(".npy")] = np.lib.format.read_array(
                    handle, allow_pickle=False, max_header_size=MAX_HEADER_BYTES)
    return arrays


def _header(handle, run_name: str, name: str):
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle, max_header_size=MAX_HEADER_BYTES)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle, max_header_size=MAX_HEADER_BYTES)
    else:
        raise _bad(run_name, f"has array {name!r} in an unknown .npy version")
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in "iufU":
        raise _bad(run_name, f"has array {name!r} of type {dtype.kind!r}; only numbers and text are allowed")
    if dtype.kind == "U" and dtype.itemsize > 4 * 200:
        raise _bad(run_name, f"has text {name!r} longer than 200 characters")
    return shape, dtype


def _check_history(arrays: dict, run_name: str) -> History:
    """Kind, version, shapes and step order of the arrays read; a History."""
    version = arrays.get("version")
    if version is None or version.ndim or version.dtype.kind not in "iu":
        raise _bad(run_name, "is not a genlab history (no version)")
    if int(version) > HISTORY_VERSION:
        raise RunFileError(run_name, HISTORY_FILE, f"has format version {int(version)}, newer than this genlab "
                                                   f"reads ({HISTORY_VERSION}); update genlab")
    kind = arrays.get("kind")
    kind = str(kind) if kind is not None and kind.ndim == 0 and kind.dtype.kind == "U" else ""
    if kind not in HISTORY_KINDS:
        raise _bad(run_name, f"has an unknown kind; allowed: {', '.join(HISTORY_KINDS)}")
    specs = {**_COMMON, **_ARRAYS[kind]}
    for name, value in arrays.items():
        if name not in specs:
            raise _bad(run_name, f"has array {name!r}, which a {kind} history does not have")
        kinds, ndim, _ = specs[name]
        if value.dtype.kind not in kinds or value.ndim != ndim:
            raise _bad(run_name, f"has array {name!r} of shape {value.shape} and type {value.dtype}; "
                                 f"expected {ndim} dimensions of type {kinds!r}")
    missing = [name for name in ("steps", *_REQUIRED[kind]) if name not in arrays]
    if missing:
        raise _bad(run_name, f"lacks the arrays {', '.join(missing)} of a {kind} history")
    steps = arrays.pop("steps").astype(np.int64)
    frames = len(steps)
    if not 1 <= frames <= MAX_HISTORY_FRAMES:
        raise _bad(run_name, f"has {frames} frames; allowed: 1 to {MAX_HISTORY_FRAMES}")
    if steps[0] < 0 or (frames > 1 and not (np.diff(steps) > 0).all()):
        raise _bad(run_name, "has steps that are not increasing whole numbers >= 0")
    for name, value in arrays.items():
        if specs[name][2] and len(value) != frames:
            raise _bad(run_name, f"has {len(value)} frames of {name!r} but {frames} steps")
    _check_shapes(kind, arrays, run_name)
    names, metrics = arrays.pop("metric_names", None), arrays.pop("metrics", None)
    if (names is None) != (metrics is None) or (metrics is not None and metrics.shape[1] != len(names)):
        raise _bad(run_name, "has metrics that do not match their names")
    for name in ("version", "kind"):
        arrays.pop(name, None)
    return History(kind, steps, arrays, tuple(str(n) for n in names) if names is not None else (), metrics)


def _check_shapes(kind: str, arrays: dict, run_name: str) -> None:
    """The shapes that must agree within one kind (points are 2D, the images of one run alike)."""
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise _bad(run_name, what)

    if kind == "gan2d":
        need(arrays["fake"].shape[2] == 2 and arrays["real"].shape[1] == 2 and arrays["manifold"].shape[3] == 2,
             "has points that are not 2D")
        need(arrays["extent"].shape == (4,), "has an extent that is not 4 numbers")
        need(arrays["heatmap"].shape[1] == arrays["heatmap"].shape[2] >= 2, "has a heatmap that is not a square grid")
    elif kind == "image":
        samples = arrays["samples"]
        need(samples.shape[1] >= 1 and samples.shape[2] in (1, 3), "has sample images without 1 or 3 channels")
        need(1 <= int(arrays["nrow"]) <= max(1, samples.shape[1]), "has a grid row length outside 1 to the sample count")
        if "labels" in arrays:
            need(arrays["labels"].shape == (samples.shape[1],), "has labels that do not match its samples")
        patch = [name for name in ("patch_fake", "patch_real", "patch_real_maps") if name in arrays]
        if patch:
            need(len(patch) == 3, "has an incomplete set of PatchGAN maps")
            count = arrays["patch_real"].shape[0]
            need(arrays["patch_fake"].shape[1] == count == arrays["patch_real_maps"].shape[1] <= samples.shape[1]
                 and arrays["patch_real"].shape[1:] == samples.shape[2:], "has PatchGAN maps that do not match")
    else:
        codes, decodes = arrays["codes"], arrays["decodes"]
        need(codes.shape[2] >= 1 and decodes.shape[1] >= 1, "has no latent dimensions or no decoded images")
        need(decodes.shape[2] in (1, 3), "has decoded images without 1 or 3 channels")
        if "labels" in arrays:
            need(arrays["labels"].shape == (codes.shape[1],), "has labels that do not match its codes")
        if "prior_z" in arrays:
            need(arrays["prior_z"].shape == (decodes.shape[1], codes.shape[2]), "has prior draws that do not match")
