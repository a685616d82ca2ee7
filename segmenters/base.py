"""The Segmenter contract: a whole recording in, event-bounded segments (plus recording-level evidence) out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from annotators.base import SpeakerTurn
from schemas.common import Branch, LabelScore
from schemas.recordings import Span


@dataclass(frozen=True)
class SegmentSpan:
    start_s: float
    end_s: float
    start_reason: str
    end_reason: str
    class_scores: tuple[LabelScore, ...] = ()
    branches: tuple[Branch, ...] = ()


@dataclass
class Segmentation:
    segments: list[SegmentSpan]
    silences: list[Span] = field(default_factory=list)  # long silences: no segment, reported
    speaker_turns: list[SpeakerTurn] = field(default_factory=list)


class SegmenterParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Segmenter(ABC):
    """Models load lazily in `setup()` (once per worker process); `segment` may be called many times."""

    key: ClassVar[str]
    Params: ClassVar[type[SegmenterParams]] = SegmenterParams
    # Part of the segmentation stage's fingerprint: bump when the segments change for the same params,
    # so that existing outputs redo it (pipeline/fingerprints.py).
    version: ClassVar[str] = "1"

    def __init__(self, params: SegmenterParams | None = None, device: str = "cpu"):
        self.params = params if params is not None else self.Params()
        self.device = device

    def setup(self) -> None:
        """Load models. Idempotent."""

    @abstractmethod
    def segment(self, samples: np.ndarray, sample_rate: int, num_speakers: int | None = None) -> Segmentation:
        """Segment one whole recording (float32 mono). `num_speakers`: known count, if the manifest has it."""
