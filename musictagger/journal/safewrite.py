"""The atomic tag write: copy, tag the copy, verify it, fsync, rename over the original.

Tag libraries (mutagen included) rewrite a file in place; a crash, a full disk or a kill in the
middle of that leaves a half-written file, and for a music library that means a lost track. We
never touch the original's bytes: the new file is built beside it under a hidden temporary name,
read back and checked, flushed to disk, and only then swapped in with one ``rename(2)``, which
POSIX guarantees to be atomic. Killed at any moment, the path holds either the wholly old file or
the wholly new one; what can be left behind is a temporary file, whose name is recognisable
(:data:`TEMP_RE`) so that it can be cleaned up later.

The price of the rename is that the file gets a new inode: permission bits, owner and extended
attributes are copied over explicitly, and other hard links to the old inode keep the old content
(as with every editor that saves atomically).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from musictagger import faults
from musictagger.config import TagsConfig
from musictagger.errors import FileError, TagWriteError, VerifyError, describe_os_error
from musictagger.files import kind_problem, open_regular
from musictagger.journal.types import FileIdentity
from musictagger.tags import read_fields, write_fields
from musictagger.tags.types import ID3V2

#: ``.<name>.musictagger-<8 random>.tmp``: hidden, plainly ours, and without an audio extension,
#: so that a scanner that does not skip hidden files still ignores it. (The tag layer detects the
#: format from the header, so the copy needs no extension.)
TEMP_RE = re.compile(r"^\..*\.musictagger-[0-9a-z]{8}\.tmp$")
_TEMP_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_NAME_MAX = 255

#: The stages of a write, each a fault-injection point ``write.<stage>`` (see :mod:`musictagger.faults`).
KILL_STAGES = ("temp-created", "copied", "written", "synced", "replaced")
_CHUNK = 1 << 20


class FileChangedError(TagWriteError):
    """The file changed between reading its tags and replacing it; nothing was written.

    The journal catches this, re-reads the old values and tries again, so that the values it
    records as "before" are really what the file held just before our write.
    """


def file_identity(path: str | os.PathLike[str]) -> FileIdentity:
    """The identity of ``path`` (following symlinks); raises :class:`FileError` when it is gone."""
    try:
        return FileIdentity.of(os.stat(path))
    except OSError as exc:
        raise FileError(path, describe_os_error(exc)) from exc


def check_writable(path: str | os.PathLike[str]) -> os.stat_result:
    """Refuse read-only files, with a per-file error.

    ``os.replace`` only needs write access to the folder, so without this check a file the user
    protected (``chmod a-w``) would be silently replaced; as root, ``os.access`` always says yes,
    hence the explicit look at the owner's write bit too.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise TagWriteError(path, describe_os_error(exc)) from exc
    problem = kind_problem(st.st_mode)
    if problem:
        raise TagWriteError(path, problem)
    if not st.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK):
        raise TagWriteError(path, "file is read-only; not written (make it writable to tag it)")
    return st


def temp_path_for(path: str | os.PathLike[str]) -> Path:
    """A fresh temporary name beside ``path`` (in the folder of its real target)."""
    real = Path(os.path.realpath(path))
    token = "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(8))
    tail = f".musictagger-{token}.tmp"
    # Keep the whole name within NAME_MAX bytes by shortening the original name.
    name = real.name
    while len(f".{name}{tail}".encode(errors="surrogateescape")) > _NAME_MAX:
        name = name[:-1]
    return real.with_name(f".{name}{tail}")


def find_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Our temporary files directly inside ``folder`` (sorted)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(Path(folder) / n for n in names if TEMP_RE.match(n))


def remove_temp_files(folder: str | os.PathLike[str], *, min_age_s: float = 0.0) -> list[str]:
    """Delete our temporary files found in ``folder``; returns the paths removed.

    Unlike :meth:`Journal.cleanup_leftovers`, this goes by name only, so it would also remove the
    temporary file of a write in progress in another process; ``min_age_s`` guards against that
    (a tag write takes well under a minute).
    """
    import time

    removed: list[str] = []
    now = time.time()
    for p in find_temp_files(folder):
        try:
            if min_age_s and now - p.lstat().st_mtime < min_age_s:
                continue
            p.unlink()
        except OSError:
            continue
        removed.append(str(p))
    return removed


def _stage(stage: str, path: Path) -> None:
    faults.point(f"write.{stage}", path=str(path))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; some file systems refuse fsync on folders, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _copy_metadata(st: os.stat_result, src: Path, dst: Path) -> None:
    """Give the copy the original's owner (where allowed), mode and extended attributes.

    Owner before mode: ``chown`` clears set-id bits, which ``chmod`` then puts back.
    """
    if hasattr(os, "chown"):
        try:
            os.chown(dst, st.st_uid, st.st_gid)
        except PermissionError:
            pass  # not root: the file becomes ours, the usual outcome of an atomic save
    os.chmod(dst, stat.S_IMODE(st.st_mode))
    if hasattr(os, "listxattr"):
        try:
            names = os.listxattr(src)
        except OSError:
            return
        for name in names:
            try:
                os.setxattr(dst, name, os.getxattr(src, name))
            except OSError:
                pass  # e.g. security.* attributes an ordinary user may not set


def _after_replace(real: Path) -> FileIdentity | None:
    """The new file is in place: nothing that fails from here on may report the write as failed
    (the journal must record it as done, or undo would not know it). Returns its identity, None if
    it cannot be had."""
    try:
        _stage("replaced", real)
        _fsync_dir(real.parent)
        return FileIdentity.of(os.stat(real))
    except OSError:
        return None


def normalise_values(values: Mapping[str, list[str] | None]) -> dict[str, list[str]]:
    """``None`` -> ``[]``, values stripped and empties dropped: what ``write_fields`` stores (an ID3
    v2.2 tag, which cannot be written, is asked for as the nearest, v2.3)."""
    out = {k: [s.strip() for s in v or () if s.strip()] for k, v in values.items()}
    if out.get(ID3V2) == ["2.2"]:
        out[ID3V2] = ["2.3"]
    return out


def safe_write(
    path: str | os.PathLike[str],
    values: Mapping[str, list[str] | None],
    config: TagsConfig | None = None,
    *,
    expected: FileIdentity | None = None,
    temp_path: str | os.PathLike[str] | None = None,
) -> tuple[FileIdentity, FileIdentity | None]:
    """Write ``values`` (logical field -> values; ``[]``/``None`` deletes) to ``path`` atomically.

    ``expected`` is the identity the caller saw when it read the old values; if the file is not
    that file any more (checked when copying and again just before the rename), nothing is
    written and :class:`FileChangedError` is raised. ``temp_path`` lets the journal choose (and
    record) the temporary name before it exists; by default a fresh one is made.

    Returns the identity before and after (None in the rare case it cannot be read once the new
    file is in place: the write happened all the same). Raises :class:`TagWriteError` (read-only file,
    I/O error, tag library refusal) or :class:`VerifyError` (the copy did not read back as
    intended); in every error case the original is untouched and the temporary file removed.
    """
    config = config or TagsConfig()
    real = Path(os.path.realpath(path))
    tmp = Path(temp_path) if temp_path is not None else temp_path_for(real)
    intended = normalise_values(values)
    created = False
    try:
        check_writable(path)
        with open_regular(real) as src:
            st = os.fstat(src.fileno())
            before = FileIdentity.of(st)
            if expected is not None and before != expected:
                raise FileChangedError(path, "file changed since its tags were read")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise TagWriteError(
                    path, f"cannot create a temporary copy in its folder: {describe_os_error(exc)}"
                ) from exc
            created = True
            _stage("temp-created", real)
            with os.fdopen(fd, "wb") as dst:
                while chunk := src.read(_CHUNK):
                    faults.point("write.copy-chunk", path=str(real))
                    dst.write(chunk)
        _stage("copied", real)

        try:
            write_fields(tmp, intended, config)
        except FileError as exc:
            raise TagWriteError(path, exc.message) from exc
        _stage("written", real)
        try:
            got = read_fields(tmp, list(intended), config)
        except FileError as exc:
            raise VerifyError(path, f"the written copy could not be read back: {exc.message}") from exc
        # "id3v2": [] removes a tag only when it holds nothing else (see write_fields): not checked.
        wrong = {k: got.get(k, []) for k, v in intended.items() if got.get(k, []) != v and not (k == ID3V2 and v == [])}
        if wrong:
            detail = "; ".join(f"{k}: wrote {intended[k]!r}, read back {v!r}" for k, v in wrong.items())
            raise VerifyError(path, f"tags did not read back as written ({detail}); file left unchanged")

        _copy_metadata(st, real, tmp)
        if config.keep_mtime:
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            faults.point("write.fsync", path=str(real))
            os.fsync(fd)
        finally:
            os.close(fd)
        _stage("synced", real)

        # Last look before the swap: an edit by another program since our copy would be lost.
        if file_identity(real) != before:
            raise FileChangedError(path, "file changed while it was being written")
        faults.point("write.rename", path=str(real))
        os.replace(tmp, real)
        created = False
        return before, _after_replace(real)
    except OSError as exc:
        raise TagWriteError(path, describe_os_error(exc)) from exc
    except FileError as exc:
        if isinstance(exc, TagWriteError):
            raise
        raise TagWriteError(path, exc.message) from exc
    finally:
        if created:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
