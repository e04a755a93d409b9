"""The foundation CLI as scripts use it: JSON shapes, exit codes, set-genres → runs → undo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from media import make_cover, make_track


def cli(capsys, *argv) -> tuple[int, str, str]:
    from musictagger.cli import main

    code = main(["--no-progress", *map(str, argv)])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture
def mixed(tmp_path) -> Path:
    root = tmp_path / "lib"
    a = root / "Emperor - In the Nightside Eclipse"
    b = root / "Misc"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    make_track(
        a,
        "flac",
        title="Into the Infinity",
        artist="Emperor",
        album="In the Nightside Eclipse",
        album_artist="Emperor",
        year=1994,
        genres=["Black Metal", "Symphonic Black Metal"],
        cover=make_cover(),
    )
    make_track(
        a,
        "mp3",
        title="The Majesty",
        track=2,
        artist="Emperor",
        album="In the Nightside Eclipse",
        album_artist="Emperor",
        year=1994,
        genres=["Black Metal"],
    )
    make_track(b, "ogg", title="Loose", artist="Nobody", album="Loose Ends", genres=[])
    (b / "folder.PNG").write_bytes(make_cover(fmt="PNG"))
    (b / "broken.mp3").write_bytes(b"\x00garbage" * 100)
    return root


def test_scan_json_shape_and_partial_failure_exit_code(mixed, app_home, capsys):
    code, out, err = cli(capsys, "scan", mixed, "--json")
    assert code == 1  # a file failed: non-zero, but the run went on
    data = json.loads(out)
    assert set(data) == {"albums", "errors", "warnings"}
    albums = {a["album"]: a for a in data["albums"]}
    emperor = albums["In the Nightside Eclipse"]
    assert set(emperor) == {"folder", "album", "album_artist", "year", "cover_source", "tracks"}
    assert emperor["cover_source"] == "embedded" and emperor["year"] == 1994
    assert [set(t) for t in emperor["tracks"]] == [{"path", "format", "duration", "genres"}] * 2
    assert [t["format"] for t in emperor["tracks"]] == ["flac", "mp3"]
    assert emperor["tracks"][0]["genres"] == ["Black Metal", "Symphonic Black Metal"]
    assert albums["Loose Ends"]["cover_source"] == "folder"
    assert [Path(e["path"]).name for e in data["errors"]] == ["broken.mp3"]
    assert data["errors"][0]["message"]
    assert "1 files failed" in err


def test_tags_shows_what_we_read(mixed, capsys):
    flac = next(mixed.rglob("*.flac"))
    code, out, _ = cli(capsys, "tags", flac, "--json")
    t = json.loads(out)["files"][0]
    assert t["genres"] == ["Black Metal", "Symphonic Black Metal"] and t["pictures"][0]["type"] == 3
    code, out, _ = cli(capsys, "tags", flac)
    assert "Black Metal | Symphonic Black Metal" in out and "Emperor" in out


def test_set_genres_runs_undo_round_trip(mixed, app_home, capsys):
    from musictagger.tags import read_tags

    files = sorted(p for p in mixed.rglob("*") if p.suffix in (".flac", ".mp3", ".ogg") and p.name != "broken.mp3")
    code, out, _ = cli(capsys, "set-genres", *files, "--genres", "Folk Metal;Black Metal", "--dry-run", "--json")
    dry = json.loads(out)
    assert dry["run_id"] is None and dry["dry_run"] is True
    assert read_tags(files[0]).genres == ["Black Metal", "Symphonic Black Metal"]

    code, out, _ = cli(capsys, "set-genres", *files, "--genres", "Folk Metal;Black Metal", "--json")
    assert code == 0
    run = json.loads(out)["run_id"]
    by_name = {Path(f).name: f for f in files}
    assert read_tags(by_name["01 Into the Infinity.flac"]).genres == [
        "Black Metal",
        "Symphonic Black Metal",
        "Folk Metal",
    ]
    assert read_tags(by_name["01 Loose.ogg"]).genres == ["Folk Metal", "Black Metal"]

    code, out, _ = cli(capsys, "runs", "--json")
    runs = json.loads(out)["runs"]
    assert runs[0]["id"] == run and runs[0]["kind"] == "set-genres" and runs[0]["files"] == 3
    assert {"id", "started", "files", "kind"} <= set(runs[0])

    code, out, _ = cli(
        capsys, "set-genres", files[2], "--genres", "Doom Metal", "--mode", "replace", "--field", "style"
    )
    assert "run " in out and read_tags(files[2]).styles == ["Doom Metal"]

    code, out, _ = cli(capsys, "undo", run)
    assert code == 0
    assert read_tags(by_name["01 Into the Infinity.flac"]).genres == ["Black Metal", "Symphonic Black Metal"]
    assert read_tags(by_name["01 Loose.ogg"]).genres == []
    assert read_tags(files[2]).styles == ["Doom Metal"]  # another run's field is not touched

    code, out, err = cli(capsys, "undo", run)
    assert code == 2 and "already undone" in err


def test_nothing_to_undo_is_a_clear_error(app_home, capsys):
    code, out, err = cli(capsys, "undo")
    assert code == 2 and err.startswith("musictagger: ")


def test_entry_point_runs_in_a_fresh_process(mixed, app_home):
    r = subprocess.run([sys.executable, "-m", "musictagger", "scan", str(mixed)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "Emperor — In the Nightside Eclipse (1994)" in r.stdout
    assert "broken.mp3" in r.stderr


def test_core_imports_neither_qt_nor_torch():
    code = (
        "import sys, musictagger.cli, musictagger.cli.library, musictagger.cli.journal, musictagger.cli.config, musictagger.cli.suggest, musictagger.cli.watch, musictagger.cli.models, musictagger.cli.training, "
        "musictagger.tags, musictagger.library, musictagger.journal, musictagger.pipeline, "
        "musictagger.pipeline.suggester, musictagger.taxonomy, musictagger.audio, musictagger.ml.packs, "
        "musictagger.watch, musictagger.watch.retag, musictagger.watch.service;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'librosa')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_torch_openmp_threads_spin_briefly_unless_the_environment_says_otherwise():
    """libgomp reads GOMP_SPINCOUNT when torch loads: the package sets it first (see
    musictagger.OPENMP_SPIN_COUNT and benchmarks/busy_machine.py), a user's own value wins."""
    import os

    from musictagger import OPENMP_SPIN_COUNT

    code = "import musictagger, os; print(os.environ['GOMP_SPINCOUNT'])"
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    for given, expected in ((None, OPENMP_SPIN_COUNT), ("7", "7")):
        run_env = env if given is None else {**env, "GOMP_SPINCOUNT": given}
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=run_env)
        assert r.returncode == 0 and r.stdout.strip() == expected, r.stdout + r.stderr
    assert int(OPENMP_SPIN_COUNT) < 300_000  # below libgomp's own default


def test_config_defaults_are_documented_and_loadable(capsys, tmp_path):
    import tomllib

    from musictagger.config import Config, config_from_dict

    code, out, _ = cli(capsys, "config", "--defaults")
    assert "# merge: keep what the user has" in out
    assert config_from_dict(tomllib.loads(out)) == Config()
