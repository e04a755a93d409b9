"""Watching folders for new albums, and resumable batch re-tagging (no Qt, no torch at import)."""

from musictagger.watch.state import WatchState, folder_signature
from musictagger.watch.watcher import FolderWatcher

__all__ = ["FolderWatcher", "WatchState", "folder_signature"]
