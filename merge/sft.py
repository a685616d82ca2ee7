"""SFT examples of one recording: every task named in `merge.sft_tasks`, as `SftRow`s."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import merge.sft_tasks  # noqa: F401  (registers the built-in tasks)
from merge.events import Event
from merge.outputs import RecordingOutputs
from merge.sft_base import SFT_TASKS, SftContext, example_id, make_windows, register_task
from schemas.captions import CaptionRow
from schemas.sft import SftRow

if TYPE_CHECKING:
    from merge.config import MergeConfig

log = logging.getLogger(__name__)

__all__ = ["SFT_TASKS", "build_sft_rows", "register_task"]


def build_sft_rows(out: RecordingOutputs, events: list[Event], caption: CaptionRow, cfg: MergeConfig) -> list[SftRow]:
    if not cfg.sft_tasks:
        return []
    windows = make_windows(events, out.duration_s(), cfg.sft_max_audio_s, cfg.sft_window_pad_s)
    ctx = SftContext(out, caption, tuple(events), tuple(windows), cfg)
    rid, uri = out.recording.recording_id, out.recording.uri
    rows: list[SftRow] = []
    seen: set[str] = set()
    for task in cfg.sft_tasks:
        for ex in SFT_TASKS[task](ctx):
            eid = example_id(rid, task, ex)
            if eid in seen:
                log.debug("duplicate SFT example %s skipped", eid)
                continue
            seen.add(eid)
            rows.append(SftRow(rid, eid, task, ex.prompt, ex.response, uri, ex.start_s, ex.end_s, list(ex.sources)))
    return rows
