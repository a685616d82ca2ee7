"""Brightness: the loudness-weighted spectral centroid, in words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimbreConfig:
    n_fft: int = 2048
    hop_length: int = 512
    # centroid (Hz) upper limits for each word; above the last: "bright"
    words: tuple[tuple[float, str], ...] = ((700.0, "dark"), (1400.0, "warm"), (2500.0, "balanced"))


def spectral_centroid_hz(y: np.ndarray, sr: int, cfg: TimbreConfig = TimbreConfig()) -> float | None:
    import librosa

    if y.size < cfg.n_fft or not np.any(y):
        return None
    spec = np.abs(librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length))
    centroid = librosa.feature.spectral_centroid(S=spec, sr=sr)[0]
    weight = spec.sum(axis=0)
    return round(float((centroid * weight).sum() / max(1e-12, weight.sum())), 1)


def brightness_word(centroid_hz: float | None, cfg: TimbreConfig = TimbreConfig()) -> str | None:
    if centroid_hz is None:
        return None
    return next((w for limit, w in cfg.words if centroid_hz < limit), "bright")
