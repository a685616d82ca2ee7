"""One segment's audio + tagger scores -> SoundEvents in recording time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from annotators.audioset import labels as L
from annotators.sound.detect import (
    ClassSpan,
    DetectConfig,
    GridEvent,
    alternatives,
    class_spans,
    event_label,
    fold_spans,
    one_name_per_source_first,
)
from annotators.sound.masked import MaskedConfig, masked_spans
from annotators.sound.statement import StatementConfig, decide
from annotators.sound.refine import Envelope, RefineConfig, Spectrum, band_spectrum, count_bursts, refine_span, rms_dbfs
from schemas.common import LabelScore
from schemas.sound import SoundEvent

REFINE_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class EventConfig:
    detect: DetectConfig = DetectConfig()
    masked: MaskedConfig = MaskedConfig()
    refine: RefineConfig = RefineConfig()
    refine_times: bool = True
    min_event_s: float = 0.05
    background_min_s: float = 8.0  # an event this long ...
    background_coverage: float = 0.8  # ... covering this much of its segment is a background bed
    max_length_ratio: float = 3.0  # after refinement, fold events of comparable length, related ones, ...
    strong_inner_score: float = 0.5  # ... and short ones inside a stronger event unless they score this much
    weak_min_contrast_db: float = 6.0  # weak detections must rise this far above their surroundings
    fallback_min_score: float = 0.05  # a short segment with no event: its best class, if it scores this much
    fallback_max_s: float = 10.0  # (segments the segmenter cut around one sound)


@dataclass(frozen=True)
class Grid:
    starts_s: np.ndarray  # patch starts, segment time
    patch_s: float
    hop_s: float


@dataclass
class Timed:
    """A grid event with its times in segment seconds, before it becomes a SoundEvent."""

    grid: GridEvent
    start: float
    end: float
    envelope: Envelope | None
    folded: list[GridEvent] = field(default_factory=list)


def coarse_times(ev: GridEvent, grid: Grid) -> tuple[float, float]:
    """Best guess from the grid alone: the event is somewhere in its first and last patches; the
    neighbours that stayed silent say it probably starts late in the first and ends early in the last."""
    trim = max(0.0, grid.patch_s - grid.hop_s) / 2
    start = float(grid.starts_s[ev.first]) + trim
    end = float(grid.starts_s[ev.last]) + grid.patch_s - trim
    return start, max(end, start + grid.hop_s)


def _timed(ev: GridEvent, grid: Grid, spec: Spectrum | None, duration: float, cfg: EventConfig) -> Timed:
    start, end = coarse_times(ev, grid)
    env = None
    if spec is not None:
        span = (float(grid.starts_s[ev.first]), float(grid.starts_s[ev.last]) + grid.patch_s)
        refined = refine_span(spec, span[0], span[1], 0.0, duration, cfg.refine)
        if refined is not None:
            start, end, env = refined
    return Timed(ev, max(0.0, start), min(duration, end), env)


def clearly_audible(t: Timed, cfg: EventConfig) -> bool:
    """A weak detection must show in its own bands above what its surroundings (speech) reach."""
    if not t.grid.weak:
        return True
    if t.envelope is None:
        return False
    spec = t.envelope.spectrum
    inside = t.envelope.values_db[spec.index(t.start): spec.index(t.end) + 1]
    return inside.size > 0 and float(inside.max()) - t.envelope.busy_db >= cfg.weak_min_contrast_db


def _related(a: Timed, b: Timed, names: Sequence[str]) -> bool:
    return any(L.same_source(names[x.cls], names[y.cls]) for x in a.grid.spans for y in b.grid.spans)


def fold_refined(events: list[Timed], names: Sequence[str], cfg: EventConfig) -> list[Timed]:
    """Detections that refine onto the same stretch of audio are one source: keep the strongest (at equal
    peaks, the one with more support)."""
    kept: list[Timed] = []
    for ev in sorted(events, key=lambda e: (-e.grid.peak, -e.grid.support)):
        length = ev.end - ev.start
        host = None
        for k in kept:
            inter = min(ev.end, k.end) - max(ev.start, k.start)
            comparable = max(length, k.end - k.start) <= cfg.max_length_ratio * max(1e-6, min(length, k.end - k.start))
            weak = ev.grid.peak < cfg.strong_inner_score
            if inter >= cfg.detect.fold_overlap * length and (comparable or weak or _related(ev, k, names)):
                host = k
                break
        if host is None:
            kept.append(ev)
        else:
            host.folded.append(ev.grid)
    return sorted(kept, key=lambda e: e.start)


def _merged(t: Timed) -> GridEvent:
    return GridEvent([s for g in [t.grid, *t.folded] for s in g.spans])


@dataclass(frozen=True)
class TaggerOutput:
    scores: np.ndarray  # [T, C]
    candidates: Sequence[int]
    names: Sequence[str]


def _to_sound_event(t: Timed, samples: np.ndarray, sample_rate: int, offset_s: float, duration: float,
                    tags: TaggerOutput, cfg: EventConfig) -> SoundEvent:
    ev = _merged(t)
    label, score = event_label(ev, tags.names)
    ranked = alternatives(ev, tags.scores, tags.candidates, tags.names, cfg.detect)
    others = one_name_per_source_first(label, [(n, s) for n, s in ranked if n != label])
    alts = [LabelScore(n, round(s, 4)) for n, s in others]
    length = t.end - t.start
    bed = length >= cfg.background_min_s and length >= cfg.background_coverage * duration
    count = count_bursts(t.envelope, t.start, t.end, cfg.refine) if t.envelope is not None else 1
    level = rms_dbfs(samples[int(t.start * sample_rate): int(t.end * sample_rate)])
    return SoundEvent(label, offset_s + t.start, offset_s + t.end, round(score, 4), background=bed,
                      loudness_dbfs=round(level, 2), count=count, alternatives=alts[: cfg.detect.max_alternatives])


def fallback_event(scores: np.ndarray, candidates: Sequence[int], cfg: EventConfig) -> list[GridEvent]:
    """A short segment routed to the sound branch but with no class over the thresholds: one weak event
    named by its best classes (kept only if the audio shows a clear event, see `clearly_audible`)."""
    cand = np.asarray(candidates)
    if scores.size == 0 or cand.size == 0:
        return []
    peaks = scores[:, cand].max(axis=0)
    order = np.argsort(-peaks)[: cfg.detect.max_alternatives + 1]
    if peaks[order[0]] < cfg.fallback_min_score:
        return []
    last = scores.shape[0] - 1
    return [GridEvent([ClassSpan(int(cand[j]), 0, last, float(peaks[j]), float(scores[:, cand[j]].mean()), weak=True)
                       for j in order])]


def build_events(samples: np.ndarray, sample_rate: int, offset_s: float, starts_s: np.ndarray, scores: np.ndarray,
                 class_names: Sequence[str], candidates: Sequence[int], patch_s: float, hop_s: float,
                 cfg: EventConfig, maskers: Sequence[int] = ()) -> list[SoundEvent]:
    """Events of one segment; `offset_s` (the segment's start) turns segment time into recording time.
    `maskers`: classes (speech, music) under which events are also looked for by relative rises."""
    duration = samples.size / sample_rate
    spans = class_spans(scores, candidates, cfg.detect) + masked_spans(scores, candidates, maskers, cfg.masked)
    spans.sort(key=lambda s: (-s.peak, -s.mean, s.first))
    grid_events = fold_spans(spans, class_names, cfg.detect)
    if not grid_events and duration <= cfg.fallback_max_s:
        grid_events = fallback_event(scores, candidates, cfg)
    if not grid_events:
        return []
    use_spec = cfg.refine_times and sample_rate == REFINE_SAMPLE_RATE
    spec = band_spectrum(samples, cfg.refine) if use_spec else None
    grid = Grid(starts_s, patch_s, hop_s)
    timed = [t for t in (_timed(ev, grid, spec, duration, cfg) for ev in grid_events) if clearly_audible(t, cfg)]
    timed = [t for t in fold_refined(timed, class_names, cfg) if t.end - t.start >= cfg.min_event_s]
    tags = TaggerOutput(scores, candidates, class_names)
    out = [_to_sound_event(t, samples, sample_rate, offset_s, duration, tags, cfg) for t in timed]
    return sorted(out, key=lambda e: (e.start_s, -e.score))


def span_level(starts_s: np.ndarray, patch_s: float, track: np.ndarray, start_s: float, end_s: float) -> float:
    """Mean of a per-patch score track over the patches overlapping [start_s, end_s] (0 when none)."""
    mask = (starts_s < end_s) & (starts_s + patch_s > start_s)
    return float(track[mask].mean()) if mask.any() else 0.0


def state_event(ev: SoundEvent, music: float, cfg: StatementConfig) -> SoundEvent:
    """The event with what is stated about it (`annotators/sound/statement.py`); the tagger's class kept."""
    said = decide(ev.label, ev.score, [(a.label, a.score) for a in ev.alternatives], music, cfg)
    return replace(ev, label=said.label or ev.label, score=round(said.score, 4), stated=said.label is not None,
                   source_label=ev.label, source_score=ev.score)


def clip_events(events: list[SoundEvent], start_s: float, end_s: float, min_s: float) -> list[SoundEvent]:
    """Events cut to the segment [start_s, end_s] (they may reach into attached context audio)."""
    out = []
    for ev in events:
        a, b = max(ev.start_s, start_s), min(ev.end_s, end_s)
        if b - a >= min_s:
            out.append(ev if (a, b) == (ev.start_s, ev.end_s) else replace(ev, start_s=a, end_s=b))
    return out
