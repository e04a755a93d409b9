"""A model pack on disk: :class:`ModelPack`, and reading and writing pack folders safely.

Loading a pack checks the manifest field by field (:class:`~musictagger.ml.packs.PackManifest`),
checks the weights against the manifest's sha256 (a tampered or half-copied file is refused) and
checks that the file really is safetensors. :meth:`ModelPack.load_model` builds the architecture
named in the manifest and loads the weights strictly — every key and every shape must match. A
pack that builds on a pretrained backbone (``manifest.backbones``) stores only its own tensors
(the head); the backbones' come from :mod:`musictagger.ml.backbones`, verified against the
sha256 the pack names, under the ``backbones.<i>.`` prefix of the model's state dict.

Pickle-based checkpoints (``.pt``, ``.pth``, ``.bin``, ``.ckpt``, ``.pkl``) are never opened,
because unpickling runs arbitrary code; a folder that only has one gets a clear refusal.

Importing this module does not import torch; torch is imported inside :meth:`ModelPack.load_model`
and :func:`save_pack` only.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musictagger.errors import PackError
from musictagger.ml.packs.manifest import (
    ARCHITECTURES,
    DEFAULT_LABEL_QUALITY,
    DEFAULT_THRESHOLD,
    FORMAT_VERSION,
    PackKind,
    PackManifest,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

MANIFEST_FILE = "manifest.json"
WEIGHTS_FILE = "weights.safetensors"
MODEL_CARD_FILE = "MODEL_CARD.md"
BACKBONE_PREFIX = "backbones."  # the model's ``backbones.<i>.*`` tensors come from manifest.backbones[i]

# Checkpoint formats that are (or may be) pickles. We never open them: unpickling executes code.
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")

_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_MAX_SAFETENSORS_HEADER = 64 * 1024 * 1024


@dataclass(frozen=True)
class ModelPack:
    """A validated pack on disk. Cheap: the weights are only read by :meth:`load_model`."""

    path: Path
    manifest: PackManifest
    bundled: bool = False

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def kind(self) -> PackKind:
        return self.manifest.kind

    @property
    def labels(self) -> list[str]:
        return list(self.manifest.labels)

    @property
    def label_space(self) -> str:
        return self.manifest.label_space

    @property
    def label_map(self) -> dict[str, list[str]]:
        """For free label spaces: tag -> taxonomy ids it stands for (empty when not given)."""
        return {tag: list(ids) for tag, ids in self.manifest.label_map.items()}

    @property
    def thresholds(self) -> dict[str, float]:
        """Decision threshold for every label (``DEFAULT_THRESHOLD`` where the manifest has none)."""
        given = self.manifest.thresholds
        return {label: float(given.get(label, DEFAULT_THRESHOLD)) for label in self.manifest.labels}

    @property
    def input(self) -> dict:
        return json.loads(json.dumps(self.manifest.input))

    @property
    def architecture(self) -> dict:
        return json.loads(json.dumps(self.manifest.architecture))

    @property
    def metrics(self) -> dict:
        return json.loads(json.dumps(self.manifest.metrics))

    @property
    def training(self) -> dict:
        return json.loads(json.dumps(self.manifest.training))

    @property
    def sha256(self) -> str:
        return self.manifest.sha256

    @property
    def license(self) -> str:
        return self.manifest.license

    @property
    def description(self) -> str:
        return self.manifest.description

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS_FILE

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    def taxonomy_ids(self) -> list[list[str]]:
        """For each model output, in order, the taxonomy ids it stands for.

        A taxonomy pack's output *i* is ``[labels[i]]``; a free-tag pack's output is whatever its
        ``label_map`` says (``[]`` for a tag that maps to nothing we know).
        """
        if self.label_space == "taxonomy":
            return [[label] for label in self.manifest.labels]
        label_map = self.manifest.label_map
        return [list(label_map.get(tag, [])) for tag in self.manifest.labels]

    def label_quality(self) -> dict[str, float]:
        """Per-label validation quality, the weight fusion gives this model's opinion on a label.

        ``metrics.per_label_ap`` (average precision on held-out data) where measured, else
        ``DEFAULT_LABEL_QUALITY``.
        """
        ap = self.manifest.metrics.get("per_label_ap", {})
        return {
            label: float(ap[label]) if ap.get(label) is not None else DEFAULT_LABEL_QUALITY
            for label in self.manifest.labels
        }

    def model_card(self) -> str:
        try:
            return (self.path / MODEL_CARD_FILE).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PackError(f"{self.path}: cannot read {MODEL_CARD_FILE}: {exc}") from exc

    def load_model(self, device: str | torch.device = "cpu") -> torch.nn.Module:
        """Build the architecture, load the weights strictly, and return it in eval mode on ``device``.

        The weights are read once and hashed before use, so what is loaded is exactly what the
        manifest vouches for even if the file changed since :func:`load_pack`. A backbone the pack
        builds on is converted on first use and must be the one the pack names (its sha256).
        """
        from safetensors import SafetensorError
        from safetensors.torch import load as load_safetensors

        try:
            blob = self.weights_path.read_bytes()
        except OSError as exc:
            raise PackError(f"{self.path}: cannot read {WEIGHTS_FILE}: {exc}") from exc
        if hashlib.sha256(blob).hexdigest() != self.sha256:
            raise PackError(f"{self.path}: weights do not match the manifest's sha256 (changed or damaged)")
        try:
            state = dict(load_safetensors(blob))
        except (SafetensorError, ValueError, RuntimeError) as exc:
            raise PackError(f"{self.path}: {WEIGHTS_FILE} is not a valid safetensors file: {exc}") from exc
        try:
            model = build_model(self.manifest.architecture, n_labels=len(self.manifest.labels))
        except PackError as exc:
            raise PackError(f"{self.path}: {exc}") from None
        if self.manifest.backbones:
            from musictagger.ml.backbones import load_backbone_state

            if any(k.startswith(BACKBONE_PREFIX) for k in state):
                raise PackError(f"{self.path}: its weights carry backbone tensors; a pack stores only its own")
            for i, ref in enumerate(self.manifest.backbones):
                backbone = load_backbone_state(ref.name, ref.sha256, needed_by=f"model pack {self}")
                state.update({f"{BACKBONE_PREFIX}{i}.{k}": v for k, v in backbone.items()})
        _check_state_dict(self.path, model, state)
        model.load_state_dict(state, strict=True)
        return model.eval().to(device)


def build_model(architecture: Mapping[str, Any], *, n_labels: int) -> torch.nn.Module:
    """An untrained model for ``architecture`` ({name, params}) from the registry.

    ``n_labels`` fills ``params["n_labels"]`` when the manifest leaves it out.
    """
    name = architecture["name"]
    if name not in ARCHITECTURES:
        raise PackError(f"unknown architecture {name!r} (known: {', '.join(sorted(ARCHITECTURES))})")
    module_name, function_name = ARCHITECTURES[name]
    builder = getattr(importlib.import_module(module_name), function_name)
    params = dict(architecture.get("params", {}))
    params.setdefault("n_labels", n_labels)
    try:
        return builder(params)
    except (TypeError, ValueError, KeyError) as exc:
        raise PackError(f"architecture {name!r} cannot be built from params {params!r}: {exc}") from exc


def _check_state_dict(where: Path, model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Refuse weights whose keys or shapes differ from the model's, with a readable summary."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    problems = []
    missing = sorted(expected.keys() - got.keys())
    unexpected = sorted(got.keys() - expected.keys())
    if missing:
        problems.append(f"missing {len(missing)} tensors ({', '.join(missing[:5])}{'…' if len(missing) > 5 else ''})")
    if unexpected:
        problems.append(
            f"{len(unexpected)} unexpected tensors ({', '.join(unexpected[:5])}{'…' if len(unexpected) > 5 else ''})"
        )
    wrong = [f"{k} {got[k]} vs {expected[k]}" for k in sorted(expected.keys() & got.keys()) if got[k] != expected[k]]
    if wrong:
        problems.append(f"{len(wrong)} shape mismatches ({'; '.join(wrong[:5])}{'…' if len(wrong) > 5 else ''})")
    if problems:
        raise PackError(f"{where}: weights do not fit the architecture in the manifest: {', '.join(problems)}")


def _pickles_in(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    except OSError:
        return []


def _pickle_refusal(folder: Path, names: list[str]) -> PackError:
    return PackError(
        f"{folder}: has no {WEIGHTS_FILE}, only a pickle checkpoint ({', '.join(names)}); musictagger never loads "
        "pickles (unpickling can run arbitrary code). Convert it to a pack with "
        f"{WEIGHTS_FILE} + {MANIFEST_FILE} in a trusted environment."
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_safetensors_header(folder: Path, path: Path) -> None:
    """Check that ``path`` is a safetensors file (8-byte header length + JSON header), in pure Python.

    Anything else is refused; a pickle or ``torch.save`` zip file gets a message saying so.
    """
    with open(path, "rb") as f:
        head = f.read(8)
        size = os.fstat(f.fileno()).st_size
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        raw = f.read(n) if 2 <= n <= min(size - 8, _MAX_SAFETENSORS_HEADER) else b""
    if not raw.startswith(b"{"):
        if head[:2] == b"PK" or head[:1] == b"\x80":  # zip (torch.save) or pickle protocol ≥ 2
            raise PackError(f"{folder}: {WEIGHTS_FILE} is really a pickle/torch.save file; we never load pickles")
        raise PackError(f"{folder}: {WEIGHTS_FILE} is not a safetensors file (bad header)")
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise PackError(f"{folder}: {WEIGHTS_FILE} is not a safetensors file (header is not JSON)") from None
    if not isinstance(header, dict) or not all(
        isinstance(v, dict) and {"dtype", "shape", "data_offsets"} <= v.keys()
        for k, v in header.items()
        if k != "__metadata__"
    ):
        raise PackError(f"{folder}: {WEIGHTS_FILE} is not a safetensors file (malformed header)")


def load_pack(path: Path, *, bundled: bool = False) -> ModelPack:
    """Open and validate the pack in folder ``path`` (schema, sha256, safetensors); raise :class:`PackError`."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise PackError(f"{folder}: not a model pack folder ({'not found' if not folder.exists() else 'not a folder'})")
    manifest_path, weights_path = folder / MANIFEST_FILE, folder / WEIGHTS_FILE
    if not manifest_path.is_file() or not weights_path.is_file():
        pickles = _pickles_in(folder)
        if pickles:
            raise _pickle_refusal(folder, pickles)
        missing = MANIFEST_FILE if not manifest_path.is_file() else WEIGHTS_FILE
        raise PackError(f"{folder}: not a model pack ({missing} is missing)")
    if not (folder / MODEL_CARD_FILE).is_file():
        raise PackError(f"{folder}: not a model pack ({MODEL_CARD_FILE} is missing)")
    try:
        if manifest_path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise PackError(f"{folder}: {MANIFEST_FILE} is implausibly large")
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackError(f"{folder}: cannot read {MANIFEST_FILE}: {exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackError(f"{folder}: {MANIFEST_FILE} is not valid JSON: {exc}") from exc
    try:
        manifest = PackManifest.from_dict(raw)
    except PackError as exc:
        raise PackError(f"{folder}: {exc}") from None
    try:
        _check_safetensors_header(folder, weights_path)
        if sha256_file(weights_path) != manifest.sha256:
            raise PackError(f"{folder}: weights do not match the manifest's sha256 (changed or damaged)")
    except OSError as exc:
        raise PackError(f"{folder}: cannot read {WEIGHTS_FILE}: {exc}") from exc
    return ModelPack(path=folder, manifest=manifest, bundled=bundled)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def save_pack(folder: Path, manifest: dict, state_dict: Mapping[str, torch.Tensor], model_card: str) -> ModelPack:
    """Write a pack to ``folder`` atomically and return it, loaded and validated.

    Fills ``sha256`` (of the weights), ``format_version`` and ``created`` (today) when absent.
    When the manifest names ``backbones``, the state dict's ``backbones.*`` tensors are left out
    (they come from the backbone at load time; we never redistribute them). The pack is
    assembled in a hidden temporary folder beside ``folder``, validated by loading it (schema,
    hash, and a strict load into the architecture), and only then moved into place, so a crash
    or a bad state dict never leaves a half-written pack. An existing pack at ``folder`` is
    replaced; an existing folder that is not a pack is refused.
    """
    from safetensors.torch import save as save_safetensors

    folder = Path(folder).expanduser()
    try:
        manifest = json.loads(json.dumps(manifest, allow_nan=False))  # what will really be stored
    except (TypeError, ValueError) as exc:
        raise PackError(f"the manifest cannot be stored as JSON: {exc}") from exc
    manifest.setdefault("format_version", FORMAT_VERSION)
    manifest.setdefault("created", date.today().isoformat())
    own = {str(k): v for k, v in state_dict.items()}
    if manifest.get("backbones"):
        own = {k: v for k, v in own.items() if not k.startswith(BACKBONE_PREFIX)}
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in own.items()}
    blob = save_safetensors(tensors, metadata={"musictagger_pack": str(manifest.get("name", ""))})
    manifest["sha256"] = hashlib.sha256(blob).hexdigest()
    PackManifest.from_dict(manifest)

    if folder.exists() and not (folder / MANIFEST_FILE).is_file() and any(folder.iterdir()):
        raise PackError(f"{folder}: exists and is not a model pack; refusing to replace it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        _write_durably(tmp / WEIGHTS_FILE, blob)
        _write_durably(tmp / MANIFEST_FILE, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
        _write_durably(tmp / MODEL_CARD_FILE, (model_card.rstrip("\n") + "\n").encode())
        load_pack(tmp).load_model("cpu")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
            old.rmdir()
            folder.rename(old)
            try:
                tmp.rename(folder)
            except OSError:
                old.rename(folder)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_pack(folder)
