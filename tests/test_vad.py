"""silero-vad segmenter on real corpus audio: speech found where the truth has speech, nowhere else."""

from __future__ import annotations

import numpy as np
import pytest

from segmenters.registry import SEGMENTERS
from segmenters.spans import Piece, merge_short, split_long, CutPoint
from segmenters.vad import VadParams, VadSegmenter, speech_regions


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def test_registered():
    assert SEGMENTERS.get("vad") is VadSegmenter


def test_speech_regions_cover_truth_speech(scene_audio, truth):
    x = scene_audio("s16_podcast_long")
    regions = speech_regions(x, 16000)
    speech = [(e["start"], e["end"]) for e in truth["s16_podcast_long"]["events"] if e["kind"] == "speech"]
    for ev in speech:
        covered = sum(_overlap(ev, r) for r in regions)
        assert covered >= 0.85 * (ev[1] - ev[0]), ev
    # the band jingle (0.5-12.59) and the interlude (69.33-87.85) are not speech
    for music in ((0.5, 12.59), (70.5, 87.85)):
        assert sum(_overlap(music, r) for r in regions) < 1.0


def test_no_speech_in_piano(scene_audio):
    assert speech_regions(scene_audio("s03_piano_120bpm"), 16000) == []


def test_segments_onsets_and_lengths(scene_audio, truth):
    seg = VadSegmenter(VadParams(max_s=8.0))
    seg.setup()
    out = seg.segment(scene_audio("s07_events_over_speech"), 16000)
    assert out.segments
    for s in out.segments:
        assert s.branches == ("speech",)
        assert s.end_s - s.start_s <= 8.0 + 1e-6
        assert s.start_reason in ("speech_onset", "pause") and s.end_reason in ("speech_offset", "pause")
    # first speech onset at 1.0 s, last offset at 51.09 s
    assert abs(out.segments[0].start_s - 1.0) < 0.2
    assert abs(out.segments[-1].end_s - 51.09) < 0.2
    assert any(s.start_reason == "pause" for s in out.segments)  # the 29.9 s first utterance was split
    assert any(abs(sil.start_s - 53.3) < 0.5 for sil in out.silences)


def test_8khz_and_empty(scene_audio):
    x = scene_audio("s07_events_over_speech")[: 16000 * 10]
    at8k = x[::2].copy()
    regions = speech_regions(at8k, 8000)
    assert regions and regions[0][0] == pytest.approx(1.0, abs=0.25)
    assert speech_regions(np.zeros(0, dtype=np.float32), 16000) == []


def test_merge_short_and_split_long():
    pieces = [Piece(0, 0.4, "a", "b"), Piece(0.6, 5, "c", "d"), Piece(20, 20.3, "e", "f")]
    merged = merge_short(pieces, min_s=1.0, max_gap_s=1.0, max_s=30)
    assert [(m.start_s, m.end_s) for m in merged] == [(0, 5), (20, 20.3)]  # lone short piece stays
    long = Piece(0, 50, "x", "y")
    parts = split_long(long, 30, 1.0, lambda s, e: [CutPoint(t, 1.0 if t == 20 else 0.1, "pause") for t in (10, 20, 40) if s < t < e])
    assert [(q.start_s, q.end_s) for q in parts] == [(0, 20), (20, 50)]
    assert split_long(long, 30, 1.0, lambda s, e: []) == [long]  # no cut point: never cut blind
