"""The inference engine: albums in, :class:`AlbumSuggestions` out, decode and inference overlapped.

Shape of a run::

    albums ──► decode workers (threads: soundfile / PyAV / soxr / Pillow release the GIL)
                   │  bounded prefetch window (back-pressure: memory stays flat)
                   ▼
               this thread: batches excerpts / covers ──► torch on the chosen device
                   │  (fp16 autocast on CUDA, inference_mode, CPU thread cap)
                   ▼
               fusion (pure) ──► AlbumSuggestions, yielded album by album, in order

torch is imported only when the engine is first used (``Suggester.load``), never at module import.
Every model output is cached per file identity + pack (``ResultCache``): a re-run on an unchanged
library does no decoding and no inference.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from musictagger.config import Config
from musictagger.errors import FileError, FileProblem, MusictaggerError
from musictagger.pipeline.cache import ResultCache, file_key
from musictagger.pipeline.evidence import ArtistPrior, SuggestEvidence, is_library_pack
from musictagger.pipeline.fusion import SourceView, fuse, mean_probs, to_taxonomy
from musictagger.pipeline.speed import SPEEDS, SpeedProfile, tracks_to_hear
from musictagger.pipeline.types import AlbumSuggestions, PackInfo
from musictagger.progress import CancelToken, ProgressCallback, ProgressTracker

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from musictagger.library import Album
    from musictagger.ml.packs import ModelPack


def pack_key(pack: ModelPack) -> str:
    return f"{pack.name}@{pack.version}#{pack.sha256[:16]}"


@dataclass
class _Loaded:
    pack: ModelPack
    model: Any
    frontend: Any = None  # audio: the pack's front end (ml.frontend.build_frontend)
    key: str = ""
    spec_key: tuple[Any, ...] = ()  # audio: (sample_rate, clip_seconds, count, positions)
    embeds: bool = False  # the model has forward_with_embedding: its embeddings are cached too


@dataclass
class _AlbumWork:
    album: Album
    cover_key: str | None = None
    cover_todo: list[_Loaded] = field(default_factory=list)
    # track path -> spec_key -> packs still to run on that track
    audio_todo: dict[str, dict[tuple[Any, ...], list[_Loaded]]] = field(default_factory=dict)
    cover_probs: dict[str, list[float]] = field(default_factory=dict)  # pack key -> probs
    track_probs: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # pack key -> path -> probs
    cover_embeddings: dict[str, Any] = field(default_factory=dict)  # pack key -> vector
    track_embeddings: dict[str, dict[str, Any]] = field(default_factory=dict)  # pack key -> path -> vector
    errors: list[FileProblem] = field(default_factory=list)
    # Filled by the decode workers: pack key -> preprocessed cover; (path, spec) -> excerpts.
    decoded_cover: dict[str, Any] = field(default_factory=dict)
    decoded_audio: dict[tuple[str, tuple[Any, ...]], list[Any]] = field(default_factory=dict)


def cover_identity(album: Album) -> str | None:
    """Cache key of the picture ``load_cover`` would return: folder image, else the first track with art."""
    if album.cover_source == "folder" and album.cover_path:
        return file_key("cover", album.cover_path)
    if album.cover_source == "embedded":
        for t in album.tracks:
            if t.has_embedded_cover:
                return file_key("cover", t.path)
    return None


class Suggester:
    """Runs a set of model packs over albums. Create once, call :meth:`run` as often as needed."""

    def __init__(
        self,
        packs: Sequence[ModelPack],
        config: Config | None = None,
        *,
        device: str | None = None,
        cache: ResultCache | None = None,
        speed: SpeedProfile | None = None,
    ) -> None:
        if not packs:
            raise MusictaggerError("no model packs to run: install or train one (musictagger models list)")
        self.packs = list(packs)
        self.config = config or Config()
        self.device_pref = device or self.config.inference.device
        self.cache = cache
        self.speed = speed if speed is not None else SPEEDS[self.config.inference.speed]
        self._loaded: list[_Loaded] | None = None
        self.evidence: SuggestEvidence | None = None  # the library as evidence, when library packs run
        self.device: torch.device | None = None
        self.device_name = ""

    # ------------------------------------------------------------------ set-up
    @property
    def pack_infos(self) -> list[PackInfo]:
        return [PackInfo(p.name, p.version, p.kind) for p in self.packs]

    def load(self) -> None:
        """Import torch, pick the device, build the models. Idempotent."""
        if self._loaded is not None:
            return
        from musictagger.ml.device import describe_device, select_device, set_cpu_threads

        self.device = device = select_device(self.device_pref)
        if device.type == "cpu":
            set_cpu_threads(self.config.inference.cpu_threads)
        self.device_name = describe_device(device)
        loaded = []
        for pack in self.packs:
            model = pack.load_model(device)
            speed = self.speed
            if not speed.cover_views and getattr(model, "views", None):
                model.views = []  # type: ignore[assignment]  # the cover once: no mirror, no zoom (ml.heads.CoverHead)
            item = _Loaded(pack, model, key=pack_key(pack) + speed.tag, embeds=hasattr(model, "forward_with_embedding"))
            if pack.kind == "audio":
                from musictagger.ml.frontend import build_frontend

                spec = pack.input
                item.frontend = build_frontend(spec).to(device).eval()
                ex = spec.get("excerpts", {}) or {}
                count = int(ex.get("count", 3))
                positions = tuple(float(x) for x in ex.get("positions", (0.25, 0.5, 0.75)))
                if speed.patches_per_track:
                    count = speed.patches_per_track
                    positions = tuple((k + 1) / (count + 1) for k in range(count))
                item.spec_key = (int(spec["sample_rate"]), float(spec["clip_seconds"]), count, positions)
            loaded.append(item)
        self._loaded = loaded
        self.evidence = self._load_evidence()

    def _load_evidence(self) -> SuggestEvidence | None:
        """The user's library as evidence (similar albums, artist prior) when a library pack runs."""
        import numpy as np

        from musictagger.library import Index, scan
        from musictagger.pipeline.evidence import LibraryAlbum, LibraryEvidence
        from musictagger.taxonomy import Taxonomy

        library_packs = [p for p in self.packs if is_library_pack(p)]
        if not library_packs or self.cache is None:
            return None
        roots = sorted({r for p in library_packs for r in p.training.get("roots", []) if os.path.isdir(r)})
        if not roots:
            return None
        keys = {p.kind: [p.training.get("base", ""), pack_key(p)] for p in library_packs}
        with Index() as index:
            albums = scan(roots, index=index, config=self.config).albums
        tax = Taxonomy.default()
        library: list[LibraryAlbum] = []
        vectors: dict[str, dict[str, Any]] = {"cover": {}, "audio": {}}
        for album in albums:
            texts = list(album.genres) + [s for t in album.tracks for s in t.styles]
            ids = tax.normalise_many(texts)
            if not ids:
                continue
            library.append(LibraryAlbum(album.key, album.folder, album.album, album.album_artist,
                                        frozenset(tax.closure(ids))))  # fmt: skip
            cover_key = cover_identity(album)
            for k in keys.get("cover", []):
                vec = self.cache.get_embedding(cover_key, k) if cover_key and k else None
                if vec is not None:
                    vectors["cover"][album.key] = vec
                    break
            for k in keys.get("audio", []):
                tracks = [self.cache.get_embedding(tk, k) for t in album.tracks if (tk := file_key("track", t.path))]
                found = [v for v in tracks if v is not None]
                if found:
                    vectors["audio"][album.key] = np.mean(found, axis=0)
                    break
        cover_pack = next((p for p in library_packs if p.kind == "cover"), None)
        quality = (cover_pack.metrics.get("artist_prior_ap", {}) if cover_pack else {}) or {}
        query: dict[str, list[str]] = {}
        for source in ("cover", "audio"):
            learned = next((p for p in library_packs if p.kind == source), None)
            if learned is None:
                continue
            base = learned.training.get("base", "")
            query[source] = [lp.pack.name for lp in self._loaded or [] if lp.pack.kind == source
                             and (lp.key == base or lp.pack is learned)]  # fmt: skip
        return SuggestEvidence(LibraryEvidence.build(library, vectors), quality, query)

    # ------------------------------------------------------------------ planning
    def _plan(self, album: Album) -> _AlbumWork:
        assert self._loaded is not None
        work = _AlbumWork(album)
        cover_packs = [lp for lp in self._loaded if lp.pack.kind == "cover"]
        audio_packs = [lp for lp in self._loaded if lp.pack.kind == "audio"]
        if cover_packs and album.cover_source != "none":
            work.cover_key = cover_identity(album)
            for lp in cover_packs:
                hit, emb = self._cached(work.cover_key, lp)
                if hit is not None:
                    work.cover_probs[lp.key] = hit
                    if emb is not None:
                        work.cover_embeddings[lp.key] = emb
                else:
                    work.cover_todo.append(lp)
        heard = tracks_to_hear(len(album.tracks), self.speed.tracks_per_album)
        for i, track in enumerate(album.tracks):
            tkey = file_key("track", track.path)
            for lp in audio_packs:
                hit, emb = self._cached(tkey, lp)
                if hit is not None:  # a cached track is always used: it costs nothing
                    work.track_probs.setdefault(lp.key, {})[track.path] = hit
                    if emb is not None:
                        work.track_embeddings.setdefault(lp.key, {})[track.path] = emb
                elif i in heard:
                    work.audio_todo.setdefault(track.path, {}).setdefault(lp.spec_key, []).append(lp)
        return work

    def _cached(self, input_key: str | None, lp: _Loaded) -> tuple[list[float] | None, Any]:
        """A usable cache entry: probabilities, and the embedding when the pack makes one."""
        if not self.cache or not input_key:
            return None, None
        probs, emb = self.cache.get_entry(input_key, lp.key, len(lp.pack.labels))
        if probs is None or (lp.embeds and emb is None):
            return None, None
        return probs, emb

    # ------------------------------------------------------------------ decoding (worker threads)
    @staticmethod
    def _decode(work: _AlbumWork) -> _AlbumWork:
        """Read cover pixels and audio excerpts for what is not cached. Runs in a worker thread."""
        from musictagger.audio import ExcerptPolicy, read_excerpts
        from musictagger.ml.cover_input import preprocess_bytes

        if work.cover_todo:
            from musictagger.library import load_cover

            try:
                loaded = load_cover(work.album)
                if loaded is None:
                    raise FileError(work.album.folder, "cover could not be read")
                data, _source = loaded
                for lp in work.cover_todo:
                    work.decoded_cover[lp.key] = preprocess_bytes(data, lp.pack.input)
            except Exception as exc:  # one bad cover never stops the run
                work.errors.append(_error_row(exc, work.album.folder))
        for path, by_spec in work.audio_todo.items():
            for spec_key in by_spec:
                sr, clip, count, positions = spec_key
                try:
                    excerpts = read_excerpts(path, sr, ExcerptPolicy(clip, count, positions))
                    work.decoded_audio[(path, spec_key)] = excerpts
                except Exception as exc:  # one bad file never stops the run
                    work.errors.append(_error_row(exc, path))
        return work

    # ------------------------------------------------------------------ inference (this thread)
    def _infer(self, work: _AlbumWork) -> None:
        import numpy as np
        import torch

        assert self._loaded is not None and self.device is not None
        amp = self.device.type == "cuda"
        bs = max(1, self.config.inference.batch_size)

        def forward(lp: _Loaded, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            """(probabilities, embeddings or None) for a batch of inputs."""
            outs, embs = [], []
            with torch.inference_mode():
                for i in range(0, len(x), bs):
                    t = torch.from_numpy(np.ascontiguousarray(x[i : i + bs])).to(self.device, non_blocking=True)
                    if lp.frontend is not None:
                        t = lp.frontend(t)  # mel in fp32, outside autocast
                    with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
                        if lp.embeds:
                            logits, emb = lp.model.forward_with_embedding(t)
                            embs.append(emb.float().cpu().numpy())
                        else:
                            logits = lp.model(t)
                    outs.append(torch.sigmoid(logits.float()).cpu().numpy())
            return np.concatenate(outs, axis=0), (np.concatenate(embs, axis=0) if embs else None)

        new_rows: list[tuple[str, str, list[float], Any]] = []
        for key, x in work.decoded_cover.items():
            lp = next(lp for lp in work.cover_todo if lp.key == key)
            p, e = forward(lp, x[None, ...])
            probs = p[0].tolist()
            work.cover_probs[key] = probs
            emb = e[0] if e is not None else None
            if emb is not None:
                work.cover_embeddings[key] = emb
            if self.cache and work.cover_key:
                new_rows.append((work.cover_key, key, probs, emb))
        # Audio: one batch stream per pack over every excerpt of every track of the album.
        per_pack: dict[str, tuple[_Loaded, list[str], list[np.ndarray], list[int]]] = {}
        for (path, spec_key), excerpts in work.decoded_audio.items():
            for lp in work.audio_todo[path][spec_key]:
                _, paths, arrays, counts = per_pack.setdefault(lp.key, (lp, [], [], []))
                paths.append(path)
                arrays.extend(excerpts)
                counts.append(len(excerpts))
        for key, (lp, paths, arrays, counts) in per_pack.items():
            probs, embs = forward(lp, np.stack(arrays).astype(np.float32, copy=False))
            start = 0
            for path, n in zip(paths, counts):
                track = probs[start : start + n].mean(axis=0).tolist()
                emb = embs[start : start + n].mean(axis=0) if embs is not None else None
                start += n
                work.track_probs.setdefault(key, {})[path] = track
                if emb is not None:
                    work.track_embeddings.setdefault(key, {})[path] = emb
                tkey = file_key("track", path)
                if self.cache and tkey:
                    new_rows.append((tkey, key, track, emb))
        if self.cache:
            self.cache.put_many(new_rows)

    # ------------------------------------------------------------------ fusion
    def _fuse(self, work: _AlbumWork) -> AlbumSuggestions:
        from dataclasses import replace

        from musictagger.taxonomy import Taxonomy

        tax = Taxonomy.default()
        inf = self.config.inference
        fus = self.config.fusion
        views: list[SourceView] = []
        track_scores: dict[str, dict[str, float]] = {}
        for lp in self._loaded or []:
            pack = lp.pack
            label_map = pack.label_map if pack.label_space == "free" else None
            quality = pack.label_quality()
            kind = "library" if is_library_pack(pack) else pack.kind
            if pack.kind == "cover" and lp.key in work.cover_probs:
                p, t, q = to_taxonomy(pack.labels, work.cover_probs[lp.key], pack.thresholds, quality, label_map)
                views.append(SourceView(kind, p, t, q))
            elif pack.kind == "audio" and work.track_probs.get(lp.key):
                tracks = work.track_probs[lp.key]
                for path, probs in tracks.items():
                    tp, _, _ = to_taxonomy(pack.labels, probs, pack.thresholds, quality, label_map)
                    merged = track_scores.setdefault(path, {})
                    for k, v in tp.items():
                        merged[k] = max(merged.get(k, 0.0), v)
                album_probs = mean_probs(list(tracks.values()))
                p, t, q = to_taxonomy(pack.labels, album_probs, pack.thresholds, quality, label_map)
                views.append(SourceView(kind, p, t, q))
        a = work.album
        artist = a.album_artist or getattr(a, "artist", None)
        evidence = self.evidence
        prior: dict[str, ArtistPrior] = {}
        if evidence is not None:
            prior = evidence.library.artist_prior(artist, exclude_folder=a.folder)
            if prior:
                quality = {k: max(v, 0.05) for k, v in evidence.artist_quality.items() if v is not None}
                views.append(
                    SourceView(
                        "artist",
                        {k: v.probability for k, v in prior.items() if k in quality},
                        {k: 0.5 for k in prior},
                        quality,
                    )
                )
        ids = {k for v in views for k in v.probs}
        names = {k: tax.name(k) if k in tax else k for k in ids}
        parents = {k: tax.parents(k) if k in tax else [] for k in ids}
        for k in [p for ps in parents.values() for p in ps]:
            names.setdefault(k, tax.name(k))
        suggestions, scores = fuse(
            views,
            names=names,
            parents=parents,
            weights={
                "cover": fus.cover_weight,
                "audio": fus.audio_weight,
                "library": fus.library_weight,
                "artist": fus.artist_weight,
            },  # fmt: skip
            min_confidence=inf.min_confidence,
            top_k=inf.top_k,
        )
        embeddings = _album_embeddings(self._loaded or [], work)
        if evidence is not None:
            query = evidence.query(embeddings)
            suggestions = [
                replace(s, similar=tuple(evidence.library.similar(query, s.label, exclude_folder=a.folder)))
                if s.label in evidence.library.labels
                else s
                for s in suggestions
            ]
            # Where the artist prior spoke, its counts ("3 of this artist's 4 other albums…").
            suggestions = [
                replace(s, artist_detail=(prior[s.label].albums_with_label, prior[s.label].other_albums))
                if s.artist is not None and s.label in prior
                else s
                for s in suggestions
            ]
        return AlbumSuggestions(
            key=a.key,
            folder=a.folder,
            album=a.album,
            album_artist=artist,
            suggestions=suggestions,
            cover_scores=scores["cover"],
            audio_scores=scores["audio"],
            library_scores=scores["library"],
            artist_scores=scores["artist"],
            track_scores=track_scores,
            errors=work.errors,
            cached=not work.cover_todo and not work.audio_todo,
            embeddings=embeddings,
        )

    # ------------------------------------------------------------------ the run
    def run(
        self,
        albums: Sequence[Album],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        on_album: Callable[[AlbumSuggestions], None] | None = None,
    ) -> Iterator[AlbumSuggestions]:
        """Yield one :class:`AlbumSuggestions` per album, in order. Stops cleanly when cancelled."""
        self.load()
        tracker = ProgressTracker("suggest", len(albums), progress)
        tracker.update(0, force=True)
        workers = self.config.inference.decode_workers or max(1, min(8, (os.cpu_count() or 2)))
        window = max(2, workers * 2)  # albums decoded ahead: bounds memory
        with cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mt-decode") as pool:
            pending: deque[cf.Future[_AlbumWork]] = deque()
            it = iter(albums)

            def submit_next() -> bool:
                for album in it:
                    work = self._plan(album)
                    if work.cover_todo or work.audio_todo:
                        pending.append(pool.submit(self._decode, work))
                    else:  # fully cached: nothing to decode
                        done: cf.Future[_AlbumWork] = cf.Future()
                        done.set_result(work)
                        pending.append(done)
                    return True
                return False

            while len(pending) < window and submit_next():
                pass
            try:
                while pending:
                    if cancel is not None and cancel.cancelled:
                        break
                    work: _AlbumWork = pending.popleft().result()
                    submit_next()
                    if work.cover_todo or work.audio_todo:
                        self._infer(work)
                    result = self._fuse(work)
                    if on_album:
                        on_album(result)
                    tracker.advance(current=_album_label(work.album))
                    yield result
            finally:
                for f in pending:
                    f.cancel()


def _error_row(exc: Exception, path: str) -> FileProblem:
    """The problem for the run's error list; our errors carry their own path and message."""
    if isinstance(exc, FileError):
        return exc.problem()
    if isinstance(exc, MusictaggerError):
        return FileProblem(path, str(exc))
    return FileProblem(path, f"unexpected error while reading: {type(exc).__name__}: {exc}")


def _album_embeddings(loaded: Sequence[_Loaded], work: _AlbumWork) -> dict[str, Any]:
    """Pack name → the album's embedding: the cover's, or the mean over the heard tracks'."""
    import numpy as np

    out: dict[str, Any] = {}
    for lp in loaded:
        if lp.key in work.cover_embeddings:
            out[lp.pack.name] = np.asarray(work.cover_embeddings[lp.key], dtype=np.float32)
        elif work.track_embeddings.get(lp.key):
            out[lp.pack.name] = np.mean(list(work.track_embeddings[lp.key].values()), axis=0).astype(np.float32)
    return out


def _album_label(album: Album) -> str:
    artist = album.album_artist or getattr(album, "artist", None) or "Unknown artist"
    return f"{artist} — {album.album or os.path.basename(album.folder)}"
