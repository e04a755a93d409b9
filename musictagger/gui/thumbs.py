"""Cover thumbnails, loaded lazily off the GUI thread, cached in memory (LRU) and on disk.

A view asks :meth:`ThumbnailCache.get` while painting; a miss starts one background job per
album (deduplicated) and returns None; when the job is done :attr:`ThumbnailCache.ready` says
which album to repaint. Jobs produce a :class:`QImage` (safe in any thread); the
:class:`QPixmap` is made in the GUI thread. Disk entries are PNGs named after the cover's
identity (path, size, mtime), so a changed cover gets a new thumbnail.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.library import Album


def cover_cache_name(album: Album, size: int) -> str | None:
    """The disk-cache file name for an album's cover at ``size``; None when it has no cover."""
    from musictagger.pipeline.engine import cover_identity

    if album.cover_source == "none":
        return None
    identity = cover_identity(album)
    if identity is None:
        return None
    return f"{hashlib.sha1(identity.encode('utf-8', 'surrogatepass')).hexdigest()}-{size}.png"


class _Signals(QObject):
    loaded = Signal(str, object)  # album key, QImage | None


class _ThumbJob(QRunnable):
    def __init__(self, album: Album, size: int, folder: Path | None, signals: _Signals) -> None:
        super().__init__()
        self.album, self.size, self.folder, self.signals = album, size, folder, signals

    def run(self) -> None:
        self.signals.loaded.emit(self.album.key, self._load())

    def _load(self) -> QImage | None:
        name = cover_cache_name(self.album, self.size)
        if name is None:
            return None
        disk = self.folder / name if self.folder else None
        if disk is not None and disk.is_file():
            image = QImage(str(disk))
            if not image.isNull():
                return image
        from musictagger.errors import MusictaggerError
        from musictagger.library import load_cover

        try:
            loaded = load_cover(self.album)
        except (MusictaggerError, OSError):
            return None
        if loaded is None:
            return None
        image = QImage.fromData(loaded[0])
        if image.isNull():
            return None
        image = image.scaled(
            self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        if disk is not None:
            try:
                disk.parent.mkdir(parents=True, exist_ok=True)
                tmp = disk.with_suffix(".tmp.png")
                if image.save(str(tmp), "PNG"):
                    tmp.replace(disk)
            except OSError:
                pass  # a cache that cannot be written is only slower
        return image


class ThumbnailCache(QObject):
    """Thumbnails of one size. ``capacity`` pixmaps stay in memory, least recently used go first."""

    ready = Signal(str)  # album key whose thumbnail is now available (or known to be absent)

    def __init__(self, size: int, folder: Path | None, *, capacity: int = 512, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.size = size
        self.folder = folder
        self.capacity = capacity
        self._memory: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._pending: set[str] = set()
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
        if album.cover_source != "none" and key not in self._pending:
            self._pending.add(key)
            self.pool.start(_ThumbJob(album, self.size, self.folder, self._signals))
        return None

    def forget(self, key: str) -> None:
        self._memory.pop(key, None)

    def _on_loaded(self, key: str, image: QImage | None) -> None:
        self._pending.discard(key)
        self._memory[key] = QPixmap.fromImage(image) if image is not None else None
        self._memory.move_to_end(key)
        while len(self._memory) > self.capacity:
            self._memory.popitem(last=False)
        self.ready.emit(key)

    def shutdown(self) -> None:
        self.pool.clear()
        self.pool.waitForDone(3000)
