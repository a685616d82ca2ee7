"""Stage logic with no Ray in it: prepare a recording, annotate a batch, merge a recording.

The Ray runner calls these; tests, notebooks and the naive baseline call them directly."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from annotators.base import Annotator, SegmentAudio, SpeakerTurn
from pipeline.config import AudioConfig, BranchConfig, SegmentationConfig
from pipeline.manifest import InputItem
from schemas.common import LabelScore, segment_id
from schemas.errors import ErrorRow
from schemas.recordings import RecordingRow
from schemas.segments import BoundaryReasons, SegmentRow

log = logging.getLogger(__name__)


@dataclass
class PreparedRecording:
    """A decoded, segmented recording. `samples` is None when decoding failed."""

    item: InputItem
    recording: RecordingRow
    segments: list[SegmentRow] = field(default_factory=list)
    speaker_turns: list[SpeakerTurn] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)
    samples: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkItem:
    """One segment for one branch: everything an annotator needs except the samples (kept by reference)."""

    recording_id: str
    uri: str
    segment: SegmentRow
    speaker_turns: tuple[SpeakerTurn, ...] = ()
    num_speakers: int | None = None


@dataclass
class BatchOutcome:
    rows: list = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)
    model_s: float = 0.0  # time spent inside annotator.annotate (the model)
    items: int = 0


@lru_cache(maxsize=4)
def _segmenter(key: str, params_json: str, device: str):
    """One segmenter (and its models) per worker process, reused by every task the process runs."""
    from segmenters.registry import SEGMENTERS

    cls = SEGMENTERS.get(key)
    seg = cls(cls.Params.model_validate(json.loads(params_json)), device=device)
    seg.setup()
    return seg


def get_segmenter(cfg: SegmentationConfig, device: str = "cpu"):
    return _segmenter(cfg.segmenter, json.dumps(cfg.params, sort_keys=True), device)


def make_annotator(branch: BranchConfig, device: str = "cpu") -> Annotator:
    from annotators.registry import ANNOTATORS

    cls = ANNOTATORS.get(branch.annotator)
    annotator = cls(cls.Params.model_validate(branch.params), device=device)
    annotator.setup()
    return annotator


def one_line(exc: BaseException) -> str:
    """`str(exc)`'s first line (some libraries put a whole report in the message), or its repr."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


def log_unexpected(what: str, exc: BaseException) -> None:
    """Bad data is reported in one line (and an error row); the traceback only at debug level."""
    log.warning("%s failed: %s: %s", what, type(exc).__name__, one_line(exc))
    log.debug("traceback of the failure above", exc_info=exc)


def _error(item: InputItem, stage: str, exc: BaseException, segment: str | None = None) -> ErrorRow:
    return ErrorRow(item.recording_id, item.uri, stage, type(exc).__name__, one_line(exc), segment)


def prepare_recording(item: InputItem, audio_cfg: AudioConfig, seg_cfg: SegmentationConfig, device: str = "cpu",
                      storage_options: dict | None = None) -> PreparedRecording:
    """Decode once, segment at event boundaries, route. Never raises for a bad file: it returns error rows."""
    t0 = time.perf_counter()
    audio = _decode(item, audio_cfg, storage_options)
    if isinstance(audio, PreparedRecording):
        return audio
    t1 = time.perf_counter()
    info = dict(
        recording_id=item.recording_id,
        uri=item.uri,
        duration_s=audio.duration_s,
        sample_rate=audio.source_sample_rate,
        channels=audio.channels,
        codec=audio.codec,
        container=audio.container,
        bytes=audio.bytes,
        warnings=list(audio.warnings),
    )
    if audio.samples.size == 0 or not np.any(audio.samples):
        reason = "no audio samples" if audio.samples.size == 0 else "digital silence"
        rec = RecordingRow(status="empty", warnings=[*audio.warnings, reason], **{k: v for k, v in info.items() if k != "warnings"})
        return PreparedRecording(item, rec, timings={"decode_s": t1 - t0})
    try:
        seg = get_segmenter(seg_cfg, device).segment(audio.samples, audio.sample_rate, item.num_speakers)
    except Exception as e:
        log_unexpected(f"segmenting {item.uri}", e)
        failed = _failed(item, "segment", e)
        failed.recording = RecordingRow(status="error", error=failed.recording.error, **info)
        return failed
    t2 = time.perf_counter()
    segments = [
        SegmentRow(
            recording_id=item.recording_id,
            segment_id=segment_id(item.recording_id, s.start_s, s.end_s),
            start_s=s.start_s,
            end_s=s.end_s,
            branches=list(s.branches),
            class_scores=[LabelScore(c.label, c.score) for c in s.class_scores],
            boundary_reasons=BoundaryReasons(s.start_reason, s.end_reason),
        )
        for s in seg.segments
    ]
    status = "ok" if segments else "empty"
    rec = RecordingRow(status=status, num_segments=len(segments), silences=list(seg.silences), **info)
    return PreparedRecording(
        item, rec, segments, list(seg.speaker_turns), samples=audio.samples,
        timings={"decode_s": t1 - t0, "segment_s": t2 - t1},
    )


def _decode(item: InputItem, audio_cfg: AudioConfig, storage_options: dict | None = None):
    """The decoded audio, or the failed recording (its error row holds the one-line reason)."""
    from pipeline.audio import DecodeError, decode

    if item.problem:
        return _failed(item, "input", DecodeError(item.problem))
    try:
        return decode(item.uri, audio_cfg.sample_rate, audio_cfg.max_duration_s, audio_cfg.decode_timeout_s, storage_options)
    except DecodeError as e:
        return _failed(item, "decode", e)
    except Exception as e:  # an unexpected decoder crash is still this file's error, not the run's
        log_unexpected(f"decoding {item.uri}", e)
        return _failed(item, "decode", e)


def decode_recording(item: InputItem, audio_cfg: AudioConfig, storage_options: dict | None = None) -> PreparedRecording:
    """Decode only, for a redo of branches that need no segmentation: samples and an ok / error row."""
    t0 = time.perf_counter()
    audio = _decode(item, audio_cfg, storage_options)
    if isinstance(audio, PreparedRecording):
        return audio
    rec = RecordingRow(recording_id=item.recording_id, uri=item.uri, status="ok", duration_s=audio.duration_s)
    return PreparedRecording(item, rec, samples=audio.samples, timings={"decode_s": time.perf_counter() - t0})


def _failed(item: InputItem, stage: str, exc: BaseException) -> PreparedRecording:
    err = _error(item, stage, exc)
    rec = RecordingRow(recording_id=item.recording_id, uri=item.uri, status="error", error=f"{stage}: {err.message}")
    return PreparedRecording(item, rec, errors=[err])


def work_items(prepared: PreparedRecording, branch: str) -> list[WorkItem]:
    return [
        WorkItem(
            recording_id=prepared.item.recording_id,
            uri=prepared.item.uri,
            segment=s,
            speaker_turns=clip_turns(prepared.speaker_turns, s.start_s, s.end_s),
            num_speakers=prepared.item.num_speakers,
        )
        for s in prepared.segments
        if branch in s.branches
    ]


def clip_turns(turns: Sequence[SpeakerTurn], start_s: float, end_s: float) -> tuple[SpeakerTurn, ...]:
    return tuple(
        SpeakerTurn(max(t.start_s, start_s), min(t.end_s, end_s), t.speaker)
        for t in turns
        if t.end_s > start_s and t.start_s < end_s
    )


def segment_audio(item: WorkItem, samples: np.ndarray, sample_rate: int, context_s: float = 0.0) -> SegmentAudio:
    seg = item.segment
    a, b = round(seg.start_s * sample_rate), round(seg.end_s * sample_rate)
    ctx = round(context_s * sample_rate)
    return SegmentAudio(
        recording_id=item.recording_id,
        segment_id=seg.segment_id,
        start_s=seg.start_s,
        end_s=seg.end_s,
        samples=samples[a:b],
        sample_rate=sample_rate,
        class_scores=tuple(seg.class_scores),
        speaker_turns=item.speaker_turns,
        num_speakers=item.num_speakers,
        context_before=samples[max(0, a - ctx) : a] if ctx else None,
        context_after=samples[b : b + ctx] if ctx else None,
    )


def annotate_batch(annotator: Annotator, items: Sequence[WorkItem], audio: Sequence[SegmentAudio], retries: int = 1) -> BatchOutcome:
    """Annotate a batch; if the batch call fails, retry each segment alone so one bad segment costs only itself."""
    out = BatchOutcome(items=len(items))
    try:
        out.rows = _timed_annotate(annotator, audio, out)
        return out
    except Exception as e:
        if len(items) == 1 and retries == 0:
            out.errors.append(_segment_error(items[0], annotator, e))
            return out
        log.warning("batch of %d for %s failed (%s: %s); retrying one by one", len(items), annotator.branch, type(e).__name__, one_line(e))
    for item, seg_audio in zip(items, audio):
        for attempt in range(retries + 1):
            try:
                out.rows.extend(_timed_annotate(annotator, [seg_audio], out))
                break
            except Exception as e:
                if attempt == retries:
                    out.errors.append(_segment_error(item, annotator, e))
    return out


def _timed_annotate(annotator: Annotator, audio: Sequence[SegmentAudio], out: BatchOutcome) -> list:
    t0 = time.perf_counter()
    try:
        rows = annotator.annotate(audio)
    finally:
        out.model_s += time.perf_counter() - t0
    if len(rows) != len(audio):  # an adapter that drops or adds rows would misalign every table
        raise RuntimeError(f"{type(annotator).__name__} returned {len(rows)} rows for {len(audio)} segments")
    return list(rows)


def _segment_error(item: WorkItem, annotator: Annotator, exc: BaseException) -> ErrorRow:
    log_unexpected(f"{annotator.branch} on {item.segment.segment_id}", exc)
    return ErrorRow(item.recording_id, item.uri, f"annotate:{annotator.branch}", type(exc).__name__, one_line(exc), item.segment.segment_id)
