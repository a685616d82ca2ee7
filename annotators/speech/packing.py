"""Pack the speech segments of one recording into Whisper windows, and split the transcripts back.

Whisper's encoder always pays for a full 30 s window. Segments of a few seconds are therefore laid end to
end (in time order, the silence between two segments cut down to a short pad) into windows of at most
30 s, each window is transcribed once, and every word goes back to the segment whose audio holds the
word's midpoint. A segment longer than a window is first cut at its quietest moment (`chunking`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from annotators.speech.asr_types import AsrResult, AsrSentence, AsrWord
from annotators.speech.chunking import ChunkRule, chunk_bounds

# Languages written without spaces between words (Whisper's own list in whisper.timing).
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "yue"})


@dataclass(frozen=True)
class PackRule:
    enabled: bool = True  # False: every segment (or chunk of one) gets a window of its own
    max_s: float = 30.0  # Whisper's window
    pad_s: float = 0.3  # room tone (context audio) kept at a window's edges and between two segments
    contiguous_s: float = 0.01  # segments closer than this are joined with no pad
    chunk: ChunkRule = ChunkRule()


@dataclass(frozen=True)
class Piece:
    """A stretch of one segment inside a window."""

    item: int  # index of the segment in the packed group
    segment_offset_s: float  # where the piece starts in its segment
    window_offset_s: float  # where it starts in the window
    duration_s: float

    def holds(self, t: float) -> bool:
        return self.window_offset_s <= t < self.window_offset_s + self.duration_s

    def distance(self, t: float) -> float:
        return max(self.window_offset_s - t, t - (self.window_offset_s + self.duration_s), 0.0)

    def to_segment(self, t: float) -> float:
        local = min(max(t - self.window_offset_s, 0.0), self.duration_s)
        return self.segment_offset_s + local


@dataclass
class Window:
    audio: np.ndarray
    pieces: list[Piece] = field(default_factory=list)


def pack(audios: Sequence[np.ndarray], starts_s: Sequence[float], sample_rate: int, rule: PackRule = PackRule(),
         before: Sequence[np.ndarray | None] | None = None, after: Sequence[np.ndarray | None] | None = None) -> list[Window]:
    """Windows for the segments `audios` of one recording, given in time order (`starts_s`: recording time).

    `before` / `after`: the recording's audio just outside each segment. A window opens and closes on up to
    `pad_s` of that real room tone, and two segments that are not contiguous are joined by the first one's
    tail and the next one's lead-in (silence where no context is given): Whisper tends to drop a word that
    starts on the very first sample of a window. Pads belong to no segment."""
    ends_s = [start + len(a) / sample_rate for start, a in zip(starts_s, audios)]
    gaps = [max(0.0, b - a) for a, b in zip(ends_s[:-1], starts_s[1:])]
    # Context never reaches into a neighbouring segment: its words would be heard twice.
    reach_before = [np.inf, *gaps]
    reach_after = [*gaps, np.inf]
    edges = _Edges(audios, before or [None] * len(audios), after or [None] * len(audios),
                   [int(min(r * sample_rate, 1e12)) for r in reach_before], [int(min(r * sample_rate, 1e12)) for r in reach_after])
    max_n = int(rule.max_s * sample_rate)
    pad_n = int(rule.pad_s * sample_rate)
    pieces = [(item, lo, hi) for item, audio in enumerate(audios) for lo, hi in chunk_bounds(audio, sample_rate, rule.chunk) if hi > lo]
    runs = _contiguous_runs(pieces, starts_s, sample_rate, rule)
    windows: list[Window] = []
    parts: list[np.ndarray] = []
    last: tuple[int, int] | None = None  # (item, end sample in the segment) of the last piece placed

    def length() -> int:
        return sum(len(p) for p in parts)

    def close() -> None:
        nonlocal parts
        if last is not None and parts:
            parts.append(edges.after(last[0], last[1], min(pad_n, max_n - length())))
            windows[-1].audio = np.concatenate(parts).astype(np.float32, copy=False)
        parts = []

    def place(item: int, lo: int, hi: int) -> None:
        nonlocal last
        windows[-1].pieces.append(Piece(item, lo / sample_rate, length() / sample_rate, (hi - lo) / sample_rate))
        parts.append(np.asarray(audios[item][lo:hi], dtype=np.float32))
        last = (item, hi)

    def open_with(item: int, lo: int, content_n: int) -> None:
        close()
        windows.append(Window(np.zeros(0, np.float32)))
        parts.append(edges.before(item, lo, min(pad_n, max_n - content_n)))

    for run in runs:
        run_n = sum(hi - lo for _, lo, hi in run)
        item, lo, hi = run[0]
        if rule.enabled and parts and length() + pad_n + run_n <= max_n:
            parts += [edges.after(last[0], last[1], pad_n // 2), edges.before(item, lo, pad_n - pad_n // 2)]
        else:
            open_with(item, lo, run_n if run_n <= max_n else hi - lo)
        for item, lo, hi in run:
            if length() + (hi - lo) > max_n:  # a run longer than a window: break between its pieces
                open_with(item, lo, hi - lo)
            place(item, lo, hi)
    close()
    return windows


def _contiguous_runs(pieces: list[tuple[int, int, int]], starts_s: Sequence[float], sample_rate: int,
                     rule: PackRule) -> list[list[tuple[int, int, int]]]:
    """Group pieces (item, lo, hi) into runs that follow each other with no gap in the recording (a segment
    cut inside continuous speech, or a long segment's chunks): a window edge inside a run can fall inside a
    word, so a run goes into one window whenever it fits."""
    runs: list[list[tuple[int, int, int]]] = []
    last_end_s: float | None = None
    for item, lo, hi in pieces:
        start_s = starts_s[item] + lo / sample_rate
        if runs and rule.enabled and last_end_s is not None and 0.0 <= start_s - last_end_s <= rule.contiguous_s:
            runs[-1].append((item, lo, hi))
        else:
            runs.append([(item, lo, hi)])
        last_end_s = starts_s[item] + hi / sample_rate
    return runs


@dataclass(frozen=True)
class _Edges:
    """Room tone just before / after a piece: the segment's context audio, up to the neighbouring segment,
    then silence. Inside a segment (a long segment's chunk edge) it is silence: that audio is heard in the
    chunk beside it."""

    audios: Sequence[np.ndarray]
    before_ctx: Sequence[np.ndarray | None]
    after_ctx: Sequence[np.ndarray | None]
    reach_before: Sequence[int]  # samples of context that lie after the previous segment's end
    reach_after: Sequence[int]

    def before(self, item: int, pos: int, n: int) -> np.ndarray:
        ctx = self.before_ctx[item]
        got = np.zeros(0, np.float32) if ctx is None or pos > 0 or n <= 0 else ctx[max(0, len(ctx) - min(n, self.reach_before[item])) :]
        return np.concatenate([np.zeros(max(0, n) - len(got), np.float32), np.asarray(got, np.float32)])

    def after(self, item: int, pos: int, n: int) -> np.ndarray:
        ctx = self.after_ctx[item]
        inside = pos < len(self.audios[item])
        got = np.zeros(0, np.float32) if ctx is None or inside or n <= 0 else ctx[: min(n, self.reach_after[item])]
        return np.concatenate([np.asarray(got, np.float32), np.zeros(max(0, n) - len(got), np.float32)])


def owner(pieces: Sequence[Piece], t: float) -> Piece:
    """The piece holding window time `t`; in a pad, the nearest piece (earlier one on a tie)."""
    for piece in pieces:
        if piece.holds(t):
            return piece
    return min(pieces, key=lambda p: p.distance(t))


def join_words(words: Sequence[AsrWord], language: str | None) -> str:
    """Words back into text as written: a space only where the word had one ("www.asterisk.org" stays)."""
    sep_ok = language not in UNSPACED_LANGUAGES
    return "".join((" " if (w.spaced and sep_ok and i) else "") + w.word for i, w in enumerate(words)).strip()


def split_sentence(sentence: AsrSentence, pieces: Sequence[Piece], language: str | None) -> list[tuple[Piece, AsrSentence]]:
    """One window sentence -> the part of it in each piece, in segment time."""
    if not sentence.words:
        piece = owner(pieces, (sentence.start_s + sentence.end_s) / 2)
        return [(piece, AsrSentence(sentence.text, piece.to_segment(sentence.start_s), piece.to_segment(sentence.end_s)))]
    groups: dict[Piece, list[AsrWord]] = {}
    for w in sentence.words:
        piece = owner(pieces, (w.start_s + w.end_s) / 2)
        groups.setdefault(piece, []).append(replace(w, start_s=piece.to_segment(w.start_s), end_s=piece.to_segment(w.end_s)))
    if len(groups) == 1:
        ((piece, words),) = groups.items()
        start = piece.to_segment(sentence.start_s)
        end = piece.to_segment(sentence.end_s)
        return [(piece, AsrSentence(sentence.text, min(start, words[0].start_s), max(end, words[-1].end_s), tuple(words)))]
    return [
        (piece, AsrSentence(join_words(words, language), words[0].start_s, words[-1].end_s, tuple(words)))
        for piece, words in groups.items()
    ]


def unpack(windows: Sequence[Window], results: Sequence[AsrResult], n_items: int) -> list[AsrResult]:
    """One AsrResult per packed segment, in segment time, from one AsrResult per window."""
    sentences: list[list[AsrSentence]] = [[] for _ in range(n_items)]
    seen: list[list[tuple[Piece, AsrResult]]] = [[] for _ in range(n_items)]
    for window, res in zip(windows, results, strict=True):
        for piece in window.pieces:
            seen[piece.item].append((piece, res))
        for sentence in res.sentences:
            for piece, part in split_sentence(sentence, window.pieces, res.language):
                sentences[piece.item].append(part)
    return [_segment_result(sentences[i], seen[i]) for i in range(n_items)]


def _segment_result(sentences: list[AsrSentence], seen: list[tuple[Piece, AsrResult]]) -> AsrResult:
    from whisper.utils import compression_ratio

    if not seen:
        return AsrResult("", None, None, (), None, None, None)
    sentences.sort(key=lambda s: s.start_s)
    main = max(seen, key=lambda pr: pr[0].duration_s)[1]  # the window holding most of the segment
    sep = "" if main.language in UNSPACED_LANGUAGES else " "
    text = sep.join(s.text.strip() for s in sentences if s.text.strip())
    weights = np.array([p.duration_s for p, _ in seen])
    logprobs = [r.avg_logprob for _, r in seen]
    no_speech = [r.no_speech_prob for _, r in seen if r.no_speech_prob is not None]
    temps = [r.temperature for _, r in seen if r.temperature is not None]
    return AsrResult(
        text=text,
        language=main.language,
        language_prob=main.language_prob,
        sentences=tuple(sentences),
        avg_logprob=float(np.average(logprobs, weights=weights)) if None not in logprobs else None,
        no_speech_prob=min(no_speech) if no_speech else None,
        compression_ratio=compression_ratio(text) if text else None,
        temperature=max(temps) if temps else None,
        notes=(f"chunked(n={len(seen)})",) if len(seen) > 1 else (),
    )
