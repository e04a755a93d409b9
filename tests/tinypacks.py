"""Tiny real model packs for tests: real architectures, real safetensors, biases set so that the
outputs are known (a label the test wants suggested gets a high probability).

``make_cover_pack(dest, {"black-metal": 4.0, "jazz": -4.0})`` builds a cover_cnn whose classifier
weights are zero and whose biases are the given logits: whatever the cover, p = sigmoid(bias).
"""

from __future__ import annotations

from pathlib import Path

COVER_INPUT = {
    "size": 32,
    "resize": "shorter_side_then_center_crop",
    "mean": [0.5, 0.5, 0.5],
    "std": [0.25, 0.25, 0.25],
}

AUDIO_INPUT = {
    "sample_rate": 8000,
    "n_fft": 256,
    "hop_length": 128,
    "n_mels": 32,
    "fmin": 0.0,
    "fmax": 4000.0,
    "mel_htk": False,
    "mel_norm": "slaney",
    "power": 2.0,
    "log": {"type": "db", "ref": 1.0, "top_db": 80.0, "amin": 1e-10, "multiplier": 10.0},
    "clip_seconds": 1.0,
    "frames": 63,
    "excerpts": {"count": 2, "positions": [0.25, 0.75]},
}


def _manifest(name: str, kind: str, labels, arch: dict, inp: dict, ap: dict | None = None) -> dict:
    return {
        "format_version": 1,
        "name": name,
        "version": "0.0.1",
        "kind": kind,
        "labels": list(labels),
        "label_space": "taxonomy",
        "input": inp,
        "architecture": arch,
        "thresholds": {label: 0.5 for label in labels},
        "metrics": {"per_label_ap": ap or {label: 0.8 for label in labels}},
        "training": {"source": "tests"},
        "license": "CC0-1.0",
        "description": "tiny test pack",
    }


def make_cover_pack(dest: Path, logits: dict[str, float], *, name: str = "tiny-cover", ap: dict | None = None):
    import torch

    from musictagger.ml.cover_cnn import build
    from musictagger.ml.packs import save_pack

    labels = list(logits)
    params = {"n_labels": len(labels), "widths": [4, 8], "dropout": 0.0, "in_size": 32}
    torch.manual_seed(0)
    model = build(params)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([logits[k] for k in labels]))
    return save_pack(
        dest / name,
        _manifest(name, "cover", labels, {"name": "cover_cnn", "params": params}, COVER_INPUT, ap),
        model.state_dict(),
        "# tiny cover test pack\n",
    )


def make_audio_pack(dest: Path, logits: dict[str, float], *, name: str = "tiny-audio", ap: dict | None = None):
    import torch

    from musictagger.ml.crnn import build
    from musictagger.ml.packs import save_pack

    labels = list(logits)
    params = {
        "n_labels": len(labels),
        "n_mels": 32,
        "frames": 63,
        "conv_widths": [4, 4, 4, 4],
        "pools": [[2, 2], [2, 2], [2, 2], [2, 2]],
        "gru_width": 4,
        "dropout": 0.0,
    }
    torch.manual_seed(0)
    model = build(params)
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([logits[k] for k in labels]))
    return save_pack(
        dest / name,
        _manifest(name, "audio", labels, {"name": "crnn", "params": params}, AUDIO_INPUT, ap),
        model.state_dict(),
        "# tiny audio test pack\n",
    )
