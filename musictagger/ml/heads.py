"""Models built on pretrained backbones: a backbone (weights from :mod:`musictagger.ml.backbones`)
plus what musictagger itself trains or measures.

* :class:`CoverHead` (``cover_head``): an EfficientNet-Lite image backbone, frozen; its stage
  outputs pooled into one embedding (the mean of each chosen stage's map, and for ``mean_std``
  also its standard deviation over positions — the style statistics of mid-level features, which
  carry much of what a cover's genre looks like); the embedding standardised with the training
  set's mean and spread; then a linear (or one-hidden-layer) classifier. With ``tta_flip`` the
  embedding is the mean of the image's and its mirror image's.
* :class:`MusicnnTagger` (``musicnn_tagger``): musicnn's own 50 tag outputs on one 187-frame
  patch (the tags are mapped into the taxonomy by the pack's ``label_map``).

Both expose :meth:`embed` — the vector "learn from my library" and similarity search use — and
keep the backbone under ``self.backbone`` (the ``backbone.`` prefix a pack's own weights never
carry).

This module imports torch at its top; it is imported lazily, only where a model is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


class CoverHead(nn.Module):
    """(batch, 3, H, W) normalised covers → (batch, n_labels) logits, on a frozen EfficientNet-Lite."""

    embed_mean: torch.Tensor
    embed_std: torch.Tensor

    def __init__(
        self,
        n_labels: int,
        variant: str = "efficientnet-lite0",
        stages: Sequence[int] = (7,),
        pooling: str = "mean",
        hidden: int = 0,
        dropout: float = 0.0,
        tta_flip: bool = True,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        self.backbone = EfficientNetLite(variant)
        channels = [s.channels for s in self.backbone.stages] + [self.backbone._conv_head.out_channels]
        if not stages or any(not 0 <= i < len(channels) for i in stages):
            raise ValueError(f"stages must be indices of the {len(channels)} feature maps, not {list(stages)}")
        self.stages = [int(i) for i in stages]
        self.pooling = pooling
        self.tta_flip = bool(tta_flip)
        self.embedding_size = pooled_size(channels, self.stages, pooling)
        self.register_buffer("embed_mean", torch.zeros(self.embedding_size))
        self.register_buffer("embed_std", torch.ones(self.embedding_size))
        self.classifier = make_classifier(self.embedding_size, n_labels, hidden, dropout)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """The raw pooled features (mean of the image's and, with ``tta_flip``, its mirror image's)."""
        z = pool_maps(self.backbone.feature_maps(x), self.stages, self.pooling)
        if self.tta_flip:
            z = 0.5 * (z + pool_maps(self.backbone.feature_maps(x.flip(3)), self.stages, self.pooling))
        return z

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The standardised embedding the classifier reads, (batch, ``embedding_size``)."""
        return (self.pooled(x) - self.embed_mean) / self.embed_std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))


def make_classifier(size: int, n_labels: int, hidden: int = 0, dropout: float = 0.0) -> nn.Module:
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
        self.backbone = Musicnn(n_tags=n_labels)
        self.frames = int(frames)
        self.embedding_size = EMBEDDING_DIM

    def _fit(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] >= self.frames:
            return x[:, : self.frames]
        return F.pad(x, (0, 0, 0, self.frames - x.shape[1]))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """musicnn's 200-d penultimate embedding."""
        return self.backbone.embed(self._fit(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self._fit(x))


def build_cover_head(params: dict[str, Any]) -> CoverHead:
    unknown = set(params) - {"n_labels", "variant", "stages", "pooling", "hidden", "dropout", "tta_flip"}
    if unknown:
        raise ValueError(f"unknown params {sorted(unknown)}")
    return CoverHead(
        n_labels=int(params["n_labels"]),
        variant=str(params.get("variant", "efficientnet-lite0")),
        stages=[int(i) for i in params.get("stages", [7])],
        pooling=str(params.get("pooling", "mean")),
        hidden=int(params.get("hidden", 0)),
        dropout=float(params.get("dropout", 0.0)),
        tta_flip=bool(params.get("tta_flip", True)),
    )


def build_musicnn_tagger(params: dict[str, Any]) -> MusicnnTagger:
    return MusicnnTagger(n_labels=int(params.get("n_labels", 50)), frames=int(params.get("frames", PATCH_FRAMES)))
