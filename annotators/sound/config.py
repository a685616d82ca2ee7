"""SoundParams (config) -> the event builder's typed settings."""

from __future__ import annotations

from annotators.sound.detect import DetectConfig
from annotators.sound.events import EventConfig
from annotators.sound.masked import MaskedConfig
from annotators.sound.refine import RefineConfig
from annotators.sound.statement import StatementConfig


def statement_config(p) -> StatementConfig:
    return StatementConfig(leaf_min_score=p.leaf_min_score, ancestor_min_score=p.ancestor_min_score,
                           conflict_margin=p.conflict_margin, music_level=p.music_level,
                           under_music_min_score=p.under_music_min_score)


def event_config(p) -> EventConfig:
    detect = DetectConfig(
        onset_threshold=p.onset_threshold,
        offset_threshold=p.offset_threshold,
        smooth_frames=p.smooth_frames,
        merge_gap_frames=p.merge_gap_frames,
        fold_overlap=p.fold_overlap,
        max_alternatives=p.max_alternatives,
        alternative_min_score=p.alternative_min_score,
    )
    masked = MaskedConfig(enabled=p.masked_detection, rise_on=p.masked_rise_on, rise_off=p.masked_rise_off,
                          floor_logit=p.masked_floor_logit)
    refine = RefineConfig(min_excess_db=p.min_excess_db, peak_fraction=p.peak_fraction)
    return EventConfig(detect=detect, masked=masked, refine=refine, refine_times=p.refine_times,
                       min_event_s=p.min_event_s, background_min_s=p.background_min_s,
                       fallback_min_score=p.fallback_min_score)
