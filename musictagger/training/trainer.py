"""The training loop behind :func:`musictagger.training.train_pack`.

One loop serves both kinds; a *feed* (:class:`CoverFeed`, :class:`AudioFeed`) decodes every input
once into memory (preprocessed cover images; log-mel spectrograms of each track's middle), then
serves augmented training batches and fixed validation inputs from that cache, so an epoch costs
only the network's own compute — cheap enough for a laptop CPU.

Covers are augmented by :func:`musictagger.ml.cover_input.preprocess` (random resized crop, flip,
colour jitter). Audio is augmented directly on the cached decibel spectrograms: a random excerpt
of the model's clip length, gain (a dB offset), a gentle EQ (a random tilt and bump across mel
bands, i.e. a smooth filter in dB), a little noise (added in the power domain) and mixup; the
``top_db`` floor is applied per excerpt last, exactly as the inference front end does.

Distillation trains on the teacher's probabilities as soft BCE targets, per excerpt: each
training excerpt's target is the teacher's output on its window nearest in time.

Determinism: every epoch reseeds numpy (``default_rng([seed, epoch])``) and torch from the seed
and the epoch number, and the learning rate is a pure function of the epoch, so a run resumed
from the checkpoint of epoch *k* continues exactly as an uninterrupted run would.

This module imports torch at its top; it is only imported lazily from
:func:`musictagger.training.train_pack`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from musictagger.errors import FileProblem, MusictaggerError
from musictagger.ml.packs import ModelPack, build_model
from musictagger.progress import CancelToken, ProgressCallback, ProgressTracker
from musictagger.training import metrics as M
from musictagger.training.checkpoint import load_checkpoint, save_checkpoint
from musictagger.training.data import Dataset, DatasetError, Item, TeacherSource, cover_image, resolve
from musictagger.training.report import TrainReport
from musictagger.training.split import SPLITS, artist_key

COVER_MEAN = [0.485, 0.456, 0.406]
COVER_STD = [0.229, 0.224, 0.225]

#: The audio input of packs we train: 12 kHz (as the Choi 2016 teacher, so one decode feeds both),
#: 64 mel bands up to 6 kHz, 10-second excerpts, three per track at 25/50/75 %.
DEFAULT_AUDIO_INPUT: dict[str, Any] = {
    "sample_rate": 12000,
    "n_fft": 512,
    "hop_length": 256,
    "n_mels": 64,
    "fmin": 0.0,
    "fmax": 6000.0,
    "mel_htk": False,
    "mel_norm": "slaney",
    "power": 2.0,
    "log": {"type": "db", "ref": 1.0, "top_db": 80.0, "amin": 1e-10, "multiplier": 10.0},
    "clip_seconds": 10.0,
    "frames": 469,
    "excerpts": {"count": 3, "positions": [0.25, 0.5, 0.75]},
}
DEFAULT_COVER_PARAMS: dict[str, Any] = {"widths": [32, 64, 128, 256], "dropout": 0.3}
DEFAULT_AUDIO_PARAMS: dict[str, Any] = {
    # Pooled 4× in time at the first block: ~4.7 ms per 10 s excerpt on one CPU core (the
    # 24-48-64-64 net pooled late cost ~23 ms), so inference keeps pace with decoding.
    "conv_widths": [12, 24, 32, 48],
    "pools": [[2, 4], [2, 2], [2, 2], [4, 4]],
    "gru_width": 32,
    "dropout": 0.1,
}


@dataclass
class TrainOptions:
    """Knobs of a training run; the defaults suit a few hundred to a few thousand items on a CPU."""

    val_fraction: float = 0.2
    # "artist" (no artist on both sides: what every pack reports) or "random" (item by item:
    # artists leak, only to reproduce published figures that were measured that way).
    split: str = "artist"
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 8  # epochs without a better validation score (macro-AP; teacher agreement when distilling)
    min_count: int = 3  # labels with fewer items are dropped
    pos_weight_max: float = 10.0
    cpu_threads: int = 2  # 0: all cores but one
    cover_size: int = 128
    cover_params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_COVER_PARAMS))
    audio_input: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_AUDIO_INPUT))
    audio_params: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_AUDIO_PARAMS))
    crops_per_item: int = 4  # audio excerpts drawn per item and epoch
    seconds_per_track: float = 90.0  # the middle this long of each track is decoded and cached
    mixup_alpha: float = 0.2
    teacher_hop_seconds: float = 10.0
    description: str = ""
    license: str = "GPL-3.0-or-later"
    limits: list[str] = field(default_factory=list)
    extra_metrics: Any = None  # callable(y_val, p_val, labels) -> dict merged into the metrics

    def fingerprint_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("description", "license", "limits", "extra_metrics", "cpu_threads"):
            d.pop(k, None)
        return d


# ------------------------------------------------------------------------------------------ feeds
class CoverFeed:
    """Covers decoded once (PIL, at most twice the model size), augmented per epoch."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.images: dict[str, Any] = {}
        self.val_inputs: dict[str, np.ndarray] = {}

    def prepare(
        self,
        items: Sequence[Item],
        val_keys: set[str],
        tracker: ProgressTracker,
        cancel: CancelToken | None,
        errors: list[FileProblem],
    ) -> list[Item]:
        from musictagger.ml.cover_input import preprocess

        size = int(self.spec["size"])
        ok = []
        for item in items:
            if cancel is not None:
                cancel.raise_if_cancelled()
            img = cover_image(item, size, errors)
            if img is None:
                tracker.advance(current=item.key)
                continue
            if item.key in val_keys:
                self.val_inputs[item.key] = preprocess(img, self.spec)
            else:
                if min(img.size) > 2 * size:
                    scale = 2 * size / min(img.size)
                    img = img.resize((max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale))))
                self.images[item.key] = img
            ok.append(item)
            tracker.advance(current=item.key)
        return ok

    def epoch_samples(self, train: Sequence[Item], rng: np.random.Generator) -> list[tuple[int, Any]]:
        return [(int(i), None) for i in rng.permutation(len(train))]

    def make_batch(self, train: Sequence[Item], samples: Sequence[tuple[int, Any]], rng: np.random.Generator):
        from musictagger.ml.cover_input import preprocess

        x = np.stack([preprocess(self.images[train[i].key], self.spec, augment=True, rng=rng) for i, _ in samples])
        return torch.from_numpy(x), [i for i, _ in samples], [None] * len(samples)

    def val_batches(self, items: Sequence[Item]):
        """Yield (item index, input array (n, ...)) for validation/prediction, one row per item."""
        for i, item in enumerate(items):
            yield i, self.val_inputs[item.key][None]


class AudioFeed:
    """Per track, the decibel mel spectrogram (no ``top_db`` yet) of its middle, as float16."""

    SILENCE_DB = -100.0

    def __init__(
        self,
        spec: dict[str, Any],
        options: TrainOptions,
        device: torch.device,
        teacher: ModelPack | None,
        labels: Sequence[str],
    ) -> None:
        from musictagger.ml.frontend import MelSpectrogram

        self.spec = spec
        self.options = options
        self.device = device
        self.sr = int(spec["sample_rate"])
        self.frames = int(spec["frames"])
        self.top_db = spec["log"].get("top_db")
        raw_spec = copy.deepcopy(spec)
        raw_spec["log"]["top_db"] = None
        self.frontend = MelSpectrogram.from_spec(raw_spec).to(device).eval()
        self.hop = int(spec["hop_length"])
        self.mels: dict[str, np.ndarray] = {}  # track -> (n_mels, T) float16 dB
        self.teacher = teacher
        self.labels = list(labels)
        # track -> (window centres in frames, teacher probabilities per window mapped to our labels)
        self.teacher_windows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if teacher is not None:
            self._setup_teacher(teacher)

    # -------------------------------------------------------------- teacher
    def _setup_teacher(self, teacher: ModelPack) -> None:
        from musictagger.ml.frontend import build_frontend

        self.t_model = teacher.load_model(self.device)
        self.t_spec = teacher.input
        self.t_frontend = build_frontend(self.t_spec).to(self.device).eval()
        self.t_sr = int(self.t_spec["sample_rate"])
        n_out = len(teacher.labels)
        # Column j of our labels takes the max over the teacher outputs mapped to it.
        if self.labels == teacher.labels:
            groups = [[j] for j in range(n_out)]
        else:
            ids = teacher.taxonomy_ids()
            groups = [[k for k in range(n_out) if lab in ids[k]] for lab in self.labels]
        self.t_groups = groups
        th = teacher.thresholds
        self.t_thresholds = np.array(
            [min((th[teacher.labels[k]] for k in g), default=0.5) for g in groups], dtype=np.float32
        )

    def _teacher_probs(self, wave: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Teacher probabilities over sliding windows of its clip length (zero-padded when short)."""
        L = round(float(self.t_spec["clip_seconds"]) * self.t_sr)
        hop = max(1, round(self.options.teacher_hop_seconds * self.t_sr))
        if len(wave) <= L:
            starts = [0]
            wave = np.pad(wave, (0, L - len(wave)))
        else:
            starts = list(range(0, len(wave) - L + 1, hop))
            if starts[-1] != len(wave) - L:
                starts.append(len(wave) - L)
        windows = np.stack([wave[s : s + L] for s in starts]).astype(np.float32)
        out = []
        with torch.inference_mode():
            for i in range(0, len(windows), 8):
                x = self.t_frontend(torch.from_numpy(windows[i : i + 8]).to(self.device))
                out.append(torch.sigmoid(self.t_model(x).float()).cpu().numpy())
        p = np.concatenate(out)
        mapped = np.stack([p[:, g].max(axis=1) if g else np.zeros(len(p)) for g in self.t_groups], axis=1)
        centres = (np.asarray(starts) + L / 2) / self.t_sr  # seconds
        return centres, mapped.astype(np.float32)

    # -------------------------------------------------------------- decoding
    def prepare(
        self,
        items: Sequence[Item],
        val_keys: set[str],
        tracker: ProgressTracker,
        cancel: CancelToken | None,
        errors: list[FileProblem],
    ) -> list[Item]:
        from musictagger.audio import ExcerptPolicy, read_duration, read_excerpts

        ok = []
        for item in items:
            good_tracks = []
            for path in item.tracks:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                try:
                    duration = read_duration(path)
                    window = min(duration, self.options.seconds_per_track)
                    wave = read_excerpts(path, self.sr, ExcerptPolicy(window, 1, (0.5,)))[0]
                    if self.teacher is not None:
                        t_wave = (
                            wave
                            if self.t_sr == self.sr
                            else read_excerpts(path, self.t_sr, ExcerptPolicy(window, 1, (0.5,)))[0]
                        )
                        centres, probs = self._teacher_probs(t_wave)
                        self.teacher_windows[path] = (centres * self.sr / self.hop, probs)
                except (MusictaggerError, ValueError) as exc:
                    errors.append(FileProblem.of(exc, path))
                    continue
                with torch.inference_mode():
                    db = self.frontend(torch.from_numpy(wave[None]).to(self.device))[0, 0]
                self.mels[path] = db.cpu().numpy().astype(np.float16)
                good_tracks.append(path)
            tracker.advance(current=item.key)
            if good_tracks:
                ok.append(
                    Item(item.key, item.artist, item.labels, item.cover, item.album, tuple(good_tracks), item.title)
                )
        return ok

    def soft_targets(self, item: Item) -> np.ndarray:
        """The teacher's opinion of a whole item: the mean over all its windows and tracks."""
        return np.concatenate([self.teacher_windows[t][1] for t in item.tracks]).mean(axis=0)

    # -------------------------------------------------------------- sampling
    def _crop(self, mel: np.ndarray, start: int) -> np.ndarray:
        F = self.frames
        x = mel[:, start : start + F].astype(np.float32)
        if x.shape[1] < F:
            x = np.pad(x, ((0, 0), (0, F - x.shape[1])), constant_values=self.SILENCE_DB)
        return x

    def _floor(self, x: np.ndarray) -> np.ndarray:
        if self.top_db is None:
            return x
        return np.maximum(x, x.max() - float(self.top_db))

    def epoch_samples(self, train: Sequence[Item], rng: np.random.Generator) -> list[tuple[int, Any]]:
        samples = []
        for i, item in enumerate(train):
            lengths = np.array([self.mels[t].shape[1] for t in item.tracks], dtype=np.float64)
            for _ in range(self.options.crops_per_item):
                t = item.tracks[int(rng.choice(len(item.tracks), p=lengths / lengths.sum()))]
                T = self.mels[t].shape[1]
                start = int(rng.integers(0, max(1, T - self.frames + 1)))
                samples.append((i, (t, start)))
        order = rng.permutation(len(samples))
        return [samples[k] for k in order]

    def _augment(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n_mels = x.shape[0]
        x = x + rng.uniform(-6.0, 6.0)  # gain
        bands = np.linspace(-1.0, 1.0, n_mels, dtype=np.float32)[:, None]
        centre, width = rng.uniform(-1, 1), rng.uniform(0.1, 0.5)
        x = (
            x
            + rng.uniform(-3.0, 3.0) * bands
            + rng.uniform(-4.0, 4.0) * np.exp(-((bands - centre) ** 2) / (2 * width**2))
        )
        if rng.random() < 0.3:  # light noise, 25-45 dB under the excerpt's mean power
            power = np.power(10.0, x / 10.0)
            noise = power.mean() * 10 ** (-rng.uniform(25, 45) / 10) * rng.uniform(0.5, 1.5, size=x.shape)
            x = 10.0 * np.log10(np.maximum(power + noise, 1e-10))
        return x.astype(np.float32)

    def teacher_target(self, track: str, start: int) -> np.ndarray:
        centres, probs = self.teacher_windows[track]
        k = int(np.argmin(np.abs(centres - (start + self.frames / 2))))
        return probs[k]

    def make_batch(self, train: Sequence[Item], samples: Sequence[tuple[int, Any]], rng: np.random.Generator):
        xs, soft = [], []
        for _, (track, start) in samples:
            xs.append(self._floor(self._augment(self._crop(self.mels[track], start), rng)))
            soft.append(self.teacher_target(track, start) if self.teacher is not None else None)
        x = np.stack(xs)[:, None]
        return torch.from_numpy(x), [i for i, _ in samples], soft

    def val_batches(self, items: Sequence[Item]):
        """One batch per item: three excerpts (25/50/75 %) of each of its tracks."""
        positions = self.spec.get("excerpts", {}).get("positions", [0.25, 0.5, 0.75])
        for i, item in enumerate(items):
            xs = []
            for t in item.tracks:
                mel = self.mels[t]
                T = mel.shape[1]
                for p in positions:
                    start = int(np.clip(round(p * T - self.frames / 2), 0, max(0, T - self.frames)))
                    xs.append(self._floor(self._crop(mel, start)))
            yield i, np.stack(xs)[:, None]


# ------------------------------------------------------------------------------------------ helpers
def _input_spec(kind: str, options: TrainOptions) -> dict[str, Any]:
    if kind == "cover":
        return {
            "size": options.cover_size,
            "resize": "shorter_side_then_center_crop",
            "mean": COVER_MEAN,
            "std": COVER_STD,
        }
    spec = copy.deepcopy(options.audio_input)
    spec["frames"] = 1 + round(spec["clip_seconds"] * spec["sample_rate"]) // spec["hop_length"]
    return spec


def _architecture(kind: str, options: TrainOptions, spec: dict[str, Any], n_labels: int) -> dict[str, Any]:
    if kind == "cover":
        params = {**options.cover_params, "in_size": spec["size"], "n_labels": n_labels}
        return {"name": "cover_cnn", "params": params}
    params = {**options.audio_params, "n_mels": spec["n_mels"], "frames": spec["frames"], "n_labels": n_labels}
    return {"name": "crnn", "params": params}


def predict(model: nn.Module, feed: Any, items: Sequence[Item], device: torch.device, batch: int = 64) -> np.ndarray:
    """Item-level probabilities (mean over an item's inputs), model in eval mode."""
    model.eval()
    out = []
    with torch.inference_mode():
        for _, x in feed.val_batches(items):
            probs = []
            for s in range(0, len(x), batch):
                t = torch.from_numpy(np.ascontiguousarray(x[s : s + batch])).to(device)
                probs.append(torch.sigmoid(model(t).float()).cpu().numpy())
            out.append(np.concatenate(probs).mean(axis=0))
    return np.stack(out) if out else np.zeros((0, 0), dtype=np.float32)


def _state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _lr_at(epoch: int, epochs: int, base: float) -> float:
    """One warm-up epoch, then cosine decay to 5 % of the base rate."""
    if epoch == 0 and epochs > 2:
        return base * 0.3
    t = epoch / max(1, epochs - 1)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def _seed_all(seed: int, epoch: int) -> np.random.Generator:
    torch.manual_seed(seed * 1_000_003 + epoch)
    return np.random.default_rng([seed, epoch])


def _load_backbone(model: nn.Module, pack: ModelPack) -> int:
    """Copy every tensor of ``pack``'s model whose name and shape fit ``model``; return the count."""
    source = pack.load_model("cpu").state_dict()
    own = model.state_dict()
    fitting = {k: v for k, v in source.items() if k in own and own[k].shape == v.shape}
    own.update(fitting)
    model.load_state_dict(own)
    return len(fitting)


# ------------------------------------------------------------------------------------------ main
@dataclass
class _Data:
    """Stage 1: the dataset resolved, split by artist, and every input decoded once."""

    ds: Dataset
    labels: list[str]
    spec: dict[str, Any]
    feed: Any
    train_items: list[Item]
    val_items: list[Item]
    decoded: int
    errors: list[FileProblem]


@dataclass
class _Targets:
    """Stage 2: what the model is taught (hard labels, or the teacher's probabilities)."""

    y_train: np.ndarray
    y_val: np.ndarray
    soft_train: np.ndarray | None  # distillation only
    soft_val: np.ndarray | None
    pos_weight: np.ndarray

    @property
    def distill(self) -> bool:
        return self.soft_train is not None


@dataclass
class _Run:
    """Stage 3 and 4's state: the model and optimiser, and where the epochs stand (checkpointed)."""

    arch: dict[str, Any]
    model: nn.Module
    optimizer: torch.optim.Optimizer
    criterion: nn.Module
    checkpoint_dir: Path
    fingerprint: str
    epoch: int = 0
    best_score: float = -1.0  # the score that picks the epoch: macro AP, or agreement with the teacher
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None
    resumed_from: int | None = None

    def to_checkpoint(self, seed: int) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "epoch": self.epoch, "best_score": self.best_score,
                "best_epoch": self.best_epoch, "bad": self.bad_epochs, "history": self.history,
                "stopped": self.stopped, "seed": seed}  # fmt: skip

    def restore(self, state: dict[str, Any], best: dict[str, torch.Tensor] | None) -> None:
        self.epoch, self.best_epoch, self.bad_epochs = state["epoch"], state["best_epoch"], state["bad"]
        self.best_score = state.get("best_score", state.get("best_ap", -1.0))  # "best_ap": older checkpoints
        self.history, self.stopped, self.best_state = state["history"], state["stopped"], best
        self.resumed_from = self.epoch


def _prepare_data(kind, dataset, options: TrainOptions, seed: int, dev, init_from, progress, cancel) -> _Data:
    ds = resolve(dataset, kind, min_count=options.min_count)
    spec = _input_spec(kind, options)
    if init_from is not None and init_from.kind == kind:
        spec = init_from.input  # fine-tuning keeps the base model's input and shape
    if options.split not in SPLITS:
        raise DatasetError(f"unknown split {options.split!r} (choose from {', '.join(SPLITS)})")
    train_items, val_items = SPLITS[options.split](ds.items, options.val_fraction, seed)
    if not val_items or not train_items:
        raise DatasetError(f"{ds.source}: a validation split needs items from at least two artists")
    labels = list(ds.labels)
    feed: Any = CoverFeed(spec) if kind == "cover" else AudioFeed(spec, options, dev, ds.teacher, labels)
    tracker = ProgressTracker("decode", len(ds.items), progress)
    tracker.update(0, force=True)
    errors: list[FileProblem] = []
    decoded = {it.key for it in feed.prepare(ds.items, {it.key for it in val_items}, tracker, cancel, errors)}
    by_key = {it.key: it for it in ds.items}
    if isinstance(feed, AudioFeed):  # items lose tracks that failed to decode
        for k in decoded:
            it = by_key[k]
            by_key[k] = Item(it.key, it.artist, it.labels, it.cover, it.album,
                             tuple(t for t in it.tracks if t in feed.mels), it.title)  # fmt: skip
    train_items = [by_key[it.key] for it in train_items if it.key in decoded]
    val_items = [by_key[it.key] for it in val_items if it.key in decoded]
    if not train_items or not val_items:
        raise DatasetError(f"{ds.source}: too few readable items to train and validate ({len(decoded)} readable)")
    return _Data(ds, labels, spec, feed, train_items, val_items, len(decoded), errors)


def _make_targets(data: _Data, options: TrainOptions) -> _Targets:
    from musictagger.training.finish import label_matrix, positive_weights

    soft_train: np.ndarray | None
    soft_val: np.ndarray | None
    if data.ds.teacher is not None:
        feed = data.feed
        soft_train = np.stack([feed.soft_targets(it) for it in data.train_items])
        soft_val = np.stack([feed.soft_targets(it) for it in data.val_items])
        y_train = (soft_train >= feed.t_thresholds).astype(np.float32)
        y_val = (soft_val >= feed.t_thresholds).astype(np.float32)
        freq = soft_train.mean(axis=0)
    else:
        y_train = label_matrix([it.labels for it in data.train_items], data.labels)
        y_val = label_matrix([it.labels for it in data.val_items], data.labels)
        soft_train = soft_val = None
        freq = y_train.mean(axis=0)
    # Class weights from label frequencies (soft ones when distilling). For a student they also
    # matter: with unweighted BCE (or logit matching) our small students settled on the teacher's
    # average answer, since the teacher's probabilities are small and vary little; weighting the
    # positive side keeps the per-excerpt differences in the gradient. The price is probabilities
    # higher than the teacher's, which the per-label thresholds calibrated afterwards absorb.
    return _Targets(y_train, y_val, soft_train, soft_val, positive_weights(freq, options.pos_weight_max))


def _build(kind, data: _Data, targets: _Targets, options: TrainOptions, *, epochs, seed, dev, init_from, out_dir,
           name, resume) -> _Run:  # fmt: skip
    arch = _architecture(kind, options, data.spec, len(data.labels))
    if init_from is not None and init_from.kind == kind:
        arch = init_from.architecture
        arch["params"]["n_labels"] = len(data.labels)
    torch.manual_seed(seed)
    model = build_model(arch, n_labels=len(data.labels))
    if init_from is not None:
        _load_backbone(model, init_from)
    model.to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.lr, weight_decay=options.weight_decay)
    criterion = nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(targets.pos_weight).to(dev))
    fingerprint = hashlib.sha256(
        json.dumps(
            {
                "kind": kind, "labels": data.labels, "epochs": epochs, "seed": seed, "arch": arch, "spec": data.spec,
                "train": [it.key for it in data.train_items], "val": [it.key for it in data.val_items],
                "options": options.fingerprint_dict(), "init": init_from.sha256 if init_from else None,
            },
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()  # fmt: skip
    run = _Run(arch, model, optimizer, criterion, Path(out_dir) / f".{name}.training", fingerprint)
    if resume and run.checkpoint_dir.is_dir():
        loaded = load_checkpoint(run.checkpoint_dir, model, optimizer, fingerprint)
        if loaded is not None:
            run.restore(*loaded)
    if not resume and run.checkpoint_dir.exists():
        shutil.rmtree(run.checkpoint_dir, ignore_errors=True)
    return run


def _epoch_score(targets: _Targets, p_val: np.ndarray, labels: list[str]) -> tuple[float, float | None]:
    """(the score that picks the epoch, validation macro AP)."""
    ap = M.macro(M.per_label(M.average_precision, targets.y_val, p_val, labels))
    soft = targets.soft_val
    if soft is not None and len(labels) > 5:
        # Distillation: the student's job is to agree with the teacher; the teacher's hard labels
        # give too few validation positives for AP to pick an epoch. Top-5 overlap first
        # (informative only with more than five labels), mean |Δp| to tell close epochs apart —
        # never |Δp| alone: a student answering the teacher's average minimises it.
        return M.topk_overlap(soft, p_val, 5) - 0.1 * float(np.mean(np.abs(p_val - soft))), ap
    if ap is not None:
        return ap, ap
    if soft is not None:  # no validation positives: follow agreement with the teacher
        return -float(np.mean(np.abs(p_val - soft))), ap
    return 0.0, ap


def _run_epochs(kind, data: _Data, targets: _Targets, run: _Run, options: TrainOptions, *, epochs, seed, dev,
                progress, cancel) -> None:  # fmt: skip
    feed, model = data.feed, run.model
    rng0 = np.random.default_rng([seed, 0])
    batches_per_epoch = math.ceil(len(feed.epoch_samples(data.train_items, rng0)) / options.batch_size)
    tracker = ProgressTracker("train", epochs * batches_per_epoch, progress)
    tracker.update(run.epoch * batches_per_epoch, force=True)
    has_batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    while run.epoch < epochs and not run.stopped:
        epoch = run.epoch
        rng = _seed_all(seed, epoch)
        for group in run.optimizer.param_groups:
            group["lr"] = _lr_at(epoch, epochs, options.lr)
        model.train()
        samples = feed.epoch_samples(data.train_items, rng)
        losses = []
        for b in range(0, len(samples), options.batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            x, idx, soft = feed.make_batch(data.train_items, samples[b : b + options.batch_size], rng)
            if targets.soft_train is not None:
                y = np.stack([s if s is not None else targets.soft_train[i] for s, i in zip(soft, idx)])
            else:
                y = targets.y_train[idx]
            y_t = torch.from_numpy(np.asarray(y, dtype=np.float32))
            if kind == "audio" and options.mixup_alpha > 0 and len(idx) > 1 and rng.random() < 0.5:
                lam = float(rng.beta(options.mixup_alpha, options.mixup_alpha))
                perm = torch.from_numpy(rng.permutation(len(idx)))
                x = lam * x + (1 - lam) * x[perm]
                y_t = lam * y_t + (1 - lam) * y_t[perm]
            if len(idx) < 2 and has_batch_norm:
                tracker.advance()
                continue  # batch norm cannot train on a single example
            run.optimizer.zero_grad(set_to_none=True)
            loss = run.criterion(model(x.to(dev)), y_t.to(dev))
            loss.backward()
            run.optimizer.step()
            losses.append(float(loss.detach()))
            tracker.advance(current=f"epoch {epoch + 1}/{epochs}")
        p_val = predict(model, feed, data.val_items, dev)
        score, ap = _epoch_score(targets, p_val, data.labels)
        entry = {"epoch": epoch + 1, "loss": float(np.mean(losses)) if losses else None, "val_macro_ap": ap}
        if targets.soft_val is not None:
            entry["val_mean_abs_diff"] = float(np.mean(np.abs(p_val - targets.soft_val)))
        run.history.append(entry)
        if score > run.best_score + 1e-6:
            run.best_score, run.best_epoch, run.bad_epochs = float(score), epoch + 1, 0
            run.best_state = _state_copy(model)
        else:
            run.bad_epochs += 1
            run.stopped = run.bad_epochs >= options.patience
        run.epoch = epoch + 1
        save_checkpoint(run.checkpoint_dir, model, run.optimizer, run.best_state, run.to_checkpoint(seed))
        tracker.update(current=f"epoch {epoch + 1}/{epochs} checkpointed", force=True)


def _finish(kind, data: _Data, targets: _Targets, run: _Run, options: TrainOptions, *, out_dir, name, version,
            seed, dev, started, init_from) -> TrainReport:  # fmt: skip
    from musictagger.ml.device import describe_device
    from musictagger.training.finish import PackSpec, finish_pack, held_out_metrics

    if run.best_state is not None:
        run.model.load_state_dict(run.best_state)
    p_val = predict(run.model, data.feed, data.val_items, dev)
    metrics, thresholds = held_out_metrics(targets.y_val, p_val, data.labels, options.extra_metrics)
    if targets.soft_val is not None:
        metrics["teacher_mean_abs_diff"] = float(np.mean(np.abs(p_val - targets.soft_val)))
        metrics["teacher_top5_overlap"] = M.topk_overlap(targets.soft_val, p_val, 5)
    ds = data.ds
    train_artists = {artist_key(it.artist) for it in data.train_items}
    val_artists = {artist_key(it.artist) for it in data.val_items}
    info = {
        "source": ds.source,
        "items": len(data.train_items) + len(data.val_items),
        "train_items": len(data.train_items),
        "val_items": len(data.val_items),
        "train_artists": len(train_artists),
        "val_artists": len(val_artists),
        "split": options.split,
        "shared_artists": len(train_artists & val_artists),
        "skipped": ds.skipped,
        "unreadable": len(ds.items) - data.decoded,
        "dropped_labels": ds.dropped_labels,
        "train_label_counts": {lab: int(v) for lab, v in zip(data.labels, targets.y_train.sum(axis=0))},
        "val_label_counts": {lab: int(v) for lab, v in zip(data.labels, targets.y_val.sum(axis=0))},
        "seed": seed,
        "val_fraction": options.val_fraction,
        "date": date.today().isoformat(),
    }
    if ds.teacher is not None:
        info["teacher"] = f"{ds.teacher.name} {ds.teacher.version}"
    device = describe_device(dev)
    description = options.description or (
        f"A {kind} model trained by musictagger from {ds.source}: multi-label, {len(data.labels)} labels."
    )
    limits = list(options.limits) or _default_limits(kind, info)
    spec = PackSpec(name=name, version=version, kind=kind, labels=data.labels, input=data.spec,
                    architecture=run.arch, description=description, license=options.license, limits=limits,
                    label_space=ds.label_space, label_map=dict(ds.label_map))  # fmt: skip
    run.model.to("cpu")
    report = finish_pack(
        Path(out_dir),
        spec,
        run.model.state_dict(),
        metrics=metrics,
        thresholds=thresholds,
        data=info,
        training={
            "epochs": run.epoch,
            "best_epoch": run.best_epoch,
            "device": device,
            "options": options.fingerprint_dict(),
        },  # fmt: skip
        report={
            "epochs_run": run.epoch,
            "best_epoch": run.best_epoch,
            "stopped_early": bool(run.stopped),
            "resumed_from_epoch": run.resumed_from,
            "history": run.history,
            "device": device,
            "elapsed_s": 0.0,
            "errors": data.errors,
        },  # fmt: skip
    )
    shutil.rmtree(run.checkpoint_dir, ignore_errors=True)
    report.elapsed_s = time.monotonic() - started
    return report


# ------------------------------------------------------------------------------------------ main
def train(
    kind: str,
    dataset: Dataset | TeacherSource | str | Path,
    *,
    out_dir: Path,
    name: str,
    version: str = "1.0.0",
    epochs: int = 30,
    seed: int = 0,
    device: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    resume: bool = True,
    options: TrainOptions | None = None,
    init_from: ModelPack | None = None,
) -> TrainReport:
    """Train a pack in four stages: data (split, decode once) → targets → build (model, optimiser,
    checkpoint) → epochs (early stopping, checkpoint per epoch) → finish (calibrate, measure, save)."""
    from musictagger.ml.device import select_device, set_cpu_threads

    started = time.monotonic()
    options = options or TrainOptions()
    if epochs < 1:
        raise DatasetError(f"epochs must be at least 1, not {epochs}")
    dev = select_device(device)
    if dev.type == "cpu":
        set_cpu_threads(options.cpu_threads)
    data = _prepare_data(kind, dataset, options, seed, dev, init_from, progress, cancel)
    targets = _make_targets(data, options)
    run = _build(kind, data, targets, options, epochs=epochs, seed=seed, dev=dev, init_from=init_from,
                 out_dir=out_dir, name=name, resume=resume)  # fmt: skip
    _run_epochs(kind, data, targets, run, options, epochs=epochs, seed=seed, dev=dev, progress=progress, cancel=cancel)
    return _finish(kind, data, targets, run, options, out_dir=out_dir, name=name, version=version, seed=seed,
                   dev=dev, started=started, init_from=init_from)  # fmt: skip


def _default_limits(kind: str, info: dict[str, Any]) -> list[str]:
    n = info["val_items"]
    limits = [
        f"Validation figures come from {n} items by {info['val_artists']} artists; with so few, "
        "they are rough (a few points either way is noise).",
        "Labels are learnt from tags as given; wrong or inconsistent tags teach wrong answers.",
        "Per-label thresholds were tuned on the same validation items the figures come from, so "
        "F1 at those thresholds is optimistic.",
    ]
    if kind == "cover":
        limits.append("A cover shows artwork, not music: a photo or plain design says little about the genre.")
    else:
        limits.append("Audio is heard through short excerpts; intros, interludes and live recordings can mislead it.")
    return limits
