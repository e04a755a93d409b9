"""Journaled writes and undo, on real audio files and a real SQLite journal."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import mutagen.flac
import pytest
from media import EXTENSIONS, FORMATS, decode_audio, make_track, untagged_bytes

from musictagger import faults
from musictagger.config import TagsConfig
from musictagger.errors import JournalError, VerifyError
from musictagger.journal import (
    FileChange,
    Journal,
    file_identity,
    find_temp_files,
    remove_temp_files,
    safe_write,
    temp_path_for,
)
from musictagger.progress import CancelToken, Progress
from musictagger.tags import read_fields

FIELDS = ["genre", "style", "MUSICTAGGER_MODEL"]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICTAGGER_HOME", str(tmp_path / "home"))


@pytest.fixture
def journal():
    with Journal() as j:
        yield j


# Tests that edit a file between our writes do not wait for it to be quiet (see stable_seconds).
QUICK = TagsConfig(stable_seconds=0)


def track(folder: Path, name: str = "a", fmt: str = "flac", genres: list[str] | None = None) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}{EXTENSIONS[fmt]}"
    return str(make_track(target, fmt, genres=["Rock"] if genres is None else genres))


def fields(path: str) -> dict[str, list[str]]:
    return read_fields(path, FIELDS)


def audio_of(path: str, fmt: str):
    """What must survive any tag write: the decoded samples (the stream itself for APE)."""
    return untagged_bytes(path) if fmt == "ape" else decode_audio(path).tobytes()


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_apply_then_undo_restores_every_format(tmp_path: Path, journal: Journal, fmt: str) -> None:
    path = track(tmp_path / "lib", fmt=fmt, genres=["Rock", "Metal"])
    before, audio = fields(path), audio_of(path, fmt)
    result = journal.apply(
        [FileChange(path, {"genre": ["Black Metal", "Doom Metal"], "MUSICTAGGER_MODEL": ["covers-v1 1.0.0"]})]
    )
    assert result.run_id is not None and result.changed_count == 1, result.outcomes
    assert fields(path)["genre"] == ["Black Metal", "Doom Metal"]
    assert fields(path)["MUSICTAGGER_MODEL"] == ["covers-v1 1.0.0"] and audio_of(path, fmt) == audio
    (entry,) = journal.entries(result.run_id)
    assert entry.status == "done" and entry.old == {"genre": ["Rock", "Metal"], "MUSICTAGGER_MODEL": []}
    assert entry.identity_after == file_identity(path) != entry.identity_before

    undo = journal.undo(result.run_id)
    assert undo.ok_count == 1 and undo.changed_count == 1, undo.outcomes
    assert fields(path) == before and audio_of(path, fmt) == audio
    assert journal.run(result.run_id).undone_by == undo.run_id
    assert [e.status for e in journal.entries(result.run_id)] == ["undone"]
    assert not find_temp_files(tmp_path / "lib")


def test_undo_leaves_fields_changed_since_and_says_so(tmp_path: Path, journal: Journal) -> None:
    path = track(tmp_path, genres=["Rock"])
    run = journal.apply([FileChange(path, {"genre": ["Black Metal"], "style": ["Atmospheric"]})]).run_id
    safe_write(path, {"genre": ["Jazz"]})  # the user retags the genre afterwards
    result = journal.undo(run, config=QUICK)
    (outcome,) = result.outcomes
    assert outcome.ok and outcome.changed and outcome.skipped == ["genre"]
    assert outcome.message == f"genre changed since run {run}; left as is"
    assert fields(path)["genre"] == ["Jazz"] and fields(path)["style"] == []


def test_undo_with_every_field_changed_since_is_recorded_and_writes_nothing(tmp_path: Path, journal: Journal) -> None:
    path = track(tmp_path, genres=["Rock"])
    run = journal.apply([FileChange(path, {"genre": ["Black Metal"]})]).run_id
    safe_write(path, {"genre": ["Jazz"]})
    identity = file_identity(path)
    result = journal.undo(run)
    assert result.outcomes[0].ok and not result.outcomes[0].changed
    assert file_identity(path) == identity
    with pytest.raises(JournalError, match=f"run {run} was already undone by run {result.run_id}"):
        journal.undo(run)


def test_undo_of_undo_reapplies(tmp_path: Path, journal: Journal) -> None:
    path = track(tmp_path, genres=["Rock"])
    run = journal.apply([FileChange(path, {"genre": ["Black Metal"]})]).run_id
    undo = journal.undo(run)
    assert fields(path)["genre"] == ["Rock"]
    assert journal.last_run_id() == undo.run_id
    redo = journal.undo()  # the newest undoable run: the undo itself
    assert redo.run_id != undo.run_id and redo.changed_count == 1
    assert fields(path)["genre"] == ["Black Metal"]
    info = journal.run(redo.run_id)
    assert (info.kind, info.undoes_run, info.status, info.files) == ("undo", undo.run_id, "done", 1)


def test_double_undo_is_refused(tmp_path: Path, journal: Journal) -> None:
    path = track(tmp_path)
    run = journal.apply([FileChange(path, {"genre": ["Sludge Metal"]})]).run_id
    undo = journal.undo(run)
    with pytest.raises(JournalError, match=f"run {run} was already undone by run {undo.run_id}"):
        journal.undo(run)
    with pytest.raises(JournalError, match="no run 999"):
        journal.undo(999)


def test_nothing_to_undo(journal: Journal) -> None:
    assert journal.last_run_id() is None
    with pytest.raises(JournalError, match="nothing to undo"):
        journal.undo()


def test_noop_change_is_not_a_write(tmp_path: Path, journal: Journal) -> None:
    path = track(tmp_path, genres=["Rock", "Metal"])
    identity = file_identity(path)
    result = journal.apply([FileChange(path, {"genre": ["Rock", "Metal"], "style": None})])
    assert result.run_id is None and result.ok_count == 1 and result.changed_count == 0
    assert file_identity(path) == identity and journal.runs() == []


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    a, b = track(tmp_path, "a"), track(tmp_path, "b", genres=["Jazz"])
    journal = Journal()
    data = {p: Path(p).read_bytes() for p in (a, b)}
    result = journal.apply([FileChange(a, {"genre": ["Doom Metal"]}), FileChange(b, {"genre": ["Jazz"]})], dry_run=True)
    assert result.run_id is None
    assert [(o.changed, o.old, o.new) for o in result.outcomes] == [
        (True, {"genre": ["Rock"]}, {"genre": ["Doom Metal"]}),
        (False, {}, {}),
    ]
    assert {p: Path(p).read_bytes() for p in (a, b)} == data
    assert not journal.db_path.exists()  # not even an empty journal
    journal.apply([FileChange(a, {"genre": ["Doom Metal"]})])
    runs = journal.runs()
    journal.apply([FileChange(a, {"genre": ["Funk"]})], dry_run=True)
    assert journal.runs() == runs and fields(a)["genre"] == ["Doom Metal"]
    journal.close()


# --------------------------------------------------------------------------- per-file errors


def test_read_only_file_is_refused_and_the_run_goes_on(tmp_path: Path, journal: Journal) -> None:
    ro, rw = track(tmp_path, "ro"), track(tmp_path, "rw")
    os.chmod(ro, 0o444)
    data = Path(ro).read_bytes()
    result = journal.apply([FileChange(ro, {"genre": ["Doom Metal"]}), FileChange(rw, {"genre": ["Doom Metal"]})])
    bad, good = result.outcomes
    assert not bad.ok and "read-only" in bad.message
    assert good.ok and good.changed and result.failed_count == 1
    assert Path(ro).read_bytes() == data and stat.S_IMODE(os.stat(ro).st_mode) == 0o444
    assert [e.status for e in journal.entries(result.run_id)] == ["failed", "done"]
    assert journal.run(result.run_id).failed == 1
    dry = journal.apply([FileChange(ro, {"genre": ["Doom Metal"]})], dry_run=True)
    assert not dry.outcomes[0].ok and "read-only" in dry.outcomes[0].message


def test_vanished_file_is_a_per_file_error_for_apply_and_undo(tmp_path: Path, journal: Journal) -> None:
    a, b = track(tmp_path, "a"), track(tmp_path, "b")
    result = journal.apply(
        [
            FileChange(str(tmp_path / "gone.flac"), {"genre": ["X"]}),
            FileChange(a, {"genre": ["Black Metal"]}),
            FileChange(b, {"genre": ["Black Metal"]}),
        ]
    )
    assert [o.ok for o in result.outcomes] == [False, True, True]
    os.unlink(a)
    undo = journal.undo(result.run_id)
    by_path = {o.path: o for o in undo.outcomes}
    assert not by_path[a].ok and "not found" in by_path[a].message
    assert by_path[b].ok and fields(b)["genre"] == ["Rock"]
    # The file that could not be undone is still undoable; the rest is not undone twice.
    assert journal.last_run_id() == undo.run_id
    again = journal.undo(result.run_id)
    assert [o.path for o in again.outcomes] == [a]


@pytest.mark.parametrize(
    ("fmt", "genres", "config"),
    [
        # One value "Rock; Pop" reads back as two genres (";" separates a single stored string).
        ("flac", ["Rock; Pop"], TagsConfig()),
        # ID3v2.3 has no multi-values: mutagen joins with "/", so "Death/Thrash" comes back split.
        ("mp3", ["Black Metal", "Death/Thrash"], TagsConfig(id3_version="2.3")),
    ],
)
def test_verification_failure_leaves_the_original_untouched(
    tmp_path: Path, journal: Journal, fmt: str, genres: list[str], config: TagsConfig
) -> None:
    path = track(tmp_path, fmt=fmt)
    data = Path(path).read_bytes()
    with pytest.raises(VerifyError, match="did not read back"):
        safe_write(path, {"genre": genres}, config)
    assert Path(path).read_bytes() == data and not find_temp_files(tmp_path)
    result = journal.apply([FileChange(path, {"genre": genres})], config=config)
    assert not result.outcomes[0].ok and "did not read back" in result.outcomes[0].message
    assert Path(path).read_bytes() == data
    assert [e.status for e in journal.entries(result.run_id)] == ["failed"]


def _edit_original_while_we_write(path: str, times: int) -> tuple[list[str], faults.Hook]:
    """Another program retags ``path`` after our copy is tagged, before the swap (the first
    ``times`` writes): a hook at the ``write.written`` point of the fault seam."""
    edits: list[str] = []

    class Edit(faults.Hook):
        def __call__(self, name: str, **details) -> None:
            if name == "write.written" and len(edits) < times:
                edits.append(f"Jazz {len(edits)}")
                other = mutagen.flac.FLAC(path)
                other["GENRE"] = [edits[-1]]
                other.save()

    return edits, Edit()


def test_edit_during_write_is_reread_so_the_recorded_old_values_are_true(
    tmp_path: Path, journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = track(tmp_path, genres=["Rock"])
    edits, hook = _edit_original_while_we_write(path, times=1)
    with faults.installed(hook):
        result = journal.apply([FileChange(path, {"genre": ["Doom Metal"]})], config=QUICK)
    assert edits == ["Jazz 0"] and result.outcomes[0].ok and fields(path)["genre"] == ["Doom Metal"]
    (entry,) = journal.entries(result.run_id)
    assert entry.old == {"genre": ["Jazz 0"]}  # what the file really held just before our write
    journal.undo(result.run_id)
    assert fields(path)["genre"] == ["Jazz 0"]


def test_file_that_keeps_changing_is_reported_not_overwritten(
    tmp_path: Path, journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = track(tmp_path, genres=["Rock"])
    edits, hook = _edit_original_while_we_write(path, times=100)
    with faults.installed(hook):
        result = journal.apply([FileChange(path, {"genre": ["Doom Metal"]})], config=QUICK)
    assert not result.outcomes[0].ok and "kept changing" in result.outcomes[0].message
    assert fields(path)["genre"] == [edits[-1]] and not find_temp_files(tmp_path)
    assert [e.status for e in journal.entries(result.run_id)] == ["failed"]


def test_unwritable_folder_is_a_per_file_error(tmp_path: Path, journal: Journal) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may create files in any folder")
    folder = tmp_path / "locked"
    path = track(folder)
    os.chmod(folder, 0o555)
    try:
        result = journal.apply([FileChange(path, {"genre": ["Doom Metal"]})])
    finally:
        os.chmod(folder, 0o755)
    assert not result.outcomes[0].ok and "temporary copy" in result.outcomes[0].message


# --------------------------------------------------------------------------- file metadata


def test_mode_owner_and_xattrs_are_kept(tmp_path: Path, journal: Journal) -> None:
    path = track(tmp_path)
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        os.chown(path, 1234, 2345)
    try:
        os.setxattr(path, "user.rating", b"5")
        has_xattr = True
    except OSError:  # file system without user xattrs
        has_xattr = False
    old_inode = os.stat(path).st_ino
    journal.apply([FileChange(path, {"genre": ["Doom Metal"]})])
    st = os.stat(path)
    assert st.st_ino != old_inode  # it really is a new file
    assert stat.S_IMODE(st.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (1234, 2345)
    if has_xattr:
        assert os.getxattr(path, "user.rating") == b"5"


def test_symlink_is_followed_not_replaced(tmp_path: Path, journal: Journal) -> None:
    target = track(tmp_path / "real")
    link = tmp_path / "link.flac"
    link.symlink_to(target)
    journal.apply([FileChange(str(link), {"genre": ["Doom Metal"]})])
    assert link.is_symlink() and fields(target)["genre"] == ["Doom Metal"]


@pytest.mark.parametrize("keep", [True, False])
def test_keep_mtime_option(tmp_path: Path, journal: Journal, keep: bool) -> None:
    path = track(tmp_path)
    old = 1_000_000_000_123_456_789
    os.utime(path, ns=(old, old))
    journal.apply([FileChange(path, {"genre": ["Doom Metal"]})], config=TagsConfig(keep_mtime=keep))
    assert (os.stat(path).st_mtime_ns == old) is keep


# --------------------------------------------------------------------------- runs, progress, cancel


def test_progress_cancel_and_history(tmp_path: Path, journal: Journal) -> None:
    paths = [track(tmp_path, f"t{i}") for i in range(4)]
    token = CancelToken()
    events: list[Progress] = []

    def on_progress(p: Progress) -> None:
        events.append(p)
        token.cancel()  # after the first file (progress events are rate-limited, the first is not)

    result = journal.apply(
        [FileChange(p, {"genre": ["Doom Metal"]}) for p in paths],
        kind="watch",
        meta={"album": "X"},
        progress=on_progress,
        cancel=token,
    )
    assert result.cancelled and result.changed_count == 1 and len(result.outcomes) == 1
    assert [fields(p)["genre"] for p in paths] == [["Doom Metal"]] + [["Rock"]] * 3
    assert {e.stage for e in events} == {"write"} and events[0].total == 4
    info = journal.run(result.run_id)
    assert (info.kind, info.status, info.files, info.meta, info.undone_by) == (
        "watch",
        "cancelled",
        1,
        {"album": "X"},
        None,
    )
    assert info.started[-6] in "+-" and info.finished is not None  # local time with its offset
    undo_events: list[Progress] = []
    journal.undo(progress=undo_events.append)
    assert undo_events[-1].stage == "undo" and undo_events[-1].done == 1
    assert fields(paths[0])["genre"] == ["Rock"]
    assert [r.kind for r in journal.runs()] == ["undo", "watch"] and len(journal.runs(limit=1)) == 1
    assert journal.last_run_id(undoable_only=False) == journal.runs()[0].id


def test_journal_is_wal_versioned_and_readable_while_open(tmp_path: Path, journal: Journal) -> None:
    journal.apply([FileChange(track(tmp_path), {"genre": ["Doom Metal"]})])
    reader = sqlite3.connect(journal.db_path)
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert reader.execute("PRAGMA user_version").fetchone()[0] == 2
    assert reader.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 1
    reader.execute("PRAGMA user_version = 99")
    reader.commit()
    reader.close()
    journal.close()
    with pytest.raises(JournalError, match="newer musictagger"):
        Journal().runs()


# --------------------------------------------------------------------------- temporary files


def test_temp_names_are_hidden_and_ours(tmp_path: Path) -> None:
    tmp = temp_path_for(tmp_path / "01 Song.flac")
    assert tmp.parent == tmp_path and tmp.name.startswith(".01 Song.flac.musictagger-") and tmp.suffix == ".tmp"
    assert temp_path_for(tmp_path / "01 Song.flac") != tmp
    assert len(temp_path_for(tmp_path / ("é" * 126 + ".flac")).name.encode()) <= 255
    ours = temp_path_for(tmp_path / "song.mp3")
    ours.write_bytes(b"x")
    (tmp_path / ".song.mp3.tmp").write_bytes(b"not ours")
    assert find_temp_files(tmp_path) == [ours]
    assert remove_temp_files(tmp_path, min_age_s=60) == []  # too fresh: maybe a write under way
    assert remove_temp_files(tmp_path) == [str(ours)] and (tmp_path / ".song.mp3.tmp").exists()


def test_cleanup_leaves_live_runs_alone(tmp_path: Path, journal: Journal) -> None:
    path = track(tmp_path)
    journal.apply([FileChange(path, {"genre": ["Doom Metal"]})])
    assert journal.cleanup_leftovers() == []
    assert Journal(tmp_path / "never-used.sqlite3").cleanup_leftovers() == []
