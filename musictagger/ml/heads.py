"""Models built on pretrained backbones: a backbone (weights from :mod:`musictagger.ml.backbones`)
plus what musictagger itself trains or measures.

* :class:`CoverHead` (``cover_head``): one or more EfficientNet-Lite image backbones, frozen; their
  stage outputs pooled into one embedding (the mean of each chosen stage's map, and for
  ``mean_std`` also its standard deviation over positions — the style statistics of mid-level
  features, which carry much of what a cover's genre looks like), averaged over the clean image
  and deterministic test-time views (mirror, central zoom); the embedding standardised with the
  training set's mean and spread; then a linear (or one-hidden-layer) classifier, with optional
  *exclusive* groups of labels that are one choice (a softmax: a cover looks like one broad genre).
* :class:`MusicnnTagger` (``musicnn_tagger``): musicnn's own 50 tag outputs on one 187-frame
  patch (the tags are mapped into the taxonomy by the pack's ``label_map``).

Both expose :meth:`embed` — the vector "learn from my library" and similarity search use — and
keep their backbones under ``self.backbones`` / ``self.backbone`` (the ``backbones.`` prefix a
pack's own weights never carry).

This module imports torch at its top; it is imported lazily, only where a model is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from musictagger.ml.efficientnet_lite import EfficientNetLite
from musictagger.ml.musicnn import EMBEDDING_DIM, PATCH_FRAMES, Musicnn

POOLINGS = ("mean", "mean_std")


def pooled_size(channels: Sequence[int], stages: Sequence[int], pooling: str) -> int:
    return sum(channels[i] for i in stages) * (2 if pooling == "mean_std" else 1)


def pool_maps(maps: Sequence[torch.Tensor], stages: Sequence[int], pooling: str) -> torch.Tensor:
    """Per chosen map, its mean over positions (and, for ``mean_std``, the standard deviation), concatenated."""
    parts = []
    for i in stages:
        m = maps[i]
        parts.append(m.mean(dim=(2, 3)))
        if pooling == "mean_std":
            parts.append(m.std(dim=(2, 3)))
    return torch.cat(parts, dim=1)


#: Deterministic test-time views of a cover, as transforms of the clean (batch, 3, H, W) tensor.
TEST_VIEWS = ("mirror", "zoom", "zoom_mirror")
ZOOM = 0.8  # "zoom": the central 80 % of each side, scaled back to the input size


def test_view(x: torch.Tensor, name: str) -> torch.Tensor:
    """One of :data:`TEST_VIEWS` of normalised covers ``x``."""
    if name not in TEST_VIEWS:
        raise ValueError(f"unknown test view {name!r} (known: {', '.join(TEST_VIEWS)})")
    if name.startswith("zoom"):
        h, w = x.shape[-2:]
        ch, cw = round(h * ZOOM), round(w * ZOOM)
        top, left = (h - ch) // 2, (w - cw) // 2
        x = F.interpolate(x[..., top : top + ch, left : left + cw], size=(h, w), mode="bilinear",
                          align_corners=False, antialias=False)  # fmt: skip
    return x.flip(3) if name.endswith("mirror") else x


class CoverHead(nn.Module):
    """(batch, 3, H, W) normalised covers → (batch, n_labels) logits, on frozen EfficientNet-Lite backbones.

    With several ``variants`` their pooled features are concatenated (each backbone reads the same
    input tensor). ``views``: test-time views (:data:`TEST_VIEWS`) whose pooled features are
    averaged with the clean image's.
    """

    embed_mean: torch.Tensor
    embed_std: torch.Tensor

    def __init__(
        self,
        n_labels: int,
        variants: Sequence[str] = ("efficientnet-lite0",),
        stages: Sequence[int] = (7,),
        pooling: str = "mean",
        hidden: int = 0,
        dropout: float = 0.0,
        views: Sequence[str] = ("mirror",),
        exclusive: Sequence[Sequence[int]] = (),
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        if not variants:
            raise ValueError("a cover head needs at least one backbone")
        self.backbones = nn.ModuleList(EfficientNetLite(v) for v in variants)
        self.variants = [str(v) for v in variants]
        self.stages = [int(i) for i in stages]
        self.embedding_size = 0
        for net in self.nets:
            channels = [s.channels for s in net.stages] + [net._conv_head.out_channels]
            if not self.stages or any(not 0 <= i < len(channels) for i in self.stages):
                raise ValueError(f"stages must be indices of the {len(channels)} feature maps, not {list(stages)}")
            self.embedding_size += pooled_size(channels, self.stages, pooling)
        self.pooling = pooling
        self.views = [str(v) for v in views]
        for v in self.views:
            if v not in TEST_VIEWS:
                raise ValueError(f"unknown test view {v!r} (known: {', '.join(TEST_VIEWS)})")
        self.register_buffer("embed_mean", torch.zeros(self.embedding_size))
        self.register_buffer("embed_std", torch.ones(self.embedding_size))
        self.classifier = make_classifier(self.embedding_size, n_labels, hidden, dropout)
        self.exclusive = [[int(i) for i in group] for group in exclusive]
        if any(not 0 <= i < n_labels for group in self.exclusive for i in group):
            raise ValueError(f"exclusive groups must hold label indices below {n_labels}, not {self.exclusive}")

    @property
    def nets(self) -> list[EfficientNetLite]:
        """The backbones, typed (the modules of :attr:`backbones`)."""
        return [cast(EfficientNetLite, net) for net in self.backbones]

    @property
    def resolution(self) -> int:
        """The input size: the largest native resolution among the backbones."""
        return max(net.resolution for net in self.nets)

    def pooled_one(self, x: torch.Tensor) -> torch.Tensor:
        """Raw pooled features of exactly these images (no test-time views)."""
        return torch.cat([pool_maps(net.feature_maps(x), self.stages, self.pooling) for net in self.nets], dim=1)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Raw pooled features: the mean over the clean image and its test-time views."""
        z = self.pooled_one(x)
        for v in self.views:
            z = z + self.pooled_one(test_view(x, v))
        return z / (1 + len(self.views))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The standardised embedding the classifier reads, (batch, ``embedding_size``)."""
        return (self.pooled(x) - self.embed_mean) / self.embed_std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return exclusive_logits(self.classifier(self.embed(x)), self.exclusive)

    def forward_with_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, the standardised embedding) in one pass: what the engine caches for learning."""
        e = self.embed(x)
        return exclusive_logits(self.classifier(e), self.exclusive), e


def exclusive_logits(logits: torch.Tensor, groups: Sequence[Sequence[int]]) -> torch.Tensor:
    """Within each group of labels, one choice: the group's logits become the logits of its softmax
    probabilities (so ``sigmoid`` of the output is the softmax share). Labels outside every group
    keep their independent logits."""
    if not groups:
        return logits
    out = logits.clone()
    for group in groups:
        idx = torch.tensor(list(group), device=logits.device)
        log_p = torch.log_softmax(logits.index_select(1, idx), dim=1)
        out[:, idx] = log_p - torch.log1p(-log_p.exp().clamp(max=1 - 1e-7))
    return out


def make_classifier(size: int, n_labels: int, hidden: int = 0, dropout: float = 0.0) -> nn.Sequential:
    """A linear read-out, or with ``hidden`` units one ReLU layer before it (dropout on its input)."""
    if hidden <= 0:
        return nn.Sequential(nn.Dropout(dropout), nn.Linear(size, n_labels))
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(size, hidden), nn.ReLU(), nn.Linear(hidden, n_labels))


class MusicnnTagger(nn.Module):
    """(batch, frames, 96) musicnn inputs → (batch, 50) logits of musicnn's own tags.

    Inputs longer than ``frames`` are cut to it (an excerpt read as 3.0 s gives 188 frames; the
    model was trained on 187), shorter ones zero-padded, as the extractor pads a short clip.
    """

    def __init__(self, n_labels: int = 50, frames: int = PATCH_FRAMES) -> None:
        super().__init__()
        self.backbones = nn.ModuleList([Musicnn(n_tags=n_labels)])
        self.frames = int(frames)
        self.embedding_size = EMBEDDING_DIM

    def _fit(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] >= self.frames:
            return x[:, : self.frames]
        return F.pad(x, (0, 0, 0, self.frames - x.shape[1]))

    @property
    def backbone(self) -> Musicnn:
        return self.backbones[0]  # type: ignore[return-value]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """musicnn's 200-d penultimate embedding."""
        return self.backbone.embed(self._fit(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self._fit(x))

    def forward_with_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, the 200-d penultimate embedding) in one pass."""
        f = self.backbone.features(self._fit(x))
        return f["logits"], f["penultimate"]


class MusicnnHead(MusicnnTagger):
    """(batch, frames, 96) → (batch, n_labels) logits of a head on musicnn's 200-d embedding (a pack
    learnt from the user's library). Its embedding is musicnn's own, so it lives in the same space
    as the base audio pack's (similar-album search can mix them)."""

    def __init__(
        self,
        n_labels: int,
        frames: int = PATCH_FRAMES,
        hidden: int = 0,
        dropout: float = 0.0,
        exclusive: Sequence[Sequence[int]] = (),
    ) -> None:
        super().__init__(n_labels=50, frames=frames)
        self.classifier = make_classifier(EMBEDDING_DIM, n_labels, hidden, dropout)
        self.exclusive = [[int(i) for i in group] for group in exclusive]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return exclusive_logits(self.classifier(self.embed(x)), self.exclusive)

    def forward_with_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = self.embed(x)
        return exclusive_logits(self.classifier(e), self.exclusive), e


def build_cover_head(params: dict[str, Any]) -> CoverHead:
    known = {"n_labels", "variants", "stages", "pooling", "hidden", "dropout", "views", "exclusive"}
    unknown = set(params) - known
    if unknown:
        raise ValueError(f"unknown params {sorted(unknown)}")
    return CoverHead(
        n_labels=int(params["n_labels"]),
        variants=[str(v) for v in params.get("variants", ["efficientnet-lite0"])],
        stages=[int(i) for i in params.get("stages", [7])],
        pooling=str(params.get("pooling", "mean")),
        hidden=int(params.get("hidden", 0)),
        dropout=float(params.get("dropout", 0.0)),
        views=[str(v) for v in params.get("views", ["mirror"])],
        exclusive=[list(g) for g in params.get("exclusive", [])],
    )


def build_musicnn_head(params: dict[str, Any]) -> MusicnnHead:
    return MusicnnHead(
        n_labels=int(params["n_labels"]),
        frames=int(params.get("frames", PATCH_FRAMES)),
        hidden=int(params.get("hidden", 0)),
        dropout=float(params.get("dropout", 0.0)),
        exclusive=[list(g) for g in params.get("exclusive", [])],
    )


def build_musicnn_tagger(params: dict[str, Any]) -> MusicnnTagger:
    return MusicnnTagger(n_labels=int(params.get("n_labels", 50)), frames=int(params.get("frames", PATCH_FRAMES)))
