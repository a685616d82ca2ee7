"""Fault-injecting wrappers around REAL annotators and a real segmenter, for the fault-tolerance tests.

Each class subclasses a registered component and returns its real results; the injected fault (a process
that dies, a segment that raises, a segmentation that hangs) is the only thing added. Configs name them
directly, e.g. `annotator: "tests.fault_annotators:DyingOnce"` (Ray workers need the repository root on
PYTHONPATH to import this module).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

import numpy as np
from pydantic import Field

from annotators.base import SegmentAudio
from annotators.registry import ANNOTATORS
from segmenters.base import Segmentation
from segmenters.registry import SEGMENTERS

log = logging.getLogger(__name__)

DIE_EXIT_CODE = 17  # any non-zero code: Ray sees the actor process vanish mid-task

_Music = ANNOTATORS.get("music")
_Sound = ANNOTATORS.get("audioset-events")
_Event = SEGMENTERS.get("event")


def claim_marker(path: str) -> bool:
    """True for exactly one caller across processes and restarts: the one that creates the file."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


class DyingOnceParams(_Music.Params):
    die_marker: str = Field(description="file created by the first annotate call, which then kills its process")


class DyingOnce(_Music):
    """The real music annotator, whose process exits in the middle of its first batch (once per marker)."""

    Params = DyingOnceParams
    params: DyingOnceParams

    def annotate(self, batch: Sequence[SegmentAudio]) -> list:
        if claim_marker(self.params.die_marker):
            log.warning("DyingOnce: exiting process %d in the middle of a batch of %d", os.getpid(), len(batch))
            os._exit(DIE_EXIT_CODE)
        return super().annotate(batch)


class FailsOnSegmentParams(_Sound.Params):
    fail_recording: str = Field(description="substring of the recording_id whose segment fails")
    fail_at_s: float = Field(ge=0, description="the segment of that recording containing this time raises")


class FailsOnSegment(_Sound):
    """The real sound annotator; any batch holding the chosen segment raises (so does the segment alone)."""

    Params = FailsOnSegmentParams
    params: FailsOnSegmentParams

    def annotate(self, batch: Sequence[SegmentAudio]) -> list:
        p = self.params
        for seg in batch:
            if p.fail_recording in seg.recording_id and seg.start_s <= p.fail_at_s < seg.end_s:
                raise ValueError(f"injected fault in segment {seg.segment_id}")
        return super().annotate(batch)


class SlowSegmenterParams(_Event.Params):
    sleep_s: float = Field(ge=0, description="recordings at least slow_min_s long sleep this long first")
    slow_min_s: float = Field(ge=0, description="shorter recordings are segmented at normal speed")


class SlowSegmenter(_Event):
    """The real event segmenter, hanging on long recordings: stands in for a stuck decoder or model."""

    Params = SlowSegmenterParams
    params: SlowSegmenterParams

    def segment(self, samples: np.ndarray, sample_rate: int, num_speakers: int | None = None) -> Segmentation:
        if len(samples) / sample_rate >= self.params.slow_min_s:
            time.sleep(self.params.sleep_s)
        return super().segment(samples, sample_rate, num_speakers)


def write_clip(src, dst, start_s: float, end_s: float) -> None:
    """A piece of a corpus scene as its own 16-bit WAV: short real inputs keep pipeline tests fast."""
    import soundfile as sf

    info = sf.info(str(src))
    a, b = round(start_s * info.samplerate), round(end_s * info.samplerate)
    samples, rate = sf.read(str(src), start=a, stop=b, dtype="int16")
    sf.write(str(dst), samples, rate, subtype="PCM_16")
