"""Length rules shared by every segmenter: merge pieces shorter than min_s, split pieces longer than max_s.

Spans here are plain (start_s, end_s, start_reason, end_reason) pieces; the rules never invent a cut:
a long piece is split only at a candidate point supplied by the caller (a pause, the quietest point),
so callers decide what is a safe place to cut.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

REASON_JOIN = "+"


@dataclass(frozen=True)
class Piece:
    start_s: float
    end_s: float
    start_reason: str
    end_reason: str
    kinds: frozenset[str] = frozenset()  # what is active in it (speech, music, sound), when known

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class CutPoint:
    """A place where a long piece may be cut; a higher `score` is a better cut (e.g. a longer pause)."""

    time_s: float
    score: float
    reason: str


def join_reasons(*reasons: str) -> str:
    """"speech_onset" + "music_stop" -> "music_stop+speech_onset" (sorted, de-duplicated)."""
    parts = {p for r in reasons for p in r.split(REASON_JOIN) if p}
    return REASON_JOIN.join(sorted(parts))


def drop_background_gaps(pieces: Sequence[Piece], min_s: float, max_gap_s: float) -> list[Piece]:
    """Drop a short piece holding only what both its neighbours also hold (a background bed heard alone
    between two utterances): the neighbours already carry it, and merging would erase the speech offset
    and onset on either side."""
    out = list(pieces)
    keep = [True] * len(out)
    for i in range(1, len(out) - 1):
        q, a, b = out[i], out[i - 1], out[i + 1]
        close = q.start_s - a.end_s <= max_gap_s and b.start_s - q.end_s <= max_gap_s
        if q.duration_s < min_s and close and q.kinds and q.kinds < a.kinds and q.kinds < b.kinds:
            keep[i] = False
    return [q for q, k in zip(out, keep) if k]


def merge_short(pieces: Sequence[Piece], min_s: float, max_gap_s: float, max_s: float) -> list[Piece]:
    """Merge each piece shorter than `min_s` into a neighbour (gap <= `max_gap_s`, result <= `max_s`):
    the nearer one, then the one with the same kinds, then the shorter one. A short piece with no
    neighbour close enough stays: it is still an event."""
    out = sorted(pieces, key=lambda p: p.start_s)
    changed = True
    while changed:
        changed = False
        for i in sorted(range(len(out)), key=lambda k: out[k].duration_s):
            if out[i].duration_s >= min_s:
                break
            j = _merge_partner(out, i, max_gap_s, max_s)
            if j is None:
                continue
            a, b = sorted((i, j))
            kinds = out[a].kinds | out[b].kinds
            out[a : b + 1] = [Piece(out[a].start_s, out[b].end_s, out[a].start_reason, out[b].end_reason, kinds)]
            changed = True
            break
    return out


def _merge_partner(pieces: list[Piece], i: int, max_gap_s: float, max_s: float) -> int | None:
    options = []
    for j in (i - 1, i + 1):
        if not 0 <= j < len(pieces):
            continue
        a, b = (pieces[j], pieces[i]) if j < i else (pieces[i], pieces[j])
        gap = b.start_s - a.end_s
        if gap > max_gap_s or b.end_s - a.start_s > max_s:
            continue
        shared = len(pieces[i].kinds & pieces[j].kinds) / max(len(pieces[i].kinds | pieces[j].kinds), 1)
        options.append((round(gap, 3), -shared, pieces[j].duration_s, j))
    return min(options)[-1] if options else None


def split_long(
    piece: Piece,
    max_s: float,
    min_s: float,
    cuts_in: Callable[[float, float], Sequence[CutPoint]],
) -> list[Piece]:
    """Split `piece` recursively at its best cut point until every part is <= max_s.

    `cuts_in(start_s, end_s)` lists the allowed cut points inside a span. Only cuts leaving both
    parts >= min_s are used, preferably those that keep the number of parts minimal (first part
    <= max_s, the rest fitting in the remaining parts); with none left the piece stays long (never cut blind).
    """
    if piece.duration_s <= max_s:
        return [piece]
    cuts = [
        c
        for c in cuts_in(piece.start_s, piece.end_s)
        if c.time_s - piece.start_s >= min_s and piece.end_s - c.time_s >= min_s
    ]
    if not cuts:
        return [piece]
    parts = math.ceil(piece.duration_s / max_s)
    lo, hi = piece.end_s - (parts - 1) * max_s, piece.start_s + max_s
    cuts = [c for c in cuts if lo <= c.time_s <= hi] or cuts
    best = max(cuts, key=lambda c: (c.score, -abs(c.time_s - (piece.start_s + piece.end_s) / 2)))
    left = replace(piece, end_s=best.time_s, end_reason=best.reason)
    right = replace(piece, start_s=best.time_s, start_reason=best.reason)
    return split_long(left, max_s, min_s, cuts_in) + split_long(right, max_s, min_s, cuts_in)
