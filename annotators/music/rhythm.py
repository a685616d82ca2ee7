"""Tempo, beats and meter from the onset envelope (librosa).

Tempo: the onset envelope's autocorrelation (tempogram, averaged over time) gives candidate periods; each
is weighted by a prior that is flat over `preferred_bpm` and falls off by octaves outside it, so the usual
octave errors (60 vs 120, 240 vs 120) go to the musically likely one when the evidence allows. Beats are
then tracked at that tempo, and the reported tempo is the slope of a line through the beat times (finer
than the tempogram's lag grid). Meter: beat-level accents (onset strength, bass energy, harmonic change)
compared across the positions of a 3- and a 4-beat bar; None unless one clearly wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RhythmConfig:
    hop_length: int = 512
    preferred_bpm: tuple[float, float] = (70.0, 180.0)
    search_bpm: tuple[float, float] = (30.0, 300.0)
    octave_falloff: float = 0.35  # prior width outside the preferred range, in octaves
    centre_width_octaves: float = 1.0  # tie-breaker width around the range's centre
    harmonic_ratio: float = 0.8  # tempogram peaks this strong relative to the top one are candidates
    prominence_span: float = 1.25  # tempo evidence: peak height over the lowest point within this factor
    min_duration_s: float = 3.0  # shorter audio gets no tempo
    min_beats: int = 4
    min_confidence: float = 0.2  # tempo evidence (0..1) below which there is no steady beat to report
    tightness: float = 100.0  # librosa beat tracker: how strictly beats follow the tempo
    bass_max_hz: float = 200.0
    accent_frames: int = 1  # beat accent = envelope summed over this many frames either side of the beat
    min_meter_beats: int = 12  # three 4-beat bars
    meter_min_ratio: float = 1.5  # the winning bar length's accent contrast over the other's ...
    meter_max_p: float = 0.05  # ... and its chance of arising from shuffled accents
    meter_permutations: int = 200


@dataclass(frozen=True)
class Rhythm:
    tempo_bpm: float | None
    confidence: float | None
    beats_s: list[float]  # segment time
    meter: str | None
    downbeats_s: list[float] = field(default_factory=list)  # where a bar tracker placed the bar starts
    method: str | None = None  # which tracker(s) stated the tempo (`tempo_agreement`)


NO_RHYTHM = Rhythm(None, None, [], None)
METHOD = "onset"  # `Rhythm.method` of a tempo this module states


def long_enough(y: np.ndarray, sr: int, cfg: RhythmConfig) -> bool:
    """Audio worth looking for a beat in: at least `min_duration_s` and not all zeros."""
    return y.size >= cfg.min_duration_s * sr and bool(np.any(y))


def centre_prior(bpm: np.ndarray, cfg: RhythmConfig) -> np.ndarray:
    """A gentle tie-breaker between candidates inside the preferred range: closer to its centre wins."""
    centre = np.sqrt(cfg.preferred_bpm[0] * cfg.preferred_bpm[1])
    return np.exp(-0.5 * (np.log2(bpm / centre) / cfg.centre_width_octaves) ** 2)


def tempo_prior(bpm: np.ndarray, cfg: RhythmConfig) -> np.ndarray:
    lo, hi = cfg.preferred_bpm
    with np.errstate(divide="ignore"):
        octaves = np.where(bpm < lo, np.log2(lo / bpm), np.where(bpm > hi, np.log2(bpm / hi), 0.0))
    return np.exp(-0.5 * (octaves / cfg.octave_falloff) ** 2)


def choose_tempo(onset_env: np.ndarray, sr: int, cfg: RhythmConfig) -> tuple[float, float]:
    """(tempo in BPM, evidence 0..1) from the time-averaged tempogram.

    A periodic signal is as periodic at 2x and 3x its beat period, so every strong tempogram peak (within
    `harmonic_ratio` of the strongest) is a candidate; the prior then picks among them."""
    import librosa

    tg = librosa.feature.tempogram(onset_envelope=onset_env, sr=sr, hop_length=cfg.hop_length)
    strength = tg.mean(axis=1)
    bpm = librosa.tempo_frequencies(tg.shape[0], sr=sr, hop_length=cfg.hop_length)
    ok = np.isfinite(bpm) & (bpm >= cfg.search_bpm[0]) & (bpm <= cfg.search_bpm[1])
    peaks = np.flatnonzero(ok & (strength >= np.roll(strength, 1)) & (strength >= np.roll(strength, -1)))
    if peaks.size == 0:
        return 0.0, 0.0
    strong = peaks[strength[peaks] >= cfg.harmonic_ratio * strength[peaks].max()]
    weighted = strength[strong] * tempo_prior(bpm[strong], cfg) * centre_prior(bpm[strong], cfg)
    best = strong[int(np.argmax(weighted))]
    # evidence: the peak's prominence over nearby periods (noise and speech give a smooth, peakless curve)
    near = ok & (bpm > bpm[best] / cfg.prominence_span) & (bpm < bpm[best] * cfg.prominence_span)
    return float(bpm[best]), max(0.0, float(strength[best] - strength[near].min()))


def fitted_tempo(beats_s: np.ndarray) -> float | None:
    """Tempo from the slope of beat time against beat number (robust to a skipped beat via the median)."""
    if beats_s.size < 3:
        return None
    ibi = np.diff(beats_s)
    period = float(np.median(ibi))
    steps = np.concatenate([[0], np.cumsum(np.maximum(1, np.round(ibi / period)))])
    slope = np.polyfit(steps, beats_s, 1)[0]
    return 60.0 / slope if slope > 0 else None


def beat_accents(y: np.ndarray, sr: int, onset_env: np.ndarray, beat_frames: np.ndarray, cfg: RhythmConfig
                 ) -> np.ndarray:
    """Per-beat accent: z-scored onset strength + bass energy + harmonic change, summed."""
    import librosa

    spec = np.abs(librosa.stft(y, n_fft=2048, hop_length=cfg.hop_length))
    freqs = librosa.fft_frequencies(sr=sr, n_fft=2048)
    bass = np.log1p(spec[freqs < cfg.bass_max_hz].sum(axis=0))
    chroma = librosa.feature.chroma_stft(S=spec ** 2, sr=sr)
    n = min(len(onset_env), spec.shape[1])

    def at_beats(track: np.ndarray) -> np.ndarray:
        # summed over a few frames: a max would depend on where each beat falls between frames, and that
        # phase drifts periodically (a fake 3- or 4-beat pattern at some tempi)
        return np.array([track[max(0, f - cfg.accent_frames): min(n, f + cfg.accent_frames + 1)].sum()
                         for f in beat_frames])

    sync = librosa.util.sync(chroma, beat_frames, aggregate=np.median)
    change = np.concatenate([[0.0], np.linalg.norm(np.diff(sync, axis=1), axis=0)])[: len(beat_frames)]
    parts = [at_beats(onset_env[:n]), at_beats(bass[:n]), change]
    return np.sum([(p - p.mean()) / (p.std() + 1e-9) for p in parts], axis=0)


def bar_contrast(accents: np.ndarray, beats_per_bar: int) -> float:
    """How much one bar position stands out: its mean accent minus the other positions' mean."""
    means = np.array([accents[p::beats_per_bar].mean() for p in range(beats_per_bar)])
    top = int(np.argmax(means))
    return float(means[top] - np.delete(means, top).mean())


def shuffled_p(accents: np.ndarray, beats_per_bar: int, observed: float, cfg: RhythmConfig) -> float:
    """Share of random orders of the same accents whose bar contrast reaches the observed one."""
    rng = np.random.default_rng(beats_per_bar)  # fixed: same audio, same answer
    null = [bar_contrast(rng.permutation(accents), beats_per_bar) for _ in range(cfg.meter_permutations)]
    return (1 + sum(c >= observed for c in null)) / (1 + cfg.meter_permutations)


def estimate_meter(accents: np.ndarray, cfg: RhythmConfig) -> str | None:
    """"3/4" or "4/4" (duple counts as 4/4) when one bar length clearly organises the accents, else None."""
    if accents.size < cfg.min_meter_beats:
        return None
    three, four = bar_contrast(accents, 3), bar_contrast(accents, 4)
    best, other, name, k = (three, four, "3/4", 3) if three > four else (four, three, "4/4", 4)
    if best < cfg.meter_min_ratio * max(other, 1e-9) or shuffled_p(accents, k, best, cfg) > cfg.meter_max_p:
        return None
    return name


def estimate_rhythm(y: np.ndarray, sr: int, cfg: RhythmConfig = RhythmConfig()) -> Rhythm:
    import librosa

    if not long_enough(y, sr, cfg):
        return NO_RHYTHM
    onset_env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=cfg.hop_length)
    bpm, evidence = choose_tempo(onset_env, sr, cfg)
    if bpm <= 0 or evidence < cfg.min_confidence:
        return Rhythm(None, round(evidence, 3), [], None)
    _, frames = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr, hop_length=cfg.hop_length, bpm=bpm,
                                        tightness=cfg.tightness)
    frames = np.asarray(frames, dtype=int)
    beats = librosa.frames_to_time(frames, sr=sr, hop_length=cfg.hop_length)
    if beats.size < cfg.min_beats:
        return Rhythm(None, round(evidence, 3), [], None)
    tempo = fitted_tempo(beats) or bpm
    meter = estimate_meter(beat_accents(y, sr, onset_env, frames, cfg), cfg)
    return Rhythm(round(tempo, 2), round(evidence, 3), [round(float(b), 3) for b in beats], meter, method=METHOD)
