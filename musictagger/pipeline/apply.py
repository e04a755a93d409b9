"""From reviewed suggestions to tag changes: what ``apply``, the GUI's Apply and the watcher write."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from musictagger.config import TagsConfig
from musictagger.pipeline.types import AlbumSuggestions, PackInfo
from musictagger.tags.model import PROV_CONFIDENCES, PROV_DATE, PROV_MODEL

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.journal import FileChange
    from musictagger.library import Album


def labels_to_write(result: AlbumSuggestions, *, min_confidence: float, write_parents: bool) -> list[str]:
    """Display names to write: suggestions at or above ``min_confidence``, parents if configured."""
    chosen = [s for s in result.suggestions if not s.implied and s.confidence >= min_confidence]
    names = [s.name for s in chosen]
    if write_parents:
        present = {s.label for s in chosen}
        for s in result.suggestions:
            if s.implied and s.label not in present:
                names.append(s.name)
    return names


def provenance(result: AlbumSuggestions, labels: Sequence[str], packs: Iterable[PackInfo]) -> dict[str, list[str]]:
    """Our custom fields: which models, with what confidence, when."""
    conf = {s.name: s.confidence for s in result.suggestions}
    return {
        PROV_MODEL: ["; ".join(f"{p.name} {p.version}" for p in packs)],
        PROV_CONFIDENCES: ["; ".join(f"{name}={conf.get(name, 0.0):.2f}" for name in labels)],
        PROV_DATE: [_dt.date.today().isoformat()],
    }


def album_changes(
    album: Album,
    labels: Sequence[str],
    config: TagsConfig,
    *,
    prov: dict[str, list[str]] | None = None,
) -> list[FileChange]:
    """One :class:`FileChange` per track: ``labels`` merged into (or replacing) the field, with the
    cap, plus provenance.

    The field is planned by the journal from each file as it is just before the write (never from
    the scan, which may be stale: a genre set since by another program is kept).
    """
    from musictagger.journal import FileChange, GenreEdit

    if not labels and config.mode == "merge":
        return []
    edit = GenreEdit(config.field, tuple(labels), config.mode, config.max_genres)
    values: dict[str, list[str] | None] = dict(prov) if prov and config.write_provenance else {}
    return [FileChange(track.path, dict(values), edit=edit) for track in album.tracks]
