"""From reviewed suggestions to tag changes: what ``apply``, the app's Apply, the watcher and the
whole-library batch write.

One rule, one function: :func:`review_changes` turns an album's :class:`~musictagger.pipeline.review.AlbumReview`
(accepted tags → provenance → per-file changes) into :class:`~musictagger.journal.FileChange` rows.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from musictagger.config import TagsConfig
from musictagger.tags.types import PROV_CONFIDENCES, PROV_DATE, PROV_MODEL

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.journal import FileChange
    from musictagger.library import Album
    from musictagger.pipeline.review import AlbumReview

#: What the provenance says for a tag the user added (or kept) by hand, instead of a confidence.
MANUAL = "manual"


def provenance(review: AlbumReview) -> dict[str, list[str]]:
    """Our custom fields: which models, with what confidence each written tag, when. A tag the
    user added by hand is ``Name=manual``; with no model tag at all the model field says ``manual``."""
    parts, from_models = [], False
    for item in review.items():
        if not item.accepted:
            continue
        if item.manual or item.confidence is None:
            parts.append(f"{item.name}={MANUAL}")
        else:
            parts.append(f"{item.name}={item.confidence:.2f}")
            from_models = True
    models = "; ".join(f"{p.name} {p.version}" for p in review.packs) if from_models else ""
    return {
        PROV_MODEL: [models or MANUAL],
        PROV_CONFIDENCES: ["; ".join(parts)],
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


def review_changes(album: Album, review: AlbumReview, config: TagsConfig) -> list[FileChange]:
    """The file changes of a reviewed album: its accepted tags (:meth:`AlbumReview.labels`) planned
    into every track, with the provenance of each tag. Nothing accepted: nothing to write."""
    labels = review.labels()
    if not labels:
        return []
    return album_changes(album, labels, config, prov=provenance(review))
