"""Model packs (save, load, validation, discovery), the architecture registry and device selection."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tinypacks
import torch

from musictagger.errors import DeviceError, PackError
from musictagger.ml import packs
from musictagger.ml.cover_cnn import build as build_cover_cnn
from musictagger.ml.cover_cnn import count_parameters
from musictagger.ml.device import describe_device, select_device, set_cpu_threads
from musictagger.ml.packs import (
    MANIFEST_FILE,
    WEIGHTS_FILE,
    ModelPack,
    bundled_models_dir,
    find_pack,
    find_packs,
    find_packs_with_problems,
    load_pack,
    save_pack,
    validate_manifest,
)

REPO = Path(__file__).resolve().parents[1]
LABELS = ["black-metal", "death-metal", "doom-metal"]
TINY_PARAMS = {"n_labels": 3, "widths": [4, 8], "dropout": 0.1, "in_size": 32}


def cover_manifest(name: str = "tiny-covers", version: str = "1.0.0") -> dict:
    return tinypacks.cover_manifest(
        LABELS,
        name=name,
        version=version,
        params=TINY_PARAMS,
        thresholds={"black-metal": 0.4},
        ap={"black-metal": 0.8, "death-metal": None},
        training={"sources": ["test"], "counts": {"train": 0}, "seed": 0},
        description="A tiny test pack.",
    )


def audio_manifest() -> dict:
    m = cover_manifest("tiny-audio")
    m["kind"] = "audio"
    m["input"] = {
        "sample_rate": 16000,
        "n_fft": 512,
        "hop_length": 256,
        "n_mels": 96,
        "fmin": 0.0,
        "fmax": 8000.0,
        "mel_htk": False,
        "mel_norm": "slaney",
        "power": 2.0,
        "log": {"type": "db", "ref": "max", "top_db": 80, "amin": 1e-10, "multiplier": 10},
        "clip_seconds": 29.1,
        "frames": 1366,
        "excerpts": {"count": 3, "positions": [0.25, 0.5, 0.75]},
    }
    m["architecture"] = {"name": "crnn", "params": {}}
    m["sha256"] = "0" * 64
    m["created"] = "2024-05-01"
    m["format_version"] = 1
    return m


def tiny_model(seed: int = 0) -> torch.nn.Module:
    model = tinypacks.cover_model(len(LABELS), TINY_PARAMS, seed=seed)
    # Move BatchNorm statistics off their defaults so the round trip really carries buffers.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.fixture
def saved(tmp_path: Path) -> tuple[ModelPack, torch.nn.Module]:
    model = tiny_model()
    pack = save_pack(tmp_path / "tiny-covers", cover_manifest(), model.state_dict(), "# Tiny covers\n\nFor tests.")
    return pack, model


# ------------------------------------------------------------------------------------ round trip


def test_round_trip_gives_identical_outputs(saved, tmp_path):
    pack, model = saved
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    loaded = load_pack(tmp_path / "tiny-covers").load_model("cpu")
    assert not loaded.training
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
        assert torch.equal(loaded.embed(x), model.embed(x))


def test_saved_pack_contents(saved, tmp_path):
    pack, _ = saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-covers"]  # no temp folder left behind
    on_disk = json.loads((pack.path / MANIFEST_FILE).read_text())
    assert on_disk["format_version"] == 1 and on_disk["created"] and len(on_disk["sha256"]) == 64
    assert pack.name == "tiny-covers" and pack.version == "1.0.0" and pack.kind == "cover"
    assert pack.labels == LABELS and not pack.bundled
    assert pack.thresholds == {"black-metal": 0.4, "death-metal": 0.5, "doom-metal": 0.5}
    assert pack.label_quality() == {"black-metal": 0.8, "death-metal": 0.5, "doom-metal": 0.5}
    assert pack.taxonomy_ids() == [["black-metal"], ["death-metal"], ["doom-metal"]]
    assert pack.model_card().startswith("# Tiny covers")
    assert pack.input["size"] == 32 and pack.architecture["name"] == "cover_cnn"


def test_save_replaces_an_existing_pack_and_refuses_other_folders(saved, tmp_path):
    pack, _ = saved
    newer = save_pack(pack.path, cover_manifest(version="1.1.0"), tiny_model(seed=5).state_dict(), "card")
    assert newer.version == "1.1.0" and newer.sha256 != pack.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-covers"]
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"not ours")
    with pytest.raises(PackError, match="not a model pack; refusing"):
        save_pack(photos, cover_manifest(), tiny_model().state_dict(), "card")
    assert (photos / "holiday.jpg").read_bytes() == b"not ours"


def test_save_refuses_state_dict_that_does_not_fit_and_leaves_nothing(tmp_path):
    other = build_cover_cnn({**TINY_PARAMS, "widths": [4, 16]})
    with pytest.raises(PackError, match=r"do not fit the architecture.*shape mismatches"):
        save_pack(tmp_path / "bad", cover_manifest(), other.state_dict(), "card")
    assert list(tmp_path.iterdir()) == []


def test_free_label_space_maps_tags_to_taxonomy(tmp_path):
    m = cover_manifest("imported")
    m["labels"] = ["black metal", "rock", "spoken"]
    m["label_space"] = "free"
    m["label_map"] = {"black metal": ["black-metal"], "rock": ["rock"]}
    m["thresholds"], m["metrics"] = {}, {}
    pack = save_pack(tmp_path / "imported", m, tiny_model().state_dict(), "card")
    assert pack.label_space == "free"
    assert pack.taxonomy_ids() == [["black-metal"], ["rock"], []]


# ------------------------------------------------------------------------------------ integrity


def test_tampered_weights_are_refused(saved):
    pack, _ = saved
    blob = bytearray((pack.path / WEIGHTS_FILE).read_bytes())
    blob[-1] ^= 0x01  # one bit of one weight
    (pack.path / WEIGHTS_FILE).write_bytes(bytes(blob))
    with pytest.raises(PackError, match="weights do not match the manifest's sha256"):
        load_pack(pack.path)
    # A pack object obtained before the tampering re-checks when it loads the weights.
    with pytest.raises(PackError, match="weights do not match the manifest's sha256"):
        pack.load_model()


def test_safetensors_whose_header_length_starts_like_a_pickle_still_loads(saved):
    """A header length ≡ 128 (mod 256) makes the file's first byte 0x80, like a pickle's."""
    import hashlib

    from safetensors.torch import save as save_safetensors

    pack, model = saved
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    blob = next(b for k in range(300) if (b := save_safetensors(state, metadata={"pad": "x" * k}))[0] == 0x80)
    (pack.path / WEIGHTS_FILE).write_bytes(blob)
    manifest = json.loads((pack.path / MANIFEST_FILE).read_text())
    manifest["sha256"] = hashlib.sha256(blob).hexdigest()
    (pack.path / MANIFEST_FILE).write_text(json.dumps(manifest))
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(load_pack(pack.path).load_model()(x), model(x))


def test_weights_not_fitting_the_manifest_architecture(saved):
    pack, _ = saved
    manifest = json.loads((pack.path / MANIFEST_FILE).read_text())
    manifest["architecture"]["params"]["widths"] = [4, 8, 16]
    (pack.path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(PackError, match=r"do not fit the architecture.*missing \d+ tensors"):
        load_pack(pack.path).load_model()


class _Armed:
    """Unpickling this creates ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickles_are_never_unpickled(tmp_path, saved):
    # The payload is live: unpickling it elsewhere creates its marker.
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(_Armed(control))).close()
    assert control.exists()

    marker = tmp_path / "UNPICKLED"
    payload = pickle.dumps(_Armed(marker))

    only_pickle = tmp_path / "legacy"
    only_pickle.mkdir()
    (only_pickle / "model.pt").write_bytes(payload)
    with pytest.raises(PackError, match="never loads pickles"):
        load_pack(only_pickle)

    # A manifest whose weights are a pickle checkpoint instead of safetensors.
    pack, _ = saved
    (pack.path / WEIGHTS_FILE).unlink()
    (pack.path / "weights.pth").write_bytes(payload)
    with pytest.raises(PackError, match="never loads pickles"):
        load_pack(pack.path)

    # A pickle renamed to weights.safetensors.
    (pack.path / WEIGHTS_FILE).write_bytes(payload)
    with pytest.raises(PackError, match="pickle"):
        load_pack(pack.path)

    # torch.save's zip format renamed, too.
    torch.save({"w": torch.zeros(1)}, pack.path / WEIGHTS_FILE)
    with pytest.raises(PackError, match="pickle"):
        load_pack(pack.path)

    _, problems = find_packs_with_problems(include_bundled=False, include_user=False, extra=[tmp_path])
    assert any("legacy" in str(p) for p in problems)
    assert not marker.exists()


# ------------------------------------------------------------------------------------ schema


def _mutated(mutate) -> dict:
    m = cover_manifest()
    m.update(sha256="a" * 64, created="2024-05-01", format_version=1)
    mutate(m)
    return m


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda m: m.pop("labels"), "'labels' is missing"),
        (lambda m: m.update(labels=[]), "'labels' is empty"),
        (lambda m: m.update(labels=["a", "a", "b"]), "'labels[1]' repeats"),
        (lambda m: m.update(kind="video"), "'kind'"),
        (lambda m: m.update(version="1.0"), "'version'"),
        (lambda m: m.update(name="../escape"), "'name'"),
        (lambda m: m.update(format_version=2), "needs a newer musictagger"),
        (lambda m: m.update(sha256="xyz"), "'sha256'"),
        (lambda m: m.update(created="yesterday"), "'created'"),
        (lambda m: m.pop("license"), "'license' is missing"),
        (lambda m: m["thresholds"].update({"black-metal": 1.5}), "'thresholds.black-metal'"),
        (lambda m: m["thresholds"].update({"pop": 0.5}), "'thresholds.pop' names a label"),
        (lambda m: m["metrics"]["per_label_ap"].update({"doom-metal": 2}), "'metrics.per_label_ap.doom-metal'"),
        (lambda m: m["input"].pop("size"), "'input.size' is missing"),
        (lambda m: m["input"].update(resize="stretch"), "'input.resize'"),
        (lambda m: m["input"].update(std=[0.2, 0.0, 0.2]), "'input.std'"),
        (lambda m: m["input"].update(mean=[0.5, 0.5]), "'input.mean'"),
        (lambda m: m["architecture"].update(name="resnet9000"), "'architecture.name' is 'resnet9000'"),
        (lambda m: m["architecture"].pop("params"), "'architecture.params' is missing"),
        (lambda m: m["architecture"]["params"].update(n_labels=7), "'architecture.params.n_labels'"),
        (lambda m: m.update(label_map={"black-metal": ["x"]}), "'label_map' is only meaningful"),
        (lambda m: m.update(label_space="tags"), "'label_space'"),
    ],
)
def test_schema_errors_name_the_field(mutate, field):
    with pytest.raises(PackError) as info:
        validate_manifest(_mutated(mutate))
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda i: i.update(fmax=9000.0), "'input.fmax'"),
        (lambda i: i.update(mel_norm="l2"), "'input.mel_norm'"),
        (lambda i: i.update(mel_htk="yes"), "'input.mel_htk'"),
        (lambda i: i.update(n_mels=0), "'input.n_mels'"),
        (lambda i: i.update(sample_rate=True), "'input.sample_rate'"),
        (lambda i: i["log"].update(ref="min"), "'input.log.ref'"),
        (lambda i: i["log"].update(type="log1p"), "'input.log.type'"),
        (lambda i: i["excerpts"].update(count=2), "'input.excerpts.positions' has 3 entries"),
        (lambda i: i["excerpts"].update(positions=[0.25, 0.5, 1.5]), "'input.excerpts.positions[2]'"),
        (lambda i: i.pop("clip_seconds"), "'input.clip_seconds' is missing"),
    ],
)
def test_audio_input_schema_errors_name_the_field(mutate, field):
    m = audio_manifest()
    validate_manifest(copy.deepcopy(m))  # the unmutated audio manifest is valid
    mutate(m["input"])
    with pytest.raises(PackError) as info:
        validate_manifest(m)
    assert field in str(info.value)


def test_load_pack_reports_path_and_field(saved):
    pack, _ = saved
    manifest = json.loads((pack.path / MANIFEST_FILE).read_text())
    del manifest["kind"]
    (pack.path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(PackError, match=r"tiny-covers: manifest field 'kind'"):
        load_pack(pack.path)
    (pack.path / MANIFEST_FILE).write_text("{ not json")
    with pytest.raises(PackError, match="not valid JSON"):
        load_pack(pack.path)


# ------------------------------------------------------------------------------------ discovery


def test_discovery_in_user_folder_and_explicit_paths(tmp_path, app_home):
    from musictagger.paths import app_dirs

    user_models = app_dirs().models
    save_pack(user_models / "covers-old", cover_manifest("covers", "1.0.0"), tiny_model().state_dict(), "old")
    save_pack(user_models / "covers-new", cover_manifest("covers", "1.2.0"), tiny_model(1).state_dict(), "new")
    (user_models / "half-copied").mkdir()
    elsewhere = save_pack(tmp_path / "elsewhere" / "mine", cover_manifest("mine"), tiny_model().state_dict(), "x")

    found, problems = find_packs_with_problems(include_bundled=False)
    assert sorted((p.name, p.version) for p in found) == [("covers", "1.0.0"), ("covers", "1.2.0")]
    assert len(problems) == 1 and "half-copied" in str(problems[0]) and "manifest.json is missing" in str(problems[0])

    # Explicit paths: a pack folder itself, or a folder of packs; a missing one is reported.
    assert [p.name for p in find_packs(include_bundled=False, include_user=False, extra=[elsewhere.path])] == ["mine"]
    assert [p.name for p in find_packs(include_bundled=False, include_user=False, extra=[tmp_path / "elsewhere"])] == [
        "mine"
    ]
    _, problems = find_packs_with_problems(include_bundled=False, include_user=False, extra=[tmp_path / "nope"])
    assert "no such folder" in str(problems[0])

    assert find_pack("covers").version == "1.2.0"  # highest version wins among the user's packs
    assert find_pack(str(elsewhere.path)).name == "mine"
    with pytest.raises(PackError, match=r"no model pack named 'nothing'.*available: .*covers.*could not be loaded"):
        find_pack("nothing")


def test_bundled_dir_is_the_checkout_models_folder():
    assert bundled_models_dir() == REPO / "models"
    bundled = find_packs(include_user=False)
    assert all(p.bundled for p in bundled)


def test_importing_packs_and_cover_input_does_not_import_torch():
    code = (
        "import sys, musictagger.ml, musictagger.ml.packs, musictagger.ml.cover_input, musictagger.ml.device; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


def test_registry_covers_the_agreed_architectures():
    assert packs.ARCHITECTURES == {
        "cover_cnn": ("musictagger.ml.cover_cnn", "build"),
        "crnn": ("musictagger.ml.crnn", "build"),
        "choi2016_crnn": ("musictagger.ml.crnn", "build_choi2016"),
        "cover_head": ("musictagger.ml.heads", "build_cover_head"),
        "musicnn_tagger": ("musictagger.ml.heads", "build_musicnn_tagger"),
        "musicnn_head": ("musictagger.ml.heads", "build_musicnn_head"),
    }


# ------------------------------------------------------------------------------------ cover CNN


def test_cover_cnn_default_size_and_embedding():
    model = build_cover_cnn({"n_labels": 40})
    assert count_parameters(model) < 2_000_000
    x = torch.zeros(2, 3, 128, 128)
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (2, 40)
        assert model.embed(x).shape == (2, model.embedding_size) == (2, 512)
    with pytest.raises(ValueError, match="unknown cover_cnn params"):
        build_cover_cnn({"n_labels": 3, "width": [8]})
    with pytest.raises(ValueError, match="too small"):
        build_cover_cnn({"n_labels": 3, "in_size": 16})


def test_cover_cnn_learns_a_palette_and_texture_cue():
    """Two labels with the kinds of cue covers carry: a dark noisy palette vs a bright smooth one."""
    g = torch.Generator().manual_seed(0)
    n = 64
    dark = torch.rand(n, 1, 1, 1, generator=g) < 0.5
    base = torch.where(dark, torch.full((n, 3, 1, 1), -1.0), torch.full((n, 3, 1, 1), 1.0))
    noise = torch.randn(n, 3, 16, 16, generator=g) * torch.where(dark, 1.0, 0.2)
    x = base + noise
    y = torch.cat([dark.view(n, 1), ~dark.view(n, 1)], dim=1).float()
    torch.manual_seed(0)
    model = build_cover_cnn({"n_labels": 2, "widths": [8, 16], "dropout": 0.1, "in_size": 16})
    loss_fn = torch.nn.BCEWithLogitsLoss()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small trains fastest on one thread, on a busy machine by far
    try:
        # Plain SGD by hand: torch.optim's first use imports torch._dynamo, seconds of start-up.
        for _ in range(20):
            model.zero_grad()
            loss_fn(model(x), y).backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
    finally:
        torch.set_num_threads(threads)
    model.eval()
    with torch.no_grad():
        accuracy = ((torch.sigmoid(model(x)) > 0.5).float() == y).float().mean().item()
    assert accuracy == 1.0


def _normalised(rgb: np.ndarray) -> torch.Tensor:
    """(n, h, w, 3) uint8 images → the normalised (n, 3, h, w) tensor a cover model gets."""
    from musictagger.ml.cover_cnn import IMAGENET_MEAN, IMAGENET_STD

    x = torch.from_numpy(rgb.astype(np.float32) / 255).permute(0, 3, 1, 2)
    return (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def test_colour_stats_describe_palette_skin_and_texture():
    from musictagger.ml.cover_cnn import ColourStats

    size = 112

    def flat(colour):
        return np.broadcast_to(np.array(colour, dtype=np.uint8), (size, size, 3))

    checker = (((np.indices((size, size)) // 4).sum(axis=0) % 2) * 255).astype(np.uint8)[..., None].repeat(3, axis=2)
    images = np.stack([flat((0, 0, 0)), flat((255, 0, 0)), flat((225, 170, 140)), flat((40, 80, 200)), checker])
    f = ColourStats()(_normalised(images))
    part = ColourStats.parts()
    assert f.shape == (5, ColourStats.n_features)
    black, red, skin, blue, check = f
    for name in ("brightness", "saturation", "rgb"):
        assert torch.allclose(f[:, part[name]].sum(dim=1), torch.ones(5), atol=1e-5)
    assert black[part["brightness"]][0] == 1 and red[part["brightness"]][-1] == 1
    assert red[part["saturation"]][-1] == 1 and black[part["saturation"]][0] == 1
    assert red[part["hue"]][0] == pytest.approx(1) and blue[part["hue"]].argmax() == 7  # 225° of 12 × 30° bins
    assert black[part["hue"]].sum() == 0  # no saturation, no hue
    assert skin[part["skin"]].tolist() == [1, 1] and blue[part["skin"]].tolist() == [0, 0]
    assert red[part["colourfulness"]] > 0.3 > black[part["colourfulness"]] == 0
    assert check[part["gradient"]].min() > 0.4 and red[part["gradient"]].abs().max() < 1e-6
    grid = red[part["grid_colour"]].view(3, 9)  # per channel, the mean of each cell of a 3×3 grid
    assert torch.allclose(grid, torch.tensor([1.0, 0, 0]).view(3, 1).expand(3, 9), atol=1e-5)


def test_cover_cnn_with_colour_stats_embeds_them_and_round_trips(tmp_path):
    from musictagger.ml.cover_cnn import ColourStats

    params = {**TINY_PARAMS, "colour_stats": True, "branch_dropout": 0.5}
    torch.manual_seed(0)
    model = build_cover_cnn(params)
    assert model.embedding_size == 2 * 8 + ColourStats.n_features
    x = torch.randn(6, 3, 32, 32)
    model.train()
    model(x)  # moves the statistics' batch-norm off its defaults
    model.eval()
    with torch.no_grad():
        e = model.embed(x)
        assert e.shape == (6, model.embedding_size)
        want = model(x)
        assert torch.equal(want, model(x))  # the branch dropout is off at inference
    m = cover_manifest()
    m["architecture"] = {"name": "cover_cnn", "params": params}
    pack = save_pack(tmp_path / "stats", m, model.state_dict(), "# stats\n")
    with torch.no_grad():
        assert torch.equal(pack.load_model("cpu")(x), want)
    with pytest.raises(ValueError, match="branch_dropout"):
        build_cover_cnn({**params, "branch_dropout": 1.0})


# ------------------------------------------------------------------------------------ devices


def test_device_selection_on_cpu():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(" CPU ") == torch.device("cpu")
    assert select_device("auto").type in ("cpu", "cuda", "mps")
    assert describe_device("cpu").startswith("CPU (")
    with pytest.raises(DeviceError, match="unknown device"):
        select_device("tpu")


@pytest.mark.skipif(sys.platform not in ("linux", "darwin"), reason="preloading is for Linux and macOS")
def test_torch_libraries_preload_without_importing_torch_and_torch_then_works():
    code = (
        "import sys\n"
        "from musictagger.ml.device import preload_torch_libraries\n"
        "loaded = preload_torch_libraries()\n"
        "imported = 'torch' in sys.modules\n"
        "import torch\n"
        "print('PRELOADED', loaded, imported, float(torch.ones(3).sum()), preload_torch_libraries())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # all three libraries, torch itself not imported by it, torch then as usual; again: a no-op
    assert "PRELOADED 3 False 3.0 0" in out.stdout, out.stdout + out.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_explicit_cuda_without_cuda_is_a_clear_error():
    for choice in ("cuda", "cuda:1"):
        with pytest.raises(DeviceError, match="CUDA is not available"):
            select_device(choice)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_index_out_of_range():
    assert select_device("cuda:0").type == "cuda"
    assert "(cuda:0)" in describe_device("cuda:0")
    with pytest.raises(DeviceError, match="only"):
        select_device(f"cuda:{torch.cuda.device_count()}")


def test_set_cpu_threads():
    before = torch.get_num_threads()
    try:
        from musictagger.ml.device import available_cores

        assert set_cpu_threads(0) == available_cores() == torch.get_num_threads()  # 0: all cores
        assert set_cpu_threads(1) == 1 == torch.get_num_threads()
        with pytest.raises(ValueError):
            set_cpu_threads(-1)
    finally:
        torch.set_num_threads(before)
