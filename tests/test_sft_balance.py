"""SFT task balance: no task above merge.sft_max_task_share of a shard's rows, the same rows on every run."""

from __future__ import annotations

from collections import Counter

from merge.config import MergeConfig
from merge.merger import merge_recordings
from merge.sft import SFT_TASKS
from merge.sft_balance import balance_tasks
from merge.testing import example_outputs, outputs_from_truth
from schemas.sft import SftRow


def rows(counts: dict[str, int]) -> list[SftRow]:
    return [SftRow("r", f"r-{t}-{i}", t, "q", "a", "/a.wav", 0.0, 1.0) for t, n in counts.items() for i in range(n)]


def test_the_largest_task_is_cut_to_the_share_deterministically_and_in_order():
    data = rows({"speech_attribute_qa": 30, "captioning": 4, "time_qa": 6})
    kept = balance_tasks(data, 0.5)
    counts = Counter(r.task for r in kept)
    assert counts == {"speech_attribute_qa": 10, "captioning": 4, "time_qa": 6}
    assert kept == [r for r in data if r in kept]  # original order
    assert balance_tasks(list(reversed(data)), 0.5) == list(reversed(kept))  # the same rows, whatever the order
    assert balance_tasks(data, 1.0) == data


def test_a_task_alone_is_kept_and_a_balanced_set_is_untouched():
    assert len(balance_tasks(rows({"timestamped_asr": 5}), 0.5)) == 5  # one task configured: nothing to balance
    even = rows({"a": 3, "b": 3})
    assert balance_tasks(even, 0.5) == even


def test_no_task_above_half_of_the_corpus_rows_with_the_default_config(truth):
    cfg = MergeConfig(sft_tasks=tuple(SFT_TASKS))  # the default share
    batch = [outputs_from_truth(rec) for rec in truth.values()] + [example_outputs()]
    results = merge_recordings(batch, cfg)
    counts = Counter(r.task for _, rs in results for r in rs)
    total = sum(counts.values())
    assert total > 0 and max(counts.values()) <= total / 2, counts
    unbalanced = merge_recordings(batch, MergeConfig(sft_tasks=tuple(SFT_TASKS), sft_max_task_share=1.0))
    assert sum(len(rs) for _, rs in unbalanced) >= total
