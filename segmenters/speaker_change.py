"""Speaker-change evidence: the diarizer (annotators/speech/diarization) and its change points
(`segmenters.speakers.speaker_change_points`), with short turns left out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from annotators.base import SpeakerTurn

log = logging.getLogger(__name__)


def load_diarizer(params: dict[str, Any], device: str = "cpu"):
    """The diarizer with its models loaded, or None when its dependencies are missing (segmenting goes
    on without speaker changes). Bad params are the user's error and raise."""
    try:
        from annotators.speech.diarization.diarizer import SpeakerDiarizer
    except ImportError as e:
        log.warning("speaker diarization unavailable (%s); segmenting without speaker changes", e)
        return None
    diarizer = SpeakerDiarizer(SpeakerDiarizer.Params(**params), device=device)
    diarizer.setup()
    return diarizer


def change_points(turns: Sequence[SpeakerTurn], min_turn_s: float, change_gap_s: float) -> list[float]:
    """Times where one speaker hands over to another, ignoring turns shorter than `min_turn_s`
    (diarization blips); a gap longer than `change_gap_s` is no change (speech offset, then onset)."""
    from segmenters.speakers import speaker_change_points

    kept = [t for t in turns if t.end_s - t.start_s >= min_turn_s]
    return speaker_change_points(kept, change_gap_s)


def _merged(regions: Sequence[tuple[float, float]], pad_s: float, duration_s: float) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for s, e in sorted(regions):
        s, e = max(0.0, s - pad_s), min(duration_s, e + pad_s)
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def diarize_speech_only(diarizer, samples, sample_rate: int, regions: Sequence[tuple[float, float]],
                        num_speakers: int | None, pad_s: float) -> list[SpeakerTurn]:
    """Diarize the speech regions only, butted together (music and sound cost nothing), and map the turns
    back to recording time; a turn crossing a joint is split there."""
    import numpy as np

    spans = _merged(regions, pad_s, len(samples) / sample_rate)
    if not spans:
        return []
    pieces = [samples[round(s * sample_rate) : round(e * sample_rate)] for s, e in spans]
    offsets = np.cumsum([0] + [len(p) for p in pieces]) / sample_rate  # compact start of each span
    turns = diarizer.diarize(np.concatenate(pieces), sample_rate, num_speakers=num_speakers)
    out = []
    for t in turns:
        for (s, _), c0, c1 in zip(spans, offsets[:-1], offsets[1:]):
            a, b = max(t.start_s, c0), min(t.end_s, c1)
            if b > a:
                out.append(SpeakerTurn(round(s + a - c0, 3), round(s + b - c0, 3), t.speaker))
    return out
