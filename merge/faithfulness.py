"""Is a caption faithful to the branch rows? Every statement is traced to the events it states.

Works on free text (an LLM rewrite) as well as on the template. A caption is flagged when:
- an event is dropped (no statement gives its span and names it), or stated twice;
- a span or time matches no event edge, or a span's event is not named in that statement;
- it names a tempo, key, speaker, quotation or sound source that no row of the recording supports;
- a statement is tied to no event at all (when `require_statement_links`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from merge.caption import CONTEXT_WORDS, CONTINUE_GAP_S, join_texts
from merge.events import Event, continues
from merge.labels import EVENT_WORDS, label_terms, phrase_for, phrase_terms
from merge.text import contains_stem, fmt_span, stem, stem_set, tokens

if TYPE_CHECKING:
    from merge.config import MergeConfig

RECORDING_KEY = "recording"  # link of a statement about the whole recording (e.g. "no events")
MUSIC_WORDS = frozenset(stem(w) for w in ("music", "song", "melody", "tune", "instrumental", "jingle"))
SPEECH_WORDS = frozenset(stem(w) for w in ("speech", "speak", "talk", "voice", "say", "speaker"))
NEGATIONS = frozenset({"no", "not", "without", "never", "none", "nothing"})
NEGATION_WINDOW = 4  # words after a negation that are not claims ("no speech, music or sound")

_NUM = r"(?<![\w.])(\d+(?:\.\d+)?)"
_UNIT = r"(?:\s*(?:s|sec|secs|seconds)\b)?"
# the template's "While <ongoing event>, ..." (or its other connectives)
_CONTEXT_CLAUSE = re.compile(rf"^\s*(?:{'|'.join(CONTEXT_WORDS)}) [^,]*,\s*")
_SPAN = re.compile(
    rf"(?:between\s+{_NUM}{_UNIT}\s+and\s+{_NUM})|(?:{_NUM}{_UNIT}\s*(?:-|–|—|to|until|till)\s*{_NUM})", re.I
)
_TEMPO = re.compile(rf"{_NUM}\s*(?:bpm|beats per minute)\b", re.I)
_SINGLE = re.compile(rf"{_NUM}(\s*(?:s|sec|secs|seconds)\b)?", re.I)
_KEY = re.compile(r"\b([A-G])(#|♯|b|♭)?\s+((?i:major|minor))\b")
_SPEAKER = re.compile(r"\bS\d{2,}\b")
_QUOTE = re.compile(r'"([^"]*)"|“([^”]*)”')
_MASK = " \u2026 "
SHORT_QUOTE = 60  # characters of a statement or quotation repeated in an issue


@dataclass(frozen=True)
class StatementLink:
    statement: str
    event_keys: list[str] = field(default_factory=list)
    segment_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FaithfulnessReport:
    faithful: bool
    issues: list[str]
    links: list[StatementLink]


@dataclass(frozen=True)
class _Statement:
    index: int
    text: str
    masked: str  # quotations replaced, so their words and numbers are not read as claims
    quotes: list[str]
    stems: set[str]  # of the whole statement, quotations included
    claimed: set[str]  # stems outside quotations: words of a transcript name no sound


@dataclass(frozen=True)
class _Edges:
    """Events sorted by one edge (start or end), to find those near a stated time by bisection."""

    times: list[float]
    events: list[Event]

    @classmethod
    def of(cls, events: Sequence[Event], edge: str) -> _Edges:
        pairs = sorted(((getattr(e, edge), i) for i, e in enumerate(events)))
        return cls([t for t, _ in pairs], [events[i] for _, i in pairs])

    def near(self, t: float, tol: float) -> list[Event]:
        return self.events[bisect_left(self.times, t - tol) : bisect_right(self.times, t + tol)]


@dataclass
class _Support:
    events: Sequence[Event]
    starts: _Edges
    ends: _Edges
    duration_s: float | None
    cfg: MergeConfig
    stems: set[str]
    speakers: set[str]
    tempos: list[float]
    keys: set[str]
    quotable: dict[str, list[str]]  # event key -> its transcript / music caption as " word word ... "


def split_statements(text: str) -> list[str]:
    """Lines, then sentences; a sentence ends at . ! ? followed by a space, never inside a quotation."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(_sentences(line))
    return [s.strip() for s in out if s.strip()]


def _sentences(line: str) -> list[str]:
    parts, start, in_quote = [], 0, False
    for i, ch in enumerate(line):
        if ch == '"':
            in_quote = not in_quote
        elif ch in "“”":
            in_quote = ch == "“"
        elif ch in ".!?" and not in_quote and (i + 1 == len(line) or line[i + 1].isspace()):
            parts.append(line[start : i + 1])
            start = i + 1
    parts.append(line[start:])
    return parts


def check_caption(
    text: str,
    events: Sequence[Event],
    duration_s: float | None,
    cfg: MergeConfig,
    extra_terms: Iterable[str] = (),
) -> FaithfulnessReport:
    support = _support(events, duration_s, cfg, extra_terms)
    issues: list[str] = []
    links: list[StatementLink] = []
    span_links: dict[str, int] = {}
    linked: set[str] = set()
    segment_of_key = {e.key: e.source_segment_id for e in events}
    for i, raw in enumerate(split_statements(text), start=1):
        st = _parse(i, raw)
        keys, spanned = _trace(st, support, issues)
        _check_claims(st, support, keys, issues)
        if not keys and events and cfg.require_statement_links:
            issues.append(f'statement {i} is tied to no event: "{_short(raw)}"')
        for k in spanned:
            span_links[k] = span_links.get(k, 0) + 1
        linked.update(keys)
        segs = list(dict.fromkeys(segment_of_key[k] for k in keys if k in segment_of_key))
        links.append(StatementLink(raw, keys, segs))
    for e in events:
        span = fmt_span(e.start_s, e.end_s, cfg.time_decimals)
        if e.key not in linked:
            issues.append(f"dropped event: {_desc(e)} ({span})")
        elif span_links.get(e.key, 0) > 1:
            issues.append(f"event stated more than once: {_desc(e)} ({span})")
    return FaithfulnessReport(not issues, issues, links)


def _support(events: Sequence[Event], duration_s: float | None, cfg: MergeConfig, extra: Iterable[str]) -> _Support:
    stems: set[str] = set()
    for e in events:
        stems.update(label_terms(e.label) if e.branch == "sound" else ())
        stems.update(phrase_terms(e.label) if e.branch == "sound" else ())
        stems.update(stem_set(" ".join((e.text, e.caption, *e.tags))))
        stems.update(MUSIC_WORDS if e.branch == "music" else SPEECH_WORDS if e.branch == "speech" else ())
    for term in extra:
        stems.update(stem_set(term))
    quotable = {e.key: [_token_line(t) for t in (e.text, e.caption) if t.strip()] for e in events}
    return _Support(
        events=events,
        starts=_Edges.of(events, "start_s"),
        ends=_Edges.of(events, "end_s"),
        duration_s=duration_s,
        cfg=cfg,
        stems=stems,
        speakers={e.speaker for e in events if e.speaker},
        tempos=[e.tempo_bpm for e in events if e.tempo_bpm],
        keys={_norm_key(e.key_name) for e in events if e.key_name},
        quotable=quotable,
    )


def _parse(index: int, raw: str) -> _Statement:
    quotes = [a or b for a, b in _QUOTE.findall(raw)]
    masked = _QUOTE.sub(_MASK, raw)
    return _Statement(index, raw, masked, quotes, stem_set(raw), stem_set(masked))


def _trace(st: _Statement, sp: _Support, issues: list[str]) -> tuple[list[str], list[str]]:
    """Event keys the statement states (by span, or by a single edge time) and those stated by span."""
    spanned: list[str] = []
    for m in _SPAN.finditer(st.masked):
        a, b = (float(x) for x in m.groups() if x is not None)
        spanned.extend(_trace_span(st, sp, a, b, issues))
    keys = list(spanned)
    rest = _TEMPO.sub(_MASK, _SPAN.sub(_MASK, st.masked))
    for m in _SINGLE.finditer(rest):
        number, unit = m.group(1), m.group(2)
        if unit and "".join(m.group(0).lower().split()) in sp.stems:
            continue  # a word of the rows, such as the music tag "80s"
        if "." in number or unit:
            keys.extend(_trace_time(st, sp, float(number), issues))
    if not keys and _SPAN.search(st.masked) and _is_recording_span(st, sp):
        keys.append(RECORDING_KEY)
    return list(dict.fromkeys(keys)), spanned


def _near(a: float, b: float, sp: _Support) -> bool:
    return abs(a - b) <= sp.cfg.time_tolerance_s


def _trace_span(st: _Statement, sp: _Support, a: float, b: float, issues: list[str]) -> list[str]:
    cands = [e for e in sp.starts.near(a, sp.cfg.time_tolerance_s) if _near(e.end_s, b, sp)]
    named = [e for e in cands if _mentioned(e, st, sp)]
    # "While music plays, a bell rings (0.51 - 3.00)" also names the music (0.50 - 3.00): a span stated
    # exactly as an event's own span belongs to that event, not to one that merely lies within tolerance.
    exact = [e for e in named if _states_span_of(e, a, b, sp)]
    if len(exact) > 1:  # two events with the very same span: the one the main clause names, not the context
        main = _main_clause(st)
        exact = [e for e in exact if _mentioned(e, main, sp)] or exact
    named = [e.key for e in (exact or named)]
    if not cands and (run := _repeated_run(st, sp, a, b) or _continued_run(st, sp, a, b)):
        return run
    if cands and not named:
        issues.append(f"statement {st.index}: span {a:g} - {b:g} is {_desc(cands[0])}, which it does not name")
    elif not cands and not (sp.duration_s and _near(a, 0.0, sp) and _near(b, sp.duration_s, sp)):
        issues.append(f"statement {st.index}: span {a:g} - {b:g} is not the span of any event")
    return named


def _repeated_run(st: _Statement, sp: _Support, a: float, b: float) -> list[str]:
    """A span from the start of one sound to the end of a later one said by the same phrase ("a dog barks
    three times (12.40 - 15.80)"): it states every event of that phrase inside it."""
    tol = sp.cfg.time_tolerance_s
    for first in sp.starts.near(a, tol):
        if first.branch != "sound" or not _mentioned(first, st, sp):
            continue
        said = phrase_for(first.label)
        run = [e for e in sp.events if e.branch == "sound" and phrase_for(e.label) == said
               and e.start_s >= first.start_s - tol and e.end_s <= b + tol]
        if len(run) > 1 and _near(max(e.end_s for e in run), b, sp):
            return [e.key for e in run]
    return []


def _continued_run(st: _Statement, sp: _Support, a: float, b: float) -> list[str]:
    """A span from the start of one speech or music event to the end of a later one that carries it on
    across segment cuts (`merge.events.continues`: same branch, back to back, the same speaker): it states
    every event of that chain, each of which the statement must name."""
    tol = sp.cfg.time_tolerance_s
    for first in sp.starts.near(a, tol):
        if first.branch == "sound":
            continue
        chain, gap = [first], max(tol, CONTINUE_GAP_S)
        for e in sp.events:  # time-ordered
            if e.start_s > chain[-1].end_s + gap or _near(chain[-1].end_s, b, sp):
                break
            if e.start_s > chain[-1].start_s and continues(chain[-1], e, gap):
                chain.append(e)
        if len(chain) > 1 and _near(chain[-1].end_s, b, sp) and all(_mentioned(e, st, sp) for e in chain):
            return [e.key for e in chain]
    return []


def _main_clause(st: _Statement) -> _Statement:
    """The statement without a leading context clause ("While music plays, a bell rings (...)")."""
    m = _CONTEXT_CLAUSE.match(st.text)
    return _parse(st.index, st.text[m.end():]) if m else st


def _states_span_of(e: Event, a: float, b: float, sp: _Support) -> bool:
    decimals = sp.cfg.time_decimals
    return fmt_span(e.start_s, e.end_s, decimals) == fmt_span(a, b, decimals)


def _is_recording_span(st: _Statement, sp: _Support) -> bool:
    for m in _SPAN.finditer(st.masked):
        a, b = (float(x) for x in m.groups() if x is not None)
        if sp.duration_s and _near(a, 0.0, sp) and _near(b, sp.duration_s, sp):
            return True
    return False


def _trace_time(st: _Statement, sp: _Support, t: float, issues: list[str]) -> list[str]:
    tol = sp.cfg.time_tolerance_s
    cands = list({e.key: e for e in [*sp.starts.near(t, tol), *sp.ends.near(t, tol)]}.values())
    if not cands and not (_near(t, 0.0, sp) or (sp.duration_s and _near(t, sp.duration_s, sp))):
        issues.append(f"statement {st.index}: time {t:g} is not the start or end of any event")
    return [e.key for e in cands if _mentioned(e, st, sp)]


def _mentioned(e: Event, st: _Statement, sp: _Support) -> bool:
    if e.branch == "music":
        return any(contains_stem(st.claimed, w) for w in MUSIC_WORDS)
    if e.branch == "speech":
        if e.speaker and e.speaker not in _SPEAKER.findall(st.masked):
            return False
        words = set(tokens(e.text))
        return _overlap(words, set(tokens(st.text))) >= sp.cfg.min_speech_word_overlap
    for terms in (label_terms(e.label), phrase_terms(e.label)):
        if all(contains_stem(st.claimed, t) for t in terms):
            return True
    return False


def _overlap(needed: set[str], have: set[str]) -> float:
    return len(needed & have) / len(needed) if needed else 1.0


def _check_claims(st: _Statement, sp: _Support, keys: list[str], issues: list[str]) -> None:
    """Tempos, keys, speakers, quotations and sound sources the rows do not support."""
    for m in _TEMPO.finditer(st.masked):
        bpm = float(m.group(1))
        if not any(abs(bpm - t) <= sp.cfg.tempo_tolerance_bpm for t in sp.tempos):
            issues.append(f"statement {st.index}: tempo {bpm:g} BPM is in no music row")
    for letter, accidental, mode in _KEY.findall(st.masked):
        key = _norm_key(f"{letter}{accidental} {mode}")
        if key not in sp.keys:
            issues.append(f"statement {st.index}: key {letter}{accidental} {mode} is in no music row")
    for spk in dict.fromkeys(_SPEAKER.findall(st.masked)):
        if spk not in sp.speakers:
            issues.append(f"statement {st.index}: speaker {spk} is in no speech row")
    own = [src for k in keys for src in sp.quotable.get(k, ())]
    joined = [_token_line(join_texts([src for k in keys for src in sp.quotable.get(k, ())[:1]]))] if len(keys) > 1 else []
    for q in st.quotes:
        if not _quoted_verbatim(q, own + joined) and not any(
            _quoted_verbatim(q, srcs) for srcs in sp.quotable.values()
        ):
            issues.append(f'statement {st.index}: quotation "{_short(q)}" is in no transcript')
    for word in _claimed_words(st.masked):
        s = stem(word)
        if s in EVENT_WORDS and not contains_stem(sp.stems, s):
            issues.append(f'statement {st.index}: "{word}" is named, but no branch row supports it')


def _token_line(text: str) -> str:
    return " " + " ".join(tokens(text)) + " "


def _quoted_verbatim(quote: str, sources: list[str]) -> bool:
    """Every piece of the quotation (pieces split at an ellipsis) is a run of words of one source."""
    pieces = [_token_line(p) for p in re.split(r"\.\.\.|\u2026", quote) if tokens(p)]
    return all(any(piece in src for src in sources) for piece in pieces)


def _claimed_words(text: str) -> list[str]:
    """Words of the statement outside quotations, minus those just after a negation."""
    out, last_neg = [], -NEGATION_WINDOW - 1
    for i, w in enumerate(tokens(text)):
        if w in NEGATIONS:
            last_neg = i
        elif i - last_neg > NEGATION_WINDOW:
            out.append(w)
    return list(dict.fromkeys(out))


def _norm_key(key: str | None) -> str:
    return (key or "").replace("♯", "#").replace("♭", "b").lower().strip()


def _desc(e: Event) -> str:
    if e.branch == "speech":
        return f"speech by {e.speaker or 'an unknown speaker'}"
    if e.branch == "music":
        return "music"
    return f'sound "{e.label}"'


def _short(text: str) -> str:
    return text if len(text) <= SHORT_QUOTE else text[: SHORT_QUOTE - 1] + "\u2026"
