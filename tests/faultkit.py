"""Fault injection for tests, through the test-only seam :mod:`musictagger.faults`.

In-process: ``with faults.installed(Fail("write.fsync", nth=3, err=errno.EIO)): …``.
In a child process: :func:`run_cli` / :func:`run_code` start ``python -c`` with a hook described by a
small dict (``{"kind": "kill", "point": "write.rename", "nth": 7}``) installed before the command
runs, so that SIGKILL trials die at an exact point of a real ``musictagger`` command. Production
code reads no environment variable for this: the hook exists only in the child that installed it.

Points are matched by exact name, or by prefix when the pattern ends in ``*`` (``write.*``).
"""

from __future__ import annotations

import errno as _errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from musictagger.faults import Hook

TESTS_DIR = Path(__file__).resolve().parent


def _matches(pattern: str, name: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


class Count(Hook):
    """Counts the calls of every point (to pick where a later trial should strike)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, name: str, **details: Any) -> None:
        self.calls[name] += 1


class Strike(Hook):
    """Acts at the ``nth`` call (1-based) of points matching ``point``; ``times`` calls from there
    (None: every call from the nth on). ``when`` optionally filters on the details."""

    def __init__(self, point: str, nth: int = 1, times: int | None = 1, when: dict[str, Any] | None = None) -> None:
        self.point, self.nth, self.times, self.when = point, nth, times, when or {}
        self.seen = 0
        self.struck = 0

    def __call__(self, name: str, **details: Any) -> None:
        if not _matches(self.point, name) or any(details.get(k) != v for k, v in self.when.items()):
            return
        self.seen += 1
        if self.seen >= self.nth and (self.times is None or self.struck < self.times):
            self.struck += 1
            self.act(name, details)

    def act(self, name: str, details: dict[str, Any]) -> None:
        raise NotImplementedError


class Fail(Strike):
    """Raises ``OSError(err)`` (EIO by default; ENOSPC for a full disk), or for the journal's commit
    point an ``sqlite3.OperationalError`` the way SQLite reports an I/O error."""

    def __init__(self, point: str, nth: int = 1, err: int = _errno.EIO, **kw: Any) -> None:
        super().__init__(point, nth, **kw)
        self.err = err

    def act(self, name: str, details: dict[str, Any]) -> None:
        if name == "journal.commit":
            raise sqlite3.OperationalError("disk I/O error" if self.err == _errno.EIO else "database or disk is full")
        raise OSError(self.err, os.strerror(self.err), details.get("path"))


class Kill(Strike):
    """SIGKILLs the process: nothing after this point runs, no cleanup, no flush."""

    def act(self, name: str, details: dict[str, Any]) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


def make_hook(spec: dict[str, Any] | None) -> Hook | None:
    if not spec:
        return None
    kind = spec["kind"]
    args = {k: v for k, v in spec.items() if k not in ("kind",)}
    return {"kill": Kill, "fail": Fail}[kind](**args)


_CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
import faultkit
from musictagger import faults
spec = json.loads(sys.argv[1])
hook = faultkit.make_hook(spec)
if hook is not None:
    faults.install(hook)
{body}
"""

_CLI_BODY = """
from musictagger.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_cli(
    argv: list[str], spec: dict[str, Any] | None = None, *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    """``musictagger ARGV…`` in a child process with the hook ``spec`` installed."""
    return run_code(_CLI_BODY, [*argv], spec, env=env, timeout=timeout)


def run_code(
    body: str,
    args: list[str],
    spec: dict[str, Any] | None = None,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """Python ``body`` (``sys.argv[2:]`` are ``args``) in a child process with the hook installed."""
    code = _CHILD.format(tests=str(TESTS_DIR), body=body)
    return subprocess.run(
        [sys.executable, "-c", code, json.dumps(spec or {}), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        timeout=timeout,
    )


def popen_cli(
    argv: list[str], spec: dict[str, Any] | None = None, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Like :func:`run_cli`, without waiting (for kills at a random moment)."""
    code = _CHILD.format(tests=str(TESTS_DIR), body=_CLI_BODY)
    return subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(spec or {}), *argv],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
