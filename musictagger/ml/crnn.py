"""Convolutional-recurrent taggers after Choi, Fazekas, Sandler & Cho (2016), "Convolutional
Recurrent Neural Networks for Music Classification" (arXiv:1609.04243).

Two builders, both registered in :data:`musictagger.ml.packs.ARCHITECTURES`:

* :func:`build` — **our own** trainable CRNN (``"crnn"``): 2-D conv blocks (3×3 conv, batch norm,
  ELU, max-pool, dropout) that squeeze the frequency axis, then a 2-layer ``torch.nn.GRU`` over
  the remaining time steps. Widths and pools are parameters, so the same code gives the paper's
  size or a small distilled one.
* :func:`build_choi2016` — the **published** model (``"choi2016_crnn"``), layer for layer with
  the Keras 1 semantics its weights were trained under (see :class:`Choi2016CRNN`), so that
  :mod:`musictagger.ml.choi2016` can import those weights and reproduce the authors' outputs.

Both take ``(batch, 1, n_mels, frames)`` log-mel input (from
:class:`musictagger.ml.frontend.MelSpectrogram`) and return **logits**; the engine applies the
sigmoid. Both expose ``embed(x)``, the recurrent summary the classifier reads (for distillation
and similarity).

This module imports torch at its top; it is imported lazily, through the architecture registry,
only when a model is built.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

DEFAULT_CONV_WIDTHS = (64, 128, 128, 128)
DEFAULT_POOLS = ((2, 2), (3, 3), (4, 4), (4, 4))


class ConvBlock(nn.Sequential):
    """3×3 'same' convolution → batch norm → ELU → max-pool (floor) → dropout."""

    def __init__(self, in_channels: int, out_channels: int, pool: tuple[int, int], dropout: float):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(out_channels),
            nn.ELU(),
            nn.MaxPool2d(pool),
            nn.Dropout(dropout),
        )


class CRNN(nn.Module):
    """Our CRNN: per-band input normalisation, conv blocks, 2-layer GRU, linear head.

    The input batch norm works per mel band (a learnt per-band standardisation of the dB values,
    which makes the model indifferent to the overall level of a recording). After the conv blocks
    the remaining frequency rows are folded into the channel dimension, so ``n_mels`` need not be
    divisible by the frequency pools.
    """

    def __init__(
        self,
        n_labels: int,
        n_mels: int = 96,
        frames: int = 1366,
        conv_widths: Sequence[int] = DEFAULT_CONV_WIDTHS,
        pools: Sequence[Sequence[int]] = DEFAULT_POOLS,
        gru_width: int = 32,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if n_labels < 1:
            raise ValueError(f"n_labels must be at least 1, not {n_labels}")
        if len(conv_widths) != len(pools) or not conv_widths:
            raise ValueError(f"conv_widths ({len(conv_widths)}) and pools ({len(pools)}) must pair up")
        pools_t = [(int(p[0]), int(p[1])) for p in pools]
        freq, time = n_mels, frames
        for f, t in pools_t:
            freq, time = freq // f, time // t
        if freq < 1 or time < 1:
            raise ValueError(f"pools {pools_t} shrink a {n_mels}×{frames} input to nothing ({freq}×{time})")
        self.n_mels = n_mels
        self.steps = time  # GRU steps for an input of ``frames`` frames
        self.input_norm = nn.BatchNorm1d(n_mels)
        channels = [1, *conv_widths]
        self.blocks = nn.Sequential(
            *(ConvBlock(channels[i], channels[i + 1], pools_t[i], dropout) for i in range(len(pools_t)))
        )
        self.gru = nn.GRU(
            input_size=conv_widths[-1] * freq,
            hidden_size=gru_width,
            num_layers=2,
            batch_first=True,
            dropout=dropout,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(gru_width, n_labels)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 1, n_mels, frames) → (batch, gru_width): the last state of the top GRU layer."""
        x = self.input_norm(x.squeeze(1)).unsqueeze(1)
        x = self.blocks(x)  # (batch, channels, freq, steps)
        x = x.flatten(1, 2).transpose(1, 2)  # (batch, steps, channels·freq), time-major
        _, hidden = self.gru(x)
        return hidden[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(x)))

    def forward_with_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, embedding) in one pass (inference: no dropout)."""
        e = self.embed(x)
        return self.head(self.dropout(e)), e


def build(params: Mapping[str, Any]) -> CRNN:
    """Our CRNN from manifest ``architecture.params``: ``n_labels`` (required), ``n_mels``,
    ``frames``, ``conv_widths`` (default ``[64, 128, 128, 128]``; ``[32, 64, 64, 64]`` is a small
    one), ``pools`` (default ``[[2, 2], [3, 3], [4, 4], [4, 4]]``), ``gru_width`` (32),
    ``dropout`` (0.1)."""
    return CRNN(
        n_labels=int(params["n_labels"]),
        n_mels=int(params.get("n_mels", 96)),
        frames=int(params.get("frames", 1366)),
        conv_widths=[int(w) for w in params.get("conv_widths", DEFAULT_CONV_WIDTHS)],
        pools=params.get("pools", DEFAULT_POOLS),
        gru_width=int(params.get("gru_width", 32)),
        dropout=float(params.get("dropout", 0.1)),
    )


# ------------------------------------------------------------------------------------------------
# The published Choi et al. 2016 CRNN, with Keras 1 semantics
# ------------------------------------------------------------------------------------------------

#: Keras' BatchNormalization epsilon, which the published weights were trained with.
KERAS_BN_EPS = 1e-3


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras/Theano's piecewise-linear sigmoid: clip(0.2·x + 0.5, 0, 1)."""
    return (0.2 * x + 0.5).clamp(0.0, 1.0)


class KerasGRU(nn.Module):
    """A Keras 1 GRU layer (not the ``torch.nn.GRU`` formulation), zero initial state:

        z = hard_sigmoid(x·W_z + h·U_z + b_z)
        r = hard_sigmoid(x·W_r + h·U_r + b_r)
        ĥ = tanh(x·W_h + (r ⊙ h)·U_h + b_h)      # reset applied to h *before* U_h
        h ← z ⊙ h + (1 − z) ⊙ ĥ

    Weights are stored stacked in gate order z, r, h, torch-style (out × in): ``weight_ih``
    (3·units, input), ``weight_hh`` (3·units, units), ``bias`` (3·units).
    """

    def __init__(self, input_size: int, units: int, return_sequences: bool) -> None:
        super().__init__()
        self.units = units
        self.return_sequences = return_sequences
        self.weight_ih = nn.Parameter(torch.empty(3 * units, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * units, units))
        self.bias = nn.Parameter(torch.zeros(3 * units))
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.orthogonal_(self.weight_hh)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, steps, input) → (batch, steps, units) or, without sequences, (batch, units)."""
        u = self.units
        projected = F.linear(x, self.weight_ih, self.bias)  # all steps at once
        w_zr, w_h = self.weight_hh[: 2 * u], self.weight_hh[2 * u :]
        h = x.new_zeros(x.shape[0], u)
        outputs = []
        for step in range(x.shape[1]):
            p = projected[:, step]
            zr = hard_sigmoid(p[:, : 2 * u] + F.linear(h, w_zr))
            z, r = zr[:, :u], zr[:, u:]
            candidate = torch.tanh(p[:, 2 * u :] + F.linear(r * h, w_h))
            h = z * h + (1.0 - z) * candidate
            outputs.append(h)
        return torch.stack(outputs, dim=1) if self.return_sequences else h


class Choi2016CRNN(nn.Module):
    """The published MusicTaggerCRNN (Keras 1, Theano dim ordering), for inference.

    Input (batch, 1, 96, 1366) dB mel → zero-pad 37 frames each side of the time axis (1440) →
    batch norm over the *time* axis (one statistic per padded frame, as the Keras layer with
    ``axis=3`` did) → 4 × [3×3 'same' conv, batch norm, ELU, max-pool floor] with
    (64, 128, 128, 128) channels and pools 2×2, 3×3, 4×4, 4×4 → (128, 1, 15) → 15 time steps of
    128 → Keras GRU(32) sequences → Keras GRU(32) last state → dense 50.

    All batch norms use the stored running statistics with Keras' epsilon 1e-3 (the published
    ``running_std`` arrays hold variances). Dropout is left out: this model is for inference only.
    The dense layer's output is returned *before* the published sigmoid (logits), like every
    model of ours; ``sigmoid(forward(x))`` is the authors' output.
    """

    def __init__(self, n_labels: int = 50, n_mels: int = 96, frames: int = 1366, pad: int = 37):
        super().__init__()
        self.pad = pad
        widths = DEFAULT_CONV_WIDTHS
        channels = [1, *widths]
        self.time_norm = nn.BatchNorm1d(frames + 2 * pad, eps=KERAS_BN_EPS)
        self.convs = nn.ModuleList(nn.Conv2d(channels[i], channels[i + 1], 3, padding=1) for i in range(4))
        self.norms = nn.ModuleList(nn.BatchNorm2d(w, eps=KERAS_BN_EPS) for w in widths)
        self.pools = nn.ModuleList(nn.MaxPool2d(p) for p in DEFAULT_POOLS)
        freq = n_mels
        for f, _ in DEFAULT_POOLS:
            freq //= f
        if freq != 1:
            raise ValueError(f"the published CRNN needs n_mels that pool down to 1 row (96), not {n_mels}")
        self.gru1 = KerasGRU(widths[-1], 32, return_sequences=True)
        self.gru2 = KerasGRU(32, 32, return_sequences=False)
        self.output = nn.Linear(32, n_labels)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 1, n_mels, frames) → (batch, 32): the last state of the second GRU."""
        x = F.pad(x, (self.pad, self.pad))  # zero-pad the time axis
        batch, _, mels, time = x.shape
        x = self.time_norm(x.reshape(batch, mels, time).transpose(1, 2)).transpose(1, 2)
        x = x.reshape(batch, 1, mels, time)
        for conv, norm, pool in zip(self.convs, self.norms, self.pools):
            x = pool(F.elu(norm(conv(x))))
        x = x.flatten(1, 2).transpose(1, 2)  # (batch, 128, 1, 15) → (batch, 15, 128)
        return self.gru2(self.gru1(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.embed(x))


def build_choi2016(params: Mapping[str, Any]) -> Choi2016CRNN:
    """The published CRNN from manifest ``architecture.params``: ``n_labels`` (50), ``n_mels``
    (96), ``frames`` (1366), ``pad`` (37). ``output`` must be ``"logits"`` when given."""
    if params.get("output", "logits") != "logits":
        raise ValueError(f"the model returns logits, but params ask for output {params['output']!r}")
    frames = int(params.get("frames", 1366))
    pad = int(params.get("pad", 37))
    if (frames + 2 * pad) // math.prod(t for _, t in DEFAULT_POOLS) < 1:
        raise ValueError(f"{frames} frames are too few for the published CRNN")
    return Choi2016CRNN(
        n_labels=int(params.get("n_labels", 50)),
        n_mels=int(params.get("n_mels", 96)),
        frames=frames,
        pad=pad,
    )
