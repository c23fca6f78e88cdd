"""The digit classifier that judges image models (genlab's "classifier FID" features).

FID (Heusel et al. 2017) compares Inception-v3 features of real and generated images. Inception
is far too big (and trained on the wrong data) for 8x8 digits, so genlab uses a small CNN trained
on the data set itself (a "classifier FID", as in many MNIST papers): :func:`get_classifier` trains
(deterministically, seed 0) or loads the cached :class:`DigitClassifier`; weights live in
``$GENLAB_CACHE_DIR/classifier/`` (default ``~/.cache/genlab/classifier/``), e.g.
``digits-<hash of the code version>.pt``. :func:`classifier_features` are its penultimate-layer
features; :func:`classifier_confidence` and :func:`label_accuracy` read its softmax.
:mod:`genlab.metrics` computes the Fréchet distances on these features.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genlab.code_source import code_source
from genlab.atomic_file import atomic_write
from genlab.errors import GenlabError

CLASSIFIER_DATASETS = ("digits", "mnist", "fashion-mnist")
REFERENCE_SPLIT = "test"  # generated images are always compared with the test split
NUM_CLASSES = 10
_IMAGE_SIDE = {"digits": 8, "mnist": 28, "fashion-mnist": 28}

# Bump when the architecture or the training recipe changes: the hash names the cache file,
# so old weights are never loaded into a new architecture.
_CLASSIFIER_VERSION = "3"
_TRAIN_RECIPE = {
    "digits": {"epochs": 20, "batch_size": 64, "lr": 3e-3, "weight_decay": 1e-4},
    "mnist": {"epochs": 3, "batch_size": 128, "lr": 2e-3, "weight_decay": 1e-4},
    "fashion-mnist": {"epochs": 5, "batch_size": 128, "lr": 2e-3, "weight_decay": 1e-4},
}
FEATURE_DIM = 64

_lock = threading.RLock()




class DigitClassifier(nn.Module):
    """Small CNN for ``(N, 1, S, S)`` images in [0, 1] (S = 8 for digits, 28 for MNIST).

    conv3x3(1->24) - ReLU - [maxpool2 if S >= 16] - conv3x3(24->32) - ReLU - maxpool2 - adaptive
    avgpool 4x4 (identity for digits) - flatten(512) - linear(512->64) - ReLU (= :meth:`features`,
    F = 64) - linear(64->10) (logits).
    """

    def __init__(self, image_side: int = 8, num_classes: int = NUM_CLASSES, feature_dim: int = FEATURE_DIM):
        super().__init__()
        self.image_side = int(image_side)
        layers: list[nn.Module] = [nn.Conv2d(1, 24, 3, padding=1), nn.ReLU()]
        if self.image_side >= 16:
            layers.append(nn.MaxPool2d(2))
        layers += [nn.Conv2d(24, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(4),
                   nn.Flatten()]
        self.body = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Linear(32 * 16, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(N, F)`` (F = 64) of images ``(N, 1, S, S)``."""
        return self.embed(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, 10)``."""
        return self.head(self.features(x))


def _check_dataset(dataset: str) -> str:
    if dataset not in CLASSIFIER_DATASETS:
        raise GenlabError(f"no classifier for data set {dataset!r}; allowed: {', '.join(CLASSIFIER_DATASETS)}")
    return dataset


@functools.lru_cache(maxsize=None)  # reads the source once per process, not per FD call
def _code_hash(dataset: str) -> str:
    """Hash of everything that determines the trained weights: the version string, the training
    recipe and the source code of :class:`DigitClassifier` and :func:`train_classifier`."""
    source = code_source(DigitClassifier, train_classifier, fit_classifier)   # "" in a frozen install: the version decides
    text = json.dumps({"v": _CLASSIFIER_VERSION, "recipe": _TRAIN_RECIPE[dataset], "seed": 0,
                       "feature_dim": FEATURE_DIM, "source": source}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def classifier_cache_dir() -> Path:
    """``$GENLAB_CACHE_DIR/classifier`` if the variable is set, else ``~/.cache/genlab/classifier``."""
    root = os.environ.get("GENLAB_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "genlab"
    return base / "classifier"


def _cache_path(dataset: str) -> Path:
    return classifier_cache_dir() / f"{dataset}-{_code_hash(dataset)}.pt"


def classifier_is_cached(dataset: str = "digits") -> bool:
    """Whether :func:`get_classifier` would load ``dataset``'s classifier from disk (no training)."""
    return _cache_path(_check_dataset(dataset)).is_file()


def check_training_set(images, labels) -> tuple[torch.Tensor, torch.Tensor]:
    """``images`` as a float tensor ``(N, 1, S, S)`` and ``labels`` as a long tensor ``(N,)``, or a
    GenlabError naming the shape that is wrong (every digit classifier's training set)."""
    images = torch.as_tensor(images, dtype=torch.float32)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3]:
        raise GenlabError(f"training images must have shape (N, 1, S, S) (got {tuple(images.shape)})")
    if labels.shape != (images.shape[0],):
        raise GenlabError(f"labels must have shape ({images.shape[0]},) (got {tuple(labels.shape)})")
    return images, labels


def seeded_model(model_cls, seed: int, image_side: int) -> nn.Module:
    """``model_cls(image_side=...)`` initialised from ``seed`` without touching the caller's global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model_cls(image_side=image_side)


@torch.enable_grad()  # a caller inside no_grad may be the first to need a classifier
def fit_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, optimizer: torch.optim.Optimizer, *,
                   epochs: int, batch_size: int, generator: torch.Generator, scheduler=None,
                   input_noise: float = 0.0) -> nn.Module:
    """Minibatch training of a classifier on ``L = -1/B sum_i log softmax(f(x_i))[y_i]``: each epoch a
    shuffle by ``generator``, one ``optimizer`` (and ``scheduler``) step per minibatch, inputs plus
    Gaussian noise of std ``input_noise`` (drawn from ``generator``). Returns ``model`` in eval mode with
    its parameters frozen. Not :meth:`genlab.train.base.Trainer.fit`: these are the judges of the
    models, trained once per process and cached, with nothing to show while they train."""
    n = images.shape[0]
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            x = images[idx]
            if input_noise:
                x = x + input_noise * torch.randn(x.shape, generator=generator)
            loss = nn.functional.cross_entropy(model(x), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def train_classifier(images: torch.Tensor, labels: torch.Tensor, *, epochs: int = 20, batch_size: int = 64,
                     lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on ``images (N, 1, S, S)`` in [0, 1] and ``labels (N,)``.

    Deterministic for a given seed on CPU: Adam on the cross-entropy
    ``L = -1/B sum_i log softmax(f(x_i))[y_i]`` with a one-cycle learning rate, minibatches shuffled by a
    seeded generator (:func:`fit_classifier`). Returns the model in eval mode on the CPU.
    """
    images, labels = check_training_set(images, labels)
    generator = torch.Generator().manual_seed(seed)
    model = seeded_model(DigitClassifier, seed, images.shape[-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = max(1, (images.shape[0] + batch_size - 1) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
    return fit_classifier(model, images, labels, optimizer, epochs=epochs, batch_size=batch_size,
                          generator=generator, scheduler=scheduler)


def _load_split(dataset: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    from genlab.data import load_image_dataset

    data = load_image_dataset(dataset, split)
    return data.images, data.labels


def _load_cached_weights(path: Path, side: int) -> DigitClassifier | None:
    """Weights from ``path``, or None if missing, corrupt or of another shape (then: retrain)."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = DigitClassifier(image_side=side)
        model.load_state_dict(state)
    except Exception:  # noqa: BLE001 - corrupt / truncated / incompatible file: retrain
        return None
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


@functools.lru_cache(maxsize=8)
def _cpu_classifier(dataset: str, cache_file: str) -> DigitClassifier:
    path = Path(cache_file)
    model = _load_cached_weights(path, _IMAGE_SIDE[dataset])
    if model is None:
        images, labels = _load_split(dataset, "train")
        model = train_classifier(images, labels, seed=0, **_TRAIN_RECIPE[dataset])
        try:
            atomic_write(path, lambda tmp: torch.save(model.state_dict(), tmp), mode=0o644, make_folder=True)
            for stale in path.parent.glob(f"{dataset}-*.pt"):  # weights of older code versions
                if stale != path and len(stale.stem) == len(path.stem):
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # read-only home: keep the in-process copy only
    return model


@functools.lru_cache(maxsize=8)
def _device_classifier(dataset: str, cache_file: str, device: str) -> DigitClassifier:
    model = _cpu_classifier(dataset, cache_file)
    if device == "cpu":
        return model
    import copy

    return copy.deepcopy(model).to(device)


def get_classifier(dataset: str = "digits", device: str | torch.device = "cpu") -> DigitClassifier:
    """The trained classifier for ``dataset`` (``digits``, ``mnist`` or ``fashion-mnist``), in eval mode.

    Trained once with seed 0 on the data set's train split (digits: ``digits_split()``, a few
    seconds; MNIST: about a minute on a CPU), then cached on disk (``classifier_cache_dir()``,
    file ``<dataset>-<code hash>.pt``, written atomically, read with ``weights_only=True``; a
    corrupt file is retrained) and in-process. The returned module is shared: do not train it.
    """
    _check_dataset(dataset)
    if isinstance(device, str):
        from genlab.device import resolve_device

        device = resolve_device(device)
    device_name = str(device)
    with _lock:
        return _device_classifier(dataset, str(_cache_path(dataset)), device_name)


def _as_images(images, dataset: str, name: str = "images") -> torch.Tensor:
    """Validate and reshape to ``(N, 1, S, S)`` float32 in [0, 1]."""
    side = _IMAGE_SIDE[dataset]
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise GenlabError(f"{name} must be a numpy array or torch tensor (got {type(images).__name__})")
    x = images.detach().to("cpu", torch.float32)
    if x.ndim == 2 and x.shape[1] == side * side:
        x = x.reshape(-1, 1, side, side)
    elif x.ndim == 3 and tuple(x.shape[1:]) == (side, side):
        x = x.unsqueeze(1)
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, side, side):
        raise GenlabError(f"{name} for {dataset} must have shape (N, 1, {side}, {side}) or (N, {side * side}) "
                          f"(got {tuple(images.shape)})")
    if x.shape[0] == 0:
        raise GenlabError(f"{name} is empty; need at least one image")
    if not torch.isfinite(x).all():
        raise GenlabError(f"{name} contains NaN or infinity; pixel values must be finite numbers in [0, 1]")
    low, high = float(x.min()), float(x.max())
    if low < -1e-3 or high > 1 + 1e-3:
        raise GenlabError(f"{name} pixel values must lie in [0, 1] (got min {low:.3g}, max {high:.3g}); "
                          "rescale images from [-1, 1] with (x + 1) / 2")
    return x.clamp_(0.0, 1.0)


@torch.no_grad()
def _run(model: DigitClassifier, x: torch.Tensor, fn: str, batch_size: int = 1024) -> torch.Tensor:
    device = next(model.parameters()).device
    outputs = []
    for start in range(0, x.shape[0], batch_size):
        batch = x[start:start + batch_size].to(device)
        out = model.features(batch) if fn == "features" else model(batch)
        outputs.append(out.float().cpu())
    return torch.cat(outputs)


def classifier_features(images, dataset: str = "digits", device: str | torch.device = "cpu") -> np.ndarray:
    """Penultimate classifier features ``(N, 64)`` float64 of ``images`` ((N,1,S,S) or (N,S*S) in [0, 1])."""
    _check_dataset(dataset)
    x = _as_images(images, dataset)
    return _run(get_classifier(dataset, device), x, "features").double().numpy()


def classifier_accuracy(dataset: str = "digits") -> float:
    """Accuracy of the cached classifier on the test split: ``mean_i [argmax f(x_i) == y_i]``."""
    _check_dataset(dataset)
    return _cached_accuracy(dataset, str(_cache_path(dataset)))


@functools.lru_cache(maxsize=8)
def _cached_accuracy(dataset: str, cache_file: str) -> float:
    images, labels = _load_split(dataset, "test")
    logits = _run(get_classifier(dataset), images, "logits")
    return float((logits.argmax(1) == labels).double().mean())


def classifier_confidence(images, dataset: str = "digits") -> float:
    """Mean maximum softmax probability ``1/N sum_i max_c softmax(f(x_i))_c`` in [0.1, 1].

    High values mean the classifier is sure each image is *some* digit (a proxy for sample quality).
    """
    _check_dataset(dataset)
    x = _as_images(images, dataset)
    probs = torch.softmax(_run(get_classifier(dataset), x, "logits"), dim=1)
    return float(probs.max(dim=1).values.double().mean())


def label_accuracy(images, labels, dataset: str = "digits") -> float:
    """Share of images classified as the asked label: ``1/N sum_i [argmax f(x_i) == y_i]``.

    For a conditional GAN: ``labels`` are the class labels the images were generated for.
    """
    _check_dataset(dataset)
    x = _as_images(images, dataset)
    y = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise GenlabError(f"need one label per image (got {y.shape[0]} labels for {x.shape[0]} images)")
    if y.is_floating_point():
        if not torch.equal(y, y.round()):
            raise GenlabError("labels must be integers 0..9")
        y = y.long()
    y = y.long().cpu()
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= NUM_CLASSES):
        raise GenlabError(f"labels must be integers 0..{NUM_CLASSES - 1} (got {int(y.min())}..{int(y.max())})")
    predicted = _run(get_classifier(dataset), x, "logits").argmax(1)
    return float((predicted == y).double().mean())
