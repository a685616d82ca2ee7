"""Acoustic change evidence from librosa: log-mel spectral flux (onset strength), its peaks, band levels.

Used to place boundaries precisely where the class profile (0.96 s patches) only says "around here":
music starts/stops and sound-event onsets are flux peaks; offsets are the steepest level drops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


STFT_BLOCK_FRAMES = 4096  # frames per spectrogram block (~80 s at 20 ms): memory stays flat on long files


class AcousticParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hop_s: float = Field(0.02, gt=0, description="frame hop of every acoustic measure")
    n_fft: int = Field(1024, ge=256)
    n_mels: int = Field(64, ge=8)
    peak_window_s: float = Field(0.1, gt=0, description="an onset peak is the maximum within this either side")
    peak_delta: float = Field(1.0, ge=0, description="peak height above the local mean, in std of the envelope")
    peak_mean_s: float = Field(0.5, gt=0, description="the local mean is taken over this either side")
    band_edges_hz: tuple[float, ...] = (0.0, 300.0, 1000.0, 3000.0, 5000.0, 8000.0)


@dataclass(frozen=True)
class AcousticEvidence:
    hop_s: float
    onset: np.ndarray  # [T] log-mel spectral flux (librosa onset strength)
    peaks_s: np.ndarray  # onset peak times
    bands_db: np.ndarray  # [T, B] band levels, dB
    band_edges_hz: tuple[float, ...]

    def times(self) -> np.ndarray:
        return np.arange(len(self.onset)) * self.hop_s


def acoustic_evidence(samples: np.ndarray, sample_rate: int, params: AcousticParams | None = None) -> AcousticEvidence:
    import librosa

    p = params or AcousticParams()
    hop = max(1, round(p.hop_s * sample_rate))
    x = np.asarray(samples, dtype=np.float32)
    if len(x) < p.n_fft:
        x = np.pad(x, (0, p.n_fft - len(x)))
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=p.n_fft)
    mels, band_sums = [], []
    for power in _power_blocks(x, p.n_fft, hop):
        mels.append(librosa.feature.melspectrogram(S=power, sr=sample_rate, n_mels=p.n_mels))
        band_sums.append(np.stack([power[(freqs >= lo) & (freqs < hi)].sum(axis=0) for lo, hi in zip(p.band_edges_hz[:-1], p.band_edges_hz[1:])], axis=1))
    mel = np.concatenate(mels, axis=1)
    onset = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=sample_rate, hop_length=hop)
    bands = 10 * np.log10(np.concatenate(band_sums, axis=0) + 1e-10)
    hop_s = hop / sample_rate
    return AcousticEvidence(hop_s, onset.astype(np.float32), _peaks(onset, hop_s, p), bands.astype(np.float32), p.band_edges_hz)


def _power_blocks(x: np.ndarray, n_fft: int, hop: int):
    """|STFT|^2 in blocks of frames, equal to one centred librosa.stft of x: the whole-recording spectrogram
    (complex, 2 h at 20 ms = 1.5 GB) is never held at once."""
    import librosa

    pad = n_fft // 2  # center=True: x as if zero-padded by n_fft // 2 each side (librosa >= 0.10)
    frames = 1 + (len(x) + 2 * pad - n_fft) // hop
    for f0 in range(0, frames, STFT_BLOCK_FRAMES):
        f1 = min(frames, f0 + STFT_BLOCK_FRAMES)
        a, b = f0 * hop - pad, (f1 - 1) * hop + n_fft - pad  # the block's span in x
        block = np.pad(x[max(a, 0) : min(b, len(x))], (max(0, -a), max(0, b - len(x))))
        yield np.abs(librosa.stft(block, n_fft=n_fft, hop_length=hop, center=False)) ** 2


def _peaks(onset: np.ndarray, hop_s: float, p: AcousticParams) -> np.ndarray:
    import librosa

    if len(onset) < 3:
        return np.zeros(0)
    w, m = max(1, round(p.peak_window_s / hop_s)), max(1, round(p.peak_mean_s / hop_s))
    idx = librosa.util.peak_pick(onset, pre_max=w, post_max=w, pre_avg=m, post_avg=m, delta=float(np.std(onset)) * p.peak_delta, wait=w)
    return idx * hop_s


def strongest_onset(ev: AcousticEvidence, around_s: float, radius_s: float) -> float | None:
    """Time of the highest onset peak within `radius_s` of `around_s`, if any."""
    near = ev.peaks_s[np.abs(ev.peaks_s - around_s) <= radius_s]
    if len(near) == 0:
        return None
    idx = np.round(near / ev.hop_s).astype(int).clip(0, len(ev.onset) - 1)
    return float(near[np.argmax(ev.onset[idx])])


class ActivityRule(BaseModel):
    """A frame is active when a band rises clearly above its own noise floor (per band, so a quiet
    narrow-band sound such as a bell's tail still counts) or the whole spectrum does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bands: tuple[int, ...] = Field((1, 2, 3, 4), description="band indexes used (band 0, < 300 Hz, is too noisy)")
    floor_percentile: float = Field(10.0, gt=0, lt=50, description="a band's noise floor")
    margin_db: float = Field(4.0, ge=0, description="least rise above a band's floor")
    spread_factor: float = Field(2.0, ge=0, description="margin grows with the floor's own spread (p_floor - p1)")
    full_margin_db: float = Field(10.0, ge=0, description="rise of all the used bands together above their floor")
    min_level_db: float = Field(-25.0, description="never active below this band level (about -70 dBFS)")


def band_activity(ev: AcousticEvidence, rule: ActivityRule) -> np.ndarray:
    if len(ev.onset) == 0:
        return np.zeros(0, dtype=bool)
    cols = [b for b in rule.bands if b < ev.bands_db.shape[1]]
    bands = ev.bands_db[:, cols]
    floor = np.percentile(bands, rule.floor_percentile, axis=0)
    spread = floor - np.percentile(bands, 1.0, axis=0)
    threshold = np.maximum(floor + np.maximum(rule.margin_db, rule.spread_factor * spread), rule.min_level_db)
    full = 10 * np.log10(np.sum(10 ** (bands / 10), axis=1))
    full_threshold = max(np.percentile(full, rule.floor_percentile) + rule.full_margin_db, rule.min_level_db)
    return (bands > threshold).any(axis=1) | (full > full_threshold)
