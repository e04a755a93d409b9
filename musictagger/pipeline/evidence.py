"""The user's own tagged library as evidence: albums that look or sound alike, and the artist.

After ``learn``, every tagged album of the library has a cover embedding and an audio embedding in
the result cache (:mod:`musictagger.pipeline.cache`, keyed by file identity). :class:`LibraryEvidence`
gathers them into two small matrices — each embedding L2-normalised after a fixed, seeded random
projection to :data:`PROJECTED` dimensions, which keeps cosine similarities (Johnson–Lindenstrauss)
while a 5,000-album library takes a few MB — with each album's labels (its genre tags through the
taxonomy, closed under parents) and artist. For a new album it then gives:

* :meth:`similar`: the library albums carrying a label whose cover ("looks like") or audio ("sounds
  like") is nearest to this album's (cosine similarity);
* :meth:`artist_prior`: per label, the share of the artist's *other* albums that carry it
  ("3 other albums by this artist are tagged Death Metal"), shrunk towards the library's base rate
  when the artist has few albums.

Pure numpy; nothing here imports torch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from musictagger.library.types import artist_key

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.ml.packs import PackKind

PROJECTED = 256
#: Pseudo-albums of the library's base rate mixed into an artist's own share (few albums, less say).
ARTIST_PRIOR_STRENGTH = 1.0
#: The embedding spaces similar albums are found in: "cover" (looks like), "audio" (sounds like).
SOURCES: tuple[PackKind, ...] = ("cover", "audio")


@dataclass(frozen=True)
class SimilarAlbum:
    folder: str
    album: str | None
    album_artist: str | None
    similarity: float
    source: PackKind  # "cover" (looks like) | "audio" (sounds like)

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "album": self.album,
            "album_artist": self.album_artist,
            "similarity": round(self.similarity, 4),
            "source": self.source,
        }


@dataclass(frozen=True)
class ArtistPrior:
    """The artist prior for one label: its probability, and how many of the artist's other albums carry it."""

    probability: float
    albums_with_label: int
    other_albums: int


@dataclass
class LibraryAlbum:
    key: str
    folder: str
    album: str | None
    album_artist: str | None
    labels: frozenset[str]


def _projection(dim: int, seed: int = 20261202) -> np.ndarray:
    rng = np.random.default_rng([seed, dim])
    matrix: np.ndarray = (rng.standard_normal((dim, PROJECTED)) / np.sqrt(PROJECTED)).astype(np.float32)
    return matrix


def project(vectors: np.ndarray) -> np.ndarray:
    """Random projection to :data:`PROJECTED` dimensions, then L2 normalisation (rows)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    z = v @ _projection(v.shape[1]) if v.shape[1] > PROJECTED else v
    norm = np.linalg.norm(z, axis=1, keepdims=True)
    out: np.ndarray = z / np.maximum(norm, 1e-8)
    return out


@dataclass
class LibraryEvidence:
    """Tagged library albums with their projected cover and audio embeddings."""

    albums: list[LibraryAlbum]
    # source -> (row indices into ``albums``, projected embeddings (rows × PROJECTED))
    spaces: dict[PackKind, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    base_rate: dict[str, float] = field(default_factory=dict)
    by_artist: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, albums: Sequence[LibraryAlbum], embeddings: Mapping[str, Mapping[str, np.ndarray]]
    ) -> LibraryEvidence:
        """``embeddings``: source ("cover"/"audio") → album key → raw embedding (any dimension)."""
        albums = list(albums)
        spaces: dict[PackKind, tuple[np.ndarray, np.ndarray]] = {}
        for source in SOURCES:
            vectors = embeddings.get(source, {})
            rows = [i for i, a in enumerate(albums) if a.key in vectors]
            if rows:
                spaces[source] = (np.array(rows), project(np.stack([vectors[albums[i].key] for i in rows])))
        counts: dict[str, int] = defaultdict(int)
        for a in albums:
            for lab in a.labels:
                counts[lab] += 1
        by_artist: dict[str, list[int]] = defaultdict(list)
        for i, a in enumerate(albums):
            by_artist[artist_key(a.album_artist)].append(i)
        n = max(1, len(albums))
        return cls(albums, spaces, {lab: c / n for lab, c in counts.items()}, dict(by_artist))

    @property
    def labels(self) -> set[str]:
        return set(self.base_rate)

    def similar(
        self,
        embeddings: Mapping[str, np.ndarray],
        label: str,
        *,
        exclude_folder: str | None = None,
        k: int = 3,
    ) -> list[SimilarAlbum]:
        """Up to ``k`` library albums carrying ``label`` nearest to this album, from either source.

        ``embeddings``: source → this album's raw embedding (as :meth:`build` took them). An album
        appears once, with its best similarity.
        """
        best: dict[int, tuple[float, PackKind]] = {}
        for source, (rows, matrix) in self.spaces.items():
            query = embeddings.get(source)
            if query is None:
                continue
            q = project(query)[0]
            if q.shape[0] != matrix.shape[1]:
                continue  # another backbone's space
            sims = matrix @ q
            for r, sim in zip(rows, sims):
                a = self.albums[int(r)]
                if label not in a.labels or a.folder == exclude_folder:
                    continue
                if int(r) not in best or sim > best[int(r)][0]:
                    best[int(r)] = (float(sim), source)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:k]
        return [
            SimilarAlbum(self.albums[i].folder, self.albums[i].album, self.albums[i].album_artist, sim, source)
            for i, (sim, source) in ranked
        ]

    def artist_prior(self, album_artist: str | None, *, exclude_folder: str | None = None) -> dict[str, ArtistPrior]:
        """Per label, the (shrunk) share of the artist's other albums carrying it; {} for an unknown artist."""
        key = artist_key(album_artist)
        if not key:
            return {}
        others = [i for i in self.by_artist.get(key, []) if self.albums[i].folder != exclude_folder]
        if not others:
            return {}
        counts: dict[str, int] = defaultdict(int)
        for i in others:
            for lab in self.albums[i].labels:
                counts[lab] += 1
        n, s = len(others), ARTIST_PRIOR_STRENGTH
        return {
            lab: ArtistPrior((counts.get(lab, 0) + s * rate) / (n + s), counts.get(lab, 0), n)
            for lab, rate in self.base_rate.items()
        }


def is_library_pack(pack: Any) -> bool:
    """A pack ``musictagger learn`` made from the user's library (its evidence kind is "library")."""
    return bool(pack.training.get("mode") == "library")


@dataclass
class SuggestEvidence:
    """What a suggest run needs from the library: the albums and their embeddings, which packs'
    embeddings live in the same spaces (the query side), and how much to trust the artist prior."""

    library: LibraryEvidence
    artist_quality: dict[str, float | None]
    query_packs: dict[str, list[str]]  # source → names of packs whose embedding is in that space

    def query(self, embeddings: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """This album's embedding per source, from the first pack of each space that gave one."""
        out: dict[str, np.ndarray] = {}
        for source, names in self.query_packs.items():
            for name in names:
                if name in embeddings:
                    out[source] = embeddings[name]
                    break
        return out
