"""Crash safety: a writer SIGKILLed at each stage of a write leaves the file wholly old or wholly
new, and the next start cleans up exactly what it left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultkit import run_code
from media import make_track

from musictagger.errors import JournalError
from musictagger.journal import Journal, find_temp_files, safe_write
from musictagger.journal.safewrite import KILL_STAGES
from musictagger.tags import read_fields

NEW = {"genre": ["Black Metal", "Doom Metal"]}

CHILD = """
from musictagger.journal import FileChange, Journal
Journal().apply([FileChange(sys.argv[2], {"genre": ["Black Metal", "Doom Metal"]})])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("stage", KILL_STAGES)
def test_killed_writer_leaves_old_or_new_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MUSICTAGGER_HOME", str(home))
    lib = tmp_path / "lib"
    lib.mkdir()
    path = make_track(lib / "song.flac", "flac", genres=["Rock"])
    old_bytes = path.read_bytes()
    # The wholly-new file, made by the same write left to finish elsewhere.
    (tmp_path / "ref").mkdir()
    ref = shutil.copy(path, tmp_path / "ref" / "song.flac")
    safe_write(ref, NEW)
    new_bytes = Path(ref).read_bytes()
    assert new_bytes != old_bytes

    child = run_code(CHILD, [str(path)], {"kind": "kill", "point": f"write.{stage}"}, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()

    landed = stage == "replaced"
    assert path.read_bytes() == (new_bytes if landed else old_bytes)
    leftovers = find_temp_files(lib)
    assert len(leftovers) == (0 if landed else 1)

    with Journal() as journal:
        (run,) = journal.runs()
        assert run.status == "running"
        assert journal.cleanup_leftovers() == [str(p) for p in leftovers]
        assert find_temp_files(lib) == [] and sorted(os.listdir(lib)) == ["song.flac"]
        run = journal.run(run.id)
        assert run.status == "interrupted" and run.finished is not None
        (entry,) = journal.entries(run.id)
        assert entry.status == ("done" if landed else "failed")
        if landed:
            # The journal knows the write happened, so it can be undone.
            journal.undo(run.id)
            assert read_fields(str(path), ["genre"]) == {"genre": ["Rock"]}
        else:
            assert journal.last_run_id() is None
        assert journal.cleanup_leftovers() == []


LIVE_CHILD = """
import sys, time
from pathlib import Path
from musictagger.journal import FileChange, Journal

def pause(progress):
    Path(sys.argv[3]).touch()  # tell the test the first file is done
    time.sleep(60)

Journal().apply([FileChange(p, {"genre": ["Doom Metal"]}) for p in sys.argv[1:3]], progress=pause)
"""


def test_live_run_of_another_process_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICTAGGER_HOME", str(tmp_path / "home"))
    a = make_track(tmp_path / "a.flac", "flac", genres=["Rock"])
    b = make_track(tmp_path / "b.flac", "flac", genres=["Rock"])
    marker = tmp_path / "first-done"
    child = subprocess.Popen([sys.executable, "-c", LIVE_CHILD, str(a), str(b), str(marker)])
    try:
        for _ in range(600):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), "the child never finished its first file"
        with Journal() as journal:
            (run,) = journal.runs()
            assert journal.cleanup_leftovers() == [] and journal.run(run.id).status == "running"
            with pytest.raises(JournalError, match=f"run {run.id} is still running"):
                journal.undo(run.id)
            child.kill()
            child.wait(timeout=30)
            assert journal.cleanup_leftovers() == []
            assert journal.run(run.id).status == "interrupted"
            # The file written before the death is journaled and can be undone; the other was never touched.
            assert read_fields(str(a), ["genre"]) == {"genre": ["Doom Metal"]}
            assert read_fields(str(b), ["genre"]) == {"genre": ["Rock"]}
            assert [o.path for o in journal.undo(run.id).outcomes] == [str(a)]
            assert read_fields(str(a), ["genre"]) == {"genre": ["Rock"]}
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
