"""A fingerprint per stage, and the plan of what a run must (re)do per shard.

Stages: `segments` (decode + segmentation: the recordings and segments tables), one per enabled branch
(its table), and `merge` (captions and SFT). Each fingerprint hashes what changes that stage's output (its
component, validated params with their defaults, less speed-only ones, the component's own `version`) and the fingerprints of the
stages it reads, never where outputs go or how fast they are made (paths, batch sizes, resources, actors).
Every finished shard stores the fingerprints it was made with (`_done/<shard>`), so a changed config
redoes, per shard, only the stages whose fingerprint moved and those downstream of them. Pure logic, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.config import PipelineConfig
from schemas.common import BRANCHES

SEGMENTS, MERGE = "segments", "merge"
# The tables each stage writes. `errors` holds rows of every stage: it is rewritten with any redo, keeping
# the rows of the stages that were kept.
STAGE_TABLES: dict[str, tuple[str, ...]] = {SEGMENTS: ("recordings", "segments"), **{b: (b,) for b in BRANCHES},
                                             MERGE: ("captions", "sft")}
ERROR_STAGES_OF = {SEGMENTS: ("input", "decode", "segment", "prepare"), MERGE: ("merge",),
                   **{b: (f"annotate:{b}",) for b in BRANCHES}}
FULL = "all"


def _output_params(params_cls, params: dict) -> dict:
    """Validated params with their defaults, less those marked `json_schema_extra={"speed_only": True}`."""
    values = params_cls.model_validate(params).model_dump(mode="json")
    return {k: v for k, v in values.items()
            if not (params_cls.model_fields[k].json_schema_extra or {}).get("speed_only")}


def _hash(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stage_fingerprints(cfg: PipelineConfig) -> dict[str, str]:
    from annotators.registry import ANNOTATORS
    from segmenters.registry import SEGMENTERS

    seg_cls = SEGMENTERS.get(cfg.segmentation.segmenter)
    audio = cfg.audio.model_dump(mode="json", exclude={"segment_context_s"})
    seg = _hash({
        "audio": audio,
        "segmenter": cfg.segmentation.segmenter,
        "params": _output_params(seg_cls.Params, cfg.segmentation.params),
        "version": getattr(seg_cls, "version", None),
    })
    fps = {SEGMENTS: seg}
    for name, branch in cfg.enabled_branches().items():
        cls = ANNOTATORS.get(branch.annotator)
        fps[name] = _hash({
            SEGMENTS: seg,
            "annotator": branch.annotator,
            "params": _output_params(cls.Params, branch.params),
            "version": getattr(cls, "version", None),
            "context_s": cfg.audio.segment_context_s,
        })
    upstream = {k: v for k, v in fps.items()}
    fps[MERGE] = _hash({"upstream": upstream, "merge": cfg.merge.model_dump(mode="json")})
    return fps


@dataclass(frozen=True)
class ShardWork:
    """What one shard needs: `stages` is {FULL} for a shard to do from scratch, else the stages to redo."""

    shard_id: str
    stages: frozenset[str]
    reason: str

    @property
    def full(self) -> bool:
        return FULL in self.stages

    def branches(self) -> frozenset[str]:
        return frozenset(s for s in self.stages if s in BRANCHES)


def shard_work(shard_id: str, stored: Mapping[str, str] | None, current: Mapping[str, str]) -> ShardWork | None:
    """None if the shard is up to date. `stored`: the fingerprints its marker holds (None: not done)."""
    if stored is None:
        return ShardWork(shard_id, frozenset({FULL}), "not done")
    if stored.get(SEGMENTS) != current[SEGMENTS]:
        return ShardWork(shard_id, frozenset({FULL}), "segmentation changed")
    now = {b for b in current if b in BRANCHES}
    before = {b for b in stored if b in BRANCHES}
    changed = sorted(b for b in now if stored.get(b) != current[b])
    dropped = sorted(before - now)
    if not changed and not dropped and stored.get(MERGE) == current[MERGE]:
        return None
    why = [f"{b} {'enabled' if b not in before else 'changed'}" for b in changed] + [f"{b} disabled" for b in dropped]
    return ShardWork(shard_id, frozenset({*changed, *dropped, MERGE}), ", ".join(why) or "merge changed")


def describe_plan(work: list[ShardWork], done: int) -> list[str]:
    """One line per kind of work: what is redone, on how many shards, and why."""
    groups: dict[tuple[str, str], int] = {}
    for w in work:
        what = "everything" if w.full else ", ".join(sorted(w.stages, key=lambda s: (s == MERGE, s)))
        groups[(what, w.reason)] = groups.get((what, w.reason), 0) + 1
    lines = [f"{what}: {n} shard(s) ({why})" for (what, why), n in sorted(groups.items())]
    untouched = done - sum(1 for w in work if w.reason != "not done")
    if untouched > 0:
        lines.append(f"up to date: {untouched} shard(s)")
    return lines
