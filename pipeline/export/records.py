"""A finished output read back per recording, as one record per segment with every branch's row beside it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.writer import done_shards, read_rows
from schemas.captions import CaptionRow
from schemas.music import MusicRow
from schemas.recordings import RecordingRow
from schemas.segments import SegmentRow
from schemas.sound import SoundRow
from schemas.speech import SpeechRow

SAMPLE_RATE = 16000


@dataclass
class SegmentRecord:
    segment: SegmentRow
    speech: SpeechRow | None = None
    music: MusicRow | None = None
    sound: SoundRow | None = None

    @property
    def duration_s(self) -> float:
        return self.segment.end_s - self.segment.start_s

    def annotations(self) -> dict:
        """The branch rows as plain JSON-able dicts (None for a branch that did not annotate it)."""
        return {b: (dataclasses.asdict(r) if r is not None else None) for b, r in
                (("speech", self.speech), ("music", self.music), ("sound", self.sound))}


@dataclass
class RecordingRecord:
    recording: RecordingRow
    caption: CaptionRow | None
    segments: list[SegmentRecord] = field(default_factory=list)


def iter_recordings(out: Path | str) -> Iterator[RecordingRecord]:
    """Recordings of finished shards that have segments, in shard order."""
    for sid in sorted(done_shards(out)):
        by_segment: dict[str, dict] = {}
        for branch in ("speech", "music", "sound"):
            for row in read_rows(out, branch, sid):
                by_segment.setdefault(row.segment_id, {})[branch] = row
        captions = {c.recording_id: c for c in read_rows(out, "captions", sid)}
        segments: dict[str, list[SegmentRow]] = {}
        for s in read_rows(out, "segments", sid):
            segments.setdefault(s.recording_id, []).append(s)
        for rec in read_rows(out, "recordings", sid):
            if rec.status != "ok" or rec.recording_id not in segments:
                continue
            segs = sorted(segments[rec.recording_id], key=lambda s: s.start_s)
            yield RecordingRecord(rec, captions.get(rec.recording_id),
                                  [SegmentRecord(s, **by_segment.get(s.segment_id, {})) for s in segs])


def segment_audio(record: RecordingRecord) -> Iterator[tuple[SegmentRecord, np.ndarray]]:
    """Each segment's samples (16 kHz mono float32), the recording decoded once from its original URI."""
    from pipeline.audio import decode

    samples = decode(record.recording.uri, SAMPLE_RATE).samples
    for seg in record.segments:
        a, b = round(seg.segment.start_s * SAMPLE_RATE), round(seg.segment.end_s * SAMPLE_RATE)
        yield seg, samples[a:b]


def to_json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
