"""A finished shard read back for a partial redo: what is kept, and what each recording still needs.

Only the stages a shard's `ShardWork` names are recomputed; the rest comes from its Parquet files, whose
records are rebuilt as they were written. Each recording then needs one of: nothing (no segment of a
redone branch: straight to the merge), its samples (decode only), or a full prepare (the speech branch
needs the speaker turns, which only segmentation computes; the stored segments are still the ones used)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.fingerprints import ERROR_STAGES_OF, ShardWork
from pipeline.manifest import InputItem
from pipeline.stages import PreparedRecording
from pipeline.writer import read_rows
from schemas.common import BRANCHES

NOTHING, DECODE, PREPARE = "nothing", "decode", "prepare"
NEEDS_SPEAKER_TURNS = frozenset({"speech"})


@dataclass
class KeptRecording:
    prepared: PreparedRecording  # the stored recording row, segments and the errors of kept stages
    rows: dict[str, list] = field(default_factory=dict)  # kept branch -> its stored rows
    redo: frozenset[str] = frozenset()  # branches to recompute that have segments here
    needs: str = NOTHING


def load_kept(out: Path, work: ShardWork, items: list[InputItem], enabled: set[str]) -> dict[str, KeptRecording]:
    """recording_id -> what the redo keeps of it and what it needs."""
    sid = work.shard_id
    recordings = {r.recording_id: r for r in read_rows(out, "recordings", sid)}
    segments: dict[str, list] = {}
    for s in read_rows(out, "segments", sid):
        segments.setdefault(s.recording_id, []).append(s)
    kept_branches = [b for b in BRANCHES if b in enabled and b not in work.stages]
    rows: dict[str, dict[str, list]] = {}
    for b in kept_branches:
        for row in read_rows(out, b, sid):
            rows.setdefault(row.recording_id, {}).setdefault(b, []).append(row)
    dropped = {stage for s in work.stages for stage in ERROR_STAGES_OF.get(s, ())}
    errors: dict[str, list] = {}
    for e in read_rows(out, "errors", sid):
        if e.stage not in dropped:
            errors.setdefault(e.recording_id, []).append(e)
    redo_branches = work.branches() & enabled
    kept = {}
    for item in items:
        rec = recordings[item.recording_id]
        segs = segments.get(item.recording_id, [])
        prepared = PreparedRecording(item, rec, segs, errors=errors.get(item.recording_id, []))
        redo = frozenset(b for b in redo_branches if rec.status == "ok" and any(b in s.branches for s in segs))
        needs = NOTHING if not redo else PREPARE if redo & NEEDS_SPEAKER_TURNS else DECODE
        kept[item.recording_id] = KeptRecording(prepared, {b: rows.get(item.recording_id, {}).get(b, []) for b in kept_branches},
                                                redo, needs)
    return kept
