"""What a model pack is: :class:`PackManifest`, a frozen, validated view of ``manifest.json``.

Validation names the first bad field (``manifest field 'input.n_fft' is too small (8)``), so a
hand-edited or downloaded pack is refused with a message a user can act on. Unknown keys are
kept (``extra``) and written back unchanged: they carry no meaning to us but may to a newer
musictagger.

Nothing here imports torch.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from musictagger.errors import PackError

FORMAT_VERSION = 1

# Threshold used for a label the manifest gives none for, and the validation quality assumed for
# a label without a measured average precision (fusion then weighs the models evenly).
DEFAULT_THRESHOLD = 0.5
DEFAULT_LABEL_QUALITY = 0.5

#: What a pack reads: the album cover or the audio.
PackKind = Literal["cover", "audio"]
KINDS: tuple[PackKind, ...] = get_args(PackKind)
LABEL_SPACES = ("taxonomy", "free")
MEL_NORMS = ("slaney", None)
#: Audio front ends: "mel_db" (:class:`musictagger.ml.frontend.MelSpectrogram`, a dB log-mel) and
#: "musicnn" (:class:`musictagger.ml.musicnn.MusicnnFrontend`, musicnn's own extractor).
AUDIO_FRONTENDS = ("mel_db", "musicnn")

# manifest.architecture.name -> (module, builder function). Modules are imported only when a model
# is built, so listing packs never imports torch. Each builder takes the manifest's
# ``architecture.params`` (with ``n_labels`` filled in from the labels when absent) and returns an
# untrained ``torch.nn.Module`` whose state dict the pack's weights (plus its backbone's) fill.
ARCHITECTURES: dict[str, tuple[str, str]] = {
    "cover_cnn": ("musictagger.ml.cover_cnn", "build"),
    "crnn": ("musictagger.ml.crnn", "build"),
    "choi2016_crnn": ("musictagger.ml.crnn", "build_choi2016"),
    "cover_head": ("musictagger.ml.heads", "build_cover_head"),
    "musicnn_tagger": ("musictagger.ml.heads", "build_musicnn_tagger"),
    "musicnn_head": ("musictagger.ml.heads", "build_musicnn_head"),
}

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

_KNOWN_KEYS = {
    "format_version", "name", "version", "kind", "labels", "label_space", "label_map", "input", "architecture",
    "thresholds", "metrics", "training", "sha256", "created", "license", "description", "backbones", "default",
}  # fmt: skip


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


def _validate_excerpts(spec: Mapping[str, Any]) -> None:
    excerpts = _get(spec, "excerpts", "input.excerpts", dict, "an object")
    count = _positive_int(excerpts, "count", "input.excerpts.count")
    positions = _get(excerpts, "positions", "input.excerpts.positions", list, "a list of numbers")
    if len(positions) != count:
        raise _fail("input.excerpts.positions", f"has {len(positions)} entries but count is {count}")
    for i, p in enumerate(positions):
        if not _is_number(p) or not 0.0 <= p <= 1.0:
            raise _fail(f"input.excerpts.positions[{i}]", f"must be a number from 0 to 1, not {p!r}")


def _validate_audio_input(spec: Mapping[str, Any]) -> None:
    frontend = spec.get("frontend", "mel_db")
    if frontend not in AUDIO_FRONTENDS:
        raise _fail("input.frontend", f"must be one of {', '.join(AUDIO_FRONTENDS)}, not {frontend!r}")
    sr = _positive_int(spec, "sample_rate", "input.sample_rate")
    n_fft = _positive_int(spec, "n_fft", "input.n_fft")
    _positive_int(spec, "hop_length", "input.hop_length")
    _positive_int(spec, "n_mels", "input.n_mels")
    if n_fft < 16:
        raise _fail("input.n_fft", f"is too small ({n_fft})")
    _number(spec, "clip_seconds", "input.clip_seconds", positive=True)
    _positive_int(spec, "frames", "input.frames")
    _validate_excerpts(spec)
    if frontend == "musicnn":
        return  # the rest of musicnn's extractor is fixed (Slaney mel, float16, log10(10000·x + 1))
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


@dataclass(frozen=True)
class BackboneRef:
    """A pretrained backbone a pack builds on: its name and the sha256 of its source weights."""

    name: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "sha256": self.sha256}


def _validate_backbones(manifest: Mapping[str, Any]) -> tuple[BackboneRef, ...]:
    if "backbones" not in manifest:
        return ()
    refs = _get(manifest, "backbones", "backbones", list, "a list of {name, sha256}")
    out = []
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict):
            raise _fail(f"backbones[{i}]", f"must be an object {{name, sha256}}, not {ref!r}")
        name = _get(ref, "name", f"backbones[{i}].name", str, "a string")
        sha = _get(ref, "sha256", f"backbones[{i}].sha256", str, "a hex string")
        if not _SHA256_RE.match(sha):
            raise _fail(f"backbones[{i}].sha256", "must be 64 lowercase hex digits")
        out.append(BackboneRef(name, sha))
    return tuple(out)


@dataclass(frozen=True)
class PackManifest:
    """A validated ``manifest.json``. Build with :meth:`from_dict`; :meth:`to_dict` gives the JSON back.

    Required: ``format_version``, ``name``, ``version``, ``kind``, ``labels``, ``input``,
    ``architecture``, ``sha256``, ``created``, ``license``. Optional: ``label_space`` (default
    "taxonomy"), ``label_map`` (free label spaces only), ``thresholds``, ``metrics``,
    ``training``, ``description``, ``backbones`` ([{name, sha256}]: the pretrained networks whose
    weights the pack's own weights sit on, in the order of the model's ``backbones.<i>``), ``default`` (false: a bundled pack kept loadable by
    name but no longer run unless asked for, e.g. one a newer pack replaced). The mapping fields are private copies; accessors
    on :class:`~musictagger.ml.packs.ModelPack` hand out copies again.
    """

    name: str
    version: str
    kind: PackKind
    labels: tuple[str, ...]
    input: dict[str, Any]
    architecture: dict[str, Any]
    sha256: str
    created: str
    license: str
    label_space: str = "taxonomy"
    label_map: dict[str, list[str]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    backbones: tuple[BackboneRef, ...] = ()
    default: bool = True
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, manifest: Any) -> PackManifest:
        """Validate a parsed ``manifest.json``; raise :class:`PackError` naming the first bad field."""
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
        if not SEMVER_RE.match(version):
            raise _fail("version", f'must be a semantic version like "1.0.0", not {version!r}')
        kind = manifest.get("kind")
        if kind not in KINDS:
            raise _fail("kind", f'must be "cover" or "audio", not {kind!r}')

        labels = _validate_labels(manifest)
        label_set = set(labels)
        label_space = manifest.get("label_space", "taxonomy")
        if label_space not in LABEL_SPACES:
            raise _fail("label_space", f'must be "taxonomy" or "free", not {label_space!r}')
        label_map: dict[str, list[str]] = {}
        if "label_map" in manifest:
            if label_space != "free":
                raise _fail("label_map", 'is only meaningful with label_space "free"')
            raw_map = _get(manifest, "label_map", "label_map", dict, "an object {tag: [taxonomy ids]}")
            for tag, ids in raw_map.items():
                if tag not in label_set:
                    raise _fail(f"label_map.{tag}", "maps a tag that is not among the labels")
                if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
                    raise _fail(f"label_map.{tag}", f"must be a list of taxonomy ids, not {ids!r}")
                label_map[tag] = list(ids)

        spec = _get(manifest, "input", "input", dict, "an object")
        (_validate_audio_input if kind == "audio" else _validate_cover_input)(spec)

        arch = _get(manifest, "architecture", "architecture", dict, "an object {name, params}")
        arch_name = _get(arch, "name", "architecture.name", str, "a string")
        if arch_name not in ARCHITECTURES:
            raise _fail(
                "architecture.name",
                f"is {arch_name!r}, which we do not know (known: {', '.join(sorted(ARCHITECTURES))})",
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
        training = manifest.get("training", {})
        if not isinstance(training, dict):
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
        description = ""
        if "description" in manifest:
            description = _get(manifest, "description", "description", str, "a string")
        backbones = _validate_backbones(manifest)
        default = True
        if "default" in manifest:
            default = _get(manifest, "default", "default", bool, "true or false")
        return cls(
            name=name,
            version=version,
            kind=kind,
            labels=tuple(labels),
            input=copy.deepcopy(spec),
            architecture=copy.deepcopy(arch),
            sha256=sha,
            created=created,
            license=license_,
            label_space=label_space,
            label_map=label_map,
            thresholds={k: float(v) for k, v in thresholds.items()},
            metrics=copy.deepcopy(metrics),
            training=copy.deepcopy(training),
            description=description,
            backbones=backbones,
            default=default,
            format_version=fv,
            extra={k: copy.deepcopy(v) for k, v in manifest.items() if k not in _KNOWN_KEYS},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this manifest was read from (optional fields only when they say something)."""
        out: dict[str, Any] = {
            "format_version": self.format_version,
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "labels": list(self.labels),
            "label_space": self.label_space,
            "input": copy.deepcopy(self.input),
            "architecture": copy.deepcopy(self.architecture),
            "thresholds": dict(self.thresholds),
            "metrics": copy.deepcopy(self.metrics),
            "training": copy.deepcopy(self.training),
            "sha256": self.sha256,
            "created": self.created,
            "license": self.license,
        }
        if self.label_map:
            out["label_map"] = {k: list(v) for k, v in self.label_map.items()}
        if self.description:
            out["description"] = self.description
        if self.backbones:
            out["backbones"] = [ref.to_dict() for ref in self.backbones]
        if not self.default:
            out["default"] = False
        out.update(copy.deepcopy(self.extra))
        return out


def validate_manifest(manifest: Any) -> None:
    """Check a manifest's schema; raise :class:`PackError` naming the first bad field."""
    PackManifest.from_dict(manifest)
