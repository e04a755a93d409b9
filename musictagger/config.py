"""Configuration: TOML, every key documented with its default (see ``DEFAULT_TOML``).

Loading merges the user's file over the defaults, key by key; unknown keys are kept out and
reported; a wrong type, a value out of its range (:data:`_RANGES`) or not among its choices, or a
config file that cannot be read raise :class:`ConfigError` with the key's name: a message, never a
traceback.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from musictagger.errors import ConfigError

# The choices of the settings that have a fixed set of values (checked on load, see _CHOICES).
# They are defined here, the lowest layer that needs them; the tag layer and the journal use them
# for the same values (``musictagger.tags.TagField``…).
#: The field genres are written to: GENRE, or STYLE for people who keep GENRE broad.
TagField = Literal["genre", "style"]
#: How new genres meet those in the file: added to them (merge) or in place of them (replace).
WriteMode = Literal["merge", "replace"]
#: The ID3 version written: each file's own ("keep") or a conversion to 2.3 / 2.4.
Id3VersionChoice = Literal["keep", "2.3", "2.4"]
#: How much of each album the models read (inference.speed).
Speed = Literal["full", "fast"]

# A settings file is a few KiB; a much larger one is not ours (and must not be read whole).
_MAX_CONFIG_BYTES = 1 << 20

# Genre names that contain a separator character and must not be split.
DEFAULT_GENRE_EXCEPTIONS = [
    "Folk, World, & Country",
    "Drum & Bass",
    "Drum 'n' Bass",
    "R&B",
    "Rhythm & Blues",
    "Rock & Roll",
    "Rock 'n' Roll",
    "Children's",
    "Stage & Screen",
    "Hip-Hop/Rap",
    "AC/DC",
    "Death/Doom",
    "Doom/Death",
    "Brass & Military",
    "Non-Music",
    "Drum and Bass",
    "Singer/Songwriter",
    "Singer-Songwriter",
    "Soul/R&B",
    "Funk / Soul",
    "Easy Listening",
    "Spoken Word",
]


@dataclass
class TagsConfig:
    # How a single stored genre string is split into several genres.
    separators: list[str] = field(default_factory=lambda: [";", "/", ",", "\0"])
    # Genre names containing a separator that are kept whole.
    exceptions: list[str] = field(default_factory=lambda: list(DEFAULT_GENRE_EXCEPTIONS))
    # merge: keep what the user has and add new ones; replace: write only the new ones.
    mode: WriteMode = "merge"
    # Cap on the number of genres in the field after a write (0 = no cap).
    max_genres: int = 5
    # Which field genres go to: "genre", or "style" for people who keep GENRE broad.
    field: TagField = "genre"
    # ID3 version of MP3/WAV/AIFF/TTA/DSF tags: "keep" (each file keeps the version it has; new
    # tags are v2.4), or "2.4" (null-separated multi-values) / "2.3" (joined with
    # id3v23_separator, like Picard) to convert every file written to that version.
    id3_version: Id3VersionChoice = "keep"
    id3v23_separator: str = "/"
    # Write provenance (model, version, confidences) into our own custom fields.
    write_provenance: bool = True
    # Keep the file's modification time when writing tags.
    keep_mtime: bool = False
    # Write parent labels too (e.g. "Black Metal" also writes "Metal").
    write_parents: bool = False
    # A file modified less than this many seconds ago is watched until it has been quiet that
    # long before it is written, and skipped ("still changing, try again") if it changes
    # meanwhile: a file still being copied in is never replaced under the copier. 0 = no check.
    stable_seconds: float = 2.0


@dataclass
class LibraryConfig:
    # Folders that make up the library (the GUI opens them at start).
    roots: list[str] = field(default_factory=list)
    # Follow symbolic links to folders (loops are always detected and skipped).
    follow_symlinks: bool = True
    # Skip hidden files and folders (names starting with ".").
    skip_hidden: bool = True


@dataclass
class InferenceConfig:
    # "auto" (CUDA > MPS > CPU), "cpu", "cuda", "cuda:1", "mps".
    device: str = "auto"
    # Threads torch may use on the CPU (0 = all cores; the app runs models in a lower-priority process).
    cpu_threads: int = 0
    # Parallel decoding workers (0 = automatic).
    decode_workers: int = 0
    batch_size: int = 16
    # Which model packs to use: "bundled", "user", "both", or a comma list of pack names.
    packs: str = "both"
    # Suggestions below this confidence are not shown.
    min_confidence: float = 0.0
    # At most this many suggestions per album.
    top_k: int = 5
    # "full": every track, the packs' own excerpts (3 per track for audio-v2), every test-time view of
    # a cover. "fast": 3 tracks spread over each album, 1 excerpt each, each cover seen once — several
    # times faster on a CPU (see the README for what it costs in agreement). Cached results are kept
    # apart per setting.
    speed: Speed = "full"


@dataclass
class FusionConfig:
    # Scale each source's say in the fused confidence (per label the packs' validation quality
    # already weighs them); 0 turns a source off.
    cover_weight: float = 1.0
    audio_weight: float = 1.0
    # The packs learnt from your library (musictagger learn) and the artist prior (the genres of the
    # artist's other albums in your library).
    library_weight: float = 1.0
    artist_weight: float = 1.0


@dataclass
class WatchConfig:
    folders: list[str] = field(default_factory=list)
    # Seconds without size/mtime change before a new album is processed.
    quiet_seconds: float = 5.0
    auto_apply: bool = False
    # With auto_apply, only labels at or above this confidence are written.
    auto_apply_min_confidence: float = 0.8


@dataclass
class Config:
    tags: TagsConfig = field(default_factory=TagsConfig)
    library: LibraryConfig = field(default_factory=LibraryConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    watch: WatchConfig = field(default_factory=WatchConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("inference", "speed"): get_args(Speed),
    ("tags", "mode"): get_args(WriteMode),
    ("tags", "field"): get_args(TagField),
    ("tags", "id3_version"): get_args(Id3VersionChoice),
}

# Allowed ranges (inclusive; None = unbounded) of numeric settings.
_RANGES: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("tags", "max_genres"): (0, 1000),
    ("tags", "stable_seconds"): (0, 3600),
    ("inference", "cpu_threads"): (0, 4096),
    ("inference", "decode_workers"): (0, 1024),
    ("inference", "batch_size"): (1, 4096),
    ("inference", "min_confidence"): (0.0, 1.0),
    ("inference", "top_k"): (1, 1000),
    ("fusion", "cover_weight"): (0.0, 1000.0),
    ("fusion", "audio_weight"): (0.0, 1000.0),
    ("fusion", "library_weight"): (0.0, 1000.0),
    ("fusion", "artist_weight"): (0.0, 1000.0),
    ("watch", "quiet_seconds"): (0.0, 86400.0),
    ("watch", "auto_apply_min_confidence"): (0.0, 1.0),
}


def check_range(section: str, key: str, value: float) -> None:
    """Raise :class:`ConfigError` naming ``[section] key`` when ``value`` is out of its range."""
    low, high = _RANGES.get((section, key), (None, None))
    bad = value != value  # NaN
    bad = bad or (low is not None and value < low) or (high is not None and value > high)
    if bad:
        if low is not None and high is not None:
            span = f"between {low:g} and {high:g}"
        elif low is not None:
            span = f"at least {low:g}"
        else:
            span = f"at most {high:g}"
        raise ConfigError(f"setting [{section}] {key} must be {span}, got {value!r}")


def validate(cfg: Config) -> Config:
    """Check every ranged and choice setting of ``cfg`` (e.g. after command-line overrides)."""
    for (section, key), _ in _RANGES.items():
        check_range(section, key, getattr(getattr(cfg, section), key))
    for (section, key), choices in _CHOICES.items():
        value = getattr(getattr(cfg, section), key)
        if value not in choices:
            raise ConfigError(f"setting [{section}] {key} must be one of {', '.join(choices)}, got {value!r}")
    if not cfg.tags.id3v23_separator:
        raise ConfigError("setting [tags] id3v23_separator must not be empty")
    return cfg


def _merge_section(section_obj: Any, section_name: str, values: dict[str, Any], warnings: list[str]) -> None:
    known = {f.name: f for f in dataclasses.fields(section_obj)}
    for key, value in values.items():
        if key not in known:
            warnings.append(f"unknown setting [{section_name}] {key} ignored")
            continue
        default = getattr(section_obj, key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, list):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise ConfigError(f"setting [{section_name}] {key} should be {type(default).__name__}, got {value!r}")
        choices = _CHOICES.get((section_name, key))
        if choices and value not in choices:
            raise ConfigError(f"setting [{section_name}] {key} must be one of {', '.join(choices)}, got {value!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            check_range(section_name, key, value)
        setattr(section_obj, key, value)


def config_from_dict(data: dict[str, Any], warnings: list[str] | None = None) -> Config:
    warnings = warnings if warnings is not None else []
    cfg = Config()
    for name, values in data.items():
        section = getattr(cfg, name, None)
        if section is None or not dataclasses.is_dataclass(section):
            warnings.append(f"unknown section [{name}] ignored")
            continue
        if not isinstance(values, dict):
            raise ConfigError(f"[{name}] must be a table")
        _merge_section(section, name, values, warnings)
    return validate(cfg)


def load_config(path: Path | None = None, warnings: list[str] | None = None) -> Config:
    """Load the config file (default: the app's), falling back to defaults when absent."""
    if path is None:
        from musictagger.paths import app_dirs

        path = app_dirs().config_file
    from musictagger.errors import describe_os_error
    from musictagger.files import open_regular

    if not os.path.lexists(path):
        return Config()
    try:
        with open_regular(path) as fh:
            raw = fh.read(_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {describe_os_error(exc)}") from exc
    if len(raw) > _MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: the config file is larger than {_MAX_CONFIG_BYTES // 1024} KiB; is it the right file?"
        )
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return config_from_dict(data, warnings)


def save_config(cfg: Config, path: Path | None = None) -> Path:
    """Write the config atomically (temp file + rename)."""
    import tempfile

    import tomli_w

    if path is None:
        from musictagger.paths import app_dirs

        path = app_dirs().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    data = cfg.to_dict()
    # TOML strings cannot hold a raw NUL; tomli_w escapes it as \u0000, which tomllib reads back.
    text = "# musictagger settings; see `musictagger config --defaults` for every key.\n" + tomli_w.dumps(data)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def default_config_text() -> str:
    """The default configuration as documented TOML (comments taken from this module)."""
    import inspect
    import json
    import re

    source = inspect.getsource(__import__(__name__, fromlist=["x"]))
    out = ["# musictagger configuration — every key with its default.", ""]
    for section in dataclasses.fields(Config):
        cls = section.type if isinstance(section.type, type) else globals()[section.type]
        out.append(f"[{section.name}]")
        body = re.search(rf"class {cls.__name__}:\n(.*?)(?:\n\n\n|\Z)", source, re.S)
        comments: list[str] = []
        defaults = dataclasses.asdict(cls())
        for line in (body.group(1) if body else "").splitlines():
            s = line.strip()
            if s.startswith("#"):
                comments.append(s)
            m = re.match(r"(\w+):", s)
            if m and m.group(1) in defaults:
                out.extend(comments)
                comments = []
                out.append(f"{m.group(1)} = {json.dumps(defaults[m.group(1)])}")
        out.append("")
    return "\n".join(out)
