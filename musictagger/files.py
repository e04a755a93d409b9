"""Opening a user's file safely: only regular files, never blocking, never by a stale look.

A library holds more than music files: a named pipe called ``x.mp3`` blocks a plain ``open()``
forever, a device node may act on being opened, a folder named ``x.flac`` cannot be read. Every
open of a file we were merely *told about* (a command-line argument, a scanned path, a cover
image) goes through :func:`open_regular`: the path is stat'ed first and refused unless it is a
regular file; then it is opened non-blocking (so that a pipe swapped in between cannot hang us)
and checked again on the open descriptor, which is what every read then uses.
"""

from __future__ import annotations

import errno
import io
import os
import stat

_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "not a regular file (a named pipe, FIFO)"),
    (stat.S_ISSOCK, "not a regular file (a socket)"),
    (stat.S_ISCHR, "not a regular file (a character device)"),
    (stat.S_ISBLK, "not a regular file (a block device)"),
)


class NotRegularFile(OSError):
    """The path is not a regular file (a folder, pipe, socket or device); ``strerror`` says which."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(errno.EISDIR if message == "is a directory" else errno.EINVAL, message, os.fspath(path))


def kind_problem(mode: int) -> str | None:
    """Why a file of this ``st_mode`` cannot be read as a music file, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, message in _KINDS:
        if test(mode):
            return message
    return "not a regular file"


def check_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """``os.stat`` (following links) that raises :class:`NotRegularFile` for anything else."""
    st = os.stat(path)
    problem = kind_problem(st.st_mode)
    if problem:
        raise NotRegularFile(path, problem)
    return st


def open_regular(path: str | os.PathLike[str], *, write: bool = False) -> io.BufferedReader | io.BufferedRandom:
    """Open a regular file for binary reading (``write=True``: reading and writing in place).

    Raises ``OSError`` (a :class:`NotRegularFile` for a folder, pipe, socket or device) and never
    blocks on a special file.
    """
    check_regular(path)
    flags = (os.O_RDWR if write else os.O_RDONLY) | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        problem = kind_problem(os.fstat(fd).st_mode)  # the path may have been swapped since the stat
        if problem:
            raise NotRegularFile(path, problem)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb+") if write else os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_head(path: str | os.PathLike[str], size: int) -> bytes:
    """The first ``size`` bytes of a regular file (see :func:`open_regular`)."""
    with open_regular(path) as fh:
        return fh.read(size)
