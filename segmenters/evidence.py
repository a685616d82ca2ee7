"""All evidence about one recording, computed once and shared by the fusion step.

Each source is usable alone (VAD in `vad.py`, class profile in `class_profile.py`, acoustic change in
`acoustic.py`, speaker turns from `segmenters.speakers`); this module only gathers them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from annotators.base import SpeakerTurn
from segmenters.acoustic import AcousticEvidence, AcousticParams, acoustic_evidence
from segmenters.class_profile import ClassProfile, class_profile
from segmenters.energy import EnergyFrames, frame_db
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
) -> Evidence:
    """Compute every enabled source. `tagger`/`diarizer` None (or `acoustic` None) skip that source."""
    duration_s = len(samples) / sample_rate
    frames = speech_frames(samples, sample_rate, vad.backend)
    regions = regions_from_frames(frames, duration_s, vad)
    profile = class_profile(samples, sample_rate, tagger, tagger_hop_s) if tagger is not None else None
    change = acoustic_evidence(samples, sample_rate, acoustic) if acoustic is not None else None
    turns = speaker_turns(diarizer, samples, sample_rate, regions, num_speakers, diarize_pad_s) if diarizer is not None else []
    return Evidence(duration_s, frame_db(samples, sample_rate, energy_hop_s), frames, regions, profile, change, turns)


def speaker_turns(diarizer, samples: np.ndarray, sample_rate: int, regions: list[tuple[float, float]],
                  num_speakers: int | None, pad_s: float) -> list[SpeakerTurn]:
    """Diarize the speech regions only: music, sounds and silence cost nothing."""
    if not regions:
        return []
    try:
        return diarize_speech_only(diarizer, samples, sample_rate, regions, num_speakers, pad_s)
    except Exception:  # speaker turns are optional evidence; segmentation goes on without them
        log.exception("diarization failed; segmenting without speaker turns")
        return []
