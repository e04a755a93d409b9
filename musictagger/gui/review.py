"""The review state of an album: what the models suggested and what the user decided.

Pure Python (no Qt), so the rules are easy to test and the table and the detail panel agree on
them. Nothing here writes files: decisions stay pending until Apply.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.library import Album
    from musictagger.pipeline.types import AlbumSuggestions, Suggestion


class Status(enum.IntEnum):
    """Where an album is in the review; the order is the sort order of the Status column."""

    NEW = 0
    SUGGESTED = 1
    APPLIED = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.capitalize()


@dataclass
class Review:
    """Pending decisions on one album: per suggested name accepted or not, plus tags added by hand.

    Defaults follow the settings: a suggestion is accepted when it reaches ``min_confidence``;
    an implied parent only when parents are written.
    """

    accepted: dict[str, bool] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)

    @classmethod
    def from_result(
        cls,
        result: AlbumSuggestions,
        *,
        min_confidence: float,
        write_parents: bool,
        keep_added: list[str] | None = None,
    ) -> Review:
        accepted = {
            s.name: (write_parents if s.implied else s.confidence >= min_confidence) for s in result.suggestions
        }
        return cls(accepted, list(keep_added or []))

    def is_accepted(self, name: str) -> bool:
        return self.accepted.get(name, name in self.added)

    def set_accepted(self, name: str, value: bool) -> None:
        """Accept or reject a suggestion; un-accepting a hand-added tag removes it."""
        if name in self.accepted:
            self.accepted[name] = value
        elif not value and name in self.added:
            self.added.remove(name)

    def toggle(self, name: str) -> bool:
        self.set_accepted(name, not self.is_accepted(name))
        return self.is_accepted(name)

    def add(self, name: str) -> bool:
        """Add a tag by hand (or re-accept a suggestion of that name); False if already there."""
        name = name.strip()
        if not name:
            return False
        for known in self.accepted:
            if known.casefold() == name.casefold():
                changed = not self.accepted[known]
                self.accepted[known] = True
                return changed
        if any(a.casefold() == name.casefold() for a in self.added):
            return False
        self.added.append(name)
        return True

    def labels(self, result: AlbumSuggestions | None) -> list[str]:
        """What Apply writes: accepted suggestions in ranking order, then the added tags."""
        names = [s.name for s in result.suggestions if self.accepted.get(s.name)] if result else []
        seen = {n.casefold() for n in names}
        names += [a for a in self.added if a.casefold() not in seen]
        return names

    @property
    def has_changes(self) -> bool:
        return bool(self.added) or any(self.accepted.values())


@dataclass
class AlbumEntry:
    """One row of the library: the scanned album, its suggestions and the pending review."""

    album: Album
    status: Status = Status.NEW
    result: AlbumSuggestions | None = None
    review: Review = field(default_factory=Review)
    message: str = ""  # the last error, for the tooltip

    @property
    def key(self) -> str:
        return self.album.key

    def current_genres(self, field_name: str = "genre") -> list[str]:
        if field_name == "style":
            seen: dict[str, str] = {}
            for t in self.album.tracks:
                for s in t.styles:
                    seen.setdefault(s.casefold(), s)
            return list(seen.values())
        return self.album.genres

    def suggestions(self) -> list[Suggestion]:
        return list(self.result.suggestions) if self.result else []

    def pending_labels(self) -> list[str]:
        return self.review.labels(self.result)
