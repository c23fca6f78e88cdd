"""Image quality under more than one judge (issue 22 §3): ``python -m bench --only judges``.

Trains the image models at the CLI defaults (``python -m genlab train <model> --dataset digits
--seed 0``: the same ``registry.build_trainer`` / ``target_steps`` / ``Trainer.fit`` calls as
``genlab.cli.cmd_train``, without the run folder) and scores 10,000 samples of each against the
360 digits of the test split in four feature spaces: genlab's CNN classifier (``cnn``), the second
classifier of another make (``mlp``, genlab.judges.MLPDigitClassifier), a held-out third
classifier that no default is tuned against (``heldout``, genlab.judges.HeldOutDigitClassifier,
a CNN of another shape: it checks that a change helped the images, not one judge) and raw pixels
(for information only). Each space gets the Fréchet distance and KID (mean ± standard error); the
GMM baseline (the mean over five EM fits) and the real test-vs-train floor are scored the same way. Targets: DCGAN ≤ 0.75×
the GMM's FD in both classifier spaces with a lower KID than the GMM in both; cGAN label
accuracy ≥ 0.90 by both classifiers.

Why 10,000 samples and five GMM fits, not 360 samples and one fit (the pages' convention, which
the bench used until 2026-12-07, docs/TUNING.md): the Fréchet distance of 360 samples is biased
upwards by an amount that depends on the model (the default DCGAN's FD under the mlp judge fell
from 2.06 at 360 samples to 1.03 at 10,000, the GMM's from 2.21 to 1.44), and one draw of 360
moved the same trained DCGAN between 0.70x and 0.99x the GMM's FD; the GMM's own FD depends on
its EM start (1.20-1.44 under mlp over five seeds at 10,000 samples).

    .venv/bin/python -m bench --only judges --out /tmp/judges.md [--quick]
    .venv/bin/python -m bench.judges --models dcgan cgan --seeds 0 1 --set steps=3000   # screens, JSON lines
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from bench.harness import Table, fmt, log, verdict

MODELS = ("vae", "dcgan", "cgan", "tgan")
NAMES = {"vae": "VAE prior samples", "dcgan": "DCGAN", "cgan": "cGAN", "tgan": "transformer GAN"}
CLASSIFIER_JUDGES = ("cnn", "mlp")      # the targets' judges; "heldout" validates, "pixels" informs
SHOWN_JUDGES = ("cnn", "mlp", "heldout")
SAMPLE_SEED = 1234          # the trainers' evaluation noise seed (genlab.train.gan_config.EVAL_SEED)
KID_SUBSETS, KID_SUBSET_SIZE = 100, 100
FD_RATIO_TARGET, LABEL_TARGET = 0.75, 0.90
SAMPLES = 10_000            # generated images scored per model and per GMM fit (the test split has 360)
GMM_SEEDS = (0, 1, 2, 3, 4)  # EM starts of the GMM baseline: its scores are the mean over these fits


def train_at_defaults(model: str, seed: int = 0, overrides: dict | None = None, device: str = "cpu"):
    """``(trainer, train_seconds, steps)`` of ``python -m genlab train model --dataset digits --seed seed``."""
    from genlab.device import resolve_device, seed_everything
    from genlab.train import registry

    options = {"seed": seed, **(overrides or {})}
    checked = registry.validate_options(model, "digits", options)
    seed_everything(checked.get("seed", 0))
    trainer = registry.build_trainer(model, "digits", options, device=resolve_device(device))
    steps = registry.target_steps(trainer, options)
    start = trainer.elapsed_seconds
    trainer.fit(steps)
    return trainer, trainer.elapsed_seconds - start, steps


def gmm_samples(n: int, seed: int = 0) -> torch.Tensor:
    """``n`` images of genlab's GMM baseline (10 components, full covariance, fit on the train
    split; the recipe of genlab.metrics.gmm_baseline_frechet), clipped to [0, 1]."""
    from sklearn.mixture import GaussianMixture

    from genlab.classifier import _load_split

    images, _ = _load_split("digits", "train")
    x = images.reshape(images.shape[0], -1).double().numpy()
    gmm = GaussianMixture(n_components=10, covariance_type="full", reg_covar=1e-3, random_state=seed).fit(x)
    samples, _ = gmm.sample(n)
    samples = np.random.default_rng(seed).permutation(samples)
    return torch.from_numpy(np.clip(samples, 0.0, 1.0).astype(np.float32).reshape(-1, 1, 8, 8))


def gmm_scores(n: int = SAMPLES) -> dict:
    """:func:`score` of ``n`` samples of each GMM fit in :data:`GMM_SEEDS`, averaged per judge
    (FD, KID and KID's standard error); ``"fd_range"`` per judge holds the fits' lowest and highest FD."""
    fits = [score(gmm_samples(n, seed)) for seed in GMM_SEEDS]
    out = {}
    for judge in fits[0]:
        out[judge] = {key: float(np.mean([fit[judge][key] for fit in fits])) for key in ("fd", "kid", "kid_se")}
        fds = [fit[judge]["fd"] for fit in fits]
        out[judge]["fd_range"] = (min(fds), max(fds))
    return out


def score(images, labels=None) -> dict:
    """FD and KID of ``images`` to the test split in every judge's space, and label accuracies."""
    from genlab import judges
    from genlab.classifier import label_accuracy

    out = {}
    for judge in judges.JUDGES:
        fd, kid = judges.judge_scores(images, judge, kid_subsets=KID_SUBSETS, kid_subset_size=KID_SUBSET_SIZE)
        out[judge] = {"fd": fd, "kid": kid.mean, "kid_se": kid.std_error}
    if labels is not None:
        out["label_accuracy"] = {"cnn": label_accuracy(images, labels),
                                 **{j: judges.judge_label_accuracy(j, images, labels) for j in ("mlp", "heldout")}}
    return out


def real_floor() -> dict:
    """The test split against the train split in every space (what real data scores)."""
    from genlab import judges

    out = {}
    for judge in judges.JUDGES:
        train, test = judges.reference_features(judge, split="train"), judges.reference_features(judge)
        kid = judges.kernel_inception_distance(train, test, KID_SUBSETS, KID_SUBSET_SIZE)
        out[judge] = {"fd": judges.frechet_distance(train, test), "kid": kid.mean, "kid_se": kid.std_error}
    return out


def score_model(model: str, seed: int = 0, overrides: dict | None = None, device: str = "cpu") -> dict:
    """Train ``model`` at the defaults (plus ``overrides``) and score :data:`SAMPLES` samples of it."""
    trainer, seconds, steps = train_at_defaults(model, seed, overrides, device)
    n = SAMPLES
    labels = torch.arange(n) % 10 if model == "cgan" else None
    images = trainer.sample(n, seed=SAMPLE_SEED, labels=labels) if labels is not None else trainer.sample(n, seed=SAMPLE_SEED)
    return {"model": model, "seed": seed, "steps": steps, "train_s": seconds, **score(images, labels)}


def dcgan_targets(row: dict, gmm: dict) -> bool:
    """DCGAN's targets: FD ≤ 0.75× the GMM's and KID below the GMM's, in both classifier spaces."""
    return all(row[j]["fd"] <= FD_RATIO_TARGET * gmm[j]["fd"] and row[j]["kid"] < gmm[j]["kid"]
               for j in CLASSIFIER_JUDGES)


def _kid_text(entry: dict) -> str:
    return f"{fmt(entry['kid'])} ± {fmt(entry['kid_se'], 2)}"


def _tables(rows: list[dict], gmm: dict, floor: dict, accuracies: dict) -> list[Table]:
    columns = ["model", "steps", "train s"]
    for judge in SHOWN_JUDGES:
        columns += [f"FD {judge}", f"÷ GMM ({judge})", f"KID {judge}"]
    columns += ["FD pixels (info)", "KID pixels (info)", "target", "verdict"]
    table = Table(f"Image quality under two classifier judges + KID ({SAMPLES:,} samples vs the 360 test digits)", columns)
    accuracies = {"heldout": float("nan"), **accuracies}

    def add(name, entry, steps=None, seconds=None, target=None, result=None):
        cells = [name, steps, seconds]
        for judge in SHOWN_JUDGES:
            cells += [entry[judge]["fd"], entry[judge]["fd"] / gmm[judge]["fd"], _kid_text(entry[judge])]
        table.add(*cells, entry["pixels"]["fd"], _kid_text(entry["pixels"]), target, result)

    add("real floor (test vs train split)", floor)
    add(f"GMM (10 comp., full cov.; mean of {len(GMM_SEEDS)} fits)", gmm)
    for row in rows:
        if row["model"] == "dcgan":
            add(NAMES["dcgan"], row, row["steps"], row["train_s"],
                "FD ≤ 0.75× GMM and KID < GMM, cnn and mlp", "met" if dcgan_targets(row, gmm) else "NOT met")
        else:
            add(NAMES[row["model"]], row, row["steps"], row["train_s"])
    table.note(f"Judges: cnn = genlab.classifier.DigitClassifier (test accuracy {accuracies['cnn']:.3f}), "
               f"mlp = genlab.judges.MLPDigitClassifier (another architecture and seed; test accuracy "
               f"{accuracies['mlp']:.3f}); heldout = genlab.judges.HeldOutDigitClassifier (a CNN with 5x5 kernels, ELU and "
               f"average pooling, seed 2; test accuracy {accuracies['heldout']:.3f}), kept for validation: no "
               "default is tuned against it and it is not in the targets; pixels = flattened 8x8 images. FD: Fréchet distance of Gaussians fit "
               "to the features. KID: unbiased MMD² with k(x,y) = (x·y/d + 1)³, mean ± standard error over "
               f"{KID_SUBSETS} subsets of {KID_SUBSET_SIZE} (scale depends on the space: compare within a column). "
               "The subsets are drawn from the same samples, so the standard error understates the sampling "
               "error of the samples themselves: a real floor a few standard errors below 0 is that, not bias.")
    if all("fd_range" in gmm[judge] for judge in SHOWN_JUDGES):
        spread = "; ".join(f"{judge} {fmt(gmm[judge]['fd_range'][0])}-{fmt(gmm[judge]['fd_range'][1])}"
                           for judge in SHOWN_JUDGES)
        table.note(f"GMM: the mean over {len(GMM_SEEDS)} EM fits (seeds {GMM_SEEDS[0]}-{GMM_SEEDS[-1]}), "
                   f"{SAMPLES:,} samples each; its FD per fit: {spread}. The real floor: the 1,437 train digits "
                   "against the 360 test digits.")
    table.note("Pixel FD is for information only: a full-covariance GMM fit by EM matches the pixels' mean and "
               "covariance by construction, so pixel FD cannot rank it.")
    table.note("Models trained as `python -m genlab train <model> --dataset digits --seed 0` (registry.build_trainer, "
               "target_steps, Trainer.fit); train s = seconds inside step(). Samples: noise seed 1234 (cGAN: classes 0..9 in turn). "
               f"{SAMPLES:,} samples per model, not the pages' 360: the FD of 360 samples is biased upwards by an amount "
               "that depends on the model, and one draw of 360 moved the same DCGAN between 0.70x and 0.99x the GMM's FD "
               "(docs/TUNING.md).")
    acc = Table("cGAN label accuracy by the classifiers (samples asked for class y, called y)",
                ["model", "label accuracy (cnn)", "label accuracy (mlp)", "label accuracy (heldout, info)",
                 "target", "verdict"])
    for row in rows:
        if "label_accuracy" in row:
            la = row["label_accuracy"]
            acc.add(NAMES[row["model"]], la["cnn"], la["mlp"], la.get("heldout"), f"≥ {LABEL_TARGET} by cnn and mlp",
                    verdict(min(la["cnn"], la["mlp"]), LABEL_TARGET, "higher"))
    return [table, acc]


def run(quick: bool = False, device: str = "cpu") -> list[Table]:
    """The judges section of ``python -m bench`` (``--quick``: 30 steps / 1 epoch per model)."""
    from genlab import judges
    from genlab.classifier import classifier_accuracy

    t0 = time.perf_counter()
    accuracies = {"cnn": classifier_accuracy("digits"), **{j: judges.judge_accuracy(j, "digits") for j in ("mlp", "heldout")}}
    gmm = gmm_scores()
    floor = real_floor()
    log(f"judges: classifiers, GMM and real floor {time.perf_counter() - t0:.1f} s")
    rows = []
    for model in MODELS:
        overrides = ({"epochs": 1} if model == "vae" else {"steps": 30}) if quick else None
        rows.append(score_model(model, 0, overrides, device))
        log(f"judges: {model} {rows[-1]['steps']} steps, {rows[-1]['train_s']:.1f} s")
    tables = _tables(rows, gmm, floor, accuracies)
    tables[0].seconds = time.perf_counter() - t0
    return tables


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out


def main(argv=None) -> None:
    """Screens: one JSON line per (model, seed) with the scores and the GMM-relative verdicts."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=["dcgan", "cgan"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="training option overrides")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from genlab.judges import JUDGES as judges_of_rows

    gmm = gmm_scores()
    overrides = _parse_overrides(args.set)
    for model in args.models:
        for seed in args.seeds:
            row = score_model(model, seed, overrides)
            row["overrides"] = overrides
            for judge in judges_of_rows:
                row[judge]["fd_ratio_to_gmm"] = row[judge]["fd"] / gmm[judge]["fd"]
                row[judge]["gmm_kid"] = gmm[judge]["kid"]
            if model == "dcgan":
                row["dcgan_targets_met"] = dcgan_targets(row, gmm)
            print(json.dumps(row, default=float), flush=True)


if __name__ == "__main__":
    main()
