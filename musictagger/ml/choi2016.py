"""Import the published Choi et al. 2016 music-tagging CRNN (Keras weights, MIT) as a model pack.

Keunwoo Choi released ``music_tagger_crnn_weights_tensorflow.h5`` (HDF5 written by Keras 1) with
the paper "Convolutional Recurrent Neural Networks for Music Classification" (ICASSP 2017,
arXiv:1609.04243): 50 Million Song Dataset tags from 29.12 s of 12 kHz audio. We read the HDF5
with h5py — plain arrays, no pickle, no Keras — map each array onto
:class:`musictagger.ml.crnn.Choi2016CRNN` and write a pack (safetensors + manifest + model card)
into the user's model folder. The converted weights are never shipped with musictagger: users
import them from their own copy of the file.

How the stored arrays are read (checked against the authors' reference outputs):

* conv kernels are (out, in, h, w) and already in correlation form: used as they are;
* every batch norm's ``running_std`` holds the **variance** (Keras 1 naming);
* GRU matrices are (in, units) per gate z, r, h: transposed and stacked;
* the dense layer (32, 50): transposed.

The front end that reproduces the authors' inputs is recorded in the manifest: 12 kHz mono,
``n_fft`` 512, hop 256, 96 Slaney mel bands up to 6 kHz from the power spectrogram, then
``10·log10(mel²)`` (our multiplier 20, amin 1e-5) relative to 1.0, floored 80 dB below the
maximum; STFT frames centred with reflect padding (the librosa of 2016).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musictagger.errors import PackError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    import torch

    from musictagger.ml.packs import ModelPack

#: The 50 MSD tags in the order of the model's outputs (as published in tags.txt).
TAGS: tuple[str, ...] = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic", "experimental",
    "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy",
    "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop",
    "sad", "House", "happy",
)  # fmt: skip

#: What the manifest's ``input`` says: the authors' preprocessing, re-expressed for our front end.
INPUT_SPEC: dict[str, Any] = {
    "sample_rate": 12000,
    "n_fft": 512,
    "hop_length": 256,
    "n_mels": 96,
    "fmin": 0.0,
    "fmax": 6000.0,
    "mel_htk": False,
    "mel_norm": "slaney",
    "power": 2.0,
    "pad_mode": "reflect",
    "log": {"type": "db", "ref": 1.0, "top_db": 80.0, "amin": 1e-5, "multiplier": 20.0},
    "clip_seconds": 29.12,
    "frames": 1366,
    "excerpts": {"count": 3, "positions": [0.25, 0.5, 0.75]},
}

ARCHITECTURE: dict[str, Any] = {
    "name": "choi2016_crnn",
    "params": {"n_labels": 50, "n_mels": 96, "frames": 1366, "pad": 37, "output": "logits"},
}

#: No calibration set exists for these 50 tags in a user's library. The model's probabilities are
#: low (MSD tags are sparse: the top tag of a clip is often 0.2–0.5), so a flat 0.2 flags the
#: clear cases; users and the fusion step can tune it.
DEFAULT_THRESHOLD = 0.2

SOURCE_URL = "https://github.com/keunwoochoi/music-auto_tagging-keras"
CITATION = (
    "Keunwoo Choi, György Fazekas, Mark Sandler, Kyunghyun Cho. Convolutional Recurrent Neural "
    "Networks for Music Classification. ICASSP 2017. arXiv:1609.04243."
)

_LAYERS = ("bn_0_freq", "conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "conv4", "bn4", "gru1", "gru2", "output")


def describe() -> str:
    """A short paragraph for the CLI: what importing this model gives the user."""
    return (
        "Choi et al. 2016 CRNN (MusicTaggerCRNN, MIT licence): 50 Million Song Dataset tags "
        "(genres such as rock, jazz, metal, Hip-Hop; moods; decades; instrumentation) from "
        "29.12 s of 12 kHz audio. Import it from your copy of "
        "music_tagger_crnn_weights_tensorflow.h5 (" + SOURCE_URL + "); it is converted to a "
        "local model pack and never uploaded or bundled."
    )


def _read_h5(h5_path: Path) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {short weight name: array}} for the layers that carry weights."""
    import h5py
    import numpy as np

    try:
        with h5py.File(h5_path, "r") as f:
            layers: dict[str, dict[str, np.ndarray]] = {}
            for layer in _LAYERS:
                if layer not in f:
                    raise PackError(f"{h5_path}: no layer {layer!r}; is this the MusicTaggerCRNN weight file?")
                group = f[layer]
                weights = {}
                for raw in group.attrs.get("weight_names", []):
                    full = raw.decode() if isinstance(raw, bytes) else str(raw)
                    # "bn1_running_std_1:0" → "running_std"; "gru1_W_z:0" → "W_z"
                    short = full.split(":")[0][len(layer) + 1 :]
                    short = short[:-2] if short.endswith("_1") else short
                    weights[short] = np.asarray(group[full], dtype=np.float32)
                layers[layer] = weights
            return layers
    except OSError as exc:
        raise PackError(f"{h5_path}: cannot read the Keras weight file ({exc})") from exc
    except KeyError as exc:
        raise PackError(f"{h5_path}: the weight file lacks an expected array ({exc})") from exc


def _array(layers: Mapping[str, Mapping[str, np.ndarray]], layer: str, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        array = layers[layer][name]
    except KeyError:
        raise PackError(f"the weight file has no {layer}/{name}") from None
    if array.shape != shape:
        raise PackError(f"{layer}/{name} has shape {array.shape}, expected {shape}")
    return array


def convert_state_dict(layers: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """The Keras arrays as a state dict of :class:`~musictagger.ml.crnn.Choi2016CRNN`."""
    import numpy as np
    import torch

    def t(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))

    state: dict[str, torch.Tensor] = {}

    def batch_norm(prefix: str, layer: str, size: int) -> None:
        state[f"{prefix}.weight"] = t(_array(layers, layer, "gamma", (size,)))
        state[f"{prefix}.bias"] = t(_array(layers, layer, "beta", (size,)))
        state[f"{prefix}.running_mean"] = t(_array(layers, layer, "running_mean", (size,)))
        state[f"{prefix}.running_var"] = t(_array(layers, layer, "running_std", (size,)))  # a variance
        state[f"{prefix}.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)

    batch_norm("time_norm", "bn_0_freq", 1440)
    channels = (1, 64, 128, 128, 128)
    for i in range(4):
        out, inp = channels[i + 1], channels[i]
        state[f"convs.{i}.weight"] = t(_array(layers, f"conv{i + 1}", "W", (out, inp, 3, 3)))
        state[f"convs.{i}.bias"] = t(_array(layers, f"conv{i + 1}", "b", (out,)))
        batch_norm(f"norms.{i}", f"bn{i + 1}", out)
    for name, size in (("gru1", 128), ("gru2", 32)):
        gates = "zrh"
        state[f"{name}.weight_ih"] = t(np.concatenate([_array(layers, name, f"W_{g}", (size, 32)).T for g in gates]))
        state[f"{name}.weight_hh"] = t(np.concatenate([_array(layers, name, f"U_{g}", (32, 32)).T for g in gates]))
        state[f"{name}.bias"] = t(np.concatenate([_array(layers, name, f"b_{g}", (32,)) for g in gates]))
    state["output.weight"] = t(_array(layers, "output", "W", (32, 50)).T)
    state["output.bias"] = t(_array(layers, "output", "b", (50,)))
    return state


def label_map(tags: tuple[str, ...] = TAGS) -> dict[str, list[str]]:
    """Each tag that names a style in our taxonomy → its taxonomy ids (moods, decades and
    instruments have no entry)."""
    from musictagger.taxonomy import Taxonomy

    taxonomy = Taxonomy.default()
    mapped = {tag: list(taxonomy.normalise(tag)) for tag in tags}
    return {tag: ids for tag, ids in mapped.items() if ids}


def model_card(*, h5_name: str, sha256: str, mapped: Mapping[str, list[str]]) -> str:
    mapped_lines = "\n".join(f"| {tag} | {', '.join(ids)} |" for tag, ids in mapped.items())
    return f"""# Choi et al. 2016 CRNN — Million Song Dataset top-50 tags

Imported from the authors' published Keras weights (`{h5_name}`, sha256 `{sha256}`),
{SOURCE_URL}. Licence: **MIT** (© 2016 Keunwoo Choi). This pack was converted on your machine by
musictagger; the weights are not part of musictagger.

Cite: {CITATION}

## What it does

A convolutional-recurrent network (4 conv blocks, two GRU(32) layers) that reads a 29.12 s
excerpt at 12 kHz (96 mel bands, 1366 frames) and gives an independent probability for each of
the 50 most frequent Last.fm tags of the Million Song Dataset: genres (rock, pop, jazz, metal,
heavy metal, Hip-Hop, punk, folk, blues, country, electronic, House, …), moods (beautiful,
Mellow, chill, sad, happy, sexy, catchy), decades (60s–00s), voice (female/male vocalists) and
instrumentation (guitar, acoustic, instrumental). musictagger reads 3 excerpts (25/50/75 % of a
track) and averages them; the authors used one centre crop.

## Check against the authors

Fed the authors' own mel inputs for their four demo clips, this pack reproduces their published
top-10 probabilities to better than 0.001. From our own decoding of the same MP3s the inputs differ
by about 1.5–4 dB (decoder and resampler differ from 2016's) and the top tag agrees on most clips.

## Limits

* Tags are the crowd's Last.fm tags of 2011-era, mostly Anglo-American pop and rock; genres
  outside that world (and metal subgenres in particular) are at best "metal" / "heavy metal".
* Probabilities are low and uncalibrated for your library; the thresholds in the manifest are a
  flat {DEFAULT_THRESHOLD} (no calibration data) — tune them or rely on the fusion step.
* Near-duplicate tags ("female vocalist" / "female vocalists", "chill" / "chillout") split their
  mass; decade tags describe production style, not release year.

## Tags that map onto our taxonomy

| tag | taxonomy ids |
|---|---|
{mapped_lines}
"""


def import_choi2016(
    h5_path: str | os.PathLike[str],
    *,
    name: str = "choi2016-msd",
    dest_dir: str | os.PathLike[str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> ModelPack:
    """Convert the published Keras weight file into a model pack and return it.

    The pack goes to ``dest_dir / name``, by default the user model folder
    (``musictagger.paths.app_dirs().models``). An existing pack of that name is replaced. Raises
    :class:`PackError` if the file is not the MusicTaggerCRNN weight file.
    """
    from musictagger.ml.packs import save_pack

    h5_path = Path(h5_path).expanduser()
    if not h5_path.is_file():
        raise PackError(f"{h5_path}: no such file")
    if dest_dir is None:
        from musictagger.paths import app_dirs

        dest_dir = app_dirs().models
    layers = _read_h5(h5_path)
    state = convert_state_dict(layers)
    sha256 = hashlib.sha256(h5_path.read_bytes()).hexdigest()
    mapped = label_map()
    manifest = {
        "name": name,
        "version": "1.0.0",
        "kind": "audio",
        "description": "Choi et al. 2016 CRNN: 50 Million Song Dataset tags (genres, moods, decades, "
        "instrumentation), imported from the authors' published Keras weights.",
        "labels": list(TAGS),
        "label_space": "free",
        "label_map": mapped,
        "thresholds": {tag: threshold for tag in TAGS},
        "input": INPUT_SPEC,
        "architecture": ARCHITECTURE,
        "metrics": {},
        "training": {
            "by": "the authors (Choi et al. 2016), on the Million Song Dataset with Last.fm tags",
            "imported_from": h5_path.name,
            "source_sha256": sha256,
            "source_url": SOURCE_URL,
            "citation": CITATION,
        },
        "license": "MIT",
    }
    card = model_card(h5_name=h5_path.name, sha256=sha256, mapped=mapped)
    return save_pack(Path(dest_dir) / name, manifest, state, card)
