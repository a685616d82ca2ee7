"""Music measures against corpus truth (pure functions; `moss-annotate evaluate` calls them).

Tempo error in percent (plain, and octave-tolerant: the best of x1, x2, x1/2), whether an instrument of the
truth is named among the row's instrument tags, the share of truth instruments named, and meter agreement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from annotators.music.truth_labels import instrument_audioset_names
from schemas.music import MusicRow

OCTAVE_FACTORS = (1.0, 2.0, 0.5)


@dataclass(frozen=True)
class TruthMusic:
    start_s: float
    end_s: float
    instruments: tuple[str, ...]
    tempo_bpm: float | None  # None: unknown or varying
    meter: str | None


@dataclass(frozen=True)
class MusicScores:
    tempo_error_pct: float | None  # None when either side has no tempo
    tempo_error_octave_pct: float | None
    instrument_named: bool | None  # None when the truth names no known instrument
    instrument_recall: float | None
    meter_correct: bool | None


def parse_truth_music(event: Mapping) -> TruthMusic:
    """One truth.jsonl music event; fields first, the `instr+instr|120bpm` label as a fallback."""
    label = str(event.get("label", ""))
    names, _, tempo_part = label.partition("|")
    instruments = tuple(event.get("instrument") or [n for n in names.split("+") if n])
    tempo = event.get("tempo_bpm")
    if tempo is None and tempo_part.endswith("bpm"):
        try:
            tempo = float(tempo_part[:-3])
        except ValueError:
            tempo = None
    return TruthMusic(float(event["start"]), float(event["end"]), instruments,
                      float(tempo) if tempo is not None else None, event.get("meter"))


def truth_music_events(record: Mapping) -> list[TruthMusic]:
    return [parse_truth_music(e) for e in record.get("events", ()) if e.get("kind") == "music"]


def tempo_error_pct(estimate: float | None, truth: float | None, factors: Sequence[float] = (1.0,)) -> float | None:
    if not estimate or not truth:
        return None
    return min(100.0 * abs(estimate * f - truth) / truth for f in factors)


def instruments_named(row: MusicRow, truth: TruthMusic) -> tuple[bool | None, float | None]:
    named = {i.label for i in row.instruments}
    wanted = [instrument_audioset_names(t) for t in truth.instruments]
    wanted = [w for w in wanted if w]
    if not wanted:
        return None, None
    hits = [bool(w & named) for w in wanted]
    return any(hits), sum(hits) / len(hits)


def score_music(row: MusicRow, truth: TruthMusic) -> MusicScores:
    named, recall = instruments_named(row, truth)
    meter = None if truth.meter is None or row.meter is None else row.meter == truth.meter
    return MusicScores(
        tempo_error_pct=tempo_error_pct(row.tempo_bpm, truth.tempo_bpm),
        tempo_error_octave_pct=tempo_error_pct(row.tempo_bpm, truth.tempo_bpm, OCTAVE_FACTORS),
        instrument_named=named,
        instrument_recall=recall,
        meter_correct=meter,
    )


def best_overlap(rows: Sequence[MusicRow], truth: TruthMusic) -> MusicRow | None:
    """The row that overlaps the truth music event the longest (rows are segments of one recording)."""
    def overlap(r: MusicRow) -> float:
        return min(r.end_s, truth.end_s) - max(r.start_s, truth.start_s)

    candidates = [r for r in rows if overlap(r) > 0]
    return max(candidates, key=overlap) if candidates else None
