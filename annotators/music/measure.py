"""All music measures of one segment (pure apart from the tagger call), and the row they become."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotators.audioset.frontend import to_16k
from annotators.audioset.tagger import TaggerAdapter
from annotators.base import SegmentAudio
from annotators.music.beatnet import BeatNetTracker
from annotators.music.caption import MusicFacts, music_caption
from annotators.music.loudness import Loudness, LoudnessConfig, dynamics_word, loudness_word, measure_loudness
from annotators.music.rhythm import Rhythm, RhythmConfig, estimate_rhythm, long_enough
from annotators.music.tags import MusicTags, TagConfig, music_tags
from annotators.music.tempo_agreement import AgreementConfig, beatnet_only, combine
from annotators.music.timbre import TimbreConfig, brightness_word, spectral_centroid_hz
from annotators.music.tonality import Key, KeyConfig, estimate_key
from schemas.music import MusicRow

ANALYSIS_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class MusicConfig:
    rhythm: RhythmConfig = RhythmConfig()
    beat_tracker: str = "agreement"  # "onset", "beatnet" or "agreement" (`tempo_agreement`)
    agreement: AgreementConfig = AgreementConfig()
    key: KeyConfig = KeyConfig()
    loudness: LoudnessConfig = LoudnessConfig()
    timbre: TimbreConfig = TimbreConfig()
    tags: TagConfig = TagConfig()
    hop_s: float = 0.48


@dataclass(frozen=True)
class MusicMeasures:
    rhythm: Rhythm
    key: Key
    loudness: Loudness
    centroid_hz: float | None
    tags: MusicTags


def music_config(p) -> MusicConfig:
    """MusicParams (config) -> typed settings."""
    return MusicConfig(
        rhythm=RhythmConfig(preferred_bpm=(p.preferred_bpm_min, p.preferred_bpm_max),
                            min_confidence=p.min_tempo_confidence),
        beat_tracker=p.beat_tracker,
        agreement=AgreementConfig(beatnet_min_confidence=p.beatnet_min_confidence),
        key=KeyConfig(chroma=p.key_chroma, min_correlation=p.min_key_correlation),
        tags=TagConfig(instrument_min_score=p.instrument_min_score, max_instruments=p.max_instruments,
                       genre_min_score=p.genre_min_score, vocals_min_score=p.vocals_min_score),
        hop_s=p.hop_s,
    )


def measure_rhythm(y: np.ndarray, sr: int, cfg: MusicConfig, beatnet: BeatNetTracker | None) -> Rhythm:
    """Tempo, beats, downbeats and meter by the configured tracker(s)."""
    if cfg.beat_tracker == "onset" or beatnet is None:
        return estimate_rhythm(y, sr, cfg.rhythm)
    net = beatnet(y, sr) if long_enough(y, sr, cfg.rhythm) else None
    if cfg.beat_tracker == "beatnet":
        return beatnet_only(net, cfg.agreement)
    return combine(estimate_rhythm(y, sr, cfg.rhythm), net, cfg.agreement)


def measure_segment(samples: np.ndarray, sample_rate: int, tagger: TaggerAdapter, cfg: MusicConfig,
                    beatnet: BeatNetTracker | None = None) -> MusicMeasures:
    y = to_16k(samples, sample_rate)
    sr = ANALYSIS_SAMPLE_RATE
    _, scores = tagger.frame_scores(y, sr, hop_s=cfg.hop_s)
    return MusicMeasures(
        rhythm=measure_rhythm(y, sr, cfg, beatnet),
        key=estimate_key(y, sr, cfg.key),
        loudness=measure_loudness(y, sr, cfg.loudness),
        centroid_hz=spectral_centroid_hz(y, sr, cfg.timbre),
        tags=music_tags(scores, tagger.class_names, cfg.tags),
    )


def to_row(m: MusicMeasures, seg: SegmentAudio, model_id: str, model_version: str | None) -> MusicRow:
    facts = MusicFacts(
        tags=m.tags, tempo_bpm=m.rhythm.tempo_bpm, key=m.key.key, mode=m.key.mode, meter=m.rhythm.meter,
        loudness=loudness_word(m.loudness.lufs), dynamics=dynamics_word(m.loudness.range_db),
        brightness=brightness_word(m.centroid_hz),
    )
    return MusicRow(
        recording_id=seg.recording_id, segment_id=seg.segment_id, start_s=seg.start_s, end_s=seg.end_s,
        model_id=model_id, model_version=model_version,
        tempo_bpm=m.rhythm.tempo_bpm, beats=[round(seg.start_s + b, 3) for b in m.rhythm.beats_s],
        key=m.key.key, mode=m.key.mode, loudness_dbfs=m.loudness.rms_dbfs, tags=m.tags.all,
        caption=music_caption(facts), tempo_confidence=m.rhythm.confidence, meter=m.rhythm.meter,
        key_confidence=m.key.confidence, loudness_lufs=m.loudness.lufs, dynamic_range_db=m.loudness.range_db,
        spectral_centroid_hz=m.centroid_hz, brightness=brightness_word(m.centroid_hz),
        instruments=m.tags.instruments, genres=m.tags.genres, vocals=m.tags.vocals,
        vocals_score=m.tags.vocals_score, downbeats=[round(seg.start_s + b, 3) for b in m.rhythm.downbeats_s],
        tempo_method=m.rhythm.method,  # None wherever no tempo was stated
    )
