"""musicnn (Pons & Serra 2019) in torch: the published MSD and MTT music taggers, and their front end.

The weights come from the ``musicnn`` package (ISC) as TensorFlow-1 checkpoints; they are read
by our own numpy code (:mod:`musictagger.ml.tfbundle`) and converted once into a safetensors
backbone pack (:mod:`musictagger.ml.backbones`). No TensorFlow anywhere.

Architecture (checked against the TensorFlow graph's outputs to |Δ| ≤ 1e-4, tests/test_musicnn.py):

* input: (batch, 187 frames, 96 mel bands) — 3 s at 16 kHz, hop 256 — and one batch-norm;
* front end: two *timbral* convolutions (7 × 38 and 7 × 67 in time × frequency, 204 filters each,
  'valid' in frequency, the time axis zero-padded by 3) and three *temporal* ones (128, 64 and
  32 frames × 1 band, 51 filters each, TensorFlow 'same' padding: (k−1)//2 before, k//2 after);
  each conv → ReLU → batch-norm → max over frequency; concatenated: 561 features per frame;
* mid end: three 7-frame convolutions of 64 filters (ReLU, batch-norm), the 2nd and 3rd residual;
  front end and the three mid-end outputs concatenated: 753 features per frame;
* back end: max and mean over time, interleaved per feature (1,506), batch-norm, dense 200 +
  ReLU, batch-norm — the 200-d *penultimate* embedding — and dense 50: the tag logits.

Every batch-norm is y = (x − mean)/√(var + 1e-3)·γ + β (TensorFlow's epsilon).

:class:`MusicnnFrontend` reproduces the package's own extractor: ``librosa.feature.melspectrogram``
(n_fft 512, hop 256, 96 Slaney mels, power 2, centred, zero-padded) of 16 kHz mono audio, rounded to
float16 as the extractor stores it, then ``log10(10000·x + 1)``.

This module imports torch at its top; it is imported lazily, only where a model runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3
SAMPLE_RATE = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187
EMBEDDING_DIM = 200
N_TAGS = 50

# TensorFlow variable -> our parameter, for the checkpoint conversion (weights, then batch-norms).
_CONVS = {
    "conv2d": "timbral1",
    "conv2d_1": "timbral2",
    "conv2d_2": "temporal1",
    "conv2d_3": "temporal2",
    "conv2d_4": "temporal3",
    "conv2d_5": "mid1",
    "conv2d_6": "mid2",
    "conv2d_7": "mid3",
}
_NORMS = {
    "batch_normalization": "bn_input",
    "batch_normalization_1": "bn_timbral1",
    "batch_normalization_2": "bn_timbral2",
    "batch_normalization_3": "bn_temporal1",
    "batch_normalization_4": "bn_temporal2",
    "batch_normalization_5": "bn_temporal3",
    "batch_normalization_6": "bn_mid1",
    "batch_normalization_7": "bn_mid2",
    "batch_normalization_8": "bn_mid3",
    "batch_normalization_9": "bn_pool",
    "batch_normalization_10": "bn_penultimate",
}
_DENSES = {"dense": "penultimate", "dense_1": "tags"}


def tf_variable_names() -> list[str]:
    """Every checkpoint variable the model needs (the optimiser's slots are left out)."""
    names = [f"{tf}/{p}" for tf in _CONVS for p in ("kernel", "bias")]
    names += [f"{tf}/{p}" for tf in _NORMS for p in ("gamma", "beta", "moving_mean", "moving_variance")]
    names += [f"{tf}/{p}" for tf in _DENSES for p in ("kernel", "bias")]
    return names


def convert_tf_variables(variables: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """TensorFlow checkpoint arrays → our state dict (kernels from HWIO / (in, out) to torch layouts)."""
    state: dict[str, torch.Tensor] = {}

    def put(name: str, array: np.ndarray) -> None:
        state[name] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))

    for tf, ours in _CONVS.items():
        kernel = variables[f"{tf}/kernel"]  # (time, freq, in, out)
        if ours.startswith("mid"):  # conv2d over (time, features) with one input channel = conv1d
            put(f"{ours}.weight", kernel[:, :, 0, :].transpose(2, 1, 0))  # (out, features, time)
        else:
            put(f"{ours}.weight", kernel.transpose(3, 2, 0, 1))  # (out, in, time, freq)
        put(f"{ours}.bias", variables[f"{tf}/bias"])
    for tf, ours in _NORMS.items():
        put(f"{ours}.weight", variables[f"{tf}/gamma"])
        put(f"{ours}.bias", variables[f"{tf}/beta"])
        put(f"{ours}.running_mean", variables[f"{tf}/moving_mean"])
        put(f"{ours}.running_var", variables[f"{tf}/moving_variance"])
        state[f"{ours}.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    for tf, ours in _DENSES.items():
        put(f"{ours}.weight", variables[f"{tf}/kernel"].T)
        put(f"{ours}.bias", variables[f"{tf}/bias"])
    return state


def _bn1(n: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(n, eps=BN_EPS)


def _bn2(n: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(n, eps=BN_EPS)


class Musicnn(nn.Module):
    """(batch, 187, 96) log-mel patches → :meth:`forward`: (batch, 50) tag logits.

    :meth:`features` returns the intermediate outputs the TensorFlow model exposes
    (``mean``/``mx``: 753-d temporal pools, ``penultimate``: the 200-d embedding, ``logits``).
    Any number of frames ≥ 1 works (the model is fully convolutional up to the time pooling); it
    was trained on 187.
    """

    def __init__(self, n_mels: int = N_MELS, n_tags: int = N_TAGS, timbral: int = 204, temporal: int = 51) -> None:
        super().__init__()
        self.n_mels = n_mels
        self.bn_input = _bn2(1)
        self.timbral1 = nn.Conv2d(1, timbral, (7, int(0.4 * n_mels)))
        self.bn_timbral1 = _bn2(timbral)
        self.timbral2 = nn.Conv2d(1, timbral, (7, int(0.7 * n_mels)))
        self.bn_timbral2 = _bn2(timbral)
        self.temporal1 = nn.Conv2d(1, temporal, (128, 1))
        self.bn_temporal1 = _bn2(temporal)
        self.temporal2 = nn.Conv2d(1, temporal, (64, 1))
        self.bn_temporal2 = _bn2(temporal)
        self.temporal3 = nn.Conv2d(1, temporal, (32, 1))
        self.bn_temporal3 = _bn2(temporal)
        front = 2 * timbral + 3 * temporal
        self.mid1 = nn.Conv1d(front, 64, 7)
        self.bn_mid1 = _bn1(64)
        self.mid2 = nn.Conv1d(64, 64, 7)
        self.bn_mid2 = _bn1(64)
        self.mid3 = nn.Conv1d(64, 64, 7)
        self.bn_mid3 = _bn1(64)
        self.pooled_dim = 2 * (front + 3 * 64)
        self.bn_pool = _bn1(self.pooled_dim)
        self.penultimate = nn.Linear(self.pooled_dim, EMBEDDING_DIM)
        self.bn_penultimate = _bn1(EMBEDDING_DIM)
        self.tags = nn.Linear(EMBEDDING_DIM, n_tags)

    @staticmethod
    def _freq_max(x: torch.Tensor, conv: nn.Module, bn: nn.BatchNorm2d) -> torch.Tensor:
        """max over frequency of bn(relu(conv(x))) → (batch, filters, time).

        In inference ReLU and the batch-norm are monotonic per channel (increasing where the
        norm's scale γ/√(var+ε) is positive, decreasing where negative), so the maximum of
        bn(relu(y)) is bn(relu(max y)) or bn(relu(min y)): the same numbers, with the elementwise
        work done on (batch, filters, time) instead of (batch, filters, time, frequency).
        """
        y = conv(x)
        if bn.training:
            return bn(F.relu(y)).amax(dim=3)
        assert bn.running_var is not None and bn.weight is not None
        increasing = (bn.weight >= 0).view(1, -1, 1)
        picked = torch.where(increasing, y.amax(dim=3), y.amin(dim=3))
        return bn(F.relu(picked).unsqueeze(3)).squeeze(3)

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.dim() != 3 or x.shape[2] != self.n_mels:
            raise ValueError(f"expected (batch, frames, {self.n_mels}), got {tuple(x.shape)}")
        x = self.bn_input(x.unsqueeze(1))  # (batch, 1, time, freq)
        padded = F.pad(x, (0, 0, 3, 3))
        parts = [
            self._freq_max(padded, self.timbral1, self.bn_timbral1),
            self._freq_max(padded, self.timbral2, self.bn_timbral2),
        ]
        for conv, bn in ((self.temporal1, self.bn_temporal1), (self.temporal2, self.bn_temporal2),
                         (self.temporal3, self.bn_temporal3)):  # fmt: skip
            k = conv.kernel_size[0]
            parts.append(self._freq_max(F.pad(x, (0, 0, (k - 1) // 2, k // 2)), conv, bn))
        front = torch.cat(parts, dim=1)  # (batch, 561, time)
        m1 = self.bn_mid1(F.relu(self.mid1(F.pad(front, (3, 3)))))
        m2 = self.bn_mid2(F.relu(self.mid2(F.pad(m1, (3, 3))))) + m1
        m3 = self.bn_mid3(F.relu(self.mid3(F.pad(m2, (3, 3))))) + m2
        maps = torch.cat([front, m1, m2, m3], dim=1)  # (batch, 753, time)
        mx, mean = maps.amax(dim=2), maps.mean(dim=2)
        pooled = torch.stack([mx, mean], dim=2).flatten(1)  # interleaved: max0, mean0, max1, …
        pen = self.bn_penultimate(F.relu(self.penultimate(self.bn_pool(pooled))))
        return {"mx": mx, "mean": mean, "penultimate": pen, "logits": self.tags(pen)}

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The 200-d penultimate embedding."""
        return self.features(x)["penultimate"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)["logits"]


class MusicnnFrontend(nn.Module):
    """(batch, samples) 16 kHz waveforms → (batch, frames, 96) inputs as musicnn's extractor makes them."""

    window: torch.Tensor
    mel_basis: torch.Tensor

    def __init__(self, sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, hop_length: int = HOP,
                 n_mels: int = N_MELS) -> None:  # fmt: skip
        super().__init__()
        import librosa.filters  # only for the filterbank

        self.n_fft, self.hop_length = n_fft, hop_length
        mel = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels)  # Slaney scale and norm
        self.register_buffer("mel_basis", torch.from_numpy(mel).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True, dtype=torch.float64), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if waveform.dim() != 2:
            raise ValueError(f"expected (batch, samples), got shape {tuple(waveform.shape)}")
        wave = waveform.float()
        spectrum = torch.stft(wave, n_fft=self.n_fft, hop_length=self.hop_length, window=self.window.float(),
                              center=True, pad_mode="constant", return_complex=True)  # fmt: skip
        power = spectrum.real.square() + spectrum.imag.square()
        mel = torch.matmul(self.mel_basis, power)  # (batch, mels, frames)
        mel = mel.clamp(max=65504.0).half().float()  # the extractor stores float16
        return torch.log10(10000.0 * mel + 1.0).transpose(1, 2)


def patch_count(samples: int, hop_length: int = HOP, frames: int = PATCH_FRAMES) -> int:
    """How many whole ``frames``-frame patches the extractor cuts from ``samples`` samples (at least one)."""
    total = 1 + samples // hop_length
    return max(1, (total - frames) // frames + 1) if total >= frames else 1


def patches(mel: torch.Tensor, frames: int = PATCH_FRAMES) -> torch.Tensor:
    """(batch, T, mels) → (batch · n, frames, mels): consecutive non-overlapping patches, as the
    extractor cuts them (a remainder shorter than a patch is dropped; a clip shorter than one patch
    is zero-padded at the end)."""
    b, t, m = mel.shape
    if t < frames:
        return F.pad(mel, (0, 0, 0, frames - t))
    n = (t - frames) // frames + 1
    return mel[:, : n * frames].reshape(b * n, frames, m)


def build(params: dict[str, Any]) -> Musicnn:
    """Architecture registry entry (``musictagger.ml.packs.ARCHITECTURES``)."""
    return Musicnn(n_mels=int(params.get("n_mels", N_MELS)), n_tags=int(params.get("n_labels", N_TAGS)))
