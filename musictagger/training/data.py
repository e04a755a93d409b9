"""Training data: labelled items from a music folder, a CSV, or a teacher model (no torch here).

An :class:`Item` is one training example — an album (cover, tracks) or a single file — with the
artist it belongs to (the unit of the train/validation split) and its labels. A
:class:`Dataset` is items plus the label vocabulary the model will output.

Labels from tags and CSVs go through the taxonomy (``Taxonomy.normalise_many``) and are closed
under parents ("Black Metal" also teaches "Metal"), so a model learns the hierarchy the fusion and
the writer use. Labels with fewer than ``min_count`` items cannot be learnt or measured and are
dropped; items left with no label are skipped and counted, never silently lost.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musictagger.errors import FileProblem, MusictaggerError

if TYPE_CHECKING:  # pragma: no cover
    from musictagger.library import Album
    from musictagger.ml.packs import ModelPack
    from musictagger.progress import CancelToken, ProgressCallback

KINDS = ("cover", "audio")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


class DatasetError(MusictaggerError):
    """The data cannot train a model (no labelled items, unreadable CSV, nothing left to learn…)."""


@dataclass(frozen=True)
class Item:
    """One example. ``key`` is stable and unique (a path); ``artist`` is the split unit.

    Covers come from ``cover`` (an image file, or an audio file with embedded art) or, for
    albums from a library scan, from ``album`` via :func:`musictagger.library.load_cover`.
    """

    key: str
    artist: str
    labels: tuple[str, ...] = ()
    cover: str | None = None
    album: Album | None = field(default=None, compare=False, repr=False)
    tracks: tuple[str, ...] = ()
    title: str = ""


@dataclass
class Dataset:
    items: list[Item]
    labels: list[str]  # the model's outputs, in order
    source: str  # human description: "folder /music", "csv labels.csv", "teacher choi2016-msd …"
    label_space: str = "taxonomy"
    label_map: dict[str, list[str]] = field(default_factory=dict)
    skipped: int = 0  # items without a usable label
    skipped_examples: list[str] = field(default_factory=list)
    dropped_labels: dict[str, int] = field(default_factory=dict)  # label -> items (too few)
    teacher: ModelPack | None = None  # distillation: soft targets come from this pack

    def label_counts(self) -> dict[str, int]:
        counts = Counter(lab for it in self.items for lab in it.labels)
        return {lab: counts.get(lab, 0) for lab in self.labels}


@dataclass(frozen=True)
class TeacherSource:
    """Distillation data: unlabelled audio under ``roots`` (or explicit ``items``) and a teacher.

    ``label_mode`` "taxonomy" maps the teacher's tags into taxonomy ids through its label map
    (an id's target is the largest probability among the tags mapped to it); "own" keeps the
    teacher's tags as a free label space.
    """

    teacher: ModelPack
    roots: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    label_mode: str = "taxonomy"


def _taxonomy():
    from musictagger.taxonomy import Taxonomy

    return Taxonomy.default()


def normalise_labels(texts: Sequence[str]) -> tuple[str, ...]:
    """Free genre texts → taxonomy ids, closed under parents, sorted; () if none is known."""
    tax = _taxonomy()
    ids = list(tax.normalise_many(list(texts)))
    if not ids:
        return ()
    return tuple(sorted(set(tax.closure(ids))))


def _finish(items: list[Item], source: str, skipped: int, skipped_examples: list[str], min_count: int) -> Dataset:
    counts = Counter(lab for it in items for lab in it.labels)
    keep = {lab for lab, n in counts.items() if n >= min_count}
    dropped = {lab: n for lab, n in counts.items() if n < min_count}
    kept: list[Item] = []
    for it in items:
        labels = tuple(lab for lab in it.labels if lab in keep)
        if labels:
            kept.append(Item(it.key, it.artist, labels, it.cover, it.album, it.tracks, it.title))
        else:
            skipped += 1
            if len(skipped_examples) < 20:
                skipped_examples.append(it.key)
    names = sorted(keep, key=lambda lab: (-counts[lab], lab))
    if not kept or not names:
        raise DatasetError(
            f"{source}: no item has a label that at least {min_count} items share "
            f"({len(items)} labelled, {skipped} without a usable label)"
        )
    return Dataset(kept, names, source, skipped=skipped, skipped_examples=skipped_examples, dropped_labels=dropped)


def from_folder(
    roots: Sequence[str | Path],
    kind: str,
    *,
    min_count: int = 3,
    config: Any = None,
    index: Any = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Dataset:
    """Albums under ``roots`` labelled by their own genre (and style) tags.

    Cover data needs an album cover (embedded or a folder image); audio data needs tracks. An
    album whose tags name no genre the taxonomy knows is skipped and counted.
    """
    from musictagger.library import scan

    _check_kind(kind)
    result = scan([str(r) for r in roots], index=index, config=config, progress=progress, cancel=cancel)
    items: list[Item] = []
    skipped = 0
    examples: list[str] = []
    for album in result.albums:
        texts = list(album.genres) + [s for t in album.tracks for s in t.styles]
        labels = normalise_labels(texts)
        usable = album.cover_source != "none" if kind == "cover" else bool(album.tracks)
        if not labels or not usable:
            skipped += 1
            if len(examples) < 20:
                examples.append(album.folder)
            continue
        items.append(
            Item(
                key=album.folder if album.folder else album.key,
                artist=album.artist,
                labels=labels,
                album=album,
                tracks=tuple(t.path for t in album.tracks),
                title=f"{album.artist} — {album.album or Path(album.folder).name}",
            )
        )
    roots_text = ", ".join(str(r) for r in roots)
    return _finish(items, f"folder {roots_text}", skipped, examples, min_count)


def from_csv(path: str | Path, kind: str, *, min_count: int = 3) -> Dataset:
    """Items from a CSV with columns ``path`` and ``labels`` (separated by ';'), optional ``artist``.

    Relative paths are relative to the CSV's folder. Without an artist column, the file's parent
    folder name stands in for the artist (albums usually live in artist folders), which keeps a
    folder's files on one side of the split. For cover data, ``path`` is an image, or an audio
    file whose embedded cover is used; for audio data, an audio file.
    """
    _check_kind(kind)
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            fields = {(name or "").strip().casefold(): name for name in reader.fieldnames or []}
            if "path" not in fields or "labels" not in fields:
                raise DatasetError(f"{path}: the CSV needs 'path' and 'labels' columns (has {sorted(fields)})")
            rows = list(reader)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the CSV ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: not a readable UTF-8 CSV ({exc})") from exc
    base = path.parent
    items: list[Item] = []
    skipped = 0
    examples: list[str] = []
    for row in rows:
        file = (row.get(fields["path"]) or "").strip()
        if not file:
            continue
        target = Path(file) if Path(file).is_absolute() else base / file
        texts = [t.strip() for t in (row.get(fields["labels"]) or "").split(";") if t.strip()]
        labels = normalise_labels(texts)
        artist = (row.get(fields["artist"]) or "").strip() if "artist" in fields else ""
        if not labels or not target.is_file():
            skipped += 1
            if len(examples) < 20:
                examples.append(str(target))
            continue
        is_image = target.suffix.lower() in IMAGE_SUFFIXES
        if kind == "audio" and is_image:
            skipped += 1
            continue
        items.append(
            Item(
                key=str(target),
                artist=artist or target.parent.name,
                labels=labels,
                cover=str(target) if kind == "cover" else None,
                tracks=(str(target),) if kind == "audio" else (),
                title=target.stem,
            )
        )
    return _finish(items, f"csv {path}", skipped, examples, min_count)


def audio_items(roots: Sequence[str | Path], *, config: Any = None, index: Any = None) -> list[Item]:
    """One unlabelled item per audio file under ``roots`` (artist from tags, else the folder)."""
    from musictagger.library import scan

    result = scan([str(r) for r in roots], index=index, config=config)
    items = []
    for album in result.albums:
        for t in album.tracks:
            artist = t.album_artist or t.artist or album.album_artist or Path(t.path).parent.name
            items.append(Item(key=t.path, artist=artist, tracks=(t.path,), title=t.title or Path(t.path).stem))
    if not items:
        raise DatasetError(f"no audio files found under {', '.join(str(r) for r in roots)}")
    return items


def teacher_dataset(source: TeacherSource) -> Dataset:
    """The label vocabulary and items of a distillation run (targets are computed when training).

    Taxonomy mode: one output per taxonomy id that any teacher tag maps to; the teacher tags that
    map to nothing (moods, decades, "female vocalists") are not distilled.
    """
    teacher = source.teacher
    if teacher.kind != "audio":
        raise DatasetError(f"teacher {teacher.name} is a {teacher.kind} model; distillation needs an audio model")
    items = list(source.items) or audio_items(source.roots)
    if source.label_mode == "own":
        labels = list(teacher.labels)
        ds = Dataset(
            items,
            labels,
            f"teacher {teacher.name} {teacher.version}",
            label_space=teacher.label_space,
            label_map=teacher.label_map if teacher.label_space == "free" else {},
            teacher=teacher,
        )
        if ds.label_space == "taxonomy":
            ds.label_map = {}
        return ds
    if source.label_mode != "taxonomy":
        raise DatasetError(f"unknown teacher label mode {source.label_mode!r} (taxonomy or own)")
    ids: list[str] = []
    for mapped in teacher.taxonomy_ids():
        for i in mapped:
            if i not in ids:
                ids.append(i)
    if not ids:
        raise DatasetError(f"teacher {teacher.name}: none of its tags maps into the taxonomy")
    return Dataset(items, ids, f"teacher {teacher.name} {teacher.version}", teacher=teacher)


def resolve(dataset: Dataset | TeacherSource | str | Path, kind: str, *, min_count: int = 3) -> Dataset:
    """Any accepted dataset argument → :class:`Dataset`: a Dataset, a TeacherSource, a ``.csv``
    file, or a music folder."""
    _check_kind(kind)
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, TeacherSource):
        if kind != "audio":
            raise DatasetError("distillation from a teacher trains audio models only")
        return teacher_dataset(dataset)
    path = Path(dataset)
    if path.is_file() and path.suffix.lower() == ".csv":
        return from_csv(path, kind, min_count=min_count)
    if path.is_dir():
        return from_folder([path], kind, min_count=min_count)
    raise DatasetError(f"{path}: neither a music folder nor a .csv file")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise DatasetError(f"unknown model kind {kind!r} (cover or audio)")


def cover_bytes(item: Item, config: Any = None) -> tuple[bytes, str]:
    """The item's cover image bytes and a name for messages; raises :class:`FileError`."""
    from musictagger.errors import CoverError, FileError

    if item.album is not None:
        from musictagger.library import load_cover

        loaded = load_cover(item.album, config)
        if loaded is None:
            raise CoverError(item.key, "the album's cover could not be read")
        return loaded[0], item.key
    if item.cover is None:
        raise CoverError(item.key, "no cover")
    path = Path(item.cover)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        try:
            return path.read_bytes(), str(path)
        except OSError as exc:
            from musictagger.errors import describe_os_error

            raise FileError(path, describe_os_error(exc)) from exc
    from musictagger.tags import read_tags

    picture = read_tags(path, pictures=True).front_cover()
    if picture is None or not picture.data:
        raise CoverError(path, "no embedded cover")
    return picture.data, f"{path} (embedded)"


def cover_image(item: Item, size: int, errors: list[FileProblem]) -> Any:
    """The item's cover decoded for a model of input ``size`` (a Pillow RGB image), or None after
    appending a :class:`~musictagger.errors.FileProblem` to ``errors``: one unreadable cover never stops a training run."""
    from musictagger.ml.cover_input import open_image

    try:
        data, source = cover_bytes(item)
        return open_image(data, source=source, target_size=size)
    except MusictaggerError as exc:
        errors.append(FileProblem.of(exc, item.key))
        return None
