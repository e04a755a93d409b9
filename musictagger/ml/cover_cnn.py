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
# The normalisation every cover pack uses (manifest input mean/std); colour statistics undo it.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ColourStats(nn.Module):
    """Fixed (not learnt) global statistics of a normalised cover, shape (batch, ``n_features``).

    Palette and overall texture decide much of a cover's genre (dark, desaturated, high-contrast
    black metal; saturated photographic hip hop with skin tones; pale classical typography). A
    small CNN trained from scratch on a thousand covers can learn these, but it also learns the
    training artists' logos and photographers; a linear read-out of fixed statistics cannot
    memorise an artist, so it generalises to unseen ones. Features (on a 56 px copy): brightness,
    saturation and saturation-weighted hue histograms; a 4×4×4 RGB histogram; the mean colour of a
    3×3 grid; colourfulness (Hasler & Süsstrunk); luma gradient statistics; skin-tone share.
    """

    V_BINS, S_BINS, H_BINS, RGB_BINS = 8, 8, 12, 4
    #: The feature vector's parts, in order: (name, length).
    LAYOUT = (
        ("brightness", V_BINS),
        ("saturation", S_BINS),
        ("hue", H_BINS),
        ("rgb", RGB_BINS**3),
        ("grid_colour", 27),
        ("colourfulness", 1),
        ("gradient", 4),
        ("luma_std", 1),
        ("skin", 2),
    )
    n_features = sum(n for _, n in LAYOUT)
    mean: torch.Tensor  # buffers (1, 3, 1, 1): the normalisation to undo
    std: torch.Tensor

    @classmethod
    def parts(cls) -> dict[str, slice]:
        """Name → slice of the feature vector (see :attr:`LAYOUT`)."""
        out, at = {}, 0
        for name, n in cls.LAYOUT:
            out[name], at = slice(at, at + n), at + n
        return out

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    @staticmethod
    def _hist(values: torch.Tensor, bins: int, weights: torch.Tensor | None = None) -> torch.Tensor:
        idx = (values * bins).long().clamp_(0, bins - 1).flatten(1)
        w = torch.ones_like(idx, dtype=values.dtype) if weights is None else weights.flatten(1)
        out = torch.zeros(values.shape[0], bins, dtype=values.dtype, device=values.device).scatter_add_(1, idx, w)
        return out / w.sum(dim=1, keepdim=True).clamp_min(1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            rgb = (x.float() * self.std + self.mean).clamp(0.0, 1.0)
            if rgb.shape[-1] > 56:
                rgb = nn.functional.adaptive_avg_pool2d(rgb, 56)
            rgb = torch.round(rgb * 255) / 255  # back on 8-bit levels: no float dust in the blacks
            r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
            v, _ = rgb.max(dim=1)
            c = v - rgb.min(dim=1).values
            s = torch.where(v > 0, c / v.clamp_min(1e-6), torch.zeros_like(v))
            safe = c.clamp_min(1e-6)
            hue = (
                torch.where(v == r, ((g - b) / safe) % 6, torch.where(v == g, (b - r) / safe + 2, (r - g) / safe + 4))
                / 6
            )
            q = (rgb * self.RGB_BINS).long().clamp_(0, self.RGB_BINS - 1)
            cube = (q[:, 0] * self.RGB_BINS + q[:, 1]) * self.RGB_BINS + q[:, 2]
            rgb_hist = self._hist((cube.float() + 0.5) / self.RGB_BINS**3, self.RGB_BINS**3)
            rg, yb = r - g, 0.5 * (r + g) - b
            colourful = (rg.flatten(1).std(1) ** 2 + yb.flatten(1).std(1) ** 2).sqrt() + 0.3 * (
                rg.flatten(1).mean(1) ** 2 + yb.flatten(1).mean(1) ** 2
            ).sqrt()
            luma = 0.299 * r + 0.587 * g + 0.114 * b
            dx, dy = (luma[:, :, 1:] - luma[:, :, :-1]).abs(), (luma[:, 1:] - luma[:, :-1]).abs()
            skin = (
                (r > 0.37) & (g > 0.16) & (b > 0.08) & (r > g) & (r > b) & (c > 0.06) & ((r - g).abs() > 0.06)
            ).float()
            h, w = skin.shape[-2:]
            return torch.cat(
                [
                    self._hist(v, self.V_BINS),
                    self._hist(s, self.S_BINS),
                    self._hist(hue, self.H_BINS, weights=c),
                    rgb_hist,
                    nn.functional.adaptive_avg_pool2d(rgb, 3).flatten(1),
                    colourful[:, None],
                    dx.mean(dim=(1, 2))[:, None],
                    dy.mean(dim=(1, 2))[:, None],
                    (dx > 0.1).float().mean(dim=(1, 2))[:, None],
                    (dy > 0.1).float().mean(dim=(1, 2))[:, None],
                    luma.flatten(1).std(1)[:, None],
                    skin.mean(dim=(1, 2))[:, None],
                    skin[:, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].mean(dim=(1, 2))[:, None],
                ],
                dim=1,
            )


def _conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class CoverCNN(nn.Module):
    """Stem (3×3 stride 2) → stages of (conv-BN-ReLU ×2, max-pool 2) → avg+max pool → dropout → linear.

    With ``colour_stats``, the pooled vector also carries the batch-normalised :class:`ColourStats`,
    so one linear classifier reads both; ``branch_dropout`` then hides the CNN part from a share of
    the training covers (all of it, per cover), which makes the classifier learn to answer from
    the statistics alone too rather than lean only on what the trunk memorised.
    """

    def __init__(
        self,
        n_labels: int,
        widths: Sequence[int] = DEFAULT_WIDTHS,
        dropout: float = DEFAULT_DROPOUT,
        in_size: int = DEFAULT_IN_SIZE,
        colour_stats: bool = False,
        branch_dropout: float = 0.0,
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
            raise ValueError(
                f"in_size {in_size} is too small for {len(widths)} stages (needs ≥ {2 ** (len(widths) + 1)})"
            )
        self.n_labels = n_labels
        self.in_size = in_size
        self.widths = tuple(int(w) for w in widths)

        layers: list[nn.Module] = _conv_bn_relu(3, self.widths[0], stride=2)
        c_in = self.widths[0]
        for width in self.widths:
            layers += _conv_bn_relu(c_in, width) + _conv_bn_relu(width, width) + [nn.MaxPool2d(2)]
            c_in = width
        self.features = nn.Sequential(*layers)
        self.trunk_size = 2 * c_in
        self.embedding_size = self.trunk_size
        if not 0.0 <= branch_dropout < 1.0:
            raise ValueError(f"branch_dropout must be in [0, 1), not {branch_dropout}")
        self.branch_dropout = float(branch_dropout) if colour_stats else 0.0
        self.stats: ColourStats | None = None
        if colour_stats:
            self.stats = ColourStats()
            self.stats_norm = nn.BatchNorm1d(ColourStats.n_features)
            self.embedding_size += ColourStats.n_features
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
        pooled = [f.mean(dim=(2, 3)), f.amax(dim=(2, 3))]
        if self.stats is not None:
            pooled.append(self.stats_norm(self.stats(x)))
        return torch.cat(pooled, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (batch, ``n_labels``)."""
        e = self.embed(x)
        if self.training and self.branch_dropout > 0:
            keep = (torch.rand(e.shape[0], 1, device=e.device) >= self.branch_dropout).to(e.dtype)
            e = torch.cat([e[:, : self.trunk_size] * keep, e[:, self.trunk_size :]], dim=1)
        return self.classifier(self.dropout(e))

    def forward_with_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, embedding) in one pass (inference: no dropout)."""
        e = self.embed(x)
        return self.classifier(self.dropout(e)), e


def build(params: Mapping[str, Any]) -> CoverCNN:
    """The registry's builder: params ``n_labels`` (required), ``widths``, ``dropout``, ``in_size``,
    ``colour_stats``, ``branch_dropout``."""
    unknown = set(params) - {"n_labels", "widths", "dropout", "in_size", "colour_stats", "branch_dropout"}
    if unknown:
        raise ValueError(f"unknown cover_cnn params: {', '.join(sorted(unknown))}")
    return CoverCNN(
        n_labels=int(params["n_labels"]),
        widths=tuple(params.get("widths", DEFAULT_WIDTHS)),
        dropout=float(params.get("dropout", DEFAULT_DROPOUT)),
        in_size=int(params.get("in_size", DEFAULT_IN_SIZE)),
        colour_stats=bool(params.get("colour_stats", False)),
        branch_dropout=float(params.get("branch_dropout", 0.0)),
    )


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
