"""YIN pitch with aperiodicity voicing (annotators/speech/pitch.py): known tones, noise, octave jumps, and
agreement with librosa's pYIN (which it replaced for speed) on real corpus speech."""

from __future__ import annotations

import numpy as np
import pytest

from annotators.speech.pitch import yin_track

SR = 16000
FRAME, HOP = 1024, 320
RNG = np.random.default_rng(3)


def harmonic(f0: np.ndarray) -> np.ndarray:
    """A voice-like tone (5 harmonics, falling 1/k) following the per-sample F0 track."""
    phase = 2 * np.pi * np.cumsum(f0) / SR
    return sum(np.sin(k * phase) / k for k in range(1, 6)).astype(np.float32) * 0.2


@pytest.mark.parametrize("f0", [75.0, 120.0, 210.0, 380.0])
def test_steady_tones_are_voiced_at_their_pitch(f0):
    est, voiced = yin_track(harmonic(np.full(SR, f0)), SR, 60, 500, FRAME, HOP)
    assert voiced[3:-3].all()
    assert np.nanmedian(est) == pytest.approx(f0, rel=0.01)


def test_a_glide_is_followed_frame_by_frame():
    track = np.linspace(100, 250, 2 * SR)
    est, voiced = yin_track(harmonic(track), SR, 60, 500, FRAME, HOP)
    centres = np.clip(np.arange(len(est)) * HOP, 0, len(track) - 1)
    inner = slice(4, -4)
    assert voiced[inner].mean() > 0.95
    assert np.nanmax(np.abs(est[inner] / track[centres][inner] - 1)) < 0.03


def test_noise_and_silence_are_unvoiced():
    noise = RNG.normal(0, 0.1, SR).astype(np.float32)
    _, voiced = yin_track(noise, SR, 60, 500, FRAME, HOP)
    assert voiced.mean() < 0.05
    f0, voiced = yin_track(np.zeros(SR, np.float32), SR, 60, 500, FRAME, HOP)
    assert not voiced.any() and np.isnan(f0).all()


def test_a_short_octave_jump_is_left_unvoiced():
    track = np.full(2 * SR, 150.0)
    track[SR : SR + 3 * HOP] = 300.0  # three frames an octave up inside a steady voice
    est, voiced = yin_track(harmonic(track), SR, 60, 500, FRAME, HOP)
    jumped = est[voiced] > 200
    assert not jumped.any()
    assert voiced.mean() > 0.9  # only the jump's frames (and its edges) were dropped


def test_shorter_than_a_frame_gives_nothing_voiced():
    f0, voiced = yin_track(np.zeros(100, np.float32), SR, 60, 500, FRAME, HOP)
    assert not voiced.any()


def test_agrees_with_pyin_on_corpus_speech(truth, scene_audio):
    """Mean F0 over voiced frames of each truth speech event: within 5 % of pYIN's for most, 12 % for all."""
    import librosa

    errors = []
    for scene in ("s07_events_over_speech", "s16_podcast_long"):
        audio = scene_audio(scene)
        for e in truth[scene]["events"]:
            if e["kind"] != "speech" or e["end"] - e["start"] < 1.5:
                continue
            x = audio[int(e["start"] * SR) : int(e["end"] * SR)]
            ref, ref_voiced, _ = librosa.pyin(x, fmin=60, fmax=500, sr=SR, frame_length=FRAME, hop_length=HOP)
            est, voiced = yin_track(x, SR, 60, 500, FRAME, HOP)
            errors.append(abs(np.nanmean(est[voiced]) / np.nanmean(ref[ref_voiced]) - 1))
    assert len(errors) >= 6
    assert np.median(errors) < 0.05 and max(errors) < 0.12, errors
