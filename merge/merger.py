"""Branch outputs of a batch of recordings -> one unified caption and the SFT examples of each.

Deterministic template captions by default; with `merge.llm` set, the batch's captions are rewritten
concurrently and a rewrite replaces the template only if it passes the faithfulness check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from merge.caption import TemplateCaption, build_template
from merge.events import Event, collect_events
from merge.faithfulness import FaithfulnessReport, check_caption
from merge.llm import RewriteRequest, RewriteResult, rewrite_batch
from merge.llm_params import LlmParams
from merge.outputs import RecordingOutputs
from merge.sft import build_sft_rows
from merge.sft_balance import balance_tasks
from merge.speech_attrs import speech_attributes
from schemas.captions import CaptionLink, CaptionRow
from schemas.sft import SftRow

if TYPE_CHECKING:
    from merge.config import MergeConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    outputs: RecordingOutputs
    events: list[Event]
    template: TemplateCaption
    report: FaithfulnessReport
    support_terms: tuple[str, ...]  # measured speech attributes a caption may mention


def draft(out: RecordingOutputs, cfg: MergeConfig) -> Draft:
    events = collect_events(out, cfg.max_music_tags, cfg.min_tag_score)
    template = build_template(events, out.duration_s(), cfg.time_decimals)
    terms = tuple(a.answer for row in out.speech for a in speech_attributes(row))
    report = check_caption(template.caption, events, out.duration_s(), cfg, terms)
    if not report.faithful:
        log.warning("template caption of %s failed its check: %s", out.recording.recording_id, report.issues)
    return Draft(out, events, template, report, terms)


def merge_recordings(batch: list[RecordingOutputs], cfg: MergeConfig) -> list[tuple[CaptionRow, list[SftRow]]]:
    """One (caption, sft rows) per input, in order."""
    drafts = [draft(out, cfg) for out in batch]
    rewrites = _rewrite(drafts, cfg)
    results = []
    for d, rw in zip(drafts, rewrites, strict=True):
        caption = _caption_row(d, rw, cfg)
        results.append((caption, build_sft_rows(d.outputs, d.events, caption, cfg)))
    # Task balance over the whole batch (a shard): no task above merge.sft_max_task_share of its rows.
    kept = {r.example_id for r in balance_tasks([r for _, rows in results for r in rows], cfg.sft_max_task_share)}
    return [(caption, [r for r in rows if r.example_id in kept]) for caption, rows in results]


def _rewrite(drafts: list[Draft], cfg: MergeConfig) -> list[RewriteResult | None]:
    """LLM rewrites of every recording that has events; None where none was asked for."""
    if not cfg.llm:
        return [None] * len(drafts)
    asked = [i for i, d in enumerate(drafts) if d.events]
    params = LlmParams.model_validate(cfg.llm)
    requests = [RewriteRequest(drafts[i].template.caption, drafts[i].template.timeline_text) for i in asked]
    results: list[RewriteResult | None] = [None] * len(drafts)
    for i, res in zip(asked, rewrite_batch(requests, params), strict=True):
        results[i] = res
    return results


def _caption_row(d: Draft, rw: RewriteResult | None, cfg: MergeConfig) -> CaptionRow:
    text, merger, report, note = d.template.caption, "template", d.report, None
    if rw is not None and rw.text is None:
        note = f"LLM rewrite failed: {rw.error}"
    elif rw is not None:
        checked = check_caption(rw.text, d.events, d.outputs.duration_s(), cfg, d.support_terms)
        if checked.faithful:
            text, report = rw.text, checked
            merger = f"llm:{LlmParams.model_validate(cfg.llm).model}"
        else:
            note = "LLM rewrite rejected: " + "; ".join(checked.issues)
    if note:
        log.info("%s: %s", d.outputs.recording.recording_id, note)
    return CaptionRow(
        recording_id=d.outputs.recording.recording_id,
        caption=text,
        timeline_text=d.template.timeline_text,
        timeline=d.template.timeline,
        num_events=len(d.events),
        model_ids=d.outputs.model_ids(),
        merger=merger,
        faithful=report.faithful,
        faithfulness_issues=report.issues,
        links=[CaptionLink(lk.statement, lk.event_keys, lk.segment_ids) for lk in report.links],
        llm_note=note,
    )
