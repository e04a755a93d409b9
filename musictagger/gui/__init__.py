"""The desktop app (PySide6): review model suggestions album by album, then apply them safely.

This package is the only place that imports Qt. It is also careful about *when* it imports the
rest: the window is shown before torch is loaded — torch is imported by the
:class:`~musictagger.pipeline.engine.Suggester` in a worker thread on the first Suggest — so the
app appears as fast as a bare Qt window.

Layout: ``app`` (entry point) → ``window`` (menus, docks, wiring) → ``controller`` (library state
and the runs) → ``tasks`` (background workers). Models, delegates, panels and dialogs live in
their own small modules.
"""
