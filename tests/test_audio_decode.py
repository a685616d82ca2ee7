"""pipeline.audio.decode over every file in the corpus's bad_inputs/, as bad_inputs/expected.jsonl says.

Each entry of expected.jsonl must have an expectation below (a new bad input fails the suite until it gets one).
Content is checked against references read independently of the decoder (raw PCM bytes, scipy resampling).
"""

from __future__ import annotations

import json
import os
import resource
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import correlate, resample_poly

from pipeline.audio import DecodeError, decode, probe

SR = 16000
LOSSY_TOLERANCE_S = 0.060
LOSSLESS_TOLERANCE_S = 2 / SR
MAX_LAG_S = 0.050  # encoder delay the corpus allows for lossy copies
BIG_ALLOC_BYTES = 100 * 2**20

# file -> what the DecodeError must say
REJECT = {
    "empty_0_bytes.wav": "empty file (0 bytes)",
    "truncated_header_20_bytes.wav": "truncated WAV header",
    "random_bytes.wav": "not audio: no known container/codec found",
    "text_not_audio.wav": "not audio: no known container/codec found",
}


@dataclass(frozen=True)
class Expect:
    duration_s: float
    source_rate: int
    channels: int
    codec: str
    container: str
    warning: str | None = None  # a substring one warning must contain; None: no warnings at all
    lossy: bool = False
    s06_min_corr: float | None = None  # first seconds of s06: minimum correlation with the PCM reference


DECODE = {
    # Accepted with empty samples and a warning (our choice for a valid 0-sample file): duration 0, no events.
    "header_only_0_samples.wav": Expect(0.0, 16000, 1, "pcm_s16le", "wav", "no audio samples"),
    "truncated_data_claims_10s_has_3s.wav": Expect(3.0, 16000, 1, "pcm_s16le", "wav", "header claims 10.00 s, decoded 3.00 s (truncated file)", s06_min_corr=0.9999),
    "bad_riff_sizes.wav": Expect(4.0, 16000, 1, "pcm_s16le", "wav", "streaming-style header", s06_min_corr=0.9999),
    "mp3_data_named_wav.wav": Expect(30.0, 16000, 1, "mp3", "mp3", lossy=True, s06_min_corr=0.99),
    "s06_first30s.mp3": Expect(30.0, 16000, 1, "mp3", "mp3", lossy=True, s06_min_corr=0.99),
    "s06_first30s.flac": Expect(30.0, 16000, 1, "flac", "flac", s06_min_corr=0.9999),
    "s06_first30s.ogg": Expect(30.0, 16000, 1, "vorbis", "ogg", lossy=True, s06_min_corr=0.97),
    # libopus decodes straight to the rate the encoder was fed (OpusHead input_sample_rate), here 16 kHz.
    "s06_first30s.opus": Expect(30.0, 16000, 1, "opus", "ogg", lossy=True, s06_min_corr=0.97),
    "s06_first30s.m4a": Expect(30.0, 16000, 1, "aac", "mp4", lossy=True, s06_min_corr=0.98),
    "stereo_8khz_16bit.wav": Expect(20.0, 8000, 2, "pcm_s16le", "wav"),
    "hires_48k_24bit.wav": Expect(14.55, 48000, 1, "pcm_s24le", "wav"),
    "float32_16k.wav": Expect(6.0, 16000, 1, "pcm_f32le", "wav"),
    "all_zeros_5s.wav": Expect(5.0, 16000, 1, "pcm_s16le", "wav"),
    "very_short_50ms.wav": Expect(0.05, 16000, 1, "pcm_s16le", "wav"),
    "long_20min_8khz.wav": Expect(1200.0, 8000, 1, "pcm_s16le", "wav"),
}


def _entries() -> list[dict]:
    # Parametrisation happens before fixtures exist: locate the corpus the way conftest.py does.
    corpus = Path(os.environ.get("MOSS_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    path = corpus / "bad_inputs" / "expected.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


ENTRIES = _entries()


@pytest.fixture(scope="module")
def s06_reference(corpus_dir) -> np.ndarray:
    """First 4 s of s06 as raw PCM bytes (bad_riff_sizes.wav after its 44-byte header), read without any decoder."""
    raw = np.fromfile(corpus_dir / "bad_inputs" / "bad_riff_sizes.wav", dtype="<i2", offset=44)
    return raw.astype(np.float32) / 32768


def _best_corr(x: np.ndarray, ref: np.ndarray, max_lag: int) -> tuple[float, int]:
    """Highest normalised correlation of x with ref over lags in [-max_lag, max_lag], and that lag."""
    n = min(len(x), len(ref)) - 2 * max_lag
    r = ref[max_lag : max_lag + n].astype(np.float64)
    y = x[: n + 2 * max_lag].astype(np.float64)
    dots = correlate(y, r, mode="valid", method="fft")
    cum = np.concatenate([[0.0], np.cumsum(y**2)])
    energy = cum[n:] - cum[:-n]  # sliding-window energy of y
    corr = dots / np.sqrt(energy * (r @ r) + 1e-20)
    k = int(np.argmax(corr))
    return float(corr[k]), k - max_lag


@pytest.mark.parametrize("entry", ENTRIES, ids=[Path(e["file"]).name for e in ENTRIES])
def test_bad_input_handled_as_expected(entry, corpus_dir, s06_reference):
    name = Path(entry["file"]).name
    assert (name in REJECT) != (name in DECODE), f"add an expectation for {name}: {entry['expected_handling']}"
    path = corpus_dir / entry["file"]
    if name in REJECT:
        with pytest.raises(DecodeError, match=REJECT[name].replace("(", r"\(").replace(")", r"\)")):
            decode(str(path))
        return
    exp = DECODE[name]
    audio = decode(str(path))
    assert audio.sample_rate == SR and audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.samples.flags.c_contiguous
    tol = LOSSY_TOLERANCE_S if exp.lossy else LOSSLESS_TOLERANCE_S
    assert abs(audio.duration_s - exp.duration_s) <= tol, audio.duration_s
    assert (audio.source_sample_rate, audio.channels) == (exp.source_rate, exp.channels)
    assert (audio.codec, audio.container) == (exp.codec, exp.container)
    assert audio.bytes == entry["bytes"]
    if exp.warning is None:
        assert audio.warnings == ()
    else:
        assert any(exp.warning in w for w in audio.warnings), audio.warnings
    events = entry.get("truth") or entry.get("truth_if_decoded") or []
    assert all(e["end"] <= audio.duration_s + tol for e in events)
    if exp.s06_min_corr is not None:
        corr, lag = _best_corr(audio.samples, s06_reference, int(MAX_LAG_S * SR))
        assert corr >= exp.s06_min_corr and abs(lag) <= MAX_LAG_S * SR, (corr, lag)


def test_every_bad_input_is_in_expected_jsonl(corpus_dir):
    listed = {Path(e["file"]).name for e in ENTRIES}
    on_disk = {p.name for p in (corpus_dir / "bad_inputs").iterdir() if p.suffix != ".jsonl"}
    assert on_disk == listed


def test_huge_header_claim_does_not_allocate(corpus_dir):
    path = corpus_dir / "bad_inputs" / "bad_riff_sizes.wav"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        audio = decode(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < BIG_ALLOC_BYTES, f"peak traced allocation {peak / 2**20:.0f} MB"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before < BIG_ALLOC_BYTES
    assert audio.duration_s == pytest.approx(4.0, abs=LOSSLESS_TOLERANCE_S)
    assert probe(str(path))["duration_s"] == pytest.approx(4.0)


def test_stereo_8k_is_averaged_then_upsampled(corpus_dir):
    path = corpus_dir / "bad_inputs" / "stereo_8khz_16bit.wav"
    raw = np.fromfile(path, dtype="<i2", offset=44).reshape(-1, 2).astype(np.float64) / 32768
    audio = decode(str(path))
    left = resample_poly(raw[:, 0], 2, 1)
    expected = resample_poly(raw.mean(axis=1), 2, 1)
    n = min(len(expected), len(audio.samples))
    assert np.corrcoef(audio.samples[:n], expected[:n])[0, 1] > 0.999
    # Right channel is the left at -6 dB: the average is 0.75 x left (left only: 1.0; a sum: 1.5).
    assert float(audio.samples[:n] @ left[:n] / (left[:n] @ left[:n])) == pytest.approx(0.75, abs=0.01)


def test_hires_24bit_48k_is_resampled_without_level_or_time_change(corpus_dir):
    path = corpus_dir / "bad_inputs" / "hires_48k_24bit.wav"
    src, rate = sf.read(str(path), dtype="float64")
    assert rate == 48000
    expected = resample_poly(src, 1, 3)
    audio = decode(str(path))
    assert len(audio.samples) == len(expected)
    assert np.corrcoef(audio.samples, expected)[0, 1] > 0.9999
    level_change_db = 20 * np.log10(np.std(audio.samples) / np.std(expected))
    assert abs(level_change_db) < 0.1


def test_float32_and_silence_pass_through_unchanged(corpus_dir):
    f32 = corpus_dir / "bad_inputs" / "float32_16k.wav"
    ref, _ = sf.read(str(f32), dtype="float32")
    np.testing.assert_array_equal(decode(str(f32)).samples, ref)
    zeros = decode(str(corpus_dir / "bad_inputs" / "all_zeros_5s.wav")).samples
    assert len(zeros) == 5 * SR and not zeros.any()


def test_long_20min_file_decodes_fast_and_in_place(corpus_dir):
    entry = next(e for e in ENTRIES if e["file"].endswith("long_20min_8khz.wav"))
    start = time.perf_counter()
    audio = decode(str(corpus_dir / entry["file"]))
    elapsed = time.perf_counter() - start
    assert len(audio.samples) == 1200 * SR
    assert elapsed < 15.0, f"20 min of 8 kHz WAV took {elapsed:.1f} s"
    # Events stay where the truth puts them after upsampling: loud inside, room tone (-60 dBFS) between.
    def rms_db(lo: float, hi: float) -> float:
        seg = audio.samples[int(lo * SR) : int(hi * SR)]
        return 10 * np.log10(np.mean(seg.astype(np.float64) ** 2) + 1e-20)

    quiet = [s for s in entry["segments"] if s["kinds"] == ["silence"] and s["end"] - s["start"] > 2]
    loud = [s for s in entry["segments"] if "speech" in s["kinds"] or "music" in s["kinds"]]
    assert max(rms_db(s["start"] + 0.5, s["end"] - 0.5) for s in quiet) < -50
    assert min(rms_db(s["start"], s["end"]) for s in loud) > -40
