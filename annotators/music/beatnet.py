"""BeatNet's beat tracking for one music segment: activations (CRNN) -> bar-pointer Viterbi -> beats.

Features (`beatnet_features`), network (`beatnet_model`) and decoder (`bar_tracker`) reproduce BeatNet 1.1.3's
offline mode (features and activations match madmom/BeatNet to 1e-6, beats exactly, on the corpus scenes).
The tracker's confidence is the mean beat-or-downbeat activation at the beats it placed: high where the
network hears a beat, low where the decoder only kept the tempo going through speech or noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotators.music.bar_tracker import BarTrackerConfig, track
from annotators.music.beatnet_features import FPS, SAMPLE_RATE, features
from annotators.music.rhythm import fitted_tempo


@dataclass(frozen=True)
class BeatNetConfig:
    bar: BarTrackerConfig = BarTrackerConfig()
    min_downbeat_contrast: float = 2.0  # downbeat activation at bar starts over other beats to report a meter
    min_meter_bars: int = 3  # ... over at least this many bars


@dataclass(frozen=True)
class BeatNetRhythm:
    tempo_bpm: float | None
    confidence: float
    beats_s: list[float]
    downbeats_s: list[float]
    meter: str | None


class BeatNetTracker:
    """Loads the weights once (`weights`: "1", "2", "3" or a path); call it on 16 kHz-or-other mono audio."""

    def __init__(self, weights: str | None = None, device: str = "cpu", cfg: BeatNetConfig = BeatNetConfig()):
        from annotators.music.beatnet_model import BeatActivations

        self.net = BeatActivations(weights, device)
        self.cfg = cfg

    def __call__(self, y: np.ndarray, sr: int) -> BeatNetRhythm | None:
        import librosa

        audio = np.asarray(y, np.float32)
        if sr != SAMPLE_RATE:
            audio = librosa.resample(audio, orig_sr=sr, target_sr=SAMPLE_RATE)
        act = self.net(features(audio))
        found = track(act, self.cfg.bar)
        if found is None or len(found.beats_s) < 2:
            return None
        frames = np.clip(np.round(found.beats_s * FPS).astype(int), 0, len(act) - 1)
        confidence = float(act[frames].max(axis=1).mean())
        down = found.beat_numbers == 1
        meter = None
        if down.any() and (~down).any() and len(found.beats_s) >= self.cfg.min_meter_bars * found.beats_per_bar:
            contrast = act[frames[down], 1].mean() / max(1e-6, float(act[frames[~down], 1].mean()))
            meter = f"{found.beats_per_bar}/4" if contrast >= self.cfg.min_downbeat_contrast else None
        beats = [round(float(b), 3) for b in found.beats_s]
        downbeats = [b for b, d in zip(beats, down, strict=True) if d] if meter else []
        return BeatNetRhythm(fitted_tempo(found.beats_s), round(confidence, 3), beats, downbeats, meter)
