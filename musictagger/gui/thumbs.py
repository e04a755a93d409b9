"""Cover thumbnails, loaded lazily off the GUI thread, cached in memory (LRU) and on disk.

A view asks :meth:`ThumbnailCache.get` while painting; a miss queues the album and returns None;
when its thumbnail is ready :attr:`ThumbnailCache.ready` says which album to repaint. The queue is
served newest first and kept short: scrolling fast through ten thousand albums loads the covers
now on screen, not every cover scrolled past.

The pixels come from ``maker`` — in the app, the core process's ``thumbnail`` job
(:func:`musictagger.gui.jobs.thumbnail`), which keeps a disk cache of PNGs named after each cover's
identity (path, size, mtime: a changed cover gets a new thumbnail). Reading embedded art parses
the audio file's tags, and decoding images (Qt's decoders hold the GIL) would compete with the
window for it: both happen there, and this process only wraps ready pixels in a :class:`QImage`
(safe in any thread); the :class:`QPixmap` is made in the GUI thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.library import Album

#: Requests waiting beyond this many are forgotten, oldest first (they were scrolled past).
MAX_QUEUED = 96


def make_in_process(album: Album, size: int, cache_dir: str) -> tuple[int, int, bytes] | None:
    """The thumbnail maker without a core process (the same job, run here)."""
    from musictagger.gui.jobs import thumbnail

    return thumbnail(album, size, cache_dir)


class _Signals(QObject):
    loaded = Signal(str, object)  # album key, QImage | None


class _ThumbJob(QRunnable):
    """Takes albums from the cache's queue, newest first, until it is empty."""

    def __init__(self, cache: ThumbnailCache) -> None:
        super().__init__()
        self.cache = cache

    def run(self) -> None:
        while True:
            album = self.cache._next_request()
            if album is None:
                return
            try:
                image = self._load(album)
            except Exception:  # noqa: BLE001 - a cover that cannot be read shows as none
                image = None
            try:
                self.cache._signals.loaded.emit(album.key, image)
            except RuntimeError:  # the app is closing
                return

    def _load(self, album: Album) -> QImage | None:
        from musictagger.errors import MusictaggerError

        if album.cover_source == "none":
            return None
        try:
            made = self.cache.maker(album, self.cache.size, str(self.cache.folder))
        except MusictaggerError:
            return None
        if made is None:
            return None
        width, height, pixels = made
        image = QImage(pixels, width, height, 4 * width, QImage.Format.Format_ARGB32_Premultiplied)
        return image.copy()  # owns its pixels


class ThumbnailCache(QObject):
    """Thumbnails of one size. ``capacity`` pixmaps stay in memory, least recently used go first;
    ``maker(album, size, cache_dir)`` returns a thumbnail's pixels (see
    :func:`musictagger.gui.jobs.thumbnail`), None when there is no cover."""

    ready = Signal(str)  # album key whose thumbnail is now available (or known to be absent)

    def __init__(
        self,
        size: int,
        folder: Path,
        *,
        capacity: int = 512,
        maker: Callable[[Album, int, str], tuple[int, int, bytes] | None] = make_in_process,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.size = size
        self.folder = folder
        self.capacity = capacity
        self.maker = maker
        self._memory: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._queue: OrderedDict[str, Album] = OrderedDict()  # waiting, newest last
        self._loading: set[str] = set()
        self._lock = threading.Lock()
        self._jobs = 0
        self._closed = False
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._on_loaded)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)

    def get(self, album: Album) -> QPixmap | None:
        """The thumbnail if known (None while loading or when the album has no cover)."""
        key = album.key
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key]
        if album.cover_source != "none" and not self._closed:
            self._request(album)
        return None

    def _request(self, album: Album) -> None:
        with self._lock:
            if album.key in self._loading:
                return
            self._queue[album.key] = album
            self._queue.move_to_end(album.key)
            while len(self._queue) > MAX_QUEUED:
                self._queue.popitem(last=False)
            start = self._jobs < self.pool.maxThreadCount()
            if start:
                self._jobs += 1
        if start:
            self.pool.start(_ThumbJob(self))

    def _next_request(self) -> Album | None:
        with self._lock:
            if not self._queue or self._closed:
                self._jobs -= 1
                return None
            key, album = self._queue.popitem(last=True)
            self._loading.add(key)
            return album

    def forget(self, key: str) -> None:
        self._memory.pop(key, None)

    def _on_loaded(self, key: str, image: QImage | None) -> None:
        with self._lock:
            self._loading.discard(key)
        self._memory[key] = QPixmap.fromImage(image) if image is not None else None
        self._memory.move_to_end(key)
        while len(self._memory) > self.capacity:
            self._memory.popitem(last=False)
        self.ready.emit(key)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            self._queue.clear()
        self.pool.waitForDone(3000)
