"""Issue #12, one test per reproduction: each lost data, hung, or ended in a traceback before.

They drive the public surfaces (the CLI, the journal, the scan) on real files in real formats.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import mutagen
import pytest
from faultkit import run_cli
from media import age, copy_track, make_cover, make_track

from musictagger.tags import read_fields, read_tags

pytestmark = pytest.mark.timeout(120)


def cli(capsys, *argv) -> tuple[int, str, str]:
    from musictagger.cli import main

    code = main(["--no-progress", *map(str, argv)])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def genres(path) -> list[str]:
    return read_fields(path, ["genre"])["genre"]


def library(folder: Path, n: int, genre: str = "Rock") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    template = make_track(folder / "template.flac", "flac", genres=[genre], seconds=0.2)
    paths = [copy_track(template, folder / f"{i:03d}.flac", genre=genre, title=f"T{i}") for i in range(n)]
    template.unlink()
    return paths


def config_file(home: Path, text: str) -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- 1. lost update in merge
def test_set_genres_merge_keeps_a_genre_set_by_another_program_meanwhile(tmp_path: Path, app_home: Path) -> None:
    """Another program changes file 150 from Rock to Jazz while set-genres runs: Jazz must stay."""
    config_file(app_home, "[tags]\nstable_seconds = 0.2\n")
    paths = library(tmp_path / "lib", 150)
    first, last = paths[0], paths[-1]
    child = subprocess.Popen(
        [sys.executable, "-m", "musictagger", "--no-progress", "set-genres", *map(str, paths), "--genres", "Added"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while "Added" not in genres(first):  # set-genres has started writing
            assert time.monotonic() < deadline and child.poll() is None, "set-genres never wrote its first file"
            time.sleep(0.002)
        other = mutagen.File(last)
        other["GENRE"] = ["Jazz"]
        other.save()
        assert child.wait(timeout=60) in (0, 1), child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
    assert "Jazz" in genres(last)  # what the other program wrote is never lost
    assert genres(last) == ["Jazz", "Added"] or child.returncode == 1


def test_apply_plans_from_the_file_not_from_the_scan(tmp_path: Path, app_home: Path) -> None:
    from musictagger.config import Config
    from musictagger.journal import Journal
    from musictagger.library import scan
    from musictagger.pipeline.apply import album_changes

    (path,) = library(tmp_path / "lib", 1)
    (album,) = scan([tmp_path / "lib"]).albums
    other = mutagen.File(path)  # after the scan, before the write
    other["GENRE"] = ["Jazz"]
    other.save()
    cfg = Config()
    cfg.tags.stable_seconds = 0
    with Journal() as journal:
        journal.apply(album_changes(album, ["Black Metal"], cfg.tags), config=cfg.tags)
    assert genres(path) == ["Jazz", "Black Metal"]


# ----------------------------------------------------------------------------- 2. a growing file
def test_a_file_still_being_copied_in_is_never_replaced(tmp_path: Path, app_home: Path, capsys) -> None:
    """A FLAC growing 512 B every 15 ms while set-genres runs, ten times over: it must end whole."""
    path = make_track(tmp_path / "incoming.flac", "flac", genres=["Rock"])
    appended = bytearray()
    stop = threading.Event()

    def copier() -> None:
        with open(path, "ab") as fh:  # the copier keeps its file open, as cp does
            while not stop.is_set():
                chunk = os.urandom(512)
                fh.write(chunk)
                fh.flush()
                appended.extend(chunk)
                time.sleep(0.015)

    original = path.read_bytes()
    thread = threading.Thread(target=copier)
    thread.start()
    try:
        time.sleep(0.05)
        messages = []
        for _ in range(10):
            code, _out, err = cli(capsys, "set-genres", path, "--genres", "Added")
            messages.append(err)
    finally:
        stop.set()
        thread.join()
    data = path.read_bytes()
    assert data.endswith(bytes(appended)) and len(data) == len(original) + len(appended)  # nothing truncated
    assert "still changing" in messages[0]


# ----------------------------------------------------------------------------- 3. relative paths
def test_undo_works_from_another_folder(tmp_path: Path, app_home: Path, capsys, monkeypatch) -> None:
    lib = tmp_path / "lib"
    (path,) = library(lib / "music", 1)
    monkeypatch.chdir(lib)
    assert cli(capsys, "set-genres", "music/000.flac", "--genres", "Doom Metal")[0] == 0
    monkeypatch.chdir("/")
    code, out, err = cli(capsys, "undo")
    assert code == 0, err
    assert genres(path) == ["Rock"]


def test_recovery_from_another_folder_records_a_write_that_landed(tmp_path: Path, app_home: Path) -> None:
    lib = tmp_path / "lib"
    (path,) = library(lib / "music", 1)
    killed = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER_RENAME, "set-genres", "music/000.flac", "--genres", "Doom Metal"],
        cwd=lib,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert genres(path) == ["Rock", "Doom Metal"]  # the rename happened just before the kill
    done = run_cli(["undo"], env={}, timeout=60)  # recovery, then undo, from the tests' folder
    assert done.returncode == 0, done.stderr.decode()
    assert genres(path) == ["Rock"]


_KILL_AFTER_RENAME = """
import os, signal, sys
from musictagger import faults
class Die(faults.Hook):
    def __call__(self, name, **details):
        if name == "write.replaced":
            os.kill(os.getpid(), signal.SIGKILL)
faults.install(Die())
from musictagger.cli import main
main(["--no-progress", *sys.argv[1:]])
"""


def test_a_version_1_journal_with_relative_paths_is_migrated(tmp_path: Path, app_home: Path) -> None:
    from musictagger.journal import Journal
    from musictagger.journal.store import _SCHEMA_V1

    lib = tmp_path / "lib"
    (path,) = library(lib / "music", 1)
    db = app_home / "data" / "journal.sqlite3"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.executescript(_SCHEMA_V1 + ";PRAGMA user_version = 1;")
    conn.execute(
        "INSERT INTO runs (kind, started, status, meta, tags_config) VALUES ('set-genres', 'x', 'done', '{}', NULL)"
    )
    temp = lib / "music" / ".000.flac.musictagger-abcd1234.tmp"
    conn.execute(
        "INSERT INTO entries (run_id, path, status, old, new, temp_path) VALUES (1, 'music/000.flac', 'done', ?, ?, ?)",
        (json.dumps({"genre": ["Pop"]}), json.dumps({"genre": ["Rock"]}), str(temp)),
    )
    conn.commit()
    conn.close()
    with Journal() as journal:
        (entry,) = journal.entries(1)
        assert entry.path == str(path)
        journal.undo(1)
    assert genres(path) == ["Pop"]


# ----------------------------------------------------------------------------- 4. an interrupted undo
def test_plain_undo_after_a_cancelled_undo_finishes_it(tmp_path: Path, app_home: Path) -> None:
    from musictagger.journal import FileChange, Journal
    from musictagger.progress import CancelToken

    paths = library(tmp_path / "lib", 30)
    token = CancelToken()
    with Journal() as journal:
        run = journal.apply([FileChange(str(p), {"genre": ["Added"]}) for p in paths]).run_id

        def progress(p) -> None:
            # Progress is rate-limited (the first event comes after the first file, then one per
            # 0.1 s): waiting for "12 done" raced the undo on a fast machine. Stop after the first.
            token.cancel()

        partial = journal.undo(run, progress=progress, cancel=token)
        assert partial.cancelled and 0 < partial.changed_count < 30
        journal.undo()  # "undo the last run": finish the undo, do not re-apply what it restored
    assert all(genres(p) == ["Rock"] for p in paths)


def test_plain_undo_after_a_killed_undo_finishes_it(tmp_path: Path, app_home: Path) -> None:
    paths = library(tmp_path / "lib", 60)  # the run: 150 files, killed after 65
    assert run_cli(["--no-progress", "set-genres", *map(str, paths), "--genres", "Added"]).returncode == 0
    killed = run_cli(["--no-progress", "undo", "1"], {"kind": "kill", "point": "write.replaced", "nth": 26})
    assert killed.returncode == -signal.SIGKILL
    assert sum(genres(p) == ["Rock"] for p in paths) == 26
    done = run_cli(["--no-progress", "undo"])
    assert done.returncode == 0, done.stderr.decode()
    assert sum(genres(p) == ["Rock"] for p in paths) == 60
    runs = json.loads(run_cli(["runs", "--json"]).stdout)["runs"]
    assert [r["status"] for r in runs] == ["done", "interrupted", "done"] and runs[-1]["undone_by"] == 3


# ----------------------------------------------------------------------------- 5. names not UTF-8
def test_a_name_that_is_not_utf8_is_written_like_any_other(tmp_path: Path, app_home: Path, capsys) -> None:
    a, b, c = library(tmp_path / "lib", 3)
    odd = os.fsdecode(os.path.join(os.fsencode(tmp_path / "lib"), b"caf\xe9 \xff.flac"))
    os.rename(b, odd)
    code, out, err = cli(capsys, "--no-progress", "set-genres", a, odd, c, "--genres", "Added")
    assert code == 0, err
    assert [genres(p) for p in (a, odd, c)] == [["Rock", "Added"]] * 3
    assert "\\xe9" in out  # shown escaped, never raw bytes
    code, out, err = cli(capsys, "undo")
    assert code == 0 and [genres(p) for p in (a, odd, c)] == [["Rock"]] * 3


# ----------------------------------------------------------------------------- 6. a FIFO named x.mp3
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command", [["tags"], ["set-genres", "--genres", "Rock"]])
def test_a_fifo_named_like_music_never_hangs(tmp_path: Path, app_home: Path, command: list[str]) -> None:
    fifo = tmp_path / "x.mp3"
    os.mkfifo(fifo)
    good = make_track(tmp_path / "good.mp3", "mp3", genres=["Pop"])
    argv = [command[0], str(fifo), str(good), *command[1:]]
    done = subprocess.run(
        [sys.executable, "-m", "musictagger", "--no-progress", *argv], capture_output=True, timeout=30
    )
    assert done.returncode == 1
    assert b"x.mp3: not a regular file (a named pipe, FIFO)" in done.stderr and b"Traceback" not in done.stderr


# ----------------------------------------------------------------------------- 7. ID3
def _v24_with_everything(path: Path) -> Path:
    from mutagen.id3 import TIPL, TMCL, TMOO, TSOA, TSOP, TSOT, TSST

    make_track(path, "mp3", genres=["Rock"])
    audio = mutagen.File(path)
    for frame in (
        TSOP(encoding=3, text="Beatles, The"),
        TSOA(encoding=3, text="White Album, The"),
        TSOT(encoding=3, text="Back in the USSR"),
        TSST(encoding=3, text="Disc One"),
        TMOO(encoding=3, text="Energetic"),
        TMCL(encoding=3, people=[["guitar", "George"], ["drums", "Ringo"]]),
        TIPL(encoding=3, people=[["producer", "George Martin"]]),
    ):
        audio.tags.add(frame)
    audio.save(v2_version=4)
    age(path)
    return path


def test_id3v23_conversion_keeps_sort_names_subtitle_mood_and_credits(tmp_path: Path, app_home: Path, capsys) -> None:
    path = _v24_with_everything(tmp_path / "a.mp3")
    code, _out, err = cli(capsys, "set-genres", path, "--genres", "Pop", "--id3-version", "2.3")
    assert code == 0, err
    tags = mutagen.id3.ID3(path, translate=False)
    assert tags.version[:2] == (2, 3)
    assert [str(tags[k]) for k in ("TSOP", "TSOA", "TSOT", "TSST")] == [
        "Beatles, The",
        "White Album, The",
        "Back in the USSR",
        "Disc One",
    ]
    assert tags["TXXX:MOOD"].text == ["Energetic"]
    assert sorted(tags["IPLS"].people) == [["drums", "Ringo"], ["guitar", "George"], ["producer", "George Martin"]]
    assert str(tags["TCON"]) == "Rock/Pop"


def _v1_and_v2(path: Path) -> tuple[Path, bytes]:
    """Like mutagen's id3v1v2-combined.mp3: a v2.3 tag (TYER 2004) and a v1 tag (year 1337)."""
    from mutagen.id3 import TALB, TYER

    make_track(path, "mp3v23", genres=["Rock"], year=None, album="Album v2")
    audio = mutagen.File(path)
    audio.tags.delall("TDRC")
    audio.tags.add(TYER(encoding=0, text="2004"))
    audio.tags.add(TALB(encoding=0, text="Album v2"))
    audio.save(v2_version=3)
    v1 = b"TAG" + b"Title v1".ljust(30, b"\0") + b"Artist v1".ljust(30, b"\0") + b"Album v1".ljust(30, b"\0")
    v1 += b"1337" + b"a v1 comment".ljust(28, b"\0") + b"\0\x05" + bytes([17])
    with open(path, "ab") as fh:
        fh.write(v1)
    age(path)
    return path, v1


def test_a_genre_write_leaves_id3v1_and_the_v2_year_and_album_alone(tmp_path: Path, app_home: Path, capsys) -> None:
    path, v1 = _v1_and_v2(tmp_path / "combined.mp3")
    before = read_tags(path)
    assert (before.year, before.album) == (2004, "Album v2")
    assert cli(capsys, "set-genres", path, "--genres", "Pop")[0] == 0
    after = read_tags(path)
    assert (after.year, after.album, after.genres, after.id3_version) == (2004, "Album v2", ["Rock", "Pop"], "2.3")
    assert path.read_bytes()[-128:] == v1  # the v1 tag, comment included, byte for byte
    assert cli(capsys, "undo")[0] == 0
    assert path.read_bytes()[-128:] == v1 and read_tags(path).genres == ["Rock"]


def test_undo_restores_the_id3_version_it_changed(tmp_path: Path, app_home: Path, capsys) -> None:
    path = make_track(tmp_path / "a.mp3", "mp3v23", genres=["Rock"])
    assert cli(capsys, "set-genres", path, "--genres", "Pop", "--id3-version", "2.4")[0] == 0
    assert read_tags(path).id3_version == "2.4"
    assert cli(capsys, "undo")[0] == 0
    assert read_tags(path).id3_version == "2.3" and read_tags(path).genres == ["Rock"]


def test_by_default_each_file_keeps_its_id3_version(tmp_path: Path, app_home: Path, capsys) -> None:
    path = make_track(tmp_path / "a.mp3", "mp3v23", genres=["Rock"])
    assert cli(capsys, "set-genres", path, "--genres", "Pop")[0] == 0
    assert read_tags(path).id3_version == "2.3" and read_tags(path).genres == ["Rock", "Pop"]


def test_undo_removes_an_id3v2_tag_the_write_created(tmp_path: Path, app_home: Path, capsys) -> None:
    path = make_track(tmp_path / "a.mp3", "mp3", genres=[])
    mutagen.id3.delete(path)  # an MP3 with no tag at all
    age(path)
    original = path.read_bytes()
    assert cli(capsys, "set-genres", path, "--genres", "Pop")[0] == 0
    assert read_tags(path).genres == ["Pop"]
    assert cli(capsys, "undo")[0] == 0
    assert path.read_bytes() == original


# ----------------------------------------------------------------------------- 8. NUL in stored genres
def test_stored_genres_with_a_nul_can_be_merged(tmp_path: Path, app_home: Path, capsys) -> None:
    flac = make_track(tmp_path / "a.flac", "flac", genres=["Rock\x00Pop", "Metal"])
    m4a = make_track(tmp_path / "b.m4a", "m4a", genres=["Rock\x00Pop"])
    code, _out, err = cli(capsys, "set-genres", flac, m4a, "--genres", "Added")
    assert code == 0, err
    assert genres(flac) == ["Rock", "Pop", "Metal", "Added"]
    assert genres(m4a) == ["Rock", "Pop", "Added"]


# ----------------------------------------------------------------------------- 9. config
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tags]\nmax_genres = -3\n", "[tags] max_genres must be between 0 and 1000, got -3"),
        ("[inference]\ncpu_threads = -1\n", "[inference] cpu_threads must be between 0 and 4096, got -1"),
        ("[inference]\nmin_confidence = 7.5\n", "[inference] min_confidence must be between 0 and 1, got 7.5"),
        ("[tags]\nid3_version = '2.5'\n", "[tags] id3_version must be one of keep, 2.3, 2.4"),
    ],
)
def test_bad_config_values_are_messages_naming_the_key(tmp_path, app_home, capsys, text, message) -> None:
    config_file(app_home, text)
    path = make_track(tmp_path / "a.flac", "flac")
    code, _out, err = cli(capsys, "set-genres", path, "--genres", "Pop")
    assert code == 2 and message in err


def test_config_file_that_is_a_folder_is_a_message(tmp_path, app_home, capsys) -> None:
    (app_home / "config" / "config.toml").mkdir(parents=True)
    code, _out, err = cli(capsys, "config")
    assert code == 2 and "config.toml: cannot read the config file: is a directory" in err


def test_negative_max_genres_flag_is_a_usage_error(tmp_path, app_home, capsys) -> None:
    path = make_track(tmp_path / "a.flac", "flac")
    with pytest.raises(SystemExit) as exit_:
        cli(capsys, "set-genres", path, "--genres", "Pop", "--max-genres", "-3")
    assert exit_.value.code == 2 and "--max-genres: must be 0 or more, got -3" in capsys.readouterr().err


# ----------------------------------------------------------------------------- 10. smaller ones
def test_any_command_recovers_a_killed_run(tmp_path: Path, app_home: Path) -> None:
    (path,) = library(tmp_path / "lib", 1)
    killed = run_cli(["set-genres", str(path), "--genres", "Pop"], {"kind": "kill", "point": "write.written"})
    assert killed.returncode == -signal.SIGKILL
    assert [p.name for p in (tmp_path / "lib").iterdir() if p.name.endswith(".tmp")]
    runs = run_cli(["runs", "--json"])  # a command that writes nothing
    assert json.loads(runs.stdout)["runs"][0]["status"] == "interrupted"
    assert b"recovered after an interrupted run" in runs.stderr
    assert sorted(p.name for p in (tmp_path / "lib").iterdir()) == ["000.flac"]


_GUI_START = """
import sys
from PySide6.QtCore import QCoreApplication, QTimer
import musictagger.gui.app as app
real = app.create_window
def create_window(*args, **kwargs):
    window = real(*args, **kwargs)
    QTimer.singleShot(200, QCoreApplication.quit)
    return window
app.create_window = create_window
sys.exit(app.main(["musictagger-gui"]))
"""


def test_the_desktop_app_recovers_a_killed_run_at_start(tmp_path: Path, app_home: Path) -> None:
    (path,) = library(tmp_path / "lib", 1)
    killed = run_cli(["set-genres", str(path), "--genres", "Pop"], {"kind": "kill", "point": "write.written"})
    assert killed.returncode == -signal.SIGKILL
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    gui = subprocess.run([sys.executable, "-c", _GUI_START], env=env, capture_output=True, timeout=60)
    assert gui.returncode == 0, gui.stderr.decode()[-2000:]
    assert sorted(p.name for p in (tmp_path / "lib").iterdir()) == ["000.flac"]
    from musictagger.journal import Journal

    with Journal() as journal:
        assert journal.runs()[0].status == "interrupted"


_START_PEEK = """
import sys
from musictagger import session
report = session.start()
print("journal imported" if "musictagger.journal" in sys.modules else "journal not imported", report.recovered_runs)
"""


def test_start_peeks_at_the_journal_and_recovers_only_when_a_run_needs_it(tmp_path: Path, app_home: Path) -> None:
    """Every start checks the journal; a clean one is answered without loading the journal and the
    tag formats (the window waits for this), a killed run still gets the full recovery."""
    (path,) = library(tmp_path / "lib", 1)
    env = {**os.environ, "HOME": str(tmp_path)}

    def start() -> str:
        out = subprocess.run([sys.executable, "-c", _START_PEEK], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.strip()

    assert start() == "journal not imported []"  # no journal yet
    assert run_cli(["set-genres", str(path), "--genres", "Pop"]).returncode == 0
    assert start() == "journal not imported []"  # a journal of finished runs
    killed = run_cli(["set-genres", str(path), "--genres", "Jazz"], {"kind": "kill", "point": "write.written"})
    assert killed.returncode == -signal.SIGKILL
    assert start() == "journal imported [2]"  # the killed run is settled
    assert start() == "journal not imported []"
    assert sorted(p.name for p in (tmp_path / "lib").iterdir()) == ["000.flac"]


def test_tags_never_sends_escape_codes_or_nuls_to_the_terminal(tmp_path: Path, app_home: Path, capsys) -> None:
    path = make_track(tmp_path / "a.flac", "flac", title="\x1b[2J\x1b]0;pwned\x07Title\x00end")
    code, out, _err = cli(capsys, "tags", path)
    assert code == 0
    assert "\x1b" not in out and "\x00" not in out and "\x07" not in out
    assert "\\x1b[2J" in out and "Title\\x00end" in out


def test_refused_user_pack_is_reported_not_silently_replaced(tmp_path: Path, app_home: Path, capsys) -> None:
    folder = app_home / "data" / "models" / "covers-v1"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{ not json")
    (tmp_path / "empty").mkdir()
    code, out, err = cli(capsys, "suggest", tmp_path / "empty", "--models", "covers-v1", "--json", "--device", "cpu")
    assert code == 0
    problems = json.loads(out)["problems"]
    assert len(problems) == 1 and "covers-v1" in problems[0] and "the bundled covers-v1 is used instead" in problems[0]
    assert "model pack not used" in err


def test_corrupt_picture_and_text_cover_are_reported(tmp_path: Path, app_home: Path, capsys) -> None:
    album = tmp_path / "lib" / "Album"
    album.mkdir(parents=True)
    path = make_track(album, "mp3", cover=make_cover())
    audio = mutagen.File(path)
    audio.tags.add(mutagen.id3.APIC(encoding=3, mime="image/jpeg", type=4, desc="back", data=b"not an image"))
    audio.save()
    age(path)
    (album / "cover.jpg").write_text("this is a text file")
    code, out, _err = cli(capsys, "scan", tmp_path / "lib", "--json")
    data = json.loads(out)
    assert code == 0 and data["albums"][0]["cover_source"] == "embedded"
    notes = {Path(w["path"]).name: w["message"] for w in data["warnings"]}
    assert "1 embedded picture is not a readable image" in notes[path.name]
    assert "not an image" in notes["cover.jpg"]


def test_read_only_file_is_refused_by_its_mode_even_for_root(tmp_path: Path, app_home: Path, capsys) -> None:
    path = make_track(tmp_path / "a.flac", "flac")
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    code, _out, err = cli(capsys, "set-genres", path, "--genres", "Pop")
    assert code == 1 and "read-only" in err and genres(path) == ["Heavy Metal"]
