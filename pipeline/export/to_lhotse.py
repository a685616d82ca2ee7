"""lhotse manifests: a RecordingSet of the source files, a SupervisionSet of the speech rows (text, language,
speaker, word alignment) and a CutSet with one cut per segment (branch rows and caption as custom fields)."""

from __future__ import annotations

from pathlib import Path

from pipeline.export.records import iter_recordings

RECORDINGS, SUPERVISIONS, CUTS = "recordings.jsonl.gz", "supervisions.jsonl.gz", "cuts.jsonl.gz"


def export_lhotse(out: Path | str, to: Path) -> dict:
    from lhotse import AudioSource, CutSet, MonoCut, Recording, RecordingSet, SupervisionSegment, SupervisionSet
    from lhotse.supervision import AlignmentItem

    recordings, supervisions, cuts = [], [], []
    for rec in iter_recordings(out):
        r = rec.recording
        sr, channels = int(r.sample_rate or 16000), int(r.channels or 1)
        recording = Recording(
            id=r.recording_id, sources=[AudioSource(type="file", channels=list(range(channels)), source=r.uri)],
            sampling_rate=sr, num_samples=round(r.duration_s * sr), duration=r.duration_s,
        )
        recordings.append(recording)
        for seg in rec.segments:
            s = seg.segment
            sups = []
            if seg.speech is not None and seg.speech.text.strip():
                words = [AlignmentItem(symbol=w.word.strip(), start=w.start_s, duration=max(w.end_s - w.start_s, 0.0), score=w.prob)
                         for w in seg.speech.words]
                sup = SupervisionSegment(
                    id=s.segment_id, recording_id=r.recording_id, start=s.start_s, duration=seg.duration_s, channel=0,
                    text=seg.speech.text.strip(), language=seg.speech.language, speaker=seg.speech.speaker,
                    alignment={"word": words} if words else None,
                )
                supervisions.append(sup)
                sups.append(sup.with_offset(-s.start_s))  # a cut's supervisions are in cut time
            cuts.append(MonoCut(
                id=s.segment_id, start=s.start_s, duration=seg.duration_s, channel=0, recording=recording, supervisions=sups,
                custom={"branches": list(s.branches), "caption": rec.caption.caption if rec.caption else None,
                        **{k: v for k, v in seg.annotations().items() if v is not None}},
            ))
    RecordingSet.from_recordings(recordings).to_file(to / RECORDINGS)
    SupervisionSet.from_segments(supervisions).to_file(to / SUPERVISIONS)
    CutSet.from_cuts(cuts).to_file(to / CUTS)
    return {"format": "lhotse", "recordings": len(recordings), "supervisions": len(supervisions), "cuts": len(cuts),
            "files": [str(to / f) for f in (RECORDINGS, SUPERVISIONS, CUTS)]}
