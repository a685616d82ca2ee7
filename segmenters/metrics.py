"""Segmentation quality against the corpus truth: boundary hit-rate F1 and per-branch routing time-F1.

Pure functions on plain lists, shared by the tests (on Segmentation objects) and `pipeline/evaluate.py`
(on the written tables).

Which predicted boundaries count: every segment start and end, with points closer than `DEDUPE_S` taken
as one (two touching segments share one boundary). A silence gap between two segments leaves two
boundaries (the offset before it and the onset after it), as the truth has both. Reported silences
add nothing: their edges are already segment edges or the recording's ends. Cuts made only to respect
`max_s` (reason "pause" or "quiet_point" on both sides) claim no event change and are not counted;
the truth's boundaries are event on/offsets, so counting them would punish the length rule itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from schemas.common import BRANCHES

DEDUPE_S = 0.02  # touching segments (equal up to rounding) share one boundary
LENGTH_CUT_REASONS = frozenset({"pause", "quiet_point"})  # reasons of cuts made only for max_s
FRAME_S = 0.01  # routing is scored on 10 ms frames
TOLERANCES_S = (0.5, 0.2)


@dataclass(frozen=True)
class F1:
    precision: float
    recall: float
    f1: float
    hits: int
    predicted: int
    truth: int


def f1_from_counts(hits: int, predicted: int, truth: int) -> F1:
    p = hits / predicted if predicted else (1.0 if truth == 0 else 0.0)
    r = hits / truth if truth else (1.0 if predicted == 0 else 0.0)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return F1(p, r, f, hits, predicted, truth)


@dataclass(frozen=True)
class ScoredSpan:
    start_s: float
    end_s: float
    branches: tuple[str, ...] = ()
    start_reason: str = ""
    end_reason: str = ""


def _is_length_cut(reason: str) -> bool:
    parts = set(reason.split("+"))
    return bool(parts) and parts <= LENGTH_CUT_REASONS


def predicted_boundaries(spans: Iterable[ScoredSpan], dedupe_s: float = DEDUPE_S) -> list[float]:
    """Event boundaries claimed by the segments (see the module doc for what counts)."""
    points = sorted(
        (t, _is_length_cut(r)) for sp in spans for t, r in ((sp.start_s, sp.start_reason), (sp.end_s, sp.end_reason))
    )
    groups: list[list[tuple[float, bool]]] = []
    for t, cut in points:
        if groups and t - groups[-1][-1][0] < dedupe_s:
            groups[-1].append((t, cut))
        else:
            groups.append([(t, cut)])
    return [g[0][0] for g in groups if not all(cut for _, cut in g)]


def match_count(predicted: Sequence[float], truth: Sequence[float], tol_s: float) -> int:
    """Largest one-to-one matching with |p - t| <= tol_s (greedy on sorted points is optimal in 1-D)."""
    p, t = sorted(predicted), sorted(truth)
    i = j = hits = 0
    while i < len(p) and j < len(t):
        if abs(p[i] - t[j]) <= tol_s:
            hits, i, j = hits + 1, i + 1, j + 1
        elif p[i] < t[j]:
            i += 1
        else:
            j += 1
    return hits


def boundary_f1(predicted: Sequence[float], truth: Sequence[float], tol_s: float) -> F1:
    return f1_from_counts(match_count(predicted, truth, tol_s), len(predicted), len(truth))


def _mask(spans: Iterable[tuple[float, float]], n: int, frame_s: float) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for s, e in spans:
        m[max(0, round(s / frame_s)) : max(0, round(e / frame_s))] = True
    return m


def routing_time_f1(
    predicted: Iterable[ScoredSpan],
    truth_segments: Iterable[dict],
    duration_s: float,
    frame_s: float = FRAME_S,
) -> dict[str, F1 | None]:
    """Per branch: frames in a segment routed to it vs truth frames where that kind is active.
    None for a kind absent from the truth (nothing to score; false routing shows in `false_routing_s`)."""
    n = int(np.ceil(duration_s / frame_s))
    predicted = list(predicted)
    truth_segments = list(truth_segments)
    out: dict[str, F1 | None] = {}
    for kind in BRANCHES:
        pm = _mask(((sp.start_s, sp.end_s) for sp in predicted if kind in sp.branches), n, frame_s)
        tm = _mask(((t["start"], t["end"]) for t in truth_segments if kind in t["kinds"]), n, frame_s)
        if not tm.any():
            out[kind] = None
            continue
        out[kind] = f1_from_counts(int((pm & tm).sum()), int(pm.sum()), int(tm.sum()))
    return out


def false_routing_s(
    predicted: Iterable[ScoredSpan], truth_segments: Iterable[dict], duration_s: float
) -> dict[str, float]:
    """Seconds routed to each branch where the truth has no such kind."""
    n = int(np.ceil(duration_s / FRAME_S))
    predicted = list(predicted)
    truth_segments = list(truth_segments)
    out = {}
    for kind in BRANCHES:
        pm = _mask(((sp.start_s, sp.end_s) for sp in predicted if kind in sp.branches), n, FRAME_S)
        tm = _mask(((t["start"], t["end"]) for t in truth_segments if kind in t["kinds"]), n, FRAME_S)
        out[kind] = round(float((pm & ~tm).sum()) * FRAME_S, 2)
    return out


def score_segmentation(spans: Sequence[ScoredSpan], truth: dict, tolerances: Sequence[float] = TOLERANCES_S) -> dict:
    """All segmentation measures of one recording against its truth record."""
    spans = list(spans)
    pred = predicted_boundaries(spans)
    out: dict = {f"boundary_f1@{tol}": boundary_f1(pred, truth["boundaries"], tol) for tol in tolerances}
    out["routing_f1"] = routing_time_f1(spans, truth["segments"], float(truth["duration"]))
    out["false_routing_s"] = false_routing_s(spans, truth["segments"], float(truth["duration"]))
    return out


def spans_of(segmentation) -> list[ScoredSpan]:
    """ScoredSpans of a `Segmentation` (its segments)."""
    return [ScoredSpan(s.start_s, s.end_s, tuple(s.branches), s.start_reason, s.end_reason) for s in segmentation.segments]


def complete_truth(rec: dict) -> dict:
    """Fill `boundaries` and `segments` from `events` when a truth record lacks them (the corpus's
    bad_inputs entries list events only): every on/offset is a boundary, segments partition [0, duration]."""
    events = rec.get("events", [])
    duration = float(rec.get("duration") or max((e["end"] for e in events), default=0.0))
    out = dict(rec, duration=duration)
    cuts = sorted({round(t, 3) for e in events for t in (e["start"], e["end"])})
    out.setdefault("boundaries", cuts)
    if "segments" not in out:
        edges = sorted({0.0, duration, *cuts})
        segments = []
        for a, b in zip(edges, edges[1:]):
            active = [i for i, e in enumerate(events) if e["start"] < b and a < e["end"]]
            kinds = sorted({events[i]["kind"] for i in active}) or ["silence"]
            segments.append({"start": a, "end": b, "kinds": kinds, "events": active})
        out["segments"] = segments
    return out
