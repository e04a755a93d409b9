"""The fault suite: SIGKILL at random points of set-genres / undo / apply, an I/O error or a full disk
at the Nth copy-chunk / fsync / rename / journal commit, and a real file-size limit.

After every fault: each file is wholly old or wholly new (its genre one or the other, its audio
identical), no temporary file survives the next start, and undo brings back 100 % of the files.
The quick trials run in the normal suite; ``-m faults`` (``make test-faults``) runs many more,
with kills at random moments as well as at named points, and the batch (``apply --write``).
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest
from faultkit import Fail, Kill, popen_cli, run_cli, run_code
from media import EXTRA_FORMATS, FORMATS, decode_audio, make_cover, make_extra_track, make_track, untagged_bytes

from musictagger import faults
from musictagger.config import TagsConfig
from musictagger.errors import JournalError
from musictagger.journal import FileChange, GenreEdit, Journal, find_temp_files
from musictagger.tags import read_fields

OLD, ADDED = ["Rock"], "Doom Metal"
NEW = OLD + [ADDED]
POINTS = ("write.temp-created", "write.copied", "write.written", "write.synced", "write.replaced", "journal.commit")
SEED = int(os.environ.get("MUSICTAGGER_FAULT_SEED", "12"))  # the test's own knob, read by the test only


# --------------------------------------------------------------------------- a library in every format
@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small file per format, made once; each trial copies them (mtime kept: an old library)."""
    folder = tmp_path_factory.mktemp("templates")
    for fmt in FORMATS:
        make_track(folder / f"{fmt}.{fmt}", fmt, genres=OLD, seconds=0.3, title=f"{fmt} title")
    for fmt in EXTRA_FORMATS:
        make_extra_track(folder / f"x.{fmt}", fmt, genres=OLD)
    return folder


# A smaller mix for the many in-process I/O-error cases: one file per tag family and then some.
SMALL = ("mp3.mp3", "mp3v23.mp3v23", "flac.flac", "opus.opus", "m4a.m4a", "wma.wma", "wv.wv", "x.tta")


class Library:
    def __init__(self, templates: Path, folder: Path, only: tuple[str, ...] | None = None) -> None:
        if only is None:
            shutil.copytree(templates, folder, copy_function=shutil.copy2)
        else:
            folder.mkdir()
            for name in only:
                shutil.copy2(templates / name, folder / name)
        self.folder = folder
        self.paths = sorted(folder.iterdir())
        self.audio = {p: _audio(p) for p in self.paths}

    def check(self, allowed: tuple[list[str], ...] = (OLD, NEW)) -> dict[str, int]:
        """Every file old or new, audio untouched; returns how many are in each state."""
        states = {"old": 0, "new": 0}
        for p in self.paths:
            got = read_fields(p, ["genre"])["genre"]
            assert got in allowed, f"{p.name}: genre {got} is neither old nor new"
            states["new" if got == NEW else "old"] += 1
            assert _audio(p) == self.audio[p], f"{p.name}: the audio changed"
        return states

    def assert_no_temp_files(self) -> None:
        assert find_temp_files(self.folder) == []


def _audio(path: Path) -> bytes:
    """The audio: decoded where a decoder exists, else the file without its tags."""
    try:
        return decode_audio(path).tobytes()
    except Exception:  # noqa: BLE001 - stand-in frame data (APE, Musepack, TAK…): compare bytes
        data = untagged_bytes(path)
        if data[:3] == b"ID3":  # an ID3v2 tag in front (TTA): skip it
            size = int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big")
            data = data[10 + size :]
        elif data[:4] in (b"DSD ", b"FRM8"):  # DSD: the audio chunk only
            start = data.find(b"data" if data[:4] == b"DSD " else b"DSD \x00")
            data = data[start : start + 8192 + 12]
        return data


def _kill_in_child(argv: list[str], hook: faults.Hook) -> int:
    """Run ``musictagger ARGV`` in a forked child with ``hook`` installed; its exit status."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            from musictagger.cli import main

            faults.install(hook)
            code = main(["--no-progress", *argv])
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _cli(*argv: str) -> int:
    from musictagger.cli import main

    return main(["--no-progress", *argv])


def _set_genres_trial(lib: Library, point: str, nth: int) -> None:
    paths = [str(p) for p in lib.paths]
    status = _kill_in_child(["set-genres", *paths, "--genres", ADDED], Kill(point, nth))
    assert status in (-signal.SIGKILL, 0), status
    lib.check()
    # The next start (any command) recovers; undo then restores every file that was written.
    assert _cli("runs", "--json") == 0
    lib.assert_no_temp_files()
    lib.check()
    with Journal() as journal:
        if journal.last_run_id() is not None:
            journal.undo()
    assert lib.check() == {"old": len(lib.paths), "new": 0}


def _undo_trial(lib: Library, point: str, nth: int) -> None:
    paths = [str(p) for p in lib.paths]
    assert _cli("set-genres", *paths, "--genres", ADDED) == 0
    assert lib.check() == {"old": 0, "new": len(lib.paths)}
    status = _kill_in_child(["undo"], Kill(point, nth))
    assert status in (-signal.SIGKILL, 0), status
    lib.check()
    assert _cli("undo") == 0 or status == 0  # resumes the interrupted undo (after a full one: redo)
    lib.assert_no_temp_files()
    if status == 0:  # the undo had finished before the kill point: the plain undo re-applied it
        assert _cli("undo") == 0
    assert lib.check() == {"old": len(lib.paths), "new": 0}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("trial", range(3))
def test_sigkill_during_set_genres_and_undo(templates: Path, tmp_path: Path, app_home: Path, trial: int) -> None:
    rng = random.Random(SEED * 100 + trial)
    lib = Library(templates, tmp_path / "lib")
    _set_genres_trial(lib, rng.choice(POINTS), rng.randint(1, len(lib.paths)))
    _undo_trial(lib, rng.choice(POINTS), rng.randint(1, len(lib.paths)))


@pytest.mark.faults
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("trial", range(40))
def test_sigkill_many_points(templates: Path, tmp_path: Path, app_home: Path, trial: int) -> None:
    rng = random.Random(SEED * 1000 + trial)
    lib = Library(templates, tmp_path / "lib")
    _set_genres_trial(lib, rng.choice(POINTS), rng.randint(1, 2 * len(lib.paths)))
    _undo_trial(lib, rng.choice(POINTS), rng.randint(1, 2 * len(lib.paths)))


@pytest.mark.faults
@pytest.mark.parametrize("trial", range(10))
def test_sigkill_at_a_random_moment(templates: Path, tmp_path: Path, app_home: Path, trial: int) -> None:
    """Not at a named point: after a random delay, whatever the process is doing."""
    rng = random.Random(SEED * 7 + trial)
    lib = Library(templates, tmp_path / "lib")
    paths = [str(p) for p in lib.paths]
    child = popen_cli(["--no-progress", "set-genres", *paths, "--genres", ADDED])
    time.sleep(rng.uniform(0.3, 1.5))  # python start-up and imports take part of it
    child.kill()
    child.wait(timeout=30)
    lib.check()
    assert run_cli(["undo"]).returncode in (0, 2)  # 2: nothing had been written yet
    lib.assert_no_temp_files()
    assert lib.check() == {"old": len(lib.paths), "new": 0}


@pytest.mark.faults
@pytest.mark.parametrize("trial", range(6))
def test_sigkill_during_the_batch(tmp_path: Path, app_home: Path, trial: int) -> None:
    """``apply --write`` killed at a random file, three times over: every album written exactly once."""
    from collections import Counter

    from tinypacks import make_cover_pack

    rng = random.Random(SEED + trial)
    make_cover_pack(app_home / "data" / "models", {"black-metal": 3.0, "jazz": -3.0})
    root = tmp_path / "collection"
    cover = make_cover((10, 10, 10))  # the tiny pack answers from the cover
    tracks = []
    for a in range(5):
        folder = root / f"Album {a}"
        folder.mkdir(parents=True)
        for t in range(3):
            tracks.append(
                make_track(
                    folder, "flac", title=f"T{t}", track=t + 1, album=f"Album {a}", genres=["Metal"], cover=cover
                )
            )
    argv = ["--no-progress", "apply", str(root), "--write", "--models", "tiny-cover", "--device", "cpu", "--json"]
    for _ in range(3):
        spec = {"kind": "kill", "point": "batch.file", "when": {"album": rng.randint(0, 2), "file": rng.randint(0, 2)}}
        run_cli(argv, spec, timeout=300)
        for t in tracks:
            assert read_fields(t, ["genre"])["genre"] in (["Metal"], ["Metal", "Black Metal"])
    assert run_cli(argv, timeout=300).returncode == 0
    assert all(read_fields(t, ["genre"])["genre"] == ["Metal", "Black Metal"] for t in tracks)
    with Journal() as journal:
        writes = Counter(e.path for r in journal.runs() for e in journal.entries(r.id) if e.status == "done")
    assert set(writes.values()) == {1} and len(writes) == len(tracks)


# --------------------------------------------------------------------------- I/O errors and a full disk
FAILING = [
    ("write.copy-chunk", errno.ENOSPC),
    ("write.copy-chunk", errno.EIO),
    ("write.written", errno.EIO),
    ("write.fsync", errno.EIO),
    ("write.fsync", errno.ENOSPC),
    ("write.rename", errno.EIO),
    ("write.rename", errno.EXDEV),
    ("write.replaced", errno.EIO),  # after the rename: the write happened all the same
]


@pytest.mark.parametrize(("point", "err"), FAILING)
def test_io_error_at_the_nth_step_fails_that_file_only(
    templates: Path, tmp_path: Path, app_home: Path, point: str, err: int
) -> None:
    lib = Library(templates, tmp_path / "lib", SMALL)
    nth = random.Random(f"{point}{err}").randint(1, len(lib.paths))
    with Journal() as journal:
        changes = [FileChange(str(p), edit=GenreEdit("genre", (ADDED,))) for p in lib.paths]
        with faults.installed(Fail(point, nth, err=err)):
            result = journal.apply(changes, config=TagsConfig(stable_seconds=0))
        lib.assert_no_temp_files()
        states = lib.check()
        failed = [o for o in result.outcomes if not o.ok]
        if point == "write.replaced":
            assert not failed and states["new"] == len(lib.paths)
        else:
            assert len(failed) == 1 and os.strerror(err).split()[0].lower() in failed[0].message.lower()
            assert states == {"old": 1, "new": len(lib.paths) - 1}
        journal.undo(result.run_id)
    assert lib.check() == {"old": len(lib.paths), "new": 0}


@pytest.mark.parametrize(("nth", "err"), [(1, errno.EIO), (2, errno.EIO), (5, errno.EIO), (8, errno.ENOSPC)])
def test_journal_io_error_stops_the_run_and_loses_nothing(
    templates: Path, tmp_path: Path, app_home: Path, nth: int, err: int
) -> None:
    """Like SQLite's own I/O-error tests: from the Nth journal commit on, every commit fails. The run
    stops (nothing may be written that is not journaled); once the journal works again, every
    written file is known (recovery settles the run in this very process) and undone."""
    lib = Library(templates, tmp_path / "lib", SMALL)
    with Journal() as journal:
        changes = [FileChange(str(p), edit=GenreEdit("genre", (ADDED,))) for p in lib.paths]
        with faults.installed(Fail("journal.commit", nth, err=err, times=None)), pytest.raises(JournalError):
            journal.apply(changes, config=TagsConfig(stable_seconds=0))
    lib.check()
    with Journal() as journal:
        journal.recover()
        lib.assert_no_temp_files()
        if journal.last_run_id() is not None:
            journal.undo()
    assert lib.check() == {"old": len(lib.paths), "new": 0}


_FILE_SIZE_LIMIT = """
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from musictagger.cli import main
sys.exit(main(["--no-progress", "set-genres", "--json", *sys.argv[3:]]))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_a_real_write_limit_fails_the_big_file_and_keeps_it(tmp_path: Path, app_home: Path) -> None:
    """No injected error: the kernel refuses to let the process write past a size (as a full disk
    would), half-way through copying the big file."""
    small = make_track(tmp_path / "small.flac", "flac", genres=OLD, seconds=0.2)
    big = make_track(tmp_path / "big.flac", "flac", genres=OLD, seconds=8, signal="noise")
    limit = small.stat().st_size + 200_000
    assert big.stat().st_size > limit
    before = big.read_bytes()
    run_cli(["runs"])  # create the journal outside the limit
    done = run_code(_FILE_SIZE_LIMIT, [str(limit), str(small), str(big), "--genres", ADDED], timeout=60)
    assert done.returncode == 1, done.stderr.decode()
    errors = json.loads(done.stdout)["errors"]
    assert [Path(e["path"]).name for e in errors] == ["big.flac"] and "file too large" in errors[0]["message"]
    assert big.read_bytes() == before and read_fields(small, ["genre"])["genre"] == NEW
    assert find_temp_files(tmp_path) == []
