"""Reading and writing tags: the boundary where mutagen and OSError become our errors.

Every public function here raises only :class:`~musictagger.errors.FileError` subclasses for
problems with the file, each with one message a person can act on ("file is read-only",
"not a valid FLAC file (truncated or corrupt)"); the library exception is kept as
``__cause__`` for logs.

Writing changes only the fields named in the call. mutagen rewrites the tag block (and, for
MP4/ASF, the container's index atoms) but never the audio data. ID3 tags keep the version
each file has unless ``TagsConfig.id3_version`` forces "2.3" or "2.4" (see
:mod:`musictagger.tags.id3`).

Files are opened once, after a check that they are regular files (a pipe named ``x.mp3`` is
refused, never waited on), and mutagen reads from that open file.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

import mutagen
from mutagen.id3 import ID3

from musictagger.config import TagsConfig
from musictagger.errors import FileError, TagReadError, TagWriteError, UnsupportedFormat, describe_os_error
from musictagger.files import kind_problem, open_regular
from musictagger.tags import id3
from musictagger.tags.detect import sniff_file
from musictagger.tags.formats import _ID3, FORMATS, TEXT_FIELDS, VARIANTS, FormatSpec, codec_of, parse_year
from musictagger.tags.genres import dedupe, split_genres
from musictagger.tags.id3 import VERSIONS as ID3_VERSIONS
from musictagger.tags.id3 import version_of
from musictagger.tags.types import CUSTOM_PREFIX, GENRE, ID3V2, STYLE, Picture, TrackTags

_ID3_FAMILY = _ID3

PathLike = str | os.PathLike[str]

_CUSTOM_NAME = re.compile(r"^MUSICTAGGER_[A-Z0-9_]+$")


def read_tags(path: PathLike, config: TagsConfig | None = None, *, pictures: bool = True) -> TrackTags:
    """Everything we show and use about one file. ``pictures=False`` skips copying image data
    (the scanner does not need it)."""
    config = config or TagsConfig()
    with _opened(path, TagReadError) as (spec, variant, audio, fh):
        family = spec.family
        info = audio.info
        result = TrackTags(
            path=os.fspath(path),
            format=spec.format,
            codec=codec_of(spec.format, variant, audio),
            duration=_number(getattr(info, "length", None)),
            sample_rate=getattr(info, "sample_rate", None) or (48000 if spec.format == "opus" else None),
            channels=getattr(info, "channels", None) or None,
        )
        tags = _readable_tags(spec, audio, fh)
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
            values = _split_nul(family.get(tags, family.custom_key(name)))
            if values:
                result.custom[name] = "; ".join(values)
        result.id3_version = family.version(tags)
        found: list[Picture | None] = family.all_pictures(audio) if audio.tags is not None else []
        broken = sum(p is None for p in found)
        if broken:
            result.problems.append(
                f"{broken} embedded picture{'s are' if broken > 1 else ' is'} not a readable image "
                "(corrupt or truncated); ignored"
            )
        if pictures:
            result.pictures = [p for p in found if p]
        return result


def read_fields(path: PathLike, names: Iterable[str], config: TagsConfig | None = None) -> dict[str, list[str]]:
    """The current values of the logical fields ``names`` ("genre", "style", "MUSICTAGGER_*",
    and for ID3 formats the pseudo-field "id3v2", see :data:`~musictagger.tags.types.ID3V2`).

    Genre and style come back split and deduplicated exactly as :func:`read_tags` gives them;
    custom fields as stored (values holding a NUL are split there, as ID3 and APE do). A missing
    field is ``[]``; "id3v2" is left out for formats that are not ID3.
    """
    config = config or TagsConfig()
    names = list(names)
    for name in names:
        _check_name(name)
    with _opened(path, TagReadError) as (spec, _variant, audio, fh):
        tags = _readable_tags(spec, audio, fh)
        result: dict[str, list[str]] = {}
        for name in names:
            if name == ID3V2:
                if spec.family is _ID3_FAMILY:
                    version = version_of(audio.tags)
                    result[name] = [version] if version else []
            elif tags is None:
                result[name] = []
            elif name in (GENRE, STYLE):
                result[name] = _genre_values(spec, tags, name, config)
            else:
                result[name] = _split_nul(spec.family.get(tags, spec.family.custom_key(name)))
        return result


def write_fields(path: PathLike, values: Mapping[str, list[str] | None], config: TagsConfig | None = None) -> None:
    """Set the logical fields in ``values`` on ``path``, in place; ``[]`` or None deletes one.

    Values are written as given (stripped, empties dropped), as true multiple values in the
    format's convention; no merging or capping happens here (see ``plan_genres``). Fields not
    named are left exactly as they were. Raises :class:`TagWriteError` for every failure,
    including an unsupported or corrupt file, so callers have one error to handle.

    For ID3 formats the tag is saved in ``config.id3_version`` ("keep": the version it has), or
    in the version named by an ``"id3v2"`` value; ``"id3v2": []`` removes the ID3v2 tag when it
    holds nothing but the fields written (what undo does to a tag a write created). An ID3v1 tag
    is left byte for byte as it was.

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
    version_asked = cleaned.pop(ID3V2, None)
    if version_asked is not None and not all(v in ID3_VERSIONS + ("2.2",) for v in version_asked):
        raise ValueError(f"id3v2 must be [], ['2.3'] or ['2.4'], not {version_asked!r}")
    _check_writable(path)
    if not cleaned and version_asked is None:
        return  # nothing asked: leave the file (and its mtime) alone
    before = os.stat(path)
    try:
        with _opened(path, TagWriteError, write=True) as (spec, _variant, audio, fh):
            family = spec.family
            try:
                if audio.tags is None:
                    if version_asked == []:
                        return  # no ID3v2 tag, none wanted
                    audio.add_tags()
                for name, items in cleaned.items():
                    family.set(audio.tags, family.native_key(name), items)
                fh.seek(0)
                if family is _ID3_FAMILY:
                    _save_id3(spec, audio, fh, config, version_asked, set(cleaned))
                else:
                    family.save(audio, fh, config)
                fh.flush()
            except FileError:
                raise
            except Exception as exc:  # noqa: BLE001 - mutagen may leak struct/ValueError on odd files
                raise TagWriteError(path, _describe_failure(exc, spec, "could not write tags")) from exc
    except UnsupportedFormat as exc:
        raise TagWriteError(path, exc.message) from exc
    except OSError as exc:
        raise TagWriteError(path, describe_os_error(exc)) from exc
    if config.keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _save_id3(
    spec: FormatSpec, audio: Any, fh: BinaryIO, config: TagsConfig, asked: list[str] | None, names: set[str]
) -> None:
    """Save an ID3 tag in the version asked (else the config's), converting without loss and
    putting back the ID3v1 tag's bytes; ``asked == []`` removes a tag that holds only ``names``."""
    tail = id3.v1_tail(fh) if spec.id3v1 else None
    current = version_of(audio.tags)
    if asked == [] and spec.remove_id3 is not None and id3.managed_only(audio.tags, names):
        fh.seek(0)
        spec.remove_id3(fh)
        return  # an ID3v1 tag is left alone by the removal
    if asked:
        version = "2.3" if asked[0] == "2.2" else asked[0]  # v2.2 cannot be written: the nearest
    else:
        version = id3.target_version(config.id3_version, current)
    if version == "2.3":
        if current != "2.3":
            id3.to_v23(audio.tags)
        kwargs: dict[str, Any] = {"v2_version": 3, "v23_sep": config.id3v23_separator}
    else:
        if current != "2.4":
            id3.to_v24(audio.tags)
        kwargs = {"v2_version": 4}
    if spec.id3v1:
        kwargs["v1"] = 1 if tail else 0  # never create one; the old one's bytes go back below
    fh.seek(0)
    audio.save(fh, **kwargs)
    if tail is not None:
        id3.put_back_v1(fh, tail)


# ---------------------------------------------------------------------------------------
def _genre_values(spec: FormatSpec, tags: Any, name: str, config: TagsConfig) -> list[str]:
    """A genre-like field as a list. One stored string is split on the separators (that is
    how single-value formats and ID3v2.3 store several genres); a true multi-value field is
    taken as is, so values containing a separator survive a round trip. A NUL always separates
    values (ID3v2.4 and APEv2 use it so; no genre name contains one)."""
    family = spec.family
    raw = [v for v in family.raw_genres(tags, family.native_key(name)) if v.strip("\0 \t\r\n")]
    if len(raw) == 1:
        separators = list(config.separators)
        if config.id3v23_separator.strip() and config.id3v23_separator.strip() not in separators:
            separators.append(config.id3v23_separator.strip())
        if "\0" not in separators:
            separators.append("\0")
        return split_genres(raw[0], separators, config.exceptions)
    return dedupe(_split_nul(raw))


def _split_nul(values: Iterable[str]) -> list[str]:
    return [part for value in values for part in value.split("\0") if part.strip()]


def _number(value: Any) -> float | None:
    """A stream length as a float, None when absent or not a finite positive number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _check_name(name: str) -> None:
    if name in (GENRE, STYLE, ID3V2):
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
    problem = kind_problem(st.st_mode)
    if problem:
        raise TagWriteError(path, problem)
    if not st.st_mode & stat.S_IWUSR:
        raise TagWriteError(path, "file is read-only")
    if not os.access(path, os.W_OK):
        raise TagWriteError(path, "permission denied")


@contextlib.contextmanager
def _opened(
    path: PathLike, error: type[FileError], *, write: bool = False
) -> Iterator[tuple[FormatSpec, str, mutagen.FileType, BinaryIO]]:
    """Open a regular file once (never a pipe or device, see :mod:`musictagger.files`), detect
    the format from its header and load it with the matching mutagen class, from that one open
    file: what is read is what was checked."""
    try:
        fh = open_regular(path, write=write)
    except OSError as exc:
        raise error(path, describe_os_error(exc)) from exc
    with fh:
        try:
            detected = sniff_file(fh, path)
        except TagReadError as exc:
            if error is TagReadError:
                raise
            raise error(path, exc.message) from exc
        except OSError as exc:
            raise error(path, describe_os_error(exc)) from exc
        spec = VARIANTS.get((detected.format, detected.variant)) or FORMATS[detected.format]
        try:
            fh.seek(0)
            audio = spec.opener(fh)
            if spec.family is _ID3_FAMILY and audio.tags is not None and audio.tags.version < (2, 3, 0):
                id3.to_v24(audio.tags)  # v2.2 frames (TT2…) under their v2.4 names
        except Exception as exc:  # noqa: BLE001 - mutagen's parsers leak struct/Value/IndexError
            raise error(
                path, _describe_failure(exc, spec, f"not a valid {spec.name} file (truncated or corrupt)")
            ) from exc
        yield spec, detected.variant, audio, fh


def _readable_tags(spec: FormatSpec, audio: mutagen.FileType, fh: BinaryIO) -> Any:
    """The tags to read: the file's own, or for a file with only an ID3v1 tag, that one."""
    if audio.tags is not None or not spec.id3v1:
        return audio.tags
    try:
        fh.seek(0)
        return ID3(fh)  # no ID3v2 header: mutagen reads the ID3v1 tag alone
    except Exception:  # noqa: BLE001 - no ID3v1 tag either (or an unreadable one): no tags
        return None


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
