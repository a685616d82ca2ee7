"""SFT task builders, registered by name; `merge.sft_tasks` in pipeline.yaml picks which run.

Times in responses are seconds from the start of the example's audio span (the model only hears
that span); `Example.start_s` is that span's start in the recording.
"""

from __future__ import annotations

from collections import defaultdict

from merge.caption import build_template, describe
from merge.events import Event, branch_key, join_words, tag_name
from merge.faithfulness import RECORDING_KEY
from merge.labels import SoundPhrase, instruments, phrase_for
from merge.sft_base import Example, SftContext, Window, register_task
from merge.speech_attrs import speech_attributes
from merge.text import capitalize, fmt_span, fmt_time, join_and

CAPTION_PROMPT = "Describe this audio in detail, in time order, giving the time span of every event."
TIMELINE_PROMPT = "List every event in this audio with its start and end time in seconds, one per line."
ASR_PROMPT = "Transcribe the speech in this audio with timestamps."
DIARIZED_PROMPT = ("Transcribe the conversation with timestamps, one line per speaker turn as [start][speaker]text[end], "
                   "labelling the speakers S01, S02, ... in order of appearance.")
MUSIC_PROMPTS = {
    "tempo": "What is the tempo of this music?",
    "key": "What key is this music in?",
    "instruments": "Which instruments can be heard in this music?",
    "caption": "Describe this music.",
}
SENTENCE_END = (".", "?", "!")


def _ex(w: Window, prompt: str, response: str, events: list[Event] | tuple[Event, ...]) -> Example:
    return Example(prompt, response, w.start_s, w.end_s, tuple(e.key for e in events) or (RECORDING_KEY,))


def _speech(w: Window) -> list[Event]:
    return [e for e in w.events if e.branch == "speech"]


@register_task("captioning")
def captioning(ctx: SftContext) -> list[Example]:
    out = []
    for w in ctx.windows:
        if w.whole and not w.relabelled:
            text = ctx.caption.caption
        else:
            text = build_template(list(w.events), w.end_s - w.start_s, ctx.cfg.time_decimals).caption
        out.append(_ex(w, CAPTION_PROMPT, text, w.events))
    return out


@register_task("timeline")
def timeline(ctx: SftContext) -> list[Example]:
    d = ctx.cfg.time_decimals
    return [
        _ex(w, TIMELINE_PROMPT, build_template(list(w.events), None, d).timeline_text, w.events)
        for w in ctx.windows
        if w.events
    ]


def asr_pieces(e: Event) -> list[tuple[float, float, str]]:
    """Sentences of a speech event with their times (from its words), or the whole event."""
    if not e.words:
        return [(e.start_s, e.end_s, " ".join(e.text.split()))] if e.text.strip() else []
    pieces, current = [], []
    for word in e.words:
        current.append(word)
        if word.word.strip().endswith(SENTENCE_END):
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return [(p[0].start_s, p[-1].end_s, join_words(p)) for p in pieces if join_words(p)]


@register_task("timestamped_asr")
def timestamped_asr(ctx: SftContext) -> list[Example]:
    d = ctx.cfg.time_decimals
    out = []
    for w in ctx.windows:
        speech = [e for e in _speech(w) if e.text.strip()]
        pieces = sorted(p for e in speech for p in asr_pieces(e))
        if pieces:
            text = "".join(f"[{fmt_time(s, d)}]{t}[{fmt_time(e, d)}]" for s, e, t in pieces)
            out.append(_ex(w, ASR_PROMPT, text, speech))
    return out


@register_task("diarized_asr")
def diarized_asr(ctx: SftContext) -> list[Example]:
    """MOSS-Transcribe-Diarize's form: one line per speaker turn, `[0.48][S01]Welcome everyone[1.66]`."""
    d = ctx.cfg.time_decimals
    out = []
    for w in ctx.windows:
        speech = [e for e in _speech(w) if e.text.strip()]
        if not speech or any(not e.speaker for e in speech):
            continue
        turns: list[list] = []  # [speaker, start, end, texts]: consecutive rows of one speaker are one turn
        for e in sorted(speech, key=lambda e: (e.start_s, e.end_s)):
            if turns and turns[-1][0] == e.speaker:
                turns[-1][2] = max(turns[-1][2], e.end_s)
                turns[-1][3].append(" ".join(e.text.split()))
            else:
                turns.append([e.speaker, e.start_s, e.end_s, [" ".join(e.text.split())]])
        text = "\n".join(f"[{fmt_time(a, d)}][{spk}]{' '.join(texts)}[{fmt_time(b, d)}]" for spk, a, b, texts in turns)
        out.append(_ex(w, DIARIZED_PROMPT, text, speech))
    return out


def _when_groups(w: Window) -> dict[str, list[Event]]:
    """When-question -> its events, in time order: each sound (labels worded alike share one question,
    e.g. "Dog" and "Bark"), each speaker, music."""
    groups: dict[str, list[Event]] = defaultdict(list)
    for e in w.events:
        if e.branch == "sound":
            groups[phrase_for(e.label).when_question()].append(e)
        elif e.branch == "speech" and e.speaker:
            groups[f"When does {e.speaker} speak?"].append(e)
        elif e.branch == "music":
            groups["When does music play?"].append(e)
    return groups


@register_task("time_qa")
def time_qa(ctx: SftContext) -> list[Example]:
    d = ctx.cfg.time_decimals
    out = []
    for w in ctx.windows:
        for question, events in _when_groups(w).items():
            # One event per line, `start - end: event` in plain decimal seconds (MOSS-Audio's time-aware form).
            answer = "\n".join(f"{fmt_span(e.start_s, e.end_s, d)}: {describe(e)}" for e in events)
            out.append(_ex(w, question, answer, events))
    return out


@register_task("event_counting")
def event_counting(ctx: SftContext) -> list[Example]:
    out = []
    for w in ctx.windows:
        by_phrase: dict[SoundPhrase, list[Event]] = defaultdict(list)
        for e in w.events:
            if e.branch == "sound":
                by_phrase[phrase_for(e.label)].append(e)
        for ph, events in by_phrase.items():
            total = sum(e.count for e in events) if ph.countable else len(events)
            out.append(_ex(w, ph.count_question(), str(total), events))
    return out


@register_task("speech_attribute_qa")
def speech_attribute_qa(ctx: SftContext) -> list[Example]:
    """One question per measured attribute of a single-speaker speech row; null attributes are skipped."""
    split_rows = {e.source_segment_id for e in ctx.events if e.split_turn}
    out = []
    for row in ctx.outputs.speech:
        if row.segment_id in split_rows or len(set(row.speakers)) > 1:
            continue  # the row's attributes may belong to only one of its speakers
        for attr in speech_attributes(row):
            key = branch_key("speech", row.segment_id)
            out.append(Example(attr.question, attr.answer, row.start_s, row.end_s, (key,)))
    return out


@register_task("music_qa")
def music_qa(ctx: SftContext) -> list[Example]:
    out = []
    for row in ctx.outputs.music:
        answers = {}
        if row.tempo_bpm:
            answers["tempo"] = f"About {row.tempo_bpm:.0f} BPM."
        if row.key:
            answers["key"] = " ".join(p for p in (row.key, row.mode) if p) + "."
        names = instruments([tag_name(t.label) for t in sorted(row.tags, key=lambda t: -t.score)])
        if names:
            answers["instruments"] = capitalize(join_and(list(dict.fromkeys(names)))) + "."
        if row.caption.strip():
            answers["caption"] = " ".join(row.caption.split())
        for kind, answer in answers.items():
            key = branch_key("music", row.segment_id)
            out.append(Example(MUSIC_PROMPTS[kind], answer, row.start_s, row.end_s, (key,)))
    return out
