"""Reading and writing tags: the boundary where mutagen and OSError become our errors.

Every public function here raises only :class:`~musictagger.errors.FileError` subclasses for
problems with the file, each with one message a person can act on ("file is read-only",
"not a valid FLAC file (truncated or corrupt)"); the library exception is kept as
``__cause__`` for logs.

Writing changes only the fields named in the call. mutagen rewrites the tag block (and, for
MP4/ASF, the container's index atoms) but never the audio data. ID3 tags are written as
``TagsConfig.id3_version`` (2.4 by default) whatever version the file had, the way Picard
does: a 2.3 file becomes 2.4 unless the user chose 2.3 for players that need it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from typing import Any

import mutagen

from musictagger.config import TagsConfig
from musictagger.errors import FileError, TagReadError, TagWriteError, UnsupportedFormat, describe_os_error
from musictagger.tags.detect import sniff
from musictagger.tags.formats import FORMATS, TEXT_FIELDS, VARIANTS, FormatSpec, codec_of, parse_year
from musictagger.tags.genres import dedupe, split_genres
from musictagger.tags.model import CUSTOM_PREFIX, GENRE, STYLE, TrackTags

PathLike = str | os.PathLike[str]

_CUSTOM_NAME = re.compile(r"^MUSICTAGGER_[A-Z0-9_]+$")


def read_tags(path: PathLike, config: TagsConfig | None = None, *, pictures: bool = True) -> TrackTags:
    """Everything we show and use about one file. ``pictures=False`` skips copying image data
    (the scanner does not need it)."""
    config = config or TagsConfig()
    spec, variant, audio = _open(path, TagReadError)
    family = spec.family
    info = audio.info
    result = TrackTags(
        path=os.fspath(path),
        format=spec.format,
        codec=codec_of(spec.format, variant, audio),
        duration=float(info.length) if getattr(info, "length", None) else None,
        sample_rate=getattr(info, "sample_rate", None) or (48000 if spec.format == "opus" else None),
        channels=getattr(info, "channels", None) or None,
    )
    tags = audio.tags
    if tags is None:
        return result
    for name in TEXT_FIELDS:
        setattr(result, name, family.first(tags, name))
    result.track, result.track_total = family.numbers(tags, "track")
    result.disc, result.disc_total = family.numbers(tags, "disc")
    result.year = parse_year(family.first(tags, "date") or "")
    result.genres = _genre_values(spec, tags, GENRE, config)
    result.styles = _genre_values(spec, tags, STYLE, config)
    for name in dict.fromkeys(family.custom_names(tags)):
        values = family.get(tags, family.custom_key(name))
        if values:
            result.custom[name] = "; ".join(values)
    result.id3_version = family.version(tags)
    if pictures:
        result.pictures = family.pictures(audio)
    return result


def read_fields(path: PathLike, names: Iterable[str], config: TagsConfig | None = None) -> dict[str, list[str]]:
    """The current values of the logical fields ``names`` ("genre", "style", "MUSICTAGGER_*").

    Genre and style come back split and deduplicated exactly as :func:`read_tags` gives them;
    custom fields as stored. A missing field is ``[]``.
    """
    config = config or TagsConfig()
    names = list(names)
    for name in names:
        _check_name(name)
    spec, _variant, audio = _open(path, TagReadError)
    if audio.tags is None:
        return {name: [] for name in names}
    result: dict[str, list[str]] = {}
    for name in names:
        if name in (GENRE, STYLE):
            result[name] = _genre_values(spec, audio.tags, name, config)
        else:
            result[name] = spec.family.get(audio.tags, spec.family.custom_key(name))
    return result


def write_fields(path: PathLike, values: Mapping[str, list[str] | None], config: TagsConfig | None = None) -> None:
    """Set the logical fields in ``values`` on ``path``, in place; ``[]`` or None deletes one.

    Values are written as given (stripped, empties dropped), as true multiple values in the
    format's convention; no merging or capping happens here (see ``plan_genres``). Fields not
    named are left exactly as they were. Raises :class:`TagWriteError` for every failure,
    including an unsupported or corrupt file, so callers have one error to handle.

    The caller (the journal) runs this on a temporary copy and verifies it, so a failure
    half-way through never damages the user's file.
    """
    config = config or TagsConfig()
    cleaned: dict[str, list[str]] = {}
    for name, items in values.items():
        _check_name(name)
        items = [v.strip() for v in (items or [])]
        if any("\0" in v for v in items):
            raise TagWriteError(path, f"value for {name} contains a NUL character")
        cleaned[name] = [v for v in items if v]
    _check_writable(path)
    try:
        spec, _variant, audio = _open(path, TagWriteError)
    except UnsupportedFormat as exc:
        raise TagWriteError(path, exc.message) from exc
    if not cleaned:
        return  # nothing asked: leave the file (and its mtime) alone
    before = os.stat(path)
    family = spec.family
    try:
        if audio.tags is None:
            audio.add_tags()
        for name, items in cleaned.items():
            family.set(audio.tags, family.native_key(name), items)
        family.save(audio, config)
    except Exception as exc:  # noqa: BLE001 - mutagen may leak struct/ValueError on odd files
        raise TagWriteError(path, _describe_failure(exc, spec, "could not write tags")) from exc
    if config.keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


# ---------------------------------------------------------------------------------------
def _genre_values(spec: FormatSpec, tags: Any, name: str, config: TagsConfig) -> list[str]:
    """A genre-like field as a list. One stored string is split on the separators (that is
    how single-value formats and ID3v2.3 store several genres); a true multi-value field is
    taken as is, so values containing a separator survive a round trip."""
    family = spec.family
    raw = [v for v in family.raw_genres(tags, family.native_key(name)) if v.strip()]
    if len(raw) == 1:
        separators = list(config.separators)
        if config.id3v23_separator.strip() and config.id3v23_separator.strip() not in separators:
            separators.append(config.id3v23_separator.strip())
        return split_genres(raw[0], separators, config.exceptions)
    return dedupe(raw)


def _check_name(name: str) -> None:
    if name in (GENRE, STYLE):
        return
    if not _CUSTOM_NAME.match(name):
        raise ValueError(
            f"unknown tag field {name!r}: expected 'genre', 'style' or {CUSTOM_PREFIX}NAME "
            "(upper-case letters, digits, underscores)"
        )


def _check_writable(path: PathLike) -> None:
    """Refuse read-only files before mutagen opens them for writing.

    The owner's write bit is checked explicitly because ``os.access`` is always true for
    root, and a user who marked a file read-only meant it whoever runs the program.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise TagWriteError(path, describe_os_error(exc)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise TagWriteError(path, "is a directory")
    if not st.st_mode & stat.S_IWUSR:
        raise TagWriteError(path, "file is read-only")
    if not os.access(path, os.W_OK):
        raise TagWriteError(path, "permission denied")


def _open(path: PathLike, error: type[FileError]) -> tuple[FormatSpec, str, mutagen.FileType]:
    """Detect the format from the header and load it with the matching mutagen class."""
    try:
        detected = sniff(path)
    except TagReadError as exc:
        if error is TagReadError:
            raise
        raise error(path, exc.message) from exc
    spec = VARIANTS.get((detected.format, detected.variant)) or FORMATS[detected.format]
    try:
        audio = spec.opener(os.fspath(path))
    except Exception as exc:  # noqa: BLE001 - mutagen's parsers leak struct/Value/IndexError
        raise error(path, _describe_failure(exc, spec, f"not a valid {spec.name} file (truncated or corrupt)")) from exc
    return spec, detected.variant, audio


def _describe_failure(exc: BaseException, spec: FormatSpec, fallback: str) -> str:
    """The OSError behind a mutagen error, in words, else ``fallback``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return describe_os_error(current)
        for arg in current.args:
            if isinstance(arg, OSError) and arg.errno is not None:
                return describe_os_error(arg)
        current = current.__cause__ or current.__context__
    return fallback
