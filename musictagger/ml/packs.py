"""Model packs: a trained model as a self-describing folder, and where packs are found.

A pack is a folder holding exactly what is needed to run a model, and nothing executable::

    covers-v1/
        manifest.json        what the model is: labels, input spec, architecture, thresholds,
                             metrics, training summary, sha256 of the weights, licence
        weights.safetensors  the state dict (safetensors: plain tensors, never pickle)
        MODEL_CARD.md        the human story: data, intended use, limits, evaluation

Loading a pack checks the manifest field by field (a :class:`PackError` names the offending
field), checks the weights against the manifest's sha256 (a tampered or half-copied file is
refused) and checks that the file really is safetensors. :meth:`ModelPack.load_model` then builds
the architecture named in the manifest and loads the weights strictly: every key and every shape
must match. Pickle-based checkpoints (``.pt``, ``.pth``, ``.bin``, ``.ckpt``, ``.pkl``) are never
opened, because unpickling runs arbitrary code; a folder that only has one gets a clear refusal.

Where packs are found
---------------------
* **Bundled** packs ship with musictagger. In a source checkout or editable install they live in
  ``<repo>/models``; an installed wheel carries them as data files in
  ``<sys.prefix>/share/musictagger/models`` (see :func:`bundled_models_dir`).
* **User** packs (trained with "learn from my library", or downloaded by hand) live in
  ``musictagger.paths.app_dirs().models``.
* Any folder can be named explicitly (a pack folder, or a folder of packs).

Bundled and user packs may share a name; both are listed (``ModelPack.bundled`` tells them
apart) and :func:`find_pack` prefers the user's, then the highest version.

Importing this module does not import torch; torch is imported inside :meth:`ModelPack.load_model`
and :func:`save_pack` only.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musictagger.errors import PackError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
WEIGHTS_FILE = "weights.safetensors"
MODEL_CARD_FILE = "MODEL_CARD.md"

# Checkpoint formats that are (or may be) pickles. We never open them: unpickling executes code.
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")

# Threshold used for a label the manifest gives none for, and the validation quality assumed for
# a label without a measured average precision (fusion then weighs the models evenly).
DEFAULT_THRESHOLD = 0.5
DEFAULT_LABEL_QUALITY = 0.5

# manifest.architecture.name -> (module, builder function). Modules are imported only when a model
# is built, so listing packs never imports torch. Each builder takes the manifest's
# ``architecture.params`` (with ``n_labels`` filled in from the labels when absent) and returns an
# untrained ``torch.nn.Module`` whose state dict the pack's weights fill.
ARCHITECTURES: dict[str, tuple[str, str]] = {
    "cover_cnn": ("musictagger.ml.cover_cnn", "build"),
    "crnn": ("musictagger.ml.crnn", "build"),
    "choi2016_crnn": ("musictagger.ml.crnn", "build_choi2016"),
}

KINDS = ("cover", "audio")
LABEL_SPACES = ("taxonomy", "free")
MEL_NORMS = ("slaney", None)

_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_MAX_SAFETENSORS_HEADER = 64 * 1024 * 1024
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


# --------------------------------------------------------------------------------------------
# Manifest validation
# --------------------------------------------------------------------------------------------


def _fail(field: str, problem: str) -> PackError:
    return PackError(f"manifest field '{field}' {problem}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _get(obj: Mapping[str, Any], key: str, field: str, kind: type, what: str) -> Any:
    """``obj[key]``, which must exist and be a ``kind`` (a bool is not an int here); ``field`` names it in errors."""
    if key not in obj:
        raise _fail(field, "is missing")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _fail(field, f"must be {what}, not {value!r}")
    return value


def _positive_int(obj: Mapping[str, Any], key: str, field: str) -> int:
    value = _get(obj, key, field, int, "a positive integer")
    if value <= 0:
        raise _fail(field, f"must be a positive integer, not {value!r}")
    return value


def _number(obj: Mapping[str, Any], key: str, field: str, *, positive: bool = False) -> float:
    if key not in obj:
        raise _fail(field, "is missing")
    value = obj[key]
    if not _is_number(value) or (positive and value <= 0) or value < 0:
        raise _fail(field, f"must be a {'positive' if positive else 'non-negative'} number, not {value!r}")
    return float(value)


def _validate_labels(manifest: Mapping[str, Any]) -> list[str]:
    labels = _get(manifest, "labels", "labels", list, "a list of label names")
    if not labels:
        raise _fail("labels", "is empty")
    seen: set[str] = set()
    for i, label in enumerate(labels):
        if not isinstance(label, str) or not label.strip():
            raise _fail(f"labels[{i}]", f"must be a non-empty string, not {label!r}")
        if label in seen:
            raise _fail(f"labels[{i}]", f"repeats {label!r}")
        seen.add(label)
    return labels


def _validate_audio_input(spec: Mapping[str, Any]) -> None:
    sr = _positive_int(spec, "sample_rate", "input.sample_rate")
    n_fft = _positive_int(spec, "n_fft", "input.n_fft")
    _positive_int(spec, "hop_length", "input.hop_length")
    _positive_int(spec, "n_mels", "input.n_mels")
    if n_fft < 16:
        raise _fail("input.n_fft", f"is too small ({n_fft})")
    fmin = _number(spec, "fmin", "input.fmin")
    fmax = _number(spec, "fmax", "input.fmax", positive=True)
    if not fmin < fmax <= sr / 2:
        raise _fail("input.fmax", f"must lie above fmin ({fmin:g}) and at most sample_rate/2 ({sr / 2:g})")
    _get(spec, "mel_htk", "input.mel_htk", bool, "true or false")
    if spec.get("mel_norm", "missing") not in MEL_NORMS:
        raise _fail("input.mel_norm", f'must be "slaney" or null, not {spec.get("mel_norm", "missing")!r}')
    _number(spec, "power", "input.power", positive=True)
    log = _get(spec, "log", "input.log", dict, "an object")
    if log.get("type") != "db":
        raise _fail("input.log.type", f'must be "db", not {log.get("type")!r}')
    ref = log.get("ref")
    if ref != "max" and not (_is_number(ref) and ref > 0):
        raise _fail("input.log.ref", f'must be "max" or a positive number, not {ref!r}')
    if log.get("top_db", "missing") is not None:
        _number(log, "top_db", "input.log.top_db", positive=True)
    _number(log, "amin", "input.log.amin", positive=True)
    _number(log, "multiplier", "input.log.multiplier", positive=True)
    _number(spec, "clip_seconds", "input.clip_seconds", positive=True)
    _positive_int(spec, "frames", "input.frames")
    excerpts = _get(spec, "excerpts", "input.excerpts", dict, "an object")
    count = _positive_int(excerpts, "count", "input.excerpts.count")
    positions = _get(excerpts, "positions", "input.excerpts.positions", list, "a list of numbers")
    if len(positions) != count:
        raise _fail("input.excerpts.positions", f"has {len(positions)} entries but count is {count}")
    for i, p in enumerate(positions):
        if not _is_number(p) or not 0.0 <= p <= 1.0:
            raise _fail(f"input.excerpts.positions[{i}]", f"must be a number from 0 to 1, not {p!r}")


def _validate_cover_input(spec: Mapping[str, Any]) -> None:
    from musictagger.ml.cover_input import RESIZE_SHORTER_SIDE_THEN_CENTER_CROP

    _positive_int(spec, "size", "input.size")
    resize = spec.get("resize")
    if resize != RESIZE_SHORTER_SIDE_THEN_CENTER_CROP:
        raise _fail("input.resize", f'must be "{RESIZE_SHORTER_SIDE_THEN_CENTER_CROP}", not {resize!r}')
    for key in ("mean", "std"):
        values = _get(spec, key, f"input.{key}", list, "a list of 3 numbers")
        if len(values) != 3 or not all(_is_number(v) for v in values):
            raise _fail(f"input.{key}", f"must be a list of 3 numbers, not {values!r}")
        if key == "std" and not all(v > 0 for v in values):
            raise _fail("input.std", f"must be positive, not {values!r}")


def validate_manifest(manifest: dict) -> None:
    """Check a manifest's schema; raise :class:`PackError` naming the first bad field.

    Required: ``format_version``, ``name``, ``version``, ``kind``, ``labels``, ``input``,
    ``architecture``, ``sha256``, ``created``, ``license``. Optional: ``label_space`` (default
    "taxonomy"), ``label_map`` (free label spaces only), ``thresholds``, ``metrics``,
    ``training``, ``description``. Unknown keys are allowed (they carry no meaning to us).
    """
    if not isinstance(manifest, dict):
        raise PackError(f"the manifest must be a JSON object, not {type(manifest).__name__}")
    fv = _get(manifest, "format_version", "format_version", int, "an integer")
    if fv > FORMAT_VERSION:
        raise _fail("format_version", f"is {fv}: this pack needs a newer musictagger (we read {FORMAT_VERSION})")
    if fv != FORMAT_VERSION:
        raise _fail("format_version", f"must be {FORMAT_VERSION}, not {fv}")
    name = _get(manifest, "name", "name", str, "a string")
    if not _NAME_RE.match(name):
        raise _fail(
            "name", f"must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit), not {name!r}"
        )
    version = _get(manifest, "version", "version", str, "a string")
    if not _SEMVER_RE.match(version):
        raise _fail("version", f'must be a semantic version like "1.0.0", not {version!r}')
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise _fail("kind", f'must be "cover" or "audio", not {kind!r}')

    labels = _validate_labels(manifest)
    label_set = set(labels)
    label_space = manifest.get("label_space", "taxonomy")
    if label_space not in LABEL_SPACES:
        raise _fail("label_space", f'must be "taxonomy" or "free", not {label_space!r}')
    if "label_map" in manifest:
        if label_space != "free":
            raise _fail("label_map", 'is only meaningful with label_space "free"')
        label_map = _get(manifest, "label_map", "label_map", dict, "an object {tag: [taxonomy ids]}")
        for tag, ids in label_map.items():
            if tag not in label_set:
                raise _fail(f"label_map.{tag}", "maps a tag that is not among the labels")
            if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
                raise _fail(f"label_map.{tag}", f"must be a list of taxonomy ids, not {ids!r}")

    spec = _get(manifest, "input", "input", dict, "an object")
    (_validate_audio_input if kind == "audio" else _validate_cover_input)(spec)

    arch = _get(manifest, "architecture", "architecture", dict, "an object {name, params}")
    arch_name = _get(arch, "name", "architecture.name", str, "a string")
    if arch_name not in ARCHITECTURES:
        raise _fail(
            "architecture.name", f"is {arch_name!r}, which we do not know (known: {', '.join(sorted(ARCHITECTURES))})"
        )
    params = _get(arch, "params", "architecture.params", dict, "an object")
    if "n_labels" in params and params["n_labels"] != len(labels):
        raise _fail("architecture.params.n_labels", f"is {params['n_labels']!r} but there are {len(labels)} labels")

    thresholds = manifest.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise _fail("thresholds", f"must be an object {{label: threshold}}, not {thresholds!r}")
    for label, t in thresholds.items():
        if label not in label_set:
            raise _fail(f"thresholds.{label}", "names a label that is not among the labels")
        if not _is_number(t) or not 0.0 < t < 1.0:
            raise _fail(f"thresholds.{label}", f"must be a number strictly between 0 and 1, not {t!r}")

    metrics = manifest.get("metrics", {})
    if not isinstance(metrics, dict):
        raise _fail("metrics", f"must be an object, not {metrics!r}")
    ap = metrics.get("per_label_ap", {})
    if not isinstance(ap, dict):
        raise _fail("metrics.per_label_ap", f"must be an object {{label: AP}}, not {ap!r}")
    for label, value in ap.items():
        if label not in label_set:
            raise _fail(f"metrics.per_label_ap.{label}", "names a label that is not among the labels")
        if value is not None and (not _is_number(value) or not 0.0 <= value <= 1.0):
            raise _fail(f"metrics.per_label_ap.{label}", f"must be a number from 0 to 1 or null, not {value!r}")
    if not isinstance(manifest.get("training", {}), dict):
        raise _fail("training", "must be an object")

    sha = _get(manifest, "sha256", "sha256", str, "a hex string")
    if not _SHA256_RE.match(sha):
        raise _fail("sha256", "must be 64 lowercase hex digits")
    created = _get(manifest, "created", "created", str, "an ISO date string")
    try:
        datetime.fromisoformat(created)
    except ValueError:
        raise _fail("created", f'must be an ISO date like "2024-05-01", not {created!r}') from None
    license_ = _get(manifest, "license", "license", str, "a string")
    if not license_.strip():
        raise _fail("license", "is empty")
    if "description" in manifest:
        _get(manifest, "description", "description", str, "a string")


# --------------------------------------------------------------------------------------------
# The pack
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelPack:
    """A validated pack on disk. Cheap: the weights are only read by :meth:`load_model`."""

    path: Path
    manifest: dict
    bundled: bool = False

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @property
    def label_space(self) -> str:
        return self.manifest.get("label_space", "taxonomy")

    @property
    def label_map(self) -> dict[str, list[str]]:
        """For free label spaces: tag -> taxonomy ids it stands for (empty when not given)."""
        return {tag: list(ids) for tag, ids in self.manifest.get("label_map", {}).items()}

    @property
    def thresholds(self) -> dict[str, float]:
        """Decision threshold for every label (``DEFAULT_THRESHOLD`` where the manifest has none)."""
        given = self.manifest.get("thresholds", {})
        return {label: float(given.get(label, DEFAULT_THRESHOLD)) for label in self.manifest["labels"]}

    @property
    def input(self) -> dict:
        return copy.deepcopy(self.manifest["input"])

    @property
    def architecture(self) -> dict:
        return copy.deepcopy(self.manifest["architecture"])

    @property
    def metrics(self) -> dict:
        return copy.deepcopy(self.manifest.get("metrics", {}))

    @property
    def training(self) -> dict:
        return copy.deepcopy(self.manifest.get("training", {}))

    @property
    def sha256(self) -> str:
        return self.manifest["sha256"]

    @property
    def license(self) -> str:
        return self.manifest["license"]

    @property
    def description(self) -> str:
        return self.manifest.get("description", "")

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
            return [[label] for label in self.manifest["labels"]]
        label_map = self.label_map
        return [label_map.get(tag, []) for tag in self.manifest["labels"]]

    def label_quality(self) -> dict[str, float]:
        """Per-label validation quality, the weight fusion gives this model's opinion on a label.

        ``metrics.per_label_ap`` (average precision on held-out data) where measured, else
        ``DEFAULT_LABEL_QUALITY``.
        """
        ap = self.manifest.get("metrics", {}).get("per_label_ap", {})
        return {
            label: float(ap[label]) if ap.get(label) is not None else DEFAULT_LABEL_QUALITY
            for label in self.manifest["labels"]
        }

    def model_card(self) -> str:
        try:
            return (self.path / MODEL_CARD_FILE).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PackError(f"{self.path}: cannot read {MODEL_CARD_FILE}: {exc}") from exc

    def load_model(self, device: str | torch.device = "cpu") -> torch.nn.Module:
        """Build the architecture, load the weights strictly, and return it in eval mode on ``device``.

        The weights are read once and hashed before use, so what is loaded is exactly what the
        manifest vouches for even if the file changed since :func:`load_pack`.
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
            state = load_safetensors(blob)
        except (SafetensorError, ValueError, RuntimeError) as exc:
            raise PackError(f"{self.path}: {WEIGHTS_FILE} is not a valid safetensors file: {exc}") from exc
        try:
            model = build_model(self.manifest["architecture"], n_labels=len(self.manifest["labels"]))
        except PackError as exc:
            raise PackError(f"{self.path}: {exc}") from None
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


# --------------------------------------------------------------------------------------------
# Loading and saving
# --------------------------------------------------------------------------------------------


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


def _sha256_file(path: Path) -> str:
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
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackError(f"{folder}: cannot read {MANIFEST_FILE}: {exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackError(f"{folder}: {MANIFEST_FILE} is not valid JSON: {exc}") from exc
    try:
        validate_manifest(manifest)
    except PackError as exc:
        raise PackError(f"{folder}: {exc}") from None
    try:
        _check_safetensors_header(folder, weights_path)
        if _sha256_file(weights_path) != manifest["sha256"]:
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

    Fills ``sha256`` (of the weights), ``format_version`` and ``created`` (today) when absent. The
    pack is assembled in a hidden temporary folder beside ``folder``, validated by loading it
    (schema, hash, and a strict load into the architecture), and only then moved into place, so a
    crash or a bad state dict never leaves a half-written pack. An existing pack at ``folder`` is
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
    tensors = {str(k): v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    blob = save_safetensors(tensors, metadata={"musictagger_pack": str(manifest.get("name", ""))})
    manifest["sha256"] = hashlib.sha256(blob).hexdigest()
    validate_manifest(manifest)

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


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------


def bundled_models_dir() -> Path | None:
    """The folder of packs that ship with musictagger, or None if there is none.

    1. ``<repo>/models`` when running from a checkout or editable install (recognised by the
       ``pyproject.toml`` beside it, so an unrelated ``site-packages/models`` is never taken);
    2. ``<sys.prefix>/share/musictagger/models``, where a wheel installs its bundled packs as
       data files.
    """
    repo = Path(__file__).resolve().parents[2]
    candidates = []
    if (repo / "pyproject.toml").is_file():
        candidates.append(repo / "models")
    candidates.append(Path(sys.prefix) / "share" / "musictagger" / "models")
    return next((c for c in candidates if c.is_dir()), None)


def _user_models_dir() -> Path:
    from musictagger.paths import app_dirs

    return app_dirs().models


def _candidate_folders(root: Path) -> list[Path]:
    """``root`` itself if it is a pack, else its visible sub-folders (each supposed to be a pack)."""
    if (root / MANIFEST_FILE).is_file():
        return [root]
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def find_packs_with_problems(
    *, include_bundled: bool = True, include_user: bool = True, extra: Sequence[Path] = ()
) -> tuple[list[ModelPack], list[PackError]]:
    """All packs found, user packs first, and a :class:`PackError` for each folder that is not a valid pack.

    ``extra`` entries may be pack folders or folders of packs. A folder reachable twice is listed once.
    """
    # (folder, bundled, named explicitly: a missing explicit folder is a problem, a missing default one is not)
    roots: list[tuple[Path, bool, bool]] = []
    if include_user:
        roots.append((_user_models_dir(), False, False))
    if include_bundled and (bundled := bundled_models_dir()) is not None:
        roots.append((bundled, True, False))
    roots.extend((Path(p).expanduser(), False, True) for p in extra)

    packs: list[ModelPack] = []
    problems: list[PackError] = []
    seen: set[Path] = set()
    for root, is_bundled, explicit in roots:
        if not root.is_dir():
            if explicit:
                problems.append(PackError(f"{root}: no such folder"))
            continue
        for folder in _candidate_folders(root):
            key = folder.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                packs.append(load_pack(folder, bundled=is_bundled))
            except PackError as exc:
                exc.folder = folder  # type: ignore[attr-defined] - which folder was refused
                problems.append(exc)
    return packs, problems


def find_packs(
    *, include_bundled: bool = True, include_user: bool = True, extra: Sequence[Path] = ()
) -> list[ModelPack]:
    """All valid packs found (see :func:`find_packs_with_problems` for the ones that were skipped)."""
    return find_packs_with_problems(include_bundled=include_bundled, include_user=include_user, extra=extra)[0]


def _version_key(version: str) -> tuple:
    m = _SEMVER_RE.match(version)
    if not m:
        return (-1,)
    major, minor, patch, pre = m.groups()
    return (int(major), int(minor), int(patch), pre is None)


def find_pack(name_or_path: str) -> ModelPack:
    """The pack at a path, or the pack with that name: the user's before a bundled one, then the highest version.

    Anything with a path separator, or starting with "~" or ".", is a path (``./covers-v1`` for a
    folder in the current directory); anything else is a pack name.
    """
    if any(sep and sep in name_or_path for sep in (os.sep, os.altsep)) or name_or_path.startswith(("~", ".")):
        return load_pack(Path(name_or_path))
    packs, problems = find_packs_with_problems()
    matching = [p for p in packs if p.name == name_or_path]
    if matching:
        return max(matching, key=lambda p: (not p.bundled, _version_key(p.version)))
    known = ", ".join(sorted({p.name for p in packs})) or "none"
    message = f"no model pack named {name_or_path!r} (available: {known})"
    if problems:
        message += f"; {len(problems)} folder(s) could not be loaded: " + "; ".join(str(p) for p in problems)
    raise PackError(message)
