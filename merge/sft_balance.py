"""Task balance of SFT rows: no task above `merge.sft_max_task_share` of a shard's rows.

Some tasks yield many rows per recording (an attribute question per speech segment), others one; left alone,
one task was 74 % of all rows. The largest task over the share keeps a deterministic sample (lowest hashes
of its example ids, so reruns keep the same rows); once it is at most the share, no other task can exceed
it (each is at most the largest). Balanced per shard, the whole output is balanced too."""

from __future__ import annotations

import hashlib
import math
from collections import Counter

from schemas.sft import SftRow

MIN_ROWS_PER_TASK = 1


def _rank(example_id: str) -> str:
    return hashlib.sha1(example_id.encode()).hexdigest()


def balance_tasks(rows: list[SftRow], max_share: float) -> list[SftRow]:
    """The rows to keep, in their original order."""
    counts = Counter(r.task for r in rows)
    if max_share >= 1 or len(counts) < 2:  # one task alone is all there is to balance against: kept
        return rows
    task, n = counts.most_common(1)[0]
    others = len(rows) - n
    cap = max(MIN_ROWS_PER_TASK, math.floor(max_share / (1 - max_share) * others + 1e-9))
    if n <= cap:
        return rows
    kept = set(sorted((r.example_id for r in rows if r.task == task), key=_rank)[:cap])
    return [r for r in rows if r.task != task or r.example_id in kept]
