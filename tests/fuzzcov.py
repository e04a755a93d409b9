"""A small coverage-guided fuzzer for format detection and tag reading (no native dependency).

Like AFL or atheris, it keeps a corpus and mutates its entries (bit flips, interesting bytes, length
fields blown up, cuts, duplicated and deleted chunks, splices of two entries); an input that runs a
line-to-line transition not seen before in mutagen or in ``musictagger/tags`` joins the corpus.
Coverage comes from ``sys.settrace`` restricted to those files. The target is :func:`check`: a file
must be detected, read, written and read back, or refused with one of our per-file errors; any other
exception, or a call running past ``hang_s``, is a finding.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mutagen

import musictagger.tags as tags_pkg
from musictagger.errors import FileError

_TARGET_DIRS = (os.path.dirname(mutagen.__file__), os.path.dirname(tags_pkg.__file__))
_INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFF)


class Hang(Exception):
    pass


def check(data: bytes, work: Path) -> None:
    """The fuzz target. Raises only for a finding (not for a refused file): detection and reading
    either work or raise one of our per-file errors; the safe write either leaves the file exactly
    as it was (and says why) or leaves it holding what was written."""
    from musictagger.config import TagsConfig
    from musictagger.journal import safe_write
    from musictagger.tags import detect_format, read_fields, read_tags

    path = work / "fuzz.bin"
    path.write_bytes(data)
    try:
        detect_format(path)
        read_tags(path)
    except FileError:
        return
    try:
        safe_write(path, {"genre": ["Fuzz Rock", "Noise"]}, TagsConfig(stable_seconds=0))
    except FileError:
        if path.read_bytes() != data:
            raise AssertionError("a refused write changed the file") from None
        return
    got = read_fields(path, ["genre"])["genre"]
    if got != ["Fuzz Rock", "Noise"]:
        raise AssertionError(f"wrote genres, read back {got!r}")


@dataclass
class Stats:
    execs: int = 0
    corpus: int = 0
    edges: int = 0
    findings: list[tuple[bytes, str]] = field(default_factory=list)


class Coverage:
    def __init__(self) -> None:
        self.edges: set[tuple[str, int, int]] = set()
        self._new = 0

    def _local(self, frame, event, arg):  # noqa: ANN001 - sys.settrace signature
        if event == "line":
            edge = (frame.f_code.co_filename, self._prev.get(id(frame), -1), frame.f_lineno)
            self._prev[id(frame)] = frame.f_lineno
            if edge not in self.edges:
                self.edges.add(edge)
                self._new += 1
        return self._local

    def _global(self, frame, event, arg):  # noqa: ANN001
        if frame.f_code.co_filename.startswith(_TARGET_DIRS):
            return self._local
        return None

    def run(self, fn: Callable[[], None]) -> int:
        """Run ``fn`` traced; returns how many new edges it reached."""
        self._new = 0
        self._prev: dict[int, int] = {}
        sys.settrace(self._global)
        try:
            fn()
        finally:
            sys.settrace(None)
        return self._new


def mutate(data: bytes, corpus: list[bytes], rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5))):
        if not buf:
            buf = bytearray(rng.randbytes(16))
        op = rng.randrange(8)
        pos = rng.randrange(len(buf))
        if op == 0:
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[pos] = rng.choice(_INTERESTING)
        elif op == 2:  # a length or offset field blown up
            buf[pos : pos + 4] = rng.choice(
                (b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x00", b"\x80\x00\x00\x00")
            )
        elif op == 3:
            del buf[rng.randrange(len(buf)) :]
        elif op == 4:
            end = min(len(buf), pos + rng.randrange(1, 64))
            buf[pos:pos] = buf[pos:end]
        elif op == 5:
            del buf[pos : pos + rng.randrange(1, 64)]
        elif op == 6:
            buf[pos:pos] = rng.randbytes(rng.randrange(1, 16))
        else:
            other = rng.choice(corpus)
            cut = rng.randrange(len(other) + 1)
            buf = buf[:pos] + bytearray(other[cut:])
    return bytes(buf[: 1 << 20])


def fuzz(seeds: list[bytes], work: Path, *, seconds: float, seed: int = 0, hang_s: float = 5.0) -> Stats:
    rng = random.Random(seed)
    cov = Coverage()
    stats = Stats()
    corpus: list[bytes] = []

    def on_alarm(signum, frame):  # noqa: ANN001
        raise Hang(f"running past {hang_s} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)

    def one(data: bytes) -> int:
        stats.execs += 1
        signal.setitimer(signal.ITIMER_REAL, hang_s)
        try:
            return cov.run(lambda: check(data, work))
        except Exception as exc:  # noqa: BLE001 - every finding is kept, with its input
            stats.findings.append((data, f"{type(exc).__name__}: {exc}"))
            return 0
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    try:
        for data in seeds:
            one(data)
            corpus.append(data)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            data = mutate(rng.choice(corpus), corpus, rng)
            if one(data):
                corpus.append(data)
    finally:
        signal.signal(signal.SIGALRM, previous)
    stats.corpus, stats.edges = len(corpus), len(cov.edges)
    return stats
