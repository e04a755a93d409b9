"""The desktop app (PySide6): review model suggestions album by album, then apply them safely.

This package is the only place that imports Qt. It is also careful about *when* and *where* work
runs: the window is shown before anything heavy is imported, and the core's work — scans, the
models (torch), tag writes — runs in a process of its own (:mod:`musictagger.gui.worker`), so the
window's event loop never waits for it.

Layout: ``app`` (entry point) → ``window`` (menus, docks, wiring) → ``controller`` (library state
and the runs) → ``tasks`` (background workers, waiting on jobs of the core process: ``worker``,
``worker_main``, ``jobs``). Models, delegates, panels and dialogs live in their own small modules.
"""

from __future__ import annotations

import sys


def keep_singletons_alive() -> None:
    """Work around a PySide6 binding bug on CPython < 3.12: some calls from Python into Qt hand
    back ``None``, ``True`` or ``False`` without a reference (``QModelIndex.data()`` of a role a
    model does not serve, paths through ``QStyledItemDelegate.initStyleOption``,
    ``QStyle.drawControl``, selection queries…). Each such call lowers the singleton's reference
    count by one; after some thousands of repaints of the album table or grid it reaches zero and
    the interpreter aborts ("Fatal Python error: none_dealloc" / "bool_dealloc"). From 3.12 on
    these objects are immortal and nothing happens; before, we give them a reference count no
    session can use up (static objects: they are never freed either way).
    ``tests/test_gui_review.py`` reproduces the abort without this."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    import ctypes

    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))
        if refcount.value < 1 << 40:
            refcount.value += 1 << 40
