"""WebDataset tar shards: per segment, its audio (FLAC, 16 kHz mono) and a JSON of its annotations."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pipeline.export.records import SAMPLE_RATE, iter_recordings, segment_audio

DEFAULT_SAMPLES_PER_SHARD = 1000
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")  # WebDataset splits a member name at its first dot


def sample_key(segment_id: str) -> str:
    return _KEY_UNSAFE.sub("_", segment_id)


def export_webdataset(out: Path | str, to: Path, samples_per_shard: int = DEFAULT_SAMPLES_PER_SHARD) -> dict:
    import soundfile as sf
    import webdataset as wds

    pattern = str(to / "shard-%06d.tar")
    count = 0
    with wds.ShardWriter(pattern, maxcount=samples_per_shard, verbose=0) as sink:
        for rec in iter_recordings(out):
            caption = rec.caption.caption if rec.caption else None
            for seg, samples in segment_audio(rec):
                flac = io.BytesIO()
                sf.write(flac, samples, SAMPLE_RATE, format="FLAC")
                meta = {
                    "recording_id": rec.recording.recording_id, "segment_id": seg.segment.segment_id,
                    "uri": rec.recording.uri, "start_s": seg.segment.start_s, "end_s": seg.segment.end_s,
                    "branches": list(seg.segment.branches), "caption": caption, **seg.annotations(),
                }
                sink.write({"__key__": sample_key(seg.segment.segment_id), "flac": flac.getvalue(), "json": meta})
                count += 1
    shards = sorted(str(p) for p in to.glob("shard-*.tar"))
    return {"format": "webdataset", "shards": shards, "samples": count}
