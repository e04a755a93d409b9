"""Cover thumbnails, loaded lazily off the GUI thread, cached in memory (LRU) and on disk.

A view asks :meth:`ThumbnailCache.get` while painting; a miss queues the album and returns None;
when its thumbnail is ready :attr:`ThumbnailCache.ready` says which album to repaint. The queue is
served newest first and kept short: scrolling fast through ten thousand albums loads the covers
now on screen, not every cover scrolled past.

Disk entries are PNGs named after the cover's identity (path, size, mtime), so a changed cover
gets a new thumbnail. A missing one is made by ``maker`` — in the app, the core process's
``thumbnail`` job (:func:`musictagger.gui.jobs.thumbnail`: reading embedded art parses the audio
file's tags, work kept out of the window's process) — then read back here with Pillow, which
releases the GIL while it decodes (Qt's image decoding would hold it and stall the window). Jobs
produce a :class:`QImage` (safe in any thread) from the pixels; the :class:`QPixmap` is made in
the GUI thread.
"""

from __future__ import annotations

import hashlib
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


def cover_cache_name(album: Album, size: int) -> str | None:
    """The disk-cache file name for an album's cover at ``size``; None when it has no cover."""
    from musictagger.pipeline.engine import cover_identity

    if album.cover_source == "none":
        return None
    identity = cover_identity(album)
    if identity is None:
        return None
    return f"{hashlib.sha1(identity.encode('utf-8', 'surrogatepass')).hexdigest()}-{size}.png"


def read_thumbnail(path: Path) -> QImage | None:
    """A thumbnail PNG of the disk cache as a QImage (decoded by Pillow, without the GIL)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGBA" if opened.mode in ("RGBA", "LA", "P") else "RGB")
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    fmt = QImage.Format.Format_RGBA8888 if image.mode == "RGBA" else QImage.Format.Format_RGB888
    stride = image.size[0] * (4 if image.mode == "RGBA" else 3)
    # In the format the screen draws from without a conversion on every paint (also a copy that
    # owns its pixels).
    native = QImage.Format.Format_ARGB32_Premultiplied if image.mode == "RGBA" else QImage.Format.Format_RGB32
    return QImage(image.tobytes(), image.size[0], image.size[1], stride, fmt).convertToFormat(native)


def make_in_process(album: Album, size: int, dest: str) -> bool:
    """The thumbnail maker without a core process (the same job, run here)."""
    from musictagger.gui.jobs import thumbnail

    return thumbnail(album, size, dest)


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

        size = self.cache.size
        name = cover_cache_name(album, size)
        if name is None:
            return None
        disk = self.cache.folder / name
        if disk.is_file():
            image = read_thumbnail(disk)
            if image is not None:
                return image
        try:
            made = self.cache.maker(album, size, str(disk))
        except MusictaggerError:
            return None
        return read_thumbnail(disk) if made else None


class ThumbnailCache(QObject):
    """Thumbnails of one size. ``capacity`` pixmaps stay in memory, least recently used go first;
    ``maker(album, size, dest)`` writes a missing one to the disk cache (False: no cover)."""

    ready = Signal(str)  # album key whose thumbnail is now available (or known to be absent)

    def __init__(
        self,
        size: int,
        folder: Path,
        *,
        capacity: int = 512,
        maker: Callable[[Album, int, str], bool] = make_in_process,
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
