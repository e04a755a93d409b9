"""A compact CNN for cover art, small enough to train from scratch on ~1k covers on a CPU.

Why this shape: cover-genre cues are mostly texture, palette and layout (corpse-paint photos,
blurry black-and-white forests, logos drawn as thorny scribbles, neon synth grids), which a few
plain conv stages capture well; ImageNet-scale depth would only overfit a thousand images. A
stride-2 stem halves the resolution before the first stage, which cuts the compute about four-fold
at 128×128 while keeping every later stage's receptive field useful. Global average *and* max
pooling feed the classifier: the average sees overall palette and texture, the max catches a small
but telling detail (a logo, a pentagram). The pooled vector is exposed as :meth:`CoverCNN.embed`
so "learn from my library" can fit new heads on cached embeddings without re-running the trunk.

The model outputs logits for independent labels (multi-label): train with
``BCEWithLogitsLoss``, predict with ``sigmoid``.

This module imports torch at its top; it is only imported lazily, through the architecture
registry in :mod:`musictagger.ml.packs`, when a cover model is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

DEFAULT_WIDTHS = (32, 64, 128, 256)
DEFAULT_DROPOUT = 0.3
DEFAULT_IN_SIZE = 128


def _conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class CoverCNN(nn.Module):
    """Stem (3×3 stride 2) → stages of (conv-BN-ReLU ×2, max-pool 2) → avg+max pool → dropout → linear."""

    def __init__(
        self,
        n_labels: int,
        widths: Sequence[int] = DEFAULT_WIDTHS,
        dropout: float = DEFAULT_DROPOUT,
        in_size: int = DEFAULT_IN_SIZE,
    ) -> None:
        super().__init__()
        if n_labels < 1:
            raise ValueError(f"n_labels must be at least 1, not {n_labels}")
        if not widths or any(w < 1 for w in widths):
            raise ValueError(f"widths must be a non-empty list of positive channel counts, not {list(widths)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {dropout}")
        # The stem halves the size and every stage halves it again; at least 1×1 must remain.
        if in_size < 2 ** (len(widths) + 1):
            raise ValueError(f"in_size {in_size} is too small for {len(widths)} stages (needs ≥ {2 ** (len(widths) + 1)})")
        self.n_labels = n_labels
        self.in_size = in_size
        self.widths = tuple(int(w) for w in widths)

        layers: list[nn.Module] = _conv_bn_relu(3, self.widths[0], stride=2)
        c_in = self.widths[0]
        for width in self.widths:
            layers += _conv_bn_relu(c_in, width) + _conv_bn_relu(width, width) + [nn.MaxPool2d(2)]
            c_in = width
        self.features = nn.Sequential(*layers)
        self.embedding_size = 2 * c_in
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.embedding_size, n_labels)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled feature vector, shape (batch, ``embedding_size``), for images (batch, 3, H, W)."""
        f = self.features(x)
        return torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (batch, ``n_labels``)."""
        return self.classifier(self.dropout(self.embed(x)))


def build(params: Mapping[str, Any]) -> CoverCNN:
    """The registry's builder: params ``n_labels`` (required), ``widths``, ``dropout``, ``in_size``."""
    unknown = set(params) - {"n_labels", "widths", "dropout", "in_size"}
    if unknown:
        raise ValueError(f"unknown cover_cnn params: {', '.join(sorted(unknown))}")
    return CoverCNN(
        n_labels=int(params["n_labels"]),
        widths=tuple(params.get("widths", DEFAULT_WIDTHS)),
        dropout=float(params.get("dropout", DEFAULT_DROPOUT)),
        in_size=int(params.get("in_size", DEFAULT_IN_SIZE)),
    )


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
