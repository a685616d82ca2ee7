"""Realistic branch outputs for tests and examples: from the corpus truth, or hand-built.

`outputs_from_truth` turns one `truth.jsonl` scene into the rows the branches would produce if they
were perfect: speech events -> SpeechRow (speakers S01.. in order of appearance), music ->
MusicRow (tempo, instruments as tags), sound -> SoundRow with one event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from merge.outputs import RecordingOutputs
from schemas.common import LabelScore, segment_id
from schemas.music import MusicRow
from schemas.recordings import RecordingRow
from schemas.segments import SegmentRow
from schemas.sound import SoundEvent, SoundRow
from schemas.speech import SpeechRow, Word

TRUTH_MODEL = "corpus-truth"


def outputs_from_truth(rec: dict[str, Any], uri: str | None = None) -> RecordingOutputs:
    """`rec`: a truth.jsonl line (or any dict with `file` and `events`; `duration` defaults to the last end)."""
    rid = rec.get("scene") or Path(rec["file"]).stem
    speakers: dict[str, str] = {}
    segments, speech, music, sound = [], [], [], []
    for ev in rec["events"]:
        start, end, kind = float(ev["start"]), float(ev["end"]), ev["kind"]
        sid = segment_id(rid, start, end)
        if kind == "speech":
            spk = speakers.setdefault(ev["label"], f"S{len(speakers) + 1:02d}")
            speech.append(SpeechRow(rid, sid, start, end, ev.get("text") or "", ev.get("language", "en"),
                                    TRUTH_MODEL, speaker=spk, speakers=[spk]))
        elif kind == "music":
            tags = [LabelScore(i, 1.0) for i in ev.get("instrument") or []]
            music.append(MusicRow(rid, sid, start, end, TRUTH_MODEL, tempo_bpm=ev.get("tempo_bpm"), tags=tags))
        else:
            sound.append(SoundRow(rid, sid, start, end, TRUTH_MODEL, events=[SoundEvent(ev["label"], start, end, 1.0)]))
        segments.append(SegmentRow(rid, sid, start, end, [kind]))
    duration = float(rec.get("duration") or max((e["end"] for e in rec["events"]), default=0.0))
    recording = RecordingRow(rid, uri or rec["file"], "ok", duration_s=duration,
                             sample_rate=rec.get("sample_rate"), channels=rec.get("channels"),
                             num_segments=len(segments))
    return RecordingOutputs(recording, segments, speech, music, sound)


def _words(text: str, start: float, end: float, speaker: str | None) -> list[Word]:
    """Evenly spaced Whisper-style words (leading spaces) over [start, end]."""
    parts = text.split()
    step = (end - start) / len(parts)
    return [Word(" " + w, start + i * step, start + (i + 1) * step, 0.9, speaker) for i, w in enumerate(parts)]


def example_outputs(recording_id: str = "meeting_01") -> RecordingOutputs:
    """A hand-built meeting: a jingle, two speakers (one row with a speaker change inside its words),
    a phone ringing twice over speech, a door slam in a pause, and a sound row with no events."""
    rid = recording_id
    sid = lambda a, b: segment_id(rid, a, b)  # noqa: E731
    jingle = MusicRow(rid, sid(0.0, 6.5), 0.0, 6.5, "musicnn-msd", tempo_bpm=96.2, key="D", mode="major",
                      tags=[LabelScore("piano", 0.81), LabelScore("pop", 0.55), LabelScore("drums", 0.42)],
                      caption="A short upbeat piano jingle")
    s1_words = _words("Good morning everyone. Let's start with the budget.", 7.0, 10.4, "S01")
    turn = _words("Sure, I have the numbers.", 10.9, 12.6, "S02")
    speech = [
        SpeechRow(rid, sid(7.0, 12.6), 7.0, 12.6, "Good morning everyone. Let's start with the budget. "
                  "Sure, I have the numbers.", "en", "openai/whisper-base", words=s1_words + turn,
                  speaker="S01", speakers=["S01", "S02"]),
        SpeechRow(rid, sid(13.2, 21.9), 13.2, 21.9, "Revenue grew by twelve percent this quarter.", "en",
                  "openai/whisper-base", words=_words("Revenue grew by twelve percent this quarter.", 13.2, 21.9,
                                                      "S02"), speaker="S02", speakers=["S02"]),
    ]
    sound = [
        SoundRow(rid, sid(13.2, 21.9), 13.2, 21.9, "yamnet", events=[
            SoundEvent("Telephone bell ringing", 15.1, 16.4, 0.71),
            SoundEvent("Telephone bell ringing", 16.9, 18.2, 0.66)]),
        SoundRow(rid, sid(22.3, 23.4), 22.3, 23.4, "yamnet", events=[SoundEvent("door_slam", 22.35, 23.1, 0.8)]),
        SoundRow(rid, sid(24.0, 26.0), 24.0, 26.0, "yamnet", events=[]),
    ]
    segments = [SegmentRow(rid, s.segment_id, s.start_s, s.end_s, ["sound"]) for s in sound]
    segments += [SegmentRow(rid, jingle.segment_id, 0.0, 6.5, ["music"])]
    segments += [SegmentRow(rid, s.segment_id, s.start_s, s.end_s, ["speech"]) for s in speech]
    recording = RecordingRow(rid, f"s3://bucket/{rid}.wav", "ok", duration_s=27.0, sample_rate=16000,
                             channels=1, num_segments=len(segments))
    return RecordingOutputs(recording, sorted(segments, key=lambda s: s.start_s), speech, [jingle], sound)
