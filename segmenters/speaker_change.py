"""Speaker-change points from diarization turns (`segmenters.speakers.SpeakerDiarizer`, when installed)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from annotators.base import SpeakerTurn

log = logging.getLogger(__name__)


def load_diarizer(params: dict[str, Any], device: str = "cpu"):
    """The diarizer with its models loaded, or None when the module is not there (segmenting goes on
    without speaker changes). Bad params are the user's error and raise."""
    try:
        from segmenters.speakers import SpeakerDiarizer
    except ImportError as e:
        log.warning("speaker diarization unavailable (%s); segmenting without speaker changes", e)
        return None
    diarizer = SpeakerDiarizer(SpeakerDiarizer.Params(**params), device=device)
    diarizer.setup()
    return diarizer


def change_points(turns: Sequence[SpeakerTurn], min_turn_s: float) -> list[float]:
    """Times where the speaker changes between two turns that each last at least `min_turn_s`
    (the middle of any gap or overlap between them)."""
    ordered = sorted((t for t in turns if t.end_s - t.start_s >= min_turn_s), key=lambda t: t.start_s)
    out = []
    for a, b in zip(ordered, ordered[1:]):
        if a.speaker != b.speaker:
            out.append((a.end_s + b.start_s) / 2)
    return out
