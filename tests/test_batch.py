"""Batch re-tagging survives SIGKILL: a re-run finishes, every album written exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

from media import make_cover, make_track
from tinypacks import make_cover_pack


def run_apply(root: Path, env: dict, fault: dict | None = None) -> subprocess.CompletedProcess:
    from faultkit import run_cli

    argv = ["--no-progress", "apply", str(root), "--write", "--models", "tiny-cover", "--device", "cpu", "--json"]
    done = run_cli(argv, fault, env=env, timeout=300)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def test_killed_batch_resumes_and_writes_each_album_exactly_once(tmp_path, app_home):
    import json

    from musictagger.journal import Journal
    from musictagger.tags import read_tags

    make_cover_pack(app_home / "data" / "models", {"black-metal": 3.0, "jazz": -3.0})
    root = tmp_path / "collection"
    cover = make_cover((10, 10, 10))
    tracks = []
    for a in range(6):
        d = root / f"Artist {a}" / f"Album {a}"
        d.mkdir(parents=True)
        for t in range(3):
            tracks.append(
                make_track(
                    d,
                    "flac",
                    title=f"T{t}",
                    track=t + 1,
                    artist=f"Artist {a}",
                    album=f"Album {a}",
                    genres=["Metal"],
                    cover=cover,
                )
            )
    env = dict(os.environ)
    # SIGKILL after two albums, between the first and second file of the third.
    killed = run_apply(root, env, {"kind": "kill", "point": "batch.file", "when": {"album": 2, "file": 1}})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    written_first = [t for t in tracks if "Black Metal" in read_tags(t).genres]
    assert 0 < len(written_first) < len(tracks)  # it really stopped midway (mid-album, too)
    assert len(written_first) % 3 == 1

    done = run_apply(root, env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["summary"]
    assert summary["resumed"] is True
    assert summary["albums_total"] == 6 and summary["albums_skipped"] == 2

    for t in tracks:
        assert read_tags(t).genres == ["Metal", "Black Metal"]
    with Journal() as journal:
        runs = journal.runs()
        writes = Counter(e.path for r in runs for e in journal.entries(r.id) if e.status == "done")
    assert len(runs) == 2
    assert set(writes) == {str(t) for t in tracks}
    assert set(writes.values()) == {1}  # no file written twice

    # A third run over the finished batch starts afresh and finds nothing to change.
    again = run_apply(root, env)
    assert json.loads(again.stdout)["summary"]["files_changed"] == 0
