"""All evidence about one recording, computed once and shared by the fusion step.

Each source is usable alone (VAD in `vad.py`, class profile in `class_profile.py`, acoustic change in
`acoustic.py`, speaker turns from `segmenters.speakers`); this module only gathers them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from annotators.base import SpeakerTurn
from segmenters.acoustic import AcousticEvidence, AcousticParams, ActivityRule, acoustic_evidence, band_activity
from segmenters.class_profile import ClassProfile, class_profile
from segmenters.energy import EnergyFrames, frame_db, runs
from segmenters.speaker_change import diarize_speech_only
from segmenters.vad import SpeechFrames, VadParams, regions_from_frames, speech_frames

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evidence:
    duration_s: float
    energy: EnergyFrames
    speech: SpeechFrames
    speech_regions: list[tuple[float, float]]
    profile: ClassProfile | None = None
    acoustic: AcousticEvidence | None = None
    turns: list[SpeakerTurn] = field(default_factory=list)


def gather(
    samples: np.ndarray,
    sample_rate: int,
    *,
    vad: VadParams,
    energy_hop_s: float,
    tagger=None,
    tagger_hop_s: float = 0.48,
    acoustic: AcousticParams | None = None,
    diarizer=None,
    num_speakers: int | None = None,
    diarize_pad_s: float = 0.25,
    tag_only_active: ActivityRule | None = None,
) -> Evidence:
    """Compute every enabled source. `tagger`/`diarizer` None (or `acoustic` None) skip that source.
    With `tag_only_active` (and acoustic evidence), the tagger skips stretches quiet by that rule."""
    duration_s = len(samples) / sample_rate
    frames = speech_frames(samples, sample_rate, vad.backend)
    regions = regions_from_frames(frames, duration_s, vad)
    change = acoustic_evidence(samples, sample_rate, acoustic) if acoustic is not None else None
    profile = None
    if tagger is not None:
        spans = None
        if tag_only_active is not None and change is not None:
            spans = active_spans(change, tag_only_active) + list(regions)
        profile = class_profile(samples, sample_rate, tagger, tagger_hop_s, spans)
    turns = speaker_turns(diarizer, samples, sample_rate, regions, num_speakers, diarize_pad_s) if diarizer is not None else []
    return Evidence(duration_s, frame_db(samples, sample_rate, energy_hop_s), frames, regions, profile, change, turns)


def active_spans(change: AcousticEvidence, rule: ActivityRule) -> list[tuple[float, float]]:
    mask = band_activity(change, rule)
    return [(a * change.hop_s, b * change.hop_s) for a, b in runs(mask)]


def speaker_turns(diarizer, samples: np.ndarray, sample_rate: int, regions: list[tuple[float, float]],
                  num_speakers: int | None, pad_s: float) -> list[SpeakerTurn]:
    """Diarize the speech regions only: music, sounds and silence cost nothing."""
    if not regions:
        return []
    try:
        return diarize_speech_only(diarizer, samples, sample_rate, regions, num_speakers, pad_s)
    except Exception as e:  # speaker turns are optional evidence; segmentation goes on without them
        log.warning("diarization failed (%s: %s); segmenting without speaker turns", type(e).__name__, str(e).strip()[:200])
        log.debug("traceback of the failure above", exc_info=e)
        return []
