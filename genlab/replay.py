"""Replaying a run's recorded history (``history.npz``, :mod:`genlab.run_history`) as an animated GIF.

::

    python -m genlab replay RUN_DIR --out FILE.gif [--fps N] [--every K]

Each frame draws the run's view at one recorded step, with the step written above it: a 2D GAN's
plane (D(x) as a tint, green where D says "real", purple where it says "fake"; G's manifold as a
grey mesh; real points as green dots, the fakes of a fixed noise batch as smaller purple dots on top), an image GAN's sample
grid of fixed noise (PatchGAN: also D's per-patch maps of fixed real images and of the first
fakes), or an AE / VAE's latent codes of a fixed test subset coloured by class beside the decodes
of fixed prior draws. Drawn with Pillow and encoded by Pillow's GIF writer.

For the pages: :func:`replay_gif` (GIF bytes of a run) and :func:`history_gif` (of a History).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from genlab.atomic_file import atomic_write_bytes
from genlab.errors import GenlabError
from genlab.run_files import CONFIG_FILE, HISTORY_FILE, read_config
from genlab.run_history import History, read_history_file

MAX_FPS = 50.0              # GIF delays are whole hundredths of a second; browsers slow faster ones
DEFAULT_FPS = 10.0
MAX_EVERY = 10_000
PLOT = 360                  # the picture's side in pixels (the 2D plane, the latent scatter)
CAPTION = 26                # the strip above the picture with the step
REAL = (27, 158, 119)       # D(x) -> 1 and real points
FAKE = (117, 82, 179)       # D(x) -> 0 and fakes
CLASS_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                 (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


# --------------------------------------------------------------------------- drawing


def _font(size: int = 15):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:   # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _tint(values: np.ndarray, strength: float = 0.45) -> np.ndarray:
    """D(x) in [0, 1] (lsgan scores clipped) -> RGB: purple (fake) via white to green (real), at
    ``strength`` of the full colours (light under the plane's points, full for PatchGAN's maps)."""
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.5), 0, 1)[..., None]
    white = np.array([255, 255, 255], dtype=np.float32)
    low, high = white + strength * (np.array(FAKE) - white), white + strength * (np.array(REAL) - white)
    colour = np.where(v < 0.5, low + (white - low) * (v / 0.5), white + (high - white) * ((v - 0.5) / 0.5))
    return colour.round().astype(np.uint8)


def _to_pixels(points: np.ndarray, extent, size: int) -> np.ndarray:
    x0, x1, y0, y1 = (float(v) for v in extent)
    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    x = (points[:, 0] - x0) / (x1 - x0) * (size - 1)
    y = (1 - (points[:, 1] - y0) / (y1 - y0)) * (size - 1)
    return np.stack([x, y], axis=1)


def _disk(radius: float) -> tuple[np.ndarray, np.ndarray]:
    reach = int(np.ceil(radius))
    dy, dx = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    inside = dx ** 2 + dy ** 2 <= radius ** 2
    return dy[inside], dx[inside]


def _dots(image, pixels: np.ndarray, colour, radius: float = 2.0):
    """``image`` with a dot of ``colour`` (and a darker rim) at each finite pixel position; dots are
    stamped with numpy (one ellipse call per point was most of a GIF's drawing time)."""
    from PIL import Image

    array = np.array(image)
    height, width = array.shape[:2]
    centres = np.round(pixels[np.isfinite(pixels).all(axis=1)]).astype(np.int64)
    rim = tuple(int(c * 0.6) for c in colour)
    for shade, size in ((rim, radius + 0.8), (colour, radius)):
        dy, dx = _disk(size)
        ys, xs = (centres[:, 1:2] + dy).ravel(), (centres[:, 0:1] + dx).ravel()
        keep = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
        array[ys[keep], xs[keep]] = shade
    return Image.fromarray(array, "RGB")


def draw_plane(frame: dict, size: int = PLOT):
    """The 2D GAN plane of one history frame (``heatmap``, ``manifold``, ``real``, ``fake``,
    ``extent``) as a ``size`` x ``size`` RGB image."""
    from PIL import Image, ImageDraw

    heat = _tint(np.flipud(np.asarray(frame["heatmap"], dtype=np.float32)))   # row 0 = y_min -> bottom
    image = Image.fromarray(heat, "RGB").resize((size, size), Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    extent = frame["extent"]
    mesh = np.asarray(frame["manifold"], dtype=np.float32)
    pixels = _to_pixels(mesh.reshape(-1, 2), extent, size).reshape(mesh.shape)
    for line in [*pixels, *pixels.transpose(1, 0, 2)]:
        line = line[np.isfinite(line).all(axis=1) & (np.abs(line) < 10_000).all(axis=1)]
        if len(line) > 1:
            draw.line(line.ravel().tolist(), fill=(150, 150, 150), width=1)
    image = _dots(image, _to_pixels(frame["real"], extent, size), REAL, 2.2)
    return _dots(image, _to_pixels(frame["fake"], extent, size), FAKE, 1.3)   # smaller, on top: both stay visible


def image_grid(images, nrow: int, pad: int = 1, pad_value: int = 90) -> np.ndarray:
    """Tile uint8 images (N, C, H, W) into one (H', W', 3) RGB array, ``nrow`` per row."""
    images = np.asarray(images)
    n, channels, height, width = images.shape
    nrow = max(1, min(int(nrow), n))
    rows = -(-n // nrow)
    grid = np.full((rows * (height + pad) + pad, nrow * (width + pad) + pad, 3), pad_value, dtype=np.uint8)
    tiles = images.transpose(0, 2, 3, 1)
    if channels == 1:
        tiles = np.repeat(tiles, 3, axis=3)
    for i, tile in enumerate(tiles):
        top, left = pad + (i // nrow) * (height + pad), pad + (i % nrow) * (width + pad)
        grid[top:top + height, left:left + width] = tile
    return grid


def _scaled(array: np.ndarray, width: int):
    """An RGB array as a PIL image scaled by a whole factor (crisp pixels) to about ``width``."""
    from PIL import Image

    factor = max(1, width // array.shape[1])
    return Image.fromarray(array, "RGB").resize((array.shape[1] * factor, array.shape[0] * factor), Image.NEAREST)


def draw_samples(frame: dict, size: int = PLOT):
    """The sample grid of one image-GAN frame; for PatchGAN, beneath it, D's per-patch maps: fixed
    real test images and their maps (upper row), the first fakes and theirs (lower row)."""
    from PIL import Image, ImageDraw

    grid = _scaled(image_grid(frame["samples"], int(frame["nrow"])), size)
    if "patch_fake" not in frame:
        return grid
    patches = _patch_rows(frame, grid.width)
    canvas = Image.new("RGB", (max(grid.width, patches.width), grid.height + 22 + patches.height), "white")
    canvas.paste(grid, (0, 0))
    ImageDraw.Draw(canvas).text((2, grid.height + 4), "PatchGAN D per patch, green = real: real (top), fakes",
                                fill=(60, 60, 60), font=_font(12))
    canvas.paste(patches, (0, grid.height + 22))
    return canvas


def _patch_rows(frame: dict, width: int):
    """Two rows: the fixed real images beside D's map of each, then the first fakes beside theirs."""
    from PIL import Image

    count = len(frame["patch_real"])
    rows = []
    for images, maps in ((frame["patch_real"], frame["patch_real_maps"]), (frame["samples"][:count], frame["patch_fake"])):
        height, side = images.shape[-2:]
        coloured = np.stack([np.asarray(Image.fromarray(_tint(m, 1.0)).resize((side, height), Image.NEAREST))
                             for m in maps])                                   # (P, H, W, 3)
        tiles, map_tiles = image_grid(images, count), image_grid(coloured.transpose(0, 3, 1, 2), count)
        gap = np.full((tiles.shape[0], 3, 3), 255, dtype=np.uint8)
        rows.append(np.concatenate([tiles, gap, map_tiles], axis=1))
    both = np.concatenate([rows[0], np.full((2, rows[0].shape[1], 3), 255, dtype=np.uint8), rows[1]])
    return _scaled(both, width)


def latent_limit(codes: np.ndarray, minimum: float = 3.0) -> float:
    """Half-width of a square holding 99 % of the first two code coordinates over all frames."""
    values = np.abs(np.asarray(codes, dtype=np.float32)[..., :2]).ravel()
    values = values[np.isfinite(values)]
    return (max(minimum, float(np.quantile(values, 0.99))) if len(values) else minimum) * 1.1


def draw_latent(frame: dict, limit: float, size: int = PLOT):
    """One AE / VAE frame: the codes (first two dimensions; K = 1 on a line) coloured by class in a
    square of half-width ``limit``, beside the decodes of the fixed prior draws."""
    from PIL import Image, ImageDraw

    scatter = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(scatter)
    draw.rectangle([0, 0, size - 1, size - 1], outline=(200, 200, 200))
    codes = np.asarray(frame["codes"], dtype=np.float32)
    points = codes[:, :2] if codes.shape[1] >= 2 else np.concatenate([codes, np.zeros_like(codes)], axis=1)
    pixels = _to_pixels(points, (-limit, limit, -limit, limit), size)
    labels = frame.get("labels")
    labels = np.zeros(len(points), dtype=np.int64) if labels is None else np.asarray(labels)
    for label in np.unique(labels):
        scatter = _dots(scatter, pixels[labels == label], CLASS_COLOURS[int(label) % len(CLASS_COLOURS)], 1.6)
    decodes = frame["decodes"]
    side = int(np.ceil(np.sqrt(len(decodes))))
    grid = _scaled(image_grid(decodes, side), size)
    canvas = Image.new("RGB", (size + 8 + grid.width, max(size, grid.height)), "white")
    canvas.paste(scatter, (0, 0))
    canvas.paste(grid, (size + 8, 0))
    return canvas


def _with_caption(picture, text: str):
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (max(picture.width, PLOT), picture.height + CAPTION), "white")
    canvas.paste(picture, ((canvas.width - picture.width) // 2, CAPTION))   # a narrow grid: room for the caption
    ImageDraw.Draw(canvas).text((6, 5), text, fill=(20, 20, 20), font=_font())
    return canvas


def frame_image(history: History, index: int, title: str = "", limit: float | None = None):
    """Frame ``index`` of ``history`` as an RGB PIL image with ``title`` and the step above it."""
    frame = history.frame(index)
    if history.kind == "gan2d":
        picture = draw_plane(frame)
    elif history.kind == "image":
        picture = draw_samples(frame)
    else:
        picture = draw_latent(frame, limit if limit is not None else latent_limit(history.arrays["codes"]))
    last = int(history.steps[-1])
    caption = f"step {frame['step']:,} of {last:,}" + (f"  ·  {title}" if title else "")
    return _with_caption(picture, caption)


def frame_indices(frames: int, every: int = 1) -> list[int]:
    """Every ``every``-th frame index of ``frames``, always with the last."""
    indices = list(range(0, frames, max(1, int(every))))
    if indices[-1] != frames - 1:
        indices.append(frames - 1)
    return indices


# --------------------------------------------------------------------------- GIF


def check_replay_options(fps, every) -> tuple[float, int]:
    """``(fps, every)`` if 0 < fps <= 50 and every is a whole number from 1 to 10,000, else GenlabError."""
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise GenlabError(f"--fps must be a number (got {fps!r})") from None
    if not (0 < fps <= MAX_FPS):
        raise GenlabError(f"--fps must be > 0 and <= {MAX_FPS:g} frames per second (got {fps:g})")
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or not 1 <= every <= MAX_EVERY:
        raise GenlabError(f"--every must be a whole number from 1 to {MAX_EVERY:,} (got {every!r})")
    return fps, int(every)


def history_gif(history: History, title: str = "", fps: float = DEFAULT_FPS, every: int = 1) -> bytes:
    """The animated GIF (bytes, looping) of ``history``: every ``every``-th frame and the last,
    ``fps`` frames per second (the last frame stays for a second)."""
    fps, every = check_replay_options(fps, every)
    limit = latent_limit(history.arrays["codes"]) if history.kind == "latent" else None
    images = _one_palette([frame_image(history, i, title, limit) for i in frame_indices(len(history), every)])
    delay = max(20, int(round(1000 / fps / 10)) * 10)
    durations = [delay] * (len(images) - 1) + [max(delay, 1000)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return buffer.getvalue()


def _one_palette(images: list) -> list:
    """The frames on one 255-colour palette taken from the first, middle and last frame, without
    dithering: steady colours, and 5-6 times faster and half the size of a palette per frame."""
    from PIL import Image

    picks = [images[0], images[len(images) // 2], images[-1]]
    sample = Image.new("RGB", (sum(image.width for image in picks), max(image.height for image in picks)), "white")
    left = 0
    for image in picks:
        sample.paste(image, (left, 0))
        left += image.width
    palette = sample.quantize(255, method=Image.Quantize.MEDIANCUT)
    return [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in images]


def run_title(config: dict) -> str:
    """A short title of the run from its config: model, data set and a key setting."""
    model, dataset = str(config.get("model", "")), str(config.get("dataset", ""))
    model_config, train_config = config.get("model_config") or {}, config.get("train_config") or {}
    parts = [model.upper() if model in ("ae", "vae", "gan") else model, dataset]
    if model in ("ae", "vae") and "latent_dim" in model_config:
        parts.append(f"K = {model_config['latent_dim']}")
    if "loss" in train_config:
        parts.append(str(train_config["loss"]))
    return ", ".join(str(p)[:30] for p in parts if p)


def _run_folder(run) -> tuple[Path, str]:
    path = Path(getattr(run, "path", run))
    if not path.is_dir():
        raise GenlabError(f"run folder {str(run)!r} does not exist; give a run folder such as runs/my-run or demos/gan-ring8")
    if not (path / CONFIG_FILE).is_file():
        raise GenlabError(f"{str(path)!r} is not a genlab run folder (no {CONFIG_FILE})")
    return path, getattr(run, "name", path.name)


def replay_gif(run, fps: float = DEFAULT_FPS, every: int = 1) -> bytes:
    """The GIF of a run's history (``run``: a :class:`~genlab.runs.Run` or its folder; a run of an
    equal-time race: the race's models side by side at the same training time); GenlabError
    (RunFileError) when the run has no history or a damaged one."""
    from genlab.race_timeline import race_replay_history

    path, name = _run_folder(run)
    race = race_replay_history(path, name)      # a race model's run: both models' grids side by side
    if race is not None:
        return history_gif(race[0], race[1], fps, every)
    history = read_history_file(path / HISTORY_FILE, name)
    return history_gif(history, run_title(read_config(path / CONFIG_FILE, name)), fps, every)


def write_replay(run, out, fps: float = DEFAULT_FPS, every: int = 1) -> tuple[int, int]:
    """Write the GIF of ``run`` to ``out`` (a ``.gif`` path in an existing folder), atomically;
    returns ``(frames, bytes)``."""
    out = Path(out)
    if out.suffix.lower() != ".gif":
        raise GenlabError(f"--out {str(out)!r} must be a .gif file name, e.g. replay.gif")
    if not out.parent.is_dir():
        raise GenlabError(f"the folder of --out {str(out)!r} does not exist; create {out.parent} first")
    fps, every = check_replay_options(fps, every)
    path, _ = _run_folder(run)
    data = replay_gif(path, fps, every)
    atomic_write_bytes(out, data, mode=0o644)
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return int(getattr(image, "n_frames", 1)), len(data)


# --------------------------------------------------------------------------- CLI


def add_replay_parser(commands) -> None:
    """The ``replay`` sub-command of ``python -m genlab``."""
    replay = commands.add_parser("replay", help="write an animated GIF of a run's training history",
                                 description="Write the run's recorded timeline (history.npz) as an animated GIF: "
                                             "the 2D plane, the sample grid or the latent codes, with the step on "
                                             "each frame.")
    replay.add_argument("run_dir", metavar="RUN_DIR", help="a run folder, e.g. runs/my-run or demos/gan-ring8")
    replay.add_argument("--out", required=True, metavar="FILE.gif")
    replay.add_argument("--fps", type=float, default=DEFAULT_FPS,
                        help=f"frames per second, > 0 and <= {MAX_FPS:g} (default {DEFAULT_FPS:g})")
    replay.add_argument("--every", type=int, default=1, help="use every K-th recorded frame (default 1: all)")
    replay.set_defaults(replay_command=cmd_replay)


def cmd_replay(args) -> int:
    """``python -m genlab replay``: write the GIF, print what was written."""
    import sys

    frames, size = write_replay(args.run_dir, args.out, args.fps, args.every)
    print(f"wrote {args.out}: {frames} frames, {size / 1024:.0f} KB", file=sys.stderr, flush=True)
    return 0
