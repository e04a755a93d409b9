"""Cover-only items: image files in folders that hold no audio.

``musictagger suggest ~/Pictures/covers`` (or a folder of scans, or the covers you are about to
embed) judges each picture on its own: every image file in a folder without audio tracks becomes
an :class:`Album` with no tracks whose cover is that file, so the cover model runs on it and
nothing is ever written (there is no track to write to).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from musictagger.library.types import COVER_FOLDER, Album

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"})


def cover_only_albums(roots: Sequence[str | os.PathLike[str]], audio_folders: Iterable[str]) -> list[Album]:
    """One track-less album per image file in the folders under ``roots`` that hold no audio.

    Hidden files and folders are skipped; symbolic links to folders are not followed (a folder of
    pictures needs no loop detection that way). Sorted by path.
    """
    skip = {os.path.realpath(f) for f in audio_folders}
    out: list[Album] = []
    for root in roots:
        root = os.path.abspath(os.fspath(root))
        if os.path.isfile(root):
            if Path(root).suffix.lower() in IMAGE_EXTENSIONS:
                out.append(_album(root))
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            if os.path.realpath(dirpath) in skip:
                continue
            for name in sorted(filenames):
                if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_EXTENSIONS:
                    out.append(_album(os.path.join(dirpath, name)))
    return out


def _album(path: str) -> Album:
    return Album(
        key=f"image\x1f{path}",
        folder=os.path.dirname(path),
        album=Path(path).stem,
        album_artist=None,
        year=None,
        tracks=[],
        cover_source=COVER_FOLDER,
        cover_path=path,
    )
