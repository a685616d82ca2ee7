"""Paralinguistic measures of one speech segment, and the MOSS speech-caption words they support.

Measured from the audio and the ASR word times only: pitch (YIN on voiced frames, `pitch.py`), speaking rate,
active level, pause ratio, and an SNR estimate. Caption fields with no measuring model (age, accent,
texture, emotion, tone, personality) stay None: nothing is invented.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict

from annotators.speech.pitch import yin_track
from schemas.speech import SpeechCaption

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_VOWEL_GROUP_RE = re.compile(r"[aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœ]+", re.IGNORECASE)
_LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)
EPS = 1e-12


class ParalinguisticParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    fmin_hz: float = 60.0
    fmax_hz: float = 500.0
    pitch_frame_s: float = 0.064
    hop_s: float = 0.02
    voicing_threshold: float = 0.2  # YIN aperiodicity under which a frame is voiced
    min_voiced_frames: int = 10
    min_pause_s: float = 0.15  # a gap between words at least this long is a pause
    energy_frame_s: float = 0.025
    noise_percentile: float = 10.0
    max_snr_db: float = 60.0
    # Caption words: thresholds on the measures.
    guess_gender: bool = True  # a weak guess from pitch alone, only outside the ambiguous band
    male_max_hz: float = 140.0
    female_min_hz: float = 180.0
    female_max_hz: float = 260.0  # above: could be a child, say nothing
    pitch_ref_hz: dict[str, float] = {"male": 120.0, "female": 210.0, "unknown": 165.0}
    pitch_band_semitones: float = 2.5  # further than this from the reference: low/high
    slow_sps: float = 3.0  # syllables per second
    fast_sps: float = 5.5
    quiet_dbfs: float = -32.0
    loud_dbfs: float = -16.0
    clear_snr_db: float = 25.0
    noisy_snr_db: float = 12.0
    fluent_pause_ratio: float = 0.12
    halting_pause_ratio: float = 0.35


@dataclass(frozen=True)
class Measures:
    pitch_mean_hz: float | None
    pitch_range_hz: float | None  # 5th..95th percentile of F0 on voiced frames
    speaking_rate_wps: float | None
    speaking_rate_sps: float | None
    volume_dbfs: float | None  # active level over the spoken part
    pause_ratio: float | None
    snr_db: float | None


def count_syllables(word: str) -> int:
    cjk = len(_CJK_RE.findall(word))
    if cjk:
        return cjk
    groups = len(_VOWEL_GROUP_RE.findall(word))
    return max(groups, 1) if _LETTER_RE.search(word) else 0


def _pitch(audio: np.ndarray, sr: int, spans, p: ParalinguisticParams) -> tuple[float | None, float | None]:
    """F0 mean and range over voiced frames inside `spans` (the words), so music or noise around the
    speech in the same segment does not count."""
    frame = int(2 ** math.ceil(math.log2(p.pitch_frame_s * sr)))
    if len(audio) < frame:
        return None, None
    f0, voiced = yin_track(audio, sr, p.fmin_hz, p.fmax_hz, frame, int(p.hop_s * sr), p.voicing_threshold)
    keep = voiced & np.isfinite(f0)
    if spans:
        keep &= _speech_mask(len(f0), p.hop_s, spans)
    f0 = f0[keep]
    if len(f0) < p.min_voiced_frames:
        return None, None
    lo, hi = np.percentile(f0, [5, 95])
    return float(np.mean(f0)), float(hi - lo)


def _frame_power(audio: np.ndarray, sr: int, p: ParalinguisticParams) -> tuple[np.ndarray, float]:
    hop = max(1, int(p.hop_s * sr))
    frame = max(hop, int(p.energy_frame_s * sr))
    if len(audio) < frame:
        return np.array([np.mean(audio.astype(np.float64) ** 2)]), p.hop_s
    idx = np.arange(0, len(audio) - frame + 1, hop)
    frames = np.stack([audio[i : i + frame] for i in idx]).astype(np.float64)
    return (frames**2).mean(axis=1), hop / sr


def _speech_mask(n_frames: int, hop_s: float, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    t = np.arange(n_frames) * hop_s
    mask = np.zeros(n_frames, dtype=bool)
    for start, end in spans:
        mask |= (t >= start) & (t < end)
    return mask


def _level_and_snr(audio, sr, spans, p) -> tuple[float | None, float | None]:
    if len(audio) == 0:
        return None, None
    power, hop_s = _frame_power(audio, sr, p)
    mask = _speech_mask(len(power), hop_s, spans)
    if mask.sum() == 0:  # no words: the louder half of the frames stands in for speech
        mask = power >= np.median(power)
    signal = float(power[mask].mean())
    noise = float(np.percentile(power, p.noise_percentile))
    volume = 10 * math.log10(signal + EPS)
    snr = 10 * math.log10(max(signal - noise, EPS) / max(noise, EPS))
    return volume, float(min(snr, p.max_snr_db))


def _rate_and_pauses(words: Sequence[tuple[float, float, str]], p: ParalinguisticParams):
    if len(words) < 2:
        return None, None, None
    span = words[-1][1] - words[0][0]
    if span <= 0:
        return None, None, None
    gaps = [b[0] - a[1] for a, b in zip(words, words[1:])]
    pauses = sum(g for g in gaps if g >= p.min_pause_s)
    syllables = sum(count_syllables(w) for _, _, w in words)
    return len(words) / span, syllables / span, pauses / span


def measure(audio: np.ndarray, sr: int, words: Sequence[tuple[float, float, str]], p: ParalinguisticParams) -> Measures:
    """`words`: (start_s, end_s, text) in segment time, sorted; without words the whole audio counts."""
    audio = np.asarray(audio, dtype=np.float32)
    spans = [(s, e) for s, e, _ in words]
    mean_f0, range_f0 = _pitch(audio, sr, spans, p)
    wps, sps, pause_ratio = _rate_and_pauses(words, p)
    volume, snr = _level_and_snr(audio, sr, spans, p)
    return Measures(mean_f0, range_f0, wps, sps, volume, pause_ratio, snr)


def _band(value: float | None, low: float, high: float, words: tuple[str, str, str]) -> str | None:
    if value is None:
        return None
    return words[0] if value < low else words[2] if value > high else words[1]


def _gender(f0: float | None, p: ParalinguisticParams) -> str | None:
    if f0 is None or not p.guess_gender:
        return None
    if f0 < p.male_max_hz:
        return "male"
    if p.female_min_hz < f0 < p.female_max_hz:
        return "female"
    return None


def _pitch_word(f0: float | None, gender: str | None, p: ParalinguisticParams) -> str | None:
    if f0 is None:
        return None
    semitones = 12 * math.log2(f0 / p.pitch_ref_hz[gender or "unknown"])
    band = p.pitch_band_semitones
    return _band(semitones, -band, band, ("low-pitched", "medium-pitched", "high-pitched"))


def _summary(c: dict[str, str | None]) -> str | None:
    voice = " ".join(x for x in (c["pitch"], c["gender"] and f"{c['gender']}") if x)
    parts = [f"A {voice} voice" if voice else "A voice"]
    if c["speed"]:
        parts.append(f"speaking at a {c['speed']} pace")
    if c["volume"]:
        parts.append(f"{c['volume']} in level")
    if c["fluency"]:
        parts.append(c["fluency"])
    if c["clarity"]:
        parts.append(f"{c['clarity']} recording")
    return ", ".join(parts) + "." if len(parts) > 1 or voice else None


def describe(m: Measures, p: ParalinguisticParams) -> SpeechCaption:
    gender = _gender(m.pitch_mean_hz, p)
    fields = {
        "gender": gender,
        "pitch": _pitch_word(m.pitch_mean_hz, gender, p),
        "speed": _band(m.speaking_rate_sps, p.slow_sps, p.fast_sps, ("slow", "moderate", "fast")),
        "volume": _band(m.volume_dbfs, p.quiet_dbfs, p.loud_dbfs, ("quiet", "moderate", "loud")),
        "clarity": _band(m.snr_db, p.noisy_snr_db, p.clear_snr_db, ("noisy", "fairly clear", "clear")),
        "fluency": _band(m.pause_ratio, p.fluent_pause_ratio, p.halting_pause_ratio,
                         ("fluent", "with some pauses", "halting")),
    }
    return SpeechCaption(**fields, summary=_summary(fields))
