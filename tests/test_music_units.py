"""Music measures on synthetic signals with known answers: tempo octaves, meter, key, loudness, captions."""

from __future__ import annotations

import numpy as np
import pytest

from annotators.music.caption import MusicFacts, music_caption
from annotators.music.loudness import dynamics_word, loudness_word, measure_loudness
from annotators.music.metrics import parse_truth_music, tempo_error_pct
from annotators.music.rhythm import estimate_rhythm
from annotators.music.tags import MusicTags
from annotators.music.tonality import estimate_key
from schemas.common import LabelScore

SR = 16000


def clicks(bpm: float, seconds: float = 20.0, accent_every: int | None = None, seed: int = 0) -> np.ndarray:
    """Noise-burst clicks at `bpm`; with accent_every, every n-th click is loud and has a bass thump."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(int(seconds * SR)) * 1e-3
    n = np.arange(int(0.03 * SR))
    env = np.exp(-n / (0.006 * SR))
    for i in range(int(seconds * bpm / 60)):
        start = int(i * 60 / bpm * SR)
        seg = slice(start, min(y.size, start + n.size))
        m = seg.stop - seg.start
        loud = accent_every is None or i % accent_every == 0
        y[seg] += (1.0 if loud else 0.35) * env[:m] * rng.standard_normal(m) * 0.3
        if accent_every and loud:
            y[seg] += 0.3 * env[:m] * np.sin(2 * np.pi * 60 * n[:m] / SR)
    return y.astype(np.float32)


def chords(progression: list[list[int]], seconds_each: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds_each * SR)) / SR
    tone = [sum(np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * t) for m in ch) * np.exp(-1.5 * t) * 0.1
            for ch in progression]
    return np.concatenate(tone).astype(np.float32)


@pytest.mark.parametrize("bpm,expected", [(90, 90), (128, 128), (60, 60), (200, 100), (240, 120)])
def test_tempo_and_octave_preference(bpm, expected):
    r = estimate_rhythm(clicks(bpm), SR)
    assert r.tempo_bpm is not None and abs(r.tempo_bpm - expected) / expected < 0.02, r
    assert np.allclose(np.diff(r.beats_s), 60 / expected, atol=0.04)


@pytest.mark.parametrize("every,meter", [(3, "3/4"), (4, "4/4"), (None, None)])
def test_meter_from_accents(every, meter):
    assert estimate_rhythm(clicks(120, accent_every=every), SR).meter == meter


def test_no_tempo_in_noise_or_short_audio():
    noise = np.random.default_rng(1).standard_normal(SR * 10).astype(np.float32) * 0.05
    assert estimate_rhythm(noise, SR).tempo_bpm is None
    assert estimate_rhythm(clicks(120, seconds=2.0), SR).tempo_bpm is None


def test_key_and_mode():
    c_major = [[60, 64, 67], [65, 69, 72], [67, 71, 74], [60, 64, 67]] * 3
    a_minor = [[57, 60, 64], [62, 65, 69], [64, 68, 71], [57, 60, 64]] * 3
    assert (estimate_key(chords(c_major), SR).key, estimate_key(chords(c_major), SR).mode) == ("C", "major")
    k = estimate_key(chords(a_minor), SR)
    assert (k.key, k.mode) == ("A", "minor") and k.confidence > 0.7
    assert estimate_key(np.zeros(SR * 3, dtype=np.float32), SR).key is None


def test_loudness_of_a_sine_and_of_silence():
    t = np.arange(SR * 5) / SR
    sine = (0.1 * np.sqrt(2) * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)  # RMS -20 dBFS
    m = measure_loudness(sine, SR)
    assert abs(m.rms_dbfs + 20) < 0.05 and abs(m.lufs + 20) < 0.5 and m.range_db < 0.5
    ramp = sine * np.linspace(0.05, 1, sine.size).astype(np.float32)
    assert measure_loudness(ramp, SR).range_db > 10
    assert measure_loudness(np.zeros(SR, dtype=np.float32), SR).lufs is None
    assert loudness_word(-26.5) == "moderately loud" and dynamics_word(3.0) == "steady"


def test_caption_from_measures():
    tags = MusicTags(instruments=[LabelScore("Harpsichord", 0.45), LabelScore("Piano", 0.2)], vocals=False,
                     solo=True)
    facts = MusicFacts(tags, 119.96, "C", "major", "4/4", "moderately loud", "steady", "balanced")
    expected = "solo keyboard at about 120 BPM in C major, 4/4, moderately loud, steady and balanced"
    assert music_caption(facts) == expected
    band = MusicTags(instruments=[LabelScore("Guitar", 0.3), LabelScore("Drum kit", 0.2)],
                     genres=[LabelScore("Rock music", 0.2)], vocals=True)
    assert music_caption(MusicFacts(band, None, "E", None)) == "rock music with guitar and drum kit and vocals in E"
    assert music_caption(MusicFacts(MusicTags())) == "music"


def test_truth_parsing_and_tempo_error():
    ev = parse_truth_music({"start": 1, "end": 9, "label": "flute+pizzicato_strings|90bpm", "kind": "music"})
    assert ev.instruments == ("flute", "pizzicato_strings") and ev.tempo_bpm == 90.0 and ev.meter is None
    unknown = parse_truth_music({"start": 0, "end": 5, "label": "ensemble (recorded track)|tempo_unknown"})
    assert unknown.tempo_bpm is None
    assert tempo_error_pct(60.0, 120.0) == 50.0 and tempo_error_pct(60.0, 120.0, (1.0, 2.0, 0.5)) == 0.0
    assert tempo_error_pct(None, 120.0) is None
