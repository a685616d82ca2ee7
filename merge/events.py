"""Branch rows -> one time-ordered list of events, each keyed back to the row it came from.

Event keys name the branch and the row: a speech or music row is `speech/<segment_id>` or
`music/<segment_id>` (one segment may be in both branches); a speech row whose words carry several
speakers becomes one event per turn (`speech/<segment_id>@t<i>`); each element of a sound row's
`events` is its own event (`sound/<segment_id>#e<i>`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from merge.outputs import RecordingOutputs
from schemas.common import Branch
from schemas.music import MusicRow
from schemas.sound import SoundRow
from schemas.speech import SpeechRow, Word

log = logging.getLogger(__name__)

BRANCH_ORDER: dict[str, int] = {"speech": 0, "music": 1, "sound": 2}
_KEY_SUFFIX = re.compile(r"(@t\d+|#e\d+)$")
_KEY_PREFIX = re.compile(r"^(speech|music|sound)/")


@dataclass(frozen=True)
class Event:
    key: str
    branch: Branch
    start_s: float
    end_s: float
    source_segment_id: str
    model_id: str
    label: str  # sound class, speaker label ("" if unknown) or "music"
    speaker: str | None = None
    text: str = ""  # speech transcript
    words: tuple[Word, ...] = ()
    tags: tuple[str, ...] = ()  # music tags named in the caption, best first
    tempo_bpm: float | None = None
    key_name: str | None = None  # "C major"
    caption: str = ""  # the music row's own caption
    split_turn: bool = False  # a turn cut out of a multi-speaker speech row
    count: int = 1  # sound: separate bursts inside the span ("a phone rings twice")
    background: bool = False  # sound: a steady bed under other events rather than a distinct event

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def segment_of(event_key: str) -> str:
    """The segment id an event key came from."""
    return _KEY_PREFIX.sub("", _KEY_SUFFIX.sub("", event_key))


def branch_key(branch: str, segment_id: str, suffix: str = "") -> str:
    return f"{branch}/{segment_id}{suffix}"


def sort_key(e: Event) -> tuple:
    return (round(e.start_s, 6), round(e.end_s, 6), BRANCH_ORDER[e.branch], e.key)


def collect_events(out: RecordingOutputs, max_tags: int, min_tag_score: float) -> list[Event]:
    events: list[Event] = []
    for row in out.speech:
        events.extend(speech_events(row))
    for row in out.music:
        events.append(music_event(row, max_tags, min_tag_score))
    for row in out.sound:
        events.extend(sound_events(row))
    return sorted(events, key=sort_key)


def speech_events(row: SpeechRow) -> list[Event]:
    turns = _word_turns(row.words)
    if len(turns) <= 1:
        speaker = row.speaker or (turns[0][0] if turns else None) or _single(row.speakers)
        return [
            Event(branch_key("speech", row.segment_id), "speech", row.start_s, row.end_s, row.segment_id, row.model_id,
                  speaker or "", speaker, " ".join(row.text.split()), tuple(row.words))
        ]
    out = []
    for i, (speaker, words) in enumerate(turns):
        start = row.start_s if i == 0 else max(row.start_s, words[0].start_s)
        end = row.end_s if i == len(turns) - 1 else min(row.end_s, words[-1].end_s)
        out.append(
            Event(branch_key("speech", row.segment_id, f"@t{i}"), "speech", start, end, row.segment_id, row.model_id,
                  speaker, speaker, join_words(words), tuple(words), split_turn=True)
        )
    return out


def _single(speakers: list[str]) -> str | None:
    return speakers[0] if len(speakers) == 1 else None


def _word_turns(words: list[Word]) -> list[tuple[str, list[Word]]]:
    """Consecutive words of one speaker; empty when no word carries a speaker.

    A word without a speaker (it fell between diarization turns) stays with the turn it is in.
    """
    known = [w.speaker for w in words if w.speaker]
    if not known:
        return []
    turns: list[tuple[str, list[Word]]] = []
    for w in words:
        speaker = w.speaker or (turns[-1][0] if turns else known[0])
        if turns and turns[-1][0] == speaker:
            turns[-1][1].append(w)
        else:
            turns.append((speaker, [w]))
    return turns


def join_words(words: list[Word] | tuple[Word, ...]) -> str:
    """Whisper words carry their leading space; other ASRs give bare words."""
    if any(w.word.startswith(" ") for w in words):
        return " ".join("".join(w.word for w in words).split())
    return " ".join(w.word.strip() for w in words)


def music_event(row: MusicRow, max_tags: int, min_tag_score: float) -> Event:
    tags = sorted((t for t in row.tags if t.score >= min_tag_score), key=lambda t: -t.score)
    names = [tag_name(t.label) for t in tags if t.label.lower() != "music"]
    key_name = " ".join(p for p in (row.key, row.mode) if p) or None
    return Event(
        branch_key("music", row.segment_id), "music", row.start_s, row.end_s, row.segment_id, row.model_id, "music",
        tags=tuple(dict.fromkeys(names))[:max_tags], tempo_bpm=row.tempo_bpm,
        key_name=key_name if row.key else None, caption=" ".join(row.caption.split()),
    )


def tag_name(label: str) -> str:
    """"Electric_piano" -> "electric piano"; acronyms ("EDM") keep their case."""
    name = " ".join(label.replace("_", " ").split())
    return name if name.isupper() else name.lower()


def sound_events(row: SoundRow) -> list[Event]:
    if not row.events:
        log.debug("sound row %s has no events; nothing to caption", row.segment_id)
    # `count`, `background` and `stated` are read with defaults so that older sound rows still merge. An
    # unstated event (too uncertain to name, even by an ancestor) is not a fact a caption may carry.
    return [
        Event(
            branch_key("sound", row.segment_id, f"#e{i}"), "sound", ev.start_s, ev.end_s, row.segment_id,
            row.model_id, ev.label, count=max(1, int(getattr(ev, "count", 1) or 1)),
            background=bool(getattr(ev, "background", False)),
        )
        for i, ev in enumerate(row.events) if getattr(ev, "stated", True)
    ]


def continues(prev: Event, e: Event, max_gap_s: float) -> bool:
    """`e` follows `prev` in the same branch with at most `max_gap_s` between them (and, for speech, the same
    known speaker): a stretch a segment cut split."""
    if e.branch != prev.branch or not (-1e-6 <= e.start_s - prev.end_s <= max_gap_s):
        return False
    return e.branch != "speech" or bool(e.speaker and e.speaker == prev.speaker)


def overlap_contexts(events: list[Event], eps: float = 1e-6) -> list[list[Event]]:
    """For each event of a time-ordered list, the earlier events still going on when it starts.

    A sweep over start times: an event that has ended by one start has ended by every later one.
    Background beds are left out: they are said once, as background, not under every event.
    """
    active: list[Event] = []
    out = []
    for e in events:
        active = [p for p in active if p.end_s > e.start_s + eps]
        out.append([p for p in active if p.start_s < e.end_s - eps])
        if not e.background:
            active.append(e)
    return out
