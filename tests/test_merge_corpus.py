"""Merge on branch rows built from the real corpus truth (every scene of truth.jsonl and the 20-minute file):
every event in the caption with its span, removed / invented events flagged."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.caption_spans import check_spans
from merge.faithfulness import check_caption, split_statements
from merge.labels import label_terms, phrase_terms
from merge.merger import draft, merge_recordings
from merge.testing import outputs_from_truth
from merge.text import contains_stem, stem_set
from merge.config import MergeConfig

CFG = MergeConfig()


@pytest.fixture(scope="module")
def scenes(truth, corpus_dir):
    recs = list(truth.values())
    for line in (corpus_dir / "bad_inputs" / "expected.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["file"].endswith("long_20min_8khz.wav"):
            recs.append({"file": rec["file"], "duration": 1200.0, "events": rec["truth"]})
    return recs


def _span(ev: dict) -> str:
    return f"{ev['start']:.2f} - {ev['end']:.2f}"


def _in_run(ev: dict, sentence: str) -> bool:
    """A sound stated inside a span of repetitions ("a phone rings twice (7.20 - 9.98)")."""
    if ev["kind"] != "sound" or not re.search(r"\b(twice|times)\b", sentence):
        return False
    spans = re.findall(r"(\d+\.\d{2}) - (\d+\.\d{2})", sentence)
    return any(float(a) - 0.011 <= ev["start"] and ev["end"] <= float(b) + 0.011 for a, b in spans)


def test_every_truth_event_in_caption_with_its_span(scenes):
    outs = [outputs_from_truth(r) for r in scenes]
    results = merge_recordings(outs, CFG)
    assert len(results) == len(scenes)
    for rec, (cap, _) in zip(scenes, results, strict=True):
        events = rec["events"]
        assert cap.num_events == len(events) and cap.faithful, (cap.recording_id, cap.faithfulness_issues)
        check_spans(cap.caption, [(e["kind"], round(e["start"], 2), round(e["end"], 2)) for e in events])
        assert Counter(line.split(":")[0] for line in cap.timeline_text.splitlines()) == Counter(map(_span, events))
        sentences = split_statements(cap.caption)
        for ev in events:
            sentence = next(s for s in sentences if f"({_span(ev)})" in s or _in_run(ev, s))
            if ev["kind"] == "speech":
                assert " ".join(ev["text"].split()).replace('"', "'") in sentence
                assert re.search(r"\bS\d\d (says|goes on:) ", sentence)
            elif ev["kind"] == "music":
                assert "music plays" in sentence.lower()
                assert not ev.get("tempo_bpm") or f"{ev['tempo_bpm']:.0f} BPM" in sentence
            else:
                words = stem_set(sentence)
                assert all(contains_stem(words, t) for t in phrase_terms(ev["label"])) or all(
                    contains_stem(words, t) for t in label_terms(ev["label"])
                ), (ev["label"], sentence)
        overlapping = [ev for ev in events if ev.get("overlaps")]
        for ev in overlapping:  # overlaps are said as overlaps
            later = max(ev["overlaps"]) < events.index(ev)
            sentence = next(s for s in sentences if f"({_span(ev)})" in s or _in_run(ev, s))
            assert not later or sentence.startswith(("While ", "As ")), sentence


def test_removed_event_is_flagged_for_every_event(scenes):
    for rec in scenes:
        d = draft(outputs_from_truth(rec), CFG)
        for e in d.events:
            text = d.template.caption.replace(next(lk.statement for lk in d.report.links if e.key in lk.event_keys), "")
            rep = check_caption(text, d.events, d.outputs.duration_s(), CFG)
            assert not rep.faithful
            assert any("dropped event" in i and f"{e.start_s:.2f} - {e.end_s:.2f}" in i for i in rep.issues)


def test_invented_event_is_flagged(scenes):
    for rec in scenes:
        d = draft(outputs_from_truth(rec), CFG)
        labels = {e["label"] for e in rec["events"]}
        invented = "a horse neighs" if "horse" not in labels else "a siren wails"
        end = rec.get("duration", 0) or 1.0
        mid, later = f"{end * 0.5:.2f}", f"{end * 0.6:.2f}"
        for extra in (f"{invented} (0.37 - {mid})", invented, f"S09 says hello ({mid} - {later})"):
            rep = check_caption(f"{d.template.caption} {extra[0].upper()}{extra[1:]}.", d.events, end, CFG)
            assert not rep.faithful, (rec["file"], extra)


def test_scene_with_speech_only_keeps_speaker_order(truth):
    rec = truth["s07_events_over_speech"]
    speech_only = dict(rec, events=[e for e in rec["events"] if e["kind"] == "speech"])
    [(cap, _)] = merge_recordings([outputs_from_truth(speech_only)], CFG)
    assert re.findall(r"\b(S\d\d) says", cap.caption) == ["S01", "S02", "S03", "S01"]
    assert cap.num_events == 4 and cap.faithful
