"""Sharpen event times from the tagger's coarse patch grid with a 10 ms spectral-excess envelope.

Per 10 ms frame and mel band: how far the band rises above its own noise floor (a low percentile over the
segment), in dB. For each detection, the bands where the event stands out most against the rest of the
segment (a phone's ring bands, a dog's bark bands) are averaged into an envelope; speech or a noise bed in
other bands then hardly moves it. Inside a window around the tagger's span, the onset is the first frame
whose envelope clearly rises above its resting level, the offset the last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotators.audioset.frontend import LogMelConfig, log_mel_frames

NAT_TO_DB = 20.0 / np.log(10.0)  # log-mel is the natural log of magnitude
SILENCE_DBFS = -120.0


@dataclass(frozen=True)
class RefineConfig:
    noise_percentile: float = 10.0  # per-band noise floor over the segment
    baseline_percentile: float = 50.0  # the envelope's resting level in the event's surroundings
    busy_percentile: float = 90.0  # onsets must rise above what the surroundings reach this often
    min_excess_db: float = 3.0  # active frames rise this far above the resting level ...
    peak_fraction: float = 0.25  # ... and this fraction of the way from it to the window's peak
    band_fraction: float = 0.35  # share of mel bands (those where the event stands out most) in its envelope
    context_s: float = 0.5  # frames this far from the tagger span ...
    surround_s: float = 2.0  # ... up to this much further out are the event's surroundings
    min_context_s: float = 0.3  # with less surroundings than this, rest is the segment's quietest frames
    search_pad_s: float = 0.24  # look this far outside the tagger span
    smooth_frames: int = 3
    burst_gap_s: float = 0.25  # silences at least this long separate repetitions ("rings twice")
    min_burst_s: float = 0.05


@dataclass(frozen=True)
class Spectrum:
    """Band excess over the noise floor, [frames, bands] in dB, with its time axis."""

    excess_db: np.ndarray
    frame_s: float
    first_centre_s: float

    def time(self, i: int) -> float:
        return i * self.frame_s + self.first_centre_s

    def index(self, t: float) -> int:
        last = max(0, self.excess_db.shape[0] - 1)
        return int(np.clip(round((t - self.first_centre_s) / self.frame_s), 0, last))


@dataclass(frozen=True)
class Envelope:
    values_db: np.ndarray  # [frames]
    baseline_db: float  # resting level (what the surroundings give)
    busy_db: float  # a level the surroundings reach (speech, other sounds) that an onset must exceed
    spectrum: Spectrum


def band_spectrum(samples: np.ndarray, cfg: RefineConfig, mel: LogMelConfig = LogMelConfig()) -> Spectrum:
    frames = log_mel_frames(samples, mel) * NAT_TO_DB
    if frames.shape[0] == 0:
        return Spectrum(np.zeros((0, mel.n_mels), dtype=np.float32), mel.hop_s, mel.window_s / 2)
    floor = np.percentile(frames, cfg.noise_percentile, axis=0)
    return Spectrum(np.maximum(frames - floor, 0.0).astype(np.float32), mel.hop_s, mel.window_s / 2)


def event_envelope(spec: Spectrum, span_start: float, span_end: float, cfg: RefineConfig) -> Envelope:
    """Envelope over the bands where [span_start, span_end] stands out most from its surroundings."""
    x = spec.excess_db
    a, b = spec.index(span_start), spec.index(span_end)
    inside = x[a: b + 1].mean(axis=0)
    ctx = max(1, round(cfg.context_s / spec.frame_s))
    sur = max(1, round(cfg.surround_s / spec.frame_s))
    outside = np.concatenate([x[max(0, a - ctx - sur): max(0, a - ctx)], x[b + 1 + ctx: b + 1 + ctx + sur]])
    contrast = inside - (np.median(outside, axis=0) if outside.shape[0] else 0.0)
    n_bands = max(1, round(cfg.band_fraction * x.shape[1]))
    bands = np.argsort(-contrast)[:n_bands]
    values = x[:, bands].mean(axis=1)
    if cfg.smooth_frames > 1 and values.size >= cfg.smooth_frames:
        values = np.convolve(values, np.ones(cfg.smooth_frames) / cfg.smooth_frames, mode="same")
    if outside.shape[0] * spec.frame_s >= cfg.min_context_s:
        rest = outside[:, bands].mean(axis=1)
        base = float(np.percentile(rest, cfg.baseline_percentile))
        busy = float(np.percentile(rest, cfg.busy_percentile))
    else:  # the segment is (nearly) all event: its quietest frames are the best guess of rest
        base = busy = float(np.percentile(values, cfg.noise_percentile))
    return Envelope(values.astype(np.float32), base, busy, spec)


def _threshold(env: Envelope, window: np.ndarray, cfg: RefineConfig, busy: bool = False) -> float | None:
    """Activity threshold inside a window, or None when the window never rises clearly above rest.
    With `busy`, also above what the surroundings often reach (for onsets: speech must not pass for one)."""
    peak = float(window.max())
    rise = peak - env.baseline_db
    threshold = env.baseline_db + max(cfg.min_excess_db, cfg.peak_fraction * rise)
    if busy:
        threshold = max(threshold, env.busy_db)
    return threshold if rise >= cfg.min_excess_db and threshold <= peak else None


def refine_span(spec: Spectrum, span_start: float, span_end: float, lo: float, hi: float,
                cfg: RefineConfig) -> tuple[float, float, Envelope] | None:
    """Onset and offset near the tagger span [span_start, span_end] (clipped to [lo, hi]); None when the
    envelope shows no clear event there (the caller keeps the coarse times)."""
    if spec.excess_db.shape[0] == 0:
        return None
    env = event_envelope(spec, span_start, span_end, cfg)
    a = spec.index(max(lo, span_start - cfg.search_pad_s))
    b = spec.index(min(hi, span_end + cfg.search_pad_s))
    window = env.values_db[a: b + 1]
    off = _threshold(env, window, cfg) if window.size else None
    if off is None:
        return None
    on = _threshold(env, window, cfg, busy=True) or off
    first = int(np.flatnonzero(window >= on)[0])
    last = first + int(np.flatnonzero(window[first:] >= off)[-1])
    start = max(lo, spec.time(a + first) - spec.frame_s / 2)
    end = min(hi, spec.time(a + last) + spec.frame_s / 2)
    return (start, end, env) if end > start else None


def count_bursts(env: Envelope, start_s: float, end_s: float, cfg: RefineConfig) -> int:
    """Separate bursts inside [start_s, end_s]: active runs split by silences >= burst_gap_s."""
    spec = env.spectrum
    a, b = spec.index(start_s), spec.index(end_s)
    window = env.values_db[a: b + 1]
    threshold = _threshold(env, window, cfg) if window.size else None
    if threshold is None:
        return 1
    active = np.flatnonzero(window >= threshold)
    gap = max(1, round(cfg.burst_gap_s / spec.frame_s))
    min_len = max(1, round(cfg.min_burst_s / spec.frame_s))
    splits = np.flatnonzero(np.diff(active) > gap)  # a long enough silence follows these
    firsts = np.concatenate([[active[0]], active[splits + 1]])
    lasts = np.concatenate([active[splits], [active[-1]]])
    return max(1, int(np.sum(lasts - firsts + 1 >= min_len)))


def rms_dbfs(samples: np.ndarray) -> float:
    if samples.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(SILENCE_DBFS, 20.0 * np.log10(rms + 1e-12))
