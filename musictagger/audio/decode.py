"""Reading excerpts of audio files without decoding them whole.

Two backends, tried in order, chosen by what the file *is* (libsndfile and FFmpeg both sniff the
header, not the extension):

* **soundfile** (libsndfile): WAV, AIFF, FLAC, Ogg Vorbis, Ogg Opus, MP3. ``seek`` is sample
  exact (libsndfile keeps FLAC seek tables, Ogg granule positions, and mpg123's gapless MP3
  offsets), so a window costs one seek and the decode of the window itself.
* **PyAV** (FFmpeg) for everything libsndfile cannot open: M4A/MP4 (AAC, ALAC), WMA, WavPack, APE…
  We seek the container to a little before the window (codecs with overlapping transforms need a
  few frames of run-in), decode packet by packet, place every frame on the sample timeline by
  its timestamp, and stop as soon as the window is filled.

Every window is downmixed to mono (the mean of the channels) and resampled with soxr to the rate
the model wants; its length is then made exact (the last window of a file whose duration was
slightly over-reported is zero-padded). Library errors become :class:`~musictagger.errors.AudioError`
with a message that names the file.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np

from musictagger.audio.excerpts import ExcerptPolicy, plan_excerpts
from musictagger.errors import AudioError, describe_os_error

#: How far before a window PyAV seeks, so that the decoder has settled when the window begins
#: (AAC/MP3/WMA frames overlap; after a seek the first decoded frame is not yet exact).
_PYAV_PREROLL_S = 0.5

#: Native samples of context kept on each side of a window while resampling, so that soxr's
#: filter sees real signal rather than an edge at the window borders.
_RESAMPLE_MARGIN_S = 0.02

#: libsndfile reports this many frames when it cannot tell the length (an MP3 stream without
#: a header, for instance); we then let FFmpeg have a go.
_SF_UNKNOWN_FRAMES = 2**62

#: Encoder delay plus end padding of an MP3 (at most about three 1152-sample frames).
_MP3_GAPLESS_SLACK = 3 * 1152


class _Source(Protocol):
    """An open audio file: its native rate and duration, and mono reads by sample position."""

    sample_rate: int
    duration: float

    def read(self, start: int, frames: int) -> np.ndarray:
        """Up to ``frames`` mono float32 samples from sample ``start`` (fewer at the end)."""
        ...

    def close(self) -> None: ...


class _SoundfileSource:
    def __init__(self, path: Path) -> None:
        import soundfile

        self._file = soundfile.SoundFile(str(path))
        try:
            if not 0 < self._file.frames < _SF_UNKNOWN_FRAMES or not self._file.seekable():
                raise RuntimeError("length unknown or not seekable")
        except BaseException:
            self._file.close()
            raise
        self.sample_rate = int(self._file.samplerate)
        self.format = self._file.format
        self.frames = self._file.frames
        self.duration = self.frames / self.sample_rate

    def read(self, start: int, frames: int) -> np.ndarray:
        self._file.seek(min(start, self.frames))
        data = self._file.read(frames, dtype="float32", always_2d=True)
        return data.mean(axis=1, dtype=np.float32)

    def close(self) -> None:
        self._file.close()


def _mp3_packet_frames(path: Path, sample_rate: int) -> int:
    """An MP3's sample count from its packets (demux only, no decoding: ~30 ms for 4 minutes);
    exact up to the encoder delay and padding."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        ticks = sum(packet.duration or 0 for packet in container.demux(stream))
        return round(ticks * stream.time_base * sample_rate) if stream.time_base else 0


def _frame_to_mono(frame) -> np.ndarray:  # frame: av.AudioFrame
    """An FFmpeg audio frame of any sample format as mono float32 in [-1, 1]."""
    array = frame.to_ndarray()
    channels = frame.layout.nb_channels
    if not frame.format.is_planar:  # packed: (1, samples * channels), interleaved
        array = array.reshape(-1, channels).T
    if array.dtype == np.uint8:
        array = (array.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / float(-np.iinfo(array.dtype).min)
    return array.mean(axis=0, dtype=np.float32)


class _PyAVSource:
    """``duration`` overrides the headers' figure; ``seekable=False`` decodes every window from
    the start and counts samples instead of trusting timestamps (for streams whose timestamps
    after a seek are only estimates)."""

    def __init__(self, path: Path, *, duration: float | None = None, seekable: bool = True) -> None:
        import av

        self._seekable = seekable
        self._container = av.open(str(path))
        try:
            if not self._container.streams.audio:
                raise AudioError(path, "cannot decode audio (no audio stream in the file)")
            self._stream = self._container.streams.audio[0]
            self.sample_rate = int(self._stream.codec_context.sample_rate or 0)
            if self.sample_rate <= 0:
                raise AudioError(path, "cannot decode audio (not a recognised audio stream)")
            self._time_base = self._stream.time_base
            self._seconds_per_tick = float(self._time_base) if self._time_base else 0.0
            self._origin = (self._stream.start_time or 0) * self._seconds_per_tick
            self.duration = duration if duration is not None else self._probe_duration()
        except BaseException:
            self._container.close()
            raise

    def _probe_duration(self) -> float:
        if self._stream.duration and self._time_base:
            return float(self._stream.duration * self._time_base)
        if self._container.duration:
            import av

            return self._container.duration / av.time_base
        # No length in any header (a bare ADTS stream, say): count the samples once.
        total = sum(frame.samples for frame in self._container.decode(self._stream))
        self._container.seek(0)
        return total / self.sample_rate

    def _position(self, frame, following: int | None) -> int:
        """The sample index of a frame's first sample; ``following`` when it has no timestamp."""
        if frame.pts is None or not self._time_base or not self._seekable:
            return following if following is not None else 0
        return round((frame.pts * self._seconds_per_tick - self._origin) * self.sample_rate)

    def read(self, start: int, frames: int) -> np.ndarray:
        seek_s = max(0.0, start / self.sample_rate - _PYAV_PREROLL_S)
        if self._time_base and self._seekable:
            target = int(Fraction(seek_s) / self._time_base) + (self._stream.start_time or 0)
            self._container.seek(target, stream=self._stream, backward=True)
        else:
            self._container.seek(0)
        pieces: list[np.ndarray] = []
        filled = 0
        following: int | None = None
        for frame in self._container.decode(self._stream):
            position = self._position(frame, following)
            following = position + frame.samples
            if following <= start:  # run-in before the window: decoded, not converted
                continue
            samples = _frame_to_mono(frame)
            if not pieces and position > start:
                # The demuxer landed after the window start (only at the very beginning of some
                # streams, whose first timestamp is above zero): that stretch is silence.
                gap = min(position - start, frames)
                pieces.append(np.zeros(gap, np.float32))
                filled += gap
            skip = max(0, start + filled - position)
            piece = samples[skip : skip + frames - filled]
            pieces.append(piece)
            filled += len(piece)
            if filled >= frames:
                break
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)

    def close(self) -> None:
        self._container.close()


def _open(path: Path) -> _Source:
    """The first backend that can read ``path``, or AudioError saying why none can."""
    try:
        os.stat(path)
    except OSError as exc:
        raise AudioError(path, describe_os_error(exc)) from exc
    if path.is_dir():
        raise AudioError(path, "is a directory")
    try:
        source = _SoundfileSource(path)
    except (RuntimeError, TypeError):  # soundfile.LibsndfileError is a RuntimeError
        source = None
    try:
        if source is None:
            return _PyAVSource(path)
        if source.format != "MP3":
            return source
        # libsndfile's MP3 length is exact when a Xing/Info header states it (and then excludes
        # the encoder delay and padding), but a guess from the first frame's bitrate otherwise —
        # off by seconds on VBR files, and libsndfile cannot seek past its guess. Counting packets
        # tells the two apart; a header-less file is decoded from the start by FFmpeg, whose
        # timestamps after a seek in such a file are estimates too.
        frames = _mp3_packet_frames(path, source.sample_rate)
        if frames <= 0 or 0 <= frames - source.frames <= _MP3_GAPLESS_SLACK:
            return source
        source.close()
        return _PyAVSource(path, duration=frames / source.sample_rate, seekable=False)
    except _decode_errors() as exc:
        if source is not None:
            source.close()
        raise AudioError(path, f"cannot decode audio ({_reason(exc)})") from exc


def _decode_errors() -> tuple[type[BaseException], ...]:
    """What soundfile (RuntimeError), PyAV (FFmpegError and its OSError/ValueError kin) and soxr
    (ValueError) raise on bad data or failing I/O."""
    import av

    return (av.error.FFmpegError, RuntimeError, OSError, ValueError, EOFError)


def _reason(exc: BaseException) -> str:
    import av

    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, OSError) and not isinstance(exc, av.error.FFmpegError):
        return describe_os_error(exc)
    return str(exc) or type(exc).__name__


def read_duration(path: str | os.PathLike[str]) -> float:
    """The track's duration in seconds, from its headers (no full decode)."""
    path = Path(path)
    source = _open(path)
    try:
        return source.duration
    finally:
        source.close()


def _margin_step(native_rate: int, target_rate: int) -> int:
    """The smallest native sample count that maps onto a whole number of target samples."""
    return native_rate // math.gcd(native_rate, target_rate)


def read_excerpts(path: str | os.PathLike[str], sample_rate: int, policy: ExcerptPolicy) -> list[np.ndarray]:
    """The excerpts :func:`plan_excerpts` chooses, each float32 mono at ``sample_rate`` and exactly
    ``round(policy.clip_seconds * sample_rate)`` samples long (zero-padded at the end when the
    track is shorter). Raises :class:`AudioError` when the file cannot be decoded."""
    import soxr

    path = Path(path)
    length = round(policy.clip_seconds * sample_rate)
    source = _open(path)
    try:
        if not source.duration > 0:
            raise AudioError(path, "cannot decode audio (no samples in the file)")
        native = source.sample_rate
        step = _margin_step(native, sample_rate)
        margin = step * max(1, math.ceil(_RESAMPLE_MARGIN_S * native / step))
        excerpts = []
        for start_s, length_s in plan_excerpts(source.duration, policy):
            start = round(start_s * native)
            count = math.ceil(length_s * native)
            if native == sample_rate:
                audio = source.read(start, count)
            else:
                before = min(margin, start // step * step)
                raw = source.read(start - before, before + count + margin)
                audio = soxr.resample(raw, native, sample_rate)[before * sample_rate // native :]
            excerpts.append(_fit(audio, length))
        return excerpts
    except _decode_errors() as exc:  # a decoder failing mid-file: corrupt data, I/O error…
        raise AudioError(path, f"decoding failed ({_reason(exc)})") from exc
    finally:
        source.close()


def _fit(audio: np.ndarray, length: int) -> np.ndarray:
    """Exactly ``length`` float32 samples: truncated, or zero-padded at the end."""
    out = np.zeros(length, np.float32)
    n = min(length, len(audio))
    out[:n] = audio[:n]
    return out
