"""A small benchmark harness: timing with medians, side-by-side ratios, machine info, Markdown tables.

Every benchmark produces :class:`Table` objects; :func:`write_results` renders them (with the
machine and the command) to ``bench/RESULTS.md``. Only numbers measured in the current run are
written: a table row is built from the values a benchmark function returned, nothing else.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"


# --------------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except (OSError, AttributeError):
        return None


def machine_info(device: str = "cpu") -> dict:
    """CPU count, model, torch version, threads, load average; ``busy`` when load > cpu count."""
    cpus = os.cpu_count() or 1
    load = load_average()
    info = {"cpus": cpus, "cpu_model": cpu_model(), "python": platform.python_version(),
            "platform": platform.platform(terse=True), "load_at_start": load,
            "busy": bool(load is not None and load[0] > 0.75 * cpus), "device": device}
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if device == "cuda" and torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:  # pragma: no cover
        info["torch"] = "not installed"
    return info


def machine_line(info: dict) -> str:
    load = info.get("load_at_start")
    load_text = "n/a" if load is None else f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    text = (f"{info['cpus']} CPU(s), {info['cpu_model']}; torch {info.get('torch')} "
            f"({info.get('torch_threads')} threads); Python {info['python']}; load average at start {load_text}")
    if info.get("gpu"):
        text += f"; GPU {info['gpu']}"
    if info.get("busy"):
        text += " — **machine was busy: timings are inflated**"
    return text


def log(message: str) -> None:
    """A progress line on stderr (the results go to RESULTS.md)."""
    print(f"[bench] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Seconds of each repeat of a timed call, and what the last call returned."""

    times: list[float]
    value: object = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    def spread(self) -> float:
        """(max - min) / median: how noisy the repeats were."""
        return (max(self.times) - min(self.times)) / self.median if self.median > 0 else 0.0


def measure(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed (perf_counter)."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    for _ in range(warmup):
        fn()
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return Timing(times, value)


@dataclass
class Comparison:
    """Side-by-side timing of ours vs a peer: medians and the ratio of their medians."""

    ours: Timing
    peer: Timing

    @property
    def ratio(self) -> float:
        """peer time / our time (> 1: we are faster); for rates it equals our rate / peer rate."""
        return self.peer.median / self.ours.median if self.ours.median > 0 else float("inf")


def compare(ours: Callable[[], object], peer: Callable[[], object], rounds: int = 5, warmup: int = 1) -> Comparison:
    """Alternate ``ours`` and ``peer`` ``rounds`` times in this process (A B A B ..., the order
    swapped every round) so that machine noise hits both alike."""
    for _ in range(warmup):
        ours()
        peer()
    a, b = [], []
    va = vb = None
    for i in range(rounds):
        order = ((ours, a), (peer, b)) if i % 2 == 0 else ((peer, b), (ours, a))
        for fn, out in order:
            t0 = time.perf_counter()
            value = fn()
            out.append(time.perf_counter() - t0)
            if fn is ours:
                va = value
            else:
                vb = value
    return Comparison(Timing(a, va), Timing(b, vb))


# --------------------------------------------------------------------------- tables


def fmt(value, digits: int = 3) -> str:
    """A cell: floats to ``digits`` significant figures, None -> '—', bools -> yes/no."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value == 0:
            return "0"
        if abs(value) >= 10 ** digits:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


@dataclass
class Table:
    """One benchmark's result table."""

    title: str
    columns: Sequence[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float | None = None        # how long producing the table took
    skipped: str | None = None          # reason, when the benchmark could not run

    def add(self, *cells) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells, table {self.title!r} has {len(self.columns)} columns")
        self.rows.append(list(cells))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        if self.skipped:
            lines += [f"*Skipped: {self.skipped}*", ""]
        if self.rows:
            lines.append("| " + " | ".join(self.columns) + " |")
            lines.append("|" + "|".join("---" for _ in self.columns) + "|")
            for row in self.rows:
                lines.append("| " + " | ".join(fmt(c).replace("|", "\\|") for c in row) + " |")
            lines.append("")
        for text in self.notes:
            lines.append(f"- {text}")
        if self.seconds is not None:
            lines.append(f"- Section time: {self.seconds:.1f} s")
        if self.notes or self.seconds is not None:
            lines.append("")
        return "\n".join(lines)


def stop_server(server: subprocess.Popen, timeout_s: float = 20) -> None:
    """Stop a server the bench started: terminate, then kill if it has not ended in ``timeout_s``."""
    server.terminate()
    try:
        server.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        server.kill()


def verdict(value, target, better: str = "lower") -> str:
    """'met' / 'NOT met' for a value against a target (``better`` = 'lower' or 'higher')."""
    if value is None or target is None or value != value:
        return "—"
    ok = value <= target if better == "lower" else value >= target
    return "met" if ok else "NOT met"


def render(tables: Sequence[Table], info: dict, command: str, mode: str, total_seconds: float,
           section_seconds: dict[str, float] | None = None) -> str:
    lines = [
        "# genlab benchmarks",
        "",
        "Generated by `bench/` (issue #7); do not edit by hand — rerun the command below.",
        "",
        f"- Command: `{command}`",
        f"- Mode: {mode}",
        f"- Machine: {machine_line(info)}",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}",
        f"- Total time: {total_seconds:.1f} s",
    ]
    if section_seconds:
        lines.append("- Sections: " + ", ".join(f"{k} {v:.1f} s" for k, v in section_seconds.items()))
    if mode.startswith("quick"):
        lines += ["", "**This is a smoke run (tiny training budgets): its quality numbers are not the "
                      "benchmark numbers and its targets are not expected to be met.**"]
    lines.append("")
    for table in tables:
        lines.append(table.markdown())
    return "\n".join(lines).rstrip() + "\n"


def write_results(tables: Sequence[Table], info: dict, command: str, mode: str, total_seconds: float,
                  path: Path | str = RESULTS_PATH, section_seconds: dict[str, float] | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render(tables, info, command, mode, total_seconds, section_seconds), encoding="utf-8")
    os.replace(tmp, path)
    return path


def command_line() -> str:
    args = " ".join(sys.argv[1:])
    return f"python -m bench {args}".strip()
