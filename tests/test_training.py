"""Training core: artist split, metrics, cover/audio training on a generated library with
learnable structure, resume, thresholds, distillation, evaluation report (learn: tests/test_learning.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from media import make_cover, make_track

from musictagger.training import Item, TeacherSource, artist_split, evaluate, train_pack
from musictagger.training import metrics as M
from musictagger.training.split import artist_key, random_split

GENRES = {
    # genre tag -> (base cover colour, audio signal, base frequency)
    "Black Metal": ((40, 40, 45), "noise", 100.0),
    "Hip Hop": ((230, 190, 30), "sine", 220.0),
}
ARTISTS_PER_GENRE = 6
ALBUMS_PER_ARTIST = 2


def tiny_options(**overrides):
    from musictagger.training.trainer import TrainOptions

    opts = TrainOptions(
        val_fraction=0.34,
        batch_size=8,
        lr=5e-3,
        patience=50,
        min_count=2,
        cover_size=32,
        cover_params={"widths": [8, 16], "dropout": 0.0},
        audio_input={
            "sample_rate": 12000,
            "n_fft": 256,
            "hop_length": 128,
            "n_mels": 32,
            "fmin": 0.0,
            "fmax": 6000.0,
            "mel_htk": False,
            "mel_norm": "slaney",
            "power": 2.0,
            "log": {"type": "db", "ref": 1.0, "top_db": 80.0, "amin": 1e-10, "multiplier": 10.0},
            "clip_seconds": 0.5,
            "frames": 47,
            "excerpts": {"count": 1, "positions": [0.5]},
        },
        audio_params={"conv_widths": [8, 16], "pools": [[2, 2], [2, 2]], "gru_width": 8, "dropout": 0.0},
        crops_per_item=2,
        seconds_per_track=2.0,
        teacher_hop_seconds=0.5,
    )
    for k, v in overrides.items():
        setattr(opts, k, v)
    return opts


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    mp.setenv("MUSICTAGGER_HOME", str(home))
    yield home
    mp.undo()


@pytest.fixture(scope="module")
def library(tmp_path_factory, home) -> Path:
    """Two genres with learnable structure: dark vs yellow covers, noise vs low sine audio;
    plus two albums whose genre tag names nothing the taxonomy knows."""
    root = tmp_path_factory.mktemp("library")
    rng = np.random.default_rng(7)
    rows = []
    for genre, (colour, signal, freq) in GENRES.items():
        for a in range(ARTISTS_PER_GENRE):
            artist = f"{genre} Artist {a}"
            for b in range(ALBUMS_PER_ARTIST):
                folder = root / artist / f"Album {b}"
                folder.mkdir(parents=True)
                jitter = rng.integers(-25, 26, size=3)
                c = tuple(int(np.clip(v + j, 0, 255)) for v, j in zip(colour, jitter))
                cover = make_cover(c, (64, 64), text=f"{a}{b}")
                path = make_track(
                    folder,
                    "flac",
                    seconds=1.0,
                    sample_rate=12000,
                    title=f"T{b}",
                    artist=artist,
                    album=f"Album {b}",
                    genres=[genre],
                    cover=cover,
                    signal=signal,
                    freq=freq + 40 * a + 7 * b,
                )
                rows.append({"path": str(path.relative_to(root)), "labels": genre, "artist": artist})
    for u in range(2):
        folder = root / "Unknown" / f"Odd {u}"
        folder.mkdir(parents=True)
        make_track(
            folder,
            "flac",
            seconds=0.5,
            sample_rate=12000,
            title="x",
            artist=f"Odd {u}",
            album=f"Odd {u}",
            genres=["Qwzxv"],
            cover=make_cover((90, 90, 90), (64, 64)),
        )
    with open(root / "labels.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "labels", "artist"])
        w.writeheader()
        w.writerows(rows)
    return root


@pytest.fixture(scope="module")
def cover_report(library, tmp_path_factory):
    out = tmp_path_factory.mktemp("packs")
    return train_pack(
        "cover", library, out_dir=out, name="test-cover", epochs=8, seed=1, device="cpu", options=tiny_options()
    )


@pytest.fixture(scope="module")
def audio_report(library, tmp_path_factory):
    out = tmp_path_factory.mktemp("apacks")
    return train_pack(
        "audio",
        library / "labels.csv",
        out_dir=out,
        name="test-audio",
        epochs=8,
        seed=1,
        device="cpu",
        options=tiny_options(),
    )


# ------------------------------------------------------------------------------------ split
def test_artist_split_never_leaks_and_is_deterministic():
    rng = np.random.default_rng(0)
    for trial in range(30):
        n_artists = int(rng.integers(2, 40))
        items = [
            Item(
                key=f"{trial}-{i}",
                artist=f"Artist {int(rng.integers(0, n_artists))}" + (" " if i % 3 else ""),
                labels=tuple(sorted({f"l{int(rng.integers(0, 5))}" for _ in range(2)})),
            )
            for i in range(int(rng.integers(5, 120)))
        ]
        for seed in (0, 1):
            train, val = artist_split(items, 0.25, seed)
            assert len(train) + len(val) == len(items)
            assert not {artist_key(i.artist) for i in train} & {artist_key(i.artist) for i in val}
            again = artist_split(items, 0.25, seed)
            assert [i.key for i in again[1]] == [i.key for i in val]
            if len({artist_key(i.artist) for i in items}) >= 2:
                assert train and val


def test_random_split_is_by_item_and_deterministic():
    items = [Item(f"k{i}", f"Band {i % 4}", ("metal",)) for i in range(40)]
    train, val = random_split(items, 0.25, 7)
    assert len(val) == 10 and len(train) == 30
    assert {i.key for i in train}.isdisjoint(i.key for i in val)
    assert {artist_key(i.artist) for i in train} & {artist_key(i.artist) for i in val}  # artists do leak
    assert [i.key for i in random_split(items, 0.25, 7)[1]] == [i.key for i in val]
    assert [i.key for i in random_split(items, 0.25, 8)[1]] != [i.key for i in val]
    assert [i.key for i in val] == sorted((i.key for i in val), key=lambda k: int(k[1:]))  # input order kept


def test_artist_split_case_insensitive_and_covers_labels():
    items = [Item(f"k{i}", ["ABBA", "abba", "Abba "][i % 3], ("pop",)) for i in range(9)]
    items += [Item(f"m{i}", f"Band {i % 4}", ("metal",)) for i in range(8)]
    items += [Item(f"p{i}", f"Popper {i % 3}", ("pop",)) for i in range(6)]
    train, val = artist_split(items, 0.3, 3)
    assert not {artist_key(i.artist) for i in train} & {artist_key(i.artist) for i in val}
    assert {lab for i in val for lab in i.labels} == {"pop", "metal"}
    assert {lab for i in train for lab in i.labels} == {"pop", "metal"}


# ------------------------------------------------------------------------------------ metrics
def test_metrics_known_values():
    y = np.array([1, 0, 1, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    assert M.average_precision(y, s) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert M.roc_auc(y, s) == pytest.approx(5 / 6)
    assert M.average_precision(np.zeros(3), np.ones(3)) is None
    assert M.roc_auc(np.ones(3), np.ones(3)) is None
    t, f1 = M.best_f1_threshold(np.array([1, 1, 0, 0]), np.array([0.9, 0.6, 0.4, 0.1]))
    assert 0.4 < t < 0.6 and f1 == pytest.approx(1.0)
    assert M.best_f1_threshold(np.zeros(4), np.array([0.9, 0.6, 0.4, 0.1])) == (0.5, None)
    yy = np.array([[1, 0], [0, 1], [1, 0]])
    pp = np.array([[0.8, 0.1], [0.7, 0.2], [0.1, 0.9]])
    assert M.top_k_accuracy(yy, pp, 1) == pytest.approx(1 / 3)
    assert M.top_k_accuracy(yy, pp, 2) == 1.0
    assert M.top_label_confusion(yy, pp, [0, 1]).tolist() == [[1, 1], [1, 0]]


# ------------------------------------------------------------------------------------ training
def test_cover_training_learns_colour_genres(cover_report):
    from musictagger.ml.packs import load_pack

    r = cover_report
    assert set(r.labels) == {"black-metal", "metal", "hip-hop"}
    assert r.data["skipped"] == 2  # the two albums with an unknown genre
    assert r.metrics["macro_ap"] >= 0.9  # chance is the positive rate, about 0.5
    pack = load_pack(r.pack_path)
    assert pack.kind == "cover" and pack.labels == r.labels
    assert set(pack.metrics["per_label_ap"]) == set(r.labels)
    assert not (r.pack_path.parent / ".test-cover.training").exists()  # checkpoint removed
    card = pack.model_card()
    assert "by artist" in card and "## Limits" in card


def test_thresholds_are_calibrated_on_validation(cover_report):
    from musictagger.ml.packs import load_pack

    pack = load_pack(cover_report.pack_path)
    th = pack.manifest.thresholds
    assert set(th) == set(pack.labels)
    assert all(0.0 < v < 1.0 for v in th.values())
    assert any(abs(v - 0.5) > 1e-6 for v in th.values())  # tuned, not the fallback
    assert all(v is not None and v >= 0.9 for v in pack.metrics["per_label_f1"].values())


def test_resume_gives_the_same_result_as_an_uninterrupted_run(library, tmp_path):
    from musictagger.ml.packs import load_pack
    from musictagger.progress import Cancelled, CancelToken

    opts = tiny_options()
    full = train_pack("cover", library, out_dir=tmp_path / "a", name="p", epochs=4, seed=3, device="cpu", options=opts)

    token = CancelToken()

    def stop_after_two_epochs(p):
        if p.stage == "train" and p.current == "epoch 2/4 checkpointed":
            token.cancel()

    with pytest.raises(Cancelled):
        train_pack(
            "cover",
            library,
            out_dir=tmp_path / "b",
            name="p",
            epochs=4,
            seed=3,
            device="cpu",
            options=opts,
            progress=stop_after_two_epochs,
            cancel=token,
        )
    state = json.loads((tmp_path / "b" / ".p.training" / "checkpoint.json").read_text())
    assert state["epoch"] == 2
    resumed = train_pack(
        "cover", library, out_dir=tmp_path / "b", name="p", epochs=4, seed=3, device="cpu", options=opts
    )
    assert resumed.resumed_from_epoch == 2
    assert load_pack(full.pack_path).sha256 == load_pack(resumed.pack_path).sha256
    assert resumed.metrics == full.metrics


def test_audio_training_from_csv_learns_pitch_vs_noise(audio_report):
    r = audio_report
    assert r.kind == "audio"
    assert set(r.labels) == {"black-metal", "metal", "hip-hop"}
    assert r.metrics["macro_ap"] >= 0.8


def test_distillation_from_a_teacher_pack(audio_report, library, tmp_path):
    from musictagger.ml.packs import load_pack

    teacher = load_pack(audio_report.pack_path)
    tracks = sorted(library.rglob("*.flac"))
    items = tuple(Item(key=str(t), artist=t.parent.parent.name, tracks=(str(t),)) for t in tracks)
    r = train_pack(
        "audio",
        TeacherSource(teacher, items=items, label_mode="taxonomy"),
        out_dir=tmp_path,
        name="student",
        epochs=20,
        seed=0,
        device="cpu",
        options=tiny_options(),
    )
    assert r.labels == teacher.labels
    assert "teacher_top5_overlap" in r.metrics and 0.0 <= r.metrics["teacher_mean_abs_diff"] < 0.5
    assert r.data["teacher"].startswith("test-audio")
    # The student follows the teacher item by item rather than settling on its average answer.
    assert r.metrics["macro_auc"] is not None and r.metrics["macro_auc"] >= 0.8
    assert load_pack(r.pack_path).kind == "audio"


def test_evaluate_writes_json_and_html(cover_report, library, tmp_path):
    out = tmp_path / "eval"
    rep = evaluate(cover_report.pack_path, library, out_dir=out, device="cpu")
    data = json.loads((out / "evaluation.json").read_text())
    html = (out / "evaluation.html").read_text()
    assert data["items"] == rep.items > 0
    assert set(data["per_label_ap"]) == set(cover_report.labels)
    assert rep.macro_ap is not None and rep.macro_ap > 0.8
    assert "<svg" in html and "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html  # self-contained
    assert "Confusion" in html


def _cli(argv):
    import argparse

    from musictagger.cli import training as training_cli

    parser = argparse.ArgumentParser(prog="musictagger")
    parser.add_argument("--no-progress", action="store_true", default=True)
    training_cli.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_train_and_evaluate_json(library, tmp_path, capsys, home):
    import musictagger.training.trainer as trainer

    rc = _cli(
        [
            "train",
            "cover",
            "--from-csv",
            str(library / "labels.csv"),
            "--name",
            "cli-cover",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["name"] == "cli-cover" and out["data"]["skipped"] == 0 and out["data"]["items"] == 24
    assert trainer.TrainOptions().cover_size == 128  # the CLI used the defaults
    rc = _cli(
        [
            "evaluate",
            str(tmp_path / "cli-cover"),
            str(library / "labels.csv"),
            "--out",
            str(tmp_path / "ev"),
            "--device",
            "cpu",
            "--json",
        ]
    )
    assert rc == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["items"] == 24 and (tmp_path / "ev" / "evaluation.html").is_file()
    assert out["data"]["split"] == "artist" and out["data"]["shared_artists"] == 0

    rc = _cli(
        [
            "train",
            "cover",
            "--from-csv",
            str(library / "labels.csv"),
            "--name",
            "cli-random",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
            "--split",
            "random",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "split at random:" in printed and "artists on both sides" in printed
    card = (tmp_path / "cli-random" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "Split: at random by item" in card and "overstate" in card


def test_importing_training_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, musictagger.training, musictagger.cli.training, musictagger.training.evaluation, "
        "musictagger.training.learning, musictagger.training.bundled; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_threshold_falls_back_when_the_model_cannot_rank_a_label():
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 1])
    useless = np.array([0.1, 0.9, 0.8, 0.7, 0.2, 0.6, 0.5, 0.4, 0.3, 0.05])  # positives at the bottom
    t, f1 = M.best_f1_threshold(y, useless)
    assert t == 0.5 and f1 == pytest.approx(2 * 3 / (10 + 3))


def test_fine_tuning_starts_from_the_base_pack(cover_report, library, tmp_path):
    from musictagger.ml.packs import load_pack

    base = load_pack(cover_report.pack_path)
    r = train_pack(
        "cover",
        library / "labels.csv",
        out_dir=tmp_path,
        name="tuned",
        epochs=1,
        seed=0,
        device="cpu",
        options=tiny_options(lr=1e-6),
        init_from=base,
    )
    tuned = load_pack(r.pack_path)
    assert tuned.architecture == base.architecture and tuned.input == base.input
    # One epoch at a tiny learning rate leaves the backbone where the base left it.
    import numpy as np

    a = base.load_model("cpu").state_dict()
    b = tuned.load_model("cpu").state_dict()
    assert np.allclose(a["features.0.weight"].numpy(), b["features.0.weight"].numpy(), atol=1e-4)
