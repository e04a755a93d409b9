"""Saving reviews to the library index, off the GUI thread and out of the window's process.

Every decision (a tick, an untick, a tag added by hand), every suggestion and every status change
is handed to :class:`ReviewSaver` as a copy of the album's review; a thread of its own sends the
newest copy of each album to the core process (the ``save_reviews`` job), many albums at a time.
:meth:`ReviewSaver.flush` waits until all is written (before quitting).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.gui.worker import CoreProcess
    from musictagger.pipeline.review import AlbumReview

log = logging.getLogger(__name__)


class ReviewSaver:
    """``on_error(message)`` is called from the saver's thread when a write fails (the reviews stay
    queued and are tried again with the next save)."""

    def __init__(self, core: CoreProcess, on_error: Callable[[str], None] | None = None) -> None:
        self.core = core
        self.on_error = on_error
        self._pending: dict[str, AlbumReview] = {}
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="mt-review-saver", daemon=True)
        self._thread.start()

    def save(self, review: AlbumReview) -> None:
        """Queue a copy of ``review`` (call from the thread that owns it)."""
        copy = review.copy()
        with self._cond:
            self._pending[copy.key] = copy
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        from musictagger.errors import MusictaggerError
        from musictagger.gui.worker import Chunked

        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stop)
                if not self._pending and self._stop:
                    return
                batch, self._pending = self._pending, {}
                self._busy = True
            try:
                self.core.call("save_reviews", Chunked(list(batch.values())))
            except (MusictaggerError, OSError) as exc:
                log.warning("cannot save reviews: %s", exc)
                with self._cond:  # keep them (newer copies win) for the next try
                    self._pending = {**batch, **self._pending}
                if self.on_error is not None:
                    self.on_error(f"cannot save the review of {len(batch)} album(s): {exc}")
                with self._cond:
                    self._cond.wait(1.0)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
