"""NeMo ASR manifests: one JSON line per transcribed segment, pointing into the original file by offset."""

from __future__ import annotations

from pathlib import Path

from pipeline.export.records import iter_recordings, to_json

MANIFEST = "manifest.jsonl"


def export_nemo(out: Path | str, to: Path) -> dict:
    """`audio_filepath`, `offset`, `duration`, `text`, `lang`, `speaker`: the keys NeMo's ASR datasets read
    (offset/duration cut the segment from the source file at load time; no audio is copied)."""
    lines = []
    for rec in iter_recordings(out):
        for seg in rec.segments:
            if seg.speech is None or not seg.speech.text.strip():
                continue
            lines.append(to_json({
                "audio_filepath": rec.recording.uri,
                "offset": round(seg.segment.start_s, 3),
                "duration": round(seg.duration_s, 3),
                "text": seg.speech.text.strip(),
                "lang": seg.speech.language,
                "speaker": seg.speech.speaker,
                "segment_id": seg.segment.segment_id,
            }))
    path = to / MANIFEST
    path.write_text("".join(line + "\n" for line in lines))
    return {"format": "nemo", "manifest": str(path), "segments": len(lines)}
