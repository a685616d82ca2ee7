"""Frame-level tagger scores -> sound events on the patch grid: hysteresis per class, then folding.

Pure numpy. One source usually lights up several classes at once (a ringing phone: "Telephone",
"Telephone bell ringing", "Alarm"; a dog: "Animal", "Dog", "Bark"). Class spans that overlap mostly, or
that belong to one family, are folded into one event labelled by its best specific class; the other classes
are kept as its alternatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from annotators.audioset import labels as L


@dataclass(frozen=True)
class DetectConfig:
    onset_threshold: float = 0.3  # a class span starts where its score reaches this
    offset_threshold: float = 0.15  # ... and lasts while it stays above this
    smooth_frames: int = 1  # moving average over this many patches before the thresholds (1 = none)
    merge_gap_frames: int = 1  # spans of one class separated by at most this many patches are joined
    fold_overlap: float = 0.5  # fold a span into an event that covers this fraction of it
    max_alternatives: int = 4
    alternative_min_score: float = 0.1  # runners-up below the onset threshold still listed from this score


@dataclass(frozen=True)
class ClassSpan:
    cls: int
    first: int  # patch indices, inclusive
    last: int
    peak: float
    mean: float
    weak: bool = False  # found without the absolute thresholds (under speech, or a segment's fallback)

    @property
    def support(self) -> float:
        """Score summed over the span's patches: at equal peaks, the class that lasts explains more."""
        return self.mean * (self.last - self.first + 1)


@dataclass
class GridEvent:
    """An event on the patch grid; `spans` are the class spans folded into it, strongest first."""

    spans: list[ClassSpan] = field(default_factory=list)

    @property
    def first(self) -> int:
        return min(s.first for s in self.spans)

    @property
    def last(self) -> int:
        return max(s.last for s in self.spans)

    @property
    def peak(self) -> float:
        return max(s.peak for s in self.spans)

    @property
    def weak(self) -> bool:
        return all(s.weak for s in self.spans)

    @property
    def support(self) -> float:
        return max(s.support for s in self.spans)


def _smooth(scores: np.ndarray, frames: int) -> np.ndarray:
    if frames <= 1 or len(scores) < 2:
        return scores
    kernel = np.ones(frames, dtype=np.float32) / frames
    pad = frames // 2
    padded = np.pad(scores, ((pad, frames - 1 - pad), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, c], kernel, mode="valid") for c in range(scores.shape[1])], axis=1)


def _hysteresis(track: np.ndarray, on: float, off: float, gap: int) -> list[tuple[int, int]]:
    """Runs of frames above `off` that reach `on` somewhere, joined across gaps of <= `gap` frames."""
    runs: list[tuple[int, int]] = []
    above = np.flatnonzero(track >= off)
    if above.size == 0:
        return runs
    breaks = np.flatnonzero(np.diff(above) > 1)
    starts = np.concatenate([[above[0]], above[breaks + 1]])
    ends = np.concatenate([above[breaks], [above[-1]]])
    for a, b in zip(starts, ends, strict=True):
        if track[a: b + 1].max() < on:
            continue
        if runs and a - runs[-1][1] - 1 <= gap:
            runs[-1] = (runs[-1][0], int(b))
        else:
            runs.append((int(a), int(b)))
    return runs


def class_spans(scores: np.ndarray, candidates: Sequence[int], cfg: DetectConfig) -> list[ClassSpan]:
    """Active spans of every candidate class, strongest first."""
    if scores.size == 0 or not len(candidates):
        return []
    cand = np.asarray(candidates)
    sub = _smooth(scores[:, cand], cfg.smooth_frames)
    spans = []
    for j in np.flatnonzero(sub.max(axis=0) >= cfg.onset_threshold):
        for a, b in _hysteresis(sub[:, j], cfg.onset_threshold, cfg.offset_threshold, cfg.merge_gap_frames):
            seg = scores[a: b + 1, cand[j]]
            spans.append(ClassSpan(int(cand[j]), a, b, float(seg.max()), float(seg.mean())))
    return sorted(spans, key=lambda s: (-s.peak, -s.mean, s.first))


def _overlap(span: ClassSpan, event: GridEvent) -> float:
    """Fraction of the span's frames that the event covers."""
    inter = min(span.last, event.last) - max(span.first, event.first) + 1
    return max(0, inter) / (span.last - span.first + 1)


def fold_spans(spans: Sequence[ClassSpan], class_names: Sequence[str], cfg: DetectConfig) -> list[GridEvent]:
    """Greedy, strongest first: a span joins the event it overlaps most (same family: any overlap;
    otherwise at least `fold_overlap` of the span), else it starts a new event."""
    events: list[GridEvent] = []
    for span in spans:
        name = class_names[span.cls]
        best, best_ov = None, 0.0
        for ev in events:
            ov = _overlap(span, ev)
            related = any(L.same_source(name, class_names[s.cls]) for s in ev.spans)
            needed = 0.0 if related or name in L.GENERIC else cfg.fold_overlap
            if ov > needed and ov > best_ov:
                best, best_ov = ev, ov
        if best is None:
            events.append(GridEvent([span]))
        else:
            best.spans.append(span)
    return sorted(events, key=lambda e: e.first)


def event_label(event: GridEvent, class_names: Sequence[str]) -> tuple[str, float]:
    """The strongest specific class of an event (a broad parent only when nothing more specific fired); at equal
    peaks (the int8 tagger scores in steps) the one with more support over the event, not a two-patch flash
    where the event meets other sound ("Turkey" 0.95 at the edges of a ring under speech, "Telephone" 0.95
    over all of it)."""
    ranked = sorted(event.spans, key=lambda s: (class_names[s.cls] in L.GENERIC, -s.peak, -s.support))
    top = ranked[0]
    return class_names[top.cls], top.peak


def alternatives(event: GridEvent, scores: np.ndarray, candidates: Sequence[int], class_names: Sequence[str],
                 cfg: DetectConfig) -> list[tuple[str, float]]:
    """The event's classes with their peak scores: those folded into it, then runners-up scoring at least
    `alternative_min_score` over its patches; specific classes first, strongest first."""
    best: dict[str, float] = {}
    for s in event.spans:
        name = class_names[s.cls]
        best[name] = max(best.get(name, 0.0), s.peak)
    cand = np.asarray(candidates)
    peaks = scores[event.first: event.last + 1][:, cand].max(axis=0) if cand.size else np.zeros(0)
    for j in np.flatnonzero(peaks >= cfg.alternative_min_score):
        best.setdefault(class_names[cand[j]], float(peaks[j]))
    ranked = sorted(best.items(), key=lambda kv: (kv[0] in L.GENERIC, -kv[1]))
    return ranked[: cfg.max_alternatives + 1]


def one_name_per_source_first(label: str, ranked: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Alternatives reordered so that each further possible source is named once before more names of a source
    already named (the label's own family included); otherwise in their given order. The first alternatives
    then hedge between sources ("Cat", "Growling" for a doubtful animal) instead of repeating the label's
    synonyms ("Cat", "Caterwaul", "Purr")."""
    named: list[str] = [label]
    first, later = [], []
    for name, score in ranked:
        (later if any(L.same_source(name, n) for n in named) else first).append((name, score))
        named.append(name)
    return first + later
