"""``python -m bench [--quick] [--only quality|speed|beyond|...] [--device cpu|cuda] [--out PATH]``.

Writes bench/RESULTS.md (or ``--out``): a table per benchmark with the figure, the peer's figure
measured in the same run, the ratio, the machine and the command. ``--quick`` is a smoke run
(tiny training budgets, few repeats: a few minutes); its numbers are not the benchmark numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

SECTIONS = ("quality", "judges", "speed", "trainers", "scaling", "projection", "pages", "latency", "paint", "live", "playback", "beyond")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny training budgets and few repeats")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=None,
                        help="run only these sections (speed = trainers scaling projection pages paint live playback; "
                             "pages = latency + first render of every page; paint = first paint in the browser; "
                             "beyond = issue #9: transformer GAN vs DCGAN, image editing)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="cuda: training in the quality section on the GPU, and a GPU scaling table")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2 = the target machine)")
    parser.add_argument("--out", default=str(harness.RESULTS_PATH), help="where to write the results (Markdown)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("GENLAB_NO_DOWNLOAD", "1")
    info = harness.machine_info(args.device)
    wanted = set(args.only or ("quality", "speed", "beyond"))
    if "quality" in wanted:
        wanted.add("judges")  # quality includes the multi-judge table (issue 22 §3)
    if "speed" in wanted:
        wanted |= {"trainers", "scaling", "projection", "pages", "paint", "live", "playback"}
    from bench import beyond, first_paint, judges, playback, quality, speed

    plan = [
        ("quality", lambda: quality.run(args.quick, args.device)),
        ("judges", lambda: judges.run(args.quick, args.device)),
        ("trainers", lambda: [speed.trainers_vs_plain(args.quick, args.device)]),
        ("scaling", lambda: [speed.scaling(args.quick, args.device)]),
        ("projection", lambda: [speed.projection(args.quick)]),
        ("pages", lambda: speed.page_latency(args.quick)),
        ("latency", lambda: [speed.interaction_latency(args.quick)] if "pages" not in wanted else []),
        ("paint", lambda: [first_paint.first_paint(args.quick)]),
        ("live", lambda: [speed.live_vs_headless(args.quick)]),
        ("playback", lambda: [playback.playback(args.quick)]),
        ("beyond", lambda: beyond.run(args.quick, args.device)),
    ]
    tables, section_seconds = [], {}
    start = time.perf_counter()
    failed = False
    mode = "quick (smoke run)" if args.quick else "full"
    for name, fn in plan:
        if name not in wanted:
            continue
        print(f"[bench] {name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            tables += fn()
        except Exception as err:  # record the failure and go on with the other sections
            failed = True
            traceback.print_exc()
            table = harness.Table(f"Section {name}", ["error"])
            table.skipped = f"failed: {type(err).__name__}: {str(err)[:300]}"
            tables.append(table)
        section_seconds[name] = time.perf_counter() - t0
        print(f"[bench] {name} done in {section_seconds[name]:.1f} s", flush=True)
        # write what we have after every section, so an interrupted run still leaves its tables
        harness.write_results(tables, info, harness.command_line(), mode + " — incomplete, still running",
                              time.perf_counter() - start, args.out, section_seconds)
    total = time.perf_counter() - start
    path = harness.write_results(tables, info, harness.command_line(), mode, total, args.out, section_seconds)
    print(f"[bench] wrote {path} in {total:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
