"""Cover thumbnails, loaded lazily off the GUI thread, cached in memory (LRU) and on disk.

A view asks :meth:`ThumbnailCache.get` while painting; a miss queues the album and returns None;
when its thumbnail is made :attr:`ThumbnailCache.ready` says which album to repaint. The queue is
served newest first and kept short: scrolling fast through ten thousand albums loads the covers
now on screen, not every cover scrolled past.

Decoding and scaling use Pillow, which releases the GIL while it works (and decodes a JPEG at a
fraction of its size when that is all a thumbnail needs); Qt's image decoding would hold the GIL
and stall the window. Jobs produce a :class:`QImage` (safe in any thread) from the pixels; the
:class:`QPixmap` is made in the GUI thread. Disk entries are PNGs named after the cover's identity
(path, size, mtime), so a changed cover gets a new thumbnail.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
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


def make_thumbnail(data: bytes | Path, size: int, save_to: Path | None = None) -> QImage | None:
    """A ``size`` px thumbnail (aspect kept) of an image file's bytes or of a file, as a QImage;
    optionally saved as PNG. None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(data if isinstance(data, Path) else io.BytesIO(data))
        image.draft("RGB", (size, size))  # JPEG: decode at 1/2, 1/4 or 1/8 scale when enough
        image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        if max(image.size) > size:
            image.thumbnail((size, size), Image.Resampling.LANCZOS)
        if save_to is not None:
            try:
                save_to.parent.mkdir(parents=True, exist_ok=True)
                tmp = save_to.with_suffix(".tmp.png")
                image.save(tmp, "PNG")
                tmp.replace(save_to)
            except OSError:
                pass  # a cache that cannot be written is only slower
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None
    fmt = QImage.Format.Format_RGBA8888 if image.mode == "RGBA" else QImage.Format.Format_RGB888
    raw = image.tobytes()
    stride = image.size[0] * (4 if image.mode == "RGBA" else 3)
    return QImage(raw, image.size[0], image.size[1], stride, fmt).copy()  # copy: own the pixels


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
        size, folder = self.cache.size, self.cache.folder
        name = cover_cache_name(album, size)
        if name is None:
            return None
        disk = folder / name if folder else None
        if disk is not None and disk.is_file():
            image = make_thumbnail(disk, size)
            if image is not None:
                return image
        from musictagger.errors import MusictaggerError
        from musictagger.library import load_cover

        try:
            loaded = load_cover(album)
        except (MusictaggerError, OSError):
            return None
        if loaded is None:
            return None
        return make_thumbnail(loaded[0], size, disk)


class ThumbnailCache(QObject):
    """Thumbnails of one size. ``capacity`` pixmaps stay in memory, least recently used go first."""

    ready = Signal(str)  # album key whose thumbnail is now available (or known to be absent)

    def __init__(self, size: int, folder: Path | None, *, capacity: int = 512, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.size = size
        self.folder = folder
        self.capacity = capacity
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
