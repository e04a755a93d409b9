"""More than 40 kinds of bad input (tests/badinput.py) through scan, tags, set-genres, suggest and undo:
no traceback, no hang, a clear message for each bad file, and every good file processed."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from badinput import BAD, GOOD, READONLY, make_corpus
from media import make_track
from tinypacks import make_cover_pack

from musictagger.tags import read_fields

pytestmark = [pytest.mark.timeout(240), pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX")]


def cli(capsys, *argv) -> tuple[int, str, str]:
    from musictagger.cli import main

    code = main(["--no-progress", *map(str, argv)])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _clean(err: str) -> None:
    assert "Traceback" not in err and "unexpected error" not in err, err[-3000:]


def _by_path(items: list[dict]) -> dict[str, str]:
    return {item["path"]: item["message"] for item in items}


def test_bad_input_through_every_command(tmp_path: Path, app_home: Path, capsys) -> None:
    kinds = make_corpus(tmp_path / "lib")
    assert len(kinds) >= 40 + 6  # 6 plain good files, and the kinds of trouble
    good = [k for k in kinds if k.expect == GOOD]
    bad = [k for k in kinds if k.expect == BAD]
    files = [str(k.path) for k in kinds]

    # scan: one message per bad audio-named path, every good file in an album
    code, out, err = cli(capsys, "scan", tmp_path / "lib", "--json")
    _clean(err)
    assert code == 1
    scanned = json.loads(out)
    errors = _by_path(scanned["errors"])
    listed = {t["path"] for a in scanned["albums"] for t in a["tracks"]}
    for k in bad:
        if k.scanned:
            assert str(k.path) in errors and errors[str(k.path)], f"scan: no message for {k.name}"
    for k in good + [k for k in kinds if k.expect == READONLY]:
        if k.scanned:
            assert str(k.path) in listed, f"scan: {k.name} not listed"
    assert any("not valid UTF-8" in m for m in errors.values())

    # tags: every file read or explained
    code, out, err = cli(capsys, "tags", *files, "--json")
    _clean(err)
    assert code == 1
    read = json.loads(out)
    assert {f["path"] for f in read["files"]} == {str(k.path) for k in kinds if k.expect != BAD}
    assert set(_by_path(read["errors"])) == {str(k.path) for k in bad}
    assert all(read["errors"]), "every error has a message"

    # suggest (small model packs): goes through, the bad files are reported per file
    make_cover_pack(app_home / "data" / "models", {"black-metal": 3.0, "jazz": -3.0})
    code, out, err = cli(capsys, "suggest", tmp_path / "lib", "--models", "tiny-cover", "--device", "cpu", "--json")
    _clean(err)
    assert code == 1 and json.loads(out)["albums"]

    # set-genres, with one more file still growing while it runs
    growing = make_track(tmp_path / "lib" / "good" / "growing.flac", "flac", seconds=0.3, genres=["Rock"])
    stop = threading.Event()

    def copier() -> None:
        with open(growing, "ab") as fh:
            while not stop.is_set():
                fh.write(os.urandom(512))
                fh.flush()
                time.sleep(0.015)

    thread = threading.Thread(target=copier)
    thread.start()
    try:
        code, out, err = cli(capsys, "set-genres", *files, growing, "--genres", "Added", "--json")
    finally:
        stop.set()
        thread.join()
    _clean(err)
    assert code == 1
    written = json.loads(out)
    failed = _by_path(written["errors"])
    assert set(failed) == {str(k.path) for k in bad} | {str(k.path) for k in kinds if k.expect == READONLY} | {
        str(growing)
    }
    assert "still changing" in failed[str(growing)]
    for k in good:
        now = read_fields(k.path, ["genre"])["genre"]
        assert "Added" in now or len(now) >= 5, f"set-genres: {k.name} not written ({now})"

    # undo: every good file back as it was
    code, out, err = cli(capsys, "undo", "--json")
    _clean(err)
    assert code == 0
    for k in good:
        assert "Added" not in read_fields(k.path, ["genre"])["genre"], f"undo: {k.name} not restored"
