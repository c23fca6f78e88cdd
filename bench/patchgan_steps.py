"""PatchGAN at the Image GANs page's step counts: does it learn varied digits?

    .venv/bin/python bench/patchgan_steps.py --steps 500 1500 4000 --seeds 0 1 2
    .venv/bin/python bench/patchgan_steps.py --steps 1500 --seeds 0 --set r1_gamma=0.1 --png /tmp/patch

Trains ``dcgan`` on digits with the page's defaults (preset "default", non-saturating loss,
noise 32, batch 64, ``steps`` = the page's "Training steps", which also sets the lr decay) and
``disc="patch"`` (``--disc standard`` for the reference), then prints one JSON line per run:

* ``frechet_distance``: trainer.evaluate()'s number (360 samples vs the test split);
* ``classes``: how many of the 10 digit classes the classifier finds in >= 3 % of 360 samples
  (a collapsed generator scores 1-2);
* ``diversity``: mean pairwise pixel distance of 64 samples divided by that of 64 test digits
  (0 = identical samples, about 1 = as varied as the data);
* ``d_real`` / ``d_fake``: mean D on 64 test digits / 64 samples (0.50 / 0.50: D says nothing).

``--png DIR`` saves each run's 8x8 sample grid (white digits on black, as the page shows them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from genlab import metrics  # noqa: E402
from genlab.data import load_image_dataset  # noqa: E402
from genlab.losses import discriminator_output  # noqa: E402
from genlab.train.gan import GANTrainer, gan_configs  # noqa: E402


def parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairwise(x: torch.Tensor) -> float:
    flat = x.reshape(x.shape[0], -1).double()
    d = torch.cdist(flat, flat)
    n = flat.shape[0]
    return float(d.sum() / (n * (n - 1)))


def score(trainer: GANTrainer, test_images: torch.Tensor) -> dict:
    """Diversity / class coverage / D's verdicts of a trained image GAN (see the module doc)."""
    out = trainer.evaluate()       # outside no_grad: the first call may train the metric's classifier
    with torch.no_grad():
        out.update(_diversity(trainer, test_images))
    return out


def _diversity(trainer: GANTrainer, test_images: torch.Tensor) -> dict:
    out = {}
    samples = trainer.sample(360, seed=1234)
    predicted = metrics.get_classifier(trainer.dataset)(samples).argmax(1)
    counts = np.bincount(predicted.numpy(), minlength=10)
    out["classes"] = int((counts >= 0.03 * len(samples)).sum())
    out["diversity"] = _pairwise(samples[:64]) / _pairwise(test_images[:64])
    disc = trainer.discriminator
    disc.eval()
    loss = trainer.train_config.loss
    out["d_real"] = float(discriminator_output(disc(test_images[:64] * 2 - 1), loss).mean())
    out["d_fake"] = float(discriminator_output(disc(samples[:64] * 2 - 1), loss).mean())
    disc.train()
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[500, 1500, 4000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--disc", default="patch", choices=("patch", "standard"))
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="config overrides")
    parser.add_argument("--png", default=None, help="folder for the sample grids")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = {item.partition("=")[0]: parse_value(item.partition("=")[2]) for item in args.set}
    test = load_image_dataset("digits", "test").images
    for steps in args.steps:
        for seed in args.seeds:
            model_config, train_config = gan_configs(
                "dcgan", "default", **{"disc": args.disc, "noise_dim": 32, **overrides, "steps": steps, "seed": seed})
            trainer = GANTrainer("dcgan", "digits", model_config, train_config)
            t0 = time.perf_counter()
            while trainer.step_count < steps:
                trainer.step()
            train_s = time.perf_counter() - t0
            result = {"disc": args.disc, "steps": steps, "seed": seed, "train_s": round(train_s, 1),
                      **{k: round(v, 3) for k, v in score(trainer, test).items()}}
            if overrides:
                result["overrides"] = overrides
            print(json.dumps(result), flush=True)
            if args.png:
                from PIL import Image
                from torchvision.utils import make_grid

                Path(args.png).mkdir(parents=True, exist_ok=True)
                grid = make_grid(trainer.sample(64, seed=7), nrow=8, padding=1, pad_value=0.5)[0]
                grid = Image.fromarray((grid.numpy() * 255).round().astype(np.uint8)).resize((584, 584), Image.NEAREST)
                tag = "-".join(f"{k}{v}" for k, v in overrides.items())
                grid.save(Path(args.png) / f"{args.disc}-{steps}-s{seed}{'-' + tag if tag else ''}.png")


if __name__ == "__main__":
    main()
