"""pipeline.audio: URIs, content sniffing, limits (duration, timeout), missing ffmpeg, truncated lossy files."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.audio import DecodeError, decode, probe, sniff

SR = 16000
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg program")


@pytest.fixture(scope="module")
def bad(corpus_dir) -> Path:
    return corpus_dir / "bad_inputs"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def _child_ffmpegs() -> list[int]:
    """ffmpeg/ffprobe processes whose parent is this test process."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            name, ppid = fields[0].split("(", 1)[1], int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and name.startswith(("ffmpeg", "ffprobe")):
            out.append(int(stat.parent.name))
    return out


def test_file_uri_with_escaped_space_matches_path(bad, tmp_path):
    path = tmp_path / "my recording.wav"
    shutil.copy(bad / "very_short_50ms.wav", path)
    by_uri = decode(path.as_uri())
    assert "%20" in path.as_uri()
    np.testing.assert_array_equal(by_uri.samples, decode(str(path)).samples)


def test_missing_path_and_directory_are_clear_errors(tmp_path):
    with pytest.raises(DecodeError, match="file not found"):
        decode(str(tmp_path / "nope.wav"))
    with pytest.raises(DecodeError, match="file not found"):
        decode((tmp_path / "nope.wav").as_uri())
    with pytest.raises(DecodeError, match="not a regular file: .* is a folder"):
        decode(str(tmp_path))


def test_entries_that_are_not_readable_regular_files_are_refused_in_one_line_without_blocking(tmp_path):
    (tmp_path / "dangling.wav").symlink_to(tmp_path / "gone.wav")
    os.mkfifo(tmp_path / "fifo.wav")  # opening it for reading would block until a writer comes: never
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "socket.wav"))
    reasons = {
        "dangling.wav": f"dangling symbolic link: {tmp_path / 'dangling.wav'} -> {tmp_path / 'gone.wav'}",
        "fifo.wav": "is a FIFO",
        "socket.wav": "is a socket",
    }
    t0 = time.monotonic()
    for name, reason in reasons.items():
        with pytest.raises(DecodeError) as e:
            decode(str(tmp_path / name))
        assert reason in str(e.value) and "\n" not in str(e.value), name
    sock.close()
    assert time.monotonic() - t0 < 5.0


def test_a_path_swapped_for_a_fifo_after_the_check_does_not_hang(tmp_path, monkeypatch):
    import pipeline.audio as audio

    os.mkfifo(tmp_path / "fifo.wav")
    monkeypatch.setattr(audio, "_check_regular_file", lambda path: None)  # as if it was a file a moment ago
    with pytest.raises(DecodeError, match="is a FIFO"):
        decode(str(tmp_path / "fifo.wav"))


def _write_float_wav(path: Path, x: np.ndarray, rate: int = 16000) -> Path:
    sf.write(path, x.astype(np.float32), rate, subtype="FLOAT")
    return path


def test_non_finite_samples_become_zeros_with_a_warning(tmp_path):
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    x[100:110] = np.nan
    x[5000] = np.inf
    x[6000] = -np.inf
    for rate in (16000, 44100):  # with and without resampling (soxr would spread a NaN over the whole file)
        out = decode(str(_write_float_wav(tmp_path / f"nan{rate}.wav", x, rate)))
        assert np.isfinite(out.samples).all(), rate
        assert "12 non-finite samples (NaN/inf) replaced by zeros" in out.warnings, out.warnings
    clean = decode(str(_write_float_wav(tmp_path / "clean.wav", np.nan_to_num(x, nan=0, posinf=0, neginf=0))))
    np.testing.assert_array_equal(decode(str(tmp_path / "nan16000.wav")).samples, clean.samples)


def test_clipping_and_dc_offset_are_flagged_and_clean_audio_is_not(tmp_path):
    t = np.arange(32000) / 16000
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    clipped = np.clip(5 * tone, -1, 1)  # peaks of 1.5 cut at full scale: ~40 % of every period
    offset = tone + 0.05
    flagged = {w.split(":")[0] for w in decode(str(_write_float_wav(tmp_path / "clip.wav", clipped))).warnings}
    assert "clipping" in flagged and "DC offset" not in flagged
    warnings = decode(str(_write_float_wav(tmp_path / "dc.wav", offset))).warnings
    assert any(w.startswith("DC offset: mean +0.050") for w in warnings), warnings
    assert decode(str(_write_float_wav(tmp_path / "clean.wav", tone))).warnings == ()


@needs_ffmpeg
def test_fsspec_uri_and_unknown_scheme(bad):
    fsspec = pytest.importorskip("fsspec")
    with fsspec.open("memory://moss-test/clip.bin", "wb") as fh:
        fh.write((bad / "s06_first30s.mp3").read_bytes())
    audio = decode("memory://moss-test/clip.bin")
    assert audio.container == "mp3" and audio.duration_s == pytest.approx(30.0, abs=0.06)
    with pytest.raises(DecodeError, match="file not found"):
        decode("memory://moss-test/missing.wav")
    with pytest.raises(DecodeError, match="cannot read nosuch:// URIs"):
        decode("nosuch://bucket/x.wav")


@needs_ffmpeg
def test_extension_is_never_trusted(bad, tmp_path):
    flac_as_mp3 = tmp_path / "really_flac.mp3"
    shutil.copy(bad / "s06_first30s.flac", flac_as_mp3)
    wav_as_ogg = tmp_path / "really_wav.ogg"
    shutil.copy(bad / "stereo_8khz_16bit.wav", wav_as_ogg)
    assert (decode(str(flac_as_mp3)).container, decode(str(flac_as_mp3)).codec) == ("flac", "flac")
    assert decode(str(wav_as_ogg)).container == "wav"
    assert probe(str(flac_as_mp3))["container"] == "flac"


def test_max_duration_is_refused_from_the_header(bad):
    start = time.perf_counter()
    with pytest.raises(DecodeError, match="max_duration_s"):
        decode(str(bad / "long_20min_8khz.wav"), max_duration_s=60)
    assert time.perf_counter() - start < 1.0  # refused before decoding, not after


@needs_ffmpeg
def test_max_duration_on_the_ffmpeg_path(bad):
    with pytest.raises(DecodeError, match="max_duration_s"):
        decode(str(bad / "s06_first30s.m4a"), max_duration_s=10)


def test_timeout_on_the_soundfile_path(bad):
    with pytest.raises(DecodeError, match="timed out"):
        decode(str(bad / "long_20min_8khz.wav"), timeout_s=1e-6)


@needs_ffmpeg
def test_timeout_ends_ffmpeg(bad, tmp_path):
    mkv = tmp_path / "long.mkv"  # PCM in Matroska goes through ffmpeg: 60 min of it takes seconds to decode
    _ffmpeg("-stream_loop", "2", "-i", str(bad / "long_20min_8khz.wav"), "-c:a", "copy", str(mkv))
    start = time.perf_counter()
    with pytest.raises(DecodeError, match="timed out after 0.5 s"):
        decode(str(mkv), timeout_s=0.5)
    assert time.perf_counter() - start < 2.0
    assert _child_ffmpegs() == []


@needs_ffmpeg
def test_multichannel_is_a_plain_average_on_both_paths(tmp_path):
    t = np.arange(SR) / SR
    channels = np.stack([0.1 * (k + 1) * np.sin(2 * np.pi * 220 * (k + 1) * t) for k in range(6)], axis=1)
    wav, mkv = tmp_path / "six.wav", tmp_path / "six.mkv"
    sf.write(str(wav), channels, SR, subtype="FLOAT")
    _ffmpeg("-i", str(wav), "-c:a", "copy", str(mkv))
    for path, container in ((wav, "wav"), (mkv, "matroska")):
        audio = decode(str(path))
        assert (audio.channels, audio.container) == (6, container)
        np.testing.assert_allclose(audio.samples, channels.mean(axis=1), atol=1e-6)


def test_missing_ffmpeg_is_named_and_wav_still_decodes(bad, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no ffmpeg/ffprobe anywhere
    with pytest.raises(DecodeError, match="ffmpeg not found: install Debian package ffmpeg"):
        decode(str(bad / "s06_first30s.m4a"))
    # In-process formats need no ffmpeg.
    assert decode(str(bad / "stereo_8khz_16bit.wav")).duration_s == pytest.approx(20.0)
    assert decode(str(bad / "s06_first30s.mp3")).duration_s == pytest.approx(30.0, abs=0.06)


@needs_ffmpeg
@pytest.mark.parametrize("name", ["s06_first30s.mp3", "s06_first30s.flac"])
def test_cut_file_keeps_what_is_there_and_warns(bad, tmp_path, name):
    data = (bad / name).read_bytes()
    cut = tmp_path / f"half_{name}"
    cut.write_bytes(data[: len(data) // 2])
    audio = decode(str(cut))
    assert 12.0 < audio.duration_s < 18.0
    assert any("truncated file" in w for w in audio.warnings), audio.warnings


@needs_ffmpeg
def test_probe_reads_headers_only(bad):
    info = probe(str(bad / "s06_first30s.opus"))
    assert (info["container"], info["codec"], info["sample_rate"], info["channels"]) == ("ogg", "opus", 16000, 1)
    assert info["duration_s"] == pytest.approx(30.0, abs=0.06)
    assert probe(str(bad / "hires_48k_24bit.wav"))["codec"] == "pcm_s24le"
    with pytest.raises(DecodeError, match="not audio"):
        probe(str(bad / "random_bytes.wav"))


@needs_ffmpeg
def test_mp3_without_id3_after_leading_zeros_is_sniffed(bad, tmp_path):
    bare = tmp_path / "bare.mp3"  # no ID3 tag, no Xing header: the file starts with a frame
    _ffmpeg("-i", str(bad / "s06_first30s.mp3"), "-c:a", "copy", "-id3v2_version", "0", "-write_xing", "0", str(bare))
    padded = tmp_path / "padded.dat"
    padded.write_bytes(bytes(700) + bare.read_bytes())
    for path in (bare, padded):
        audio = decode(str(path))
        assert audio.container == "mp3" and audio.duration_s == pytest.approx(30.0, abs=0.15)


def test_random_bytes_are_never_taken_for_audio():
    rng = np.random.default_rng(7)
    assert not any(sniff(rng.bytes(8192))[0] for _ in range(3000))
