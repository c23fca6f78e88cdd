"""Runs handed in by an attacker or a careless classmate (issue 24), built in the test.

:func:`hostile_files` returns, for each case, the files of a run: a good run's files with one file
replaced. :func:`fill_store` puts every case into a run store next to good runs, as folders (what
a copied folder or an older import leaves); tests/unit/test_hostile_runs.py also zips each case and
imports it. Nothing here is committed as a binary: PNGs and zips are built on the fly.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

EVIL = "http://127.0.0.1:9/evil"   # nothing listens on port 9: a fetched beacon fails, and is seen
INJECTION = f"vae** [Session expired: log in again]({EVIL}/phish) ![b]({EVIL}/beacon.png) **"
DEEP_JSON = b"[" * 5000 + b"]" * 5000


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels but holds one row of data: what a
    decompression bomb looks like to anything that reads only the header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)     # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1))) + chunk(b"IEND", b""))


def real_png(width: int, height: int) -> bytes:
    """A real, fully decodable greyscale PNG (compresses to little when it is all zeros)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_of(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _json(value) -> bytes:
    return json.dumps(value).encode()


def _deep_extra_row(header: bytes) -> bytes:
    """A metrics row whose last (``extra``) cell is a JSON object nested 2000 levels deep."""
    deep = '{"a":' * 2000 + "1" + "}" * 2000
    return b"1" + b"," * header.count(b",") + ('"' + deep.replace('"', '""') + '"\n').encode()


def hostile_files(good: Path) -> dict[str, tuple[dict[str, bytes], str, str]]:
    """Case name -> (the run's files, the bad file, a phrase its message contains)."""
    files = {p.name: p.read_bytes() for p in good.iterdir() if p.is_file() and not p.name.startswith(".")}
    config, status = json.loads(files["config.json"]), json.loads(files["status.json"])
    header = files["metrics.csv"].split(b"\n", 1)[0]

    def case(name: str, content: bytes, needle: str):
        return {**files, name: content}, name, needle

    return {
        "target-steps-text": case("status.json", _json({**status, "target_steps": "abc"}), "target_steps"),
        "eval-text": case("status.json", _json({**status, "eval": {"loss": "1.5"}}), "eval 'loss'"),
        "samples-random": case("samples.png", os.urandom(4000), "not a readable PNG"),
        "samples-bomb": case("samples.png", png_header_only(20000, 20000), "pixels"),
        "samples-9000": case("samples.png", png_header_only(9000, 9000), "9000 x 9000"),
        "config-deep": case("config.json", DEEP_JSON, "nested deeper than"),
        "status-deep": case("status.json", DEEP_JSON, "nested deeper than"),
        "extra-deep": case("metrics.csv", header + b"\n" + _deep_extra_row(header), "nested deeper than"),
        "metrics-binary": case("metrics.csv", os.urandom(5000), "metrics.csv is corrupt"),
        "huge-model": case("config.json", _json({**config, "model_config": {
            **config["model_config"], "hidden": 4096, "layers": 16, "disc_hidden": 4096, "disc_layers": 16}}),
            "parameters"),
        "checkpoint-garbage": case("checkpoint.pt", os.urandom(3000), "checkpoint.pt is corrupt"),
    }


def injected_files(good: Path) -> dict[str, bytes]:
    """A readable run whose every shown text tries Markdown/HTML injection (model, data set,
    a metric's name, an evaluation's name)."""
    files = {p.name: p.read_bytes() for p in good.iterdir() if p.is_file() and not p.name.startswith(".")}
    config, status = json.loads(files["config.json"]), json.loads(files["status.json"])
    lines = files["metrics.csv"].decode().split("\n")
    evil_column = f'"<a href=""{EVIL}/plotly"">x</a>[y]({EVIL}/md)"'
    lines[0] = lines[0].replace("loss_d", evil_column, 1)
    return {**files,
            "config.json": _json({**config, "model": INJECTION, "dataset": f"ring8 <img src='{EVIL}/img.png'>"}),
            "status.json": _json({**status, "eval": {f"![e]({EVIL}/eval.png)": 1.5}}),
            "metrics.csv": "\n".join(lines).encode()}


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def fill_store(root: Path, good: Path, outside: Path) -> list[str]:
    """Put every hostile case (as ``aa-<case>``, sorting before the good runs), an injected run,
    a folder without config.json, a 1,000,000-row metrics file and a symbolic link to a run
    outside the store into ``root``; returns their names. ``good`` is a finished run folder."""
    names = []
    for case, (files, _, _) in hostile_files(good).items():
        _write(root / f"aa-{case}", files)
        names.append(f"aa-{case}")
    _write(root / "aa-injected", injected_files(good))
    _write(root / "aa-no-config", {"metrics.csv": b"step\n1\n"})
    files = {p.name: p.read_bytes() for p in good.iterdir() if p.is_file()}
    _write(root / "aa-million-rows", {**files, "metrics.csv": b"step,loss\n" + b"1,0.5\n" * 1_000_000})
    _write(root / "aa-real-9000-png", {**files, "samples.png": real_png(9000, 9000)})
    shutil.copytree(good, outside)
    (root / "aa-symlink").symlink_to(outside, target_is_directory=True)
    names += ["aa-injected", "aa-no-config", "aa-million-rows", "aa-real-9000-png", "aa-symlink"]
    return names
