"""A Hugging Face `datasets` dataset with an `Audio` column, one row per segment, saved with `save_to_disk`."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pipeline.export.records import SAMPLE_RATE, iter_recordings, segment_audio, to_json


def _rows(out: Path | str):
    for rec in iter_recordings(out):
        caption = rec.caption.caption if rec.caption else ""
        for seg, samples in segment_audio(rec):
            yield {
                "audio": {"array": samples, "sampling_rate": SAMPLE_RATE},
                "recording_id": rec.recording.recording_id,
                "segment_id": seg.segment.segment_id,
                "uri": rec.recording.uri,
                "start_s": seg.segment.start_s,
                "end_s": seg.segment.end_s,
                "branches": list(seg.segment.branches),
                "text": seg.speech.text if seg.speech else "",
                "language": seg.speech.language if seg.speech else None,
                "caption": caption,
                "annotations": to_json(seg.annotations()),  # every branch row, as JSON
            }


def export_hf(out: Path | str, to: Path) -> dict:
    import datasets

    features = datasets.Features({
        "audio": datasets.Audio(sampling_rate=SAMPLE_RATE),
        "recording_id": datasets.Value("string"), "segment_id": datasets.Value("string"), "uri": datasets.Value("string"),
        "start_s": datasets.Value("float64"), "end_s": datasets.Value("float64"),
        "branches": datasets.Sequence(datasets.Value("string")), "text": datasets.Value("string"),
        "language": datasets.Value("string"), "caption": datasets.Value("string"), "annotations": datasets.Value("string"),
    })
    cache = Path(tempfile.mkdtemp(prefix="moss-hf-"))  # the generator's Arrow cache, not the user's HF cache
    try:
        ds = datasets.Dataset.from_generator(_rows, gen_kwargs={"out": out}, features=features, cache_dir=str(cache))
        ds.save_to_disk(str(to))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"format": "hf", "path": str(to), "rows": len(ds)}
