"""The tag layer: one small API over mutagen for every format we support.

No Qt, no torch. See :mod:`musictagger.tags.formats` for how each format stores genres,
styles and our own fields, :mod:`musictagger.tags.genres` for splitting and planning, and
:mod:`musictagger.tags.detect` for header-based format detection.
"""

from musictagger.tags.detect import AUDIO_EXTENSIONS, SUPPORTED_FORMATS, detect_format
from musictagger.tags.genres import plan_genres, split_genres
from musictagger.tags.io import read_fields, read_tags, write_fields
from musictagger.tags.types import Picture, TagField, TrackTags, WriteMode

__all__ = [
    "AUDIO_EXTENSIONS",
    "SUPPORTED_FORMATS",
    "Picture",
    "TagField",
    "TrackTags",
    "WriteMode",
    "detect_format",
    "plan_genres",
    "read_fields",
    "read_tags",
    "split_genres",
    "write_fields",
]
