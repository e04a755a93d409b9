"""musictagger.audio: excerpt planning, and reading excerpts from real files of every format."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musictagger.audio import AudioError, ExcerptPolicy, plan_excerpts, read_duration, read_excerpts
from musictagger.errors import FileError

RATE = 16000  # the rate we ask the reader for
TONES = ((440.0, 4.5), (660.0, 3.0), (990.0, 4.5))  # 12 s: one tone under each default window


def tones(sample_rate: int, segments=TONES) -> np.ndarray:
    parts = []
    for freq, seconds in segments:
        t = np.arange(round(sample_rate * seconds)) / sample_rate
        parts.append(0.5 * np.sin(2 * np.pi * freq * t))
    return np.concatenate(parts).astype(np.float32)


def write_soundfile(path: Path, signal: np.ndarray, sample_rate: int, fmt: str, subtype: str | None) -> Path:
    sf.write(path, np.stack([signal, signal], axis=1), sample_rate, format=fmt, subtype=subtype)
    return path


def write_pyav(path: Path, signal: np.ndarray, sample_rate: int, codec: str, container: str) -> Path:
    """Encode stereo ``signal`` with FFmpeg (the formats libsndfile cannot write)."""
    import av

    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=sample_rate)
        stream.layout = "stereo"
        if codec == "wmav2":
            stream.bit_rate = 128000
        names = [f.name for f in stream.codec_context.codec.audio_formats]
        fmt = next((n for n in ("fltp", "s16p", "s16") if n in names), names[0])
        resampler = av.AudioResampler(format=fmt, layout="stereo", rate=sample_rate)
        stereo = np.stack([signal, signal])
        for i in range(0, stereo.shape[1], 4096):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(stereo[:, i : i + 4096]), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts, frame.time_base = sample_rate, i, Fraction(1, sample_rate)
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


# name → writer(path, signal, native rate); rates differ so that every path resamples
FORMATS = {
    "flac": (44100, lambda p, x, r: write_soundfile(p, x, r, "FLAC", None)),
    "wav": (22050, lambda p, x, r: write_soundfile(p, x, r, "WAV", None)),
    "aiff": (44100, lambda p, x, r: write_soundfile(p, x, r, "AIFF", None)),
    "ogg": (44100, lambda p, x, r: write_soundfile(p, x, r, "OGG", "VORBIS")),
    "opus": (48000, lambda p, x, r: write_soundfile(p, x, r, "OGG", "OPUS")),
    "mp3": (44100, lambda p, x, r: write_soundfile(p, x, r, "MP3", "MPEG_LAYER_III")),
    "m4a": (44100, lambda p, x, r: write_pyav(p, x, r, "aac", "ipod")),
    "alac.m4a": (44100, lambda p, x, r: write_pyav(p, x, r, "alac", "ipod")),
    "wma": (44100, lambda p, x, r: write_pyav(p, x, r, "wmav2", "asf")),
    "wv": (44100, lambda p, x, r: write_pyav(p, x, r, "wavpack", "wv")),
}


def dominant_hz(x: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * sample_rate / len(x))


# ---------------------------------------------------------------------------------------------
# planning
# ---------------------------------------------------------------------------------------------


def test_long_track_gets_windows_centred_at_the_positions():
    plan = plan_excerpts(240.0, ExcerptPolicy(30.0))
    assert plan == [(45.0, 30.0), (105.0, 30.0), (165.0, 30.0)]


def test_windows_are_clamped_inside_the_track():
    plan = plan_excerpts(100.0, ExcerptPolicy(20.0, count=3, positions=(0.0, 0.5, 1.0)))
    assert plan == [(0.0, 20.0), (40.0, 20.0), (80.0, 20.0)]


def test_short_track_gets_fewer_disjoint_windows():
    # 75 s with 30 s clips: centred windows (3.75, 22.5, 41.25) would overlap → 2 evenly spread
    plan = plan_excerpts(75.0, ExcerptPolicy(30.0))
    assert plan == [(5.0, 30.0), (40.0, 30.0)]
    # between one and two clips: the centre crop
    assert plan_excerpts(50.0, ExcerptPolicy(30.0)) == [(10.0, 30.0)]
    # exactly three clips: three windows back to back
    assert plan_excerpts(90.0, ExcerptPolicy(30.0)) == [(0.0, 30.0), (30.0, 30.0), (60.0, 30.0)]


def test_track_shorter_than_a_clip_is_read_whole():
    assert plan_excerpts(12.5, ExcerptPolicy(30.0)) == [(0.0, 12.5)]
    assert plan_excerpts(30.0, ExcerptPolicy(30.0)) == [(0.0, 30.0)]


def test_windows_never_overlap_and_stay_inside():
    policy = ExcerptPolicy(29.12)
    for duration in np.linspace(0.5, 400.0, 997):
        plan = plan_excerpts(float(duration), policy)
        assert 1 <= len(plan) <= 3
        for (s0, l0), (s1, _) in zip(plan, plan[1:]):
            assert s1 >= s0 + l0 - 1e-6
        assert plan[0][0] >= 0 and plan[-1][0] + plan[-1][1] <= duration + 1e-6


def test_policy_positions_follow_count_and_are_validated():
    assert ExcerptPolicy(10.0, count=1).positions == (0.5,)
    assert ExcerptPolicy(10.0, count=4).positions == (0.2, 0.4, 0.6, 0.8)
    with pytest.raises(ValueError):
        ExcerptPolicy(10.0, count=2, positions=(0.1, 0.5, 0.9))
    with pytest.raises(ValueError):
        ExcerptPolicy(0.0)
    with pytest.raises(ValueError):
        ExcerptPolicy(10.0, count=1, positions=(1.5,))
    spec = {"clip_seconds": 29.12, "excerpts": {"count": 2, "positions": [0.3, 0.7]}}
    assert ExcerptPolicy.from_spec(spec) == ExcerptPolicy(29.12, 2, (0.3, 0.7))


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_excerpts_come_from_the_planned_places(tmp_path, fmt):
    native, write = FORMATS[fmt]
    path = write(tmp_path / f"tones.{fmt}", tones(native), native)
    assert read_duration(path) == pytest.approx(12.0, abs=0.06)

    excerpts = read_excerpts(path, RATE, ExcerptPolicy(1.0))

    assert [e.shape for e in excerpts] == [(RATE,)] * 3
    assert all(e.dtype == np.float32 for e in excerpts)
    # excerpt k is centred at 3, 6, 9 s, inside tone k: proves the seek went to the right place
    assert [round(dominant_hz(e, RATE)) for e in excerpts] == pytest.approx([440, 660, 990], abs=3)
    for e in excerpts:  # downmixed stereo at full level, not halved or clipped
        assert np.sqrt(np.mean(e**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.06)


@pytest.mark.parametrize("fmt", ["flac", "alac.m4a"])  # one lossless file per backend
def test_lossless_excerpts_are_sample_exact(tmp_path, fmt):
    import soxr

    native, write = FORMATS[fmt]
    rng = np.random.default_rng(7)
    noise = (rng.standard_normal(native * 12) * 0.2).clip(-1, 1).astype(np.float32)
    path = write(tmp_path / f"noise.{fmt}", noise, native)
    reference = soxr.resample(noise, native, RATE)

    excerpts = read_excerpts(path, RATE, ExcerptPolicy(1.0))

    for (start_s, _), excerpt in zip(plan_excerpts(12.0, ExcerptPolicy(1.0)), excerpts):
        start = round(start_s * RATE)
        expected = reference[start : start + RATE]
        # (16-bit ALAC quantises; soxr sees slightly different edges: both far below a 1-sample shift)
        assert np.sqrt(np.mean((excerpt - expected) ** 2)) < 2e-3


def test_track_shorter_than_the_clip_is_zero_padded(tmp_path):
    path = write_soundfile(tmp_path / "short.flac", tones(44100, ((440.0, 0.6),)), 44100, "FLAC", None)
    (excerpt,) = read_excerpts(path, RATE, ExcerptPolicy(1.0))
    assert excerpt.shape == (RATE,)
    assert np.abs(excerpt[: round(0.55 * RATE)]).max() > 0.4
    assert not excerpt[round(0.61 * RATE) :].any()


def test_mp3_without_length_header_is_measured(tmp_path):
    """libsndfile guesses an MP3's length from the first frame's bitrate when no Xing header says
    it; on VBR that guess is far off and would move every excerpt. A loud start then silence, VBR,
    no Xing header: the guess is about 2 s for a 12 s file."""
    import av

    native = 44100
    rng = np.random.default_rng(3)
    loud = tones(native, ((440.0, 4.5),)) + (rng.standard_normal(round(native * 4.5)) * 0.3).astype(np.float32)
    signal = np.concatenate([loud, np.zeros(round(native * 7.5), np.float32)])[None]
    path = tmp_path / "vbr.mp3"
    with av.open(str(path), "w", format="mp3", options={"write_xing": "0"}) as out:
        stream = out.add_stream("libmp3lame", rate=native)
        stream.layout = "mono"
        stream.codec_context.qscale = True  # VBR
        stream.codec_context.global_quality = 2 * 118  # -q:a 2
        resampler = av.AudioResampler(format="s16p", layout="mono", rate=native)
        for i in range(0, signal.shape[1], 4096):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(signal[:, i : i + 4096]), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts, frame.time_base = native, i, Fraction(1, native)
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    assert sf.info(str(path)).duration < 6  # the guess this protects against

    assert read_duration(path) == pytest.approx(12.0, abs=0.1)
    excerpts = read_excerpts(path, RATE, ExcerptPolicy(1.0))
    assert [float(np.abs(e).max()) > 0.1 for e in excerpts] == [True, False, False]


def test_mono_and_unchanged_rate(tmp_path):
    path = tmp_path / "mono.wav"
    sf.write(path, tones(RATE), RATE)
    excerpts = read_excerpts(path, RATE, ExcerptPolicy(1.0))
    assert np.allclose(excerpts[1], tones(RATE)[round(5.5 * RATE) : round(6.5 * RATE)], atol=1e-4)


@pytest.mark.parametrize(
    "content, expected",
    [(b"", "cannot decode"), (b"not audio at all " * 200, "cannot decode"), (b"fLaC" + bytes(3000), "cannot decode")],
)
def test_undecodable_files_raise_audio_error(tmp_path, content, expected):
    path = tmp_path / "broken.flac"
    path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        read_excerpts(path, RATE, ExcerptPolicy(1.0))
    assert isinstance(info.value, FileError)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_truncated_file_raises_or_reads_what_is_there(tmp_path):
    path = write_soundfile(tmp_path / "t.flac", tones(44100), 44100, "FLAC", None)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    try:
        excerpts = read_excerpts(path, RATE, ExcerptPolicy(1.0))
    except AudioError as exc:
        assert str(path) in str(exc)
    else:
        assert all(e.shape == (RATE,) for e in excerpts)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        read_duration(tmp_path / "gone.mp3")
    with pytest.raises(AudioError, match="directory"):
        read_excerpts(tmp_path, RATE, ExcerptPolicy(1.0))


def test_importing_audio_does_not_import_torch():
    code = "import sys, musictagger.audio; print('torch' in sys.modules, 'librosa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
