"""The Annotator contract: declared branch and resources, one model load in setup(), batched annotate()."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from schemas.common import Branch, LabelScore


@dataclass(frozen=True)
class Resources:
    """What one actor of an annotator needs. GPUs are only requested when the cluster has them."""

    cpus: float = 1.0
    gpus: float = 0.0
    memory_gb: float | None = None


@dataclass(frozen=True)
class SpeakerTurn:
    start_s: float  # recording time
    end_s: float
    speaker: str  # "S01", "S02", ... in order of first appearance in the recording


@dataclass(frozen=True)
class SegmentAudio:
    """One segment handed to an annotator: its span in recording time and its own samples."""

    recording_id: str
    segment_id: str
    start_s: float
    end_s: float
    samples: np.ndarray  # float32 mono at `sample_rate`, exactly the span [start_s, end_s)
    sample_rate: int = 16000
    class_scores: Sequence[LabelScore] = ()
    speaker_turns: Sequence[SpeakerTurn] = ()  # recording-level diarization clipped to this span
    num_speakers: int | None = None  # known number of speakers of the recording, if the manifest says
    # Audio just outside the span (up to audio.segment_context_s): lets a model see an event rise out of
    # room tone at a cut. Never annotated itself.
    context_before: np.ndarray | None = None
    context_after: np.ndarray | None = None


class AnnotatorParams(BaseModel):
    """Base of every annotator's parameters; unknown keys are errors, named at config time."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Annotator(ABC):
    """Subclasses set `branch`, `Params`, `resources`, and implement `setup` and `annotate`.

    Construction must stay cheap and import nothing heavy: the config is validated (which builds
    Params) on the driver before any work starts, and models load in `setup()`, once per actor.
    """

    key: ClassVar[str]  # set by the registry decorator
    branch: ClassVar[Branch]
    Params: ClassVar[type[AnnotatorParams]] = AnnotatorParams
    resources: ClassVar[Resources] = Resources()
    # True: every segment of a recording for this branch arrives in the same annotate() call (in any order),
    # e.g. to pack them into shared model windows; a runner must never split a recording across calls.
    whole_recordings: ClassVar[bool] = False
    # Part of the branch's fingerprint: bump when the rows change for the same params, so that existing
    # outputs redo this branch (and the merge) only (pipeline/fingerprints.py).
    version: ClassVar[str] = "1"

    def __init__(self, params: AnnotatorParams | None = None, device: str = "cpu"):
        self.params = params if params is not None else self.Params()
        self.device = device

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Id of the weights used (hub name, package name or local path), stored on every row."""

    @property
    def model_version(self) -> str | None:
        return None

    @abstractmethod
    def setup(self) -> None:
        """Load the model. Called once per actor before the first batch."""

    @abstractmethod
    def annotate(self, batch: Sequence[SegmentAudio]) -> list:
        """Annotate a batch; return exactly one row (of the branch's table record) per input, in order."""

    def teardown(self) -> None:
        """Release what setup() took."""


@dataclass
class BatchResult:
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # ErrorRow for segments that failed alone
