"""ID3 versions without surprises: which version a write uses, conversions that lose nothing, and
the ID3v1 tag left exactly as it was.

What a user expects from a genre write is that the genre changes and nothing else. For ID3 that
takes care in three places:

* **The version.** ``id3_version = "keep"`` (the default) writes each file in the ID3v2 version it
  already has (a v2.2 tag, which nothing can write any more, becomes v2.4; a file without an ID3v2
  tag gets a v2.4 one). ``"2.3"`` or ``"2.4"`` convert. Tags are loaded untranslated, so a kept
  version is written back frame for frame (mutagen's own load would turn v2.3 frames into v2.4
  ones and its save back, dropping what has no twin: RVAD, TSOP in a v2.3 tag…).
* **Conversions keep every frame**, the way Picard does and a little further: to v2.3 the sort
  names (TSOP, TSOA, TSOT) and the disc subtitle (TSST) stay as they are (every player that reads
  them reads them in v2.3 too), mood and the other v2.4-only text frames become ``TXXX`` frames
  (``MOOD``…), musician and involved-people credits (TMCL, TIPL) become the v2.3 ``IPLS``, dates
  become TYER/TDAT/TIME/TORY, and v2.4-only binary frames (RVA2…) are kept rather than dropped. To
  v2.4 the v2.3-only frames mutagen drops (RVAD, EQUA, TRDA, TSIZ) are kept.
* **ID3v1 is never merged into ID3v2, and never rewritten.** mutagen by default fills missing v2
  frames from the v1 tag on load (and, for a v2.3 tag, puts the v1 year over TYER) and regenerates
  the v1 tag from the v2 frames on save (emptying its comment). We load the v2 tag alone; a file
  with only a v1 tag is read from it; and the 128 bytes of an existing v1 tag are put back as they
  were after every save.

The version is also a journaled pseudo-field, :data:`musictagger.tags.types.ID3V2` (``["2.3"]``,
``["2.4"]``, or ``[]`` for "no ID3v2 tag"), so that undo puts back the version it changed and
removes an ID3v2 tag that the write created.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from mutagen.id3 import ID3, IPLS, TXXX

from musictagger.tags.types import CUSTOM_PREFIX

VERSIONS = ("2.3", "2.4")
KEEP = "keep"

# v2.4-only frames kept as they are in a v2.3 tag (Picard keeps the first four; the binary ones
# have no v2.3 form, and an unknown frame is ignored by readers where a dropped one is lost).
_V24_KEEP_IN_V23 = ("TSOP", "TSOA", "TSOT", "TSST", "RVA2", "EQU2", "ASPI", "SEEK", "SIGN")
# v2.4-only text frames with no v2.3 twin: kept as TXXX under these names.
_V24_AS_TXXX = {
    "TMOO": "MOOD",
    "TDRL": "RELEASETIME",
    "TDEN": "ENCODINGTIME",
    "TDTG": "TAGGINGTIME",
    "TPRO": "PRODUCEDNOTICE",
}
# v2.3-only frames that mutagen's update_to_v24 drops; kept as they are.
_V23_KEEP_IN_V24 = ("RVAD", "EQUA", "TRDA", "TSIZ")


def version_of(tags: Any) -> str | None:
    """ "2.3"/"2.4" (or "2.2", "1.1" for an ID3v1-only view) of a loaded tag, None without one."""
    if tags is None:
        return None
    return f"{tags.version[0]}.{tags.version[1]}"


def target_version(setting: str, current: str | None) -> str:
    """The ID3v2 version a write uses: ``setting`` ("keep", "2.3", "2.4") given the file's."""
    if setting in VERSIONS:
        return setting
    return current if current in VERSIONS else "2.4"


def to_v23(tags: ID3) -> None:
    """Convert a (v2.4) tag to v2.3 in place, keeping every frame (see the module docstring)."""
    kept = [frame for key in _V24_KEEP_IN_V23 for frame in tags.getall(key)]
    for key, desc in _V24_AS_TXXX.items():
        frames = tags.getall(key)
        if frames and not any(f.desc.casefold() == desc.casefold() for f in tags.getall("TXXX")):
            tags.add(TXXX(encoding=3, desc=desc, text=[str(t) for f in frames for t in f.text]))
    people: list[list[str]] = []
    for key in ("IPLS", "TIPL", "TMCL"):
        for frame in tags.getall(key):
            people.extend([list(p) for p in frame.people])
        tags.delall(key)
    tags.update_to_v23()
    if people:
        tags.add(IPLS(encoding=3, people=people))
    for frame in kept:
        tags.add(frame)


def to_v24(tags: ID3) -> None:
    """Convert a (v2.3 or v2.2) tag to v2.4 in place, keeping the frames v2.4 has no twin for."""
    kept = [frame for key in _V23_KEEP_IN_V24 for frame in tags.getall(key)]
    tags.update_to_v24()
    for frame in kept:
        tags.add(frame)


def managed_only(tags: ID3, names: set[str]) -> bool:
    """True when the tag holds nothing but frames of the logical fields ``names`` (what we write):
    then removing the whole tag loses nothing of anyone else's."""
    for frame in tags.values():
        key = frame.FrameID
        if key == "TCON" and "genre" in names:
            continue
        if key == "TXXX":
            desc = frame.desc.upper()
            if desc == "STYLE" and "style" in names:
                continue
            if desc.startswith(CUSTOM_PREFIX) and desc in names:
                continue
        if key in ("TCON", "TXXX") and not str(frame):
            continue  # empty frames are not written
        return False
    return True


def v1_tail(fh: BinaryIO) -> bytes | None:
    """The 128 bytes of the file's ID3v1 tag, or None when it has none."""
    fh.seek(0, 2)
    if fh.tell() < 128:
        return None
    fh.seek(-128, 2)
    tail = fh.read(128)
    return tail if tail.startswith(b"TAG") else None


def put_back_v1(fh: BinaryIO, tail: bytes) -> None:
    """After a save, make the file end with the original ID3v1 tag again, byte for byte."""
    fh.seek(0, 2)
    end = fh.tell()
    if end >= 128:
        fh.seek(-128, 2)
        if fh.read(3) == b"TAG":
            fh.seek(end - 128)
            fh.write(tail)
            fh.truncate()
            return
    fh.seek(end)
    fh.write(tail)
