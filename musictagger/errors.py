"""Our own exception types, and :class:`FileProblem`, the one shape of a per-file problem.

Library errors (mutagen, OSError, PIL, soundfile, av…) are translated into these at the boundary,
with one clear message per file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileProblem:
    """A file (or folder) a run could not use or write, with a message for a person.

    The one type for a per-file problem everywhere: scan errors and warnings, suggest errors, the
    watcher's and the batch's, a failed write (:attr:`musictagger.journal.FileOutcome.problem`), the
    GUI's Errors panel. A run reports it and goes on; :class:`FileError` is the exception that
    carries one (:meth:`FileError.problem`).

    ``to_json()`` is the ``{"path", "message"}`` object of every ``--json`` "errors"/"warnings"
    list (a public contract). It also unpacks as ``(path, message)``.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def __iter__(self) -> Iterator[str]:
        return iter((self.path, self.message))

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    @classmethod
    def of(cls, exc: BaseException, path: str | os.PathLike[str]) -> FileProblem:
        """The problem ``exc`` stands for: a :class:`FileError`'s own path and message, otherwise
        ``path`` (the file being read when it was raised) and ``str(exc)``."""
        where = getattr(exc, "path", None) or path
        return cls(os.fspath(where), str(getattr(exc, "message", exc)))


class MusictaggerError(Exception):
    """Base of every error we raise on purpose. ``str(err)`` is a message for a person."""


class FileError(MusictaggerError):
    """Something is wrong with one file; a run reports it and goes on."""

    def __init__(self, path: str | os.PathLike[str], message: str):
        self.path = os.fspath(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")

    def problem(self) -> FileProblem:
        return FileProblem(self.path, self.message)


class UnsupportedFormat(FileError):
    """Not an audio format we can tag (detected from the header, not the extension)."""


class TagReadError(FileError):
    """The file's tags could not be read (truncated, corrupt, vanished, no permission…)."""


class TagWriteError(FileError):
    """Tags could not be written; the original file is untouched."""


class VerifyError(TagWriteError):
    """The written copy did not read back as intended; the original file is untouched."""


class AudioError(FileError):
    """The audio could not be decoded (unknown or corrupt stream, no audio track, I/O failure)."""


class ConfigError(MusictaggerError):
    """The configuration file is invalid."""


class TaxonomyError(MusictaggerError):
    """A taxonomy file is malformed (unknown parent, cycle, duplicate id, name or alias)."""


class IndexDatabaseError(MusictaggerError):
    """The library index database cannot be used (not a database, or made by a newer version)."""


class JournalError(MusictaggerError):
    """The journal cannot do what was asked (unknown run, nothing to undo…)."""


class PackError(MusictaggerError):
    """A model pack is missing, malformed, tampered with, or does not fit its architecture.
    ``folder``: the pack folder that was refused, where one was (pack discovery sets it)."""

    folder: Path | None = None


class DeviceError(MusictaggerError):
    """The requested compute device (e.g. "cuda:1", "mps") is not available here."""


class CoverError(FileError):
    """A cover image cannot be used: corrupt, truncated, unsupported or too large."""


def describe_os_error(exc: OSError) -> str:
    """A short human message for an OSError, without the path (the caller adds it)."""
    import errno

    messages = {
        errno.ENOENT: "file not found (it may have been moved or deleted)",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
        errno.ENOSPC: "no space left on device",
        errno.ELOOP: "too many levels of symbolic links (a symlink loop)",
        errno.ENAMETOOLONG: "file name too long",
        errno.EISDIR: "is a directory",
        errno.EIO: "input/output error (failing disk or network share?)",
        errno.EFBIG: "file too large (over the file system's or the process's file size limit)",
        errno.EDQUOT: "disk quota exceeded",
        errno.ENXIO: "no such device (a special file?)",
    }
    known = messages.get(exc.errno) if exc.errno is not None else None
    return known or exc.strerror or str(exc)
