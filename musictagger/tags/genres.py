"""Genre strings: splitting stored values into lists, legacy ID3 genres, and planning a write.

Everything here is pure (no file access) so the journal, the CLI preview and the GUI can all
show exactly what a write will do before it happens.

Splitting rules (one stored string -> several genres)
    A tag that holds a single string such as ``"Black Metal; Death Metal"`` or the ID3v2.3
    form ``"Black Metal/Death Metal"`` is split on the configured separators. Names that
    themselves contain a separator (``"Drum & Bass"``, ``"Folk, World, & Country"``,
    ``"AC/DC"``) are listed as *exceptions* and are kept whole, matched case-insensitively.
    Results are stripped, empties dropped, and duplicates removed case-insensitively keeping
    the first spelling seen (``"black metal"`` after ``"Black Metal"`` is dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from mutagen.id3 import TCON

from musictagger.config import DEFAULT_GENRE_EXCEPTIONS, WriteMode

DEFAULT_SEPARATORS: tuple[str, ...] = (";", "/", ",", "\0")

MODES = ("merge", "replace")

# ID3v1 / Winamp genre list (index -> name); mutagen ships it as a public class attribute.
ID3V1_GENRES: tuple[str, ...] = tuple(TCON.GENRES)

# "(17)", "(17)(18)", "(17)Rock", "((Literal" per ID3v2.3 section 4.2.1; "RX"/"CR" are the
# two symbolic references the spec defines.
_ID3_REFS = re.compile(r"^((?:\((?:\d+|RX|CR)\))*)(.*)$", re.S)
_ID3_SYMBOLIC = {"RX": "Remix", "CR": "Cover"}


def dedupe(values: Iterable[str]) -> list[str]:
    """Strip, drop empties, and drop case-insensitive duplicates keeping the first spelling."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        value = value.strip()
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def split_genres(
    value: str,
    separators: Sequence[str] = DEFAULT_SEPARATORS,
    exceptions: Iterable[str] = DEFAULT_GENRE_EXCEPTIONS,
) -> list[str]:
    """Split one stored genre string into a list, keeping exception names whole.

    Exceptions are protected before splitting: each occurrence (case-insensitive, and only
    where it is not part of a longer word) is swapped for a placeholder that contains no
    separator, and swapped back afterwards with the exception's *stored* spelling, so
    ``"drum & bass/Jungle"`` gives ``["drum & bass", "Jungle"]``.
    """
    seps = [s for s in separators if s]
    if not value:
        return []
    protected: list[str] = []

    # Longest first, so "Soul/R&B" wins over "R&B" inside it.
    for name in sorted({e for e in exceptions if e}, key=len, reverse=True):
        if not any(s in name for s in seps):
            continue  # nothing in it would be split anyway
        pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)

        def _protect(match: re.Match[str]) -> str:
            protected.append(match.group(0))
            return f"\x01{len(protected) - 1}\x02"

        value = pattern.sub(_protect, value)

    parts = [value]
    for sep in seps:
        parts = [piece for part in parts for piece in part.split(sep)]

    def _restore(part: str) -> str:
        return re.sub(r"\x01(\d+)\x02", lambda m: protected[int(m.group(1))], part)

    return dedupe(_restore(p) for p in parts)


def resolve_id3_genre(value: str) -> list[str]:
    """Names for one ID3 TCON value, resolving legacy numeric references.

    ``"17"`` and ``"(17)"`` become ``"Rock"``; ``"(17)(18)"`` two names; ``"(17)Rock"`` the
    reference plus the refinement (deduplicated later); ``"((Text"`` unescapes to ``"(Text"``.
    Unknown indexes are dropped rather than shown as "Unknown". Free text is returned as is
    (splitting on separators is a separate step).
    """
    value = value.strip()
    if value.isdigit() and int(value) < 256:  # an ID3v1 index is one byte; "2001" is text
        index = int(value)
        return [ID3V1_GENRES[index]] if index < len(ID3V1_GENRES) else []
    refs, text = _ID3_REFS.match(value).groups()  # type: ignore[union-attr]
    names: list[str] = []
    for ref in re.findall(r"\((\d+|RX|CR)\)", refs):
        if ref in _ID3_SYMBOLIC:
            names.append(_ID3_SYMBOLIC[ref])
        elif int(ref) < len(ID3V1_GENRES):
            names.append(ID3V1_GENRES[int(ref)])
    if text.startswith("(("):
        text = text[1:]
    if text:
        names.append(text)
    return names


def plan_genres(current: list[str], new: list[str], *, mode: WriteMode = "merge", max_genres: int = 5) -> list[str]:
    """The genre list a write should leave in the file.

    merge
        The user's existing genres come first, all of them, in their order. New genres are
        appended in the given order, skipping case-insensitive duplicates, until the field
        holds ``max_genres`` values. The cap limits how many *new* genres are added; it never
        deletes a genre the user already had (if they already have ``max_genres`` or more,
        nothing is added). Losing a hand-curated genre to make room for a model's guess
        would be the worse surprise.
    replace
        Only the new genres, deduplicated, capped to ``max_genres``.

    ``max_genres=0`` means no cap.
    """
    if mode not in MODES:
        raise ValueError(f"unknown genre write mode {mode!r} (expected one of {', '.join(MODES)})")
    if max_genres < 0:
        raise ValueError("max_genres must be >= 0 (0 means no cap)")
    cap = max_genres or None
    if mode == "replace":
        return dedupe(new)[:cap]
    result = dedupe(current)
    seen = {g.casefold() for g in result}
    for genre in dedupe(new):
        if cap is not None and len(result) >= cap:
            break
        if genre.casefold() not in seen:
            seen.add(genre.casefold())
            result.append(genre)
    return result
