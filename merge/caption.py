"""The deterministic template caption: every event once, time-ordered, with its span; overlaps said as such.

    Music plays with acoustic grand piano at about 120 BPM (3.00 - 35.11).
    S01 says "Congratulations." (1.00 - 30.91). While S01 speaks, a phone rings twice (7.00 - 9.98).

A sound repeated at once (the same phrase, under GROUP_GAP_S apart, nothing else starting in between) is
said once for the whole run, with the count. A speaker's utterance, or a piece of music, that a segment cut
split (the segmenter cuts at every sound onset, so a ring under speech splits the sentence) is said once
over its whole span; the timeline keeps one line per event.

and the timeline form, one event per line: `7.00 - 8.39: a phone rings`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from merge.events import Event, continues, overlap_contexts
from merge.labels import instruments, phrase_for
from merge.text import capitalize, clean_quote, fmt_span, join_and
from schemas.captions import TimelineEvent

NO_EVENTS = "No speech, music or sound events were detected in this recording"


@dataclass(frozen=True)
class TemplateCaption:
    caption: str
    timeline_text: str
    timeline: list[TimelineEvent]
    statements: list[tuple[str, list[str]]]  # each sentence and the event keys it states


def describe(e: Event, repeated: bool = False) -> str:
    """The event as a clause, without its span: 'S01 says "hello"', 'a dog barks', 'music plays ...'.

    `repeated`: a sound said before ("a phone rings again"), music that goes on from where the previous
    music stopped ("the music continues"), or a speaker who also spoke in the statement before
    ('S01 goes on: "..."').
    """
    if e.branch == "speech":
        who = e.speaker or "someone"
        if not e.text.strip():  # e.g. a hallucination guard dropped the text
            return f"{who} speaks, but no words were recognised"
        verb = "goes on:" if repeated and e.speaker else "says"
        return f'{who} {verb} "{clean_quote(e.text)}"'
    if e.branch == "music":
        return _describe_music(e, repeated)
    return _describe_sound(e, repeated)


TIMES_WORDS = {2: "twice", 3: "three times"}
CONTINUE_GAP_S = 0.1  # music starting this close to the end of earlier music continues it
GROUP_GAP_S = 2.0  # repetitions of a sound this close together are one statement ("a dog barks three times")
MAX_JOINED_S = 30.0  # an utterance is joined across cuts up to this span: a monologue cut every 30 s stays
# a statement per cut, so the events inside it are said near the words they overlap (music has no limit)


def _repeats(prev: Event, e: Event) -> bool:
    """`e` is the same countable sound again, right after `prev`."""
    return (e.branch == prev.branch == "sound" and not (e.background or prev.background)
            and phrase_for(e.label) == phrase_for(prev.label) and phrase_for(e.label).countable
            and e.start_s - prev.end_s <= GROUP_GAP_S)


def _goes_on(prev: Event, e: Event) -> bool:
    """`e` carries on `prev` across a segment cut: the same speaker talking on (a sound event cut the speech
    there), or the same music with the same description."""
    if not continues(prev, e, CONTINUE_GAP_S):
        return False
    if e.branch == "speech":
        return bool(e.text.strip() and prev.text.strip())
    return e.branch == "music" and describe(e) == describe(prev) and e.caption == prev.caption


def caption_groups(events: list[Event]) -> list[list[Event]]:
    """Time-ordered events in groups that are said as one statement: a countable sound repeated right after
    itself ("a dog barks three times"), and a speaker's utterance or a piece of music that a segment cut split
    (other events may start inside it: they are said after it, as overlaps). Groups come in the order of
    their first events."""
    groups: list[list[Event]] = []
    last_of_branch: dict[str, list[Event]] = {}
    for e in events:
        if groups and _repeats(groups[-1][-1], e):
            groups[-1].append(e)
            continue
        same = last_of_branch.get(e.branch)
        if same is not None and _goes_on(same[-1], e) and (e.branch == "music" or
                                                          e.end_s - same[0].start_s <= MAX_JOINED_S):
            same.append(e)
            continue
        groups.append([e])
        last_of_branch[e.branch] = groups[-1]
    return groups


def _times(count: int) -> str:
    return TIMES_WORDS.get(count, f"{count} times")


def _describe_sound(e: Event, repeated: bool, count: int | None = None) -> str:
    """`count`: how many times it sounds, when not the event's own (a run of repetitions, `caption_groups`)."""
    ph = phrase_for(e.label)
    text = ph.statement + (" again" if repeated else "")
    count = count or e.count
    if count >= 2 and ph.countable:
        text += (", " if repeated else " ") + _times(count)
    return text + (" in the background" if e.background else "")


def _describe_music(e: Event, continued: bool) -> str:
    named = instruments(list(e.tags))
    others = [t for t in e.tags if t not in named]
    parts = ["the music continues" if continued else "music plays"]
    if named:
        parts.append(f"with {join_and(named)}")
    if e.tempo_bpm:
        parts.append(f"at about {e.tempo_bpm:.0f} BPM")
    if e.key_name:
        parts.append(f"in {e.key_name}")
    text = " ".join(parts)
    return f"{text}, tagged {join_and(others)}" if others else text


def ongoing(e: Event) -> str:
    """The event as background for an overlap: "while <this>, ..."."""
    if e.branch == "speech":
        return f"{e.speaker or 'someone'} speaks"
    if e.branch == "music":
        return "music plays"
    return phrase_for(e.label).statement


# Overlaps are said "While <ongoing>, <event>" and "As <ongoing>, <event>" in turn: the same fact, less
# monotonous over millions of captions (the faithfulness check reads both as a context clause).
CONTEXT_WORDS = ("While", "As")


def _sentence(e: Event, context: list[Event], repeated: bool, decimals: int, run: list[Event] | None = None,
              connective: str = CONTEXT_WORDS[0]) -> str:
    """One statement: the event, or a group of them (`caption_groups`), with its span."""
    run = run or [e]
    if len(run) > 1 and e.branch == "sound":
        clause = _describe_sound(e, repeated, sum(m.count for m in run))
    elif len(run) > 1 and e.branch == "speech":
        clause = describe(replace(e, text=join_texts([m.text for m in run])), repeated)
    else:
        clause = describe(e, repeated)
    span = f"({fmt_span(run[0].start_s, max(m.end_s for m in run), decimals)})"
    extra = music_extras(e, clause) if e.branch == "music" else ""
    tail = f": {extra}" if extra else ""
    if context:
        background = join_and(list(dict.fromkeys(ongoing(c) for c in context)))
        return f"{connective} {background}, {clause} {span}{tail}."
    return capitalize(f"{clause} {span}{tail}.")


def music_extras(e: Event, clause: str) -> str:
    """What the music row's own caption adds to the clause ("solo keyboard, 4/4, moderately loud"): its
    tempo and key phrases are dropped where the clause already says them."""
    extra = clean_quote(e.caption).rstrip(". ")
    phrases = [f" at about {e.tempo_bpm:.0f} BPM" if e.tempo_bpm else "", f" in {e.key_name}" if e.key_name else ""]
    for phrase in phrases:
        if phrase and phrase in clause:
            extra = extra.replace(phrase, "", 1)
    extra = extra.strip(" ,")
    head, _, rest = extra.partition(", ")
    if head == "music" or head.startswith("music with "):  # the clause already says music (and its instruments)
        extra = rest
    return extra[:1].lower() + extra[1:] if extra[:1].isupper() and not extra[1:2].isupper() else extra


def join_texts(texts: list[str]) -> str:
    """Transcripts of one utterance cut in pieces, joined as one (no space between CJK pieces)."""
    out = ""
    for t in (" ".join(t.split()) for t in texts):
        if out and t:
            out += "" if _unspaced(out[-1]) and _unspaced(t[0]) else " "
        out += t
    return out


def _unspaced(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def build_template(events: list[Event], duration_s: float | None, decimals: int) -> TemplateCaption:
    """`events` must be time-ordered (as `collect_events` returns them)."""
    if not events:
        span = f" ({fmt_span(0.0, duration_s, decimals)})" if duration_s else ""
        text = f"{NO_EVENTS}{span}."
        return TemplateCaption(text, "", [], [(text, [])])
    statements: list[tuple[str, list[str]]] = []
    said_before: set[str] = set()
    music_ends: list[float] = []
    groups = caption_groups(events)
    # overlaps between groups, each group as one event over its whole span
    spans = [replace(g[0], end_s=max(m.end_s for m in g)) for g in groups]
    overlaps_said = 0
    last_speaker: str | None = None  # of the statement before, when it was speech
    for run, context in zip(groups, overlap_contexts(spans), strict=True):
        e = run[0]
        if e.branch == "sound":
            said = phrase_for(e.label).statement
            repeated = said in said_before
            said_before.add(said)
        elif e.branch == "speech":
            repeated = bool(e.speaker) and e.speaker == last_speaker and not context
        else:
            repeated = e.branch == "music" and any(abs(e.start_s - end) <= CONTINUE_GAP_S for end in music_ends)
            music_ends += [m.end_s for m in run] if e.branch == "music" else []
        connective = CONTEXT_WORDS[overlaps_said % len(CONTEXT_WORDS)]
        overlaps_said += bool(context)
        statements.append((_sentence(e, context, repeated, decimals, run, connective), [m.key for m in run]))
        last_speaker = e.speaker if e.branch == "speech" else None
    timeline = [TimelineEvent(e.start_s, e.end_s, e.branch, describe(e), e.source_segment_id) for e in events]
    lines = [f"{fmt_span(e.start_s, e.end_s, decimals)}: {describe(e)}" for e in events]
    return TemplateCaption(" ".join(s for s, _ in statements), "\n".join(lines), timeline, statements)
