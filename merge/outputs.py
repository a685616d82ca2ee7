"""Everything the branches produced for one recording: the merger's input."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.music import MusicRow
from schemas.recordings import RecordingRow
from schemas.segments import SegmentRow
from schemas.sound import SoundRow
from schemas.speech import SpeechRow


@dataclass(frozen=True)
class RecordingOutputs:
    recording: RecordingRow
    segments: list[SegmentRow]
    speech: list[SpeechRow]
    music: list[MusicRow]
    sound: list[SoundRow]

    def model_ids(self) -> list[str]:
        """Every branch model whose rows were used, sorted (stable across runs)."""
        rows = [*self.speech, *self.music, *self.sound]
        return sorted({r.model_id for r in rows if r.model_id})

    def duration_s(self) -> float | None:
        return self.recording.duration_s
