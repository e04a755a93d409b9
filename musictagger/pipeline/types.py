"""Value objects flowing out of the suggestion pipeline (scan → extract → infer → fuse → review)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from musictagger.errors import FileProblem

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.ml.packs import PackKind

#: The sources of evidence fusion weighs: the cover and audio packs, the packs learnt from the
#: user's library, and the artist prior (the genres of the artist's other albums).
SourceKind = Literal["cover", "audio", "library", "artist"]


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    kind: PackKind

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "kind": self.kind}


@dataclass(frozen=True)
class Suggestion:
    """One suggested label for an album, with its evidence."""

    label: str  # taxonomy id
    name: str  # display name, what gets written ("Black Metal")
    confidence: float  # fused probability in [0, 1]
    cover: float | None = None  # the cover model's probability (None: no cover / no such label)
    audio: float | None = None  # the mean audio probability over the album's tracks
    threshold: float = 0.5
    implied: bool = False  # added as the parent of a suggested label (parent closure)
    library: float | None = None  # the packs learnt from the user's library
    artist: float | None = None  # the artist prior: the share of the artist's other albums with it
    # Library albums carrying this label nearest to this album ("looks like" / "sounds like").
    similar: tuple[Any, ...] = ()  # musictagger.pipeline.evidence.SimilarAlbum
    # Where the artist prior spoke: (the artist's other albums carrying this label, those albums).
    artist_detail: tuple[int, int] | None = None

    @property
    def cover_share(self) -> float | None:
        """How much of the confidence came from the cover (0..1), for the UI's explanation."""
        if self.cover is None and self.audio is None:
            return None
        if self.audio is None:
            return 1.0
        if self.cover is None:
            return 0.0
        total = self.cover + self.audio
        return 0.5 if total <= 0 else self.cover / total

    def to_json(self) -> dict[str, Any]:
        out = {
            "label": self.name,
            "id": self.label,
            "confidence": round(self.confidence, 4),
            "sources": self.sources_json(),
            "threshold": round(self.threshold, 4),
            "implied": self.implied,
            "similar": [a.to_json() for a in self.similar],
        }
        if self.artist_detail is not None:  # only where the artist prior spoke
            tagged, other = self.artist_detail
            out["artist_prior"] = {"albums_with_label": tagged, "other_albums": other}
        return out

    def sources_json(self) -> dict[str, float | None]:
        """{"cover", "audio"} always (null when absent); "library" and "artist" where they apply."""
        out: dict[str, float | None] = {
            "cover": None if self.cover is None else round(self.cover, 4),
            "audio": None if self.audio is None else round(self.audio, 4),
        }
        if self.library is not None:
            out["library"] = round(self.library, 4)
        if self.artist is not None:
            out["artist"] = round(self.artist, 4)
        return out


@dataclass
class AlbumSuggestions:
    """Everything the models said about one album."""

    key: str
    folder: str
    album: str | None
    album_artist: str | None
    suggestions: list[Suggestion] = field(default_factory=list)
    # Per source, every label's probability (taxonomy ids), for explanations and --json.
    cover_scores: dict[str, float] = field(default_factory=dict)
    audio_scores: dict[str, float] = field(default_factory=dict)
    library_scores: dict[str, float] = field(default_factory=dict)  # the packs learnt from the library
    artist_scores: dict[str, float] = field(default_factory=dict)  # the artist prior
    # Per track path, its audio probabilities (taxonomy ids).
    track_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    errors: list[FileProblem] = field(default_factory=list)
    cached: bool = False  # every model output came from the cache
    # Pack name → the album's embedding (numpy float32) for packs that make one: the cover's, or the
    # mean over its heard tracks'. What learning and similar-album search read; not in --json.
    embeddings: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def labels(self, min_confidence: float = 0.0, include_implied: bool = True) -> list[str]:
        return [
            s.name for s in self.suggestions if s.confidence >= min_confidence and (include_implied or not s.implied)
        ]
