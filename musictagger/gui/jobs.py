"""The jobs of the core process (:mod:`musictagger.gui.worker_main`): the core's work for the window,
as plain functions of picklable values. Qt-free; torch is imported only by the jobs that run models.

Each job runs in a thread of the core process. It declares the keywords it wants among
``progress`` (a :data:`~musictagger.progress.ProgressCallback`), ``cancel`` (a
:class:`~musictagger.progress.CancelToken`), ``emit`` (sends an item to the window at once) and
``worker`` (the process's :class:`~musictagger.gui.worker_main.Worker`: its ``state`` holds the
loaded models). Long results stream back in chunks through ``emit`` — one large pickle would hold
the window's GIL while it is read.

The small value objects here are what the window receives.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from musictagger.session import open_session

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.config import Config, TagsConfig
    from musictagger.journal import FileChange, RunKind, RunResult
    from musictagger.library import Album, ScanResult
    from musictagger.pipeline.review import AlbumReview, ReviewPolicy
    from musictagger.pipeline.types import AlbumSuggestions, PackInfo, Suggestion
    from musictagger.progress import CancelToken, ProgressCallback
    from musictagger.watch.retag import BatchSummary
    from musictagger.watch.service import AlbumEvent

#: Albums per chunk of a scan sent back to the window.
SCAN_CHUNK = 200
#: The journal's run kind for tags written from the app.
APPLY_KIND: RunKind = "gui-apply"


# ---------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class SuggestedAlbum:
    """One album's suggestions as a Suggest run delivers them: with the packs that made them and
    the best guesses below threshold."""

    result: AlbumSuggestions
    packs: tuple[PackInfo, ...]
    guesses: list[Suggestion]


@dataclass(frozen=True)
class WatchedAlbum:
    """What the watcher did with one album folder, and the best guesses of its suggestions."""

    event: AlbumEvent
    guesses: list[Suggestion] | None = None


@dataclass(frozen=True)
class ApplyGroup:
    """One album of an apply: what the confirmation groups the files under."""

    key: str
    artist: str
    album: str
    folder: str
    paths: tuple[str, ...]
    labels: tuple[str, ...]  # the tags to write
    manual: tuple[str, ...] = ()  # those of them the user added by hand


@dataclass
class ApplyPlan:
    """What Apply would write, read back from the files by a dry run; the confirmation shows ``preview``."""

    changes: list[FileChange]
    preview: RunResult
    groups: list[ApplyGroup]

    @property
    def labels(self) -> dict[str, list[str]]:
        """Album key -> the names to write."""
        return {g.key: list(g.labels) for g in self.groups}

    @property
    def changed(self) -> list:
        return [o for o in self.preview.outcomes if o.changed]


@dataclass(frozen=True)
class NothingToUndo:
    """What Undo Last Run finds when no run has anything left to undo: information, not an error."""

    message: str = "Nothing to undo: no run has written tags yet (or every run is undone)"


# ---------------------------------------------------------------------------------- library


def scan_library(
    roots: Sequence[str],
    config: Config,
    policy: ReviewPolicy,
    *,
    progress: ProgressCallback,
    cancel: CancelToken,
    emit: Callable[[Any], None],
) -> ScanResult:
    """Scan the library; emit ``(albums, their saved reviews)`` in chunks; return the rest of the
    :class:`ScanResult` (errors, counts), its albums left empty."""
    result, reviews = _scan_with_reviews(roots, config, policy, progress=progress, cancel=cancel)
    for i in range(0, len(result.albums), SCAN_CHUNK):
        albums = result.albums[i : i + SCAN_CHUNK]
        emit((albums, {a.key: reviews[a.key] for a in albums if a.key in reviews}))
    return dataclasses.replace(result, albums=[])


def scan_folder(
    folder: str, config: Config, policy: ReviewPolicy, *, cancel: CancelToken
) -> tuple[str, ScanResult, dict[str, AlbumReview]]:
    """Rescan one album folder (a disc folder from its parent); returns the folder scanned."""
    import os

    from musictagger.library.albums import album_root

    folder = folder if album_root(folder) == folder else os.path.dirname(folder)
    result, reviews = _scan_with_reviews([folder], config, policy, cancel=cancel)
    return folder, result, reviews


def _scan_with_reviews(
    roots: Sequence[str], config: Config, policy: ReviewPolicy, **kwargs: Any
) -> tuple[ScanResult, dict[str, AlbumReview]]:
    from musictagger.library import scan
    from musictagger.pipeline.review import ReviewStore

    with open_session(config) as session:
        result = scan(roots, index=session.index, config=config, **kwargs)
        reviews = ReviewStore(session.index).load([a.key for a in result.albums], policy)
    return result, reviews


def genre_names() -> list[str]:
    """The taxonomy's display names, for completion when adding a tag."""
    from musictagger.taxonomy import Taxonomy

    return [label.name for label in Taxonomy.default().labels()]


# ---------------------------------------------------------------------------------- writing


def preview_apply(
    items: Sequence[tuple[Album, AlbumReview]],
    tags: TagsConfig,
    *,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> ApplyPlan:
    """The changes of reviewed albums (:func:`~musictagger.pipeline.apply.review_changes`) and a
    dry run of them: what the confirmation shows."""
    from musictagger.pipeline.apply import review_changes

    changes: list[FileChange] = []
    groups: list[ApplyGroup] = []
    for album, review in items:
        album_changes = review_changes(album, review, tags)
        if not album_changes:
            continue
        changes.extend(album_changes)
        groups.append(
            ApplyGroup(
                album.key,
                album.artist,
                album.album or "(no album tag)",
                album.folder,
                tuple(c.path for c in album_changes),
                tuple(review.labels()),
                tuple(review.manual_labels),
            )
        )
    with open_session() as session:
        preview = session.journal.apply(
            changes, kind=APPLY_KIND, config=tags, dry_run=True, progress=progress, cancel=cancel
        )
    return ApplyPlan(changes, preview, groups)


def apply_changes(
    changes: Sequence[FileChange], tags: TagsConfig, meta: dict, *, progress: ProgressCallback, cancel: CancelToken
) -> RunResult:
    with open_session() as session:
        return session.journal.apply(changes, kind=APPLY_KIND, config=tags, meta=meta, progress=progress, cancel=cancel)


def undo(run_id: int | None, *, progress: ProgressCallback, cancel: CancelToken) -> RunResult | NothingToUndo:
    with open_session() as session:
        if run_id is None and session.journal.last_run_id() is None:
            return NothingToUndo()
        return session.journal.undo(run_id, progress=progress, cancel=cancel)


def undoable() -> bool:
    """Whether Undo Last Run has something to undo."""
    with open_session() as session:
        return session.journal.last_run_id() is not None


def save_reviews(reviews: Sequence[AlbumReview]) -> int:
    """Save reviews in the library index (the window's :class:`~musictagger.gui.saver.ReviewSaver`)."""
    from musictagger.pipeline.review import ReviewStore

    with open_session() as session:
        ReviewStore(session.index).save(reviews)
    return len(reviews)


def thumbnail(album: Album, size: int, cache_dir: str) -> tuple[int, int, bytes] | None:
    """An album cover's ``size`` px thumbnail as premultiplied BGRA pixels ``(width, height, bytes)``
    — what Qt draws from without a conversion — or None without a usable cover. It is kept as a PNG
    in ``cache_dir`` (named after the cover's identity: a changed cover gets a new one). Reading
    embedded art parses the audio file's tags and decoding costs GIL time: both stay out of the
    window's process, which only wraps the pixels in a QImage."""
    import hashlib
    import io
    import os

    from PIL import Image, UnidentifiedImageError

    from musictagger.errors import MusictaggerError
    from musictagger.library import load_cover
    from musictagger.pipeline.suggester import cover_identity

    if album.cover_source == "none":
        return None
    identity = cover_identity(album)
    if identity is None:
        return None
    digest = hashlib.sha1(identity.encode("utf-8", "surrogatepass")).hexdigest()
    dest = os.path.join(cache_dir, f"{digest}-{size}.png")
    image = None
    if os.path.isfile(dest):
        try:
            with Image.open(dest) as cached:
                image = cached.convert("RGBA")
        except (OSError, UnidentifiedImageError, ValueError):
            image = None
    if image is None:
        try:
            loaded = load_cover(album)
        except (MusictaggerError, OSError):
            return None
        if loaded is None:
            return None
        try:
            image = Image.open(io.BytesIO(loaded[0]))
            image.draft("RGB", (size, size))  # JPEG: decode at 1/2, 1/4 or 1/8 scale when enough
            image = image.convert("RGBA")
            if max(image.size) > size:
                image.thumbnail((size, size), Image.Resampling.LANCZOS)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            return None
        try:
            os.makedirs(cache_dir, exist_ok=True)
            tmp = f"{dest}.{os.getpid()}.tmp"
            image.save(tmp, "PNG")
            os.replace(tmp, dest)
        except OSError:
            pass  # a cache that cannot be written is only slower
    return image.size[0], image.size[1], image.tobytes("raw", "BGRa")


# ---------------------------------------------------------------------------------- models


@dataclass(frozen=True)
class LoadedModels:
    """What the window shows about the models loaded in the core process."""

    device_name: str
    packs: tuple[PackInfo, ...]
    cards: tuple[tuple[str, str], ...]  # (pack name and version, its model card in Markdown)


def load_models(config: Config, *, worker: Any) -> LoadedModels:
    """Select the packs the settings ask for, load them (this imports torch) and keep them for the
    jobs below."""
    from musictagger.errors import PackError
    from musictagger.ml.device import preload_torch_libraries

    preload_torch_libraries()  # the other jobs (an Undo, covers) wait less for torch's import
    # The suggester and its cache live as long as the core process: this session is never closed.
    suggester = open_session(config).suggester()
    with worker.models_lock:
        suggester.load()
        worker.state["suggester"] = suggester
    cards = []
    for pack in suggester.packs:
        try:
            cards.append((f"{pack.name} {pack.version}", pack.model_card()))
        except PackError as exc:
            cards.append((f"{pack.name} {pack.version}", str(exc)))
    return LoadedModels(suggester.device_name, tuple(suggester.pack_infos), tuple(cards))


def _suggester(worker: Any):
    from musictagger.errors import MusictaggerError

    suggester = worker.state.get("suggester")
    if suggester is None:
        raise MusictaggerError("the models are not loaded")
    return suggester


def suggest(
    albums: Sequence[Album],
    *,
    worker: Any,
    progress: ProgressCallback,
    cancel: CancelToken,
    emit: Callable[[Any], None],
) -> int:
    """Suggest for ``albums``: emit a :class:`SuggestedAlbum` per album, in order; return how many."""
    from musictagger.pipeline.review import best_guesses

    suggester = _suggester(worker)
    packs = tuple(suggester.pack_infos)
    n = 0
    with worker.models_lock:
        for result in suggester.run(albums, progress=progress, cancel=cancel):
            # The window never needs the embeddings (kilobytes per album): they stay in this process's cache.
            result = dataclasses.replace(result, embeddings={})
            emit(SuggestedAlbum(result, packs, best_guesses(result)))
            n += 1
    return n


def batch(
    albums: Sequence[Album],
    roots: Sequence[str],
    config: Config,
    reviews: dict[str, AlbumReview],
    *,
    worker: Any,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> BatchSummary:
    """The whole-library batch (:func:`~musictagger.watch.retag.run_batch`) with the loaded models."""
    from musictagger.pipeline.review import ReviewStore
    from musictagger.watch.retag import run_batch

    suggester = _suggester(worker)
    with worker.models_lock, open_session(config) as session:
        summary = run_batch(
            albums,
            roots,
            suggester,
            session.journal,
            session.watch_state,
            config,
            progress=progress,
            cancel=cancel,
            reviews=reviews,
        )
        ReviewStore(session.index).save(list(summary.reviews.values()))
        return summary


def process_album(
    folder: str, config: Config, auto_apply: bool, min_confidence: float, *, worker: Any, emit: Callable[[Any], None]
) -> None:
    """The watcher's work on one stable album folder (scan, suggest, maybe write), with the loaded
    models: emits a :class:`WatchedAlbum` per album event."""
    from musictagger.pipeline.review import best_guesses

    def notify(event: AlbumEvent) -> None:
        emit(WatchedAlbum(event, best_guesses(event.result) if event.result is not None else None))

    suggester = _suggester(worker)
    with worker.models_lock, open_session(config) as session:
        processor = session.album_processor(
            suggester, auto_apply=auto_apply, min_confidence=min_confidence, notify=notify
        )
        processor(folder)


# ---------------------------------------------------------------------------------- training


def learn(roots: Sequence[str], config: Config, *, progress: ProgressCallback, cancel: CancelToken) -> Any:
    """Learn from my library (the training core's ``learn``): returns its report."""
    from musictagger.errors import MusictaggerError

    try:
        from musictagger.training import learn as core_learn
    except ImportError as exc:
        raise MusictaggerError(f"training core not installed ({exc})") from exc
    params = inspect.signature(core_learn).parameters
    any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs: dict[str, Any] = {"config": config, "device": config.inference.device, "base": learning_bases(config)}
    kwargs = {k: v for k, v in kwargs.items() if v and (k in params or any_keyword)}
    return core_learn(list(roots), progress=progress, cancel=cancel, **kwargs)


def learning_bases(config: Config) -> dict[str, Any]:
    """The packs to learn on, per kind: with Settings ▸ Models on "user" or a list of packs, the
    first one of each kind that the settings select, has a pretrained backbone and is not itself
    learnt from the library — so the app learns on the models it suggests with. With "both" or
    "bundled" (the default) none: the core learns on the bundled default packs, as ``learn`` does."""
    from musictagger.errors import MusictaggerError
    from musictagger.pipeline import select_packs
    from musictagger.pipeline.evidence import is_library_pack

    spec = (config.inference.packs or "both").strip()
    if spec in ("both", "bundled"):
        return {}
    try:
        packs = select_packs(spec)
    except MusictaggerError:
        return {}
    base: dict[str, Any] = {}
    for pack in packs:
        if pack.kind not in base and pack.manifest.backbones and not is_library_pack(pack):
            base[pack.kind] = pack
    return base
