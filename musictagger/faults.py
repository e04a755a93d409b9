"""A test-only seam for fault injection: named points in the write path that tests can hook.

Production code calls :func:`point` at the moments a fault matters (a temporary copy made, tags
written, the copy fsync'd, the rename, a journal commit…). By default that is one attribute look-up
and nothing else: no environment variable, file or setting is ever consulted. Tests install a
:class:`Hook` (in-process with :func:`installed`, or in a child process started through a small
``python -c`` wrapper, see ``tests/faultkit.py``) that raises an ``OSError`` at the Nth call of a
point, SIGKILLs the process there, or simply counts the calls.

Points (``name`` and the keyword details given):

``write.temp-created`` / ``write.copied`` / ``write.written`` / ``write.synced`` / ``write.replaced``
    the stages of :func:`musictagger.journal.safe_write` (``path``);
``write.copy-chunk`` / ``write.fsync`` / ``write.rename``
    just before each chunk of the temporary copy is written, the fsync, the rename (``path``);
``journal.commit``
    just before a journal transaction commits (``durable``);
``batch.file``
    before each file of a resumable batch (``album``: albums done so far, ``file``: index in the album).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class Hook:
    """The no-op hook; tests subclass it. ``__call__`` may raise (an injected error) or kill."""

    def __call__(self, name: str, **details: Any) -> None:
        return None


_NOOP = Hook()
_hook: Hook = _NOOP


def point(name: str, **details: Any) -> None:
    """Give the installed hook (if any) a chance to inject a fault at ``name``."""
    if _hook is not _NOOP:
        _hook(name, **details)


def install(hook: Hook | None) -> None:
    """Install ``hook`` process-wide (None restores the no-op)."""
    global _hook
    _hook = hook if hook is not None else _NOOP


@contextlib.contextmanager
def installed(hook: Hook) -> Iterator[Hook]:
    """``with installed(MyHook()):`` … the hook is removed again on exit."""
    previous = _hook
    install(hook)
    try:
        yield hook
    finally:
        install(previous)
