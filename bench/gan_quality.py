"""GAN quality benchmark: train with the CLI defaults (or overrides) and report the metrics.

    .venv/bin/python bench/gan_quality.py gan ring8 --seeds 0 1 2
    .venv/bin/python bench/gan_quality.py gan grid25 --seeds 0 1 2
    .venv/bin/python bench/gan_quality.py dcgan digits --seeds 0 1 2
    .venv/bin/python bench/gan_quality.py cgan digits --seeds 0 1 2
    .venv/bin/python bench/gan_quality.py gan ring8 --preset vanilla --set steps=4000
    .venv/bin/python bench/gan_quality.py gan grid25 --set hidden=256 batch_size=512 --eval-every 2000

One line of JSON per (seed, evaluation): steps, training seconds (wall time inside step(),
excluding evaluation), steps/s, CPU seconds of the process so far (a load-independent measure
of the work, including earlier evaluations), and trainer.evaluate()'s metrics; image GANs also print the GMM baseline
Frechet distance (genlab.metrics.gmm_baseline_frechet) and the ratio to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from genlab.train.base import Callback  # noqa: E402
from genlab.train.gan import GANTrainer, gan_configs  # noqa: E402


class _PrintEvaluations(Callback):
    """Prints one JSON line of metrics at each checkpoint step of a fit."""

    def __init__(self, args, seed: int, checkpoints: set[int], cpu_start: float, baseline, overrides: dict):
        self.args, self.seed, self.checkpoints, self.cpu_start = args, seed, checkpoints, cpu_start
        self.baseline, self.overrides = baseline, overrides

    def on_step_end(self, trainer, row: dict) -> None:
        if trainer.step_count not in self.checkpoints:
            return
        args, baseline = self.args, self.baseline
        cpu_s = time.process_time() - self.cpu_start
        t0 = time.perf_counter()
        metrics = trainer.evaluate()
        result = {"model": args.model, "dataset": args.dataset, "preset": args.preset, "seed": self.seed,
                  "step": trainer.step_count, "train_s": round(trainer.elapsed_seconds, 1),
                  "steps_per_s": round(trainer.step_count / trainer.elapsed_seconds, 1),
                  "cpu_s": round(cpu_s, 1),
                  "eval_s": round(time.perf_counter() - t0, 1),
                  "loss_d": round(row["loss_d"], 4), "loss_g": round(row["loss_g"], 4),
                  **{k: round(v, 4) for k, v in metrics.items()}}
        if baseline is not None:
            result["gmm_frechet"] = round(baseline, 3)
            result["ratio_to_gmm"] = round(metrics["frechet_distance"] / baseline, 3)
        if self.overrides:
            result["overrides"] = self.overrides
        print(json.dumps(result), flush=True)


def parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=("gan", "dcgan", "cgan"))
    parser.add_argument("dataset")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="config overrides, e.g. steps=8000 hidden=256 r1_gamma=0.1")
    parser.add_argument("--eval-every", type=int, default=0, help="also evaluate every N steps")
    parser.add_argument("--save", default=None, help="folder: save each seed's final state_dict there")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2 = the target machine)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = parse_value(value)
    baseline = None
    if args.model != "gan":
        from genlab.metrics import gmm_baseline_frechet

        baseline = gmm_baseline_frechet(args.dataset)
    for seed in args.seeds:
        model_config, train_config = gan_configs(args.model, args.preset, **{**overrides, "seed": seed})
        trainer = GANTrainer(args.model, args.dataset, model_config, train_config)
        steps = trainer.default_steps
        checkpoints = set(range(args.eval_every, steps, args.eval_every)) if args.eval_every else set()
        checkpoints.add(steps)
        cpu_start = time.process_time()
        trainer.fit(steps, callbacks=[_PrintEvaluations(args, seed, checkpoints, cpu_start, baseline, overrides)])
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            torch.save({"config": trainer.config_dict(), "state": trainer.state_dict()},
                       Path(args.save) / f"{args.model}-{args.dataset}-seed{seed}.pt")


if __name__ == "__main__":
    main()
