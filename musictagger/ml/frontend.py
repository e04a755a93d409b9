"""The log-mel front end of the audio models, in torch so that it runs where the model runs.

:class:`MelSpectrogram` is built from a pack manifest's ``input`` spec and reproduces
``librosa.power_to_db(librosa.feature.melspectrogram(...))`` — the recipe every audio model we
train or import was made with — to float precision (see tests/test_frontend.py):

1. STFT with a periodic Hann window, ``center=True`` and, like librosa ≥ 0.10, zero ("constant")
   padding by default; ``pad_mode: "reflect"`` reproduces older librosa (what Choi et al. used).
2. ``|STFT| ** power`` (power 2: a power spectrogram).
3. A mel filterbank from ``librosa.filters.mel`` (Slaney or HTK scale, Slaney area normalisation
   or none), computed once at construction and kept as a buffer.
4. Decibels: ``multiplier · log10(max(amin, S)) − multiplier · log10(max(amin, ref))`` where
   ``ref`` is 1.0 or the maximum of each example (``"max"``), then, per example, everything more
   than ``top_db`` below the example's maximum is raised to that floor.

Multiplier 10 is librosa's ``power_to_db``. Multiplier 20 on a power spectrogram is
``10·log10(S²)`` — the log of the *squared* mel power that Choi et al. 2016 fed their CRNN — with
``amin`` then applying to ``S`` rather than ``S²`` (so amin 1e-5 there is their 1e-10).

This module imports torch at its top; it is imported lazily, only where a model is run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import torch
from torch import nn


class MelSpectrogram(nn.Module):
    """(batch, samples) waveforms → (batch, 1, n_mels, frames) log-mel spectrograms.

    The window and filterbank are non-persistent buffers: they move with ``.to(device)`` but are
    not part of any state dict (they follow from the spec alone). Output dtype follows the input's.
    """

    window: torch.Tensor
    mel_basis: torch.Tensor

    def __init__(
        self,
        *,
        sample_rate: int,
        n_fft: int,
        hop_length: int,
        n_mels: int,
        fmin: float = 0.0,
        fmax: float | None = None,
        mel_htk: bool = False,
        mel_norm: Literal["slaney"] | None = "slaney",
        power: float = 2.0,
        pad_mode: str = "constant",
        log_ref: float | str = 1.0,
        top_db: float | None = 80.0,
        amin: float = 1e-10,
        multiplier: float = 10.0,
    ) -> None:
        super().__init__()
        import librosa.filters  # only here: librosa is heavy and needed only for the filterbank

        if log_ref != "max" and not (isinstance(log_ref, (int, float)) and log_ref > 0):
            raise ValueError(f'log ref must be "max" or a positive number, not {log_ref!r}')
        if pad_mode not in ("constant", "reflect"):
            raise ValueError(f'pad_mode must be "constant" or "reflect", not {pad_mode!r}')
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.power = float(power)
        self.pad_mode = pad_mode
        self.log_ref = log_ref
        self.top_db = None if top_db is None else float(top_db)
        self.amin = float(amin)
        self.multiplier = float(multiplier)
        mel = librosa.filters.mel(
            sr=sample_rate,
            n_fft=n_fft,
            n_mels=n_mels,
            fmin=fmin,
            fmax=fmax,
            htk=mel_htk,
            norm=mel_norm,
        )
        self.register_buffer("mel_basis", torch.from_numpy(mel).float(), persistent=False)
        # float64, cast per call: a float32 window alone costs ~0.002 dB 80 dB below the peak.
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
        self.register_buffer("window", window, persistent=False)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> MelSpectrogram:
        """The front end a manifest ``input`` spec describes (see :mod:`musictagger.ml.packs`)."""
        log = spec.get("log") or {}
        if log.get("type", "db") != "db":
            raise ValueError(f"unsupported log type {log.get('type')!r}")
        return cls(
            sample_rate=int(spec["sample_rate"]),
            n_fft=int(spec["n_fft"]),
            hop_length=int(spec["hop_length"]),
            n_mels=int(spec["n_mels"]),
            fmin=float(spec.get("fmin", 0.0)),
            fmax=spec.get("fmax"),
            mel_htk=bool(spec.get("mel_htk", False)),
            mel_norm=spec.get("mel_norm", "slaney"),
            power=float(spec.get("power", 2.0)),
            pad_mode=spec.get("pad_mode", "constant"),
            log_ref=log.get("ref", 1.0),
            top_db=log.get("top_db", 80.0),
            amin=float(log.get("amin", 1e-10)),
            multiplier=float(log.get("multiplier", 10.0)),
        )

    def frames(self, samples: int) -> int:
        """How many frames ``samples`` samples give (centred STFT)."""
        return 1 + samples // self.hop_length

    def mel_power(self, waveform: torch.Tensor) -> torch.Tensor:
        """(batch, samples) → (batch, n_mels, frames) mel spectrogram before the log."""
        spectrum = torch.stft(
            waveform,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=self.window.to(waveform.dtype),
            center=True,
            pad_mode=self.pad_mode,
            return_complex=True,
        )
        magnitude = spectrum.abs()
        power = magnitude.square() if self.power == 2.0 else magnitude.pow(self.power)
        return torch.matmul(self.mel_basis.to(power.dtype), power)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if waveform.dim() != 2:
            raise ValueError(f"expected (batch, samples), got shape {tuple(waveform.shape)}")
        mel = self.mel_power(waveform)
        db = self.multiplier * torch.log10(mel.clamp(min=self.amin))
        if self.log_ref == "max":
            ref = mel.amax(dim=(1, 2), keepdim=True).clamp(min=self.amin)
            db = db - self.multiplier * torch.log10(ref)
        else:
            db = db - self.multiplier * math.log10(max(self.amin, float(self.log_ref)))
        if self.top_db is not None:
            floor = db.amax(dim=(1, 2), keepdim=True) - self.top_db
            db = torch.maximum(db, floor)
        return db.unsqueeze(1)


def build_frontend(spec: Mapping[str, Any]) -> nn.Module:
    """The front end a pack's ``input`` spec names: ``"mel_db"`` (default) or ``"musicnn"``."""
    if spec.get("frontend", "mel_db") == "musicnn":
        from musictagger.ml.musicnn import MusicnnFrontend

        return MusicnnFrontend(
            int(spec["sample_rate"]), int(spec["n_fft"]), int(spec["hop_length"]), int(spec["n_mels"])
        )
    return MelSpectrogram.from_spec(spec)
