"""Model packs: a trained model as a self-describing folder, and where packs are found.

A pack is a folder holding exactly what is needed to run a model, and nothing executable::

    covers-v2/
        manifest.json        what the model is: labels, input spec, architecture, thresholds,
                             metrics, training summary, sha256 of the weights, licence, and the
                             pretrained backbones it builds on (name + sha256), if any
        weights.safetensors  the state dict (safetensors: plain tensors, never pickle) — for a
                             pack on a backbone, only the pack's own tensors (its head)
        MODEL_CARD.md        the human story: data, intended use, limits, evaluation

Three parts: :mod:`.manifest` (the validated :class:`PackManifest`), :mod:`.store` (the
:class:`ModelPack` on disk, loading and atomic saving) and :mod:`.discovery` (bundled, user and
named packs). Importing this package does not import torch.
"""

from musictagger.ml.packs.discovery import (
    bundled_models_dir,
    find_pack,
    find_packs,
    find_packs_with_problems,
)
from musictagger.ml.packs.manifest import (
    ARCHITECTURES,
    DEFAULT_LABEL_QUALITY,
    DEFAULT_THRESHOLD,
    FORMAT_VERSION,
    KINDS,
    BackboneRef,
    PackKind,
    PackManifest,
    validate_manifest,
)
from musictagger.ml.packs.store import (
    MANIFEST_FILE,
    MODEL_CARD_FILE,
    PICKLE_SUFFIXES,
    WEIGHTS_FILE,
    ModelPack,
    build_model,
    load_pack,
    save_pack,
)

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_LABEL_QUALITY",
    "DEFAULT_THRESHOLD",
    "FORMAT_VERSION",
    "KINDS",
    "PackKind",
    "MANIFEST_FILE",
    "MODEL_CARD_FILE",
    "PICKLE_SUFFIXES",
    "WEIGHTS_FILE",
    "BackboneRef",
    "ModelPack",
    "PackManifest",
    "build_model",
    "bundled_models_dir",
    "find_pack",
    "find_packs",
    "find_packs_with_problems",
    "load_pack",
    "save_pack",
    "validate_manifest",
]
