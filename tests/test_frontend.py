"""musictagger.ml.frontend: the torch log-mel front end against librosa, the reference recipe."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from musictagger.ml.frontend import MelSpectrogram

SR = 12000


def music_like(seconds: float = 4.0, seed: int = 1) -> np.ndarray:
    """A gliding tone with decaying noise bursts: energy spread over bands and 80 dB of range."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(SR * seconds)) / SR
    glide = 0.3 * np.sin(2 * np.pi * 220 * t * (1 + 0.2 * t))
    bursts = 0.1 * rng.standard_normal(len(t)) * np.exp(-8 * (t % 0.5))
    return (glide + bursts).astype(np.float64)


def librosa_db(y, *, n_fft=512, hop=256, n_mels=96, pad_mode="constant", ref=1.0, squared=False, **mel):
    S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=n_fft, hop_length=hop, n_mels=n_mels, pad_mode=pad_mode, **mel)
    if squared:  # Choi et al.: 10·log10(mel²)
        return librosa.power_to_db(S**2, ref=1.0, amin=1e-10, top_db=80.0)
    return librosa.power_to_db(S, ref=np.max if ref == "max" else ref, amin=1e-10, top_db=80.0)


SPEC = {
    "sample_rate": SR, "n_fft": 512, "hop_length": 256, "n_mels": 96, "fmin": 0.0, "fmax": 6000.0,
    "mel_htk": False, "mel_norm": "slaney", "power": 2.0,
    "log": {"type": "db", "ref": 1.0, "top_db": 80.0, "amin": 1e-10, "multiplier": 10.0},
}  # fmt: skip


@pytest.mark.parametrize(
    "changes, reference",
    [
        ({}, {}),
        ({"log": {**SPEC["log"], "ref": "max"}}, {"ref": "max"}),
        ({"pad_mode": "reflect"}, {"pad_mode": "reflect"}),
        (
            {"mel_htk": True, "mel_norm": None, "fmin": 30.0, "fmax": 5000.0},
            {"htk": True, "norm": None, "fmin": 30.0, "fmax": 5000.0},
        ),
        (
            {"log": {**SPEC["log"], "amin": 1e-5, "multiplier": 20.0}, "pad_mode": "reflect"},
            {"squared": True, "pad_mode": "reflect"},
        ),
    ],
)
def test_matches_librosa_in_float64(changes, reference):
    y = music_like()
    expected = librosa_db(y, **reference)
    frontend = MelSpectrogram.from_spec({**SPEC, **changes}).double()
    got = frontend(torch.from_numpy(y)[None])
    assert got.shape == (1, 1, 96, 1 + len(y) // 256) == (1, 1, *expected.shape)
    assert np.abs(got[0, 0].numpy() - expected).max() <= 1e-4


def test_float32_power_matches_librosa():
    y = music_like().astype(np.float32)
    expected = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=256, n_mels=96)
    frontend = MelSpectrogram.from_spec(SPEC)
    power = frontend.mel_power(torch.from_numpy(y)[None])[0].numpy()
    assert np.abs(power - expected).max() <= 1e-5 * expected.max()
    db = frontend(torch.from_numpy(y)[None])[0, 0].numpy()
    assert np.abs(db - librosa.power_to_db(expected, top_db=80.0)).max() < 0.01


def test_batch_examples_are_independent_with_ref_max():
    """ref "max" and the top_db floor are per example: a loud neighbour changes nothing."""
    y = music_like()
    frontend = MelSpectrogram.from_spec({**SPEC, "log": {**SPEC["log"], "ref": "max"}}).double()
    alone = frontend(torch.from_numpy(y)[None])
    batch = frontend(torch.from_numpy(np.stack([y, 100 * music_like(seed=2)])))
    assert batch.shape == (2, 1, 96, alone.shape[-1])
    assert torch.allclose(batch[0], alone[0], atol=1e-9)
    assert batch[0].max().item() == pytest.approx(0.0, abs=1e-9)
    assert batch[0].min().item() == pytest.approx(-80.0, abs=1e-9)


def test_buffers_are_not_state_and_follow_the_device():
    frontend = MelSpectrogram.from_spec(SPEC)
    assert frontend.state_dict() == {}
    assert {name for name, _ in frontend.named_buffers()} == {"window", "mel_basis"}
    assert frontend.frames(349440) == 1366
    with pytest.raises(ValueError):
        frontend(torch.zeros(1, 1, 100))
    if torch.cuda.is_available():  # pragma: no cover - only where a GPU is present
        out = frontend.cuda()(torch.from_numpy(music_like().astype(np.float32))[None].cuda())
        assert out.is_cuda
